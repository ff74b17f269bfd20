//! Replays every committed fuzz corpus entry (`fuzz/corpus/TARGET/`) through the same harness
//! the fuzz targets run, on stable, so a regression found by fuzzing stays fixed.

#![allow(clippy::unwrap_used)] // A test's helpers may panic: that is how a test fails.

#[path = "../fuzz/harness.rs"]
mod harness;

use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_file() {
            run(&std::fs::read(&path).unwrap());
            count += 1;
        }
    }
    assert!(count > 0, "no corpus in {}", dir.display());
}

#[test]
fn model_parse_corpus() {
    replay("model_parse", harness::model_parse);
}

#[test]
fn png_unbake_corpus() {
    replay("png_unbake", harness::png_unbake);
}

#[test]
fn png_bake_roundtrip_corpus() {
    replay("png_bake_roundtrip", harness::png_bake_roundtrip);
}

#[test]
fn svg_unbake_corpus() {
    replay("svg_unbake", harness::svg_unbake);
}

#[test]
fn svg_bake_corpus() {
    replay("svg_bake", harness::svg_bake);
}

#[test]
fn openedx_fields_corpus() {
    replay("openedx_fields", harness::openedx_fields);
}

#[test]
fn rules_toml_corpus() {
    replay("rules_toml", harness::rules_toml);
}

#[test]
fn event_line_corpus() {
    replay("event_line", harness::event_line);
}

#[test]
fn progress_bytes_corpus() {
    replay("progress_bytes", harness::progress_bytes);
}

#[test]
fn jws_parse_corpus() {
    replay("jws_parse", harness::jws_parse);
}

#[test]
fn ob3_credential_corpus() {
    replay("ob3_credential", harness::ob3_credential);
}
