#![no_main]
//! Arbitrary bytes as each Open Badges document type, then validation.

#[allow(dead_code)] // Each target uses one harness function.
#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::model_parse(data));
