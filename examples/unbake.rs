//! Reads the Open Badges payload baked into a PNG or SVG image.
//!
//! ```text
//! cargo run --example unbake -- INPUT
//! ```
//!
//! Prints the payload verbatim to stdout (no added newline) and exits 0; prints
//! `no Open Badges data` to stderr and exits 1 when the image holds none; exits 2 with a
//! message when the image is malformed or cannot be read.

use std::io::Write;
use std::process::ExitCode;

use badgery::bake::{Limits, unbake};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input] = args.as_slice() else {
        eprintln!("usage: unbake INPUT");
        return ExitCode::from(2);
    };
    let image = match std::fs::read(input) {
        Ok(bytes) => bytes,
        Err(e) => {
            eprintln!("cannot read {input}: {e}");
            return ExitCode::from(2);
        }
    };
    match unbake(&image, &Limits::default()) {
        Ok(Some(payload)) => {
            let mut out = std::io::stdout().lock();
            if out
                .write_all(payload.as_str().as_bytes())
                .and_then(|()| out.flush())
                .is_err()
            {
                return ExitCode::from(2);
            }
            ExitCode::SUCCESS
        }
        Ok(None) => {
            eprintln!("no Open Badges data");
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("{input}: {e}");
            ExitCode::from(2)
        }
    }
}
