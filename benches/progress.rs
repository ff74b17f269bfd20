//! Events per second through the engine with learners' progress in the store
//! (`Engine::with_stored_progress`), in a SQLite file and in PostgreSQL, at 10 000 and
//! 1 000 000 stored learners: one event at a time (`handle`), batched (`handle_batch`, 256
//! events a commit), and on PostgreSQL four workers batching at once (events routed to them by
//! learner, the fastest topology); each next to that
//! database's durable empty commit measured in the same run. Also prints the p50 and p99
//! latency of one `handle`.
//!
//! Every event is a certificate (passing or not, with a new grade) for a random stored learner
//! in one of 20 courses: it changes the learner's progress, so each is read, decided and
//! committed; none awards (most events of a platform award nothing), so the backend is not
//! measured here (`benches/store.rs` measures awarding).
//!
//! `cargo bench --bench progress` (the 1 000 000-learner stores take a minute or two to fill);
//! results in BENCHMARKS.md. Without PostgreSQL server binaries the PostgreSQL figures are
//! skipped with a message.

#![allow(missing_docs, clippy::unwrap_used)]

#[path = "../tests/support/hosted.rs"]
#[allow(dead_code)] // The issuer only: nothing is awarded.
mod hosted;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use badgery::backend::{BadgeStore, ProgressStore, ProgressUpdate};
use badgery::rules::{ClassRule, Evaluator, Event, Progress, RuleSet};
use badgery::store_sql::SqlStore;
use badgery::store_sql::testing::TempPostgres;
use badgery::{CourseInfo, Directory, Engine, async_trait};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hosted::issuer;

const BATCH: usize = 256;
const WORKERS: usize = 4;
const COURSES: u64 = 20;

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

fn rules() -> RuleSet {
    // One class, for a course no event names: events decide and award nothing.
    RuleSet::new(vec![ClassRule::course_completion(
        "unused",
        "course-v1:Org+Unused+2026",
        None,
    )])
    .unwrap()
}

/// A deterministic stream of certificate events for `learners` stored learners.
struct Events {
    state: AtomicU64,
    learners: u64,
}

impl Events {
    fn next(&self) -> Event {
        self.next_of(0, 1)
    }

    /// The next event of a learner whose index modulo `workers` is `worker`: the events a
    /// worker gets when the bus routes by learner.
    fn next_of(&self, worker: u64, workers: u64) -> Event {
        let mut x = self
            .state
            .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
        x ^= x >> 30;
        x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x ^= x >> 27;
        let learner = (x % (self.learners / workers)) * workers + worker;
        let course = (x >> 32) % COURSES;
        let passed = (x >> 40) & 1 == 1;
        let grade = ((x >> 44) % 1000) as f64 / 1000.0;
        Event::from_json(&format!(
            r#"{{"event":"certificate","learner":"l{learner}","course":"course-v1:Org+C{course}+2026","passed":{passed},"grade":{grade}}}"#
        ))
        .unwrap()
    }
}

/// Fills `store` with `learners` learners, each with two certificates.
async fn fill(store: &SqlStore, learners: u64) {
    if store.learners(None, 1).await.unwrap().len() == 1 {
        return;
    }
    let mut evaluator = Evaluator::new(rules());
    let started = Instant::now();
    let lease = chrono::Utc::now();
    for chunk_start in (0..learners).step_by(5000) {
        let updates: Vec<ProgressUpdate> = (chunk_start..(chunk_start + 5000).min(learners))
            .map(|i| {
                let mut progress = Progress::default();
                for course in [i % COURSES, (i + 7) % COURSES] {
                    let event = Event::from_json(&format!(
                        r#"{{"event":"certificate","learner":"l{i}","course":"course-v1:Org+C{course}+2026","passed":true,"grade":0.5}}"#
                    ))
                    .unwrap();
                    progress = evaluator.apply_to(&progress, &event).0;
                }
                ProgressUpdate::new(format!("l{i}"), None, progress.to_bytes(), Vec::new(), lease)
            })
            .collect();
        store.commit_progress_batch(updates).await.unwrap();
    }
    eprintln!(
        "filled {learners} learners in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

macro_rules! empty_commit {
    ($pool:expr) => {{
        let pool = $pool;
        let op: Arc<
            dyn Fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>
                + Send
                + Sync,
        > = Arc::new(move || {
            let pool = pool.clone();
            Box::pin(async move {
                let mut tx = pool.begin().await.unwrap();
                sqlx::query("UPDATE bench_commit SET n = n + 1")
                    .execute(&mut *tx)
                    .await
                    .unwrap();
                tx.commit().await.unwrap();
            })
        });
        op
    }};
}

type Op = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

struct Subject {
    name: String,
    store: Arc<SqlStore>,
    learners: u64,
    empty_commit: Op,
    workers: usize,
}

async fn timed(n: u64, op: &Op) -> Duration {
    let started = Instant::now();
    for _ in 0..n {
        op().await;
    }
    started.elapsed()
}

async fn subjects(dir: &std::path::Path, postgres: Option<&TempPostgres>) -> Vec<Subject> {
    let mut subjects = Vec::new();
    let sqlite_commit = {
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(
                format!("sqlite:{}", dir.join("commit.sqlite3").display())
                    .parse::<sqlx::sqlite::SqliteConnectOptions>()
                    .unwrap()
                    .create_if_missing(true)
                    .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                    .synchronous(sqlx::sqlite::SqliteSynchronous::Full),
            )
            .await
            .unwrap();
        sqlx::query("CREATE TABLE bench_commit (n INTEGER NOT NULL)")
            .execute(&pool)
            .await
            .unwrap();
        sqlx::query("INSERT INTO bench_commit VALUES (0)")
            .execute(&pool)
            .await
            .unwrap();
        empty_commit!(pool)
    };
    for learners in [10_000, 1_000_000] {
        let url = format!(
            "sqlite:{}",
            dir.join(format!("progress-{learners}.sqlite3")).display()
        );
        let store = Arc::new(SqlStore::open(&url).await.unwrap());
        fill(&store, learners).await;
        subjects.push(Subject {
            name: format!("sqlite_file/{learners}_learners"),
            store,
            learners,
            empty_commit: sqlite_commit.clone(),
            workers: 1,
        });
    }
    if let Some(server) = postgres {
        let commit_url = server.create_database("progress_commit").unwrap();
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(8)
            .connect(&commit_url)
            .await
            .unwrap();
        sqlx::query("CREATE TABLE bench_commit (n BIGINT NOT NULL)")
            .execute(&pool)
            .await
            .unwrap();
        sqlx::query("INSERT INTO bench_commit VALUES (0)")
            .execute(&pool)
            .await
            .unwrap();
        let postgres_commit = empty_commit!(pool);
        for learners in [10_000, 1_000_000] {
            let url = server
                .create_database(&format!("progress_{learners}"))
                .unwrap();
            let store = Arc::new(SqlStore::open(&url).await.unwrap());
            fill(&store, learners).await;
            subjects.push(Subject {
                name: format!("postgres/{learners}_learners"),
                store,
                learners,
                empty_commit: postgres_commit.clone(),
                workers: WORKERS,
            });
        }
    }
    subjects
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let postgres = TempPostgres::start_or_skip("benches/progress.rs");
    let subjects = runtime.block_on(subjects(dir.path(), postgres.as_ref()));
    for subject in &subjects {
        let store = subject.store.clone();
        let engine = Arc::new(
            Engine::new(
                rules(),
                store.clone() as Arc<dyn BadgeStore>,
                Arc::new(issuer()),
                Arc::new(Everyone),
            )
            .with_stored_progress(store.clone() as Arc<dyn ProgressStore>),
        );
        let events = Arc::new(Events {
            state: AtomicU64::new(subject.learners),
            learners: subject.learners,
        });
        let mut group = c.benchmark_group(format!("progress/{}", subject.name));
        group.sample_size(10);
        group.warm_up_time(Duration::from_millis(500));
        group.measurement_time(Duration::from_secs(4));
        group.throughput(Throughput::Elements(1));
        group.bench_function("empty_commit", |b| {
            b.iter_custom(|n| runtime.block_on(timed(n, &subject.empty_commit)))
        });
        group.bench_function("handle", |b| {
            b.iter_custom(|n| {
                runtime.block_on(async {
                    let started = Instant::now();
                    for _ in 0..n {
                        engine.handle(&events.next()).await.unwrap();
                    }
                    started.elapsed()
                })
            })
        });
        group.bench_function(format!("handle_batch_{BATCH}"), |b| {
            b.iter_custom(|n| {
                runtime.block_on(async {
                    let batches: Vec<Vec<Event>> = (0..n.div_ceil(BATCH as u64))
                        .map(|_| (0..BATCH).map(|_| events.next()).collect())
                        .collect();
                    let started = Instant::now();
                    for batch in &batches {
                        engine.handle_batch(batch).await.unwrap();
                    }
                    // Scaled to the n events asked for.
                    started
                        .elapsed()
                        .mul_f64(n as f64 / (batches.len() * BATCH) as f64)
                })
            })
        });
        if subject.workers > 1 {
            let workers = subject.workers;
            group.bench_function(format!("handle_batch_{BATCH}_{workers}_workers"), |b| {
                b.iter_custom(|n| {
                    runtime.block_on(async {
                        let per_worker = n.div_ceil((BATCH * workers) as u64);
                        // Routed by learner (the fastest topology): no two workers write
                        // one learner, so their commits never conflict.
                        let work: Vec<Vec<Vec<Event>>> = (0..workers as u64)
                            .map(|w| {
                                (0..per_worker)
                                    .map(|_| {
                                        (0..BATCH)
                                            .map(|_| events.next_of(w, workers as u64))
                                            .collect()
                                    })
                                    .collect()
                            })
                            .collect();
                        let started = Instant::now();
                        let tasks: Vec<_> = work
                            .into_iter()
                            .map(|batches| {
                                let engine = engine.clone();
                                tokio::spawn(async move {
                                    for batch in &batches {
                                        engine.handle_batch(batch).await.unwrap();
                                    }
                                })
                            })
                            .collect();
                        for task in tasks {
                            task.await.unwrap();
                        }
                        let done = per_worker as usize * BATCH * workers;
                        started.elapsed().mul_f64(n as f64 / done as f64)
                    })
                })
            });
        }
        group.finish();
        // Latency of one handle, over 2 000 events.
        let mut latencies: Vec<Duration> = runtime.block_on(async {
            let mut all = Vec::with_capacity(2000);
            for _ in 0..2000 {
                let event = events.next();
                let started = Instant::now();
                engine.handle(&event).await.unwrap();
                all.push(started.elapsed());
            }
            all
        });
        latencies.sort();
        eprintln!(
            "progress/{}: handle latency p50 {:?}, p99 {:?}",
            subject.name,
            latencies[latencies.len() / 2],
            latencies[latencies.len() * 99 / 100]
        );
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
