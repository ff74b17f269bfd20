#![no_main]
//! Arbitrary payload and SVG bytes: bake, then unbake and rebake.

#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::svg_bake(data));
