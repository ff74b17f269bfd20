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
    "/crates/rules/tests/data/rules/platform.toml"
);
const EVENTS: &str = include_str!("../crates/rules/tests/data/rules/events.jsonl");

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
    /// `--shard K/N` and `--backend-failure-rate`, when not the whole log at 20 %.
    shard: Option<(u32, u32)>,
    failure_rate: &'a str,
}

impl<'a> Worker<'a> {
    fn new(store: &'a str, events: &'a Path, call_log: &'a Path) -> Self {
        Worker {
            store,
            events,
            call_log,
            shard: None,
            failure_rate: "0.2",
        }
    }

    fn command(&self) -> Command {
        let mut command = Command::new(example("issue"));
        command
            .args(["--store", self.store, "--rules", RULES])
            .args(["--backend-failure-rate", self.failure_rate, "--seed", "7"]);
        if let Some((k, n)) = self.shard {
            command.arg("--shard").arg(format!("{k}/{n}"));
        }
        command
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
    let clean = Worker::new(reference, &events, &clean_log);
    let took = clean.finish();
    let expected = clean.list();
    let awards = expected.lines().count();
    assert_eq!(awards, 17 * 40, "the uninterrupted run issues every award");

    let log = dir.join("calls.log");
    let crashing = Worker::new(store, &events, &log);
    let mut rng = Rng::new();
    // Each run resumes where the last one's store left off (the stored progress and the
    // checkpoint), so the kill points fall within a twentieth of a whole run: the twenty
    // kills then spread over the work instead of falling after it is done.
    let window = (u64::try_from(took.as_millis()).unwrap() / u64::from(KILLS)).max(50);
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
    let clean = Worker::new(reference, &events, &clean_log);
    clean.finish();
    let expected = clean.list();

    let log = dir.join("calls.log");
    let worker = Worker::new(store, &events, &log);
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

/// `shards` workers over one store, each handling its shard of one log in which every
/// learner's events are spread across the shards, all started together, each SIGKILLed at
/// random points and restarted, with 30 % of backend calls failing: their awards are those of
/// one uninterrupted process over the whole log, each issued once. The log holds facts that
/// only accumulate (enrollments, passing certificates, activity completions, manual awards),
/// whose outcome does not depend on the order in which the shards' processes handle them.
fn killed_shards_equal_one_process(dir: &Path, reference: &str, store: &str, shards: u32) {
    const KILLS_PER_SHARD: u32 = 5;
    let events = dir.join("events.jsonl");
    // Certificates carry their mode, as Open edX's do: one without it takes the learner's
    // enrollment mode at the time it is handled, which depends on the order of the shards.
    let mut modes = std::collections::HashMap::new();
    let mut accumulating = String::new();
    for line in scaled_events(20).lines() {
        let mut event: serde_json::Value = serde_json::from_str(line).unwrap();
        let key = (
            event["learner"].clone().to_string(),
            event["course"].to_string(),
        );
        match event["event"].as_str().unwrap() {
            "unenrolled" => continue,
            "certificate" if event["passed"] == false => continue,
            "enrolled" => {
                modes.insert(key, event["mode"].clone());
            }
            "certificate" if event.get("mode").is_none() => {
                if let Some(mode) = modes.get(&key) {
                    event["mode"] = mode.clone();
                }
            }
            _ => {}
        }
        accumulating.push_str(&format!("{event}\n"));
    }
    std::fs::write(&events, accumulating).unwrap();
    let clean_log = dir.join("clean-calls.log");
    let clean = Worker::new(reference, &events, &clean_log);
    let took = clean.finish();
    let expected = clean.list();
    assert!(!expected.is_empty());

    let log = dir.join("calls.log");
    let seed = Rng::new().below(u64::MAX);
    let window = (u64::try_from(took.as_millis()).unwrap() / u64::from(KILLS_PER_SHARD)).max(50);
    let kills: u32 = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..shards)
            .map(|k| {
                let (events, log) = (&events, &log);
                scope.spawn(move || {
                    let mut worker = Worker::new(store, events, log);
                    worker.shard = Some((k, shards));
                    worker.failure_rate = "0.3";
                    let mut rng =
                        Rng(seed ^ (u64::from(k) + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
                    let mut kills = 0;
                    for _ in 0..KILLS_PER_SHARD {
                        if worker.kill_after(Duration::from_millis(20 + rng.below(window))) {
                            kills += 1;
                        }
                    }
                    worker.finish();
                    kills
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    let listed = Worker::new(store, &events, &log).list();
    let (got, want): (BTreeSet<&str>, BTreeSet<&str>) =
        (listed.lines().collect(), expected.lines().collect());
    let missing: Vec<_> = want.difference(&got).collect();
    let extra: Vec<_> = got.difference(&want).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{shards} shards killed {kills} times between them must issue what one process issues; \
         missing {missing:#?}, extra {extra:#?}"
    );
    let calls = calls(&log);
    for (key, ids) in &calls {
        let distinct: BTreeSet<&String> = ids.iter().collect();
        assert_eq!(
            distinct.len(),
            1,
            "{key}: one assertion per award, got {ids:?}"
        );
    }
    assert_eq!(calls.len(), expected.lines().count());
    eprintln!(
        "{store}: {shards} shards, {kills} kills, {} awards each issued once, {} answered backend \
         calls at 30 % injected failures",
        calls.len(),
        calls.values().map(Vec::len).sum::<usize>()
    );
}

#[test]
fn two_shards_killed_at_random_over_sqlite_issue_what_one_process_issues() {
    let dir = tempfile::tempdir().unwrap();
    let reference = format!("sqlite:{}", dir.path().join("reference.sqlite3").display());
    let store = format!("sqlite:{}", dir.path().join("store.sqlite3").display());
    killed_shards_equal_one_process(dir.path(), &reference, &store, 2);
}

#[test]
fn four_shards_killed_at_random_over_postgres_issue_what_one_process_issues() {
    use badgery::store_sql::testing::TempPostgres;
    let Some(server) = TempPostgres::start_or_skip(
        "four_shards_killed_at_random_over_postgres_issue_what_one_process_issues",
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let reference = server.create_database("reference").unwrap();
    let store = server.create_database("sharded").unwrap();
    killed_shards_equal_one_process(dir.path(), &reference, &store, 4);
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
