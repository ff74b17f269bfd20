//! Durability by killing processes and concurrency by running several: the `issue` worker runs
//! as a child process over a SQLite file (and a PostgreSQL server), is SIGKILLed at random
//! points, restarted each time, and at the end the store holds exactly the awards of an
//! uninterrupted run, each issued once; two workers run at once over one store and, between
//! them, get one answer from the backend per award.
//!
//! The worker is the `issue` example's binary, which `cargo test` builds (`cargo test --test
//! crash` alone does not: build it first with `cargo build --example issue`).

#![allow(clippy::unwrap_used)] // A test's helpers may panic: that is how a test fails.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const RULES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/rules/platform.toml"
);
const EVENTS: &str = include_str!("data/rules/events.jsonl");

/// How many times a run is killed.
const KILLS: u32 = 20;

#[path = "support/examples.rs"]
mod examples;
use examples::example;

/// The example platform's events for `copies` times as many learners (`ada` becomes `ada-0`,
/// `ada-1`, …): 17 awards per copy.
fn scaled_events(copies: usize) -> String {
    let mut out = String::new();
    for copy in 0..copies {
        for line in EVENTS.lines().filter(|l| !l.trim().is_empty()) {
            let (head, rest) = line.split_once(r#""learner":""#).unwrap();
            let (learner, tail) = rest.split_once('"').unwrap();
            out.push_str(&format!(r#"{head}"learner":"{learner}-{copy}"{tail}"#));
            out.push('\n');
        }
    }
    out
}

/// A small deterministic generator for kill points (seeded from the clock; the seed is
/// printed so that a failing run can be repeated with `BADGERY_CRASH_SEED`).
struct Rng(u64);

impl Rng {
    fn new() -> Self {
        let seed = std::env::var("BADGERY_CRASH_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
            });
        eprintln!("kill points seeded with BADGERY_CRASH_SEED={seed}");
        Rng(seed | 1)
    }

    fn below(&mut self, n: u64) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

struct Worker<'a> {
    store: &'a str,
    events: &'a Path,
    call_log: &'a Path,
}

impl Worker<'_> {
    fn command(&self) -> Command {
        let mut command = Command::new(example("issue"));
        command
            .args(["--store", self.store, "--rules", RULES])
            .args(["--backend-failure-rate", "0.2", "--seed", "7"])
            .arg(self.events)
            .env("BADGERY_ISSUE_CALL_LOG", self.call_log)
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        command
    }

    /// Runs to the end; panics unless it exits 0.
    fn finish(&self) -> Duration {
        let started = Instant::now();
        let output = self.command().output().unwrap();
        assert!(
            output.status.success(),
            "the worker failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        started.elapsed()
    }

    /// Starts a run and SIGKILLs it after `after`; whether it was still running then.
    fn kill_after(&self, after: Duration) -> bool {
        let mut child = self.command().spawn().unwrap();
        std::thread::sleep(after);
        let running = child.try_wait().unwrap().is_none();
        child.kill().unwrap(); // SIGKILL on unix
        child.wait().unwrap();
        running
    }

    fn list(&self) -> String {
        let output = Command::new(example("issue"))
            .args(["--store", self.store, "--list"])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }
}

/// Per award (learner, badge, number): the assertion ids the backend returned to the engine,
/// one per call that got an answer (an injected lost response is retried by design, and
/// logged only when an answer arrives).
fn calls(log: &Path) -> BTreeMap<String, Vec<String>> {
    let mut calls: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in std::fs::read_to_string(log).unwrap_or_default().lines() {
        let (key, id) = line.rsplit_once('\t').unwrap();
        calls.entry(key.to_owned()).or_default().push(id.to_owned());
    }
    calls
}

/// Kills a worker over `store` at random points, `KILLS` times, then lets it finish, and
/// compares with an uninterrupted run over `reference`.
fn killed_runs_equal_an_uninterrupted_one(dir: &Path, reference: &str, store: &str) {
    let events = dir.join("events.jsonl");
    std::fs::write(&events, scaled_events(40)).unwrap();

    let clean_log = dir.join("clean-calls.log");
    let clean = Worker {
        store: reference,
        events: &events,
        call_log: &clean_log,
    };
    let took = clean.finish();
    let expected = clean.list();
    let awards = expected.lines().count();
    assert_eq!(awards, 17 * 40, "the uninterrupted run issues every award");

    let log = dir.join("calls.log");
    let crashing = Worker {
        store,
        events: &events,
        call_log: &log,
    };
    let mut rng = Rng::new();
    // Kill points within a quarter of a whole run: each run gets some way before it is
    // killed, so the kills fall all along the work (and, once it is done, in the replay).
    let window = (u64::try_from(took.as_millis()).unwrap() / 4).max(200);
    let (mut kills, mut runs) = (0, 0);
    while kills < KILLS {
        runs += 1;
        assert!(
            runs < 10 * KILLS,
            "the worker keeps finishing before it can be killed"
        );
        // The store, not the process, carries the work from one run to the next.
        let after = Duration::from_millis(50 + rng.below(window));
        if crashing.kill_after(after) {
            kills += 1;
        }
    }
    crashing.finish();

    assert_eq!(
        crashing.list(),
        expected,
        "after {kills} kills the store holds the awards of the uninterrupted run, with the same ids"
    );
    let calls = calls(&log);
    let keys: BTreeSet<&String> = calls.keys().collect();
    assert_eq!(keys.len(), awards, "the backend answered for every award");
    let mut called_again = 0;
    for (key, ids) in &calls {
        let distinct: BTreeSet<&String> = ids.iter().collect();
        assert_eq!(
            distinct.len(),
            1,
            "{key}: one assertion per award, got {ids:?}"
        );
        if ids.len() > 1 {
            called_again += 1;
        }
    }
    // The worker issues one award at a time: a kill can catch at most one answer not yet
    // recorded in the store, and only that award is called again (with its idempotency key,
    // getting the same assertion back).
    assert!(
        called_again <= kills,
        "{called_again} awards called again after {kills} kills"
    );
    eprintln!(
        "{store}: {kills} kills in {runs} runs; {awards} awards, each issued once; {} answered \
         backend calls; {called_again} awards called again (same assertion) after a kill caught \
         their answer before it was recorded",
        calls.values().map(Vec::len).sum::<usize>()
    );
}

/// Two workers over one store, started together on the same events: the store's claims and
/// leases share the awards out, so the backend answers once per award across both processes.
fn two_workers_at_once_share_the_awards(dir: &Path, reference: &str, store: &str) {
    let events = dir.join("events.jsonl");
    std::fs::write(&events, scaled_events(40)).unwrap();
    let clean_log = dir.join("clean-calls.log");
    let clean = Worker {
        store: reference,
        events: &events,
        call_log: &clean_log,
    };
    clean.finish();
    let expected = clean.list();

    let log = dir.join("calls.log");
    let worker = Worker {
        store,
        events: &events,
        call_log: &log,
    };
    let children: Vec<_> = (0..2).map(|_| worker.command().spawn().unwrap()).collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "a worker failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    assert_eq!(
        worker.list(),
        expected,
        "the awards of one uninterrupted worker"
    );
    let calls = calls(&log);
    assert_eq!(calls.len(), 17 * 40, "the backend answered for every award");
    let twice: Vec<_> = calls.iter().filter(|(_, ids)| ids.len() > 1).collect();
    assert!(
        twice.is_empty(),
        "awards the backend answered twice: {twice:?}"
    );
    eprintln!(
        "{store}: 2 workers at once, {} awards, {} answered backend calls",
        calls.len(),
        calls.values().map(Vec::len).sum::<usize>()
    );
}

#[test]
fn two_workers_at_once_over_sqlite_issue_each_award_once() {
    let dir = tempfile::tempdir().unwrap();
    let reference = format!("sqlite:{}", dir.path().join("reference.sqlite3").display());
    let store = format!("sqlite:{}", dir.path().join("store.sqlite3").display());
    two_workers_at_once_share_the_awards(dir.path(), &reference, &store);
}

#[test]
fn two_workers_at_once_over_postgres_issue_each_award_once() {
    use badgery::store_sql::testing::TempPostgres;
    let Some(server) =
        TempPostgres::start_or_skip("two_workers_at_once_over_postgres_issue_each_award_once")
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let reference = server.create_database("reference").unwrap();
    let store = server.create_database("shared").unwrap();
    two_workers_at_once_share_the_awards(dir.path(), &reference, &store);
}

#[test]
fn a_worker_killed_20_times_over_sqlite_issues_every_award_once() {
    let dir = tempfile::tempdir().unwrap();
    let reference = format!("sqlite:{}", dir.path().join("reference.sqlite3").display());
    let store = format!("sqlite:{}", dir.path().join("store.sqlite3").display());
    killed_runs_equal_an_uninterrupted_one(dir.path(), &reference, &store);
}

#[test]
fn a_worker_killed_20_times_over_postgres_issues_every_award_once() {
    use badgery::store_sql::testing::TempPostgres;
    let Some(server) = TempPostgres::start_or_skip(
        "a_worker_killed_20_times_over_postgres_issues_every_award_once",
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let reference = server.create_database("reference").unwrap();
    let store = server.create_database("crashing").unwrap();
    killed_runs_equal_an_uninterrupted_one(dir.path(), &reference, &store);
}
