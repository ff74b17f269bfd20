//! The example binaries, as the tests that run them find them.

use std::path::PathBuf;

/// The binary of example `name`, which `cargo test` builds beside the test binaries
/// (`target/debug/deps/THIS_TEST` → `target/debug/examples/NAME`).
pub(crate) fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    exe.parent()
        .and_then(|deps| deps.parent())
        .expect("the test binary is in target/PROFILE/deps")
        .join("examples")
        .join(name)
}
