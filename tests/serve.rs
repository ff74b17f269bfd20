//! Serving the hosted issuer's documents from a store: every URL the issuer lists answers
//! what `HostedIssuer::documents` says, revoked ones answer 410, and anything else 404.

#![allow(clippy::unwrap_used)] // A test's helpers may panic: that is how a test fails.

#[path = "support/hosted.rs"]
mod hosted;

use badgery::backend::{
    AssertionRepository, AwardKey, AwardLedger, AwardRequest, BadgeBackend, BadgeClassRecord,
    ClassCatalog, ClassImage, ImageFormat, IssuedAssertion, MemoryStore, PendingAward, Recipient,
};
use badgery::model::jws::{Algorithm, SigningKey};
use badgery::{HostedIssuer, Route, ServedDocument, UrlScheme};
use chrono::Utc;

fn classes() -> [BadgeClassRecord; 2] {
    let svg = ClassImage {
        format: ImageFormat::Svg,
        bytes: include_bytes!("../examples/images/capstone.svg").to_vec(),
    };
    [
        BadgeClassRecord::new("rust-101", "Rust 101", "Did it.", "Do it.", hosted::png()),
        BadgeClassRecord::new("capstone", "Capstone", "Did it.", "Do it.", svg),
    ]
}

/// Issues `learner` each class through `issuer` into `store`, as the engine does.
async fn issue(store: &MemoryStore, issuer: &HostedIssuer, learner: &str) -> Vec<IssuedAssertion> {
    let mut issued = Vec::new();
    for class in classes() {
        store.get_or_create_class(class.clone()).await.unwrap();
        let key = AwardKey::new(learner, &class.slug, 1);
        let recipient = Recipient::new(learner, format!("{learner}@example.org"));
        let pending = PendingAward::new(key.clone(), recipient.clone(), vec![], "t", Utc::now());
        store.claim(pending, Utc::now()).await.unwrap();
        let request: AwardRequest = serde_json::from_value(serde_json::json!({
            "key": key, "class": class, "recipient": recipient, "evidence": [],
            "narrative": null, "issued_on": "2026-01-01T00:00:00Z",
        }))
        .unwrap();
        let assertion = issuer.award(&request).await.unwrap();
        store.complete(assertion.clone()).await.unwrap();
        issued.push(assertion);
    }
    issued
}

fn same(served: &ServedDocument, listed: &ServedDocument) {
    assert_eq!(
        (served.status, served.content_type, &served.body),
        (listed.status, listed.content_type, &listed.body),
        "{}",
        listed.url
    );
}

async fn serves_what_it_lists(issuer: HostedIssuer) {
    let store = MemoryStore::new();
    let issued = issue(&store, &issuer, "ada").await;
    let [png_class, svg_class] = classes();
    for (a, class) in issued.iter().zip([&png_class, &svg_class]) {
        for listed in issuer.documents(a, class) {
            assert!(
                issuer.scheme().route(listed.url.as_str()).is_some(),
                "{}",
                listed.url
            );
            same(
                &issuer.serve(&store, listed.url.as_str()).await.unwrap(),
                &listed,
            );
        }
    }

    // Revoked: the assertion answers 410 with its revoked form, its image 410.
    let revoked = issuer.revoke(&issued[0], "Issued in error").await.unwrap();
    store.store_revoked(revoked.clone()).await.unwrap();
    let image_url = revoked.image_url.clone().unwrap();
    let image = issuer.serve(&store, &image_url).await.unwrap();
    assert_eq!(image.status, 410, "{image_url}");
    if issuer.is_signing() {
        let list = issuer
            .serve(&store, issuer.scheme().revocation_list().as_str())
            .await
            .unwrap();
        same(
            &list,
            &issuer.revocation_list(std::slice::from_ref(&revoked)),
        );
        let text = String::from_utf8(list.body).unwrap();
        assert!(
            text.contains(&revoked.id) && text.contains("Issued in error"),
            "{text}"
        );
        let key = issuer
            .serve(&store, issuer.scheme().key("k1").as_str())
            .await
            .unwrap();
        assert_eq!((key.status, key.content_type), (200, "application/ld+json"));
    } else {
        let doc = issuer.serve(&store, &revoked.id).await.unwrap();
        assert_eq!(doc.status, 410);
        let body: serde_json::Value = serde_json::from_slice(&doc.body).unwrap();
        assert_eq!(body["revoked"], true);
        let list = issuer
            .serve(&store, issuer.scheme().revocation_list().as_str())
            .await
            .unwrap();
        assert_eq!(list.status, 404, "a hosted issuer has no revocation list");
    }

    let base = "https://lms.example.org/ob/";
    for missing in [
        format!("{base}assertions/0123456789abcdef0123456789abcdef"),
        format!("{base}assertions/0123456789abcdef0123456789abcdef/image.png"),
        format!("{base}badges/nope"),
        format!("{base}badges/rust-101/image.svg"),
        format!("{base}keys/k9"),
        format!("{base}badges/rust-101/extra/path"),
        format!("{base}assertions/a%2Fb"),
        format!("{base}assertions/abc/image.png"),
        format!("{base}assertions/0123456789abcdef0123456789abcdeg/image.png"),
        "https://elsewhere.example.org/ob/issuer".to_owned(),
        "http://lms.example.org/ob/issuer".to_owned(),
        "not a url".to_owned(),
    ] {
        let doc = issuer.serve(&store, &missing).await.unwrap();
        assert_eq!(doc.status, 404, "{missing}");
    }
}

#[tokio::test]
async fn a_hosted_issuer_serves_what_it_lists_from_the_store() {
    serves_what_it_lists(hosted::issuer()).await;
}

#[tokio::test]
async fn a_signing_issuer_serves_what_it_lists_and_its_revocation_list() {
    let key = SigningKey::generate(Algorithm::Es256).unwrap();
    serves_what_it_lists(hosted::issuer().signing_with("k1", key).unwrap()).await;
}

#[test]
fn every_url_a_scheme_mints_routes_back_to_its_document() {
    let scheme = UrlScheme::new("https://lms.example.org/ob").unwrap();
    let slug = || "rust-101".to_owned();
    let token = || "0123456789abcdef0123456789abcdef".to_owned();
    let cases = [
        (scheme.issuer(), Route::Issuer),
        (scheme.revocation_list(), Route::RevocationList),
        (
            scheme.badge_class("rust-101"),
            Route::BadgeClass { slug: slug() },
        ),
        (
            scheme.badge_class_image("rust-101", ImageFormat::Svg),
            Route::BadgeClassImage {
                slug: slug(),
                format: ImageFormat::Svg,
            },
        ),
        (
            scheme.assertion(&token()),
            Route::Assertion { token: token() },
        ),
        (
            scheme.assertion_image(&token(), ImageFormat::Png),
            Route::AssertionImage {
                token: token(),
                format: ImageFormat::Png,
            },
        ),
        (
            scheme.key("k1"),
            Route::Key {
                name: "k1".to_owned(),
            },
        ),
    ];
    for (url, route) in cases {
        assert_eq!(scheme.route(url.as_str()), Some(route), "{url}");
    }
    assert_eq!(scheme.route("https://lms.example.org/issuer"), None);
    assert_eq!(
        scheme.route("https://lms.example.org/ob/badges/a/image.gif"),
        None
    );
}
