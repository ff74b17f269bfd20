//! Badgery's Open Badges 3.0 credentials judged by the offline oracle (the 1EdTech validator's
//! checks on Digital Bazaar's verifiable-credential libraries, `conformance/ob3/` of the shared
//! kit) and by Badgery's own verifier, which must agree on every file: the good credentials
//! (RS256 and ES256, as JSON text, baked in PNG and SVG, with did:web and a JWKS) and each
//! tampered variant the kit's `selftest.sh` makes for VC-JWT.
//!
//! The oracle needs Node.js and the kit's npm packages, which a user's clone does not have, so
//! the test is `#[ignore]`d; `.ci/run` runs it with `BADGERY_OB3_ORACLE` naming a writable copy
//! of the kit set up with `setup_ob3.sh`.

#![allow(clippy::unwrap_used)] // A test's helpers may panic: that is how a test fails.

use std::path::{Path, PathBuf};
use std::process::Command;

use badgery_model::jws::{Algorithm, SigningKey};
use badgery_ob3::bake::bake;
use badgery_ob3::credential::{Achievement, Criteria, Image, Profile};
use badgery_ob3::did::Identity;
use badgery_ob3::issue::{CredentialRequest, Issuer};
use badgery_ob3::status::{StatusList, StatusPurpose};
use badgery_ob3::verify::{Document, Documents, Verifier};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Value, json};

const PNG: &[u8] = include_bytes!("data/badge.png");
const SVG: &[u8] = include_bytes!("data/badge.svg");

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap()
}

/// An issuer at `site` signing with a new key of `algorithm`, its list at `SITE/status/1`.
fn issuer(site: &str, algorithm: Algorithm) -> Issuer {
    Issuer::new(
        site,
        Profile::new("", "Example Academy"),
        SigningKey::generate(algorithm).unwrap(),
        "key-1",
        &format!("{site}status/1"),
    )
    .unwrap()
}

fn request(issuer: &Issuer, n: u32, index: usize) -> CredentialRequest {
    let site = issuer.status_list_url().trim_end_matches("status/1");
    let mut achievement = Achievement::new(
        format!("{site}badges/rust"),
        "Rust",
        "Completed the Rust course.",
        Criteria::narrative("Pass the final exam with a grade of 0.8."),
    );
    achievement.image = Some(Image::new(format!("{site}badges/rust/image.png")));
    let mut request = CredentialRequest::new(
        format!("urn:uuid:00000000-0000-4000-8000-{n:012}"),
        achievement,
        format!("urn:uuid:10000000-0000-4000-8000-{n:012}"),
        Utc.with_ymd_and_hms(2026, 3, 10, 12, 0, 0).unwrap(),
    );
    request.email = Some(("ada@example.org".into(), format!("salt{n}")));
    request.grade = Some("0.91".into());
    request.status_index = Some(index);
    request
}

/// A JWT whose payload is changed by `edit`, the signature kept.
fn edited(token: &str, edit: impl Fn(&mut Value)) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    let mut payload: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    edit(&mut payload);
    let payload = URL_SAFE_NO_PAD.encode(payload.to_string());
    format!("{}.{payload}.{}", parts[0], parts[2])
}

/// What the oracle says of `file` (`--strict` when `strict`): valid (exit 0) or not (exit 1),
/// and its errors; anything else panics.
fn oracle(kit: &Path, out: &Path, file: &Path, jwks: Option<&Path>, strict: bool) -> (bool, Value) {
    let mut command = Command::new("node");
    command.arg(kit.join("ob3_verify.mjs"));
    if strict {
        command.arg("--strict");
    }
    command
        .args(["--now", "2026-06-01T00:00:00Z", "--did-web"])
        .arg(out.join("did-web"))
        .arg("--docs")
        .arg(out.join("ob3-docs.json"));
    if let Some(jwks) = jwks {
        command.arg("--jwks").arg(jwks);
    }
    let output = command.arg(file).output().unwrap();
    let verdict: Value = serde_json::from_slice(&output.stdout).unwrap_or(Value::Null);
    match output.status.code() {
        Some(0) => (true, verdict["errors"].clone()),
        Some(1) => (false, verdict["errors"].clone()),
        _ => panic!(
            "the oracle failed on {}: {}{}",
            file.display(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    }
}

/// Writes what the issuers publish under `out`, as the oracle reads it: the DID documents as
/// the web lays them out, the status lists through `ob3-docs.json`, and the keys as a JWKS.
/// Returns the documents for Badgery's verifier.
fn publish(out: &Path, issuers: &[&Issuer], lists: &[(&Issuer, Document)]) -> (Documents, PathBuf) {
    let mut documents = Documents::new();
    let mut docs = serde_json::Map::new();
    let mut keys = Vec::new();
    for (i, issuer) in issuers.iter().enumerate() {
        keys.push(issuer.public_jwk());
        let Some((url, document)) = issuer.controller_document() else {
            continue; // a did:key is resolved from itself
        };
        let path = match issuer.identity() {
            Identity::Web(web) => out.join("did-web").join(web.document_path()),
            _ => {
                let name = format!("controller-{i}.json");
                docs.insert(url.to_string(), name.clone().into());
                out.join(name)
            }
        };
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, document.to_string()).unwrap();
        documents.insert(url.as_str(), Document::Json(document));
    }
    for (i, (issuer, list)) in lists.iter().enumerate() {
        let (name, text) = match list {
            Document::Jwt(jwt) => (format!("status-{i}.jwt"), jwt.clone()),
            Document::Json(json) => (format!("status-{i}.json"), json.to_string()),
            _ => unreachable!(),
        };
        std::fs::write(out.join(&name), text).unwrap();
        docs.insert(issuer.status_list_url().to_owned(), name.into());
        documents.insert(issuer.status_list_url(), list.clone());
    }
    std::fs::write(out.join("ob3-docs.json"), Value::Object(docs).to_string()).unwrap();
    let jwks = out.join("ob3-jwks.json");
    std::fs::write(&jwks, json!({"keys": keys}).to_string()).unwrap();
    (documents, jwks)
}

/// `png` with its first `iTXt` chunk written twice.
fn duplicate_first_text_chunk(png: &[u8]) -> Vec<u8> {
    let mut pos = 8;
    while pos + 12 <= png.len() {
        let len = u32::from_be_bytes(png[pos..pos + 4].try_into().unwrap()) as usize;
        let end = pos + 12 + len;
        if &png[pos + 4..pos + 8] == b"iTXt" {
            return [&png[..end], &png[pos..end], &png[end..]].concat();
        }
        pos = end;
    }
    panic!("no iTXt chunk");
}

#[test]
#[ignore = "needs the OB 3.0 oracle (Node.js and the kit's packages); run by .ci/run"]
fn badgery_and_the_oracle_agree_on_good_and_tampered_credentials() {
    let kit = PathBuf::from(
        std::env::var("BADGERY_OB3_ORACLE").expect("BADGERY_OB3_ORACLE names the set-up kit"),
    );
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    let rs = issuer("https://lms.example.org/ob/", Algorithm::Rs256);
    let es = issuer("https://academy.example.org/", Algorithm::Es256);
    let stranger = issuer("https://evil.example/", Algorithm::Es256);
    let ed25519 = || SigningKey::generate(Algorithm::EdDsa).unwrap();
    let ed = issuer("https://eddsa.example.org/issuers/7/", Algorithm::Es256)
        .with_eddsa_key(ed25519(), "key-ed25519")
        .unwrap();
    let ed_stranger = issuer("https://other.example.org/", Algorithm::Es256)
        .with_eddsa_key(ed25519(), "key-ed25519")
        .unwrap();
    // VC-JWTs signed EdDSA: the 1EdTech validator refuses them, so the oracle does when
    // strict and warns otherwise.
    let ed_jwt = issuer("https://ed-jwt.example.org/", Algorithm::EdDsa);
    // An https issuer (its controller document at its id) and a did:key issuer.
    let https = Issuer::with_identity(
        Identity::https("https://college.example.org/issuer.json").unwrap(),
        Profile::new("", "Example College"),
        SigningKey::generate(Algorithm::Rs256).unwrap(),
        "key-1",
        "https://college.example.org/status/1",
    )
    .unwrap()
    .with_eddsa_key(ed25519(), "key-ed25519")
    .unwrap();
    // A suspension list: bit 7 set, the other credentials in force.
    let suspending = issuer("https://suspend.example.org/", Algorithm::Rs256)
        .with_status_purpose(StatusPurpose::Suspension);
    let did_key = {
        let key = ed25519();
        let identity = Identity::did_key(&key.public_key()).unwrap();
        Issuer::with_identity(
            identity,
            Profile::new("", "Test Issuer"),
            key,
            "",
            "https://test.example.org/status/1",
        )
        .unwrap()
    };

    // The revocation lists: bit 7 set in the RS256 issuer's.
    let mut revoked = StatusList::new();
    revoked.set(7, true).unwrap();
    let rs_list = Document::Jwt(rs.status_list_jwt(&revoked, now()).unwrap());
    let es_list = Document::Jwt(es.status_list_jwt(&StatusList::new(), now()).unwrap());
    let ed_list = Document::Json(ed.status_list_eddsa(&revoked, now()).unwrap());
    let ed_jwt_list = Document::Jwt(ed_jwt.status_list_jwt(&revoked, now()).unwrap());
    let https_list = Document::Jwt(https.status_list_jwt(&revoked, now()).unwrap());
    let did_key_list = Document::Json(did_key.status_list_eddsa(&revoked, now()).unwrap());
    let suspension_list = Document::Jwt(suspending.status_list_jwt(&revoked, now()).unwrap());
    let (documents, jwks) = publish(
        out,
        &[
            &rs,
            &es,
            &ed,
            &ed_stranger,
            &ed_jwt,
            &https,
            &did_key,
            &suspending,
        ],
        &[
            (&rs, rs_list),
            (&es, es_list),
            (&ed, ed_list),
            (&ed_jwt, ed_jwt_list),
            (&https, https_list),
            (&did_key, did_key_list),
            (&suspending, suspension_list),
        ],
    );

    let good_rs = rs.sign_jwt(&rs.credential(&request(&rs, 1, 5))).unwrap();
    let good_es = es.sign_jwt(&es.credential(&request(&es, 2, 9))).unwrap();
    let mut cases: Vec<(&str, Vec<u8>, bool)> = vec![
        ("RS256 VC-JWT", good_rs.clone().into_bytes(), true),
        ("ES256 VC-JWT", good_es.clone().into_bytes(), true),
        ("RS256 baked in PNG", bake(PNG, &good_rs).unwrap(), true),
        ("ES256 baked in SVG", bake(SVG, &good_es).unwrap(), true),
    ];
    let revoked_credential = rs.sign_jwt(&rs.credential(&request(&rs, 3, 7))).unwrap();
    cases.push(("revoked: bit 7 set", revoked_credential.into_bytes(), false));
    let good_ed_jwt = ed_jwt
        .sign_jwt(&ed_jwt.credential(&request(&ed_jwt, 30, 5)))
        .unwrap();
    let revoked_ed_jwt = ed_jwt
        .sign_jwt(&ed_jwt.credential(&request(&ed_jwt, 31, 7)))
        .unwrap();
    let https_jwt = https
        .sign_jwt(&https.credential(&request(&https, 40, 5)))
        .unwrap();
    cases.push(("https issuer: RS256 VC-JWT", https_jwt.into_bytes(), true));
    let https_ed = https
        .sign_eddsa(&https.credential(&request(&https, 41, 5)), now())
        .unwrap();
    cases.push((
        "https issuer: eddsa",
        https_ed.to_string().into_bytes(),
        true,
    ));
    let https_revoked = https
        .sign_jwt(&https.credential(&request(&https, 42, 7)))
        .unwrap();
    cases.push(("https issuer: revoked", https_revoked.into_bytes(), false));
    let mut claimed = ed.credential(&request(&ed, 43, 5)).to_value();
    claimed["issuer"]["id"] = json!(https.identity().id());
    let claimed = ed.sign_eddsa_json(&claimed, now()).unwrap();
    cases.push((
        "https issuer named, another issuer's key",
        claimed.to_string().into_bytes(),
        false,
    ));
    let did_key_ed = did_key
        .sign_eddsa(&did_key.credential(&request(&did_key, 44, 5)), now())
        .unwrap();
    cases.push((
        "did:key issuer: eddsa",
        did_key_ed.to_string().into_bytes(),
        true,
    ));
    let did_key_revoked = did_key
        .sign_eddsa(&did_key.credential(&request(&did_key, 45, 7)), now())
        .unwrap();
    cases.push((
        "did:key issuer: eddsa revoked",
        did_key_revoked.to_string().into_bytes(),
        false,
    ));
    for (name, n, index, valid) in [
        ("suspension list: bit clear", 46, 5, true),
        ("suspension list: suspended (bit 7 set)", 47, 7, false),
    ] {
        let token = suspending
            .sign_jwt(&suspending.credential(&request(&suspending, n, index)))
            .unwrap();
        cases.push((name, token.into_bytes(), valid));
    }
    cases.push((
        "EdDSA VC-JWT (--strict)",
        good_ed_jwt.clone().into_bytes(),
        false,
    ));
    // Embedded eddsa-rdfc-2022 proofs.
    let at = now();
    let good_ed = ed
        .sign_eddsa(&ed.credential(&request(&ed, 20, 5)), at)
        .unwrap();
    let good_ed_text = good_ed.to_string();
    cases.push((
        "eddsa-rdfc-2022 JSON",
        good_ed_text.clone().into_bytes(),
        true,
    ));
    cases.push((
        "eddsa baked in PNG",
        bake(PNG, &good_ed_text).unwrap(),
        true,
    ));
    cases.push((
        "eddsa baked in SVG (CDATA)",
        bake(SVG, &good_ed_text).unwrap(),
        true,
    ));
    let revoked_ed = ed
        .sign_eddsa(&ed.credential(&request(&ed, 21, 7)), at)
        .unwrap();
    cases.push((
        "eddsa revoked: bit 7 set",
        revoked_ed.to_string().into_bytes(),
        false,
    ));
    let mut changed = good_ed.clone();
    changed["name"] = json!("Rust Advanced");
    cases.push((
        "eddsa: name changed",
        changed.to_string().into_bytes(),
        false,
    ));
    let mut changed = good_ed.clone();
    changed["credentialSubject"]["id"] = json!("did:example:mallory");
    cases.push((
        "eddsa: recipient changed",
        changed.to_string().into_bytes(),
        false,
    ));
    let mut changed = good_ed.clone();
    changed["proof"][0]["verificationMethod"] = json!(ed_stranger.eddsa_key_id().unwrap());
    cases.push((
        "eddsa: another issuer's key named",
        changed.to_string().into_bytes(),
        false,
    ));
    let mut foreign = ed.credential(&request(&ed, 22, 9)).to_value();
    foreign["issuer"]["id"] = json!(ed_stranger.identity().id());
    let foreign = ed.sign_eddsa_json(&foreign, at).unwrap();
    cases.push((
        "eddsa: issuer is not the key's controller",
        foreign.to_string().into_bytes(),
        false,
    ));
    let mut changed = good_ed.clone();
    changed["proof"][0]["cryptosuite"] = json!("eddsa-2022");
    cases.push((
        "eddsa: cryptosuite renamed",
        changed.to_string().into_bytes(),
        false,
    ));
    let mut changed = good_ed.clone();
    changed.as_object_mut().unwrap().remove("proof");
    cases.push((
        "eddsa: proof removed",
        changed.to_string().into_bytes(),
        false,
    ));
    let mut single = good_ed.clone();
    single["proof"] = single["proof"][0].clone();
    cases.push((
        "eddsa: proof a single object (--strict)",
        single.to_string().into_bytes(),
        false,
    ));
    let mut undefined = ed.credential(&request(&ed, 23, 10)).to_value();
    undefined["credentialSubject"]["achievement"]["fooBar"] = json!("x");
    let undefined = ed.sign_eddsa_json(&undefined, at).unwrap();
    cases.push((
        "eddsa: undefined term",
        undefined.to_string().into_bytes(),
        false,
    ));
    let tampered = [
        (
            "name changed",
            edited(&good_rs, |c| c["name"] = json!("Rust Advanced")),
        ),
        (
            "achievement changed",
            edited(&good_rs, |c| {
                c["credentialSubject"]["achievement"]["name"] = json!("Rust Expert");
            }),
        ),
        (
            "subject changed with its claim",
            edited(&good_es, |c| {
                c["credentialSubject"]["id"] = json!("did:example:mallory");
                c["sub"] = json!("did:example:mallory");
            }),
        ),
    ];
    for (name, token) in tampered {
        cases.push((name, token.into_bytes(), false));
    }
    // Validly signed, but wrong.
    let mut wrong = Vec::new();
    let mut credential = rs.credential(&request(&rs, 4, 11)).to_value();
    credential["credentialSubject"]["achievement"]
        .as_object_mut()
        .unwrap()
        .remove("criteria");
    wrong.push(("achievement without criteria", credential));
    let mut credential = rs.credential(&request(&rs, 5, 12)).to_value();
    credential["issuer"].as_object_mut().unwrap().remove("type");
    wrong.push(("issuer without type Profile", credential));
    let mut credential = rs.credential(&request(&rs, 6, 13)).to_value();
    credential["@context"][0] = json!("https://www.w3.org/2018/credentials/v1");
    wrong.push(("VC 1.1 context swapped in", credential));
    let mut credential = rs.credential(&request(&rs, 7, 14)).to_value();
    credential["validUntil"] = json!("2026-04-01T00:00:00Z");
    wrong.push(("expired", credential));
    let mut credential = rs.credential(&request(&rs, 8, 15)).to_value();
    credential["validFrom"] = json!("2030-01-01T00:00:00Z");
    wrong.push(("valid from the future", credential));
    let mut credential = rs.credential(&request(&rs, 9, 16)).to_value();
    credential["credentialSubject"]["achievement"]["fooBar"] = json!("x");
    wrong.push(("undefined term", credential));
    let mut credential = rs.credential(&request(&rs, 10, 17)).to_value();
    credential["credentialStatus"]["statusPurpose"] = json!("suspension");
    wrong.push(("status purpose mismatch", credential));
    let mut credential = rs.credential(&request(&rs, 11, 18)).to_value();
    credential["credentialStatus"]["statusListCredential"] =
        json!("https://lms.example.org/ob/status/missing");
    wrong.push(("status list not available", credential));
    for (name, credential) in wrong {
        let token = rs.sign_jwt_json(&credential).unwrap();
        cases.push((name, token.into_bytes(), false));
    }
    let foreign = stranger
        .sign_jwt(&stranger.credential(&request(&stranger, 12, 19)))
        .unwrap();
    cases.push((
        "issuer's DID document not published",
        foreign.into_bytes(),
        false,
    ));
    let twice = duplicate_first_text_chunk(&bake(PNG, &good_rs).unwrap());
    cases.push(("PNG: two openbadgecredential chunks", twice, false));
    let wrong_namespace = String::from_utf8(bake(SVG, &good_es).unwrap())
        .unwrap()
        .replace(
            "https://purl.imsglobal.org/ob/v3p0",
            "https://purl.imsglobal.org/spec/ob/v3p0",
        );
    cases.push(("SVG: wrong namespace", wrong_namespace.into_bytes(), false));
    cases.push(("garbage JSON", b"{\"not\":\"a credential\"".to_vec(), false));

    let verifier = Verifier::new(documents.clone(), now());
    let mut disagreements = Vec::new();
    for (i, (name, bytes, expected)) in cases.iter().enumerate() {
        let file = out.join(format!("case-{i}"));
        std::fs::write(&file, bytes).unwrap();
        for jwks in [None, Some(jwks.as_path())] {
            let (theirs, their_errors) = oracle(&kit, out, &file, jwks, true);
            let verdict = verifier.verify(bytes);
            let ours = verdict.is_valid();
            if theirs != *expected || ours != *expected {
                disagreements.push(format!(
                    "{name} (jwks {}): expected {expected}, oracle {theirs} {their_errors}, \
                     Badgery {ours} {:?}",
                    jwks.is_some(),
                    verdict.errors()
                ));
            }
        }
    }
    // Not strict, an EdDSA VC-JWT is valid (with a warning), and revoked when its bit is set.
    let lenient = Verifier::new(documents, now()).lenient();
    for (name, token, expected) in [
        ("EdDSA VC-JWT", &good_ed_jwt, true),
        ("EdDSA VC-JWT revoked", &revoked_ed_jwt, false),
    ] {
        let file = out.join(format!("{name}.jwt").replace(' ', "-"));
        std::fs::write(&file, token).unwrap();
        let (theirs, their_errors) = oracle(&kit, out, &file, None, false);
        let verdict = lenient.verify(token.as_bytes());
        if theirs != expected || verdict.is_valid() != expected {
            disagreements.push(format!(
                "{name} (lenient): expected {expected}, oracle {theirs} {their_errors}, \
                 Badgery {:?}",
                verdict.errors()
            ));
        }
    }
    assert!(disagreements.is_empty(), "{disagreements:#?}");
    eprintln!(
        "{} files, each judged by the oracle and Badgery alike",
        cases.len()
    );
}
