//! Awards through the engine to the Badgr test server: two engines (two app servers) over
//! one store handle every event at once, while Badgr fails a burst of calls with 503 and
//! loses the answer of others after storing the award. Each class is created once in Badgr
//! and each award is one Badgr assertion.

#![allow(clippy::unwrap_used)] // A test's helpers may panic: that is how a test fails.

mod support;

use std::sync::Arc;

use badgery::backend::AwardLedger as _;
use badgery::backend::{AwardState, BadgeClassRecord, ClassImage, ImageFormat, MemoryStore};
use badgery::rules::{BadgeClass, Event, RuleSet};
use badgery::{Engine, RetryPolicy, StaticDirectory};
use badgery_badgr::{BadgrBackend, BadgrConfig, MemoryTokenStore, Session, TokenStore};
use support::server::{self, PASSWORD, USERNAME};

const LEARNERS: usize = 8;
const COURSES: usize = 2;

fn course(c: usize) -> String {
    format!("course-v1:Org+C{c}+2026")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_engines_award_each_learner_once_in_badgr_through_failures() {
    let (url, server) = server::start().await;
    let tokens: Arc<dyn TokenStore> = Arc::new(MemoryTokenStore::default());
    let store = Arc::new(MemoryStore::new());
    let mut directory = StaticDirectory::new();
    for l in 0..LEARNERS {
        directory = directory.learner(&format!("l{l}"), &format!("l{l}@example.org"));
    }
    let directory = Arc::new(directory);
    let classes: Vec<BadgeClass> = (0..COURSES)
        .map(|c| BadgeClass::course_completion(format!("c{c}"), course(c), None))
        .collect();
    let mut retry = RetryPolicy::default();
    retry.first = chrono::Duration::zero();
    retry.max_delay = chrono::Duration::zero();
    retry.max_attempts = 1000;
    let engines: Vec<Arc<Engine>> = (0..2)
        .map(|_| {
            let config = BadgrConfig::new(&url, USERNAME, PASSWORD).unwrap();
            let session = Session::new(config, tokens.clone()).unwrap();
            let backend = Arc::new(BadgrBackend::new(session, "qaWd4VmPReyl_saXGhmjyg"));
            Arc::new(
                Engine::new(
                    RuleSet::new(classes.clone()).unwrap(),
                    store.clone(),
                    backend,
                    directory.clone(),
                )
                .with_retry(retry),
            )
        })
        .collect();
    let image = ClassImage {
        format: ImageFormat::Png,
        bytes: include_bytes!("support/badge.png").to_vec(),
    };
    engines[0]
        .register_classes(
            (0..COURSES)
                .map(|c| {
                    BadgeClassRecord::new(format!("c{c}"), "C", "d", "c", image.clone())
                        .for_course(course(c), None)
                })
                .collect(),
        )
        .await
        .unwrap();

    // A burst of 503s, and the answer of the third award posted lost after Badgr stored it.
    server.lock().unwrap().fail_next = 4;
    let feeders: Vec<_> = engines
        .iter()
        .enumerate()
        .map(|(e, engine)| {
            let (engine, server) = (engine.clone(), server.clone());
            tokio::spawn(async move {
                for l in 0..LEARNERS {
                    if e == 0 && l == 3 {
                        server.lock().unwrap().lose_next_award_answer = true;
                    }
                    for c in 0..COURSES {
                        let event = Event::from_json(&format!(
                            r#"{{"event":"certificate","learner":"l{l}","course":"{}","passed":true}}"#,
                            course(c)
                        ))
                        .unwrap();
                        // Failures are kept for retry_pending; the event itself is handled.
                        let _ = engine.handle(&event).await;
                    }
                }
            })
        })
        .collect();
    for feeder in feeders {
        feeder.await.unwrap();
    }
    for _ in 0..50 {
        for engine in &engines {
            engine.retry_pending().await.unwrap();
        }
        let pending = store.unissued().await.unwrap();
        if !pending.iter().any(|p| p.state == AwardState::Pending) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(
        store.unissued().await.unwrap().is_empty(),
        "every award issued"
    );

    let s = server.lock().unwrap();
    assert_eq!(
        s.assertions.len(),
        LEARNERS * COURSES,
        "one Badgr assertion per award"
    );
    // Two engines may both create a class (Badgr has no unique key for one); every award
    // then goes to the first created, so each course's awards are in one class.
    let mut used: Vec<&serde_json::Value> = s.assertions.iter().map(|a| &a["badgeclass"]).collect();
    used.sort_by_key(|c| c.to_string());
    used.dedup();
    assert_eq!(
        used.len(),
        COURSES,
        "the awards of a course are in one Badgr class"
    );
    for l in 0..LEARNERS {
        for class in &used {
            let held = s.assertions.iter().filter(|a| {
                &&a["badgeclass"] == class
                    && a["recipient"]["plaintextIdentity"] == format!("l{l}@example.org")
            });
            assert_eq!(held.count(), 1, "l{l} holds {class} once");
        }
    }
    assert!(
        s.password_grants <= 2,
        "one login per app server at most: {}",
        s.password_grants
    );
    println!(
        "{} awards, {} Badgr assertions, {} Badgr classes, {} award posts, {} API requests, {} logins",
        LEARNERS * COURSES,
        s.assertions.len(),
        s.classes.len(),
        s.award_posts,
        s.api_requests,
        s.password_grants
    );
}
