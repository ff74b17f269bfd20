//! Signed Open Badges 2.0: the hosted issuer's signed mode and the validator's JWS checks.
//! Each failure case is one change to a valid signed badge, and must be the error named.

#![allow(clippy::unwrap_used)] // A test's helpers may panic: that is how a test fails.

#[path = "support/hosted.rs"]
mod hosted;

use badgery::backend::{
    AwardKey, AwardRequest, BadgeBackend, BadgeClassRecord, ClassImage, ImageFormat,
    IssuedAssertion, Recipient,
};
use badgery::bake::{Limits, Payload, unbake};
use badgery::model::jws::{Algorithm, CompactJws, SigningKey};
use badgery::model::validate::{Code, DocumentSet, Options, Report, validate, validate_signed};
use badgery::{HostedIssuer, HostedRecord, ServedDocument};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

fn request(learner: &str, class: BadgeClassRecord) -> AwardRequest {
    serde_json::from_value(json!({
        "key": AwardKey::new(learner, &class.slug, 1),
        "class": class,
        "recipient": Recipient::new(learner, format!("{learner}@example.org")),
        "evidence": [],
        "narrative": null,
        "issued_on": "2026-01-01T00:00:00Z",
    }))
    .unwrap()
}

fn class() -> BadgeClassRecord {
    BadgeClassRecord::new("rust-101", "Rust 101", "Did it.", "Do it.", hosted::png())
}

fn svg_class() -> BadgeClassRecord {
    let image = ClassImage {
        format: ImageFormat::Svg,
        bytes: include_bytes!("../examples/images/capstone.svg").to_vec(),
    };
    BadgeClassRecord::new("capstone", "Capstone", "Did it.", "Do it.", image)
}

fn signing(algorithm: Algorithm) -> (HostedIssuer, SigningKey) {
    let key = SigningKey::generate(algorithm).unwrap();
    let again = SigningKey::from_pkcs8_pem(&key.to_pkcs8_pem()).unwrap();
    (hosted::issuer().signing_with("k1", key).unwrap(), again)
}

/// What the host serves for `assertions`, with the revocation list of those revoked.
fn served(issuer: &HostedIssuer, assertions: &[IssuedAssertion]) -> DocumentSet {
    let mut docs = DocumentSet::new();
    let mut add = |doc: ServedDocument| {
        if doc.content_type == "application/ld+json" {
            docs.insert(serde_json::from_slice(&doc.body).unwrap());
        }
    };
    for a in assertions {
        let class = if a.key.slug == "capstone" {
            svg_class()
        } else {
            class()
        };
        issuer.documents(a, &class).into_iter().for_each(&mut add);
    }
    let revoked: Vec<_> = assertions
        .iter()
        .filter(|a| a.revoked.is_some())
        .cloned()
        .collect();
    add(issuer.revocation_list(&revoked));
    docs
}

fn jws(a: &IssuedAssertion) -> String {
    HostedRecord::of(a).unwrap().jws.unwrap()
}

fn errors(report: &Report) -> Vec<Code> {
    report
        .findings
        .iter()
        .filter(|f| f.severity == badgery::model::validate::Severity::Error)
        .map(|f| f.code)
        .collect()
}

/// A token with its payload replaced by `payload` and its header by `header`, the signature
/// kept.
fn forged(token: &str, header: Option<&Value>, payload: Option<&Value>) -> String {
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    if let Some(header) = header {
        parts[0] = URL_SAFE_NO_PAD.encode(header.to_string());
    }
    if let Some(payload) = payload {
        parts[1] = URL_SAFE_NO_PAD.encode(payload.to_string());
    }
    parts.join(".")
}

#[tokio::test]
async fn a_signed_assertion_verifies_with_the_issuers_published_key() {
    for algorithm in [Algorithm::Rs256, Algorithm::Es256] {
        let (issuer, _) = signing(algorithm);
        let a = issuer.award(&request("ada", class())).await.unwrap();
        assert!(a.id.starts_with("urn:uuid:"), "{}", a.id);
        let again = issuer.award(&request("ada", class())).await.unwrap();
        assert_eq!(again.id, a.id, "a retried award keeps its id");
        let token = CompactJws::parse(&jws(&a)).unwrap();
        assert_eq!(token.algorithm(), algorithm);
        assert_eq!(token.payload(), &a.data["assertion"]);
        assert_eq!(
            token.payload()["verification"],
            json!({"type": "SignedBadge", "creator": "https://lms.example.org/ob/keys/k1"})
        );
        let docs = served(&issuer, std::slice::from_ref(&a));
        let options = Options::default().with_recipient("ada@example.org");
        let report = validate_signed(&jws(&a), &docs, &options);
        assert!(report.is_valid(), "{algorithm:?}: {report}");
        assert_eq!(report.warning_count(), 0, "{report}");
        // The JSON alone validates, with a warning that the signature went unchecked.
        let report = validate(&a.data["assertion"], &docs, &options);
        assert!(report.is_valid(), "{report}");
        assert!(report.has(Code::Signature), "{report}");
    }
}

#[tokio::test]
async fn the_jws_is_baked_into_png_and_svg_and_read_back() {
    let (issuer, _) = signing(Algorithm::Rs256);
    for class in [class(), svg_class()] {
        let a = issuer.award(&request("ada", class)).await.unwrap();
        let baked = a.baked_image.as_ref().unwrap();
        let payload = unbake(&baked.bytes, &Limits::default()).unwrap().unwrap();
        assert_eq!(payload.as_str(), &jws(&a));
        if baked.format == ImageFormat::Svg {
            let text = String::from_utf8(baked.bytes.clone()).unwrap();
            // A JWS goes in the verify attribute of a self-closing tag.
            assert!(
                text.contains(&format!(r#"<openbadges:assertion verify="{}"/>"#, &jws(&a))),
                "{}",
                &text[..400.min(text.len())]
            );
        }
    }
}

#[tokio::test]
async fn each_change_to_a_signed_badge_is_the_error_it_should_be() {
    let (issuer, key) = signing(Algorithm::Rs256);
    let a = issuer.award(&request("ada", class())).await.unwrap();
    let docs = served(&issuer, std::slice::from_ref(&a));
    let options = Options::default();
    let token = &jws(&a);
    let check = |token: &str, docs: &DocumentSet| errors(&validate_signed(token, docs, &options));
    assert_eq!(check(token, &docs), []);

    let mut changed = a.data["assertion"].clone();
    changed["issuedOn"] = json!("2025-01-01T00:00:00Z");
    assert_eq!(
        check(&forged(token, None, Some(&changed)), &docs),
        [Code::Signature],
        "a changed payload"
    );

    let other = SigningKey::generate(Algorithm::Rs256).unwrap();
    let by_other = other.sign(&a.data["assertion"]).unwrap();
    assert_eq!(check(&by_other, &docs), [Code::Signature], "another key");

    let by_es = SigningKey::generate(Algorithm::Es256)
        .unwrap()
        .sign(&a.data["assertion"])
        .unwrap();
    assert_eq!(
        check(&by_es, &docs),
        [Code::Signature],
        "an ES256 token for an RSA key"
    );

    for alg in ["none", "HS256"] {
        let unsigned = forged(token, Some(&json!({"alg": alg})), None);
        assert_eq!(check(&unsigned, &docs), [Code::Signature], "alg {alg}");
    }

    let revoked = issuer.revoke(&a, "Issued in error").await.unwrap();
    assert_eq!(
        &jws(&revoked),
        token,
        "a revoked signed assertion keeps its JWS"
    );
    let revoked_docs = served(&issuer, std::slice::from_ref(&revoked));
    assert_eq!(check(token, &revoked_docs), [Code::Revoked], "a revoked id");

    // A creator the issuer does not list, though the signature is good.
    let mut elsewhere = a.data["assertion"].clone();
    elsewhere["verification"]["creator"] = json!("https://lms.example.org/ob/keys/k9");
    assert_eq!(
        check(&key.sign(&elsewhere).unwrap(), &docs),
        [Code::KeyOwnership],
        "an unlisted key"
    );

    // The listed key's document names another owner, or is served from another origin.
    let key_doc = |docs: &DocumentSet| {
        use badgery::model::validate::Resolver;
        docs.resolve("https://lms.example.org/ob/keys/k1").unwrap()
    };
    let mut foreign = docs.clone();
    let mut doc = key_doc(&docs);
    doc["owner"] = json!("https://evil.example.net/issuer");
    foreign.insert_at("https://lms.example.org/ob/keys/k1", doc);
    assert_eq!(
        check(token, &foreign),
        [Code::KeyOwnership],
        "another owner"
    );

    let mut issuer_doc = a.data["issuer"].clone();
    issuer_doc["publicKey"] = json!(["https://keys.example.net/k1"]);
    let mut off_origin = docs.clone();
    off_origin.insert(issuer_doc);
    let mut doc = key_doc(&docs);
    doc["id"] = json!("https://keys.example.net/k1");
    off_origin.insert(doc);
    let mut moved = a.data["assertion"].clone();
    moved["verification"]["creator"] = json!("https://keys.example.net/k1");
    assert_eq!(
        check(&key.sign(&moved).unwrap(), &off_origin),
        [Code::KeyOwnership],
        "a key from another origin"
    );

    // Not a JWS at all, and a JWS holding a hosted assertion.
    assert_eq!(check("not.a.jws", &docs), [Code::Signature]);
    let mut hosted = a.data["assertion"].clone();
    hosted["verification"] = json!({"type": "hosted"});
    assert!(check(&key.sign(&hosted).unwrap(), &docs).contains(&Code::Signature));
}

#[tokio::test]
async fn a_retired_key_stays_published_and_what_it_signed_still_verifies() {
    let (issuer, old_key) = signing(Algorithm::Rs256);
    let old = issuer.award(&request("ada", class())).await.unwrap();
    let rotated = hosted::issuer()
        .signing_with("k2", SigningKey::generate(Algorithm::Rs256).unwrap())
        .unwrap()
        .publishing("k1", old_key.public_key())
        .unwrap();
    assert_eq!(
        rotated.issuer_document().to_value()["publicKey"],
        json!([
            "https://lms.example.org/ob/keys/k2",
            "https://lms.example.org/ob/keys/k1"
        ])
    );
    let new = rotated.award(&request("bob", class())).await.unwrap();
    assert_eq!(
        new.data["assertion"]["verification"]["creator"],
        "https://lms.example.org/ob/keys/k2"
    );
    let docs = served(&rotated, std::slice::from_ref(&new));
    for a in [&old, &new] {
        let report = validate_signed(&jws(a), &docs, &Options::default());
        assert!(report.is_valid(), "{}: {report}", a.key);
    }
    // Without the retired key published, the old badge no longer verifies.
    let unpublished = hosted::issuer()
        .signing_with("k2", SigningKey::generate(Algorithm::Rs256).unwrap())
        .unwrap();
    let report = validate_signed(
        &jws(&old),
        &served(&unpublished, std::slice::from_ref(&new)),
        &Options::default(),
    );
    assert!(report.has(Code::KeyOwnership), "{report}");
    assert!(
        hosted::issuer()
            .publishing("k1", old_key.public_key())
            .is_err()
    );
    assert!(rotated.clone().signing_with("../k", old_key).is_err());
}

#[test]
fn a_baked_jws_payload_is_recognised() {
    let key = SigningKey::generate(Algorithm::Es256).unwrap();
    let token = key.sign(&json!({"type": "Assertion"})).unwrap();
    assert_eq!(
        Payload::new(token).unwrap().kind(),
        badgery::bake::PayloadKind::Jws
    );
}
