//! Checks against the official 1EdTech validator, run offline by the conformance kit.
//!
//! These tests need the kit (`../shared/conformance`, set up by `setup_oracle.sh`), which a
//! user's clone does not have, so they are `#[ignore]`d; `.ci/run` runs them with
//! `BADGERY_ORACLE_PYTHON` (the kit's venv python) and `BADGERY_CONFORMANCE` (the kit's folder)
//! set, and says so when the kit is absent.

#![allow(clippy::unwrap_used)] // A test's helpers may panic: that is how a test fails.

use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "../examples/award_flow/platform.rs"]
#[allow(dead_code)]
mod platform;

use badgery::HostedRecord;
use badgery::model::validate::{DocumentSet, Options, validate};
use badgery::model::{
    AlignmentObject, Assertion, BadgeClass, Criteria, Evidence, IdentityObject, IdentityType,
    Profile, VerificationObject,
};
use serde_json::Value;

struct Oracle {
    python: PathBuf,
    kit: PathBuf,
}

fn oracle() -> Oracle {
    let var = |name: &str| {
        PathBuf::from(
            std::env::var(name)
                .unwrap_or_else(|_| panic!("{name} is not set: run these tests through .ci/run")),
        )
    };
    Oracle {
        python: var("BADGERY_ORACLE_PYTHON"),
        kit: var("BADGERY_CONFORMANCE"),
    }
}

impl Oracle {
    /// Runs `ob_validate.py ARGS`; returns (exit code, output).
    fn validate(&self, args: &[&str]) -> (i32, String) {
        let out = Command::new(&self.python)
            .arg(self.kit.join("ob_validate.py"))
            .args(args)
            .output()
            .expect("run ob_validate.py");
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        (out.status.code().unwrap_or(-1), text)
    }
}

fn write(dir: &Path, name: &str, doc: &Value) {
    std::fs::write(dir.join(name), serde_json::to_string_pretty(doc).unwrap()).unwrap();
}

#[test]
#[ignore = "needs the conformance kit; run by .ci/run"]
fn emitted_documents_pass_the_official_validator_strictly() {
    let oracle = oracle();
    let dir = tempfile::tempdir().unwrap();
    let base = url::Url::parse("https://lms.example.org/ob/").unwrap();
    let issuer = Profile::issuer(
        base.join("issuers/1").unwrap(),
        "Example LMS",
        base.join("/").unwrap(),
        "badges@lms.example.org",
    )
    .unwrap()
    .with_description("Badges of the Example LMS.");
    let badge = BadgeClass::new(
        base.join("badges/rust-101").unwrap(),
        "Rust 101",
        "Completed the introductory Rust course.",
        base.join("badges/rust-101/image.png").unwrap(),
        Criteria::narrative("Pass every quiz with at least 80%."),
        base.join("issuers/1").unwrap(),
    )
    .with_tags(["rust", "programming"])
    .with_alignment(AlignmentObject::new(
        "Programming",
        url::Url::parse("https://example.org/skills/programming").unwrap(),
    ));
    let issued = chrono::Utc::now() - chrono::Duration::hours(1);
    let assertion = Assertion::new(
        base.join("assertions/abc").unwrap(),
        IdentityObject::hashed(IdentityType::Email, "Learner@Example.com").unwrap(),
        base.join("badges/rust-101").unwrap().into(),
        VerificationObject::hosted(),
        issued,
    )
    .with_evidence(Evidence::url(base.join("evidence/abc").unwrap()))
    .with_evidence(Evidence::narrative("Built a CLI tool."))
    .with_narrative("Completed with distinction.")
    .with_expires(issued + chrono::Duration::days(365))
    .with_image(base.join("assertions/abc/image.png").unwrap());
    write(dir.path(), "issuer.json", &issuer.to_value());
    write(dir.path(), "badgeclass.json", &badge.to_value());
    write(dir.path(), "assertion.json", &assertion.to_value());
    let docs = dir.path().to_str().unwrap();
    let (code, out) = oracle.validate(&["--strict", "--docs", docs, assertion.id.as_str()]);
    assert_eq!(
        code, 0,
        "the official validator rejected what we emit:\n{out}"
    );
    let (code, out) = oracle.validate(&[
        "--strict",
        "--docs",
        docs,
        "--recipient",
        "learner@example.com",
        assertion.id.as_str(),
    ]);
    assert_eq!(
        code, 0,
        "the official validator did not match the recipient:\n{out}"
    );
    println!(
        "official validator --strict: exit 0 on the emitted assertion, badge class and issuer"
    );
}

#[test]
#[ignore = "needs the conformance kit; run by .ci/run"]
fn verdicts_equal_the_official_validator_on_every_example() {
    let oracle = oracle();
    let hosted = oracle.kit.join("examples/hosted");
    let mut inputs: Vec<PathBuf> = vec![hosted.join("assertion.json")];
    let mut broken: Vec<PathBuf> = std::fs::read_dir(oracle.kit.join("examples/broken"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    broken.sort();
    inputs.extend(broken);
    let recipients = [None, Some("learner@example.com")];
    let mut compared = 0;
    for input in &inputs {
        for recipient in recipients {
            let mut args = vec!["--docs", hosted.to_str().unwrap()];
            if let Some(r) = recipient {
                args.extend(["--recipient", r]);
            }
            args.push(input.to_str().unwrap());
            let (code, out) = oracle.validate(&args);
            let theirs = code == 0;

            let doc: Value =
                serde_json::from_str(&std::fs::read_to_string(input).unwrap()).unwrap();
            let mut docs = DocumentSet::from_dir(&hosted).unwrap();
            docs.insert(doc.clone());
            let mut options = Options::default();
            options.recipient = recipient.map(str::to_owned);
            let ours = validate(&doc, &docs, &options);
            assert_eq!(
                ours.is_valid(),
                theirs,
                "{} (recipient {recipient:?}): ours\n{ours}\ntheirs:\n{out}",
                input.display()
            );
            compared += 1;
        }
    }
    println!("verdicts equal on {compared} validations");
}

#[test]
#[ignore = "needs the conformance kit; run by .ci/run"]
fn datetime_acceptance_equals_the_official_validator() {
    let oracle = oracle();
    let samples = [
        "2024-05-01T12:00:00Z",
        "2024-05-01T12:00:00.123Z",
        "2024-05-01T12:00Z",
        "2024-05-01T12:00:00+0000",
        "2024-05-01T12:00:00+02",
        "2024-05-01T12:00:00-05:30",
        "20240501T120000Z",
        "2024-122T12:00:00Z",
        "2024-W18-3T12:00:00Z",
        "2024-05-01T12Z",
        "2024-05-01T12:00:00,5Z",
        "2024-05-01",
        "2024-05-01T12:00:00",
        "2024-05-01 12:00:00Z",
        "1714564800",
        "2024-13-01T12:00:00Z",
        "2024-02-30T12:00:00Z",
        "2024-05-01T25:00:00Z",
        "2024-05-01T12:00:00+2",
        "",
        "T",
        "2024-05-01T1200Z",
        "2024-05-01T12:00:00.Z",
        "2024-05-01T12:00:00+25:00",
        "2024-05-01T12:00:61Z",
    ];
    let script = "import json,sys\nfrom openbadges.verifier.tasks.validation import PrimitiveValueValidator as P, ValueTypes as T\n\
                  v=P(T.DATETIME)\nprint(json.dumps([bool(v(s)) for s in json.load(sys.stdin)]))";
    let mut child = Command::new(&oracle.python)
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(&samples).unwrap().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let theirs: Vec<bool> = serde_json::from_slice(&out.stdout).unwrap();
    let mut disagreements = Vec::new();
    for (sample, their) in samples.iter().zip(theirs) {
        let ours = badgery::model::syntax::is_datetime(sample);
        if ours != their {
            disagreements.push(format!("{sample:?}: ours {ours}, validator {their}"));
        }
    }
    assert!(disagreements.is_empty(), "{disagreements:#?}");
    println!("DateTime acceptance equal on {} samples", samples.len());
}

/// PngSuite images that cover every colour type, bit depth, interlacing and ancillary chunks.
const INTEROP_IMAGES: &[&str] = &[
    "basn0g01", "basn0g16", "basn2c08", "basn2c16", "basn3p01", "basn3p08", "basn4a08", "basn6a16",
    "basi0g01", "basi2c08", "basi3p04", "basi6a08", "ct1n0g04", "ctzn0g04", "cten0g04", "tbbn3p08",
    "z09n2c08", "ps1n0g08", "oi9n2c16", "ccwn3p08",
];

fn tool(oracle: &Oracle, program: &Path, args: &[&str]) -> (i32, Vec<u8>) {
    let out = Command::new(program)
        .args(args)
        .current_dir(&oracle.kit)
        .output()
        .expect("run a reference baker");
    (out.status.code().unwrap_or(-1), out.stdout)
}

/// Bakes `text` into `image` with our baker and writes the result to `path`.
fn bake_to(path: &Path, image: &[u8], text: &str) {
    use badgery::bake::{Limits, Payload, bake};
    let baked = bake(image, &Payload::new(text).unwrap(), &Limits::default()).unwrap();
    std::fs::write(path, baked).unwrap();
}

/// What the Python bakery (`unbake`) or the Node extractor (`extract`) reads from `image`: the
/// exit status and the trimmed output.
fn reference_read(oracle: &Oracle, node: bool, image: &Path) -> (i32, String) {
    let image = image.to_str().unwrap();
    let py = oracle.kit.join("bakery_py.py");
    let (code, out) = if node {
        tool(
            oracle,
            Path::new("node"),
            &["bakery_node.js", "extract", image],
        )
    } else {
        tool(
            oracle,
            &oracle.python,
            &[py.to_str().unwrap(), "unbake", image],
        )
    };
    (code, String::from_utf8_lossy(&out).trim().to_owned())
}

#[test]
#[ignore = "needs the conformance kit; run by .ci/run"]
fn reference_bakers_read_what_we_bake_and_we_read_what_they_bake() {
    use badgery::bake::{Limits, unbake};
    let oracle = oracle();
    let py = oracle.kit.join("bakery_py.py");
    let node_available = oracle
        .kit
        .join("node/node_modules/openbadges-bakery")
        .is_dir();
    let dir = tempfile::tempdir().unwrap();
    let bake_data = Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/bake/tests/data");
    let json = std::fs::read_to_string(bake_data.join("interop/payload.json")).unwrap();
    let payloads = [json.as_str(), "https://lms.example.org/ob/assertions/0001"];
    let mut checked = 0;
    for name in INTEROP_IMAGES {
        let image = std::fs::read(bake_data.join(format!("pngsuite/{name}.png"))).unwrap();
        for (i, text) in payloads.iter().enumerate() {
            // Ours → the Python bakery and the Node extractor.
            let ours = dir.path().join(format!("{name}-{i}-ours.png"));
            bake_to(&ours, &image, text);
            let want = (0, text.to_string());
            assert_eq!(
                reference_read(&oracle, false, &ours),
                want,
                "python unbake of {name}"
            );
            if node_available {
                assert_eq!(
                    reference_read(&oracle, true, &ours),
                    want,
                    "node extract of {name}"
                );
            }
            // The Python bakery → ours.
            let theirs = dir.path().join(format!("{name}-{i}-py.png"));
            let payload_arg = if i == 0 {
                bake_data
                    .join("interop/payload.json")
                    .to_string_lossy()
                    .into_owned()
            } else {
                text.to_string()
            };
            let (code, _) = tool(
                &oracle,
                &oracle.python,
                &[
                    py.to_str().unwrap(),
                    "bake",
                    bake_data
                        .join(format!("pngsuite/{name}.png"))
                        .to_str()
                        .unwrap(),
                    &payload_arg,
                    theirs.to_str().unwrap(),
                ],
            );
            assert_eq!(code, 0, "python bake of {name}");
            let found = unbake(&std::fs::read(&theirs).unwrap(), &Limits::default())
                .unwrap()
                .unwrap();
            assert_eq!(
                found.as_str(),
                *text,
                "our unbake of the python-baked {name}"
            );
            checked += 1;
        }
    }
    // SVG: the Python bakery prefers the verify attribute (the assertion id); Node the body.
    let svg = std::fs::read(bake_data.join("badge.svg")).unwrap();
    let ours = dir.path().join("ours.svg");
    bake_to(&ours, &svg, &json);
    assert_eq!(
        reference_read(&oracle, false, &ours),
        (0, "https://lms.example.org/ob/assertions/0001".to_owned())
    );
    if node_available {
        assert_eq!(
            reference_read(&oracle, true, &ours),
            (0, json.trim().to_owned())
        );
    }
    // And the official validator accepts our baked PNG and SVG.
    let hosted = oracle.kit.join("examples/hosted");
    for (name, image) in [
        ("b.png", std::fs::read(hosted.join("image.png")).unwrap()),
        ("b.svg", svg),
    ] {
        let path = dir.path().join(name);
        bake_to(&path, &image, &json);
        let (code, out) = oracle.validate(&[
            "--strict",
            "--docs",
            hosted.to_str().unwrap(),
            path.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "validator on our baked {name}:\n{out}");
    }
    println!(
        "interop: {checked} PNG bakes each way (Python{}), SVG both ways, validator accepts our baked PNG and SVG",
        if node_available { " and Node" } else { "" }
    );
}

/// Everything `award_flow` writes (run with 30% injected backend failures and a restart):
/// every assertion passes the official validator with `--strict`, and the Python reference
/// bakery reads every baked image back to its assertion.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

/// Runs the `award_flow` platform into `out` over a memory store, with 30 % of backend calls
/// failing, and checks that it reported no problem.
fn award_flow_into(
    runtime: &tokio::runtime::Runtime,
    out: &Path,
    seed: u64,
    signing: Option<badgery::model::jws::SigningKey>,
) -> platform::Report {
    let store = std::sync::Arc::new(badgery::backend::MemoryStore::new());
    let report = runtime.block_on(platform::run(
        store,
        Some(out),
        0.3,
        seed,
        platform::Issuing::Hosted(signing),
    ));
    assert!(report.problems.is_empty(), "{:#?}", report.problems);
    report
}

/// Where `award_flow` wrote an assertion's baked image under `out`.
fn written_image(out: &Path, assertion: &badgery::backend::IssuedAssertion) -> PathBuf {
    let url = url::Url::parse(assertion.image_url.as_deref().unwrap()).unwrap();
    out.join(url.path().trim_start_matches('/'))
}

#[test]
#[ignore = "needs the conformance kit; run by .ci/run"]
fn award_flow_output_passes_the_official_validator_and_the_python_bakery() {
    let oracle = oracle();
    let dir = tempfile::tempdir().unwrap();
    let runtime = runtime();
    let report = award_flow_into(&runtime, dir.path(), 11, None);
    let docs = dir.path().to_str().unwrap();
    for a in &report.assertions {
        let (code, out) = oracle.validate(&["--strict", "--docs", docs, &a.id]);
        assert_eq!(code, 0, "official validator on {}:\n{out}", a.id);
        let image = written_image(dir.path(), a);
        let (code, text) = reference_read(&oracle, false, &image);
        assert_eq!(code, 0, "python bakery on {}", image.display());
        if image.extension().is_some_and(|e| e == "svg") {
            // The Python bakery reads an SVG's verify attribute: the assertion id.
            assert_eq!(text, a.id);
        } else {
            let value: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(
                &value,
                &HostedRecord::of(a).unwrap().assertion.unwrap(),
                "python bakery on {}",
                image.display()
            );
        }
    }
    println!(
        "award_flow: {} assertions pass ob_validate --strict and unbake with the Python bakery ({} injected failures, {} restart)",
        report.assertions.len(),
        report.injected_failures,
        report.restarts
    );
}

#[test]
#[ignore = "needs the conformance kit; run by .ci/run"]
fn signed_award_flow_passes_the_official_validator_and_forgeries_fail_both() {
    use badgery::backend::BadgeBackend;
    use badgery::model::jws::{Algorithm, SigningKey};
    use badgery::model::validate::{Code, validate_signed};
    use base64::Engine as _;
    let oracle = oracle();
    let dir = tempfile::tempdir().unwrap();
    let key = SigningKey::generate(Algorithm::Rs256).unwrap();
    let pem = key.to_pkcs8_pem();
    let runtime = runtime();
    let report = award_flow_into(&runtime, dir.path(), 5, Some(key));
    let docs = dir.path().to_str().unwrap();
    let official = |token: &str, name: &str| {
        let file = dir.path().join(name);
        std::fs::write(&file, token).unwrap();
        oracle.validate(&["--strict", "--docs", docs, file.to_str().unwrap()])
    };
    let ours = |token: &str| {
        let served = DocumentSet::from_dir(dir.path()).unwrap();
        validate_signed(token, &served, &Options::default())
    };
    for a in &report.assertions {
        let token = &HostedRecord::of(a).unwrap().jws.unwrap();
        let (code, out) = official(token, "signed.jws");
        assert_eq!(code, 0, "official validator on {}:\n{out}", a.id);
        let image = written_image(dir.path(), a);
        // The Python bakery reads the JWS from the PNG's iTXt and the SVG's verify attribute.
        let (code, text) = reference_read(&oracle, false, &image);
        assert_eq!(
            (code, text.as_str()),
            (0, token.as_str()),
            "{}",
            image.display()
        );
        // The official validator verifies the baked image too.
        let (code, out) = oracle.validate(&["--strict", "--docs", docs, image.to_str().unwrap()]);
        assert_eq!(code, 0, "official validator on {}:\n{out}", image.display());
    }

    // Forgeries of the first badge: both validators refuse each.
    let a = &report.assertions[0];
    let record = HostedRecord::of(a).unwrap();
    let (token, document) = (record.jws.unwrap(), record.assertion.unwrap());
    let parts: Vec<&str> = token.split('.').collect();
    let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let mut changed = document.clone();
    changed["issuedOn"] = Value::from("2025-01-01T00:00:00Z");
    let other = SigningKey::generate(Algorithm::Rs256).unwrap();
    let forgeries = [
        (
            "changed payload",
            format!("{}.{}.{}", parts[0], b64(&changed), parts[2]),
        ),
        ("another key", other.sign(&document).unwrap()),
        (
            "alg none",
            format!("{}.{}.", b64(&serde_json::json!({"alg": "none"})), parts[1]),
        ),
    ];
    for (what, forged) in &forgeries {
        let (code, out) = official(forged, "forged.jws");
        assert_ne!(code, 0, "official validator took {what}:\n{out}");
        let report = ours(forged);
        assert!(report.has(Code::Signature), "{what}: {report}");
    }

    // Revoked: the issuer revokes two badges (the official validator misses a revocation in a
    // list of one) and serves its revocation list again.
    let secret = platform::id_secret(Some(dir.path())).unwrap();
    let issuer = platform::issuer(secret)
        .signing_with("1", SigningKey::from_pkcs8_pem(&pem).unwrap())
        .unwrap();
    let mut revoked = Vec::new();
    for a in &report.assertions[..2] {
        revoked.push(
            runtime
                .block_on(issuer.revoke(a, "Issued in error"))
                .unwrap(),
        );
    }
    let list = issuer.revocation_list(&revoked);
    std::fs::write(
        dir.path()
            .join(list.url.path().trim_start_matches('/'))
            .with_extension("json"),
        &list.body,
    )
    .unwrap();
    let (code, out) = official(&token, "revoked.jws");
    assert_ne!(code, 0, "official validator took a revoked badge:\n{out}");
    assert!(ours(&token).has(Code::Revoked));
    let (code, out) = official(
        &HostedRecord::of(&report.assertions[2])
            .unwrap()
            .jws
            .unwrap(),
        "kept.jws",
    );
    assert_eq!(code, 0, "a badge not revoked:\n{out}");
    println!(
        "signed award_flow: {} JWS and their baked images pass ob_validate --strict and unbake \
         with the Python bakery; {} forgeries and a revoked badge fail both validators",
        report.assertions.len(),
        forgeries.len()
    );
}
