//! The Badgr backend against the test server: classes created once, each award once in
//! Badgr even when an answer is lost, repeated awards, revocation twice.

#![allow(clippy::unwrap_used)] // A test's helpers may panic: that is how a test fails.

mod support;

use std::sync::Arc;

use badgery_backend::{
    AwardKey, AwardRequest, BadgeBackend, BadgeClassRecord, ClassImage, EvidenceItem, ImageFormat,
    Recipient,
};
use badgery_badgr::{BadgrBackend, BadgrConfig, MemoryTokenStore, Session, TokenStore};
use support::server::{self, PASSWORD, USERNAME};

const ISSUER: &str = "qaWd4VmPReyl_saXGhmjyg";

fn backend(url: &str, store: &Arc<dyn TokenStore>) -> BadgrBackend {
    let config = BadgrConfig::new(url, USERNAME, PASSWORD).unwrap();
    BadgrBackend::new(Session::new(config, store.clone()).unwrap(), ISSUER)
}

fn class() -> BadgeClassRecord {
    // The PNG the recorded exchanges used as a class image.
    let image = ClassImage {
        format: ImageFormat::Png,
        bytes: include_bytes!("support/badge.png").to_vec(),
    };
    let mut class = BadgeClassRecord::new("rust-101", "Rust 101", "Did it.", "Do it.", image);
    class.issuing_component = "openedx__course".to_owned();
    class
}

fn request(class: &BadgeClassRecord, sequence: u32) -> AwardRequest {
    serde_json::from_value(serde_json::json!({
        "key": AwardKey::new("ada", &class.slug, sequence),
        "class": class,
        "recipient": Recipient::new("ada", "ada@example.org"),
        "evidence": [EvidenceItem::narrative("Final project"), {"url": null, "narrative": null}],
        "narrative": null,
        "issued_on": "2026-01-01T00:00:00Z",
    }))
    .unwrap()
}

#[tokio::test]
async fn a_class_is_created_once_and_an_admins_class_is_used_as_is() {
    let (url, server) = server::start().await;
    let store: Arc<dyn TokenStore> = Arc::new(MemoryTokenStore::default());
    let id = backend(&url, &store).ensure_class(&class()).await.unwrap();
    // A creation whose answer was lost is retried by another engine: found by its tag.
    let again = backend(&url, &store).ensure_class(&class()).await.unwrap();
    assert_eq!(again, id);
    {
        let s = server.lock().unwrap();
        assert_eq!(s.classes.len(), 1);
        let tags = s.classes[0]["tags"].as_array().unwrap();
        assert!(
            tags.contains(&"badgery:rust-101".into()) && tags.contains(&"openedx__course".into())
        );
    }
    let mut admins = class();
    admins.backend_id = Some("made-in-badgr".to_owned());
    let before = server.lock().unwrap().api_requests;
    assert_eq!(
        backend(&url, &store).ensure_class(&admins).await.unwrap(),
        "made-in-badgr"
    );
    assert_eq!(
        server.lock().unwrap().api_requests,
        before,
        "no call for an admin's class"
    );
}

#[tokio::test]
async fn an_award_is_one_round_trip_and_once_in_badgr_when_its_answer_is_lost() {
    let (url, server) = server::start().await;
    let store: Arc<dyn TokenStore> = Arc::new(MemoryTokenStore::default());
    let badgr = backend(&url, &store);
    let mut class = class();
    class.backend_id = Some(badgr.ensure_class(&class).await.unwrap());
    let before = server.lock().unwrap().api_requests;
    let issued = badgr.award(&request(&class, 1)).await.unwrap();
    assert_eq!(
        server.lock().unwrap().api_requests - before,
        1,
        "one round trip"
    );
    assert!(
        issued.id.ends_with("/public/assertions/as-1"),
        "{}",
        issued.id
    );
    assert_eq!(issued.data["entityId"], "as-1");
    {
        let s = server.lock().unwrap();
        // Evidence without URL nor narrative is left out, never sent with a null URL.
        assert_eq!(
            s.assertions[0]["evidence"],
            serde_json::json!([{"narrative": "Final project"}])
        );
    }

    // Bob's award reaches Badgr, the answer is lost, the engine retries with the same key.
    let mut bob = request(&class, 1);
    bob.recipient = Recipient::new("bob", "bob@example.org");
    bob.key = AwardKey::new("bob", &class.slug, 1);
    server.lock().unwrap().lose_next_award_answer = true;
    let lost = badgr.award(&bob).await.unwrap_err();
    assert!(lost.is_retryable(), "{lost}");
    let adopted = badgr.award(&bob).await.unwrap();
    assert_eq!(adopted.data["entityId"], "as-2");
    let s = server.lock().unwrap();
    let bobs = s
        .assertions
        .iter()
        .filter(|a| a["recipient"]["plaintextIdentity"] == "bob@example.org");
    assert_eq!(bobs.count(), 1, "one Badgr assertion for bob");
}

#[tokio::test]
async fn repeated_awards_are_counted_and_revocation_twice_is_done() {
    let (url, server) = server::start().await;
    let store: Arc<dyn TokenStore> = Arc::new(MemoryTokenStore::default());
    let badgr = backend(&url, &store);
    let mut class = class();
    class.backend_id = Some(badgr.ensure_class(&class).await.unwrap());
    let first = badgr.award(&request(&class, 1)).await.unwrap();
    let second = badgr.award(&request(&class, 2)).await.unwrap();
    assert_ne!(first.data["entityId"], second.data["entityId"]);
    // Award 2 again (a retry): the second award is found, not made a third time.
    let again = badgr.award(&request(&class, 2)).await.unwrap();
    assert_eq!(again.data["entityId"], second.data["entityId"]);
    assert_eq!(server.lock().unwrap().assertions.len(), 2);

    let revoked = badgr.revoke(&first, "Issued in error").await.unwrap();
    assert_eq!(revoked.revoked.as_deref(), Some("Issued in error"));
    badgr.revoke(&first, "Issued in error").await.unwrap();
    let s = server.lock().unwrap();
    assert_eq!(s.assertions[0]["revoked"], true);
    assert_eq!(s.assertions[0]["revocationReason"], "Issued in error");
}

#[tokio::test]
async fn a_missing_class_is_not_found_with_badgrs_message() {
    let (url, _server) = server::start().await;
    let store: Arc<dyn TokenStore> = Arc::new(MemoryTokenStore::default());
    let badgr = backend(&url, &store);
    let mut class = class();
    class.backend_id = Some("no-such-class".to_owned());
    let e = badgr.award(&request(&class, 1)).await.unwrap_err();
    assert!(matches!(e, badgery_backend::Error::NotFound(_)), "{e}");
    assert!(e.to_string().contains("entity not found"), "{e}");
}
