//! The command-line examples' contracts: exit codes and messages (the binaries `cargo test`
//! builds under `target/*/examples/`).

#![allow(clippy::unwrap_used)] // A test's helpers may panic: that is how a test fails.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

#[path = "support/examples.rs"]
mod examples;
use examples::example;

/// Runs an example: its exit code, and what it printed (stdout, then stderr).
fn run(name: &str, args: &[&Path]) -> (i32, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = Command::new(example(name)).args(args).output().unwrap();
    let mut text = String::from_utf8_lossy(&stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&stderr));
    (status.code().unwrap_or(-1), text)
}

/// A FIFO with no writer in `dir` (opening it for reading would block forever).
fn fifo_in(dir: &Path) -> PathBuf {
    let fifo = dir.join("fifo");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    fifo
}

fn png() -> Vec<u8> {
    std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/images/rust.png"
    ))
    .unwrap()
}

#[test]
fn unbake_exits_2_for_a_corrupt_header_and_checks_every_crc_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let mut image = png();
    image[29] ^= 0xff; // IHDR's CRC
    let bad_crc = dir.path().join("bad-crc.png");
    std::fs::write(&bad_crc, &image).unwrap();
    let (code, err) = run("unbake", &[&bad_crc]);
    assert_eq!(code, 2, "{err}");
    let mut image = png();
    image[25] = 5; // a colour type that does not exist (the CRC no longer matches either)
    let bad_colour = dir.path().join("bad-colour.png");
    std::fs::write(&bad_colour, &image).unwrap();
    assert_eq!(run("unbake", &[&bad_colour]).0, 2);
    // A corrupt chunk after IHDR: skipped by default (no payload), found by --check.
    let mut image = png();
    let last_crc = image.len() - 13;
    image[last_crc] ^= 0xff;
    let late = dir.path().join("late.png");
    std::fs::write(&late, &image).unwrap();
    assert_eq!(run("unbake", &[&late]).0, 1);
    let (code, err) = run("unbake", &[Path::new("--check"), &late]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("CRC"), "{err}");
}

#[test]
fn unbake_refuses_devices_and_fifos_at_once() {
    let (code, err) = run("unbake", &[Path::new("/dev/zero")]);
    assert_eq!(code, 2);
    assert!(err.contains("regular file"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let fifo = fifo_in(dir.path());
    let (code, err) = run("unbake", &[&fifo]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn bake_names_the_file_at_fault_and_refuses_broken_json() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.png");
    std::fs::write(&input, png()).unwrap();
    let payload = dir.path().join("payload.json");
    std::fs::write(&payload, "https://x.org/a/1").unwrap();
    let out = dir.path().join("missing").join("out.png");
    let (code, err) = run("bake", &[&input, &payload, &out]);
    assert_eq!(code, 1);
    assert!(
        err.contains("missing/out.png") && !err.starts_with(&*input.to_string_lossy()),
        "{err}"
    );
    std::fs::write(&payload, "{\"id\": ").unwrap();
    let out = dir.path().join("out.png");
    let (code, err) = run("bake", &[&input, &payload, &out]);
    assert_eq!(code, 1);
    assert!(err.contains("not JSON"), "{err}");
    assert!(!out.exists());
    let (code, err) = run("bake", &[&input, Path::new("/dev/zero"), &out]);
    assert_eq!(code, 1);
    assert!(err.contains("regular file"), "{err}");
}

#[test]
fn replay_and_validate_refuse_unbounded_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = fifo_in(dir.path());
    let rules = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/crates/rules/tests/data/rules/platform.toml"
    ));
    for (name, args) in [
        ("replay", vec![rules, Path::new("/dev/zero")]),
        ("replay", vec![rules, fifo.as_path()]),
        ("validate", vec![Path::new("/dev/zero")]),
        ("validate", vec![fifo.as_path()]),
    ] {
        let (code, err) = run(name, &args);
        assert_ne!(code, 0, "{name} {args:?}");
        assert!(err.contains("regular file"), "{name} {args:?}: {err}");
    }
}

/// `validate` takes baked images and JWS as the official validator does, and checks a copy
/// against its hosted original.
#[test]
fn validate_reads_baked_images_and_jws_and_follows_the_hosted_original() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("flow");
    let (code, text) = run("award_flow", &[Path::new("--out"), &out]);
    assert_eq!(code, 0, "{text}");
    let docs = out.join("ob");
    let assertions = docs.join("assertions");
    let mut baked: Vec<PathBuf> = std::fs::read_dir(&assertions)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .flat_map(|d| std::fs::read_dir(d).unwrap().map(|e| e.unwrap().path()))
        .collect();
    baked.sort();
    let image = baked
        .iter()
        .find(|p| p.extension().is_some_and(|e| e == "png"))
        .unwrap();
    let now = Path::new("2026-12-01T00:00:00Z");
    let validate = |input: &Path| {
        run(
            "validate",
            &[Path::new("--docs"), &docs, Path::new("--now"), now, input],
        )
    };
    let (code, text) = validate(image);
    assert_eq!(code, 0, "{text}");
    // The same assertion as a JWS not signed by anyone: refused, as its signature is checked.
    let hosted_json = image.parent().unwrap().with_extension("json");
    let assertion = std::fs::read(&hosted_json).unwrap();
    use base64::Engine as _;
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let jws = format!(
        "{}.{}.{}",
        b64(br#"{"alg":"RS256"}"#),
        b64(&assertion),
        b64(b"sig")
    );
    let jws_file = dir.path().join("assertion.jws");
    std::fs::write(&jws_file, jws).unwrap();
    let (code, text) = validate(&jws_file);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("SIGNATURE"), "{text}");
    // Revoke the hosted original: the baked copy is no longer valid.
    let mut original: serde_json::Value = serde_json::from_slice(&assertion).unwrap();
    let revoked = serde_json::json!({
        "@context": original["@context"].take(),
        "id": original["id"].take(),
        "revoked": true,
        "revocationReason": "issued in error",
    });
    std::fs::write(&hosted_json, serde_json::to_vec(&revoked).unwrap()).unwrap();
    let (code, text) = validate(image);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("REVOKED") && text.contains("issued in error"),
        "{text}"
    );
}

/// `award_flow --signed` signs with a key it keeps under `--out` (owner-only), again on a
/// second run; `validate` verifies what it wrote, as JWS and baked, and refuses a JWS whose
/// payload was changed; `--key` needs `--signed`.
#[test]
fn award_flow_signed_keeps_its_key_and_validate_verifies_its_badges() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("flow");
    let signed = [Path::new("--out"), &out, Path::new("--signed")];
    let (code, first) = run("award_flow", &signed);
    assert_eq!(code, 0, "{first}");
    assert!(first.contains("its signature verifies"), "{first}");
    let key = out.join("signing-key.pem");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the key is its owner's only");
    }
    let pem = std::fs::read_to_string(&key).unwrap();
    let (code, second) = run("award_flow", &signed);
    assert_eq!(code, 0, "{second}");
    assert_eq!(
        std::fs::read_to_string(&key).unwrap(),
        pem,
        "the key is kept"
    );
    assert_eq!(table(&first), table(&second));
    assert!(table(&first).contains("urn:uuid:"), "{first}");

    let docs = out.join("ob");
    let now = Path::new("2026-12-01T00:00:00Z");
    let validate = |input: &Path| {
        run(
            "validate",
            &[Path::new("--docs"), &docs, Path::new("--now"), now, input],
        )
    };
    let mut tokens: Vec<PathBuf> = std::fs::read_dir(out.join("signed"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    tokens.sort();
    assert_eq!(tokens.len(), 13);
    let token = &tokens[0];
    let (code, text) = validate(token);
    assert_eq!(code, 0, "{text}");
    let stem = token.file_stem().unwrap();
    let image = docs.join("assertions").join(stem).join("image.png");
    let image = if image.exists() {
        image
    } else {
        image.with_extension("svg")
    };
    let (code, text) = validate(&image);
    assert_eq!(code, 0, "{}: {text}", image.display());
    // As a JSON string, then with one character of the payload changed.
    let jws = std::fs::read_to_string(token).unwrap();
    let as_json = dir.path().join("token.json");
    std::fs::write(&as_json, serde_json::to_string(jws.trim()).unwrap()).unwrap();
    let (code, text) = validate(&as_json);
    assert_eq!(code, 0, "{text}");
    let mut parts: Vec<String> = jws.trim().split('.').map(str::to_owned).collect();
    let flipped = if parts[1].ends_with('A') { 'B' } else { 'A' };
    parts[1].pop();
    parts[1].push(flipped);
    let tampered = dir.path().join("tampered.jws");
    std::fs::write(&tampered, parts.join(".")).unwrap();
    let (code, text) = validate(&tampered);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("SIGNATURE"), "{text}");

    let (code, text) = run(
        "award_flow",
        &[Path::new("--out"), &out, Path::new("--key"), &key],
    );
    assert_eq!(code, 2, "{text}");
    let (code, text) = run(
        "award_flow",
        &[&signed[..], &[Path::new("--key"), &key]].concat(),
    );
    assert_eq!(code, 0, "{text}");
}

/// The table of a run of `award_flow`: its lines up to the summary.
fn table(text: &str) -> String {
    text.lines()
        .take_while(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// `award_flow` keeps its awards in a SQLite file: run again over the same file (even with
/// failures injected), it issues nothing new and prints the same table.
#[test]
fn award_flow_run_twice_over_one_sqlite_file_issues_nothing_new() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("flow");
    let (code, first) = run("award_flow", &[Path::new("--out"), &out]);
    assert_eq!(code, 0, "{first}");
    assert!(
        out.join("badgery.sqlite3").is_file(),
        "the default store is OUT/badgery.sqlite3"
    );
    assert!(
        first.contains("13 awards issued of 13 expected; backend calls: 24"),
        "{first}"
    );
    let args = [
        Path::new("--out"),
        &out,
        Path::new("--backend-failure-rate"),
        Path::new("0.5"),
    ];
    let (code, second) = run("award_flow", &args);
    assert_eq!(code, 0, "{second}");
    assert!(
        second.contains("backend calls: 0,"),
        "nothing issued again: {second}"
    );
    assert_eq!(table(&first), table(&second));
    assert_eq!(
        table(&first).lines().count(),
        14,
        "a header and 13 awards:\n{first}"
    );
}

/// `issue`: a bad event line is exit 2 with file and line, before anything is issued; a good
/// log issues the awards `replay` decides, and `--list` prints them in key order.
#[test]
fn issue_refuses_bad_input_before_issuing_and_lists_what_it_issued() {
    let dir = tempfile::tempdir().unwrap();
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/rules/tests/data/rules");
    let rules = data.join("platform.toml");
    let events = data.join("events.jsonl");
    let store = format!("sqlite:{}", dir.path().join("s.sqlite3").display());
    let store = Path::new(&store);
    let mut bad = std::fs::read_to_string(&events).unwrap();
    bad.push_str("{\"event\":\"certificate\",\"learner\":\"zed\"}\n");
    let bad_events = dir.path().join("bad.jsonl");
    std::fs::write(&bad_events, &bad).unwrap();
    let work = |events: &Path| {
        run(
            "issue",
            &[
                Path::new("--store"),
                store,
                Path::new("--rules"),
                &rules,
                events,
            ],
        )
    };

    let (code, text) = work(&bad_events);
    assert_eq!(code, 2, "{text}");
    let line = bad.lines().count();
    assert!(
        text.contains(&format!("bad.jsonl:{line}:")),
        "file and line: {text}"
    );
    let (code, listed) = run("issue", &[Path::new("--store"), store, Path::new("--list")]);
    assert_eq!((code, listed.as_str()), (0, ""), "nothing issued");

    let (code, text) = work(&events);
    assert_eq!(code, 0, "{text}");
    let (code, listed) = run("issue", &[Path::new("--store"), store, Path::new("--list")]);
    assert_eq!(code, 0, "{listed}");
    let (_, replayed) = run("replay", &[&rules, &events]);
    let mut decided: Vec<(String, String)> = replayed
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["learner"].as_str().unwrap().into(),
                v["badge"].as_str().unwrap().into(),
            )
        })
        .collect();
    decided.sort();
    let issued: Vec<(String, String)> = listed
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            assert!(
                v["assertion"]
                    .as_str()
                    .unwrap()
                    .starts_with("https://badges.example.org/")
            );
            (
                v["learner"].as_str().unwrap().into(),
                v["badge"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(issued, decided, "every award replay decides, in key order");
    let (code, usage) = run("issue", &[Path::new("--store"), store]);
    assert_eq!(code, 2, "{usage}");
}

#[test]
fn award_flow_ob3_issues_credentials_revokes_one_and_keeps_its_flags() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    let args = |extra: &[&str]| -> Vec<PathBuf> {
        let mut args = vec![PathBuf::from("--out"), out.to_path_buf()];
        args.extend(extra.iter().map(PathBuf::from));
        args
    };
    let run_with = |extra: &[&str]| {
        let args = args(extra);
        let refs: Vec<&Path> = args.iter().map(PathBuf::as_path).collect();
        run("award_flow", &refs)
    };
    let (code, text) = run_with(&["--ob3", "jwt"]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("revoked: eve "), "{text}");
    assert!(
        text.contains("every Open Badges 3.0 credential verifies"),
        "{text}"
    );
    for file in [
        "ob3-docs.json",
        "ob3-jwks.json",
        "did-web/lms.example.org/ob/did.json",
    ] {
        assert!(out.join(file).is_file(), "{file}");
    }
    assert_eq!(
        std::fs::read_dir(out.join("ob3/credentials"))
            .unwrap()
            .count(),
        13
    );
    // Again over the same store: nothing new, the same award revoked.
    let (code, again) = run_with(&["--ob3", "jwt"]);
    assert_eq!(code, 0, "{again}");
    assert!(again.contains("backend calls: 0,"), "{again}");
    let revoked = |t: &str| {
        t.lines()
            .find(|l| l.starts_with("revoked: "))
            .map(str::to_owned)
    };
    assert_eq!(revoked(&again), revoked(&text));
    // The same store with embedded proofs instead: a new directory, JSON credentials.
    let eddsa = tempfile::tempdir().unwrap();
    let (code, text) = run(
        "award_flow",
        &[
            Path::new("--out"),
            eddsa.path(),
            Path::new("--ob3"),
            Path::new("eddsa"),
        ],
    );
    assert_eq!(code, 0, "{text}");
    let credentials: Vec<_> = std::fs::read_dir(eddsa.path().join("ob3/credentials"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(credentials.len(), 13);
    assert!(credentials.iter().all(|p| p.extension().unwrap() == "json"));
    for (flags, message) in [
        (&["--ob3-only"][..], "--ob3-only goes with --ob3"),
        (&["--ob3", "vc"][..], "expected jwt or eddsa"),
        (&["--ob3"][..], "--ob3 needs a value"),
        (
            &["--ob3", "jwt", "--backend", "badgr"][..],
            "--ob3 is the hosted issuer's",
        ),
    ] {
        let (code, text) = run_with(flags);
        assert_eq!(code, 2, "{flags:?}: {text}");
        assert!(text.contains(message), "{flags:?}: {text}");
    }
}
