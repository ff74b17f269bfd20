#![no_main]
//! Arbitrary text as the Open edX course event fields.

#[allow(dead_code)] // Each target uses one harness function.
#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::openedx_fields(data));
