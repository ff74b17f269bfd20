#![no_main]
//! Arbitrary text as an event line, applied twice.

#[allow(dead_code)] // Each target uses one harness function.
#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::event_line(data));
