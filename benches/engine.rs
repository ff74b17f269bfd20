//! Awards per second through the engine (rules, claim in the in-memory store, the hosted
//! issuer building, hashing and baking the assertion, recording it), next to the hosted issuer
//! called directly (no rules, no store) and a bare PNG bake of the same payload size, measured
//! in the same run.
//!
//! `cargo bench --bench engine`; results in BENCHMARKS.md.

#![allow(missing_docs, clippy::unwrap_used)]

#[path = "../tests/support/hosted.rs"]
mod hosted;

use std::hint::black_box;
use std::sync::Arc;

use badgery::backend::{
    AwardKey, AwardRequest, BadgeBackend, BadgeClassRecord, MemoryStore, Recipient,
};
use badgery::rules::{ClassRule, Event, RuleSet};
use badgery::{Engine, StaticDirectory};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use hosted::{issuer, png};

const AWARDS: usize = 1_000;
const COURSES: usize = 10;

fn course(i: usize) -> String {
    format!("course-v1:Org+C{i}+2026")
}

fn class(i: usize) -> BadgeClassRecord {
    BadgeClassRecord::new(
        format!("c{i}"),
        format!("Course {i}"),
        "Completed the course.",
        "Pass the course.",
        png(),
    )
    .for_course(course(i), None)
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let rules = RuleSet::new(
        (0..COURSES)
            .map(|i| ClassRule::course_completion(format!("c{i}"), course(i), None))
            .collect(),
    )
    .unwrap();
    let mut directory = StaticDirectory::new();
    for l in 0..AWARDS {
        directory = directory.learner(&format!("l{l}"), &format!("l{l}@example.org"));
    }
    let directory = Arc::new(directory);
    // Each event awards exactly one badge.
    let events: Vec<Event> = (0..AWARDS)
        .map(|l| {
            Event::from_json(&format!(
                r#"{{"event":"certificate","learner":"l{l}","course":"{}","passed":true}}"#,
                course(l % COURSES)
            ))
            .unwrap()
        })
        .collect();
    let mut group = c.benchmark_group("awards");
    group.sample_size(10);
    group.throughput(Throughput::Elements(AWARDS as u64));
    group.bench_function("engine_hosted_memory_store", |b| {
        b.iter_batched(
            || {
                let engine = Engine::new(
                    rules.clone(),
                    Arc::new(MemoryStore::new()),
                    Arc::new(issuer()),
                    directory.clone(),
                );
                runtime
                    .block_on(engine.register_classes((0..COURSES).map(class).collect()))
                    .unwrap();
                engine
            },
            |engine| {
                runtime.block_on(async {
                    for e in &events {
                        black_box(engine.handle(e).await.unwrap());
                    }
                });
                engine
            },
            BatchSize::PerIteration,
        );
    });
    let issuer = issuer();
    let requests: Vec<AwardRequest> = (0..AWARDS)
        .map(|l| AwardRequest {
            key: AwardKey::new(format!("l{l}"), format!("c{}", l % COURSES), 1),
            class: class(l % COURSES),
            recipient: Recipient::new(format!("l{l}"), format!("l{l}@example.org")),
            evidence: Vec::new(),
            narrative: Some(format!("passing certificate in {}", course(l % COURSES))),
            issued_on: chrono::Utc::now(),
        })
        .collect();
    group.bench_function("hosted_issuer_alone", |b| {
        b.iter(|| {
            runtime.block_on(async {
                for r in &requests {
                    black_box(issuer.award(r).await.unwrap());
                }
            })
        });
    });
    let sample = runtime.block_on(issuer.award(&requests[0])).unwrap();
    let payload =
        badgery::bake::Payload::new(serde_json::to_string(&sample.data["assertion"]).unwrap())
            .unwrap();
    let png = png().bytes;
    group.bench_function("bake_alone", |b| {
        b.iter(|| {
            for _ in 0..AWARDS {
                black_box(
                    badgery::bake::bake(black_box(&png), &payload, &Default::default()).unwrap(),
                );
            }
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
