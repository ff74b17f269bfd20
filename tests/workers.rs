//! Exactly-once with several workers over one store, backend timeouts and panics, and the
//! operator's path for awards that failed: reissue, deferred recipients, granting again.

#![allow(clippy::unwrap_used)] // A test's helpers may panic: that is how a test fails.

#[path = "support/hosted.rs"]
mod hosted;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use async_trait::async_trait;
use badgery::backend::{
    AwardKey, AwardLedger, AwardRequest, AwardState, BadgeBackend, BadgeClassRecord, BadgeStore,
    Error as BackendError, IssuedAssertion, MemoryStore,
};
use badgery::fault::FlakyBackend;
use badgery::rules::{ClassRule, Event, RuleSet};
use badgery::{CourseInfo, Directory, Engine, Outcome, RetryPolicy, StaticDirectory};
use hosted::{issuer, png};

const RUST: &str = "course-v1:Org+Rust+2026";

fn cert(learner: &str, course: &str) -> Event {
    Event::from_json(&format!(
        r#"{{"event":"certificate","learner":"{learner}","course":"{course}","passed":true}}"#
    ))
    .unwrap()
}

fn course(n: usize) -> String {
    format!("course-v1:Org+C{n}+2026")
}

fn zero_delay() -> RetryPolicy {
    let mut policy = RetryPolicy::default();
    policy.first = chrono::Duration::zero();
    policy.max_delay = chrono::Duration::zero();
    policy.max_attempts = 1000;
    policy
}

/// The hosted issuer, slowed down so that concurrent callers overlap inside a call.
#[derive(Debug)]
struct Slow<B>(B);

#[async_trait]
impl<B: BadgeBackend> BadgeBackend for Slow<B> {
    fn name(&self) -> &str {
        self.0.name()
    }
    async fn ensure_class(&self, class: &BadgeClassRecord) -> Result<String, BackendError> {
        tokio::time::sleep(StdDuration::from_millis(1)).await;
        self.0.ensure_class(class).await
    }
    async fn award(&self, request: &AwardRequest) -> Result<IssuedAssertion, BackendError> {
        tokio::time::sleep(StdDuration::from_millis(2)).await;
        self.0.award(request).await
    }
    async fn revoke(&self, a: &IssuedAssertion, r: &str) -> Result<IssuedAssertion, BackendError> {
        self.0.revoke(a, r).await
    }
}

/// Two engines (two app servers) over one store both receive every event and both run
/// `retry_pending` in a loop, while the backend fails 30 % of calls, half before the call and
/// half by losing the response after it succeeded: each award reaches the learner once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_engines_with_retry_loops_issue_each_award_exactly_once() {
    const LEARNERS: usize = 24;
    const COURSES: usize = 4;
    let classes: Vec<ClassRule> = (0..COURSES)
        .map(|c| ClassRule::course_completion(format!("c{c}"), course(c), None))
        .collect();
    let store = Arc::new(MemoryStore::new());
    let backend = Arc::new(FlakyBackend::new(Slow(issuer()), 0.3, 11));
    let mut directory = StaticDirectory::new();
    for l in 0..LEARNERS {
        directory = directory.learner(&format!("l{l}"), &format!("l{l}@example.org"));
    }
    let directory = Arc::new(directory);
    let notified: Arc<Mutex<HashMap<AwardKey, u32>>> = Arc::default();
    let engines: Vec<Arc<Engine>> = (0..2)
        .map(|_| {
            let notified = notified.clone();
            Arc::new(
                Engine::new(
                    RuleSet::new(classes.clone()).unwrap(),
                    store.clone(),
                    backend.clone(),
                    directory.clone(),
                )
                .with_retry(zero_delay())
                .with_notifier(Arc::new(move |o: &Outcome| {
                    if let Outcome::Issued(a) = o {
                        *notified.lock().unwrap().entry(a.key.clone()).or_default() += 1;
                    }
                })),
            )
        })
        .collect();
    engines[0]
        .register_classes(
            (0..COURSES)
                .map(|c| {
                    BadgeClassRecord::new(format!("c{c}"), "C", "d", "c", png())
                        .for_course(course(c), None)
                })
                .collect(),
        )
        .await
        .unwrap();
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let retriers: Vec<_> = engines
        .iter()
        .map(|engine| {
            let (engine, done) = (engine.clone(), done.clone());
            tokio::spawn(async move {
                while !done.load(Ordering::SeqCst) {
                    engine.retry_pending().await.unwrap();
                    tokio::task::yield_now().await;
                }
            })
        })
        .collect();
    let feeders: Vec<_> = engines
        .iter()
        .map(|engine| {
            let engine = engine.clone();
            tokio::spawn(async move {
                for l in 0..LEARNERS {
                    for c in 0..COURSES {
                        engine
                            .handle(&cert(&format!("l{l}"), &course(c)))
                            .await
                            .unwrap();
                    }
                }
            })
        })
        .collect();
    for f in feeders {
        f.await.unwrap();
    }
    // Let the retry loops finish what the failures left.
    for _ in 0..2000 {
        if store.unissued().await.unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(5)).await;
    }
    done.store(true, Ordering::SeqCst);
    for r in retriers {
        r.await.unwrap();
    }
    assert!(
        store.unissued().await.unwrap().is_empty(),
        "every award issued"
    );
    let stats = backend.stats();
    assert_eq!(stats.delivered.len(), LEARNERS * COURSES);
    let twice: Vec<_> = stats.delivered.iter().filter(|(_, n)| **n != 1).collect();
    assert!(
        twice.is_empty(),
        "assertions delivered more than once: {twice:?}"
    );
    let notified = notified.lock().unwrap();
    assert_eq!(notified.len(), LEARNERS * COURSES);
    assert!(
        notified.values().all(|n| *n == 1),
        "each learner notified once"
    );
    assert!(
        stats.failed_before > 10 && stats.lost_responses > 10,
        "the run exercised both kinds of failure: {stats:?}"
    );
}

/// Never answers the first `hang` award calls; then issues.
#[derive(Debug)]
struct Hanging {
    hang: u32,
    calls: AtomicU32,
    keys: Mutex<Vec<String>>,
}

#[async_trait]
impl BadgeBackend for Hanging {
    fn name(&self) -> &str {
        "hanging"
    }
    async fn ensure_class(&self, class: &BadgeClassRecord) -> Result<String, BackendError> {
        Ok(class.slug.clone())
    }
    async fn award(&self, request: &AwardRequest) -> Result<IssuedAssertion, BackendError> {
        self.keys
            .lock()
            .unwrap()
            .push(request.key.idempotency_key());
        if self.calls.fetch_add(1, Ordering::SeqCst) < self.hang {
            std::future::pending::<()>().await;
        }
        issuer().award(request).await
    }
    async fn revoke(&self, a: &IssuedAssertion, _: &str) -> Result<IssuedAssertion, BackendError> {
        Ok(a.clone())
    }
}

#[tokio::test]
async fn a_backend_call_that_hangs_times_out_and_is_retried_with_the_same_key() {
    let backend = Arc::new(Hanging {
        hang: 2,
        calls: AtomicU32::new(0),
        keys: Mutex::default(),
    });
    let engine = engine_with(
        backend.clone(),
        StaticDirectory::new().learner("ada", "ada@example.org"),
    )
    .with_backend_timeout(StdDuration::from_millis(50));
    register_rust(&engine).await;
    let out = engine.handle(&cert("ada", RUST)).await.unwrap();
    assert!(
        matches!(&out[..], [Outcome::Deferred { error, .. }] if error.contains("timed out")),
        "{out:?}"
    );
    let again = engine.retry_pending().await.unwrap();
    assert!(
        matches!(&again[..], [Outcome::Deferred { .. }]),
        "{again:?}"
    );
    let last = engine.retry_pending().await.unwrap();
    assert!(matches!(&last[..], [Outcome::Issued(_)]), "{last:?}");
    let keys = backend.keys.lock().unwrap();
    assert_eq!(keys.len(), 3);
    assert!(
        keys.iter().all(|k| *k == keys[0]),
        "one idempotency key: {keys:?}"
    );
}

fn engine_with(backend: Arc<dyn BadgeBackend>, directory: impl Directory + 'static) -> Engine {
    engine_over(Arc::new(MemoryStore::new()), backend, directory)
}

fn engine_over(
    store: Arc<dyn BadgeStore>,
    backend: Arc<dyn BadgeBackend>,
    directory: impl Directory + 'static,
) -> Engine {
    let rules = RuleSet::new(vec![
        ClassRule::course_completion("rust", RUST, None),
        ClassRule::course_completion("py", "course-v1:Org+Py+2026", None),
    ])
    .unwrap();
    Engine::new(rules, store, backend, Arc::new(directory)).with_retry(zero_delay())
}

async fn register_rust(engine: &Engine) {
    engine
        .register_classes(vec![
            BadgeClassRecord::new("rust", "Rust", "d", "c", png()).for_course(RUST, None),
        ])
        .await
        .unwrap();
}

/// Panics for learner `pan`; issues for everyone else.
#[derive(Debug)]
struct Panicking;

#[async_trait]
impl BadgeBackend for Panicking {
    fn name(&self) -> &str {
        "panicking"
    }
    async fn ensure_class(&self, class: &BadgeClassRecord) -> Result<String, BackendError> {
        Ok(class.slug.clone())
    }
    async fn award(&self, request: &AwardRequest) -> Result<IssuedAssertion, BackendError> {
        assert!(request.recipient.learner != "pan", "injected panic for pan");
        issuer().award(request).await
    }
    async fn revoke(&self, a: &IssuedAssertion, _: &str) -> Result<IssuedAssertion, BackendError> {
        Ok(a.clone())
    }
}

#[tokio::test]
async fn a_panicking_backend_or_notifier_loses_no_award() {
    let directory = StaticDirectory::new()
        .learner("pan", "pan@example.org")
        .learner("ada", "ada@example.org")
        .learner("bob", "bob@example.org");
    let mut policy = zero_delay();
    policy.max_attempts = 3;
    let engine = engine_with(Arc::new(Panicking), directory)
        .with_retry(policy)
        .with_notifier(Arc::new(|o: &Outcome| {
            assert!(
                !matches!(o, Outcome::Issued(a) if a.key.learner == "ada"),
                "notifier panic"
            );
        }));
    register_rust(&engine).await;
    let out = engine.handle(&cert("pan", RUST)).await.unwrap();
    assert!(
        matches!(&out[..], [Outcome::Deferred { error, .. }] if error.contains("panicked") && error.contains("injected panic for pan")),
        "a panic is a transient failure with its message: {out:?}"
    );
    // The notifier panics on ada's award: ada's award is recorded, bob's goes on.
    for learner in ["ada", "bob"] {
        let out = engine.handle(&cert(learner, RUST)).await.unwrap();
        assert!(
            matches!(&out[..], [Outcome::Issued(_)]),
            "{learner}: {out:?}"
        );
    }
    engine.retry_pending().await.unwrap();
    let out = engine.retry_pending().await.unwrap();
    assert!(
        matches!(&out[..], [Outcome::Failed { reason, .. }] if reason.contains("gave up after 3 attempts")),
        "the retry policy handles a panicking award: {out:?}"
    );
    let unissued = engine.store().unissued().await.unwrap();
    assert_eq!(unissued.len(), 1, "ada and bob issued: {unissued:?}");
}

/// A directory whose emails change while the engine runs.
#[derive(Debug, Default)]
struct LiveDirectory(Mutex<HashMap<String, String>>);

#[async_trait]
impl Directory for LiveDirectory {
    async fn email(&self, learner: &str) -> Option<String> {
        self.0.lock().unwrap().get(learner).cloned()
    }
    async fn course(&self, _: &str) -> Option<CourseInfo> {
        None
    }
}

#[tokio::test]
async fn an_award_without_an_email_waits_and_a_failed_award_can_be_reissued() {
    let directory = Arc::new(LiveDirectory::default());
    let store = Arc::new(MemoryStore::new());
    let engine = Engine::new(
        RuleSet::new(vec![
            ClassRule::course_completion("rust", RUST, None),
            ClassRule::course_completion("py", "course-v1:Org+Py+2026", None),
        ])
        .unwrap(),
        store.clone(),
        Arc::new(issuer()),
        directory.clone(),
    )
    .with_retry(zero_delay());
    register_rust(&engine).await;
    // No email yet: the award waits.
    let out = engine.handle(&cert("ada", RUST)).await.unwrap();
    assert!(matches!(&out[..], [Outcome::Deferred { .. }]), "{out:?}");
    assert!(matches!(
        &engine.retry_pending().await.unwrap()[..],
        [Outcome::Deferred { .. }]
    ));
    directory
        .0
        .lock()
        .unwrap()
        .insert("ada".into(), "ada@example.org".into());
    let out = engine.retry_pending().await.unwrap();
    assert!(matches!(&out[..], [Outcome::Issued(_)]), "{out:?}");
    // An event handled before its class was registered fails; once registered, the operator
    // reissues it.
    let out = engine
        .handle(&cert("ada", "course-v1:Org+Py+2026"))
        .await
        .unwrap();
    assert!(matches!(&out[..], [Outcome::Failed { .. }]), "{out:?}");
    let failed = engine.failed_awards().await.unwrap();
    assert!(
        matches!(&failed[..], [a] if matches!(&a.state, AwardState::Failed { reason } if reason.contains("badge class py is not in the store"))),
        "{failed:?}"
    );
    engine
        .register_classes(vec![
            BadgeClassRecord::new("py", "Py", "d", "c", png())
                .for_course("course-v1:Org+Py+2026", None),
        ])
        .await
        .unwrap();
    let out = engine.reissue_class("py").await.unwrap();
    assert!(
        matches!(&out[..], [Outcome::Issued(a)] if a.key == AwardKey::new("ada", "py", 1)),
        "{out:?}"
    );
    assert!(engine.failed_awards().await.unwrap().is_empty());
    assert!(
        engine
            .reissue(&AwardKey::new("ada", "py", 1))
            .await
            .is_err(),
        "an issued award is not reissued"
    );
}

#[tokio::test]
async fn a_revoked_award_is_granted_again_only_on_purpose() {
    let engine = engine_with(
        Arc::new(issuer()),
        StaticDirectory::new().learner("ada", "ada@example.org"),
    );
    register_rust(&engine).await;
    assert!(
        engine.grant_again("ada", "rust", "again").await.is_err(),
        "nothing to grant again before a first award"
    );
    let out = engine.handle(&cert("ada", RUST)).await.unwrap();
    let [Outcome::Issued(first)] = &out[..] else {
        panic!("{out:?}")
    };
    assert!(
        engine.grant_again("ada", "rust", "again").await.is_err(),
        "a held award is not granted again"
    );
    engine.revoke(&first.id, "issued in error").await.unwrap();
    assert!(
        engine
            .handle(&cert("ada", RUST))
            .await
            .unwrap()
            .iter()
            .all(|o| !matches!(o, Outcome::Issued(_))),
        "replaying the events never re-awards a revoked badge"
    );
    let again = engine
        .grant_again("ada", "rust", "re-examined and passed")
        .await
        .unwrap();
    let Outcome::Issued(second) = &again else {
        panic!("{again:?}")
    };
    assert_eq!(second.key, AwardKey::new("ada", "rust", 2));
    assert_ne!(second.id, first.id);
}

#[tokio::test]
async fn assertion_ids_are_keyed_by_the_issuers_secret() {
    let ids = |secret: &'static [u8]| async move {
        let engine = engine_with(
            Arc::new(hosted::issuer_with_secret(secret)),
            StaticDirectory::new().learner("ada", "ada@example.org"),
        );
        register_rust(&engine).await;
        match &engine.handle(&cert("ada", RUST)).await.unwrap()[..] {
            [Outcome::Issued(a)] => a.id.clone(),
            other => panic!("{other:?}"),
        }
    };
    let first = ids(b"the platform's secret, 32 bytes.").await;
    assert_eq!(
        first,
        ids(b"the platform's secret, 32 bytes.").await,
        "the same secret names an award the same (idempotent across restarts)"
    );
    assert_ne!(
        first,
        ids(b"another platform's secret, too..").await,
        "without the secret the id cannot be computed from the learner and class"
    );
    assert!(!first.contains("ada"));
    assert!(badgery::IdSecret::new(&b"short"[..]).is_err());
    assert_eq!(
        format!("{:?}", badgery::IdSecret::new(&[7; 16][..]).unwrap()),
        "IdSecret(..)",
        "the secret never shows in logs"
    );
}
