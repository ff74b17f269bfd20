//! Replays learning events through a rule set and prints the awards.
//!
//! ```text
//! cargo run --example replay -- RULES.toml EVENTS.jsonl
//! ```
//!
//! RULES.toml is a rule set (format in the `badgery-rules` crate docs); EVENTS.jsonl holds one
//! JSON event per line, in time order. Prints one JSON line per award, in decision order, with
//! `learner`, `badge`, `rule`, `reason` and `at`. Everything is validated before anything is
//! decided: a malformed rules file or event line gives exit status 2, the file, line number
//! and problem on stderr, and nothing on stdout.
//!
//! With no arguments it replays the example platform in `crates/rules/tests/data/rules/`.

use std::io::Write;
use std::process::ExitCode;

use badgery::rules::{Error, Evaluator, Event, RuleSet};

const EXAMPLE_RULES: &str = include_str!("../crates/rules/tests/data/rules/platform.toml");
const EXAMPLE_EVENTS: &str = include_str!("../crates/rules/tests/data/rules/events.jsonl");

/// The largest rule set or event log read (64 MiB); a larger file, a device or a FIFO is
/// refused before anything is read.
const MAX_INPUT: u64 = 64 << 20;

fn read(path: &str) -> Result<String, String> {
    let bytes = badgery::bake::read_file(std::path::Path::new(path), MAX_INPUT)
        .map_err(|e| format!("cannot read {e}"))?;
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "{path}: not UTF-8 text (byte {})",
            e.utf8_error().valid_up_to()
        )
    })
}

fn run(args: &[String]) -> Result<(), String> {
    let (rules_name, rules_text, events_name, events_text) = match args {
        [] => (
            "platform.toml".to_owned(),
            EXAMPLE_RULES.to_owned(),
            "events.jsonl".to_owned(),
            EXAMPLE_EVENTS.to_owned(),
        ),
        [rules, events] => (rules.clone(), read(rules)?, events.clone(), read(events)?),
        _ => return Err("usage: replay RULES.toml EVENTS.jsonl".to_owned()),
    };
    let rules = RuleSet::from_toml(&rules_text).map_err(|e| match e {
        Error::Toml { line, problem } => format!("{rules_name}:{line}: {problem}"),
        other => format!("{rules_name}: {other}"),
    })?;
    let mut events = Vec::new();
    for (i, line) in events_text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let event = Event::from_json(line).map_err(|e| match e {
            Error::Event { problem } => format!("{events_name}:{}: {problem}", i + 1),
            other => format!("{events_name}:{}: {other}", i + 1),
        })?;
        events.push(event);
    }
    let mut evaluator = Evaluator::new(rules);
    let mut awards = Vec::new();
    for event in &events {
        evaluator.apply_into(event, &mut awards);
    }
    let mut out = std::io::stdout().lock();
    for award in awards {
        let line = serde_json::to_string(&award).map_err(|e| e.to_string())?;
        writeln!(out, "{line}").map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::from(2)
        }
    }
}
