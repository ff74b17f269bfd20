#![no_main]
//! Arbitrary bytes as a compact JWS, a JWS payload and a PEM key, then signed-badge validation.

#[allow(dead_code)] // Each target uses one harness function.
#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::jws_parse(data));
