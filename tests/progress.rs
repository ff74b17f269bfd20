//! Learner progress in the store: an engine with `with_stored_progress` decides each event from
//! the learner's stored progress, so a new engine over the same store continues with the next
//! event (no replay), several engines over one store decide as one would, an event delivered
//! twice with its id changes nothing, and `set_rules` back-fills the stored learners.

#![allow(clippy::unwrap_used)] // A test's helpers may panic: that is how a test fails.

#[path = "support/hosted.rs"]
mod hosted;

use std::collections::BTreeSet;
use std::sync::Arc;

use badgery::backend::{
    AwardLedger, AwardState, BadgeClassRecord, BadgeStore, MemoryStore, ProgressStore,
};
use badgery::fault::FlakyBackend;
use badgery::rules::{Event, Progress, RuleSet};
use badgery::store_sql::SqlStore;
use badgery::{Engine, HostedIssuer, Outcome, StaticDirectory};
use hosted::{issuer, png};

const RULES: &str = include_str!("../crates/rules/tests/data/rules/platform.toml");
const EVENTS: &str = include_str!("../crates/rules/tests/data/rules/events.jsonl");

/// The rule tests' events for `copies` times as many learners (17 awards per copy), each
/// with an id of its own.
fn events(copies: usize) -> Vec<Event> {
    let mut out = Vec::new();
    for copy in 0..copies {
        for (i, line) in EVENTS.lines().filter(|l| !l.trim().is_empty()).enumerate() {
            let (head, rest) = line.split_once(r#""learner":""#).unwrap();
            let (learner, tail) = rest.split_once('"').unwrap();
            let tail = tail.strip_suffix('}').unwrap();
            out.push(
                Event::from_json(&format!(
                    r#"{head}"learner":"{learner}-{copy}"{tail},"id":"e{copy}-{i}"}}"#
                ))
                .unwrap(),
            );
        }
    }
    out
}

/// The facts of `events` that only accumulate (enrollments, passing certificates, activities
/// and manual awards), with each certificate carrying its mode (a certificate without one
/// takes the enrollment mode known when it is handled, which depends on which engine handles
/// what first): their outcome does not depend on the order in which engines handle them.
fn accumulating(events: Vec<Event>) -> Vec<Event> {
    let mut modes = std::collections::HashMap::new();
    events
        .into_iter()
        .filter_map(|mut event| {
            match &mut event {
                Event::Unenrolled { .. } | Event::Certificate { passed: false, .. } => {
                    return None;
                }
                Event::Enrolled {
                    learner,
                    course,
                    mode,
                    ..
                } => {
                    modes.insert((learner.clone(), course.clone()), mode.clone());
                }
                Event::Certificate {
                    learner,
                    course,
                    mode: mode @ None,
                    ..
                } => {
                    *mode = modes.get(&(learner.clone(), course.clone())).cloned();
                }
                _ => {}
            }
            Some(event)
        })
        .collect()
}

fn classes(rules: &RuleSet) -> Vec<BadgeClassRecord> {
    rules
        .classes()
        .iter()
        // Each takes its course and mode from the rules when registered.
        .map(|c| BadgeClassRecord::new(c.slug.clone(), c.slug.clone(), "d", "c", png()))
        .collect()
}

fn directory(events: &[Event]) -> Arc<StaticDirectory> {
    let mut directory = StaticDirectory::new();
    let learners: BTreeSet<&str> = events.iter().map(Event::learner).collect();
    for learner in learners {
        directory = directory.learner(learner, &format!("{learner}@example.org"));
    }
    Arc::new(directory)
}

type Backend = Arc<FlakyBackend<HostedIssuer>>;

fn engine<S: BadgeStore + ProgressStore + 'static>(
    store: &Arc<S>,
    backend: &Backend,
    directory: &Arc<StaticDirectory>,
    rules: &str,
) -> Engine {
    Engine::new(
        RuleSet::from_toml(rules).unwrap(),
        store.clone(),
        backend.clone(),
        directory.clone(),
    )
    .with_stored_progress(store.clone())
}

/// Every issued award's key, and how many awards the store holds in all.
async fn issued(store: &dyn BadgeStore) -> (BTreeSet<String>, usize) {
    let awards = store.awards(None, 100_000).await.unwrap();
    let keys = awards
        .iter()
        .filter(|a| matches!(a.state, AwardState::Issued { .. }))
        .map(|a| a.key.to_string())
        .collect();
    (keys, awards.len())
}

/// What one engine deciding in memory issues for `events`.
async fn in_memory(events: &[Event]) -> BTreeSet<String> {
    let store = Arc::new(MemoryStore::new());
    let rules = RuleSet::from_toml(RULES).unwrap();
    let engine = Engine::new(
        rules.clone(),
        store.clone(),
        Arc::new(issuer()),
        directory(events),
    );
    engine.register_classes(classes(&rules)).await.unwrap();
    for event in events {
        engine.handle(event).await.unwrap();
    }
    let (keys, all) = issued(&*store).await;
    assert_eq!(keys.len(), all);
    keys
}

/// A restart in the middle of the log: the new engine handles only the events after it and
/// issues what one engine handling the whole log in memory issues (on SQLite, a file).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_engine_continues_with_the_next_event_without_replay() {
    let events = events(4);
    let expected = in_memory(&events).await;
    assert_eq!(expected.len(), 17 * 4);
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("progress.sqlite3").display());
    let backend = Arc::new(FlakyBackend::new(issuer(), 0.0, 1));
    let directory = directory(&events);
    let half = events.len() / 2;
    {
        let store = Arc::new(SqlStore::open(&url).await.unwrap());
        let first = engine(&store, &backend, &directory, RULES);
        first
            .register_classes(classes(&RuleSet::from_toml(RULES).unwrap()))
            .await
            .unwrap();
        for event in &events[..half] {
            first.handle(event).await.unwrap();
        }
    }
    // Another process: a new store handle, a new engine, and only the rest of the log.
    let store = Arc::new(SqlStore::open(&url).await.unwrap());
    let second = engine(&store, &backend, &directory, RULES);
    for event in &events[half..] {
        second.handle(event).await.unwrap();
    }
    let (keys, all) = issued(&*store).await;
    assert_eq!(
        keys, expected,
        "the awards of one engine over the whole log"
    );
    assert_eq!(all, expected.len());
    let stats = backend.stats();
    assert!(
        stats.delivered.values().all(|n| *n == 1),
        "each award delivered once"
    );
    assert_eq!(stats.delivered.len(), expected.len());
}

/// An event delivered again (an at-least-once bus) changes nothing: with its id, nothing is
/// even decided again; the claims would hold anyway.
#[tokio::test]
async fn an_event_delivered_twice_changes_nothing() {
    let events = events(1);
    let store = Arc::new(MemoryStore::new());
    let backend = Arc::new(FlakyBackend::new(issuer(), 0.0, 1));
    let directory = directory(&events);
    let engine = engine(&store, &backend, &directory, RULES);
    engine
        .register_classes(classes(&RuleSet::from_toml(RULES).unwrap()))
        .await
        .unwrap();
    for event in &events {
        engine.handle(event).await.unwrap();
    }
    let before = store.progress("ada-0").await.unwrap().unwrap();
    let (issued_before, _) = issued(&*store).await;
    let calls = backend.stats().calls;
    for event in &events {
        assert_eq!(
            engine.handle(event).await.unwrap(),
            Vec::<Outcome>::new(),
            "{event:?} again"
        );
    }
    assert_eq!(store.progress("ada-0").await.unwrap().unwrap(), before);
    assert_eq!(issued(&*store).await.0, issued_before);
    assert_eq!(backend.stats().calls, calls, "no backend call");
}

/// Two engines (two app servers) over one store handle the same learners' events at once,
/// each taking every other event: between them they issue what one engine handling the
/// whole log issues, each award once, for a log of facts that only accumulate.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_engines_over_one_store_decide_as_one() {
    let events = accumulating(events(6));
    let expected = in_memory(&events).await;
    let dir = tempfile::tempdir().unwrap();
    let file = format!("sqlite:{}", dir.path().join("two.sqlite3").display());
    for url in ["sqlite::memory:", &file] {
        let store = Arc::new(SqlStore::open(url).await.unwrap());
        let backend = Arc::new(FlakyBackend::new(issuer(), 0.0, 1));
        let directory = directory(&events);
        let engines: Vec<Arc<Engine>> = (0..2)
            .map(|_| Arc::new(engine(&store, &backend, &directory, RULES)))
            .collect();
        engines[0]
            .register_classes(classes(&RuleSet::from_toml(RULES).unwrap()))
            .await
            .unwrap();
        let tasks: Vec<_> = engines
            .iter()
            .enumerate()
            .map(|(e, engine)| {
                let (engine, events) = (engine.clone(), events.clone());
                tokio::spawn(async move {
                    for event in events.iter().skip(e).step_by(2) {
                        engine.handle(event).await.unwrap();
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        let (keys, all) = issued(&*store).await;
        assert_eq!(keys, expected);
        assert_eq!(all, expected.len());
        assert!(backend.stats().delivered.values().all(|n| *n == 1));
    }
}

/// A rule added later back-fills every stored learner who meets it, once: running the
/// back-fill again (as after a crash midway) awards nothing more.
#[tokio::test]
async fn set_rules_back_fills_the_stored_learners_once() {
    let events = events(3);
    let store = Arc::new(MemoryStore::new());
    let backend = Arc::new(FlakyBackend::new(issuer(), 0.0, 1));
    let directory = directory(&events);
    let all_rules = RuleSet::from_toml(RULES).unwrap();
    // First without the count rules (`completed-2`, `completed-3`, `enrolled-2`, `enrolled-4`).
    let without = RuleSet::new(all_rules.classes().to_vec()).unwrap();
    let engine = Engine::new(without, store.clone(), backend.clone(), directory.clone())
        .with_stored_progress(store.clone());
    engine.register_classes(classes(&all_rules)).await.unwrap();
    for event in &events {
        engine.handle(event).await.unwrap();
    }
    let (before, _) = issued(&*store).await;
    let outcomes = engine.set_rules(all_rules.clone()).await.unwrap();
    assert!(!outcomes.is_empty(), "the count rules back-fill someone");
    let (after, _) = issued(&*store).await;
    assert!(after.len() > before.len());
    for key in after.difference(&before) {
        assert!(
            ["completed-", "enrolled-", "group-", "crit-"]
                .iter()
                .any(|p| key.contains(p)),
            "{key}"
        );
    }
    // Back-filled awards are in the learners' progress: again, nothing.
    assert!(engine.set_rules(all_rules).await.unwrap().is_empty());
    assert_eq!(issued(&*store).await.0, after);
}

/// `handle_batch` commits many events at once and decides as `handle` does one by one; two
/// engines committing batches of the same learners at once conflict and re-apply, and a
/// batch delivered again changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn batches_decide_as_single_events_and_conflicting_batches_re_apply() {
    let events = accumulating(events(6));
    let expected = in_memory(&events).await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("batches.sqlite3").display());
    let store = Arc::new(SqlStore::open(&url).await.unwrap());
    let backend = Arc::new(FlakyBackend::new(issuer(), 0.0, 1));
    let directory = directory(&events);
    let engines: Vec<Arc<Engine>> = (0..2)
        .map(|_| Arc::new(engine(&store, &backend, &directory, RULES)))
        .collect();
    engines[0]
        .register_classes(classes(&RuleSet::from_toml(RULES).unwrap()))
        .await
        .unwrap();
    // Each engine takes every other chunk of 7 events: a learner's events land in both.
    let chunks: Vec<Vec<Event>> = events.chunks(7).map(<[Event]>::to_vec).collect();
    let tasks: Vec<_> = engines
        .iter()
        .enumerate()
        .map(|(e, engine)| {
            let (engine, chunks) = (engine.clone(), chunks.clone());
            tokio::spawn(async move {
                for chunk in chunks.iter().skip(e).step_by(2) {
                    engine.handle_batch(chunk).await.unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let (keys, all) = issued(&*store).await;
    assert_eq!(keys, expected);
    assert_eq!(all, expected.len());
    assert!(backend.stats().delivered.values().all(|n| *n == 1));
    let calls = backend.stats().calls;
    for chunk in events.chunks(40) {
        assert!(engines[1].handle_batch(chunk).await.unwrap().is_empty());
    }
    assert_eq!(
        backend.stats().calls,
        calls,
        "a batch delivered again calls nothing"
    );
}

/// Every interleaving of two sequences.
fn interleavings<T: Clone>(a: &[T], b: &[T]) -> Vec<Vec<T>> {
    match (a.split_first(), b.split_first()) {
        (None, _) => vec![b.to_vec()],
        (_, None) => vec![a.to_vec()],
        (Some((x, a_rest)), Some((y, b_rest))) => {
            let mut all = Vec::new();
            for mut rest in interleavings(a_rest, b) {
                rest.insert(0, x.clone());
                all.push(rest);
            }
            for mut rest in interleavings(a, b_rest) {
                rest.insert(0, y.clone());
                all.push(rest);
            }
            all
        }
    }
}

fn racing_event(learner: &str, body: &str) -> Event {
    Event::from_json(&format!(r#"{{"learner":"{learner}",{body}}}"#)).unwrap()
}

/// A learner's two sequences of racing events: enrollments and a passing certificate, and an
/// unenrollment and a failing certificate in the same course.
fn racing_sequences(l: &str) -> (Vec<Event>, Vec<Event>) {
    const A: &str = "course-v1:Org+A+2026";
    const B: &str = "course-v1:Org+B+2026";
    (
        vec![
            racing_event(
                l,
                &format!(r#""event":"enrolled","course":"{A}","mode":"verified""#),
            ),
            racing_event(
                l,
                &format!(r#""event":"enrolled","course":"{B}","mode":"honor""#),
            ),
            racing_event(
                l,
                &format!(r#""event":"certificate","course":"{A}","passed":true,"mode":"verified""#),
            ),
        ],
        vec![
            racing_event(l, &format!(r#""event":"unenrolled","course":"{A}""#)),
            racing_event(
                l,
                &format!(
                    r#""event":"certificate","course":"{A}","passed":false,"mode":"verified""#
                ),
            ),
        ],
    )
}

/// What depends on order across servers: an unenrollment racing enrollments, a failing
/// certificate racing a passing one. Two engines handle each learner's two sequences at
/// once; each learner ends with the progress and the awards of one serial order of the
/// events (some interleaving of the two sequences), never a mixture of two.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_events_end_as_some_serial_order() {
    let learners: Vec<String> = (0..40).map(|i| format!("racer-{i}")).collect();
    let all: Vec<Event> = learners
        .iter()
        .flat_map(|l| {
            let (a, b) = racing_sequences(l);
            a.into_iter().chain(b)
        })
        .collect();
    let store = Arc::new(SqlStore::open("sqlite::memory:").await.unwrap());
    let backend = Arc::new(FlakyBackend::new(issuer(), 0.0, 1));
    let directory = directory(&all);
    let engines: Vec<Arc<Engine>> = (0..2)
        .map(|_| Arc::new(engine(&store, &backend, &directory, RULES)))
        .collect();
    engines[0]
        .register_classes(classes(&RuleSet::from_toml(RULES).unwrap()))
        .await
        .unwrap();
    // Each learner's two sequences race, one on each engine.
    let tasks: Vec<_> = learners
        .iter()
        .enumerate()
        .flat_map(|(i, l)| {
            let (a, b) = racing_sequences(l);
            [(0, a), (1, b)].map(|(e, sequence)| {
                let engine = engines[e].clone();
                tokio::spawn(async move {
                    for (j, event) in sequence.iter().enumerate() {
                        // A pause that differs by learner, engine and event shuffles the order.
                        let pause = (i * 7 + e * 13 + j * 29) % 11;
                        tokio::time::sleep(std::time::Duration::from_millis(pause as u64)).await;
                        engine.handle(event).await.unwrap();
                    }
                })
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let awards = store.awards(None, 10_000).await.unwrap();
    let mut outcomes_seen = BTreeSet::new();
    for l in &learners {
        let stored =
            Progress::from_bytes(&store.progress(l).await.unwrap().unwrap().bytes).unwrap();
        let held: BTreeSet<String> = awards
            .iter()
            .filter(|a| &a.key.learner == l)
            .map(|a| a.key.slug.clone())
            .collect();
        let (a, b) = racing_sequences(l);
        let serial = interleavings(&a, &b).into_iter().position(|order| {
            let mut evaluator = badgery::rules::Evaluator::new(RuleSet::from_toml(RULES).unwrap());
            let mut progress = Progress::default();
            let mut badges = BTreeSet::new();
            for event in &order {
                let (next, decided) = evaluator.apply_to(&progress, event);
                progress = next;
                badges.extend(decided.into_iter().map(|d| d.slug));
            }
            progress == stored && badges == held
        });
        assert!(
            serial.is_some(),
            "{l}: progress {stored:?} with awards {held:?} is no serial order's"
        );
        outcomes_seen.insert((stored.to_bytes(), held));
    }
    eprintln!(
        "{} learners, each the outcome of a serial order; {} distinct outcomes seen",
        learners.len(),
        outcomes_seen.len()
    );
}

/// A progress store that fails every commit once `commits_left` reach zero: a crash in the
/// middle of a back-fill.
#[derive(Debug)]
struct FailingAfter {
    inner: Arc<MemoryStore>,
    commits_left: std::sync::atomic::AtomicI64,
    commits: std::sync::atomic::AtomicU64,
    reads: std::sync::atomic::AtomicU64,
}

#[badgery::async_trait]
impl ProgressStore for FailingAfter {
    async fn progress(
        &self,
        learner: &str,
    ) -> Result<Option<badgery::backend::StoredProgress>, badgery::backend::Error> {
        self.reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.inner.progress(learner).await
    }
    async fn commit_progress(
        &self,
        update: badgery::backend::ProgressUpdate,
    ) -> Result<badgery::backend::ProgressCommit, badgery::backend::Error> {
        use std::sync::atomic::Ordering;
        if self.commits_left.fetch_sub(1, Ordering::SeqCst) <= 0 {
            return Err(badgery::backend::Error::unavailable("the store went away"));
        }
        self.commits.fetch_add(1, Ordering::SeqCst);
        self.inner.commit_progress(update).await
    }
    async fn progress_of(
        &self,
        learners: &[String],
    ) -> Result<Vec<Option<badgery::backend::StoredProgress>>, badgery::backend::Error> {
        self.inner.progress_of(learners).await
    }
    async fn handled(
        &self,
        events: &[(String, String)],
    ) -> Result<Vec<bool>, badgery::backend::Error> {
        self.inner.handled(events).await
    }
    async fn commit_progress_batch(
        &self,
        updates: Vec<badgery::backend::ProgressUpdate>,
    ) -> Result<badgery::backend::BatchCommit, badgery::backend::Error> {
        self.inner.commit_progress_batch(updates).await
    }
    async fn learners(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>, badgery::backend::Error> {
        self.inner.learners(after, limit).await
    }
    async fn checkpoint(&self, name: &str) -> Result<Option<u64>, badgery::backend::Error> {
        self.inner.checkpoint(name).await
    }
    async fn set_checkpoint(
        &self,
        name: &str,
        position: u64,
    ) -> Result<(), badgery::backend::Error> {
        self.inner.set_checkpoint(name, position).await
    }
}

/// A back-fill interrupted in its second page (the store fails) resumes at that page when
/// run again: it commits only the learners after the first page, and every learner who
/// meets the new rule is awarded once.
#[tokio::test]
async fn an_interrupted_back_fill_resumes_at_its_page() {
    const LEARNERS: usize = 1200;
    let all_rules = RuleSet::from_toml(RULES).unwrap();
    let without = RuleSet::new(all_rules.classes().to_vec()).unwrap();
    let events: Vec<Event> = (0..LEARNERS)
        .flat_map(|i| {
            ["course-v1:Org+A+2026", "course-v1:Org+C+2026"].map(|course| {
                Event::from_json(&format!(
                    r#"{{"event":"certificate","learner":"b{i:04}","course":"{course}","passed":true,"mode":"audit"}}"#
                ))
                .unwrap()
            })
        })
        .collect();
    let store = Arc::new(MemoryStore::new());
    let backend = Arc::new(FlakyBackend::new(issuer(), 0.0, 1));
    let directory = directory(&events);
    let progress = |commits_left| {
        Arc::new(FailingAfter {
            inner: store.clone(),
            commits_left: std::sync::atomic::AtomicI64::new(commits_left),
            commits: std::sync::atomic::AtomicU64::new(0),
            reads: std::sync::atomic::AtomicU64::new(0),
        })
    };
    let engine = |rules: RuleSet, progress: Arc<FailingAfter>| {
        Engine::new(rules, store.clone(), backend.clone(), directory.clone())
            .with_stored_progress(progress)
    };
    let first = engine(without, progress(i64::MAX));
    first.register_classes(classes(&all_rules)).await.unwrap();
    first.handle_batch(&events).await.unwrap();
    let count = |keys: &BTreeSet<String>| keys.iter().filter(|k| k.contains("completed-2")).count();
    assert_eq!(count(&issued(&*store).await.0), 0);

    // The back-fill's store fails at its 700th commit, in the second page of 500.
    let crashing = progress(700);
    let second = engine(all_rules.clone(), crashing.clone());
    assert!(second.set_rules(all_rules.clone()).await.is_err());
    assert_eq!(count(&issued(&*store).await.0), 700);

    let resumed = progress(i64::MAX);
    let third = engine(all_rules.clone(), resumed.clone());
    third.set_rules(all_rules).await.unwrap();
    assert_eq!(
        count(&issued(&*store).await.0),
        LEARNERS,
        "every learner back-filled once"
    );
    assert_eq!(
        resumed.reads.load(std::sync::atomic::Ordering::SeqCst),
        (LEARNERS - 500) as u64,
        "resumed at the second page: the first page is not read again"
    );
    assert_eq!(
        resumed.commits.load(std::sync::atomic::Ordering::SeqCst),
        (LEARNERS - 700) as u64,
        "of the second page, the 200 already back-filled change nothing"
    );
}

/// With stored progress the engine's memory does not grow with learners: after ten times as
/// many learners it holds no learner and the same names (in memory, it holds every one).
#[tokio::test]
async fn the_engine_holds_no_learner_when_progress_is_stored() {
    let rules = RuleSet::from_toml(RULES).unwrap();
    let few = events(2);
    let many = events(20);
    let mut measured = Vec::new();
    for stored in [true, false] {
        let mut uses = Vec::new();
        for log in [&few, &many] {
            let store = Arc::new(MemoryStore::new());
            let backend: Backend = Arc::new(FlakyBackend::new(issuer(), 0.0, 1));
            let mut engine = Engine::new(rules.clone(), store.clone(), backend, directory(log));
            if stored {
                engine = engine.with_stored_progress(store.clone());
            }
            engine.register_classes(classes(&rules)).await.unwrap();
            for event in log.iter() {
                engine.handle(event).await.unwrap();
            }
            if stored {
                let learners: BTreeSet<&str> = log.iter().map(Event::learner).collect();
                let kept = store.learners(None, 100_000).await.unwrap();
                assert_eq!(
                    kept.len(),
                    learners.len(),
                    "every learner's progress is stored"
                );
            }
            uses.push(engine.memory_use());
        }
        measured.push(uses);
    }
    let (stored, in_memory) = (&measured[0], &measured[1]);
    assert_eq!(stored[0].learners, 0);
    assert_eq!(stored[1].learners, 0);
    assert_eq!(
        stored[0].names, stored[1].names,
        "names grow with the catalogue only"
    );
    assert!(in_memory[0].learners > 0);
    assert_eq!(in_memory[1].learners, 10 * in_memory[0].learners);
}
