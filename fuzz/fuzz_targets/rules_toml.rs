#![no_main]
//! Arbitrary text as a TOML rule set, then evaluation.

#[allow(dead_code)] // Each target uses one harness function.
#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::rules_toml(data));
