#![no_main]
//! Arbitrary bytes as a learner's stored progress.

#[allow(dead_code)] // Each target uses one harness function.
#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::progress_bytes(data));
