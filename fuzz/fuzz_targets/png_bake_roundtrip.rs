#![no_main]
//! Arbitrary payload and PNG bytes: bake, then unbake and rebake.

#[allow(dead_code)] // Each target uses one harness function.
#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::png_bake_roundtrip(data));
