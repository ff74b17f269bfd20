//! Bakes an Open Badges payload into a PNG or SVG badge image.
//!
//! ```text
//! cargo run --example bake -- INPUT PAYLOAD_FILE OUTPUT
//! ```
//!
//! The payload is PAYLOAD_FILE's content, verbatim (assertion JSON, a hosted assertion URL or
//! a JWS); text that starts like JSON must be JSON. The format is detected from INPUT's bytes,
//! not its name. INPUT and PAYLOAD_FILE must be regular files within the default limits (64 MiB
//! and 4 MiB), read no further; OUTPUT, if it exists, must be a regular file (its permissions
//! are kept). Exit status 0 on success; on any error a message on stderr naming the file at
//! fault, exit status 1, and no OUTPUT (nor temporary) file left behind.

use std::path::Path;
use std::process::ExitCode;

use badgery::bake::{Error, Limits, Payload, bake_file, read_payload};

fn run(args: &[String]) -> Result<(), String> {
    let [input, payload_file, output] = args else {
        return Err("usage: bake INPUT PAYLOAD_FILE OUTPUT".to_owned());
    };
    let limits = Limits::default();
    let bytes = read_payload(Path::new(payload_file), &limits).map_err(|e| match e {
        Error::File { .. } => format!("cannot read the payload: {e}"),
        e => format!("{payload_file}: {e}"),
    })?;
    let payload = Payload::from_bytes(bytes).map_err(|e| format!("{payload_file}: {e}"))?;
    bake_file(Path::new(input), &payload, Path::new(output), &limits).map_err(|e| match e {
        // A file error names its file (the input or the output) itself.
        Error::File { .. } => e.to_string(),
        e => format!("{input}: {e}"),
    })
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::from(1)
        }
    }
}
