//! Slugs, learner ids, course keys, base and evidence URLs are checked wherever they enter:
//! none can escape the base URL, collide with another, or put a non-web link in a badge.

#![allow(clippy::unwrap_used)] // A test's helpers may panic: that is how a test fails.

#[path = "support/hosted.rs"]
mod hosted;

use badgery::backend::{
    AwardKey, AwardLedger, AwardRequest, BadgeBackend, BadgeClassRecord, Claim, ClassCatalog,
    Error, EvidenceItem, MemoryStore, PendingAward, Recipient,
};
use badgery::{UrlScheme, rules::RuleSet};
use hosted::{issuer, png};

fn request(key: AwardKey, class: BadgeClassRecord, evidence: Vec<EvidenceItem>) -> AwardRequest {
    serde_json::from_value(serde_json::json!({
        "key": key,
        "class": class,
        "recipient": Recipient::new("ada", "ada@example.org"),
        "evidence": evidence,
        "narrative": null,
        "issued_on": "2026-01-01T00:00:00Z",
    }))
    .unwrap()
}

#[tokio::test]
async fn slugs_that_escape_the_base_url_are_refused_everywhere() {
    let store = MemoryStore::new();
    let issuer = issuer();
    for slug in [
        "../issuer",
        "../../../admin",
        "a/b",
        "A",
        "",
        "a\nb",
        "%2e%2e",
    ] {
        let class = BadgeClassRecord::new(slug, "n", "d", "c", png());
        assert!(
            matches!(
                store.get_or_create_class(class.clone()).await,
                Err(Error::Rejected(_))
            ),
            "store took {slug:?}"
        );
        assert!(
            matches!(issuer.ensure_class(&class).await, Err(Error::Rejected(_))),
            "issuer took {slug:?}"
        );
        let key = AwardKey::new("ada", slug, 1);
        assert!(matches!(
            issuer.award(&request(key, class, vec![])).await,
            Err(Error::Rejected(_))
        ));
        // The rules refuse them at load too.
        assert!(RuleSet::from_toml(&format!("[[badge_class]]\nslug = {slug:?}\n")).is_err());
    }
}

#[tokio::test]
async fn learner_ids_and_course_keys_with_control_characters_are_refused() {
    let store = MemoryStore::new();
    let now = chrono::Utc::now();
    let award = |learner: &str| {
        PendingAward::new(
            AwardKey::new(learner, "b", 1),
            Recipient::new(learner, "x@example.org"),
            vec![],
            "r",
            now,
        )
    };
    for learner in ["a\nb", "a\u{1f}b", "", "a b", &"x".repeat(256)] {
        assert!(
            matches!(
                store.claim(award(learner), now).await,
                Err(Error::Rejected(_))
            ),
            "{learner:?}"
        );
    }
    assert!(matches!(
        store.claim(award("ab"), now).await,
        Ok(Claim::Won(_))
    ));
    let class = BadgeClassRecord::new("c", "n", "d", "c", png()).for_course("course\nx", None);
    assert!(matches!(
        store.get_or_create_class(class).await,
        Err(Error::Rejected(_))
    ));
}

#[test]
fn a_base_url_with_a_query_or_fragment_is_refused() {
    for base in [
        "https://lms.example.org/ob/?tenant=1",
        "https://lms.example.org/ob/#x",
        "ftp://lms.example.org/ob/",
    ] {
        assert!(UrlScheme::new(base).is_err(), "{base}");
    }
    assert!(UrlScheme::new("https://lms.example.org/ob").is_ok());
}

#[tokio::test]
async fn evidence_urls_must_be_http() {
    let issuer = issuer();
    let class = BadgeClassRecord::new("rust", "n", "d", "c", png());
    for url in ["javascript:alert(1)", "file:///etc/passwd", "not a url"] {
        let result = issuer
            .award(&request(
                AwardKey::new("ada", "rust", 1),
                class.clone(),
                vec![EvidenceItem::url(url)],
            ))
            .await;
        assert!(
            matches!(&result, Err(Error::Rejected(m)) if m.contains("evidence URL")),
            "{url}: {result:?}"
        );
    }
    let fine = issuer
        .award(&request(
            AwardKey::new("ada", "rust", 1),
            class,
            vec![EvidenceItem::url("https://lms.example.org/cert/1")],
        ))
        .await;
    assert!(fine.is_ok(), "{fine:?}");
}

#[tokio::test]
async fn dates_past_the_year_9999_are_refused_when_issuing() {
    let issuer = issuer();
    // Past 9999, and past what chrono can add (which panicked before).
    for days in [3_000_000, u32::MAX] {
        let class = BadgeClassRecord::new("rust", "n", "d", "c", png())
            .with_expiry(badgery::backend::Expiry::AfterDays(days));
        let result = issuer
            .award(&request(AwardKey::new("ada", "rust", 1), class, vec![]))
            .await;
        assert!(
            matches!(&result, Err(Error::Rejected(m)) if m.contains("9999")),
            "{days}: {result:?}"
        );
    }
    let mut late = request(
        AwardKey::new("ada", "rust", 1),
        BadgeClassRecord::new("rust", "n", "d", "c", png()),
        vec![],
    );
    late.issued_on = "+10000-01-01T00:00:00Z".parse().unwrap();
    assert!(matches!(issuer.award(&late).await, Err(Error::Rejected(_))));
}

proptest::proptest! {
    /// The rules and the stores hold slugs to one grammar: a rule set can name only classes a
    /// store can keep, and a store refuses no slug the rules accept. Strings drawn near the
    /// grammar's edges (its alphabet, a few characters outside it, up to 300 bytes).
    #[test]
    fn the_rules_and_the_stores_accept_the_same_slugs(
        slug in "[a-z0-9_A-Z./ -]{0,4}|[a-z0-9_-]{250,260}|[a-z0-9_\\-é]{0,300}"
    ) {
        proptest::prop_assert_eq!(
            badgery::rules::is_valid_slug(&slug),
            badgery::backend::check_slug(&slug).is_ok(),
            "{:?}", slug
        );
    }
}
