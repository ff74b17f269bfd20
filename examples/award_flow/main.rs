//! The end-to-end flow of a small learning platform: events in, verified and baked Open Badges
//! out.
//!
//! ```text
//! cargo run --example award_flow -- [--out DIR] [--store URL] [--backend hosted|badgr]
//!                                    [--backend-failure-rate R] [--seed S]
//!                                    [--signed [--key FILE.pem]]
//!                                    [--ob3 jwt|eddsa [--ob3-only]]
//! ```
//!
//! Plays an issuer, badge classes with images (`examples/images/`), a rule set covering every
//! rule kind and a scripted stream of learner events; issues through the hosted issuer with
//! the store named by `--store` (`sqlite:PATH`, default `sqlite:DIR/badgery.sqlite3`; `memory`;
//! or `postgres://…`); writes every served document and baked image under DIR (default
//! `target/award_flow`); unbakes each image and validates each assertion; prints a table of
//! learner, badge, rule and assertion id. With `--backend-failure-rate R`, that share of
//! backend calls fails (half before the call, half with the response lost) and the engine is
//! restarted once midway from the store; the table is the same. Exit status 0 only when every
//! expected award was issued exactly once and every check passed. Run again over the same
//! store, it issues nothing new (no backend call) and prints the same table.
//!
//! With `--signed` the issuer signs its assertions (RS256, as JWS baked into the images and
//! written under `DIR/signed/`) with the PKCS#8 PEM key `--key FILE.pem`, or with
//! `DIR/signing-key.pem`, generated on the first run (readable by its owner only); the key
//! and revocation list documents are written with the others, and every check covers the
//! signatures.
//!
//! With `--backend badgr` the awards go to Badgr or Canvas Credentials instead of the hosted
//! issuer: the server and account come from the environment, `BADGR_URL` (the API's base
//! URL), `BADGR_USERNAME`, `BADGR_PASSWORD` and `BADGR_ISSUER` (the issuer's entityId), and
//! `BADGR_TOKEN_FILE` when set keeps the login's tokens between runs. Classes are created in
//! Badgr on their first award; the table shows Badgr's assertion URLs (Badgr serves the
//! documents and baked images), and the last lines count the API and token requests sent.
//! `--signed` is for the hosted issuer only.
//!
//! With `--ob3 jwt` every award is also issued as an Open Badges 3.0 credential (only as one
//! with `--ob3-only`): an OpenBadgeCredential signed as a VC-JWT (ES256) by the issuer's
//! `did:web:lms.example.org:ob` key (kept in `DIR/ob3-key.pem`), with a bit of the issuer's
//! revocation list, baked into the award's image beside the 2.0 assertion. Under DIR it
//! writes the credentials (`ob3/credentials/ID.jwt`) and their baked images (`ob3/baked/`),
//! the DID document as the web lays it out (`did-web/lms.example.org/ob/did.json`),
//! `ob3-docs.json` (mapping the status list URL to its file) and `ob3-jwks.json` (the
//! issuer's public keys). At the end of the run one award (eve's) is revoked and its status
//! bit set; the last lines say which. Every credential is verified (all valid but the
//! revoked one). `--ob3 eddsa` gives every credential (and the revocation list) an embedded
//! eddsa-rdfc-2022 proof by the issuer's Ed25519 key (kept in `DIR/ob3-ed25519.pem`, a
//! Multikey in the DID document) instead: `ob3/credentials/ID.json`, baked as JSON.

mod platform;

use std::path::PathBuf;
use std::process::ExitCode;

struct Args {
    out: PathBuf,
    store: Option<String>,
    failure_rate: f64,
    seed: u64,
    signed: bool,
    key: Option<PathBuf>,
    badgr: bool,
    ob3: Option<badgery::Ob3Proof>,
    ob3_only: bool,
}

const USAGE: &str = "usage: award_flow [--out DIR] [--store URL] [--backend hosted|badgr] \
                     [--backend-failure-rate R] [--seed S] [--signed [--key FILE.pem]] \
                     [--ob3 jwt|eddsa [--ob3-only]]";

/// How long one Badgr request may take.
const BADGR_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        out: PathBuf::from("target/award_flow"),
        store: None,
        failure_rate: 0.0,
        seed: 1,
        signed: false,
        key: None,
        badgr: false,
        ob3: None,
        ob3_only: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--out" => args.out = PathBuf::from(value()?),
            "--store" => args.store = Some(value()?),
            "--backend" => args.badgr = platform::is_badgr(&value()?)?,
            "--backend-failure-rate" => args.failure_rate = platform::failure_rate(&value()?)?,
            "--seed" => args.seed = platform::seed(&value()?)?,
            "--signed" => args.signed = true,
            "--key" => args.key = Some(PathBuf::from(value()?)),
            "--ob3" => args.ob3 = Some(platform::ob3_proof(&value()?)?),
            "--ob3-only" => args.ob3_only = true,
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    if args.key.is_some() && !args.signed {
        return Err(format!("--key is the signing key of --signed\n{USAGE}"));
    }
    if args.ob3_only && args.ob3.is_none() {
        return Err(format!("--ob3-only goes with --ob3\n{USAGE}"));
    }
    if args.ob3.is_some() && args.badgr {
        return Err(format!(
            "--ob3 is the hosted issuer's; Badgr issues Open Badges 2.0\n{USAGE}"
        ));
    }
    if args.signed && args.badgr {
        return Err(format!(
            "--signed signs the hosted issuer's assertions; Badgr issues its own\n{USAGE}"
        ));
    }
    Ok(args)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = std::fs::create_dir_all(&args.out) {
        eprintln!("cannot create {}: {e}", args.out.display());
        return ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start a runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let url = args
        .store
        .clone()
        .unwrap_or_else(|| format!("sqlite:{}", args.out.join("badgery.sqlite3").display()));
    let store = match runtime.block_on(platform::open_store(&url)) {
        Ok(store) => store,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let issuing = if args.badgr {
        platform::badgr_from_env(BADGR_TIMEOUT)
            .map(|badgr| platform::Issuing::Badgr(std::sync::Arc::new(badgr)))
    } else {
        let signing = if args.signed {
            match &args.key {
                Some(path) => platform::read_signing_key(path),
                None => platform::signing_key_in(&args.out),
            }
            .map(Some)
        } else {
            Ok(None)
        };
        signing.and_then(|signing| {
            if let Some(proof) = args.ob3 {
                let key = platform::ob3_key_in(&args.out)?;
                let eddsa = match proof {
                    badgery::Ob3Proof::Eddsa => Some(platform::ob3_ed25519_key_in(&args.out)?),
                    _ => None,
                };
                let options = platform::Ob3Options {
                    only: args.ob3_only,
                    key,
                    eddsa,
                };
                Ok(platform::Issuing::HostedOb3(signing, options))
            } else {
                Ok(platform::Issuing::Hosted(signing))
            }
        })
    };
    let issuing = match issuing {
        Ok(issuing) => issuing,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let report = runtime.block_on(platform::run(
        store,
        Some(&args.out),
        args.failure_rate,
        args.seed,
        issuing,
    ));

    let widths = [8, 52, 18];
    println!(
        "{:<w0$} {:<w1$} {:<w2$} assertion",
        "learner",
        "badge",
        "rule",
        w0 = widths[0],
        w1 = widths[1],
        w2 = widths[2]
    );
    for row in &report.rows {
        let badge = if row.sequence > 1 {
            format!("{} #{}", row.slug, row.sequence)
        } else {
            row.slug.clone()
        };
        println!(
            "{:<w0$} {:<w1$} {:<w2$} {}",
            row.learner,
            badge,
            row.rule,
            row.assertion,
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2]
        );
    }
    println!();
    println!(
        "{} awards issued of {} expected; backend calls: {}, injected failures: {} ({} lost responses); engine restarts: {}",
        report.assertions.len(),
        report.expected,
        report.backend_calls,
        report.injected_failures,
        report.lost_responses,
        report.restarts
    );
    match report.badgr_requests {
        Some((api, tokens)) => println!(
            "Badgr serves the documents and baked images; API requests: {api}, token requests: {tokens}; awards kept in {url}"
        ),
        None => println!(
            "documents and baked images written under {}; awards kept in {url}",
            args.out.display()
        ),
    }
    if let Some(revoked) = &report.revoked_ob3 {
        println!("{revoked}");
    }
    if report.problems.is_empty() && report.assertions.len() == report.expected {
        if args.badgr {
            println!("every expected award issued exactly once, each a Badgr assertion");
        } else {
            let signatures = if args.signed {
                " and its signature verifies"
            } else {
                ""
            };
            println!(
                "every expected award issued exactly once; every baked image unbakes; every assertion validates{signatures}"
            );
            if args.ob3.is_some() {
                println!(
                    "every Open Badges 3.0 credential verifies, but the revoked one (refused for its status bit)"
                );
            }
        }
        ExitCode::SUCCESS
    } else {
        for problem in &report.problems {
            eprintln!("problem: {problem}");
        }
        ExitCode::from(1)
    }
}
