//! The examples through Badgr: `award_flow --backend badgr` and `issue --backend badgr` run as
//! child processes against the Badgr test server of `crates/badgr` (started in this process,
//! answering as the recorded real server did), with injected failures and SIGKILLs; the
//! server's own records are counted: every award once in Badgr.
//!
//! The examples are the binaries `cargo test` builds (`cargo test --test badgr` alone does
//! not: build them first with `cargo build --examples`).

#![allow(clippy::unwrap_used)] // A test's helpers may panic: that is how a test fails.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;

#[path = "../crates/badgr/tests/support/server.rs"]
mod server;

#[path = "support/examples.rs"]
mod examples;
use examples::example;

/// The Badgr issuer the examples award as (an entityId as Badgr draws them).
const ISSUER: &str = "qaWd4VmPReyl_saXGhmjyg";

/// A Badgr test server on a runtime of its own, which serves while the test runs children.
struct Badgr {
    url: String,
    state: server::Shared,
    _runtime: tokio::runtime::Runtime,
}

impl Badgr {
    fn start() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let (url, state) = runtime.block_on(server::start());
        Badgr {
            url,
            state,
            _runtime: runtime,
        }
    }

    /// An example's command with the server and account in its environment.
    fn command(&self, name: &str) -> Command {
        let mut command = Command::new(example(name));
        command
            .env("BADGR_URL", &self.url)
            .env("BADGR_USERNAME", server::USERNAME)
            .env("BADGR_PASSWORD", server::PASSWORD)
            .env("BADGR_ISSUER", ISSUER)
            .env_remove("BADGR_TOKEN_FILE");
        command
    }

    fn server(&self) -> std::sync::MutexGuard<'_, server::Server> {
        self.state.lock().unwrap()
    }

    /// Badgr's assertions by (class entityId, recipient), in the order Badgr made them.
    fn assertions(&self) -> BTreeMap<(String, String), Vec<Value>> {
        let mut by_award: BTreeMap<(String, String), Vec<Value>> = BTreeMap::new();
        for a in &self.server().assertions {
            let key = (
                a["badgeclass"].as_str().unwrap().to_owned(),
                a["recipient"]["plaintextIdentity"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            );
            by_award.entry(key).or_default().push(a.clone());
        }
        by_award
    }

    /// The class tagged `badgery:SLUG` (exactly one).
    fn class(&self, slug: &str) -> Value {
        let tag = Value::String(format!("badgery:{slug}"));
        let server = self.server();
        let tagged: Vec<&Value> = server
            .classes
            .iter()
            .filter(|c| c["tags"].as_array().unwrap().contains(&tag))
            .collect();
        assert_eq!(tagged.len(), 1, "one Badgr class for {slug}");
        tagged[0].clone()
    }
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The table award_flow prints: (learner, badge as shown, assertion URL).
fn table(stdout: &str) -> Vec<(String, String, String)> {
    stdout
        .lines()
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .map(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            (
                words[0].to_owned(),
                words[1].to_owned(),
                words[words.len() - 1].to_owned(),
            )
        })
        .collect()
}

fn run_award_flow(badgr: &Badgr, out: &Path, extra: &[&str]) -> String {
    let output = badgr
        .command("award_flow")
        .args(["--backend", "badgr", "--out"])
        .arg(out)
        .args(extra)
        .output()
        .unwrap();
    assert!(output.status.success(), "award_flow: {}", text(&output));
    String::from_utf8(output.stdout).unwrap()
}

/// Every use case of the Open edX proposal through the engine into Badgr: classes matched
/// by course and mode with the mode-less fallback, classes created on the first award (the
/// courses without a configured class), count and group badges keyed by slug, expiry sent
/// with each award, alignments and the issuing component on the class; with 30 % of backend
/// calls failing (half with the answer lost after Badgr stored the award), every award is
/// one Badgr assertion; a second run over the same store sends nothing to Badgr.
#[test]
fn award_flow_through_badgr_issues_each_award_once_in_badgr() {
    let badgr = Badgr::start();
    let dir = tempfile::tempdir().unwrap();
    let store = format!("sqlite:{}", dir.path().join("awards.sqlite3").display());
    let stdout = run_award_flow(
        &badgr,
        dir.path(),
        &[
            "--store",
            &store,
            "--backend-failure-rate",
            "0.3",
            "--seed",
            "7",
        ],
    );
    let rows = table(&stdout);
    assert_eq!(rows.len(), 13, "the scripted flow's 13 awards: {stdout}");
    let by_award = badgr.assertions();
    let total: usize = by_award.values().map(Vec::len).sum();
    assert_eq!(total, rows.len(), "one Badgr assertion per award: {stdout}");
    let ids: BTreeSet<String> = badgr
        .server()
        .assertions
        .iter()
        .map(|a| a["openBadgeId"].as_str().unwrap().to_owned())
        .collect();
    for (learner, badge, url) in &rows {
        assert!(
            ids.contains(url),
            "{learner} {badge}: {url} is not one of Badgr's assertions"
        );
    }
    let shown: BTreeSet<&str> = rows.iter().map(|(_, _, url)| url.as_str()).collect();
    assert_eq!(shown.len(), rows.len(), "every row its own assertion");

    // Course and mode: ada (verified) holds rust-verified, bob (audit) the fallback `rust`.
    let holders = |slug: &str| -> BTreeSet<String> {
        let class = badgr.class(slug);
        by_award
            .iter()
            .filter(|((class_id, _), _)| class["entityId"] == Value::String(class_id.clone()))
            .map(|((_, email), _)| email.split('@').next().unwrap().to_owned())
            .collect()
    };
    assert_eq!(holders("rust-verified"), BTreeSet::from(["ada".to_owned()]));
    assert_eq!(holders("rust"), BTreeSet::from(["bob".to_owned()]));
    assert_eq!(
        holders("two-courses"),
        BTreeSet::from(["ada".to_owned(), "bob".to_owned()])
    );
    assert_eq!(holders("data-track"), BTreeSet::from(["bob".to_owned()]));
    assert_eq!(
        holders("three-enrollments"),
        BTreeSet::from(["bob".to_owned()])
    );
    assert_eq!(holders("capstone"), BTreeSet::from(["cy".to_owned()]));
    // Classes created on the first award: the Intro course's, with its mode-less fallback
    // serving both learners, and the Data and Capstone courses'.
    let server_classes = badgr.server().classes.clone();
    let auto: Vec<&Value> = server_classes
        .iter()
        .filter(|c| {
            c["tags"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t.as_str().unwrap().starts_with("badgery:course-"))
        })
        .collect();
    assert!(
        auto.len() >= 3,
        "classes created on the first award: {auto:#?}"
    );
    for class in &server_classes {
        let tags = class["tags"].as_array().unwrap();
        assert!(
            tags.iter()
                .any(|t| t.as_str().unwrap().starts_with("badgery:")),
            "{class}"
        );
        assert!(class["image"].as_str().unwrap().starts_with("data:image/"));
    }
    let rust = badgr.class("rust");
    assert_eq!(rust["tags"][1], "openedx__course", "{rust}");
    assert_eq!(rust["alignments"][0]["targetCode"], "ch04", "{rust}");
    assert_eq!(
        rust["criteriaUrl"],
        "https://lms.example.org/courses/rust/about"
    );
    // The Python class expires awards after 730 days: Badgr gets the date with each award.
    let python = badgr.class("python");
    assert_eq!(python["expires"]["amount"], 730);
    for awards in by_award.values() {
        for a in awards {
            if a["badgeclass"] == python["entityId"] {
                let issued =
                    chrono::DateTime::parse_from_rfc3339(a["issuedOn"].as_str().unwrap()).unwrap();
                let expires =
                    chrono::DateTime::parse_from_rfc3339(a["expires"].as_str().unwrap()).unwrap();
                assert_eq!((expires - issued).num_days(), 730, "{a}");
            } else {
                assert!(a["expires"].is_null(), "{a}");
            }
            // Evidence never carries a null URL.
            for e in a["evidence"].as_array().unwrap() {
                assert!(!e.get("url").is_some_and(Value::is_null), "{a}");
            }
        }
    }
    let (posts, tokens) = {
        let s = badgr.server();
        (s.award_posts, s.password_grants + s.refresh_grants)
    };
    assert!(
        posts > 13,
        "the injected failures made the engine post again"
    );
    assert_eq!(tokens, 1, "one login for the whole run");
    eprintln!(
        "award_flow through Badgr at 30 % injected failures: {total} awards, {total} Badgr \
         assertions, {posts} award posts, {tokens} token request; {}",
        stdout.lines().rev().nth(1).unwrap_or_default()
    );

    // Again over the same store: nothing new is sent.
    let requests = badgr.server().api_requests;
    let again = run_award_flow(&badgr, dir.path(), &["--store", &store]);
    assert_eq!(table(&again), rows, "the same table");
    assert_eq!(badgr.server().api_requests, requests, "no request to Badgr");
}

/// Round trips per award in steady state: with every class created, each award is one
/// request to Badgr (a repeated award of a class, number 2 and on, adds the lookup that
/// counts the recipient's awards); one token request in all.
#[test]
fn an_award_in_steady_state_is_one_round_trip() {
    let badgr = Badgr::start();
    let dir = tempfile::tempdir().unwrap();
    let stdout = run_award_flow(&badgr, dir.path(), &["--store", "memory"]);
    let rows = table(&stdout);
    let server = badgr.server();
    let classes = server.classes.len();
    let repeats = rows
        .iter()
        .filter(|(_, badge, _)| badge.contains('#'))
        .count();
    // Per class: the lookup by tag, the creation, the lookup that picks the first created.
    let class_requests = 3 * classes;
    let award_requests = server.api_requests as usize - class_requests;
    assert_eq!(
        award_requests,
        rows.len() + repeats,
        "one request per award (and a lookup per repeat): {stdout}"
    );
    assert_eq!(server.password_grants, 1);
    assert_eq!(server.refresh_grants, 0);
    eprintln!(
        "{} awards ({repeats} repeated) in {award_requests} award requests; {classes} classes in \
         {class_requests} requests; {} token request",
        rows.len(),
        server.password_grants
    );
}

/// A missing setting is bad input (exit 2, naming the variable); `--signed` is the hosted
/// issuer's.
#[test]
fn badgr_settings_come_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(example("award_flow"))
        .args(["--backend", "badgr", "--store", "memory", "--out"])
        .arg(dir.path())
        .env_remove("BADGR_URL")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("BADGR_URL"), "{}", text(&output));
    let output = Command::new(example("award_flow"))
        .args(["--backend", "badgr", "--signed"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    let output = Command::new(example("award_flow"))
        .args(["--backend", "other"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(
        text(&output).contains("expected hosted or badgr"),
        "{}",
        text(&output)
    );
}

const RULES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/crates/rules/tests/data/rules/platform.toml"
);

/// The rule tests' event log for `copies` times as many learners (`ada` becomes `ada-0`, …;
/// 17 awards per copy), written into `dir`.
fn events_file(dir: &Path, copies: usize) -> PathBuf {
    let mut log = String::new();
    for copy in 0..copies {
        for line in include_str!("../crates/rules/tests/data/rules/events.jsonl")
            .lines()
            .filter(|l| !l.trim().is_empty())
        {
            let (head, rest) = line.split_once(r#""learner":""#).unwrap();
            let (learner, tail) = rest.split_once('"').unwrap();
            log.push_str(&format!("{head}\"learner\":\"{learner}-{copy}\"{tail}\n"));
        }
    }
    let events = dir.join("events.jsonl");
    std::fs::write(&events, log).unwrap();
    events
}

/// `issue --list` over `store`: one JSON value per issued award.
fn list(store: &str) -> Vec<Value> {
    let output = Command::new(example("issue"))
        .args(["--store", store, "--list"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output));
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The awards of a `--list`: (learner, badge, award number).
fn awards(lines: &[Value]) -> Vec<(String, String, u64)> {
    lines
        .iter()
        .map(|l| {
            (
                l["learner"].as_str().unwrap().to_owned(),
                l["badge"].as_str().unwrap().to_owned(),
                l["sequence"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// An `issue` worker through `badgr` over `store`, its tokens in `tokens`, with 20 % of
/// backend calls failing (drawn from `seed`).
fn worker(badgr: &Badgr, store: &str, events: &Path, tokens: &Path, seed: u64) -> Command {
    let mut command = badgr.command("issue");
    command
        .args(["--backend", "badgr", "--store", store, "--rules", RULES])
        .args(["--backend-failure-rate", "0.2", "--seed", &seed.to_string()])
        .arg(events)
        .env("BADGR_TOKEN_FILE", tokens)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    command
}

/// The awards of `events` handled by one `issue` worker without kills or failures, with a
/// Badgr server and store of its own, and how long it took.
fn uninterrupted(dir: &Path, events: &Path) -> (Vec<Value>, Duration) {
    let clean = Badgr::start();
    let store = format!("sqlite:{}", dir.join("clean.sqlite3").display());
    let started = std::time::Instant::now();
    let output = clean
        .command("issue")
        .args(["--backend", "badgr", "--store", &store, "--rules", RULES])
        .arg(events)
        .output()
        .unwrap();
    let took = started.elapsed();
    assert!(output.status.success(), "{}", text(&output));
    let expected = list(&store);
    assert!(!expected.is_empty());
    (expected, took)
}

/// Checks that Badgr holds exactly the listed awards' assertions, one each.
fn assert_one_badgr_assertion_per_award(badgr: &Badgr, listed: &[Value], what: &str) {
    let server = badgr.server();
    let held: BTreeSet<&str> = server
        .assertions
        .iter()
        .map(|a| a["openBadgeId"].as_str().unwrap())
        .collect();
    assert_eq!(
        server.assertions.len(),
        listed.len(),
        "{what}: one Badgr assertion per award"
    );
    for line in listed {
        let url = line["assertion"].as_str().unwrap();
        assert!(held.contains(url), "{what}: {url} is Badgr's");
    }
}

/// The `issue` worker through Badgr, SIGKILLed at random points and restarted, with 20 % of
/// backend calls failing: its `--list` equals an uninterrupted run's awards, Badgr holds
/// exactly one assertion per award, and the token file shared by every process means one
/// login in all.
#[test]
fn issue_through_badgr_killed_and_restarted_awards_each_once_in_badgr() {
    const KILLS: u32 = 6;
    let badgr = Badgr::start();
    let dir = tempfile::tempdir().unwrap();
    let events = events_file(dir.path(), 6);
    // The kills fall within the first half of the time an uninterrupted run takes.
    let (expected, took) = uninterrupted(dir.path(), &events);
    let store = format!("sqlite:{}", dir.path().join("worker.sqlite3").display());
    let tokens = dir.path().join("badgr-tokens.json");

    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    eprintln!("kill points seeded with {seed}");
    let window = (u64::try_from(took.as_millis()).unwrap() / 2).max(100);
    let (mut kills, mut runs) = (0, 0);
    // A run killed after Badgr answered the password grant but before the token was saved
    // has to log in again; a run that starts with a saved token never should.
    let mut runs_without_saved_token = 0;
    while kills < KILLS {
        runs += 1;
        assert!(
            runs < 10 * KILLS,
            "the worker keeps finishing before the kill"
        );
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        runs_without_saved_token += u32::from(!tokens.exists());
        let mut child = worker(&badgr, &store, &events, &tokens, 3).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(20 + seed % window));
        if child.try_wait().unwrap().is_none() {
            kills += 1;
        }
        child.kill().unwrap();
        child.wait().unwrap();
    }
    runs_without_saved_token += u32::from(!tokens.exists());
    let output = worker(&badgr, &store, &events, &tokens, 3)
        .output()
        .unwrap();
    assert!(output.status.success(), "the last run: {}", text(&output));
    let listed = list(&store);
    assert_eq!(
        awards(&listed),
        awards(&expected),
        "the awards of an uninterrupted run"
    );
    assert_one_badgr_assertion_per_award(&badgr, &listed, &format!("after {kills} kills"));
    let server = badgr.server();
    assert!(
        (1..=runs_without_saved_token).contains(&server.password_grants),
        "{} logins in {} runs, {runs_without_saved_token} of them started without a saved \
         token: the token file did not carry the login",
        server.password_grants,
        runs + 1
    );
    assert_eq!(server.refused_token_requests, 0);
    eprintln!(
        "issue through Badgr: {kills} kills in {runs} runs, {} awards, {} Badgr assertions, {} \
         award posts, {} token requests",
        listed.len(),
        server.assertions.len(),
        server.award_posts,
        server.password_grants + server.refresh_grants
    );
}

/// Two `issue` workers through Badgr at once over one store, both handling every event, at
/// 20 % injected failures: between them, one Badgr assertion per award.
#[test]
fn two_issue_workers_at_once_through_badgr_award_each_once() {
    let badgr = Badgr::start();
    let dir = tempfile::tempdir().unwrap();
    let events = events_file(dir.path(), 6);
    let (expected, _) = uninterrupted(dir.path(), &events);
    let store = format!("sqlite:{}", dir.path().join("shared.sqlite3").display());
    let tokens = dir.path().join("badgr-tokens.json");
    let children: Vec<_> = (0..2)
        .map(|seed| {
            worker(&badgr, &store, &events, &tokens, seed)
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "a worker: {}", text(&output));
    }
    let listed = list(&store);
    assert_eq!(awards(&listed), awards(&expected));
    assert_one_badgr_assertion_per_award(&badgr, &listed, "two workers at once");
    let server = badgr.server();
    assert!(
        server.password_grants <= 2,
        "a login per worker at most: {}",
        server.password_grants
    );
    eprintln!(
        "two issue workers through Badgr: {} awards, {} Badgr assertions, {} award posts, {} \
         logins",
        listed.len(),
        server.assertions.len(),
        server.award_posts,
        server.password_grants
    );
}
