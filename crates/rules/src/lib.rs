//! Award rules: decide which badges a learner has earned from learning events.
//!
//! Every rule Open edX and Moodle offer, without their bugs, evaluated in time independent of
//! the number of rules, with each decision explained:
//!
//! - **course completion by course and mode**: a passing certificate in course C with mode M
//!   awards the class configured for (C, M), or else the class configured for C with no mode;
//! - **N courses completed**: once the number of courses whose latest certificate is passing
//!   *reaches or passes* N (Open edX fires only when it equals N, and so loses badges);
//! - **N courses enrolled**: once the number of active enrollments reaches or passes N
//!   (unenrolling lowers the count, never revokes);
//! - **course groups**: once every course of the group has a passing latest certificate;
//! - **criteria** as in Moodle: requirements combined with ALL or ANY, each over courses
//!   (optional minimum grade and deadline), activities (optional deadline), other badges, or
//!   manual awards by role.
//!
//! A class is awarded at most once per learner unless it is repeatable (then once each time
//! one of its rules becomes satisfied anew); duplicate and replayed events change nothing.
//! [`Evaluator::set_rules`] back-fills: a rule added after learners met it still awards them.
//!
//! ```
//! use badgery_rules::{Evaluator, Event, RuleSet};
//!
//! let rules = RuleSet::from_toml(r#"
//!     [[badge_class]]
//!     slug = "demo-verified"
//!     course = "course-v1:edX+DemoX+2026"
//!     mode = "verified"
//!
//!     [[badge_class]]
//!     slug = "two-courses"
//!
//!     [course_events]
//!     courses_completed = "2,two-courses"
//! "#)?;
//! let mut evaluator = Evaluator::new(rules);
//! let events = [
//!     r#"{"event":"enrolled","learner":"ada","course":"course-v1:edX+DemoX+2026","mode":"verified"}"#,
//!     r#"{"event":"certificate","learner":"ada","course":"course-v1:edX+DemoX+2026","passed":true}"#,
//!     r#"{"event":"certificate","learner":"ada","course":"course-v1:edX+Other+2026","passed":true}"#,
//! ];
//! let mut awarded = Vec::new();
//! for line in events {
//!     for award in evaluator.apply(&Event::from_json(line)?) {
//!         awarded.push(format!("{} {} ({})", award.learner, award.slug, award.reason));
//!     }
//! }
//! assert_eq!(awarded, [
//!     "ada demo-verified (passing certificate in course-v1:edX+DemoX+2026 in mode verified)",
//!     "ada two-courses (2 courses completed, threshold 2)",
//! ]);
//! # Ok::<(), badgery_rules::Error>(())
//! ```
//!
//! # The rule set as TOML
//!
//! ```toml
//! # Optional: award course completion classes for courses without one (see
//! # `RuleSet::with_auto_course_completion`).
//! auto_course_completion = false
//!
//! # Badge classes: `slug` required and unique (1 to 255 of [a-z0-9_-]). A class with
//! # `course` (and optionally `mode`) is a course completion class. `repeatable` defaults
//! # to false.
//! [[badge_class]]
//! slug = "python-verified"
//! course = "course-v1:Org+Python+2026"
//! mode = "verified"
//!
//! [[badge_class]]
//! slug = "three-courses"
//!
//! [[badge_class]]
//! slug = "data-track"
//!
//! [[badge_class]]
//! slug = "capstone"
//!
//! # The Open edX course event fields, verbatim (see the `openedx` module).
//! [course_events]
//! courses_completed = "3,three-courses"
//! courses_enrolled = ""
//! course_groups = "data-track,course-v1:Org+Stats+2026,course-v1:Org+ML+2026"
//!
//! # Moodle-style criteria: requirements combined with `require` = "all" (default) or "any".
//! [[criteria]]
//! badge = "capstone"
//! # id = "capstone-final"     # optional: the rule's name in explanations (default: the
//! #                           # class's slug, then capstone#2, … for its further rules)
//! require = "all"
//!
//!   [[criteria.requirement]]
//!   type = "courses"            # courses | activities | badges | manual
//!   require = "all"             # over the items of this requirement
//!   courses = [ { course = "course-v1:Org+Capstone+2026", min_grade = 0.8, by = "2026-12-31T23:59:59Z" } ]
//!
//!   [[criteria.requirement]]
//!   type = "activities"
//!   require = "any"
//!   activities = [ { activity = "final-presentation" }, { activity = "final-report", by = "2026-12-31T23:59:59Z" } ]
//!
//!   [[criteria.requirement]]
//!   type = "badges"
//!   badges = ["three-courses"]
//!
//!   [[criteria.requirement]]
//!   type = "manual"
//!   require = "any"
//!   roles = ["teacher", "manager"]
//! ```
//!
//! Events may arrive late or out of order: a certificate whose `at` is earlier than the `at`
//! of the certificate already recorded for the same learner and course, and whose result
//! (passed or not) differs, is stale and changes nothing. The latest certificate by time
//! decides whether a course is passed, so a late delivery never re-awards a repeatable class.
//! A late certificate with the same result replaces the recorded one (its earlier date may meet
//! a deadline). Without `at` on either, arrival order decides.
//!
//! Times are `chrono::DateTime<Utc>` (RFC 3339 text in events and rule files, compared to the
//! second); an event without `at` cannot meet a deadline. A minimum
//! grade needs a certificate that carries a grade. A failed completion (a certificate with
//! `passed: false`, an activity with `passed: false`) meets nothing, whatever its grade.

#![forbid(unsafe_code)]

mod config;
mod error;
mod evaluate;
mod event;
mod learners;
mod lists;
mod names;
pub mod openedx;
mod progress;
mod time;

pub use config::{
    ActivityCondition, Aggregation, ClassRule, CourseCondition, CriteriaRule, Requirement, RuleSet,
};
pub use error::Error;
pub use evaluate::{Award, Evaluator, Rule};
pub use event::Event;
pub use names::{course_slug, is_valid_course_key, is_valid_slug};
pub use progress::Progress;
