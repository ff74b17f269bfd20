//! Validates an Open Badges document and the documents it links to.
//!
//! ```text
//! cargo run --example validate -- [--docs DIR] [--now RFC3339] [--recipient IDENTITY] INPUT
//! ```
//!
//! INPUT is a JSON file (Assertion, BadgeClass or Issuer; Open Badges 0.5–2.0), a baked PNG or
//! SVG badge (unbaked first, as the official validator does: a hosted URL in it is resolved
//! in DIR), a signed badge as a compact JWS (in a text file, as a JSON string, or baked in a
//! PNG or SVG: its payload is validated and its signature verified with the issuer's key
//! from DIR, RS256 or ES256; other algorithms are refused), or an IRI resolved in DIR. A hosted assertion is checked
//! against the document DIR serves at its id (revoked or different: an error). Linked IRIs are resolved in DIR: every `*.json` file there whose `id` is
//! that IRI; an IRI DIR cannot resolve is an error finding. Prints one line per finding, then
//! `valid: true|false, errors: N, warnings: N`. Exit status: 0 without errors, 1 with errors,
//! 2 when the input cannot be read or is not JSON.
//!
//! With no arguments it validates the example badge embedded in this program.

use std::path::PathBuf;
use std::process::ExitCode;

use badgery::model::legacy;
use badgery::model::validate::{DocumentSet, Options, validate, validate_signed};
use serde_json::Value;

const USAGE: &str = "usage: validate [--docs DIR] [--now RFC3339] [--recipient IDENTITY] INPUT";

/// The embedded default: the conformance kit's hosted example badge.
const EXAMPLE: [&str; 3] = [
    include_str!("../crates/model/tests/data/conformance/hosted/assertion.json"),
    include_str!("../crates/model/tests/data/conformance/hosted/badgeclass.json"),
    include_str!("../crates/model/tests/data/conformance/hosted/issuer.json"),
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

/// What an input file holds, once unbaked.
enum Input {
    Json(Value),
    /// A hosted assertion's URL (from a baked image), to resolve in DIR.
    Url(String),
    /// A signed badge's compact JWS.
    Jws(String),
}

/// Reads an input file: JSON, a compact JWS, or a PNG or SVG with one of those (or a URL)
/// baked in.
fn read_input(path: &str) -> Result<Input, String> {
    use badgery::bake::{ImageFormat, Limits, PayloadKind, unbake};
    let bytes = badgery::bake::read_file(std::path::Path::new(path), MAX_INPUT)
        .map_err(|e| format!("cannot read {e}"))?;
    let text = if ImageFormat::detect(&bytes).is_some() {
        unbake(&bytes, &Limits::default())
            .map_err(|e| format!("{path}: {e}"))?
            .ok_or(format!("{path}: the image holds no Open Badges data"))?
            .into_string()
    } else {
        String::from_utf8(bytes).map_err(|_| format!("{path} is not UTF-8 text"))?
    };
    let payload = badgery::bake::Payload::new(text.clone()).map_err(|e| format!("{path}: {e}"))?;
    match payload.kind() {
        PayloadKind::Url => Ok(Input::Url(text.trim().to_owned())),
        PayloadKind::Jws => Ok(Input::Jws(text.trim().to_owned())),
        _ => match serde_json::from_str(&text) {
            // A JWS given as a JSON string.
            Ok(Value::String(token)) if token.split('.').count() == 3 => Ok(Input::Jws(token)),
            Ok(value) => Ok(Input::Json(value)),
            Err(e) => Err(format!("{path} is not JSON: {e}")),
        },
    }
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
        Some(input) if std::path::Path::new(input).exists() => match read_input(input)? {
            Input::Jws(token) => {
                let report = validate_signed(&token, &docs, &args.options);
                println!("{report}");
                return Ok(report.is_valid());
            }
            Input::Json(value) => (value, None),
            Input::Url(url) => {
                use badgery::model::validate::Resolver;
                let doc = docs
                    .resolve(&url)
                    .map_err(|e| format!("{input} holds {url}: {e}"))?;
                (doc, Some(url))
            }
        },
        Some(iri) => {
            use badgery::model::validate::Resolver;
            let doc = docs
                .resolve(iri)
                .map_err(|e| format!("{e} (not a file, and not found in --docs)"))?;
            (doc, Some(iri.clone()))
        }
    };
    // Older documents are read as 2.0 first, as the official validator does.
    let input = match legacy::upgrade(input.clone(), fetched_from.as_deref()) {
        Ok((upgraded, _)) => upgraded,
        Err(_) => input,
    };
    // The input stands for the document at its id only when DIR has none: a copy (a baked
    // one, say) is checked against its hosted original, never put in its place.
    let id = input.get("id").and_then(Value::as_str).unwrap_or("");
    {
        use badgery::model::validate::Resolver;
        if docs.resolve(id).is_err() {
            docs.insert(input.clone());
        }
    }
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
