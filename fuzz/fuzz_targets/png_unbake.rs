#![no_main]
//! Arbitrary bytes as a PNG to unbake (slice and stream).

#[allow(dead_code)] // Each target uses one harness function.
#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::png_unbake(data));
