//! The SQLite store's group commit under SIGKILL: a child process (this test binary again)
//! claims and completes awards 32 at a time, so that its writes share transactions, and prints
//! each write once the store has answered it. The parent kills it at random points, 20 times,
//! then checks that every answered write is in the file, and that every award is issued if and
//! only if its assertion is stored (a batch committed whole or not at all).

#![cfg(feature = "sqlite")]
#![allow(clippy::unwrap_used)] // A test's helpers may panic: that is how a test fails.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use badgery_backend::{
    AssertionRepository, AwardKey, AwardLedger, AwardState, IssuedAssertion, PendingAward,
    Recipient,
};
use badgery_store_sql::SqlStore;
use chrono::Utc;

/// Set in the child: the store's URL and the first award number it writes.
const CHILD: &str = "BADGERY_KILL_TEST_CHILD";
const KILLS: u64 = 20;
const IN_FLIGHT: u64 = 32;
/// Award numbers each child run writes from: room enough that runs never overlap.
const PER_RUN: u64 = 1_000_000;

fn key(n: u64) -> AwardKey {
    AwardKey::new(format!("learner-{n}"), "badge", 1)
}

fn assertion_id(n: u64) -> String {
    format!("https://example.org/assertions/{n}")
}

/// The child: writes awards `first..` forever, `IN_FLIGHT` at a time, printing `claimed N`
/// and `completed N` once each write is answered.
fn child(url: &str, first: u64) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let store = Arc::new(SqlStore::open(url).await.unwrap());
        let said = Arc::new(std::sync::Mutex::new(std::io::stdout()));
        let mut workers = Vec::new();
        for worker in 0..IN_FLIGHT {
            let (store, said) = (store.clone(), said.clone());
            workers.push(tokio::spawn(async move {
                let say = |line: String| {
                    let mut out = said.lock().unwrap();
                    writeln!(out, "{line}").unwrap();
                    out.flush().unwrap();
                };
                for n in (first + worker..).step_by(IN_FLIGHT as usize) {
                    let award = PendingAward::new(
                        key(n),
                        Recipient::new(key(n).learner, "l@example.org"),
                        vec![],
                        "kill test",
                        Utc::now(),
                    );
                    store.claim(award, Utc::now()).await.unwrap();
                    say(format!("claimed {n}"));
                    store.complete(assertion(n)).await.unwrap();
                    say(format!("completed {n}"));
                }
            }));
        }
        for worker in workers {
            worker.await.unwrap();
        }
    });
}

fn assertion(n: u64) -> IssuedAssertion {
    IssuedAssertion {
        id: assertion_id(n),
        key: key(n),
        issuing_component: "kill test".to_owned(),
        course: None,
        backend: "test".to_owned(),
        issued_on: Utc::now(),
        image_url: None,
        data: serde_json::Value::Null,
        baked_image: None,
        revoked: None,
    }
}

/// A small deterministic generator, seeded from the clock and printed, so a failing run's
/// kill points can be told.
fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[test]
fn answered_group_commits_survive_sigkill() {
    if let Ok(spec) = std::env::var(CHILD) {
        let (url, first) = spec.rsplit_once(' ').unwrap();
        child(url, first.parse().unwrap());
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("kill.sqlite3").display());
    let mut seed = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    println!("kill points seeded with {seed}");
    let (mut claimed, mut completed) = (BTreeSet::new(), BTreeSet::new());
    for run in 0..KILLS {
        let mut process = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "answered_group_commits_survive_sigkill",
                "--nocapture",
            ])
            .env(CHILD, format!("{url} {}", run * PER_RUN))
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        // Kill once the child has been answered a random number of writes (from a few to a
        // few hundred, so some kills land while the store opens, most mid-batch).
        let answers_before_kill = next(&mut seed) % 600;
        let started = Instant::now();
        let mut lines = BufReader::new(process.stdout.take().unwrap()).lines();
        let mut answers = 0;
        while answers < answers_before_kill && started.elapsed() < Duration::from_secs(30) {
            let Some(line) = lines.next() else { break };
            let line = line.unwrap();
            if let Some(n) = line.strip_prefix("claimed ") {
                claimed.insert(n.parse::<u64>().unwrap());
                answers += 1;
            } else if let Some(n) = line.strip_prefix("completed ") {
                completed.insert(n.parse::<u64>().unwrap());
                answers += 1;
            }
        }
        process.kill().unwrap(); // SIGKILL on Unix.
        // What the child printed before it died was answered too.
        for line in lines {
            let line = line.unwrap();
            if let Some(n) = line.strip_prefix("claimed ") {
                claimed.insert(n.parse().unwrap());
            } else if let Some(n) = line.strip_prefix("completed ") {
                completed.insert(n.parse().unwrap());
            }
        }
        process.wait().unwrap();
    }
    assert!(
        completed.len() > KILLS as usize,
        "the children completed too little to test: {}",
        completed.len()
    );

    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let store = SqlStore::open(&url).await.unwrap();
        let mut issued = BTreeSet::new();
        let mut stored = 0;
        let mut after = None;
        loop {
            let page = store.awards(after.as_ref(), 500).await.unwrap();
            let Some(last) = page.last() else { break };
            after = Some(last.key.clone());
            for award in page {
                stored += 1;
                let n: u64 = award.key.learner["learner-".len()..].parse().unwrap();
                let assertion = store.assertion(&assertion_id(n)).await.unwrap();
                match award.state {
                    AwardState::Issued { .. } => {
                        assert!(
                            assertion.is_some(),
                            "award {n} issued without its assertion"
                        );
                        issued.insert(n);
                    }
                    _ => assert!(assertion.is_none(), "award {n} pending with an assertion"),
                }
            }
        }
        for n in &claimed {
            assert!(
                store
                    .latest_award(&key(*n).learner, "badge")
                    .await
                    .unwrap()
                    .is_some(),
                "answered claim {n} lost"
            );
        }
        let lost: Vec<_> = completed.difference(&issued).collect();
        assert!(lost.is_empty(), "answered completions lost: {lost:?}");
        println!(
            "{KILLS} kills: {} answered claims and {} answered completions all stored; \
             {stored} awards in the file, {} issued",
            claimed.len(),
            completed.len(),
            issued.len()
        );
    });
}
