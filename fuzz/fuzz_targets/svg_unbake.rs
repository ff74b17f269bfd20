#![no_main]
//! Arbitrary bytes as an SVG to unbake.

#[allow(dead_code)] // Each target uses one harness function.
#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::svg_unbake(data));
