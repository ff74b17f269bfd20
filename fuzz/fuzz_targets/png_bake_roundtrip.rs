#![no_main]
//! Arbitrary payload and PNG bytes: bake, then unbake and rebake.

#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::png_bake_roundtrip(data));
