//! Credentials per second from the hosted issuer: an Open Badges 3.0 credential issued,
//! signed and baked (as a VC-JWT, ES256; and with an embedded eddsa-rdfc-2022 proof, whose
//! JSON-LD canonicalization dominates), next to the Open Badges 2.0 hosted assertion the same
//! issuer makes in the same run (the baseline), and both from one award.
//!
//! `cargo bench --bench ob3`; results in BENCHMARKS.md.

#![allow(missing_docs, clippy::unwrap_used)]

#[path = "../tests/support/hosted.rs"]
mod hosted;

use std::hint::black_box;
use std::sync::Arc;

use badgery::backend::{
    AssertionRepository, AwardKey, AwardRequest, BadgeBackend, BadgeClassRecord, MemoryStore,
    Recipient,
};
use badgery::model::jws::{Algorithm, SigningKey};
use badgery::ob3::credential::Profile;
use badgery::ob3::issue::Issuer;
use badgery::{HostedIssuer, IssuedAs, Ob3Issuing, Ob3Proof};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hosted::{issuer, png};

const AWARDS: usize = 200;

fn ob3(issued_as: IssuedAs, proof: Ob3Proof) -> HostedIssuer {
    let base = "https://lms.example.org/ob/";
    let ob3 = Issuer::new(
        base,
        Profile::new("", "LMS"),
        SigningKey::generate(Algorithm::Es256).unwrap(),
        "key-1",
        &format!("{base}status/1"),
    )
    .unwrap()
    .with_eddsa_key(
        SigningKey::generate(Algorithm::EdDsa).unwrap(),
        "key-ed25519",
    )
    .unwrap();
    let store: Arc<dyn AssertionRepository> = Arc::new(MemoryStore::new());
    issuer().issuing_ob3(Ob3Issuing::new(ob3, store, issued_as).with_proof(proof))
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let class = BadgeClassRecord::new(
        "rust",
        "Rust",
        "Completed the Rust course.",
        "Pass the course.",
        png(),
    );
    let requests: Vec<AwardRequest> = (0..AWARDS)
        .map(|l| AwardRequest {
            key: AwardKey::new(format!("l{l}"), "rust", 1),
            class: class.clone(),
            recipient: Recipient::new(format!("l{l}"), format!("l{l}@example.org")),
            evidence: Vec::new(),
            narrative: Some("passing certificate in Rust".to_owned()),
            issued_on: chrono::Utc::now(),
        })
        .collect();
    let mut group = c.benchmark_group("ob3");
    group.sample_size(10);
    group.throughput(Throughput::Elements(AWARDS as u64));
    for (name, issuer) in [
        ("ob2_hosted", issuer()),
        ("ob3_jwt", ob3(IssuedAs::Ob3, Ob3Proof::Jwt)),
        ("ob2_and_ob3_jwt", ob3(IssuedAs::Both, Ob3Proof::Jwt)),
        ("ob3_eddsa", ob3(IssuedAs::Ob3, Ob3Proof::Eddsa)),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                runtime.block_on(async {
                    for r in &requests {
                        black_box(issuer.award(r).await.unwrap());
                    }
                })
            });
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
