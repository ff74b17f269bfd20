//! A small learning platform played end to end: an issuer, badge classes with images, a rule
//! set covering every rule kind, a scripted stream of learner events, issuing through the
//! hosted issuer or Badgr with the store given, optionally through a backend that fails a
//! share of calls and an engine restarted midway. Shared by `examples/award_flow`,
//! `examples/issue` and the tests.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use badgery::backend::{
    Alignment, AssertionFilter, AssertionRepository, AwardState, BadgeBackend, BadgeClassRecord,
    BadgeStore, ClassImage, Error as BackendError, Expiry, ImageFormat, IssuedAssertion,
    MemoryStore, ProgressStore,
};
use badgery::fault::FlakyBackend;
use badgery::model::jws::SigningKey;
use badgery::model::validate::{DocumentSet, Options, validate, validate_signed};
use badgery::rules::{Evaluator, Event, RuleSet};
use badgery::store_sql::SqlStore;
use badgery::{
    AutoClasses, CourseInfo, Engine, HostedIssuer, HostedRecord, IdSecret, IssuedAs, IssuerProfile,
    Ob3Credential, Ob3Issuing, Ob3Proof, RetryPolicy, StaticDirectory, UrlScheme,
};
use badgery_badgr::{BadgrBackend, BadgrConfig, MemoryTokenStore, Session, TokenStore, Tokens};
use chrono::{Duration, TimeZone, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

pub(crate) const BASE: &str = "https://lms.example.org/ob/";
pub(crate) const RUST: &str = "course-v1:Academy+Rust+2026";
pub(crate) const PYTHON: &str = "course-v1:Academy+Python+2026";
pub(crate) const INTRO: &str = "course-v1:Academy+Intro+2026";

pub(crate) const RULES: &str = r#"
# Courses without a configured class (Intro, Data, Capstone) get one on first award.
auto_course_completion = true

[[badge_class]]
slug = "rust-verified"
course = "course-v1:Academy+Rust+2026"
mode = "verified"

[[badge_class]]
slug = "rust"
course = "course-v1:Academy+Rust+2026"

[[badge_class]]
slug = "python"
course = "course-v1:Academy+Python+2026"

[[badge_class]]
slug = "two-courses"

[[badge_class]]
slug = "three-enrollments"

[[badge_class]]
slug = "data-track"

[[badge_class]]
slug = "capstone"

[course_events]
courses_completed = "2,two-courses"
courses_enrolled = "3,three-enrollments"
course_groups = "data-track,course-v1:Academy+Python+2026,course-v1:Academy+Data+2026"

[[criteria]]
badge = "capstone"
require = "all"

  [[criteria.requirement]]
  type = "courses"
  courses = [{ course = "course-v1:Academy+Capstone+2026", min_grade = 0.8, by = "2026-12-31T23:59:59Z" }]

  [[criteria.requirement]]
  type = "manual"
  require = "any"
  roles = ["teacher", "director"]
"#;

pub(crate) const EVENTS: &str = r#"{"event":"enrolled","learner":"ada","course":"course-v1:Academy+Rust+2026","mode":"verified","at":"2026-02-01T09:00:00Z"}
{"event":"enrolled","learner":"ada","course":"course-v1:Academy+Python+2026","mode":"audit","at":"2026-02-01T09:05:00Z"}
{"event":"enrolled","learner":"bob","course":"course-v1:Academy+Rust+2026","mode":"audit","at":"2026-02-02T10:00:00Z"}
{"event":"enrolled","learner":"bob","course":"course-v1:Academy+Python+2026","mode":"audit","at":"2026-02-02T10:01:00Z"}
{"event":"enrolled","learner":"bob","course":"course-v1:Academy+Data+2026","mode":"audit","at":"2026-02-02T10:02:00Z"}
{"event":"enrolled","learner":"cy","course":"course-v1:Academy+Capstone+2026","mode":"verified","at":"2026-02-03T08:00:00Z"}
{"event":"enrolled","learner":"dee","course":"course-v1:Academy+Intro+2026","mode":"verified","at":"2026-02-03T08:30:00Z"}
{"event":"enrolled","learner":"eve","course":"course-v1:Academy+Intro+2026","mode":"audit","at":"2026-02-03T09:30:00Z"}
{"event":"certificate","learner":"ada","course":"course-v1:Academy+Rust+2026","passed":true,"grade":0.91,"at":"2026-03-10T12:00:00Z"}
{"event":"certificate","learner":"bob","course":"course-v1:Academy+Rust+2026","passed":false,"grade":0.42,"at":"2026-03-11T12:00:00Z"}
{"event":"certificate","learner":"bob","course":"course-v1:Academy+Python+2026","passed":true,"grade":0.77,"at":"2026-03-12T12:00:00Z"}
{"event":"certificate","learner":"dee","course":"course-v1:Academy+Intro+2026","passed":true,"at":"2026-03-12T15:00:00Z"}
{"event":"certificate","learner":"ada","course":"course-v1:Academy+Rust+2026","passed":true,"grade":0.91,"at":"2026-03-10T12:00:00Z"}
{"event":"unenrolled","learner":"bob","course":"course-v1:Academy+Data+2026","at":"2026-03-13T09:00:00Z"}
{"event":"enrolled","learner":"bob","course":"course-v1:Academy+Data+2026","mode":"verified","at":"2026-03-14T09:00:00Z"}
{"event":"certificate","learner":"bob","course":"course-v1:Academy+Data+2026","passed":true,"grade":0.85,"at":"2026-04-01T12:00:00Z"}
{"event":"certificate","learner":"ada","course":"course-v1:Academy+Python+2026","passed":true,"grade":0.66,"at":"2026-04-02T12:00:00Z"}
{"event":"certificate","learner":"eve","course":"course-v1:Academy+Intro+2026","passed":true,"at":"2026-04-03T15:00:00Z"}
{"event":"certificate","learner":"cy","course":"course-v1:Academy+Capstone+2026","passed":true,"grade":0.79,"at":"2026-05-01T12:00:00Z"}
{"event":"manual_award","learner":"cy","badge":"capstone","role":"teacher","at":"2026-05-02T12:00:00Z"}
{"event":"certificate","learner":"cy","course":"course-v1:Academy+Capstone+2026","passed":true,"grade":0.88,"at":"2026-05-20T12:00:00Z"}
{"event":"certificate","learner":"bob","course":"course-v1:Academy+Rust+2026","passed":true,"grade":0.81,"at":"2026-06-01T12:00:00Z"}
{"event":"manual_award","learner":"cy","badge":"capstone","role":"director","at":"2026-06-02T12:00:00Z"}
"#;

fn image(format: ImageFormat, bytes: &[u8]) -> ClassImage {
    ClassImage {
        format,
        bytes: bytes.to_vec(),
    }
}

/// The badge classes, with their images (shipped under `examples/images/`).
pub(crate) fn classes() -> Vec<BadgeClassRecord> {
    let png = |b: &[u8]| image(ImageFormat::Png, b);
    vec![
        BadgeClassRecord::new(
            "rust-verified",
            "Rust (verified)",
            "Completed the Rust course on the verified track.",
            "Pass the Rust course with a verified certificate.",
            png(include_bytes!("../images/rust.png")),
        )
        .for_course(RUST, Some("verified")),
        BadgeClassRecord::new(
            "rust",
            "Rust",
            "Completed the Rust course.",
            "Pass the Rust course.",
            png(include_bytes!("../images/rust.png")),
        )
        .for_course(RUST, None)
        .with_criteria_url("https://lms.example.org/courses/rust/about")
        .with_alignment(
            Alignment::new(
                "Understanding ownership",
                "https://doc.rust-lang.org/book/ch04-00-understanding-ownership.html",
            )
            .in_framework("The Rust Programming Language", "ch04"),
        ),
        BadgeClassRecord::new(
            "python",
            "Python",
            "Completed the Python course.",
            "Pass the Python course.",
            png(include_bytes!("../images/python.png")),
        )
        .for_course(PYTHON, None)
        .with_expiry(Expiry::AfterDays(730)),
        BadgeClassRecord::new(
            "two-courses",
            "Two courses",
            "Completed two courses.",
            "Earn passing certificates in two courses.",
            png(include_bytes!("../images/milestone.png")),
        )
        .with_issuing_component("openedx__course"),
        BadgeClassRecord::new(
            "three-enrollments",
            "Explorer",
            "Enrolled in three courses.",
            "Be enrolled in three courses at once.",
            png(include_bytes!("../images/milestone.png")),
        )
        .with_issuing_component("openedx__course"),
        BadgeClassRecord::new(
            "data-track",
            "Data track",
            "Completed the Python and Data courses.",
            "Pass both courses of the data track.",
            png(include_bytes!("../images/data.png")),
        )
        .with_issuing_component("openedx__course"),
        BadgeClassRecord::new(
            "capstone",
            "Capstone",
            "Completed the capstone with distinction.",
            "Pass the capstone with 80% by the end of 2026, confirmed by a teacher or the director.",
            image(ImageFormat::Svg, include_bytes!("../images/capstone.svg")),
        ),
    ]
}

/// The platform's learners and courses. Each certificate is published under an id of its own
/// (a keyed hash under the platform's secret, as an LMS would draw one), never under the
/// learner's id: evidence URLs are public.
pub(crate) fn directory(secret: &IdSecret) -> StaticDirectory {
    let mut directory = StaticDirectory::new();
    for learner in ["ada", "bob", "cy", "dee", "eve"] {
        directory = directory.learner(learner, &format!("{learner}@learners.example.org"));
    }
    for event in events() {
        if let Event::Certificate {
            learner, course, ..
        } = event
        {
            let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key");
            mac.update(format!("certificate\u{1f}{learner}\u{1f}{course}").as_bytes());
            let id: String = mac.finalize().into_bytes()[..12]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            let url = format!("https://lms.example.org/certificates/{id}");
            directory = directory.certificate(&learner, &course, &url);
        }
    }
    let mut intro = CourseInfo::new("Introduction to Programming");
    intro.about_url = Some("https://lms.example.org/courses/intro/about".to_owned());
    intro.start = Some("2026-01-15".to_owned());
    directory.course(INTRO, intro)
}

/// The platform's secret for assertion and certificate ids: kept in `OUT/id-secret` (created
/// on the first run, readable by its owner only), so that a second run names everything as
/// the first did; a fresh one when nothing is written.
pub(crate) fn id_secret(out: Option<&Path>) -> Result<IdSecret, String> {
    let Some(dir) = out else {
        return IdSecret::generate().map_err(|e| e.to_string());
    };
    let path = dir.join("id-secret");
    let shown = path.display();
    match std::fs::read(&path) {
        Ok(bytes) => IdSecret::new(bytes).map_err(|e| format!("{shown}: {e}")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let secret = IdSecret::generate().map_err(|e| e.to_string())?;
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(&path).map_err(|e| format!("{shown}: {e}"))?;
            std::io::Write::write_all(&mut file, secret.as_bytes())
                .and_then(|()| file.sync_all())
                .map_err(|e| format!("{shown}: {e}"))?;
            Ok(secret)
        }
        Err(e) => Err(format!("{shown}: {e}")),
    }
}

/// Reads a PKCS#8 PEM signing key.
pub(crate) fn read_signing_key(path: &Path) -> Result<SigningKey, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    SigningKey::from_pkcs8_pem(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// The platform's signing key, kept in `OUT/signing-key.pem`: an RSA key (RS256, what the
/// official validator verifies) generated on the first run, readable by its owner only.
pub(crate) fn signing_key_in(out: &Path) -> Result<SigningKey, String> {
    key_in(
        out,
        "signing-key.pem",
        badgery::model::jws::Algorithm::Rs256,
    )
}

/// The key kept in `OUT/NAME`, generated for `algorithm` on the first run.
fn key_in(
    out: &Path,
    name: &str,
    algorithm: badgery::model::jws::Algorithm,
) -> Result<SigningKey, String> {
    let path = out.join(name);
    if path.exists() {
        return read_signing_key(&path);
    }
    let key = SigningKey::generate(algorithm).map_err(|e| e.to_string())?;
    write_secret(&path, key.to_pkcs8_pem().as_bytes())?;
    Ok(key)
}

/// Writes a new secret file, readable by its owner only.
fn write_secret(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let shown = path.display();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(|e| format!("{shown}: {e}"))?;
    std::io::Write::write_all(&mut file, bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| format!("{shown}: {e}"))
}

pub(crate) fn events() -> Vec<Event> {
    EVENTS
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| Event::from_json(l).expect("the scripted events are valid"))
        .collect()
}

pub(crate) fn issuer(secret: IdSecret) -> HostedIssuer {
    issuer_at(UrlScheme::new(BASE).expect("a base URL"), secret)
}

/// The example platform's issuer, serving its documents under `scheme`.
pub(crate) fn issuer_at(scheme: UrlScheme, secret: IdSecret) -> HostedIssuer {
    let mut profile = IssuerProfile::new(
        "Example Academy",
        "https://lms.example.org".parse().expect("a URL"),
        "badges@lms.example.org",
    );
    profile.description = Some("Badges of the Example Academy learning platform.".to_owned());
    HostedIssuer::new(scheme, profile, secret).expect("a valid issuer")
}

/// The example platform's Open Badges 3.0 side: a did:web issuer at [`BASE`] signing with
/// the options' key, its revocation list at `BASE/status/1`, every class issued as 3.0 (and
/// 2.0 unless `only`), status bits kept in `store`.
pub(crate) fn ob3_issuing(options: Ob3Options, store: &Arc<dyn BadgeStore>) -> Ob3Issuing {
    let mut profile = badgery::ob3::credential::Profile::new("", "Example Academy");
    profile.url = Some("https://lms.example.org".to_owned());
    profile.email = Some("badges@lms.example.org".to_owned());
    let mut issuer = badgery::ob3::issue::Issuer::new(
        BASE,
        profile,
        options.key,
        "key-1",
        &format!("{BASE}status/1"),
    )
    .expect("an https base URL");
    let proof = if options.eddsa.is_some() {
        Ob3Proof::Eddsa
    } else {
        Ob3Proof::Jwt
    };
    if let Some(key) = options.eddsa {
        issuer = issuer
            .with_eddsa_key(key, "key-ed25519")
            .expect("an Ed25519 key");
    }
    let issued_as = if options.only {
        IssuedAs::Ob3
    } else {
        IssuedAs::Both
    };
    let repository: Arc<dyn AssertionRepository> = Arc::new(store.clone());
    Ob3Issuing::new(issuer, repository, issued_as).with_proof(proof)
}

/// The URL of the example issuer's JWKS.
pub(crate) fn jwks_url() -> url::Url {
    url::Url::parse(&format!("{BASE}jwks.json")).expect("a URL")
}

/// Revokes [`REVOKED_LEARNER`]'s award (once: a second run finds it revoked), writes the Open
/// Badges 3.0 documents under `out` (the DID document as the web lays it out, the status list
/// through `ob3-docs.json`, the JWKS as `ob3-jwks.json`, each credential as
/// `ob3/credentials/ID.jwt` and baked as `ob3/baked/ID.EXT`), and verifies every credential
/// with Badgery's verifier: each valid but the revoked one, refused for its status bit.
/// Returns the problems and what was revoked.
async fn revoke_and_check_ob3(
    engine: &Engine,
    issuer: &HostedIssuer,
    store: &Arc<dyn BadgeStore>,
    assertions: &mut [IssuedAssertion],
    classes: &[BadgeClassRecord],
    out: Option<&Path>,
    now: chrono::DateTime<Utc>,
) -> (Vec<String>, Option<String>) {
    use badgery::ob3::verify::{Document, Documents, Verifier};
    let mut problems = Vec::new();
    let Some(ob3) = issuer.ob3() else {
        return (problems, None);
    };
    // The files first: a revoked award's record keeps no baked image.
    let mut files = Vec::new();
    for a in assertions.iter() {
        let Some(record) = HostedRecord::of(a).ok().and_then(|record| record.ob3) else {
            problems.push(format!("{}: no Open Badges 3.0 credential", a.id));
            continue;
        };
        let form = match &record.credential {
            Ob3Credential::Jwt(_) => "jwt",
            _ => "json",
        };
        let credential = (record.credential.text(), form);
        let jwt = credential.0.as_str();
        let name = record.id.trim_start_matches("urn:uuid:").to_owned();
        let baked = match &a.baked_image {
            Some(image) => Some((image.format, image.bytes.clone())),
            None => classes
                .iter()
                .find(|c| c.slug == a.key.slug)
                .and_then(|class| {
                    badgery::ob3::bake::bake(&class.image.bytes, jwt)
                        .ok()
                        .map(|bytes| (class.image.format, bytes))
                }),
        };
        files.push((a.key.learner.clone(), name, credential, baked));
    }
    let target = assertions
        .iter()
        .position(|a| a.key.learner == REVOKED_LEARNER);
    let mut revoked_line = None;
    if let Some(i) = target {
        let a = &assertions[i];
        if a.revoked.is_none() {
            match engine
                .revoke(&a.id, "issued in error (the award_flow demonstration)")
                .await
            {
                Ok(revoked) => assertions[i] = revoked,
                Err(e) => problems.push(format!("revoking {}: {e}", a.id)),
            }
        }
        let a = &assertions[i];
        if let Some(record) = HostedRecord::of(a).ok().and_then(|record| record.ob3) {
            revoked_line = Some(format!(
                "revoked: {} {} ({}), status bit {} set in {}",
                a.key.learner,
                a.key.slug,
                record.id,
                record.status_index,
                ob3.issuer().status_list_url()
            ));
        }
    }
    let revoked = store.revoked_assertions().await.unwrap_or_default();
    let served = match ob3.documents(&revoked, now, &jwks_url()) {
        Ok(served) => served,
        Err(e) => {
            problems.push(format!("the Open Badges 3.0 documents: {e}"));
            return (problems, revoked_line);
        }
    };
    let mut documents = Documents::new();
    let mut docs = serde_json::Map::new();
    for doc in &served {
        let text = String::from_utf8_lossy(&doc.body).into_owned();
        if doc.content_type == "application/vc+jwt" {
            documents.insert(doc.url.as_str(), Document::Jwt(text));
            docs.insert(doc.url.to_string(), "ob3/status-1.jwt".into());
        } else if let Ok(value) = serde_json::from_str(&text) {
            if doc.content_type == "application/vc+ld+json" {
                docs.insert(doc.url.to_string(), "ob3/status-1.json".into());
            }
            documents.insert(doc.url.as_str(), Document::Json(value));
        }
    }
    if let Some(dir) = out {
        let write = |path: PathBuf, body: &[u8], problems: &mut Vec<String>| {
            if let Some(parent) = path.parent() {
                let _ = std::fs::create_dir_all(parent);
            }
            if let Err(e) = std::fs::write(&path, body) {
                problems.push(format!("writing {}: {e}", path.display()));
            }
        };
        for doc in &served {
            let file = match doc.content_type {
                "application/did+json" => match ob3.issuer().identity() {
                    badgery::ob3::did::Identity::Web(web) => {
                        PathBuf::from("did-web").join(web.document_path())
                    }
                    _ => continue,
                },
                "application/vc+jwt" => PathBuf::from("ob3/status-1.jwt"),
                "application/vc+ld+json" => PathBuf::from("ob3/status-1.json"),
                "application/jwk-set+json" => PathBuf::from("ob3-jwks.json"),
                _ => continue,
            };
            write(dir.join(file), &doc.body, &mut problems);
        }
        let map = serde_json::to_vec_pretty(&serde_json::Value::Object(docs)).unwrap_or_default();
        write(dir.join("ob3-docs.json"), &map, &mut problems);
        for (_, name, (text, extension), baked) in &files {
            write(
                dir.join(format!("ob3/credentials/{name}.{extension}")),
                text.as_bytes(),
                &mut problems,
            );
            if let Some((format, bytes)) = baked {
                let file = format!("ob3/baked/{name}.{}", format.extension());
                write(dir.join(file), bytes, &mut problems);
            }
        }
    }
    let verifier = Verifier::new(documents, now);
    for (learner, name, (text, _), baked) in &files {
        let revoked = learner == REVOKED_LEARNER;
        let mut inputs = vec![text.as_bytes().to_vec()];
        inputs.extend(baked.iter().map(|(_, bytes)| bytes.clone()));
        for input in inputs {
            let verdict = verifier.verify(&input);
            let as_expected = if revoked {
                !verdict.is_valid() && verdict.errors().iter().all(|e| e.starts_with("status:"))
            } else {
                verdict.is_valid()
            };
            if !as_expected {
                problems.push(format!("credential {name}: {:?}", verdict.errors()));
            }
        }
    }
    (problems, revoked_line)
}

/// One issued award, for the table.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Row {
    pub(crate) learner: String,
    pub(crate) slug: String,
    pub(crate) sequence: u32,
    pub(crate) rule: String,
    pub(crate) assertion: String,
}

/// What a run produced and checked.
#[derive(Debug, Default)]
pub(crate) struct Report {
    pub(crate) rows: Vec<Row>,
    pub(crate) expected: usize,
    pub(crate) problems: Vec<String>,
    pub(crate) backend_calls: u64,
    pub(crate) injected_failures: u64,
    pub(crate) lost_responses: u64,
    pub(crate) restarts: u32,
    pub(crate) assertions: Vec<IssuedAssertion>,
    /// Through Badgr: the API requests and the token requests its session sent.
    pub(crate) badgr_requests: Option<(u64, u64)>,
    /// With `--ob3`: which award was revoked, and its status bit.
    pub(crate) revoked_ob3: Option<String>,
}

/// The awards the rules decide for the scripted events, with the rule that fired.
fn expected_awards() -> BTreeMap<(String, String, u32), String> {
    let mut evaluator = Evaluator::new(RuleSet::from_toml(RULES).expect("the rules are valid"));
    events()
        .iter()
        .flat_map(|e| evaluator.apply(e))
        .map(|a| {
            (
                (a.learner, a.slug, a.sequence),
                serde_json::to_value(&a.rule)
                    .ok()
                    .and_then(|r| r["kind"].as_str().map(str::to_owned))
                    .unwrap_or_default(),
            )
        })
        .collect()
}

/// The value of `--backend-failure-rate`: a share of backend calls, from 0 to 1.
pub(crate) fn failure_rate(text: &str) -> Result<f64, String> {
    text.parse()
        .ok()
        .filter(|r| (0.0..=1.0).contains(r))
        .ok_or(format!(
            "--backend-failure-rate {text:?}: expected a number from 0 to 1"
        ))
}

/// The value of `--seed`: a whole number.
pub(crate) fn seed(text: &str) -> Result<u64, String> {
    text.parse()
        .map_err(|_| format!("--seed {text:?}: expected a whole number"))
}

/// Where the platform's awards go (`--backend`).
#[derive(Debug)]
pub(crate) enum Issuing {
    /// The platform's own hosted issuer, signing its assertions with the key when one is
    /// given.
    Hosted(Option<SigningKey>),
    /// The hosted issuer, issuing Open Badges 3.0 credentials as well (or only).
    HostedOb3(Option<SigningKey>, Ob3Options),
    /// Badgr or Canvas Credentials, which host the documents and baked images.
    Badgr(Arc<BadgrBackend>),
}

/// How `--ob3` issues Open Badges 3.0 credentials.
#[derive(Debug)]
pub(crate) struct Ob3Options {
    /// Only 3.0 credentials (`--ob3-only`), no 2.0 assertion.
    pub(crate) only: bool,
    /// The issuer's did:web key (ES256), kept in `OUT/ob3-key.pem`.
    pub(crate) key: SigningKey,
    /// With `--ob3 eddsa`, the issuer's Ed25519 key, kept in `OUT/ob3-ed25519.pem`: every
    /// credential then carries an embedded eddsa-rdfc-2022 proof instead of being a VC-JWT.
    pub(crate) eddsa: Option<SigningKey>,
}

/// The learner whose award `--ob3` revokes at the end of a run (their status bit set).
pub(crate) const REVOKED_LEARNER: &str = "eve";

/// The value of `--ob3`: `jwt` (VC-JWT) or `eddsa` (an embedded eddsa-rdfc-2022 proof).
pub(crate) fn ob3_proof(text: &str) -> Result<Ob3Proof, String> {
    match text {
        "jwt" => Ok(Ob3Proof::Jwt),
        "eddsa" => Ok(Ob3Proof::Eddsa),
        other => Err(format!("--ob3 {other:?}: expected jwt or eddsa")),
    }
}

/// The Ed25519 key of `--ob3 eddsa`, kept in `OUT/ob3-ed25519.pem` (generated on the first
/// run, readable by its owner only).
pub(crate) fn ob3_ed25519_key_in(out: &Path) -> Result<SigningKey, String> {
    let ed25519 = badgery::model::jws::Algorithm::EdDsa;
    let key = key_in(out, "ob3-ed25519.pem", ed25519)?;
    if key.algorithm() != ed25519 {
        return Err(format!(
            "{}: an {} key; --ob3 eddsa signs with an Ed25519 key",
            out.join("ob3-ed25519.pem").display(),
            key.algorithm().name()
        ));
    }
    Ok(key)
}

/// The did:web key of `--ob3`, kept in `OUT/ob3-key.pem` (a P-256 key, ES256, generated on the
/// first run, readable by its owner only).
pub(crate) fn ob3_key_in(out: &Path) -> Result<SigningKey, String> {
    key_in(out, "ob3-key.pem", badgery::model::jws::Algorithm::Es256)
}

/// The value of `--backend`: `hosted` or `badgr`; true for Badgr.
pub(crate) fn is_badgr(text: &str) -> Result<bool, String> {
    match text {
        "hosted" => Ok(false),
        "badgr" => Ok(true),
        other => Err(format!("--backend {other:?}: expected hosted or badgr")),
    }
}

/// The Badgr backend of `--backend badgr`: the server and account from `BADGR_URL`,
/// `BADGR_USERNAME`, `BADGR_PASSWORD` and `BADGR_ISSUER` (the issuer's entityId), HTTP
/// requests limited to `timeout`. Tokens are kept in the file `BADGR_TOKEN_FILE` when it is
/// set (so that runs and processes share one login), else in memory.
pub(crate) fn badgr_from_env(timeout: std::time::Duration) -> Result<BadgrBackend, String> {
    let var = |name: &str| {
        std::env::var(name).map_err(|_| {
            format!(
                "--backend badgr needs {name} in the environment \
                 (BADGR_URL, BADGR_USERNAME, BADGR_PASSWORD, BADGR_ISSUER)"
            )
        })
    };
    let mut config = BadgrConfig::new(
        &var("BADGR_URL")?,
        var("BADGR_USERNAME")?,
        var("BADGR_PASSWORD")?,
    )
    .map_err(|e| format!("BADGR_URL: {e}"))?;
    config.timeout = timeout;
    let tokens: Arc<dyn TokenStore> = match std::env::var_os("BADGR_TOKEN_FILE") {
        Some(path) => Arc::new(FileTokenStore(PathBuf::from(path))),
        None => Arc::new(MemoryTokenStore::default()),
    };
    let session = Session::new(config, tokens).map_err(|e| format!("Badgr: {e}"))?;
    Ok(BadgrBackend::new(session, var("BADGR_ISSUER")?))
}

/// Badgr tokens kept in a file, readable by its owner only and replaced whole (written
/// beside it, then renamed over it): how the examples share one login between runs and
/// processes, as a host would in its database.
#[derive(Debug)]
pub(crate) struct FileTokenStore(pub(crate) PathBuf);

#[badgery::async_trait]
impl TokenStore for FileTokenStore {
    async fn load(&self) -> Result<Option<Tokens>, BackendError> {
        let doing = || format!("reading Badgr tokens from {}", self.0.display());
        match std::fs::read(&self.0) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| BackendError::storage(doing(), e)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(BackendError::storage(doing(), e)),
        }
    }

    async fn save(&self, tokens: Option<&Tokens>) -> Result<(), BackendError> {
        let doing = || format!("keeping Badgr tokens in {}", self.0.display());
        let Some(tokens) = tokens else {
            return match std::fs::remove_file(&self.0) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    Err(BackendError::storage(doing(), e))
                }
                _ => Ok(()),
            };
        };
        let dir = match self.0.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        // A new temporary file is readable by its owner only.
        let mut file =
            tempfile::NamedTempFile::new_in(dir).map_err(|e| BackendError::storage(doing(), e))?;
        std::io::Write::write_all(&mut file, &serde_json::to_vec(tokens).unwrap_or_default())
            .and_then(|()| file.as_file().sync_all())
            .map_err(|e| BackendError::storage(doing(), e))?;
        file.persist(&self.0)
            .map(drop)
            .map_err(|e| BackendError::storage(doing(), e.error))
    }
}

/// The store a `--store` URL names: `memory`, `sqlite:PATH` or `postgres://…`.
pub(crate) async fn open_store(url: &str) -> Result<Arc<dyn BadgeStore>, String> {
    Ok(open_stores(url).await?.0)
}

/// The store a `--store` URL names, as the badge store and as the progress store it also is.
pub(crate) async fn open_stores(
    url: &str,
) -> Result<(Arc<dyn BadgeStore>, Arc<dyn ProgressStore>), String> {
    if url == "memory" {
        let store = Arc::new(MemoryStore::new());
        return Ok((store.clone(), store));
    }
    if let Some(parent) = url
        .strip_prefix("sqlite:")
        .map(Path::new)
        .and_then(Path::parent)
    {
        if !parent.as_os_str().is_empty() && !url.contains(":memory:") {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
    }
    let store = SqlStore::open(url).await.map_err(|e| {
        let cause = std::error::Error::source(&e)
            .map(|c| format!(": {c}"))
            .unwrap_or_default();
        format!("--store {url}: {e}{cause}")
    })?;
    let store = Arc::new(store);
    Ok((store.clone(), store))
}

/// Plays the platform: runs its events through the engine over `store`, issuing as `issuing`
/// says (a signing hosted issuer publishes its key as key `1`), with `failure_rate` of backend
/// calls failing and one engine restart midway when it is above zero. Checks each expected
/// award issued exactly once; for the hosted issuer, also writes every served document and
/// baked image under `out` when given and checks each baked image unbaking to its assertion
/// and each assertion valid.
pub(crate) async fn run(
    store: Arc<dyn BadgeStore>,
    out: Option<&Path>,
    failure_rate: f64,
    seed: u64,
    issuing: Issuing,
) -> Report {
    let rules = RuleSet::from_toml(RULES).expect("the rules are valid");
    let secret = match id_secret(out) {
        Ok(secret) => secret,
        Err(e) => {
            return Report {
                problems: vec![format!("the id secret: {e}")],
                ..Report::default()
            };
        }
    };
    let directory = Arc::new(directory(&secret));
    let mut issuer = issuer(secret);
    let (signing, ob3, badgr) = match issuing {
        Issuing::Hosted(signing) => (signing, None, None),
        Issuing::HostedOb3(signing, ob3) => (signing, Some(ob3), None),
        Issuing::Badgr(badgr) => (None, None, Some(badgr)),
    };
    if let Some(key) = signing {
        issuer = issuer.signing_with("1", key).expect("a key name");
    }
    let with_ob3 = ob3.is_some();
    if let Some(options) = ob3 {
        issuer = issuer.issuing_ob3(ob3_issuing(options, &store));
    }
    let inner: Arc<dyn BadgeBackend> = match &badgr {
        Some(badgr) => badgr.clone(),
        None => Arc::new(issuer.clone()),
    };
    let backend = Arc::new(FlakyBackend::new(inner, failure_rate, seed));
    // A simulated clock: a minute passes per event; retries wait for the clock to move on.
    let clock = Arc::new(Mutex::new(
        Utc.with_ymd_and_hms(2026, 6, 3, 0, 0, 0)
            .single()
            .expect("a date"),
    ));
    let now = {
        let clock = Arc::clone(&clock);
        Arc::new(move || *clock.lock().expect("clock"))
    };
    let tick = |d: Duration| *clock.lock().expect("clock") += d;
    let retry = {
        let mut r = RetryPolicy::default();
        r.first = Duration::seconds(10);
        r.max_delay = Duration::minutes(10);
        r.max_attempts = 60;
        r
    };
    let auto = AutoClasses::with_default_image(image(
        ImageFormat::Png,
        include_bytes!("../images/course-default.png"),
    ))
    .mode_image(
        "verified",
        image(
            ImageFormat::Png,
            include_bytes!("../images/course-verified.png"),
        ),
    );
    let make_engine = || {
        Engine::new(
            rules.clone(),
            store.clone(),
            backend.clone(),
            directory.clone(),
        )
        .with_retry(retry)
        .with_auto_classes(auto.clone())
        .with_clock(now.clone())
    };
    let mut problems = Vec::new();
    let events = events();
    let mut engine = make_engine();
    if let Err(e) = engine.register_classes(classes()).await {
        problems.push(format!("registering classes: {e}"));
    }
    let half = events.len() / 2;
    let mut restarts = 0;
    for (i, event) in events.iter().enumerate() {
        if i == half && failure_rate > 0.0 {
            // Restart: a new engine over the same store; the host replays its event log.
            restarts += 1;
            engine = make_engine();
            for past in &events[..half] {
                if let Err(e) = engine.handle(past).await {
                    problems.push(format!("replaying an event after the restart: {e}"));
                }
            }
        }
        if let Err(e) = engine.handle(event).await {
            problems.push(format!("event {}: {e}", i + 1));
        }
        tick(Duration::minutes(1));
    }
    // Retry until nothing is pending (the clock moves past each retry time).
    for _ in 0..500 {
        let pending = store.unissued().await.unwrap_or_default();
        if !pending.iter().any(|p| p.state == AwardState::Pending) {
            break;
        }
        tick(Duration::minutes(11));
        if badgr.is_some() {
            // Badgr's login back-off is in real time.
            futures_timer::Delay::new(std::time::Duration::from_millis(20)).await;
        }
        if let Err(e) = engine.retry_pending().await {
            problems.push(format!("retrying: {e}"));
        }
    }
    for p in store.unissued().await.unwrap_or_default() {
        problems.push(format!(
            "not issued: {} {} #{}: {:?} ({:?})",
            p.key.learner, p.key.slug, p.key.sequence, p.state, p.last_error
        ));
    }

    let expected = expected_awards();
    let mut assertions = Vec::new();
    // Revoked ones too: an award revoked by an earlier run (`--ob3`) was still issued once.
    let mut every = AssertionFilter::all();
    every.include_revoked = true;
    for learner in ["ada", "bob", "cy", "dee", "eve"] {
        assertions.extend(
            store
                .assertions_for(learner, &every)
                .await
                .unwrap_or_default(),
        );
    }
    let mut seen_keys = HashSet::new();
    let mut seen_ids = HashSet::new();
    for a in &assertions {
        if !seen_keys.insert(a.key.clone()) {
            problems.push(format!("award {:?} issued more than once", a.key));
        }
        if !seen_ids.insert(a.id.clone()) {
            problems.push(format!("assertion id {} used twice", a.id));
        }
        if !expected.contains_key(&(a.key.learner.clone(), a.key.slug.clone(), a.key.sequence)) {
            problems.push(format!("unexpected award {:?}", a.key));
        }
    }
    for (learner, badge, sequence) in expected.keys() {
        if !assertions
            .iter()
            .any(|a| (&a.key.learner, &a.key.slug, a.key.sequence) == (learner, badge, *sequence))
        {
            problems.push(format!(
                "expected award missing: {learner} {badge} #{sequence}"
            ));
        }
    }
    let mut revoked_ob3 = None;
    if badgr.is_some() {
        problems.extend(check_badgr(&assertions));
    } else {
        let classes = store.classes().await.unwrap_or_default();
        let revoked = match store.revoked_assertions().await {
            Ok(revoked) => revoked,
            Err(e) => {
                problems.push(format!("listing the revoked assertions: {e}"));
                Vec::new()
            }
        };
        problems.extend(check_documents(
            &issuer,
            &assertions,
            &revoked,
            &classes,
            out,
        ));
        if with_ob3 {
            let (found, line) = revoke_and_check_ob3(
                &engine,
                &issuer,
                &store,
                &mut assertions,
                &classes,
                out,
                now(),
            )
            .await;
            problems.extend(found);
            revoked_ob3 = line;
        }
    }

    let stats = backend.stats();
    let mut rows: Vec<Row> = assertions
        .iter()
        .map(|a| Row {
            learner: a.key.learner.clone(),
            slug: a.key.slug.clone(),
            sequence: a.key.sequence,
            rule: expected
                .get(&(a.key.learner.clone(), a.key.slug.clone(), a.key.sequence))
                .cloned()
                .unwrap_or_default(),
            assertion: a.id.clone(),
        })
        .collect();
    rows.sort();
    Report {
        rows,
        expected: expected.len(),
        problems,
        backend_calls: stats.calls,
        injected_failures: stats.failed_before + stats.lost_responses,
        lost_responses: stats.lost_responses,
        restarts,
        assertions,
        badgr_requests: badgr.map(|b| (b.session().api_requests(), b.session().token_requests())),
        revoked_ob3,
    }
}

/// Checks what Badgr returned: each assertion is Badgr's, at its `openBadgeId` URL, with its
/// `entityId` kept (Badgr serves the documents and baked images itself).
fn check_badgr(assertions: &[IssuedAssertion]) -> Vec<String> {
    let mut problems = Vec::new();
    for a in assertions {
        let open_badge_id = a.data.get("openBadgeId").and_then(|v| v.as_str());
        let entity = a.data.get("entityId").and_then(|v| v.as_str());
        let is_url = url::Url::parse(&a.id).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
        if a.backend != "badgr"
            || !is_url
            || open_badge_id != Some(a.id.as_str())
            || entity.is_none()
        {
            problems.push(format!(
                "{:?}: not a Badgr assertion (id {}, data {})",
                a.key, a.id, a.data
            ));
        }
    }
    problems
}

/// Writes what the host serves (when `out` is given) and checks it: every baked image unbakes
/// to its assertion, and every assertion is valid with its class and issuer.
fn check_documents(
    issuer: &HostedIssuer,
    assertions: &[IssuedAssertion],
    revoked: &[IssuedAssertion],
    classes: &[BadgeClassRecord],
    out: Option<&Path>,
) -> Vec<String> {
    let mut problems = Vec::new();
    let mut served = DocumentSet::new();
    let mut routes = serde_json::Map::new();
    for a in assertions {
        let Some(class) = classes.iter().find(|c| c.slug == a.key.slug) else {
            problems.push(format!("no class {} for {}", a.key.slug, a.id));
            continue;
        };
        for doc in issuer.documents(a, class) {
            let path = doc.url.path().trim_start_matches('/').to_owned();
            if doc.content_type == "application/ld+json" {
                if let Ok(value) = serde_json::from_slice::<serde_json::Value>(&doc.body) {
                    served.insert(value);
                }
            }
            if let Some(dir) = out {
                let file = if doc.content_type == "application/ld+json" {
                    format!("{path}.json")
                } else {
                    path.clone()
                };
                let target = dir.join(&file);
                if let Some(parent) = target.parent() {
                    let _ = std::fs::create_dir_all(parent);
                }
                if let Err(e) = std::fs::write(&target, &doc.body) {
                    problems.push(format!("writing {}: {e}", target.display()));
                }
                if doc.content_type != "application/ld+json" {
                    routes.insert(
                        doc.url.to_string(),
                        serde_json::json!({"file": file, "content_type": doc.content_type}),
                    );
                }
            }
        }
        // The baked image holds exactly the assertion served at its id, or its JWS.
        let record = HostedRecord::of(a).unwrap_or_default();
        let Some(document) = &record.assertion else {
            // Only an Open Badges 3.0 credential: checked by `revoke_and_check_ob3`.
            continue;
        };
        let ob2_payload = |bytes: &[u8]| {
            badgery::bake::unbake_all(bytes, &badgery::bake::Limits::default()).map(|all| {
                all.into_iter()
                    .find(|p| p.version() == badgery::bake::Version::Ob2)
            })
        };
        match a.baked_image.as_ref().map(|img| ob2_payload(&img.bytes)) {
            None if a.revoked.is_some() => {}
            Some(Ok(Some(payload))) => {
                let holds = match &record.jws {
                    Some(jws) => *jws == payload.as_str(),
                    None => {
                        serde_json::from_str::<serde_json::Value>(payload.as_str())
                            .ok()
                            .as_ref()
                            == Some(document)
                    }
                };
                if !holds {
                    problems.push(format!("{}: the baked image holds another assertion", a.id));
                }
            }
            other => problems.push(format!("{}: baked image does not unbake: {other:?}", a.id)),
        }
        if let (Some(dir), Some(jws)) = (out, &record.jws) {
            // A signed assertion has no URL: its JWS is written beside its baked image.
            let token = a
                .image_url
                .as_deref()
                .and_then(|u| u.rsplit('/').nth(1))
                .unwrap_or("x");
            let target = dir.join("signed").join(format!("{token}.jws"));
            let _ = std::fs::create_dir_all(dir.join("signed"));
            if let Err(e) = std::fs::write(&target, format!("{jws}\n")) {
                problems.push(format!("writing {}: {e}", target.display()));
            }
        }
    }
    if issuer.is_signing() {
        let list = issuer.revocation_list(revoked);
        if let Ok(value) = serde_json::from_slice::<serde_json::Value>(&list.body) {
            served.insert(value);
        }
        if let Some(dir) = out {
            let target = dir.join(format!("{}.json", list.url.path().trim_start_matches('/')));
            if let Err(e) = std::fs::write(&target, &list.body) {
                problems.push(format!("writing {}: {e}", target.display()));
            }
        }
    }
    if let Some(dir) = out {
        let _ = std::fs::write(
            dir.join("routes.json"),
            serde_json::to_vec_pretty(&serde_json::Value::Object(routes)).unwrap_or_default(),
        );
    }
    let options = Options::default();
    for a in assertions.iter().filter(|a| a.revoked.is_none()) {
        // A signed assertion is checked as its JWS: the signature with it.
        let record = HostedRecord::of(a).unwrap_or_default();
        let report = match (&record.jws, &record.assertion) {
            (Some(jws), _) => validate_signed(jws, &served, &options),
            (None, Some(doc)) => validate(doc, &served, &options),
            (None, None) => continue,
        };
        if !report.is_valid() {
            problems.push(format!("{} is not valid:\n{report}", a.id));
        }
    }
    problems
}
