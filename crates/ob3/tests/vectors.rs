//! 1EdTech's own signed vectors (made by other software than Badgery) verify with Badgery's
//! eddsa-rdfc-2022 verifier: the canonicalization and proof hashing interoperate. Each vector
//! is also changed after signing, which must fail.

#![allow(clippy::unwrap_used)] // A test's helpers may panic: that is how a test fails.

use badgery_ob3::verify::{Document, Documents, Verifier};
use chrono::{TimeZone, Utc};
use serde_json::{Value, json};

const DID_KEY: &str = include_str!("data/1edtech/simple-did-key-method.json");
const DID_WEB: &str = include_str!("data/1edtech/simple-did-web-method.json");
const DID_WEB_KEY: &str = include_str!("data/1edtech/simple-did-web-method.key.json");

fn verifier() -> Verifier {
    let mut documents = Documents::new();
    let keys: Value = serde_json::from_str(DID_WEB_KEY).unwrap();
    for (url, document) in keys.as_object().unwrap() {
        documents.insert(url.as_str(), Document::Json(document.clone()));
    }
    Verifier::new(
        documents,
        Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap(),
    )
}

#[test]
fn the_did_key_vector_verifies_but_its_issuer_is_not_its_key() {
    // Its issuer is a urn:uuid, its key a bare did:key: the 1EdTech validator skips the
    // controller check for did:key; Badgery refuses it unless asked not to check.
    let strict = verifier().verify(DID_KEY.as_bytes());
    assert_eq!(strict.errors().len(), 1, "{:?}", strict.errors());
    assert!(strict.errors()[0].contains("is not the controller"));
    let allowing = verifier().allowing_issuer_key_mismatch();
    let verdict = allowing.verify(DID_KEY.as_bytes());
    assert!(verdict.is_valid(), "{:?}", verdict.errors());
    assert!(
        verdict
            .checks
            .iter()
            .any(|c| c.id == "issuer-key" && c.ok.is_none())
    );
    let mut changed: Value = serde_json::from_str(DID_KEY).unwrap();
    changed["name"] = json!("test 2");
    let verdict = allowing.verify(changed.to_string().as_bytes());
    assert!(
        verdict
            .errors()
            .iter()
            .any(|e| e.contains("does not verify"))
    );
}

#[test]
fn the_did_web_vector_verifies_with_its_key_document_when_lenient() {
    // Its proof is a single object, which the plain-JSON schema wants as a list.
    let strict = verifier().verify(DID_WEB.as_bytes());
    assert_eq!(
        strict.errors(),
        ["schema: single values where the plain-JSON schema wants arrays: /proof"]
    );
    let lenient = verifier().lenient();
    let verdict = lenient.verify(DID_WEB.as_bytes());
    assert!(verdict.is_valid(), "{:?}", verdict.errors());
    let mut changed: Value = serde_json::from_str(DID_WEB).unwrap();
    changed["credentialSubject"]["achievement"]["name"] = json!("Changed");
    assert!(!lenient.verify(changed.to_string().as_bytes()).is_valid());
}
