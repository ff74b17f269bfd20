//! What the engine tells `tracing`, in a test binary of its own (a global subscriber).

#![allow(clippy::unwrap_used)] // A test's helpers may panic: that is how a test fails.

#[path = "support/hosted.rs"]
mod hosted;

use std::sync::{Arc, Mutex};

use badgery::backend::{BadgeClassRecord, MemoryStore};
use badgery::fault::FlakyBackend;
use badgery::rules::{ClassRule, Event, RuleSet};
use badgery::{Engine, RetryPolicy, StaticDirectory};
use hosted::{issuer, png};

const RUST: &str = "course-v1:Org+Rust+2026";

/// What the engine tells `tracing`: each event, claim and backend call, never an email address.
#[tokio::test]
async fn tracing_covers_each_step_and_never_names_the_recipient() {
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    // Global, in a test binary of its own: tracing caches each callsite's interest, and a
    // thread-local subscriber misses callsites that another test's thread reached first.
    tracing::subscriber::set_global_default(subscriber).unwrap();
    let backend = Arc::new(FlakyBackend::new(issuer(), 1.0, 3));
    let mut retry_at_once = RetryPolicy::default();
    retry_at_once.first = chrono::Duration::zero();
    let rules = RuleSet::new(vec![ClassRule::course_completion("rust", RUST, None)]).unwrap();
    let directory = StaticDirectory::new().learner("ada", "ada.lovelace@example.org");
    let engine = Engine::new(
        rules,
        Arc::new(MemoryStore::new()),
        backend,
        Arc::new(directory),
    )
    .with_retry(retry_at_once);
    engine
        .register_classes(vec![
            BadgeClassRecord::new("rust", "Rust", "d", "c", png()).for_course(RUST, None),
        ])
        .await
        .unwrap();
    let cert = Event::from_json(&format!(
        r#"{{"event":"certificate","learner":"ada","course":"{RUST}","passed":true}}"#
    ))
    .unwrap();
    engine.handle(&cert).await.unwrap();
    engine.retry_pending().await.unwrap();
    let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    for step in [
        "handle",
        "claimed",
        "backend call",
        "award deferred",
        "retrying award",
    ] {
        assert!(text.contains(step), "no {step:?} in:\n{text}");
    }
    assert!(text.contains("duration_ms"), "{text}");
    assert!(
        !text.contains("lovelace"),
        "a recipient's address was logged:\n{text}"
    );
}
