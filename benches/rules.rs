//! Events per second through the award rules for a platform with 100 000 learners and 10 000
//! courses, with 10, 1 000 and 100 000 rules, next to a naive evaluator that scans every rule
//! per event (`crates/rules/tests/support/naive_rules.rs`), measured in the same run. Also prints the memory
//! per learner.
//!
//! `cargo bench --bench rules -- 'indexed/1000$'` measures one rule count in its own process
//! (the way BENCHMARKS.md reports them); `cargo bench --bench rules` runs them all in one.

#![allow(missing_docs, clippy::unwrap_used)]

#[path = "../crates/rules/tests/support/naive_rules.rs"]
mod naive_rules;

use std::fmt::Write;
use std::hint::black_box;

use badgery::rules::{Evaluator, Event, RuleSet};
use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

const LEARNERS: u64 = 100_000;
const COURSES: u64 = 10_000;
const MODES: [&str; 3] = ["audit", "verified", "honor"];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn course(i: u64) -> String {
    format!("course-v1:Org+C{i}+2026")
}

/// Thresholds of the count rules: a handful, as Open edX configurations hold.
const THRESHOLDS: [u32; 10] = [1, 2, 3, 5, 8, 13, 21, 34, 55, 89];

/// A rule set of exactly `n` rules of every kind: 40% course completion classes (one per
/// course and mode, at most 30 000), up to 10 "N courses completed" and 10 "N courses enrolled"
/// thresholds, and the rest split between groups of 3 courses and criteria (two courses, one
/// with a minimum grade, or an activity).
fn rules(n: usize) -> RuleSet {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let course_classes = (n * 40 / 100).min(3 * COURSES as usize);
    let thresholds = (n / 10).clamp(1, THRESHOLDS.len());
    let rest = n - course_classes - 2 * thresholds;
    let (groups, criteria) = (rest / 2, rest - rest / 2);
    let mut toml = String::new();
    for i in 0..course_classes {
        let c = i as u64 % COURSES;
        let mode = MODES[(i as u64 / COURSES) as usize];
        writeln!(
            toml,
            "[[badge_class]]\nslug = \"done-{i}\"\ncourse = \"{}\"\nmode = \"{mode}\"",
            course(c)
        )
        .unwrap();
    }
    let mut fields = [String::new(), String::new(), String::new()];
    for (k, prefix) in [(0, "completed"), (1, "enrolled")] {
        for t in &THRESHOLDS[..thresholds] {
            writeln!(toml, "[[badge_class]]\nslug = \"{prefix}-{t}\"").unwrap();
            writeln!(fields[k], "{t},{prefix}-{t}").unwrap();
        }
    }
    for i in 0..groups {
        writeln!(toml, "[[badge_class]]\nslug = \"group-{i}\"").unwrap();
        let a = rng.below(COURSES);
        writeln!(
            fields[2],
            "group-{i},{},{},{}",
            course(a),
            course((a + 1) % COURSES),
            course((a + 2) % COURSES)
        )
        .unwrap();
    }
    for i in 0..criteria {
        writeln!(toml, "[[badge_class]]\nslug = \"crit-{i}\"").unwrap();
    }
    writeln!(toml, "[course_events]\ncourses_completed = \"\"\"\n{}\"\"\"\ncourses_enrolled = \"\"\"\n{}\"\"\"\ncourse_groups = \"\"\"\n{}\"\"\"", fields[0], fields[1], fields[2]).unwrap();
    for i in 0..criteria {
        let (a, b) = (rng.below(COURSES), rng.below(COURSES));
        writeln!(
            toml,
            // Inline tables: the same rules in fewer bytes, so that 100 000 of them stay
            // under RuleSet::MAX_TOML_BYTES.
            "[[criteria]]\nbadge=\"crit-{i}\"\nrequire=\"any\"\nrequirement=[{{type=\"courses\",require=\"all\",courses=[{{course=\"{}\",min_grade=0.5}},{{course=\"{}\"}}]}},{{type=\"activities\",activities=[{{activity=\"act-{}\"}}]}}]",
            course(a),
            course(b),
            rng.below(COURSES * 5)
        )
        .unwrap();
    }
    let rules = RuleSet::from_toml(&toml).unwrap();
    assert_eq!(rules.rule_count(), n);
    rules
}

/// A stream of events over 100 000 learners and 10 000 courses: 45% enrollments, 5%
/// unenrollments, 40% certificates (80% passing, with grades), 10% activity completions.
fn events(count: usize, seed: u64) -> Vec<Event> {
    let mut rng = Rng(seed);
    (0..count)
        .map(|_| {
            let learner = format!("learner-{}", rng.below(LEARNERS));
            let c = course(rng.below(COURSES));
            let roll = rng.below(100);
            let json = if roll < 45 {
                format!(r#"{{"event":"enrolled","learner":"{learner}","course":"{c}","mode":"{}"}}"#, MODES[rng.below(3) as usize])
            } else if roll < 50 {
                format!(r#"{{"event":"unenrolled","learner":"{learner}","course":"{c}"}}"#)
            } else if roll < 90 {
                let passed = rng.below(10) < 8;
                format!(r#"{{"event":"certificate","learner":"{learner}","course":"{c}","passed":{passed},"grade":0.{}}}"#, rng.below(10))
            } else {
                format!(r#"{{"event":"activity_completed","learner":"{learner}","activity":"act-{}"}}"#, rng.below(COURSES * 5))
            };
            Event::from_json(&json).unwrap()
        })
        .collect()
}

/// A rule set of `n` rules and an evaluator warmed with `warm`, built when first needed: a
/// filtered run (`-- indexed/1000`) builds only what it measures, in a fresh process, so each
/// rule count is measured on a heap that no other measurement has used.
fn warmed(n: usize, warm: &[Event]) -> (RuleSet, Evaluator) {
    let started = std::time::Instant::now();
    let rules = rules(n);
    println!(
        "rules={n}: generated and loaded the TOML rule set in {:?}",
        started.elapsed()
    );
    let mut evaluator = Evaluator::new(rules.clone());
    let mut awards = Vec::new();
    for e in warm {
        evaluator.apply_into(e, &mut awards);
    }
    println!(
        "rules={} learners={} awards_in_warmup={} memory_per_learner={} bytes",
        rules.rule_count(),
        evaluator.learner_count(),
        awards.len(),
        evaluator.memory_per_learner()
    );
    (rules, evaluator)
}

fn bench(c: &mut Criterion) {
    // Warm the platform: 1 000 000 events spread over the 100 000 learners.
    let warm = events(1_000_000, 1);
    let batch = events(100_000, 2);
    let mut group = c.benchmark_group("rules");
    group.sample_size(10);
    for n in [10, 1_000, 100_000] {
        let mut state: Option<(RuleSet, Evaluator)> = None;
        group.throughput(Throughput::Elements(batch.len() as u64));
        group.bench_function(BenchmarkId::new("indexed", n), |b| {
            let (_, evaluator) = state.get_or_insert_with(|| warmed(n, &warm));
            b.iter_batched(
                || (evaluator.clone(), Vec::with_capacity(1024)),
                |(mut ev, mut out)| {
                    // As a host does: take each event's awards, then reuse the buffer.
                    for e in &batch {
                        ev.apply_into(black_box(e), &mut out);
                        black_box(&out);
                        out.clear();
                    }
                    (ev, out)
                },
                BatchSize::PerIteration,
            );
        });
        drop(state);
        // The naive scan is slow enough at 100 000 rules that fewer events are timed; the
        // throughput is per event either way.
        let naive_batch = &batch[..if n >= 100_000 { 200 } else { 20_000 }];
        let mut naive_set: Option<RuleSet> = None;
        group.throughput(Throughput::Elements(naive_batch.len() as u64));
        group.bench_function(BenchmarkId::new("naive_scan", n), |b| {
            let rules = naive_set.get_or_insert_with(|| rules(n));
            b.iter_batched(
                || naive_rules::Naive::new(rules.clone()),
                |mut naive| {
                    for e in naive_batch {
                        black_box(naive.apply(black_box(e)));
                    }
                    naive
                },
                BatchSize::PerIteration,
            );
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
