//! Validates an Open Badges document and the documents it links to.
//!
//! ```text
//! cargo run --example validate -- [--docs DIR] [--now RFC3339] [--recipient IDENTITY] INPUT
//! ```
//!
//! INPUT is a JSON file (Assertion, BadgeClass or Issuer; Open Badges 0.5–2.0) or an IRI
//! resolved in DIR. Linked IRIs are resolved in DIR: every `*.json` file there whose `id` is
//! that IRI; an IRI DIR cannot resolve is an error finding. Prints one line per finding, then
//! `valid: true|false, errors: N, warnings: N`. Exit status: 0 without errors, 1 with errors,
//! 2 when the input cannot be read or is not JSON.
//!
//! With no arguments it validates the example badge embedded in this program.

use std::path::PathBuf;
use std::process::ExitCode;

use badgery::model::legacy;
use badgery::model::validate::{DocumentSet, Options, validate};
use serde_json::Value;

const USAGE: &str = "usage: validate [--docs DIR] [--now RFC3339] [--recipient IDENTITY] INPUT";

/// The embedded default: the conformance kit's hosted example badge.
const EXAMPLE: [&str; 3] = [
    include_str!("../tests/data/conformance/hosted/assertion.json"),
    include_str!("../tests/data/conformance/hosted/badgeclass.json"),
    include_str!("../tests/data/conformance/hosted/issuer.json"),
];

struct Args {
    docs: Option<PathBuf>,
    options: Options,
    input: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        docs: None,
        options: Options::default(),
        input: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value\n{USAGE}"));
        match arg.as_str() {
            "--docs" => args.docs = Some(PathBuf::from(value("--docs")?)),
            "--now" => {
                let text = value("--now")?;
                let now = chrono::DateTime::parse_from_rfc3339(&text)
                    .map_err(|e| format!("--now {text:?} is not RFC 3339: {e}"))?;
                args.options.now = now.to_utc();
            }
            "--recipient" => args.options.recipient = Some(value("--recipient")?),
            "-h" | "--help" => return Err(USAGE.to_owned()),
            _ if arg.starts_with("--") => return Err(format!("unknown option {arg}\n{USAGE}")),
            _ if args.input.is_some() => return Err(format!("more than one INPUT\n{USAGE}")),
            _ => args.input = Some(arg),
        }
    }
    Ok(args)
}

/// The largest input read (64 MiB, the baker's image limit); a larger file, a device or a
/// FIFO is refused before anything is read.
const MAX_INPUT: u64 = 64 << 20;

fn read_json(path: &str) -> Result<Value, String> {
    let bytes = badgery::bake::read_file(std::path::Path::new(path), MAX_INPUT)
        .map_err(|e| format!("cannot read {e}"))?;
    serde_json::from_slice(&bytes).map_err(|e| format!("{path} is not JSON: {e}"))
}

fn run() -> Result<bool, String> {
    let args = parse_args()?;
    let mut docs = match &args.docs {
        Some(dir) => DocumentSet::from_dir(dir).map_err(|e| e.to_string())?,
        None => DocumentSet::new(),
    };
    let (input, fetched_from) = match &args.input {
        None => {
            println!("no INPUT given: validating the embedded example badge");
            for text in EXAMPLE {
                docs.insert(serde_json::from_str(text).map_err(|e| e.to_string())?);
            }
            (
                serde_json::from_str(EXAMPLE[0]).map_err(|e| e.to_string())?,
                None,
            )
        }
        Some(input) if std::path::Path::new(input).is_file() => (read_json(input)?, None),
        Some(iri) => {
            use badgery::model::validate::Resolver;
            let doc = docs
                .resolve(iri)
                .map_err(|e| format!("{e} (not a file, and not found in --docs)"))?;
            (doc, Some(iri.as_str()))
        }
    };
    // Older documents are read as 2.0 first, as the official validator does.
    let input = match legacy::upgrade(input.clone(), fetched_from) {
        Ok((upgraded, _)) => upgraded,
        Err(_) => input,
    };
    // Like the official validator, the input is served at its own id, over any copy in DIR.
    docs.insert(input.clone());
    let report = validate(&input, &docs, &args.options);
    println!("{report}");
    Ok(report.is_valid())
}

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(message) => {
            eprintln!("{message}");
            ExitCode::from(2)
        }
    }
}
