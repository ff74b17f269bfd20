//! The hosted issuer's Open Badges 3.0 side: an award issued as a credential, the same
//! credential on a retry, and its status as the served list says: revoked for good, or
//! suspended and then reinstated, judged by Badgery's verifier over what the host serves.

#![cfg(feature = "ob3")]
#![allow(clippy::unwrap_used)] // A test's helpers may panic: that is how a test fails.

#[path = "support/hosted.rs"]
mod hosted;

use std::sync::Arc;

use badgery::backend::{
    AssertionRepository, AwardKey, AwardRequest, BadgeBackend, BadgeClassRecord, IssuedAssertion,
    MemoryStore, Recipient,
};
use badgery::model::jws::{Algorithm, SigningKey};
use badgery::ob3::credential::Profile;
use badgery::ob3::issue::Issuer;
use badgery::ob3::status::StatusPurpose;
use badgery::ob3::verify::{Document, Documents, Verdict, Verifier};
use badgery::{HostedIssuer, HostedRecord, IssuedAs, Ob3Issuing, Ob3Proof, Ob3Record};
use chrono::{TimeZone, Utc};
use hosted::{issuer, png};

const BASE: &str = "https://lms.example.org/ob/";

fn hosted(purpose: StatusPurpose, proof: Ob3Proof) -> HostedIssuer {
    let ob3 = Issuer::new(
        BASE,
        Profile::new("", "LMS"),
        SigningKey::generate(Algorithm::Es256).unwrap(),
        "key-1",
        &format!("{BASE}status/1"),
    )
    .unwrap()
    .with_eddsa_key(SigningKey::generate(Algorithm::EdDsa).unwrap(), "key-2")
    .unwrap()
    .with_status_purpose(purpose);
    let repository: Arc<dyn AssertionRepository> = Arc::new(MemoryStore::new());
    let issuing = Ob3Issuing::new(ob3, repository, IssuedAs::Both).with_proof(proof);
    issuer().issuing_ob3(issuing)
}

fn request(learner: &str) -> AwardRequest {
    AwardRequest {
        key: AwardKey::new(learner, "rust", 1),
        class: BadgeClassRecord::new("rust", "Rust", "Completed Rust.", "Pass.", png()),
        recipient: Recipient::new(learner, format!("{learner}@example.org")),
        evidence: Vec::new(),
        narrative: None,
        issued_on: Utc.with_ymd_and_hms(2026, 3, 10, 12, 0, 0).unwrap(),
    }
}

/// The credential `assertion` carries, as the learner would present it.
fn credential(assertion: &IssuedAssertion) -> String {
    ob3(assertion).credential.text()
}

/// The hosted issuer's record of `assertion`'s credential.
fn ob3(assertion: &IssuedAssertion) -> Ob3Record {
    HostedRecord::of(assertion).unwrap().ob3.unwrap()
}

/// The verdict on `assertion`'s credential over what the host serves with `set` bits set.
fn verdict(issuer: &HostedIssuer, assertion: &IssuedAssertion, set: &[IssuedAssertion]) -> Verdict {
    let at = Utc.with_ymd_and_hms(2026, 4, 1, 0, 0, 0).unwrap();
    let jwks = format!("{BASE}jwks.json").parse().unwrap();
    let mut documents = Documents::new();
    for served in issuer.ob3().unwrap().documents(set, at, &jwks).unwrap() {
        let text = String::from_utf8(served.body).unwrap();
        let document = match served.content_type {
            "application/vc+jwt" => Document::Jwt(text),
            _ => Document::Json(serde_json::from_str(&text).unwrap()),
        };
        documents.insert(served.url.as_str(), document);
    }
    Verifier::new(documents, at).verify(credential(assertion).as_bytes())
}

#[tokio::test]
async fn a_revoked_credential_is_refused_for_its_revocation_bit() {
    let issuer = hosted(StatusPurpose::Revocation, Ob3Proof::Jwt);
    let ada = issuer.award(&request("ada")).await.unwrap();
    // A retry (a lost response) makes the same credential, on the same bit.
    let again = issuer.award(&request("ada")).await.unwrap();
    let (first, retried) = (ob3(&ada), ob3(&again));
    assert_eq!(
        (&again.id, &retried.id, retried.status_index),
        (&ada.id, &first.id, first.status_index)
    );
    let verdict_now = verdict(&issuer, &ada, &[]);
    assert!(verdict_now.is_valid(), "{:?}", verdict_now.errors());

    // What the store's revoked_assertions then lists.
    let revoked = issuer.revoke(&ada, "issued in error").await.unwrap();
    assert!(revoked.revoked.is_some());
    let errors = verdict(&issuer, &ada, &[revoked]).errors();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with("status: revocation bit"),
        "{errors:?}"
    );
}

#[tokio::test]
async fn a_suspended_credential_is_refused_until_it_is_reinstated() {
    for proof in [Ob3Proof::Jwt, Ob3Proof::Eddsa] {
        let issuer = hosted(StatusPurpose::Suspension, proof);
        let ada = issuer.award(&request("ada")).await.unwrap();
        let bob = issuer.award(&request("bob")).await.unwrap();
        assert_ne!(ob3(&ada).status_index, ob3(&bob).status_index);
        let suspended = std::slice::from_ref(&ada);

        let errors = verdict(&issuer, &ada, suspended).errors();
        assert_eq!(errors.len(), 1, "{proof:?}: {errors:?}");
        assert!(
            errors[0].starts_with("status: suspension bit"),
            "{errors:?}"
        );
        let others = verdict(&issuer, &bob, suspended);
        assert!(others.is_valid(), "{proof:?}: {:?}", others.errors());

        let reinstated = verdict(&issuer, &ada, &[]);
        assert!(
            reinstated.is_valid(),
            "{proof:?}: {:?}",
            reinstated.errors()
        );
    }
}
