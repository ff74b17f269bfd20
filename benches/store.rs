//! The durable stores' throughput: claims per second, completions per second and awards per
//! second through the engine with the hosted issuer, for the memory store, a SQLite file and
//! PostgreSQL, each next to that database's durable empty commit (one one-row insert in its own
//! transaction, the physical limit of a store that commits each change) measured in the same
//! run.
//!
//! Awards through the engine run `CONCURRENCY` (32) events at a time, as a platform's workers would:
//! PostgreSQL commits concurrent transactions together (group commit), and so does the SQLite
//! store (its writer task), while SQLite itself writes one transaction at a time.
//!
//! `cargo bench --bench store`; results in BENCHMARKS.md. Without PostgreSQL server binaries the
//! PostgreSQL figures are skipped with a message.

#![allow(missing_docs, clippy::unwrap_used)]

#[path = "../tests/support/hosted.rs"]
mod hosted;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use badgery::backend::{
    AwardKey, AwardLedger, AwardRequest, BadgeBackend, BadgeClassRecord, BadgeStore,
    IssuedAssertion, MemoryStore, PendingAward, Recipient,
};
use badgery::rules::{ClassRule, Event, RuleSet};
use badgery::store_sql::SqlStore;
use badgery::store_sql::testing::TempPostgres;
use badgery::{CourseInfo, Directory, Engine, async_trait};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hosted::{issuer, png};

/// Operations in flight at a time in the concurrent benchmarks.
const CONCURRENCY: u64 = 32;
const COURSE: &str = "course-v1:Org+Bench+2026";

type Op = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// A store to measure, and its durable empty commit (none for the memory store).
struct Subject {
    name: &'static str,
    store: Arc<dyn BadgeStore>,
    empty_commit: Option<Op>,
}

/// Every learner has an email.
#[derive(Debug)]
struct Everyone;

#[async_trait]
impl Directory for Everyone {
    async fn email(&self, learner: &str) -> Option<String> {
        Some(format!("{learner}@example.org"))
    }
    async fn course(&self, _: &str) -> Option<CourseInfo> {
        None
    }
}

fn award(key: AwardKey) -> PendingAward {
    let recipient = Recipient::new(key.learner.clone(), "l@example.org");
    PendingAward::new(key, recipient, vec![], "benchmark", chrono::Utc::now())
}

/// A fresh award key for every award measured, across iterations and benchmarks.
fn next_key() -> AwardKey {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    AwardKey::new(
        format!("l{}", NEXT.fetch_add(1, Ordering::Relaxed)),
        "bench",
        1,
    )
}

fn class() -> BadgeClassRecord {
    BadgeClassRecord::new("bench", "Bench", "A benchmark badge.", "Pass.", png())
        .for_course(COURSE, None)
}

/// One row inserted in its own transaction: the least a durable commit costs (an insert, not
/// an update of one shared row, so that concurrent commits do not queue on a row lock).
macro_rules! empty_commit {
    ($pool:expr) => {{
        let pool = $pool;
        let op: Op = Arc::new(move || {
            let pool = pool.clone();
            Box::pin(async move {
                sqlx::query("INSERT INTO bench_commit VALUES (1)")
                    .execute(&pool)
                    .await
                    .unwrap();
            })
        });
        op
    }};
}

async fn subjects(dir: &std::path::Path, postgres: Option<&TempPostgres>) -> Vec<Subject> {
    let mut subjects = vec![Subject {
        name: "memory",
        store: Arc::new(MemoryStore::new()),
        empty_commit: None,
    }];
    let url = format!("sqlite:{}", dir.join("bench.sqlite3").display());
    let store = SqlStore::open(&url).await.unwrap();
    // The store's settings (WAL, synchronous=FULL), on a database and pool of its own.
    let baseline = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(4)
        .connect_with(
            format!("sqlite:{}", dir.join("commit.sqlite3").display())
                .parse::<sqlx::sqlite::SqliteConnectOptions>()
                .unwrap()
                .create_if_missing(true)
                .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sqlx::sqlite::SqliteSynchronous::Full)
                .busy_timeout(badgery::store_sql::SQLITE_BUSY_TIMEOUT),
        )
        .await
        .unwrap();
    sqlx::query("CREATE TABLE bench_commit (n INTEGER NOT NULL)")
        .execute(&baseline)
        .await
        .unwrap();
    subjects.push(Subject {
        name: "sqlite_file",
        store: Arc::new(store),
        empty_commit: Some(empty_commit!(baseline)),
    });
    if let Some(server) = postgres {
        let url = server.create_database("bench").unwrap();
        let store = SqlStore::open(&url).await.unwrap();
        let baseline_url = server.create_database("bench_commit").unwrap();
        let baseline = sqlx::postgres::PgPoolOptions::new()
            .max_connections(16)
            .connect(&baseline_url)
            .await
            .unwrap();
        sqlx::query("CREATE TABLE bench_commit (n BIGINT NOT NULL)")
            .execute(&baseline)
            .await
            .unwrap();
        subjects.push(Subject {
            name: "postgres",
            store: Arc::new(store),
            empty_commit: Some(empty_commit!(baseline)),
        });
    }
    subjects
}

/// Runs `op` `n` times, `in_flight` at a time, and returns the time taken.
async fn timed(n: u64, in_flight: u64, op: Op) -> Duration {
    let started = Instant::now();
    let next = Arc::new(AtomicU64::new(0));
    let workers: Vec<_> = (0..in_flight.min(n))
        .map(|_| {
            let (op, next) = (Arc::clone(&op), Arc::clone(&next));
            tokio::spawn(async move {
                while next.fetch_add(1, Ordering::Relaxed) < n {
                    op().await;
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.unwrap();
    }
    started.elapsed()
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let postgres = TempPostgres::start_or_skip("benches/store.rs");
    let subjects = runtime.block_on(subjects(dir.path(), postgres.as_ref()));
    let rules = RuleSet::new(vec![ClassRule::course_completion("bench", COURSE, None)]).unwrap();
    let issuer = Arc::new(issuer());

    for subject in &subjects {
        let mut group = c.benchmark_group(format!("store/{}", subject.name));
        group.sample_size(10);
        group.warm_up_time(Duration::from_millis(500));
        group.measurement_time(Duration::from_secs(3));
        group.throughput(Throughput::Elements(1));
        if let Some(commit) = &subject.empty_commit {
            group.bench_function("empty_commit", |b| {
                b.iter_custom(|n| runtime.block_on(timed(n, 1, Arc::clone(commit))))
            });
            group.bench_function("empty_commit_32_in_flight", |b| {
                b.iter_custom(|n| runtime.block_on(timed(n, CONCURRENCY, Arc::clone(commit))))
            });
        }
        let store = &subject.store;
        let claim: Op = {
            let store = Arc::clone(store);
            Arc::new(move || {
                let store = Arc::clone(&store);
                Box::pin(async move {
                    store
                        .claim(award(next_key()), chrono::Utc::now())
                        .await
                        .unwrap();
                })
            })
        };
        group.bench_function("claim", |b| {
            b.iter_custom(|n| runtime.block_on(timed(n, 1, Arc::clone(&claim))))
        });
        group.bench_function("claim_32_in_flight", |b| {
            b.iter_custom(|n| runtime.block_on(timed(n, CONCURRENCY, Arc::clone(&claim))))
        });
        group.bench_function("complete", |b| {
            b.iter_custom(|n| {
                // Claimed and issued beforehand, outside the measurement.
                let assertions: Vec<IssuedAssertion> = runtime.block_on(async {
                    let mut issued = Vec::new();
                    for _ in 0..n {
                        let key = next_key();
                        store
                            .claim(award(key.clone()), chrono::Utc::now())
                            .await
                            .unwrap();
                        let request = AwardRequest {
                            recipient: Recipient::new(key.learner.clone(), "l@example.org"),
                            key,
                            class: class(),
                            evidence: vec![],
                            narrative: None,
                            issued_on: chrono::Utc::now(),
                        };
                        issued.push(issuer.award(&request).await.unwrap());
                    }
                    issued
                });
                let queue = Arc::new(std::sync::Mutex::new(assertions));
                let store = Arc::clone(store);
                let complete: Op = Arc::new(move || {
                    let (store, queue) = (Arc::clone(&store), Arc::clone(&queue));
                    Box::pin(async move {
                        let assertion = queue.lock().unwrap().pop().unwrap();
                        store.complete(assertion).await.unwrap();
                    })
                });
                runtime.block_on(timed(n, 1, complete))
            })
        });
        let engine = Arc::new(Engine::new(
            rules.clone(),
            Arc::clone(store),
            Arc::clone(&issuer) as Arc<dyn BadgeBackend>,
            Arc::new(Everyone),
        ));
        runtime
            .block_on(engine.register_classes(vec![class()]))
            .unwrap();
        let handle: Op = Arc::new(move || {
            let engine = Arc::clone(&engine);
            Box::pin(async move {
                let learner = next_key().learner;
                let event = Event::from_json(&format!(
                    r#"{{"event":"certificate","learner":"{learner}","course":"{COURSE}","passed":true}}"#
                ))
                .unwrap();
                let outcomes = engine.handle(&event).await.unwrap();
                assert!(
                    matches!(&outcomes[..], [badgery::Outcome::Issued(_)]),
                    "{outcomes:?}"
                );
            })
        });
        group.bench_function("award_through_engine_32_in_flight", |b| {
            b.iter_custom(|n| runtime.block_on(timed(n, CONCURRENCY, Arc::clone(&handle))))
        });
        group.bench_function("award_through_engine", |b| {
            b.iter_custom(|n| runtime.block_on(timed(n, 1, Arc::clone(&handle))))
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
