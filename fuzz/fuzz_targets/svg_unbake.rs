#![no_main]
//! Arbitrary bytes as an SVG to unbake.

#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::svg_unbake(data));
