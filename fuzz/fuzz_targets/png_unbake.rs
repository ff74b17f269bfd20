#![no_main]
//! Arbitrary bytes as a PNG to unbake (slice and stream).

#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::png_unbake(data));
