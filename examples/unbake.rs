//! Reads the Open Badges payload baked into a PNG or SVG image.
//!
//! ```text
//! cargo run --example unbake -- [--check] INPUT
//! ```
//!
//! Prints the payload verbatim to stdout (no added newline) and exits 0; prints
//! `no Open Badges data` to stderr and exits 1 when the image holds none; exits 2 with a
//! message when the image is malformed (a PNG's `IHDR` is always checked) or cannot be read.
//! Only chunk headers and the text chunks are read by design; `--check` also verifies every
//! PNG chunk's CRC and structure first. The input must be a regular file no larger than the
//! default image limit (64 MiB), and no more than that is read.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use badgery::bake::{ImageFormat, Limits, png, read_image, unbake};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (check, input) = match args.as_slice() {
        [flag, input] if flag == "--check" => (true, input),
        [input] if !input.starts_with("--") => (false, input),
        _ => {
            eprintln!("usage: unbake [--check] INPUT");
            return ExitCode::from(2);
        }
    };
    let limits = Limits::default();
    let image = match read_image(Path::new(input), &limits) {
        Ok(bytes) => bytes,
        Err(e) => {
            eprintln!("cannot read {input}: {e}");
            return ExitCode::from(2);
        }
    };
    if check && ImageFormat::detect(&image) == Some(ImageFormat::Png) {
        if let Err(e) = png::check(&image) {
            eprintln!("{input}: {e}");
            return ExitCode::from(2);
        }
    }
    match unbake(&image, &limits) {
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
