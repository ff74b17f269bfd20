//! Bakes an Open Badges payload into a PNG or SVG badge image.
//!
//! ```text
//! cargo run --example bake -- INPUT PAYLOAD_FILE OUTPUT
//! ```
//!
//! The payload is PAYLOAD_FILE's content, verbatim (assertion JSON, a hosted assertion URL or
//! a JWS). The format is detected from INPUT's bytes, not its name. Exit status 0 on success;
//! on any error a message on stderr, exit status 1, and no OUTPUT file left behind.

use std::path::Path;
use std::process::ExitCode;

use badgery::bake::{Limits, Payload, bake_file};

fn run(args: &[String]) -> Result<(), String> {
    let [input, payload_file, output] = args else {
        return Err("usage: bake INPUT PAYLOAD_FILE OUTPUT".to_owned());
    };
    let bytes =
        std::fs::read(payload_file).map_err(|e| format!("cannot read {payload_file}: {e}"))?;
    let payload = Payload::from_bytes(bytes).map_err(|e| format!("{payload_file}: {e}"))?;
    bake_file(
        Path::new(input),
        &payload,
        Path::new(output),
        &Limits::default(),
    )
    .map_err(|e| format!("{input}: {e}"))
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
