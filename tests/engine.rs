//! The awarding engine and the hosted issuer: the Open edX redesign proposal's use cases,
//! exactly-once issuing under concurrency, fault injection and restarts, permanent failures,
//! notifications, revocation, and the documents the host serves.

#![allow(clippy::unwrap_used)] // A test's helpers may panic: that is how a test fails.

#[path = "../examples/award_flow/platform.rs"]
#[allow(dead_code)]
mod platform;

#[path = "support/hosted.rs"]
mod hosted;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use badgery::backend::{
    AssertionFilter, AssertionRepository, AwardLedger, AwardRequest, AwardState, BadgeBackend,
    BadgeClassRecord, ClassCatalog, ClassImage, Error as BackendError, Expiry, ImageFormat,
    IssuedAssertion, MemoryStore,
};
use badgery::model::validate::{DocumentSet, Options, validate};
use badgery::rules::{ClassRule, Event, RuleSet};
use badgery::{
    AutoClasses, CourseInfo, Engine, Error, HostedRecord, Outcome, RetryPolicy, StaticDirectory,
};
use hosted::{issuer, png};

const RUST: &str = "course-v1:Org+Rust+2026";
const PY: &str = "course-v1:Org+Py+2026";

fn directory() -> StaticDirectory {
    StaticDirectory::new()
        .learner("ada", "ada@example.org")
        .learner("bob", "bob@example.org")
        .certificate("ada", RUST, "https://lms.example.org/cert/0d5f9c-rust")
        .certificate("ada", PY, "https://lms.example.org/cert/0d5f9c-py")
}

fn cert(learner: &str, course: &str) -> Event {
    Event::from_json(&format!(
        r#"{{"event":"certificate","learner":"{learner}","course":"{course}","passed":true}}"#
    ))
    .unwrap()
}

fn enrolled(learner: &str, course: &str, mode: &str) -> Event {
    Event::from_json(&format!(
        r#"{{"event":"enrolled","learner":"{learner}","course":"{course}","mode":"{mode}"}}"#
    ))
    .unwrap()
}

fn issued(outcomes: &[Outcome]) -> Vec<String> {
    outcomes
        .iter()
        .filter_map(|o| match o {
            Outcome::Issued(a) => Some(a.key.slug.clone()),
            _ => None,
        })
        .collect()
}

/// A backend standing in for Badgr: ids of its own for classes, counting creations.
#[derive(Debug, Default)]
struct RecordingBackend {
    created: Mutex<Vec<String>>,
    awards: Mutex<Vec<String>>,
}

#[async_trait]
impl BadgeBackend for RecordingBackend {
    fn name(&self) -> &str {
        "recording"
    }
    async fn ensure_class(&self, class: &BadgeClassRecord) -> Result<String, BackendError> {
        self.created.lock().unwrap().push(class.slug.clone());
        Ok(format!("entity-{}", class.slug.len()))
    }
    async fn award(&self, request: &AwardRequest) -> Result<IssuedAssertion, BackendError> {
        self.awards.lock().unwrap().push(format!(
            "{}:{}",
            request.key.slug,
            request.class.backend_id.clone().unwrap_or_default()
        ));
        if request.recipient.email.ends_with("@rejected.example") {
            return Err(BackendError::Rejected(
                "recipient refused by the service".into(),
            ));
        }
        Ok(IssuedAssertion {
            id: format!(
                "https://badges.example.net/a/{}",
                request.key.idempotency_key().len()
            ),
            key: request.key.clone(),
            issuing_component: request.class.issuing_component.clone(),
            course: request.class.course.clone(),
            backend: "recording".into(),
            issued_on: request.issued_on,
            image_url: None,
            data: serde_json::json!({"evidence": request.evidence.iter().map(|e| (e.url.clone(), e.narrative.clone())).collect::<Vec<_>>()}),
            baked_image: None,
            revoked: None,
        })
    }
    async fn revoke(
        &self,
        assertion: &IssuedAssertion,
        reason: &str,
    ) -> Result<IssuedAssertion, BackendError> {
        if reason == "while the service is down" {
            let refused = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
            return Err(BackendError::unavailable_from("POST /revoke", refused));
        }
        let mut a = assertion.clone();
        a.revoked = Some(reason.into());
        Ok(a)
    }
}

/// A failed backend call reaches the host as the backend's own error, with its source.
#[tokio::test]
async fn a_backend_error_reaches_the_host_with_its_source() {
    let rules = RuleSet::new(vec![ClassRule::course_completion("rust", RUST, None)]).unwrap();
    let store = Arc::new(MemoryStore::new());
    let engine = Engine::new(
        rules,
        store.clone(),
        Arc::new(RecordingBackend::default()),
        Arc::new(directory()),
    );
    engine
        .register_classes(vec![
            BadgeClassRecord::new("rust", "Rust", "d", "c", png()).for_course(RUST, None),
        ])
        .await
        .unwrap();
    let id = match &engine.handle(&cert("ada", RUST)).await.unwrap()[..] {
        [Outcome::Issued(a)] => a.id.clone(),
        other => panic!("not issued: {other:?}"),
    };
    let err = engine
        .revoke(&id, "while the service is down")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Backend(BackendError::Unavailable { .. })),
        "{err:?}"
    );
    let mut causes = Vec::new();
    let mut cause = std::error::Error::source(&err);
    while let Some(c) = cause {
        causes.push(c.to_string());
        cause = c.source();
    }
    assert_eq!(
        causes,
        ["refused"],
        "the transport's error is kept: {err:?}"
    );
}

/// Use case 1: a class for a course and (optional) mode, awarded on a certificate in that
/// course and mode; a class without mode catches the other modes.
#[tokio::test]
async fn use_case_1_course_and_mode_classes() {
    let rules = RuleSet::new(vec![
        ClassRule::course_completion("rust-verified", RUST, Some("verified")),
        ClassRule::course_completion("rust", RUST, None),
    ])
    .unwrap();
    let engine = Engine::new(
        rules,
        Arc::new(MemoryStore::new()),
        Arc::new(issuer()),
        Arc::new(directory()),
    );
    engine
        .register_classes(vec![
            BadgeClassRecord::new("rust-verified", "Rust verified", "d", "c", png())
                .for_course(RUST, Some("verified")),
            BadgeClassRecord::new("rust", "Rust", "d", "c", png()).for_course(RUST, None),
        ])
        .await
        .unwrap();
    engine
        .handle(&enrolled("ada", RUST, "verified"))
        .await
        .unwrap();
    assert_eq!(
        issued(&engine.handle(&cert("ada", RUST)).await.unwrap()),
        ["rust-verified"]
    );
    engine
        .handle(&enrolled("bob", RUST, "honor"))
        .await
        .unwrap();
    assert_eq!(
        issued(&engine.handle(&cert("bob", RUST)).await.unwrap()),
        ["rust"]
    );
}

/// A class record must be for the course and mode the rules award it for: a disagreement is
/// refused, naming both, whether the record is new (nothing is stored) or was stored before.
#[tokio::test]
async fn a_class_record_for_another_course_than_its_rule_is_refused() {
    let store = Arc::new(MemoryStore::new());
    let rules = RuleSet::new(vec![ClassRule::course_completion("rust", RUST, None)]).unwrap();
    let engine = Engine::new(
        rules.clone(),
        store.clone(),
        Arc::new(issuer()),
        Arc::new(directory()),
    );
    let other = "course-v1:Academy+Go+2026";
    let error = engine
        .register_classes(vec![
            BadgeClassRecord::new("rust", "Rust", "d", "c", png()).for_course(other, None),
        ])
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Config(_)), "{error:?}");
    let message = error.to_string();
    assert!(
        message.contains("badge class rust")
            && message.contains(&format!("course {RUST} (any mode)"))
            && message.contains(&format!("course {other} (any mode)")),
        "{message}"
    );
    assert!(store.class("rust").await.unwrap().is_none());

    // Stored before, by a host that registered it without these rules: kept as it is, and
    // still refused.
    store
        .get_or_create_class(
            BadgeClassRecord::new("rust", "Rust", "d", "c", png()).for_course(RUST, Some("audit")),
        )
        .await
        .unwrap();
    let error = engine
        .register_classes(vec![
            BadgeClassRecord::new("rust", "Rust", "d", "c", png()).for_course(RUST, None),
        ])
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains(&format!("course {RUST}, mode audit")),
        "{error}"
    );
}

/// The rules are where a class's course and mode are written: a record that names none takes
/// them from its rule, and the course then resolves to it.
#[tokio::test]
async fn a_class_record_without_a_course_takes_its_rules() {
    let store = Arc::new(MemoryStore::new());
    let rules = RuleSet::new(vec![ClassRule::course_completion(
        "rust-verified",
        RUST,
        Some("verified"),
    )])
    .unwrap();
    let engine = Engine::new(
        rules,
        store.clone(),
        Arc::new(issuer()),
        Arc::new(directory()),
    );
    engine
        .register_classes(vec![BadgeClassRecord::new(
            "rust-verified",
            "Rust",
            "d",
            "c",
            png(),
        )])
        .await
        .unwrap();
    let stored = store.class("rust-verified").await.unwrap().unwrap();
    assert_eq!(
        (stored.course.as_deref(), stored.mode.as_deref()),
        (Some(RUST), Some("verified"))
    );
    let event = Event::from_json(&format!(
        r#"{{"event":"certificate","learner":"ada","course":"{RUST}","mode":"verified","passed":true}}"#
    ))
    .unwrap();
    assert_eq!(
        issued(&engine.handle(&event).await.unwrap()),
        ["rust-verified"]
    );
}

/// Use cases 2, 3 and 5: classes without course for count, enrollment and group rules, keyed
/// by slug; a class with no backend id is created in the backend on first award and its id
/// stored apart from the slug; later awards use that id.
#[tokio::test]
async fn use_cases_2_3_5_slug_keyed_classes_created_in_the_backend() {
    let rules = RuleSet::new(vec![ClassRule::new("two"), ClassRule::new("both")])
        .unwrap()
        .with_openedx_fields("2,two", "", &format!("both,{RUST},{PY}"))
        .unwrap();
    let store = Arc::new(MemoryStore::new());
    let backend = Arc::new(RecordingBackend::default());
    let engine = Engine::new(rules, store.clone(), backend.clone(), Arc::new(directory()));
    engine
        .register_classes(vec![
            BadgeClassRecord::new("two", "Two", "d", "c", png()),
            BadgeClassRecord::new("both", "Both", "d", "c", png()),
        ])
        .await
        .unwrap();
    assert!(engine.handle(&cert("ada", RUST)).await.unwrap().is_empty());
    let outcomes = engine.handle(&cert("ada", PY)).await.unwrap();
    assert_eq!(issued(&outcomes), ["two", "both"]);
    assert_eq!(
        *backend.created.lock().unwrap(),
        ["two", "both"],
        "each class created in the backend once, on first award"
    );
    assert_eq!(
        store
            .class("two")
            .await
            .unwrap()
            .unwrap()
            .backend_id
            .as_deref(),
        Some("entity-3")
    );
    engine.handle(&cert("bob", RUST)).await.unwrap();
    engine.handle(&cert("bob", PY)).await.unwrap();
    assert_eq!(
        backend.created.lock().unwrap().len(),
        2,
        "not created again"
    );
    assert!(
        backend
            .awards
            .lock()
            .unwrap()
            .iter()
            .all(|a| a.contains(":entity-")),
        "awards use the backend's ids"
    );
    // Count badges carry narrative evidence, never an empty URL.
    let a = store
        .assertions_for(
            "ada",
            &AssertionFilter::openedx(Some("two"), Some(""), None),
        )
        .await
        .unwrap();
    assert_eq!(
        a[0].data["evidence"][0],
        serde_json::json!([null, "2 courses completed, threshold 2"])
    );
}

/// Use case 4: badges on a course with no class: the class is created on first award from
/// the course's name, the mode and the image for that mode (or the default image).
#[tokio::test]
async fn use_case_4_classes_created_on_first_award() {
    let rules = RuleSet::new(vec![]).unwrap().with_auto_course_completion();
    let store = Arc::new(MemoryStore::new());
    let mut info = CourseInfo::new("Rust for Everyone");
    info.about_url = Some("https://lms.example.org/rust/about".into());
    let dir = directory().course(RUST, info);
    let verified = ClassImage {
        format: ImageFormat::Png,
        bytes: include_bytes!("../examples/images/course-verified.png").to_vec(),
    };
    let engine = Engine::new(rules, store.clone(), Arc::new(issuer()), Arc::new(dir))
        .with_auto_classes(
            AutoClasses::with_default_image(png()).mode_image("verified", verified.clone()),
        );
    engine
        .handle(&enrolled("ada", RUST, "verified"))
        .await
        .unwrap();
    let outcomes = engine.handle(&cert("ada", RUST)).await.unwrap();
    let slug = badgery::rules::course_slug(RUST, "verified");
    assert_eq!(issued(&outcomes), std::slice::from_ref(&slug));
    let class = store.class(&slug).await.unwrap().unwrap();
    assert_eq!(
        (class.name.as_str(), class.description.as_str()),
        (
            "Rust for Everyone",
            "Completed the course \"Rust for Everyone\" (verified)"
        )
    );
    assert_eq!(
        (
            class.course.as_deref(),
            class.mode.as_deref(),
            class.image.clone()
        ),
        (Some(RUST), Some("verified"), verified)
    );
    assert_eq!(
        class.criteria_url.as_deref(),
        Some("https://lms.example.org/rust/about")
    );
    // Another mode gets its own class with the default image; the first is not altered.
    engine
        .handle(&enrolled("bob", RUST, "honor"))
        .await
        .unwrap();
    engine.handle(&cert("bob", RUST)).await.unwrap();
    assert_eq!(
        store
            .class(&badgery::rules::course_slug(RUST, "honor"))
            .await
            .unwrap()
            .unwrap()
            .image,
        png()
    );
    assert_eq!(store.class(&slug).await.unwrap().unwrap(), class);
    // Off by default: without the engine option the award fails for want of a class.
    let rules = RuleSet::new(vec![]).unwrap().with_auto_course_completion();
    let engine = Engine::new(
        rules,
        Arc::new(MemoryStore::new()),
        Arc::new(issuer()),
        Arc::new(directory()),
    );
    assert!(matches!(
        &engine.handle(&cert("ada", PY)).await.unwrap()[..],
        [Outcome::Failed { .. }]
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_events_for_one_learner_never_double_award() {
    for round in 0..10 {
        let rules = RuleSet::new(vec![
            ClassRule::course_completion("rust", RUST, None),
            ClassRule::new("two"),
        ])
        .unwrap()
        .with_openedx_fields("2,two", "", "")
        .unwrap();
        let store = Arc::new(MemoryStore::new());
        let engine = Arc::new(Engine::new(
            rules,
            store.clone(),
            Arc::new(issuer()),
            Arc::new(directory()),
        ));
        engine
            .register_classes(vec![
                BadgeClassRecord::new("rust", "Rust", "d", "c", png()).for_course(RUST, None),
                BadgeClassRecord::new("two", "Two", "d", "c", png()),
            ])
            .await
            .unwrap();
        // 32 tasks deliver the same two certificates, duplicated, at once.
        let tasks: Vec<_> = (0..32)
            .map(|i| {
                let engine = Arc::clone(&engine);
                tokio::spawn(async move {
                    engine
                        .handle(&cert("ada", if i % 2 == 0 { RUST } else { PY }))
                        .await
                        .unwrap()
                })
            })
            .collect();
        let mut count = 0;
        for t in tasks {
            count += issued(&t.await.unwrap()).len();
        }
        let stored = store
            .assertions_for("ada", &AssertionFilter::all())
            .await
            .unwrap();
        assert_eq!(
            (count, stored.len()),
            (2, 2),
            "round {round}: each badge exactly once"
        );
    }
}

/// Failure rates up to 50% and a restart midway: nothing lost, nothing duplicated, and the
/// same awards as without failures.
#[tokio::test]
async fn fault_injection_and_restart_lose_and_duplicate_nothing() {
    let clean = platform::run(
        Arc::new(MemoryStore::new()),
        None,
        0.0,
        1,
        platform::Issuing::Hosted(None),
    )
    .await;
    assert!(clean.problems.is_empty(), "{:#?}", clean.problems);
    let table = |r: &platform::Report| {
        r.rows
            .iter()
            .map(|row| {
                (
                    row.learner.clone(),
                    row.slug.clone(),
                    row.sequence,
                    row.rule.clone(),
                )
            })
            .collect::<Vec<_>>()
    };
    let mut lost_responses = 0;
    for rate in [0.1, 0.2, 0.3, 0.4, 0.5] {
        for seed in 1..=4 {
            let report = platform::run(
                Arc::new(MemoryStore::new()),
                None,
                rate,
                seed,
                platform::Issuing::Hosted(None),
            )
            .await;
            assert!(
                report.problems.is_empty(),
                "rate {rate} seed {seed}: {:#?}",
                report.problems
            );
            assert_eq!(report.restarts, 1);
            assert_eq!(
                table(&report),
                table(&clean),
                "rate {rate} seed {seed}: the awards differ"
            );
            lost_responses += report.lost_responses;
        }
    }
    assert!(
        lost_responses > 20,
        "the runs exercised lost responses ({lost_responses})"
    );
}

#[tokio::test]
async fn retries_back_off_and_permanent_failures_are_kept_with_their_reason() {
    #[derive(Debug)]
    struct Down;
    #[async_trait]
    impl BadgeBackend for Down {
        fn name(&self) -> &str {
            "down"
        }
        async fn ensure_class(&self, _: &BadgeClassRecord) -> Result<String, BackendError> {
            Err(BackendError::unavailable("503"))
        }
        async fn award(&self, _: &AwardRequest) -> Result<IssuedAssertion, BackendError> {
            Err(BackendError::unavailable("503"))
        }
        async fn revoke(
            &self,
            a: &IssuedAssertion,
            _: &str,
        ) -> Result<IssuedAssertion, BackendError> {
            Ok(a.clone())
        }
    }
    let rules = RuleSet::new(vec![ClassRule::course_completion("rust", RUST, None)]).unwrap();
    let store = Arc::new(MemoryStore::new());
    let t0 = chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
        .unwrap()
        .to_utc();
    let clock = Arc::new(Mutex::new(t0));
    let now = {
        let c = clock.clone();
        Arc::new(move || *c.lock().unwrap())
    };
    let mut policy = RetryPolicy::default();
    policy.first = chrono::Duration::seconds(10);
    policy.max_delay = chrono::Duration::seconds(60);
    policy.max_attempts = 4;
    assert_eq!(
        [1, 2, 3, 4, 5].map(|n| policy.delay(n).num_seconds()),
        [10, 20, 40, 60, 60]
    );
    let seen = Arc::new(Mutex::new(Vec::new()));
    let notes = seen.clone();
    let engine = Engine::new(
        rules,
        store.clone(),
        Arc::new(Down),
        Arc::new(directory().learner("zed", "  ")),
    )
    .with_retry(policy)
    .with_clock(now)
    .with_notifier(Arc::new(move |o: &Outcome| {
        notes.lock().unwrap().push(
            format!("{o:?}")
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_owned(),
        )
    }));
    engine
        .register_classes(vec![
            BadgeClassRecord::new("rust", "Rust", "d", "c", png()).for_course(RUST, None),
        ])
        .await
        .unwrap();
    let first = engine.handle(&cert("ada", RUST)).await.unwrap();
    let Outcome::Deferred { next_attempt, .. } = &first[0] else {
        panic!("{first:?}")
    };
    assert_eq!(*next_attempt, t0 + chrono::Duration::seconds(10));
    assert!(
        engine.retry_pending().await.unwrap().is_empty(),
        "not due yet"
    );
    for _ in 0..3 {
        *clock.lock().unwrap() += chrono::Duration::seconds(61);
        engine.retry_pending().await.unwrap();
    }
    let kept = store.unissued().await.unwrap();
    assert!(
        matches!(&kept[0].state, AwardState::Failed { reason } if reason.contains("gave up after 4 attempts") && reason.contains("503")),
        "{kept:?}"
    );
    // A learner without an email address (blank counts as none): the award waits for one.
    let out = engine.handle(&cert("zed", RUST)).await.unwrap();
    assert!(
        matches!(&out[0], Outcome::Deferred { error, .. } if error == "no email address for learner zed yet"),
        "{out:?}"
    );
    assert_eq!(
        *seen.lock().unwrap(),
        ["Deferred", "Deferred", "Deferred", "Failed", "Deferred"]
    );
    // A service's rejection is permanent at once.
    let backend = Arc::new(RecordingBackend::default());
    let rules = RuleSet::new(vec![ClassRule::course_completion("rust", RUST, None)]).unwrap();
    let engine = Engine::new(
        rules,
        Arc::new(MemoryStore::new()),
        backend,
        Arc::new(directory().learner("rex", "rex@rejected.example")),
    );
    engine
        .register_classes(vec![
            BadgeClassRecord::new("rust", "Rust", "d", "c", png()).for_course(RUST, None),
        ])
        .await
        .unwrap();
    assert!(
        matches!(&engine.handle(&cert("rex", RUST)).await.unwrap()[0], Outcome::Failed { reason, .. } if reason.contains("refused"))
    );
}

/// With a zero retry delay a failing award is due again at once: one `retry_pending` call
/// must still try it only once and return.
#[tokio::test]
async fn retry_pending_terminates_with_a_zero_delay() {
    let rules = RuleSet::new(vec![ClassRule::course_completion("rust", RUST, None)]).unwrap();
    let backend = Arc::new(badgery::fault::FlakyBackend::new(issuer(), 1.0, 9));
    let mut policy = RetryPolicy::default();
    policy.first = chrono::Duration::zero();
    policy.max_delay = chrono::Duration::zero();
    let engine = Engine::new(
        rules,
        Arc::new(MemoryStore::new()),
        backend.clone(),
        Arc::new(directory()),
    )
    .with_retry(policy);
    engine
        .register_classes(vec![
            BadgeClassRecord::new("rust", "Rust", "d", "c", png()).for_course(RUST, None),
        ])
        .await
        .unwrap();
    assert!(matches!(
        &engine.handle(&cert("ada", RUST)).await.unwrap()[..],
        [Outcome::Deferred { .. }]
    ));
    let calls = backend.stats().calls;
    let outcomes = engine.retry_pending().await.unwrap();
    assert_eq!(outcomes.len(), 1, "tried once");
    assert_eq!(backend.stats().calls, calls + 1);
}

#[tokio::test]
async fn class_images_are_checked_when_classes_are_created() {
    let engine = Engine::new(
        RuleSet::default(),
        Arc::new(MemoryStore::new()),
        Arc::new(issuer()),
        Arc::new(directory()),
    );
    let oblong = include_bytes!("../crates/bake/tests/data/pngsuite/s32i3p04.png");
    let mut wide = oblong.to_vec();
    wide[16..20].copy_from_slice(&64u32.to_be_bytes());
    let bad = [
        (
            ClassImage {
                format: ImageFormat::Png,
                bytes: b"GIF89a....".to_vec(),
            },
            "neither a PNG nor an SVG",
        ),
        (
            ClassImage {
                format: ImageFormat::Png,
                bytes: wide,
            },
            "CRC mismatch",
        ),
        (
            ClassImage {
                format: ImageFormat::Png,
                bytes: [
                    include_bytes!("../examples/images/rust.png").as_slice(),
                    &[0u8; 300 * 1024],
                ]
                .concat(),
            },
            "over the limit",
        ),
        (
            ClassImage {
                format: ImageFormat::Svg,
                bytes: include_bytes!("../examples/images/rust.png").to_vec(),
            },
            "declared image/svg+xml",
        ),
        (
            ClassImage {
                format: ImageFormat::Svg,
                bytes: b"<svg><g></svg>".to_vec(),
            },
            "malformed SVG",
        ),
    ];
    for (image, expected) in bad {
        let err = engine
            .register_classes(vec![BadgeClassRecord::new("x", "X", "d", "c", image)])
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Error::InvalidImage(m) if m.contains(expected) && m.contains("badge class x")),
            "{err}"
        );
    }
    assert!(
        engine.store().classes().await.unwrap().is_empty(),
        "a rejected class is not stored"
    );
}

#[tokio::test]
async fn hosted_documents_validate_expire_and_revoke() {
    let rules = RuleSet::new(vec![
        ClassRule::course_completion("rust", RUST, None),
        ClassRule::course_completion("py", PY, None),
    ])
    .unwrap();
    let store = Arc::new(MemoryStore::new());
    let issuer = issuer();
    let engine = Engine::new(
        rules,
        store.clone(),
        Arc::new(issuer.clone()),
        Arc::new(directory()),
    );
    let fixed = chrono::DateTime::parse_from_rfc3339("2099-01-01T00:00:00Z")
        .unwrap()
        .to_utc();
    engine
        .register_classes(vec![
            BadgeClassRecord::new("rust", "Rust", "d", "c", png())
                .for_course(RUST, None)
                .with_expiry(Expiry::AfterDays(365)),
            BadgeClassRecord::new(
                "py",
                "Py",
                "d",
                "c",
                ClassImage {
                    format: ImageFormat::Svg,
                    bytes: include_bytes!("../examples/images/capstone.svg").to_vec(),
                },
            )
            .for_course(PY, None)
            .with_expiry(Expiry::At(fixed)),
        ])
        .await
        .unwrap();
    let mut docs = HashMap::new();
    for course in [RUST, PY] {
        let out = engine.handle(&cert("ada", course)).await.unwrap();
        let Outcome::Issued(a) = &out[0] else {
            panic!("{out:?}")
        };
        let class = store.class(&a.key.slug).await.unwrap().unwrap();
        for d in issuer.documents(a, &class) {
            docs.insert(d.url.to_string(), d);
        }
        let assertion = &HostedRecord::of(a).unwrap().assertion.unwrap();
        let issued = chrono::DateTime::parse_from_rfc3339(assertion["issuedOn"].as_str().unwrap())
            .unwrap()
            .to_utc();
        let expires = chrono::DateTime::parse_from_rfc3339(assertion["expires"].as_str().unwrap())
            .unwrap()
            .to_utc();
        let want = if course == RUST {
            issued + chrono::Duration::days(365)
        } else {
            fixed
        };
        assert_eq!(expires, want);
        assert_eq!(assertion["recipient"]["hashed"], true);
        assert_eq!(
            assertion["evidence"][0]["id"],
            if course == RUST {
                "https://lms.example.org/cert/0d5f9c-rust"
            } else {
                "https://lms.example.org/cert/0d5f9c-py"
            }
        );
        let baked =
            badgery::bake::unbake(&a.baked_image.as_ref().unwrap().bytes, &Default::default())
                .unwrap()
                .unwrap();
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(baked.as_str()).unwrap(),
            *assertion
        );
    }
    let mut served = DocumentSet::new();
    for d in docs
        .values()
        .filter(|d| d.content_type == "application/ld+json")
    {
        served.insert(serde_json::from_slice(&d.body).unwrap());
    }
    let assertions = store
        .assertions_for("ada", &AssertionFilter::all())
        .await
        .unwrap();
    for a in &assertions {
        let report = validate(
            &HostedRecord::of(a).unwrap().assertion.unwrap(),
            &served,
            &Options::default().with_recipient("ADA@example.org"),
        );
        assert!(report.is_valid(), "{report}");
    }
    assert_eq!(
        docs.len(),
        2 * 2 + 2 * 2 + 1,
        "per assertion: itself and its image; per class: itself and its image; the issuer"
    );
    // Revoking: the hosted assertion becomes {id, revoked, reason} served with 410 Gone.
    let revoked = engine
        .revoke(&assertions[0].id, "issued in error")
        .await
        .unwrap();
    let class = store.class(&revoked.key.slug).await.unwrap().unwrap();
    let served = issuer.documents(&revoked, &class);
    let doc = served
        .iter()
        .find(|d| d.url.as_str() == revoked.id)
        .unwrap();
    assert_eq!(doc.status, 410);
    let body: serde_json::Value = serde_json::from_slice(&doc.body).unwrap();
    assert_eq!(
        (body["revoked"].clone(), body["revocationReason"].clone()),
        (
            serde_json::json!(true),
            serde_json::json!("issued in error")
        )
    );
    assert!(
        !served.iter().any(
            |d| d.content_type.starts_with("image/") && d.url.as_str().contains("/assertions/")
        ),
        "no baked image once revoked"
    );
    assert_eq!(
        store
            .assertions_for("ada", &AssertionFilter::all())
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_store_passes_the_store_conformance_suite() {
    badgery::backend::conformance::check_store(|| async { MemoryStore::new() }).await;
    badgery::backend::conformance::check_progress_store(|| async { MemoryStore::new() }).await;
}
