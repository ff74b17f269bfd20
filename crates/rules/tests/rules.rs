//! Integration tests of `badgery-rules`: every rule kind, the cases where Open edX loses
//! badges, every configuration rejection, replays, back-fill, and a property test against an
//! independent naive evaluator.

#![allow(clippy::unwrap_used)] // A test's helpers may panic: that is how a test fails.

#[path = "support/naive_rules.rs"]
mod naive_rules;

use badgery_rules::{Award, ClassRule, Error, Evaluator, Event, Progress, Rule, RuleSet};
use proptest::prelude::*;

const A: &str = "course-v1:Org+A+2026";
const B: &str = "course-v1:Org+B+2026";
const C: &str = "course-v1:Org+C+2026";
const D: &str = "course-v1:Org+D+2026";

fn enrolled(learner: &str, course: &str, mode: &str) -> Event {
    Event::from_json(&format!(
        r#"{{"event":"enrolled","learner":"{learner}","course":"{course}","mode":"{mode}"}}"#
    ))
    .unwrap()
}

fn unenrolled(learner: &str, course: &str) -> Event {
    Event::from_json(&format!(
        r#"{{"event":"unenrolled","learner":"{learner}","course":"{course}"}}"#
    ))
    .unwrap()
}

fn cert(learner: &str, course: &str, passed: bool) -> Event {
    Event::from_json(&format!(
        r#"{{"event":"certificate","learner":"{learner}","course":"{course}","passed":{passed}}}"#
    ))
    .unwrap()
}

fn json(text: &str) -> Event {
    Event::from_json(text).unwrap()
}

fn slugs(awards: &[Award]) -> Vec<&str> {
    awards.iter().map(|a| a.slug.as_str()).collect()
}

fn run(evaluator: &mut Evaluator, events: &[Event]) -> Vec<Award> {
    events.iter().flat_map(|e| evaluator.apply(e)).collect()
}

fn classes(slugs: &[&str]) -> Vec<ClassRule> {
    slugs.iter().map(|s| ClassRule::new(*s)).collect()
}

#[test]
fn course_completion_by_course_and_mode_with_fallback() {
    let rules = RuleSet::new(vec![
        ClassRule::course_completion("a-verified", A, Some("verified")),
        ClassRule::course_completion("a-any", A, None),
        ClassRule::course_completion("b-honor", B, Some("honor")),
    ])
    .unwrap();
    let mut e = Evaluator::new(rules);
    // Mode from the enrollment.
    let awards = run(&mut e, &[enrolled("v", A, "verified"), cert("v", A, true)]);
    assert_eq!(slugs(&awards), ["a-verified"]);
    assert_eq!(
        awards[0].rule,
        Rule::CourseCompletion {
            course: A.into(),
            mode: Some("verified".into())
        }
    );
    // A mode with no class of its own falls back to the class with no mode.
    assert_eq!(
        slugs(&run(
            &mut e,
            &[enrolled("h", A, "honor"), cert("h", A, true)]
        )),
        ["a-any"]
    );
    // The certificate's own mode wins over the enrollment's.
    assert_eq!(slugs(&e.apply(&json(&format!(r#"{{"event":"certificate","learner":"x","course":"{A}","passed":true,"mode":"verified"}}"#)))), ["a-verified"]);
    // No class for (B, audit) and none for B without mode: nothing.
    assert!(run(&mut e, &[enrolled("y", B, "audit"), cert("y", B, true)]).is_empty());
    // A failing certificate awards nothing.
    assert!(run(&mut e, &[enrolled("z", B, "honor"), cert("z", B, false)]).is_empty());
    assert_eq!(slugs(&e.apply(&cert("z", B, true))), ["b-honor"]);
}

#[test]
fn courses_completed_counts_reach_or_pass_and_checkpoints() {
    // Open edX's own test: config 2/6/9 gives 1, 2 and 3 badges at 2, 6 and 9 completions.
    let rules = RuleSet::new(classes(&["two", "six", "nine"]))
        .unwrap()
        .with_openedx_fields("2,two\r6,six\r9,nine", "", "")
        .unwrap();
    let mut e = Evaluator::new(rules);
    let mut earned_at = Vec::new();
    for i in 1..=10 {
        for a in e.apply(&cert("l", &format!("course-v1:Org+C{i}+2026"), true)) {
            earned_at.push((i, a.slug));
        }
    }
    assert_eq!(
        earned_at,
        [
            (2, "two".to_owned()),
            (6, "six".to_owned()),
            (9, "nine".to_owned())
        ]
    );
}

#[test]
fn only_the_latest_certificate_of_a_course_counts() {
    let rules = RuleSet::new(classes(&["two"]))
        .unwrap()
        .with_openedx_fields("2,two", "", "")
        .unwrap();
    let mut e = Evaluator::new(rules);
    // The same course passed twice is one course.
    assert!(run(&mut e, &[cert("l", A, true), cert("l", A, true)]).is_empty());
    // A later failing certificate replaces the pass: still one passing course after B.
    assert!(run(&mut e, &[cert("l", A, false), cert("l", B, true)]).is_empty());
    assert_eq!(slugs(&e.apply(&cert("l", A, true))), ["two"]);
}

#[test]
fn courses_enrolled_checkpoints_and_unenrolling_never_revokes() {
    // Open edX's own test: config 3/5/8 gives exactly 1, 2 and 3 badges at 3, 5 and 8.
    let rules = RuleSet::new(classes(&["e3", "e5", "e8"]))
        .unwrap()
        .with_openedx_fields("", "3,e3\n5,e5\n8,e8", "")
        .unwrap();
    let mut e = Evaluator::new(rules);
    let mut got = Vec::new();
    for i in 1..=8 {
        got.extend(
            e.apply(&enrolled("l", &format!("course-v1:Org+C{i}+2026"), "audit"))
                .into_iter()
                .map(|a| (i, a.slug)),
        );
    }
    assert_eq!(got, [(3, "e3".into()), (5, "e5".into()), (8, "e8".into())]);
    // Unenrolling lowers the count; re-enrolling reaches the thresholds again but the badges
    // are held already; a mode change is not a new enrollment.
    let again = run(
        &mut e,
        &[
            unenrolled("l", "course-v1:Org+C1+2026"),
            unenrolled("l", "course-v1:Org+C2+2026"),
            enrolled("l", "course-v1:Org+C1+2026", "verified"),
            enrolled("l", "course-v1:Org+C2+2026", "audit"),
            enrolled("l", "course-v1:Org+C2+2026", "verified"),
        ],
    );
    assert!(again.is_empty());
}

#[test]
fn course_groups_need_every_course_in_any_order() {
    let rules = RuleSet::new(classes(&["ab", "bcd"]))
        .unwrap()
        .with_openedx_fields("", "", &format!("ab,{A},{B}\nbcd,{B},{C},{D}"))
        .unwrap();
    let mut e = Evaluator::new(rules);
    // Unlike Open edX, which re-checks only groups containing the course just certified,
    // every group containing it is checked; order does not matter.
    assert!(run(&mut e, &[cert("l", C, true), cert("l", D, true)]).is_empty());
    let awards = e.apply(&cert("l", B, true));
    assert_eq!(slugs(&awards), ["bcd"]);
    assert_eq!(
        awards[0].rule,
        Rule::CourseGroup {
            courses: vec![B.into(), C.into(), D.into()]
        }
    );
    assert!(
        e.apply(&cert("l", B, true)).is_empty(),
        "a replay changes nothing"
    );
    assert_eq!(slugs(&e.apply(&cert("l", A, true))), ["ab"]);
}

/// The ways Open edX loses badges, and how we do not.
#[test]
fn open_edx_lost_badges_are_not_lost() {
    // 1. Several enrollments at once: Open edX counts active enrollments when its handler runs;
    //    if two land together the count jumps from 2 to 4 and `config.get(count)` misses 3.
    //    Our count crosses 3 whatever the batching; and a jump across thresholds awards all.
    let rules = RuleSet::new(classes(&["e3"]))
        .unwrap()
        .with_openedx_fields("", "3,e3", "")
        .unwrap();
    let mut e = Evaluator::new(rules.clone());
    let batch = [
        enrolled("l", A, "audit"),
        enrolled("l", B, "audit"),
        enrolled("l", C, "audit"),
        enrolled("l", D, "audit"),
    ];
    assert_eq!(slugs(&run(&mut e, &batch)), ["e3"]);

    // 2. A threshold passed while the rule was missing (or badges were disabled): Open edX
    //    never awards it later. Back-fill does.
    let mut e = Evaluator::new(RuleSet::new(classes(&["c2", "e3"])).unwrap());
    assert!(
        run(
            &mut e,
            &[cert("l", A, true), cert("l", B, true), cert("l", C, true)]
        )
        .is_empty()
    );
    assert!(run(&mut e, &batch).is_empty());
    let backfilled = e.set_rules(
        RuleSet::new(classes(&["c2", "e3"]))
            .unwrap()
            .with_openedx_fields("2,c2", "3,e3", "")
            .unwrap(),
    );
    assert_eq!(slugs(&backfilled), ["c2", "e3"]);
    assert!(e.backfill().is_empty(), "back-fill is idempotent");
    // Later events do not award them again.
    assert!(e.apply(&cert("l", D, true)).is_empty());

    // 3. The count passes N between two checks (for example a course certified while badges
    //    were off): the next certificate moves the count from 3 to 4, and `count == 2` never
    //    holds again in Open edX. With back-fill done at rule change, and thresholds
    //    checked as `>=`, a learner passing with a later threshold still gets it.
    let rules = RuleSet::new(classes(&["c2", "c4"]))
        .unwrap()
        .with_openedx_fields("2,c2\n4,c4", "", "")
        .unwrap();
    let mut e = Evaluator::new(RuleSet::new(classes(&["c2", "c4"])).unwrap());
    run(
        &mut e,
        &[cert("l", A, true), cert("l", B, true), cert("l", C, true)],
    );
    assert_eq!(slugs(&e.set_rules(rules)), ["c2"]);
    assert_eq!(slugs(&e.apply(&cert("l", D, true))), ["c4"]);
}

#[test]
fn duplicate_and_replayed_events_change_nothing() {
    let rules = RuleSet::from_toml(include_str!("data/rules/platform.toml")).unwrap();
    let events: Vec<Event> = include_str!("data/rules/events.jsonl")
        .lines()
        .map(json)
        .collect();
    let mut e = Evaluator::new(rules);
    let first = run(&mut e, &events);
    assert!(!first.is_empty());
    assert!(
        run(&mut e, &events).is_empty(),
        "replaying the whole stream awards nothing"
    );
    let mut doubled = Evaluator::new(e.rules().clone());
    let twice: Vec<Event> = events
        .iter()
        .flat_map(|ev| [ev.clone(), ev.clone()])
        .collect();
    assert_eq!(
        run(&mut doubled, &twice),
        first,
        "each event twice in a row: the same awards"
    );
}

fn criteria_rules(toml_criteria: &str) -> RuleSet {
    let text = format!(
        "[[badge_class]]\nslug = \"target\"\n[[badge_class]]\nslug = \"prior\"\n[[badge_class]]\nslug = \"other\"\n{toml_criteria}"
    );
    RuleSet::from_toml(&text).unwrap()
}

#[test]
fn criteria_courses_with_grade_and_deadline() {
    let rules = criteria_rules(&format!(
        r#"[[criteria]]
badge = "target"
[[criteria.requirement]]
type = "courses"
require = "all"
courses = [{{ course = "{A}", min_grade = 0.8 }}, {{ course = "{B}", by = "2026-06-30T23:59:59Z" }}]"#
    ));
    let mut e = Evaluator::new(rules);
    let c = |learner: &str, course: &str, extra: &str| {
        json(&format!(
            r#"{{"event":"certificate","learner":"{learner}","course":"{course}","passed":true{extra}}}"#
        ))
    };
    // Grade too low, then high enough; B late, then on time.
    assert!(
        run(
            &mut e,
            &[
                c("l", A, r#","grade":0.79"#),
                c("l", B, r#","at":"2026-07-01T00:00:00Z""#)
            ]
        )
        .is_empty()
    );
    assert!(e.apply(&c("l", A, r#","grade":0.8"#)).is_empty());
    let awards = e.apply(&c("l", B, r#","at":"2026-06-30T23:59:59Z""#));
    assert_eq!(slugs(&awards), ["target"]);
    assert_eq!(awards[0].reason, "criteria target met (all of: courses)");
    // MDL-75572: a failing certificate does not count even with a high grade; no grade at all
    // does not meet a minimum grade; no date does not meet a deadline.
    assert!(run(&mut e, &[
        json(&format!(r#"{{"event":"certificate","learner":"m","course":"{A}","passed":false,"grade":0.95}}"#)),
        c("m", B, r#","at":"2026-01-01T00:00:00Z""#),
    ]).is_empty());
    assert!(run(&mut e, &[c("n", A, ""), c("n", B, "")]).is_empty());
}

#[test]
fn criteria_any_activities_badges_cascade_and_manual_roles() {
    let rules = criteria_rules(
        r#"
[[criteria]]
badge = "prior"
[[criteria.requirement]]
type = "activities"
require = "any"
activities = [{ activity = "quiz-1", by = "2026-03-01T00:00:00Z" }, { activity = "essay" }]

[[criteria]]
badge = "target"
require = "all"
[[criteria.requirement]]
type = "badges"
badges = ["prior"]
[[criteria.requirement]]
type = "manual"
require = "all"
roles = ["teacher", "manager"]

[[criteria]]
badge = "other"
require = "any"
[[criteria.requirement]]
type = "manual"
require = "any"
roles = ["teacher", "manager"]
[[criteria.requirement]]
type = "activities"
activities = [{ activity = "never" }]
"#,
    );
    let mut e = Evaluator::new(rules);
    let act = |a: &str, extra: &str| {
        json(&format!(
            r#"{{"event":"activity_completed","learner":"l","activity":"{a}"{extra}}}"#
        ))
    };
    let manual = |badge: &str, role: &str| {
        json(&format!(
            r#"{{"event":"manual_award","learner":"l","badge":"{badge}","role":"{role}"}}"#
        ))
    };
    // A late quiz and a failed essay meet nothing.
    assert!(
        run(
            &mut e,
            &[
                act("quiz-1", r#","at":"2026-03-02T00:00:00Z""#),
                act("essay", r#","passed":false"#)
            ]
        )
        .is_empty()
    );
    // Manual awards by both roles, before the prior badge: the target waits for it.
    assert!(e.apply(&manual("target", "teacher")).is_empty());
    assert!(
        e.apply(&manual("target", "teacher")).is_empty(),
        "the same role twice"
    );
    assert!(e.apply(&manual("target", "manager")).is_empty());
    // An earlier completion of the quiz (reported late) meets the deadline: prior is awarded,
    // and the cascade awards target in the same step.
    let awards = e.apply(&act("quiz-1", r#","at":"2026-02-01T00:00:00Z""#));
    assert_eq!(slugs(&awards), ["prior", "target"]);
    assert_eq!(
        awards[1].rule,
        Rule::Criteria {
            id: "target".into()
        }
    );
    // ANY of the roles for "other".
    assert_eq!(slugs(&e.apply(&manual("other", "manager"))), ["other"]);
}

/// Groups naming more than a few dozen courses are kept once and shared by the index, not
/// copied next to each course, and a criteria rule over 40 courses is skipped by its `needs`
/// mask until all may be passed (the 64-bit mask then has every bit): both must decide exactly
/// as short rules do.
#[test]
fn long_groups_and_criteria_decide_like_short_ones() {
    let courses: Vec<String> = (0..40)
        .map(|i| format!("course-v1:Org+L{i}+2026"))
        .collect();
    let quoted: Vec<String> = courses
        .iter()
        .map(|c| format!("{{ course = \"{c}\" }}"))
        .collect();
    let rules = criteria_rules(&format!(
        r#"[[badge_class]]
slug = "all-forty"
[course_events]
course_groups = "all-forty,{}"
[[criteria]]
badge = "target"
[[criteria.requirement]]
type = "courses"
courses = [{}]
[[criteria]]
badge = "prior"
[[criteria.requirement]]
type = "courses"
courses = [{{ course = "{}" }}]
[[criteria]]
badge = "other"
[[criteria.requirement]]
type = "badges"
badges = ["target"]
"#,
        courses.join(","),
        quoted.join(", "),
        courses[7],
    ));
    let mut e = Evaluator::new(rules);
    // Every course but one, in an order unlike the rule's.
    let mut order: Vec<usize> = (0..40).map(|i| (i * 17) % 40).collect();
    let last = order.pop().unwrap();
    let mut awards = Vec::new();
    for &i in &order {
        awards.extend(e.apply(&cert("ada", &courses[i], true)));
    }
    assert_eq!(slugs(&awards), ["prior"]);
    let awards = e.apply(&cert("ada", &courses[last], true));
    assert_eq!(slugs(&awards), ["all-forty", "target", "other"]);
}

#[test]
fn repeatable_classes_are_awarded_on_each_new_satisfaction() {
    let rules = RuleSet::new(vec![
        ClassRule::course_completion("a", A, None).repeatable(),
        ClassRule::course_completion("b", B, None),
    ])
    .unwrap();
    let mut e = Evaluator::new(rules);
    let events = [
        cert("l", A, true),
        cert("l", A, true),
        cert("l", A, false),
        cert("l", A, true),
        cert("l", A, false),
        cert("l", A, true),
        cert("l", B, true),
        cert("l", B, false),
        cert("l", B, true),
    ];
    let awards = run(&mut e, &events);
    assert_eq!(slugs(&awards), ["a", "a", "a", "b"]);
    assert_eq!(
        awards.iter().map(|a| a.sequence).collect::<Vec<_>>(),
        [1, 2, 3, 1],
        "repeats are numbered"
    );
}

#[test]
fn repeatable_criteria_award_again_after_a_failing_certificate() {
    let rules = RuleSet::from_toml(&format!(
        r#"
[[badge_class]]
slug = "r"
repeatable = true

[[criteria]]
badge = "r"
[[criteria.requirement]]
type = "courses"
courses = [{{ course = "{A}", min_grade = 0.5 }}]
"#
    ))
    .unwrap();
    let mut e = Evaluator::new(rules);
    let graded = |passed: bool, grade: f64| {
        json(&format!(
            r#"{{"event":"certificate","learner":"l","course":"{A}","passed":{passed},"grade":{grade}}}"#
        ))
    };
    let awards = run(
        &mut e,
        &[
            graded(true, 0.8),
            graded(true, 0.9),  // still satisfied: no new award
            graded(false, 0.2), // no longer satisfied
            graded(true, 0.7),  // satisfied anew
        ],
    );
    assert_eq!(
        awards.iter().map(|a| a.sequence).collect::<Vec<_>>(),
        [1, 2]
    );
}

#[test]
fn automatic_course_classes_for_courses_without_one() {
    let rules = RuleSet::new(vec![ClassRule::course_completion(
        "a-verified",
        A,
        Some("verified"),
    )])
    .unwrap()
    .with_auto_course_completion();
    let mut e = Evaluator::new(rules);
    // A configured class still wins.
    assert_eq!(
        slugs(&run(
            &mut e,
            &[enrolled("l", A, "verified"), cert("l", A, true)]
        )),
        ["a-verified"]
    );
    // Course A in another mode, and course B: classes named as Open edX names them.
    let awards = run(
        &mut e,
        &[
            enrolled("l", B, "honor"),
            cert("l", B, false),
            cert("l", B, true),
            cert("l", B, true),
        ],
    );
    assert_eq!(
        slugs(&awards),
        [badgery_rules::course_slug(B, "honor").as_str()]
    );
    assert_eq!(
        awards[0].rule,
        Rule::CourseCompletion {
            course: B.into(),
            mode: Some("honor".into())
        }
    );
    assert_eq!(
        slugs(&run(
            &mut e,
            &[enrolled("m", A, "audit"), cert("m", A, true)]
        )),
        [badgery_rules::course_slug(A, "audit").as_str()]
    );
    // Off by default.
    let mut off = Evaluator::new(RuleSet::new(vec![]).unwrap());
    assert!(run(&mut off, &[cert("l", B, true)]).is_empty());
}

#[test]
fn awards_explain_themselves_and_serialise() {
    let rules = RuleSet::new(classes(&["two"]))
        .unwrap()
        .with_openedx_fields("2,two", "", "")
        .unwrap();
    let mut e = Evaluator::new(rules);
    e.apply(&cert("l", A, true));
    let award = e.apply(&json(&format!(r#"{{"event":"certificate","learner":"l","course":"{B}","passed":true,"at":"2026-05-01T10:00:00+02:00"}}"#))).remove(0);
    assert_eq!(
        serde_json::to_value(&award).unwrap(),
        serde_json::json!({"learner": "l", "badge": "two", "sequence": 1, "rule": {"kind": "courses_completed", "threshold": 2},
                           "reason": "2 courses completed, threshold 2", "at": "2026-05-01T08:00:00Z"})
    );
}

fn toml_error(text: &str) -> (usize, String) {
    match RuleSet::from_toml(text) {
        Err(Error::Toml { line, problem }) => (line, problem),
        other => panic!("expected a TOML error, got {other:?}"),
    }
}

#[test]
fn toml_rejections_name_the_line() {
    let cases: &[(&str, usize, &str)] = &[
        (
            "[[badge_class]]\nslug = \"ok\"\n\n[[badge_class]]\nslug = \"Bad Slug\"\n",
            5,
            "[a-z0-9_-]",
        ),
        (
            "[[badge_class]]\nslug = \"a\"\n[[badge_class]]\nslug = \"a\"\n",
            4,
            "already used (line 2)",
        ),
        (
            "[[badge_class]]\nslug = \"a\"\ncourse = \"nope\"\n",
            2,
            "not a course key",
        ),
        (
            "[[badge_class]]\nslug = \"a\"\nmode = \"verified\"\n",
            2,
            "mode but no course",
        ),
        (
            "[[badge_class]]\nslug = \"a\"\ncourse = \"course-v1:O+A+1\"\n[[badge_class]]\nslug = \"b\"\ncourse = \"course-v1:O+A+1\"\n",
            5,
            "one class per course and mode",
        ),
        (
            "[[badge_class]]\nslug = \"a\"\ncolour = \"red\"\n",
            3,
            "unknown field",
        ),
        (
            "[[badge_class]]\nslug = \"a\"\n\n[course_events]\ncourses_completed = \"\"\"\n3,a\n0,a\"\"\"\n",
            7,
            "courses_completed, line 2 of the field",
        ),
        (
            "[[badge_class]]\nslug = \"a\"\n[course_events]\ncourse_groups = \"a\"\n",
            4,
            "has no course",
        ),
        (
            "[[badge_class]]\nslug = \"a\"\n[course_events]\ncourses_enrolled = \"2,b\"\n",
            4,
            "no known badge class",
        ),
        (
            "[[badge_class]]\nslug = \"a\"\n\n[[criteria]]\nbadge = \"zzz\"\n[[criteria.requirement]]\ntype = \"manual\"\nroles = [\"t\"]\n",
            4,
            "names no known badge class",
        ),
        (
            "[[badge_class]]\nslug = \"a\"\n\n[[criteria]]\nbadge = \"a\"\n[[criteria.requirement]]\ntype = \"courses\"\ncourses = [{ course = \"course-v1:O+A+1\", min_grade = 1.5 }]\n",
            4,
            "between 0.0 and 1.0",
        ),
        (
            "[[badge_class]]\nslug = \"a\"\n\n[[criteria]]\nbadge = \"a\"\n[[criteria.requirement]]\ntype = \"courses\"\ncourses = [{ course = \"course-v1:O+A+1\", by = \"soon\" }]\n",
            // Read as the deadline is parsed: the requirement that holds it (an internally
            // tagged table is read whole, so the parser names its first line).
            6,
            "not an RFC 3339",
        ),
        (
            "[[badge_class]]\nslug = \"a\"\n\n[[criteria]]\nbadge = \"a\"\n[[criteria.requirement]]\ntype = \"badges\"\nbadges = []\n",
            4,
            "lists nothing",
        ),
        (
            "[[badge_class]]\nslug = \"a\"\n\n[[criteria]]\nbadge = \"a\"\n[[criteria.requirement]]\ntype = \"telepathy\"\n",
            7,
            "unknown variant",
        ),
        (
            "[[badge_class]]\nslug = \"a\"\n\n[[criteria]]\nbadge = \"a\"\nrequirement = []\n",
            4,
            "no requirement",
        ),
        ("[[badge_class]\nslug = \"a\"\n", 1, ""),
    ];
    for (text, line, expected) in cases {
        let (got_line, problem) = toml_error(text);
        assert_eq!(got_line, *line, "{text:?}: {problem}");
        assert!(problem.contains(expected), "{text:?}: {problem}");
    }
}

#[test]
fn a_rejected_configuration_changes_nothing() {
    let rules = RuleSet::new(classes(&["a", "b"]))
        .unwrap()
        .with_openedx_fields("1,a", "", "")
        .unwrap();
    let mut e = Evaluator::new(rules.clone());
    // The builder consumes the rule set only on success; the evaluator keeps its rules.
    assert!(
        rules
            .clone()
            .with_openedx_fields("1,a", "2,b\n2,a", "")
            .is_err()
    );
    assert_eq!(e.rules(), &rules);
    assert_eq!(slugs(&e.apply(&cert("l", A, true))), ["a"]);
}

fn arb_event() -> impl Strategy<Value = Event> {
    let learner = prop::sample::select(vec!["l1", "l2", "l3"]);
    let course = prop::sample::select(vec![A, B, C, D]);
    let mode = prop::sample::select(vec!["audit", "verified", "honor"]);
    let at = prop::option::of(prop::sample::select(vec![
        "2026-01-01T00:00:00Z",
        "2026-06-01T00:00:00Z",
        "2026-12-01T00:00:00Z",
    ]));
    let at_json = |at: Option<&str>| at.map(|a| format!(r#","at":"{a}""#)).unwrap_or_default();
    prop_oneof![
        (learner.clone(), course.clone(), mode.clone(), at.clone()).prop_map(
            move |(l, c, m, t)| json(&format!(
                r#"{{"event":"enrolled","learner":"{l}","course":"{c}","mode":"{m}"{}}}"#,
                at_json(t)
            ))
        ),
        (learner.clone(), course.clone()).prop_map(|(l, c)| unenrolled(l, c)),
        (
            learner.clone(),
            course.clone(),
            any::<bool>(),
            prop::option::of(mode.clone()),
            prop::option::of(0.0f64..=1.0),
            at.clone()
        )
            .prop_map(move |(l, c, p, m, g, t)| json(&format!(
                r#"{{"event":"certificate","learner":"{l}","course":"{c}","passed":{p}{}{}{}}}"#,
                m.map(|m| format!(r#","mode":"{m}""#)).unwrap_or_default(),
                g.map(|g| format!(r#","grade":{g}"#)).unwrap_or_default(),
                at_json(t)
            ))),
        (
            learner.clone(),
            prop::sample::select(vec!["q1", "q2"]),
            prop::option::of(any::<bool>()),
            at
        )
            .prop_map(move |(l, a, p, t)| json(&format!(
                r#"{{"event":"activity_completed","learner":"{l}","activity":"{a}"{}{}}}"#,
                p.map(|p| format!(r#","passed":{p}"#)).unwrap_or_default(),
                at_json(t)
            ))),
        (
            learner,
            prop::sample::select(vec!["crit-all", "crit-any"]),
            prop::sample::select(vec!["teacher", "manager"])
        )
            .prop_map(|(l, b, r)| json(&format!(
                r#"{{"event":"manual_award","learner":"{l}","badge":"{b}","role":"{r}"}}"#
            ))),
    ]
}

/// Applies `events` to the indexed evaluator and to the naive one (every rule scanned after
/// every event) under the rules of `toml`; fails unless both award the same, event by event.
fn indexed_equals_naive(toml: &str, events: &[Event]) -> Result<(), TestCaseError> {
    let rules = RuleSet::from_toml(toml).unwrap();
    let mut fast = Evaluator::new(rules.clone());
    let mut naive = naive_rules::Naive::new(rules);
    for event in events {
        let mut got: Vec<(String, String)> = fast
            .apply(event)
            .into_iter()
            .map(|a| (a.learner, a.slug))
            .collect();
        got.sort();
        let mut want = naive.apply(event);
        want.sort();
        prop_assert_eq!(got, want, "after {:?}", event);
    }
    Ok(())
}

/// Applies `events` in memory and through stored progress, where every event is applied by a
/// new evaluator (as by another process, interning names in another order) to the learner's
/// progress read back from its bytes; fails unless both award the same, event by event, and
/// end with the same progress for every learner.
fn stored_progress_equals_memory(toml: &str, events: &[Event]) -> Result<(), TestCaseError> {
    let rules = RuleSet::from_toml(toml).unwrap();
    let mut memory = Evaluator::new(rules.clone());
    let mut stored: std::collections::BTreeMap<String, Vec<u8>> = Default::default();
    for (i, event) in events.iter().enumerate() {
        let want = memory.apply(event);
        let mut process = Evaluator::new(rules.clone());
        // A different first name interned in each "process" shifts every id.
        for warm in events.iter().skip(i % 3).take(i % 4) {
            let _ = process.apply_to(&Progress::default(), warm);
        }
        let bytes = stored
            .get(event.learner())
            .cloned()
            .unwrap_or_else(|| Progress::default().to_bytes());
        let progress = Progress::from_bytes(&bytes).unwrap();
        let (next, got) = process.apply_to(&progress, event);
        prop_assert_eq!(&got, &want, "after {:?}", event);
        stored.insert(event.learner().to_owned(), next.to_bytes());
    }
    for (learner, bytes) in &stored {
        prop_assert_eq!(
            Some(Progress::from_bytes(bytes).unwrap()),
            memory.progress(learner),
            "{}'s progress",
            learner
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// On any event stream, a learner's progress kept as bytes between events (as a store
    /// keeps it, read by another process each time) decides exactly what the in-memory
    /// evaluator decides.
    #[test]
    fn stored_progress_decides_as_memory(
        events in prop::collection::vec(arb_event(), 0..60),
        file in prop::sample::select(vec![
            include_str!("data/rules/progress.toml"),
            include_str!("data/rules/platform.toml"),
            include_str!("data/rules/course_combinations.toml"),
        ]),
    ) {
        stored_progress_equals_memory(file, &events)?;
    }

    /// On any event stream, the indexed evaluator awards exactly what the naive one (every
    /// rule scanned after every event) awards, event by event.
    #[test]
    fn indexed_evaluator_equals_naive_scan(events in prop::collection::vec(arb_event(), 0..60)) {
        indexed_equals_naive(include_str!("data/rules/platform.toml"), &events)?;
    }

    /// The same on criteria that combine courses in every way the index's shortcut (a rule
    /// skipped when the learner lacks a course it needs) must get right.
    #[test]
    fn indexed_evaluator_equals_naive_scan_on_course_combinations(events in prop::collection::vec(arb_event(), 0..80)) {
        indexed_equals_naive(include_str!("data/rules/course_combinations.toml"), &events)?;
    }

    /// Back-fill after the fact never awards what evaluation with the rules present from the
    /// start would not (it sees only the current state: a learner who dropped below a
    /// threshold is not back-filled), and awards everything when nothing was ever lost.
    #[test]
    fn backfill_is_within_live_evaluation(
        events in prop::collection::vec(arb_event(), 0..60),
        file in prop::sample::select(vec![
            include_str!("data/rules/platform.toml"),
            include_str!("data/rules/course_combinations.toml"),
        ]),
    ) {
        let rules = RuleSet::from_toml(file).unwrap();
        let mut live = Evaluator::new(rules.clone());
        let live_awards: Vec<(String, String)> = run(&mut live, &events).into_iter().map(|a| (a.learner, a.slug)).collect();
        let mut late = Evaluator::new(RuleSet::new(rules.classes().to_vec()).unwrap());
        let mut late_awards: Vec<(String, String)> = run(&mut late, &events).into_iter().map(|a| (a.learner, a.slug)).collect();
        late_awards.extend(late.set_rules(rules).into_iter().map(|a| (a.learner, a.slug)));
        for award in &late_awards {
            prop_assert!(live_awards.contains(award), "back-fill awarded {:?} which live evaluation did not", award);
        }
        let lossless = events.iter().all(|e| !matches!(e, Event::Unenrolled { .. } | Event::Certificate { passed: false, .. }));
        if lossless {
            let (mut a, mut b) = (live_awards.clone(), late_awards.clone());
            a.sort();
            b.sort();
            prop_assert_eq!(a, b);
        }
    }
}

/// The decisions on the example platform (also what `cargo run --example replay` prints).
#[test]
fn example_platform_golden_awards() {
    let rules = RuleSet::from_toml(include_str!("data/rules/platform.toml")).unwrap();
    let mut e = Evaluator::new(rules);
    let events: Vec<Event> = include_str!("data/rules/events.jsonl")
        .lines()
        .map(json)
        .collect();
    let lines: String = run(&mut e, &events)
        .iter()
        .map(|a| serde_json::to_string(a).unwrap() + "\n")
        .collect();
    let golden =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/rules/awards.jsonl");
    if std::env::var_os("BADGERY_BLESS").is_some() {
        std::fs::write(&golden, &lines).unwrap();
    }
    assert_eq!(lines, std::fs::read_to_string(golden).unwrap());
}

#[test]
fn badge_cycles_empty_roles_and_oversized_rule_sets_are_refused_at_load() {
    let criteria = |badge: &str, requires: &str| {
        format!(
            "[[criteria]]\nbadge = \"{badge}\"\n  [[criteria.requirement]]\n  type = \"badges\"\n  badges = [\"{requires}\"]\n"
        )
    };
    let classes = "[[badge_class]]\nslug = \"a\"\n[[badge_class]]\nslug = \"b\"\n[[badge_class]]\nslug = \"c\"\n";
    // Itself.
    let e = RuleSet::from_toml(&format!("{classes}{}", criteria("a", "a"))).unwrap_err();
    assert!(e.to_string().contains("cycle: a requires a"), "{e}");
    assert!(e.to_string().contains("line 7"), "{e}");
    // Through others: lines 7, 11 and 15.
    let text = format!(
        "{classes}{}{}{}",
        criteria("a", "b"),
        criteria("b", "c"),
        criteria("c", "a")
    );
    let e = RuleSet::from_toml(&text).unwrap_err().to_string();
    assert!(e.contains("a requires b requires c requires a"), "{e}");
    assert!(e.contains("lines 7, 12, 17"), "{e}");
    // A chain is fine.
    assert!(
        RuleSet::from_toml(&format!(
            "{classes}{}{}",
            criteria("a", "b"),
            criteria("b", "c")
        ))
        .is_ok()
    );
    // Empty role names.
    let manual = format!(
        "{classes}[[criteria]]\nbadge = \"a\"\n  [[criteria.requirement]]\n  type = \"manual\"\n  roles = [\"teacher\", \" \"]\n"
    );
    let e = RuleSet::from_toml(&manual).unwrap_err().to_string();
    assert!(e.contains("empty role"), "{e}");
    // Too large to load in bounded memory: refused before parsing.
    let huge = "#".repeat(RuleSet::MAX_TOML_BYTES + 1);
    let e = RuleSet::from_toml(&huge).unwrap_err().to_string();
    assert!(e.contains("over the limit"), "{e}");
}

#[test]
fn a_late_older_certificate_never_re_awards_a_repeatable_class() {
    let rules = RuleSet::new(vec![
        ClassRule::course_completion("rust", "course-v1:O+R+1", None).repeatable(),
    ])
    .unwrap();
    let mut evaluator = Evaluator::new(rules);
    let cert = |passed: bool, at: &str| {
        Event::from_json(&format!(
            r#"{{"event":"certificate","learner":"l","course":"course-v1:O+R+1","passed":{passed},"at":"{at}"}}"#
        ))
        .unwrap()
    };
    let awards = |e: &mut Evaluator, ev: Event| e.apply(&ev).len();
    assert_eq!(
        awards(&mut evaluator, cert(true, "2026-03-01T00:00:00Z")),
        1
    );
    assert_eq!(
        awards(&mut evaluator, cert(false, "2026-04-01T00:00:00Z")),
        0
    );
    // The passing certificate of January, delivered late: stale, no second award.
    assert_eq!(
        awards(&mut evaluator, cert(true, "2026-01-01T00:00:00Z")),
        0
    );
    // A newer pass does award again (the class is repeatable).
    assert_eq!(
        awards(&mut evaluator, cert(true, "2026-05-01T00:00:00Z")),
        1
    );
    // A stale failure does not undo the newer pass.
    assert_eq!(
        awards(&mut evaluator, cert(false, "2026-02-01T00:00:00Z")),
        0
    );
    assert_eq!(
        awards(&mut evaluator, cert(true, "2026-05-01T00:00:00Z")),
        0
    );
}

/// Criteria rules are named by something stable: their own id, or their class's slug (then
/// `SLUG#2`, … for a class's further rules), never their position among all criteria.
#[test]
fn criteria_are_named_by_their_class_or_their_own_id() {
    let rules = |criteria: &str| {
        RuleSet::from_toml(&format!(
            "[[badge_class]]\nslug = \"a\"\n[[badge_class]]\nslug = \"b\"\n{criteria}"
        ))
    };
    let rule = |badge: &str, id: Option<&str>| {
        let id = id.map_or(String::new(), |id| format!("id = \"{id}\"\n"));
        format!(
            "[[criteria]]\n{id}badge = \"{badge}\"\n[[criteria.requirement]]\ntype = \"manual\"\nroles = [\"teacher\"]\n"
        )
    };
    let ids = |set: &RuleSet| -> Vec<String> {
        set.criteria()
            .iter()
            .map(|c| c.id.clone().unwrap())
            .collect()
    };
    let set = rules(
        &(rule("b", None) + &rule("a", None) + &rule("b", None) + &rule("a", Some("a-by-hand"))),
    )
    .unwrap();
    assert_eq!(ids(&set), ["b", "a", "b#2", "a-by-hand"]);
    // Moving a rule of another class renames nothing.
    let moved = rules(&(rule("a", None) + &rule("b", None) + &rule("b", None))).unwrap();
    assert_eq!(ids(&moved), ["a", "b", "b#2"]);
    // An explanation names the rule by its id.
    let mut e = Evaluator::new(set);
    let manual =
        Event::from_json(r#"{"event":"manual_award","learner":"l","badge":"b","role":"teacher"}"#)
            .unwrap();
    let awards = e.apply(&manual);
    assert_eq!(awards[0].rule, Rule::Criteria { id: "b".into() });
    assert!(
        awards[0].reason.starts_with("criteria b met"),
        "{}",
        awards[0].reason
    );
    for (bad, problem) in [
        (
            rule("a", Some("x")) + &rule("b", Some("x")),
            "names two criteria rules",
        ),
        (rule("a", Some("Not An Id")), "must be 1 to 255"),
    ] {
        let error = rules(&bad).unwrap_err().to_string();
        assert!(error.contains(problem), "{error}");
    }
}

/// A rule set built in code has no file and no lines: its errors say which item, not "line 0".
#[test]
fn rule_sets_built_in_code_name_the_item_not_a_line() {
    let error = RuleSet::new(vec![ClassRule::new("a"), ClassRule::new("a")]).unwrap_err();
    assert_eq!(
        error,
        Error::Rules {
            problem: "badge class slug \"a\" is already used (class number 1)".into()
        }
    );
    assert_eq!(
        error.to_string(),
        "rules: badge class slug \"a\" is already used (class number 1)"
    );
    let error = RuleSet::new(vec![ClassRule::new("Not A Slug")]).unwrap_err();
    assert!(matches!(error, Error::Rules { .. }), "{error:?}");
}
