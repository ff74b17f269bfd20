//! The platform's awarding worker as a command: events in, hosted assertions issued and kept
//! in a durable store.
//!
//! ```text
//! cargo run --example issue -- --store URL --rules RULES.toml [--backend hosted|badgr]
//!                              [--shard K/N] [--base-url URL] EVENTS.jsonl
//! cargo run --example issue -- --store URL --list
//! ```
//!
//! The first form handles every event of EVENTS.jsonl (one JSON event per line, the `replay`
//! example's format) through the engine and the backend, then retries what is pending
//! until nothing is due. Exit status 0 when every award decided is issued, 1 when some failed
//! for good or are still pending (listed on stderr), 2 on bad input (file, line and problem on
//! stderr, nothing issued).
//!
//! - `--store URL`: `sqlite:PATH` (created if missing), `memory` or `postgres://…`.
//! - `--backend hosted` (the default) issues through the hosted issuer; `--backend badgr`
//!   through Badgr or Canvas Credentials, with the server and account from the environment:
//!   `BADGR_URL` (the API's base URL), `BADGR_USERNAME`, `BADGR_PASSWORD`, `BADGR_ISSUER`
//!   (the issuer's entityId); `BADGR_TOKEN_FILE`, when set, keeps the login's tokens in that
//!   file, shared by every run and process given it. Classes are created in Badgr on their
//!   first award, and `--list` shows Badgr's assertion URLs.
//! - A class the rules name but the store lacks is created with its slug as name and the
//!   default image `examples/images/course-default.png`.
//! - The issuer is the example platform's; `--base-url` (default
//!   `https://badges.example.org/`) roots the documents. A learner's email is
//!   `LEARNER@learners.example.org` (`--email-domain` changes the domain).
//! - `--backend-failure-rate R` and `--seed S` inject transient backend failures into either
//!   backend as in `award_flow` (half before the call, half with the response lost after the
//!   backend acted).
//! - `--list` prints every issued award, one JSON line each, in key order:
//!   `{"learner":…,"badge":…,"sequence":…,"assertion":URL}`.
//!
//! - `--shard K/N` handles only the lines of EVENTS.jsonl whose index (from 0, counting every
//!   non-blank line) modulo N equals K: N processes with K = 0…N−1 over one store, started
//!   together, handle the whole log between them.
//!
//! Each learner's progress is kept in the store (`Engine::with_stored_progress`), committed
//! with the awards it decides, so processes handling events of the same learners decide
//! consistently, and the worker records in the store how far it has got in EVENTS.jsonl (a
//! checkpoint per file and shard). An event without an `id` gets `line-INDEX` as its id.
//! Killed at any point (SIGKILL) and run again with the same arguments, it continues after
//! its checkpoint (events handled since are recognised by their ids), issues nothing twice,
//! and takes over the awards the killed run held once their leases end. Backend calls (and each Badgr request) time out after 1 s, so
//! such a lease ends 4 s after it was taken.
//!
//! Assertion ids are keyed with the secret in the environment variable `BADGERY_ID_SECRET`
//! (at least 16 bytes), else with this example's built-in one: a platform keeps its own.
//! `BADGERY_ISSUE_CALL_LOG=FILE` appends one line per assertion the backend returned to the
//! engine (learner, badge, award number, assertion id; synced to disk), for tests that count
//! the calls across crashes (an injected lost response returns none).

#[path = "award_flow/platform.rs"]
#[allow(dead_code)]
// The worker uses the example platform's issuer, backends and store opening only.
mod platform;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use badgery::backend::{
    AwardKey, AwardRequest, AwardState, BadgeBackend, BadgeClassRecord, BadgeStore, ClassImage,
    Error as BackendError, ImageFormat, IssuedAssertion, ProgressStore,
};
use badgery::fault::FlakyBackend;
use badgery::rules::{Error as RulesError, Event, RuleSet};
use badgery::{
    AutoClasses, CourseInfo, Directory, Engine, IdSecret, RetryPolicy, UrlScheme, async_trait,
};

const USAGE: &str = "usage: issue --store URL --rules RULES.toml [--backend hosted|badgr] \
                     [--shard K/N] [--base-url URL] [--email-domain DOMAIN] \
                     [--backend-failure-rate R] [--seed S] EVENTS.jsonl\n       \
                     issue --store URL --list";

/// The largest rule set or event log read; a larger file, a device or a FIFO is refused before
/// anything is read.
const MAX_INPUT: u64 = 64 << 20;

/// How long one backend call may take; an award's lease is four times as long.
const BACKEND_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);

/// How long the worker goes on retrying before it reports what is still pending.
const GIVE_UP_AFTER: std::time::Duration = std::time::Duration::from_secs(600);

const DEFAULT_SECRET: &[u8] = b"the badgery issue example's id secret: not for production";

struct Args {
    store: Option<String>,
    rules: Option<PathBuf>,
    events: Option<PathBuf>,
    base_url: String,
    email_domain: String,
    failure_rate: f64,
    seed: u64,
    list: bool,
    badgr: bool,
    /// (K, N) of `--shard K/N`.
    shard: (u64, u64),
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        store: None,
        rules: None,
        events: None,
        base_url: "https://badges.example.org/".to_owned(),
        email_domain: "learners.example.org".to_owned(),
        failure_rate: 0.0,
        seed: 1,
        list: false,
        badgr: false,
        shard: (0, 1),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or(format!("{arg} needs a value\n{USAGE}"));
        match arg.as_str() {
            "--store" => args.store = Some(value()?),
            "--rules" => args.rules = Some(PathBuf::from(value()?)),
            "--backend" => args.badgr = platform::is_badgr(&value()?)?,
            "--shard" => args.shard = shard(&value()?)?,
            "--base-url" => args.base_url = value()?,
            "--email-domain" => args.email_domain = value()?,
            "--backend-failure-rate" => args.failure_rate = platform::failure_rate(&value()?)?,
            "--seed" => args.seed = platform::seed(&value()?)?,
            "--list" => args.list = true,
            other if other.starts_with("--") => {
                return Err(format!("unknown argument {other}\n{USAGE}"));
            }
            _ if args.events.is_none() => args.events = Some(PathBuf::from(arg)),
            other => return Err(format!("a second EVENTS.jsonl {other:?}\n{USAGE}")),
        }
    }
    let ok = args.store.is_some()
        && if args.list {
            args.rules.is_none() && args.events.is_none()
        } else {
            args.rules.is_some() && args.events.is_some()
        };
    if !ok {
        return Err(USAGE.to_owned());
    }
    Ok(args)
}

/// The value of `--shard K/N`: 0 <= K < N.
fn shard(text: &str) -> Result<(u64, u64), String> {
    text.split_once('/')
        .and_then(|(k, n)| Some((k.parse().ok()?, n.parse().ok()?)))
        .filter(|(k, n)| k < n)
        .ok_or(format!(
            "--shard {text:?}: expected K/N with 0 <= K < N (say 0/4)"
        ))
}

/// How often (in events handled) the worker records its checkpoint.
const CHECKPOINT_EVERY: usize = 64;

/// Why the worker stopped short: bad input (exit 2, nothing issued) or awards not issued
/// (exit 1).
enum Stop {
    BadInput(String),
    Unfinished(Vec<String>),
}

fn read_text(path: &Path) -> Result<String, Stop> {
    let bytes = badgery::bake::read_file(path, MAX_INPUT)
        .map_err(|e| Stop::BadInput(format!("cannot read {e}")))?;
    String::from_utf8(bytes).map_err(|e| {
        Stop::BadInput(format!(
            "{}: not UTF-8 text (byte {})",
            path.display(),
            e.utf8_error().valid_up_to()
        ))
    })
}

fn read_rules(path: &Path) -> Result<RuleSet, Stop> {
    RuleSet::from_toml(&read_text(path)?).map_err(|e| {
        Stop::BadInput(match e {
            RulesError::Toml { line, problem } => format!("{}:{line}: {problem}", path.display()),
            other => format!("{}: {other}", path.display()),
        })
    })
}

/// The events of shard `k` of `n`, with their indexes (from 0, over every non-blank line);
/// an event without an id gets `line-INDEX`. Every line is checked, whatever its shard.
fn read_events(path: &Path, (k, n): (u64, u64)) -> Result<Vec<(u64, Event)>, Stop> {
    let text = read_text(path)?;
    let mut events = Vec::new();
    let mut index = 0u64;
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let event = Event::from_json(line).map_err(|e| {
            Stop::BadInput(match e {
                RulesError::Event { problem } => format!("{}:{}: {problem}", path.display(), i + 1),
                other => format!("{}:{}: {other}", path.display(), i + 1),
            })
        })?;
        if index % n == k {
            let event = match event.id() {
                Some(_) => event,
                None => event.with_id(format!("line-{index}")),
            };
            events.push((index, event));
        }
        index += 1;
    }
    Ok(events)
}

/// Learners' emails from their ids, in one domain.
#[derive(Debug)]
struct DomainDirectory(String);

#[async_trait]
impl Directory for DomainDirectory {
    async fn email(&self, learner: &str) -> Option<String> {
        Some(format!("{learner}@{}", self.0))
    }

    async fn course(&self, _course: &str) -> Option<CourseInfo> {
        None
    }
}

/// A backend that appends a line to a file, synced to disk, for each assertion its inner
/// backend returned to the engine: what a test counts across crashes.
#[derive(Debug)]
struct CallLog<B> {
    inner: B,
    file: Mutex<std::fs::File>,
}

#[async_trait]
impl<B: BadgeBackend> BadgeBackend for CallLog<B> {
    fn name(&self) -> &str {
        self.inner.name()
    }

    async fn ensure_class(&self, class: &BadgeClassRecord) -> Result<String, BackendError> {
        self.inner.ensure_class(class).await
    }

    async fn award(&self, request: &AwardRequest) -> Result<IssuedAssertion, BackendError> {
        let assertion = self.inner.award(request).await?;
        let AwardKey {
            learner,
            slug,
            sequence,
        } = &request.key;
        let line = format!("{learner}\t{slug}\t{sequence}\t{}\n", assertion.id);
        let mut file = self
            .file
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        file.write_all(line.as_bytes())
            .and_then(|()| file.sync_data())
            .map_err(|e| BackendError::unavailable_from("writing the call log", e))?;
        Ok(assertion)
    }

    async fn revoke(
        &self,
        assertion: &IssuedAssertion,
        reason: &str,
    ) -> Result<IssuedAssertion, BackendError> {
        self.inner.revoke(assertion, reason).await
    }
}

fn default_image() -> ClassImage {
    ClassImage {
        format: ImageFormat::Png,
        bytes: include_bytes!("images/course-default.png").to_vec(),
    }
}

/// The classes the rules name, as the store gets them when it lacks them (each takes its
/// course and mode from the rules when registered).
fn classes_of(rules: &RuleSet) -> Vec<BadgeClassRecord> {
    rules
        .classes()
        .iter()
        .map(|class| {
            BadgeClassRecord::new(
                class.slug.clone(),
                class.slug.clone(),
                format!("The {} badge of the example platform.", class.slug),
                format!("Earned by the rules of the {} badge.", class.slug),
                default_image(),
            )
        })
        .collect()
}

fn backend(args: &Args) -> Result<Arc<dyn BadgeBackend>, Stop> {
    let secret = match std::env::var_os("BADGERY_ID_SECRET") {
        Some(secret) => IdSecret::new(secret.into_encoded_bytes()),
        None => IdSecret::new(DEFAULT_SECRET.to_vec()),
    }
    .map_err(|e| Stop::BadInput(format!("BADGERY_ID_SECRET: {e}")))?;
    let scheme = UrlScheme::new(&args.base_url)
        .map_err(|e| Stop::BadInput(format!("--base-url {}: {e}", args.base_url)))?;
    let inner: Arc<dyn BadgeBackend> = if args.badgr {
        Arc::new(platform::badgr_from_env(BACKEND_TIMEOUT).map_err(Stop::BadInput)?)
    } else {
        Arc::new(platform::issuer_at(scheme, secret))
    };
    let flaky = FlakyBackend::new(inner, args.failure_rate, args.seed);
    let Some(log) = std::env::var_os("BADGERY_ISSUE_CALL_LOG") else {
        return Ok(Arc::new(flaky));
    };
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log)
        .map_err(|e| {
            Stop::BadInput(format!(
                "BADGERY_ISSUE_CALL_LOG {}: {e}",
                Path::new(&log).display()
            ))
        })?;
    Ok(Arc::new(CallLog {
        inner: flaky,
        file: Mutex::new(file),
    }))
}

/// Every award of the store, page by page.
async fn all_awards(store: &dyn BadgeStore) -> Result<Vec<badgery::backend::PendingAward>, String> {
    let mut awards = Vec::new();
    loop {
        let page = store
            .awards(
                awards
                    .last()
                    .map(|a: &badgery::backend::PendingAward| &a.key),
                1000,
            )
            .await
            .map_err(|e| format!("listing awards: {e}"))?;
        if page.is_empty() {
            return Ok(awards);
        }
        awards.extend(page);
    }
}

async fn list(store: &dyn BadgeStore) -> Result<(), Stop> {
    let mut out = std::io::stdout().lock();
    for award in all_awards(store)
        .await
        .map_err(|e| Stop::Unfinished(vec![e]))?
    {
        if let AwardState::Issued { assertion } = &award.state {
            let line = serde_json::json!({
                "learner": award.key.learner,
                "badge": award.key.slug,
                "sequence": award.key.sequence,
                "assertion": assertion,
            });
            writeln!(out, "{line}").map_err(|e| Stop::Unfinished(vec![e.to_string()]))?;
        }
    }
    Ok(())
}

/// What the worker is to handle, read and checked before the store is opened.
struct Work {
    rules: RuleSet,
    rules_path: PathBuf,
    events: Vec<(u64, Event)>,
    events_path: PathBuf,
    backend: Arc<dyn BadgeBackend>,
}

fn prepare(args: &Args) -> Result<Work, Stop> {
    let (Some(rules_path), Some(events_path)) = (&args.rules, &args.events) else {
        return Err(Stop::BadInput(USAGE.to_owned()));
    };
    Ok(Work {
        rules: read_rules(rules_path)?,
        rules_path: rules_path.clone(),
        events: read_events(events_path, args.shard)?,
        events_path: events_path.clone(),
        backend: backend(args)?,
    })
}

async fn work(
    args: &Args,
    work: Work,
    store: Arc<dyn BadgeStore>,
    progress: Arc<dyn ProgressStore>,
) -> Result<(), Stop> {
    let Work {
        rules,
        rules_path,
        events,
        events_path,
        backend,
    } = work;
    let mut retry = RetryPolicy::default();
    retry.first = chrono::Duration::milliseconds(20);
    retry.max_delay = chrono::Duration::milliseconds(200);
    retry.max_attempts = 100;
    let engine = Engine::new(
        rules.clone(),
        Arc::clone(&store),
        backend,
        Arc::new(DomainDirectory(args.email_domain.clone())),
    )
    .with_retry(retry)
    .with_backend_timeout(BACKEND_TIMEOUT)
    .with_lease(chrono::Duration::seconds(4))
    .with_auto_classes(AutoClasses::with_default_image(default_image()))
    .with_stored_progress(progress.clone());
    engine
        .register_classes(classes_of(&rules))
        .await
        .map_err(|e| Stop::BadInput(format!("{}: {e}", rules_path.display())))?;

    // The checkpoint names the file and the shard; it moves only over events all handled.
    let checkpoint = format!(
        "issue {} shard {}/{}",
        std::fs::canonicalize(&events_path)
            .unwrap_or_else(|_| events_path.clone())
            .display(),
        args.shard.0,
        args.shard.1
    );
    let done = progress
        .checkpoint(&checkpoint)
        .await
        .map_err(|e| Stop::Unfinished(vec![format!("reading the checkpoint: {e}")]))?;
    let mut problems = Vec::new();
    let mut handled = 0;
    for (index, event) in events
        .iter()
        .filter(|(index, _)| done.is_none_or(|done| *index > done))
    {
        if let Err(e) = engine.handle(event).await {
            problems.push(format!(
                "{}: event {} (line index {index}): {e}",
                events_path.display(),
                index + 1
            ));
        }
        handled += 1;
        if problems.is_empty() && handled % CHECKPOINT_EVERY == 0 {
            if let Err(e) = progress.set_checkpoint(&checkpoint, *index).await {
                problems.push(format!("recording the checkpoint: {e}"));
            }
        }
    }
    if let (true, Some((last, _))) = (problems.is_empty(), events.last()) {
        if let Err(e) = progress.set_checkpoint(&checkpoint, *last).await {
            problems.push(format!("recording the checkpoint: {e}"));
        }
    }
    let started = std::time::Instant::now();
    loop {
        if let Err(e) = engine.retry_pending().await {
            problems.push(format!("retrying: {e}"));
        }
        let unissued = store
            .unissued()
            .await
            .map_err(|e| Stop::Unfinished(vec![format!("listing unissued awards: {e}")]))?;
        let pending = unissued
            .iter()
            .filter(|a| a.state == AwardState::Pending)
            .count();
        if pending == 0 || started.elapsed() > GIVE_UP_AFTER {
            for award in &unissued {
                let key = &award.key;
                problems.push(match &award.state {
                    AwardState::Failed { reason } => format!(
                        "failed: {} {} #{}: {reason}",
                        key.learner, key.slug, key.sequence
                    ),
                    _ => format!(
                        "still pending: {} {} #{} (last error: {})",
                        key.learner,
                        key.slug,
                        key.sequence,
                        award.last_error.as_deref().unwrap_or("none")
                    ),
                });
            }
            break;
        }
        // Not yet due (a retry's back-off, or a lease a killed run held): wait a little.
        futures_timer::Delay::new(std::time::Duration::from_millis(50)).await;
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Stop::Unfinished(problems))
    }
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start a runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let result = runtime.block_on(async {
        let url = args.store.as_deref().unwrap_or_default();
        if args.list {
            let store = platform::open_store(url).await.map_err(Stop::BadInput)?;
            return list(&*store).await;
        }
        let prepared = prepare(&args)?;
        let (store, progress) = platform::open_stores(url).await.map_err(Stop::BadInput)?;
        work(&args, prepared, store, progress).await
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Stop::BadInput(message)) => {
            eprintln!("{message}");
            ExitCode::from(2)
        }
        Err(Stop::Unfinished(problems)) => {
            for problem in problems {
                eprintln!("{problem}");
            }
            ExitCode::from(1)
        }
    }
}
