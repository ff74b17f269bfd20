//! Awards through the engine to the Badgr test server: two engines (two app servers) over
//! one store handle every event at once, while Badgr fails a burst of calls with 503 and
//! loses the answer of others after storing the award. Each class is created once in Badgr
//! and each award is one Badgr assertion.

#![allow(clippy::unwrap_used)] // A test's helpers may panic: that is how a test fails.

mod support;

use std::sync::Arc;

use badgery::backend::AwardLedger as _;
use badgery::backend::{AwardState, BadgeClassRecord, ClassImage, ImageFormat, MemoryStore};
use badgery::rules::{ClassRule, Event, RuleSet};
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
    let classes: Vec<ClassRule> = (0..COURSES)
        .map(|c| ClassRule::course_completion(format!("c{c}"), course(c), None))
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

/// Through the engine while tokens die mid-run: the access token expires between two
/// events (refreshed before use), then the server drops every access token (as after a
/// rotation by another client: the next call gets 401, refreshes once and retries). A class
/// an admin made in Badgr's own interface (its entityId set on the class) is used as is, never
/// created. Every award is one Badgr assertion, after one login.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_expiring_mid_run_are_refreshed_and_an_admins_class_is_used_as_is() {
    let (url, server) = server::start().await;
    server.lock().unwrap().lifetime = std::time::Duration::from_secs(1);
    // The admin's class, made in Badgr: the platform knows only its entityId.
    server.lock().unwrap().classes.push(serde_json::json!({
        "entityType": "ClassRule", "entityId": "admin-made", "name": "Made by an admin",
        "issuer": "qaWd4VmPReyl_saXGhmjyg", "tags": [], "createdAt": "2026-01-01T00:00:00Z",
    }));
    let mut config = BadgrConfig::new(&url, USERNAME, PASSWORD).unwrap();
    config.refresh_margin = std::time::Duration::ZERO;
    let session = Session::new(config, Arc::new(MemoryTokenStore::default())).unwrap();
    let backend = Arc::new(BadgrBackend::new(session, "qaWd4VmPReyl_saXGhmjyg"));
    let store = Arc::new(MemoryStore::new());
    let mut directory = StaticDirectory::new();
    for l in 0..6 {
        directory = directory.learner(&format!("l{l}"), &format!("l{l}@example.org"));
    }
    let classes = vec![
        ClassRule::course_completion("admins", course(0), None),
        ClassRule::course_completion("ours", course(1), None),
    ];
    let engine = Engine::new(
        RuleSet::new(classes).unwrap(),
        store.clone(),
        backend.clone(),
        Arc::new(directory),
    );
    let image = ClassImage {
        format: ImageFormat::Png,
        bytes: include_bytes!("support/badge.png").to_vec(),
    };
    let mut admins =
        BadgeClassRecord::new("admins", "A", "d", "c", image.clone()).for_course(course(0), None);
    admins.backend_id = Some("admin-made".to_owned());
    let ours = BadgeClassRecord::new("ours", "O", "d", "c", image).for_course(course(1), None);
    engine.register_classes(vec![admins, ours]).await.unwrap();

    let certificate = |l: usize, c: usize| {
        Event::from_json(&format!(
            r#"{{"event":"certificate","learner":"l{l}","course":"{}","passed":true}}"#,
            course(c)
        ))
        .unwrap()
    };
    for l in 0..6 {
        if l == 2 {
            // No request for longer than the token lives: it expires.
            tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
        }
        if l == 4 {
            server.lock().unwrap().forget_access_tokens();
        }
        for c in 0..2 {
            engine.handle(&certificate(l, c)).await.unwrap();
        }
    }
    assert!(
        store.unissued().await.unwrap().is_empty(),
        "every award issued without a retry"
    );
    let s = server.lock().unwrap();
    assert_eq!(s.assertions.len(), 12, "one Badgr assertion per award");
    assert_eq!(
        s.assertions
            .iter()
            .filter(|a| a["badgeclass"] == "admin-made")
            .count(),
        6,
        "the admin's class holds its awards"
    );
    assert_eq!(s.classes.len(), 2, "only our own class was created");
    assert_eq!(s.password_grants, 1, "one login");
    assert!(
        s.refresh_grants >= 2,
        "refreshed after the expiry and after the 401: {}",
        s.refresh_grants
    );
    assert_eq!(s.refused_token_requests, 0);
    assert_eq!(
        backend.session().token_requests(),
        u64::from(s.password_grants + s.refresh_grants)
    );
}
