#![no_main]
//! Arbitrary bytes as an Open Badges 3.0 credential (JSON, VC-JWT, baked PNG or SVG), as a
//! VC-JWT payload and as a document with an eddsa-rdfc-2022 proof: verified, never valid.

#[allow(dead_code)] // Each target uses one harness function.
#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::ob3_credential(data));
