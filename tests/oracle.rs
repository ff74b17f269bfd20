//! `award_flow --ob3 jwt` and `--ob3 eddsa` judged by the offline Open Badges 3.0 oracle of the shared kit
//! (`conformance/ob3/`): every credential it writes, as a VC-JWT or JSON with an embedded
//! eddsa-rdfc-2022 proof, and baked in its image, is
//! accepted with `--strict` (with the issuer's JWKS, and with its key found through did:web
//! alone), except the one it revoked, which is refused for its status bit and nothing else.
//!
//! The oracle needs Node.js and the kit's npm packages, which a user's clone does not have,
//! so the test is `#[ignore]`d; `.ci/run` runs it with `BADGERY_OB3_ORACLE` naming a writable
//! copy of the kit set up with `setup_ob3.sh`.

#![allow(clippy::unwrap_used)] // A test's helpers may panic: that is how a test fails.

use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "support/examples.rs"]
mod examples;
use examples::example;

/// The oracle's verdict on `file`: valid or not, and its errors.
fn oracle(kit: &Path, out: &Path, file: &Path, jwks: bool) -> (bool, Vec<String>) {
    let mut command = Command::new("node");
    command
        .current_dir(out)
        .arg(kit.join("ob3_verify.mjs"))
        .args([
            "--strict",
            "--did-web",
            "did-web",
            "--docs",
            "ob3-docs.json",
        ]);
    if jwks {
        command.args(["--jwks", "ob3-jwks.json"]);
    }
    let output = command.arg(file).output().unwrap();
    let verdict: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&output.stdout)));
    let errors = verdict["errors"]
        .as_array()
        .map(|e| e.iter().map(|e| e.as_str().unwrap().to_owned()).collect())
        .unwrap_or_default();
    match output.status.code() {
        Some(0) => (true, errors),
        Some(1) => (false, errors),
        _ => panic!("the oracle failed on {}: {verdict}", file.display()),
    }
}

#[test]
#[ignore = "needs the OB 3.0 oracle (Node.js and the kit's packages); run by .ci/run"]
fn award_flow_ob3_credentials_are_accepted_by_the_oracle_but_the_revoked_one() {
    let kit = PathBuf::from(
        std::env::var("BADGERY_OB3_ORACLE").expect("BADGERY_OB3_ORACLE names the set-up kit"),
    );
    let mut judged = 0;
    for extra in [
        &["jwt", "--backend-failure-rate", "0.3", "--seed", "5"][..],
        &["jwt", "--ob3-only"][..],
        &["eddsa", "--backend-failure-rate", "0.3", "--seed", "7"][..],
        &["eddsa", "--ob3-only"][..],
    ] {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path();
        let run = Command::new(example("award_flow"))
            .arg("--out")
            .arg(out)
            .arg("--ob3")
            .args(extra)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&run.stdout);
        assert!(
            run.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&run.stderr)
        );
        let revoked = stdout
            .lines()
            .find_map(|l| l.strip_prefix("revoked: "))
            .and_then(|l| l.split("(urn:uuid:").nth(1))
            .and_then(|l| l.split(')').next())
            .expect("award_flow says which award it revoked")
            .to_owned();
        let mut files = Vec::new();
        for folder in ["ob3/credentials", "ob3/baked"] {
            for entry in std::fs::read_dir(out.join(folder)).unwrap() {
                files.push(entry.unwrap().path());
            }
        }
        assert_eq!(
            files.len(),
            26,
            "13 credentials, each as a VC-JWT and baked"
        );
        for file in &files {
            let is_revoked = file.file_stem().unwrap().to_str().unwrap() == revoked;
            for jwks in [true, false] {
                let (valid, errors) = oracle(&kit, out, file, jwks);
                judged += 1;
                if is_revoked {
                    assert!(
                        !valid,
                        "{}: the revoked credential was accepted",
                        file.display()
                    );
                    assert!(
                        errors
                            .iter()
                            .all(|e| e.starts_with("status: revocation bit set")),
                        "{}: {errors:?}",
                        file.display()
                    );
                } else {
                    assert!(valid, "{} (jwks {jwks}): {errors:?}", file.display());
                }
            }
        }
    }
    eprintln!("{judged} oracle verdicts, all as expected");
}
