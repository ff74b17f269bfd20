//! Learning events: what the host platform reports about a learner.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::names::{is_valid_course_key, is_valid_slug};

/// Something that happened to a learner.
///
/// As JSON (one object per line in the `replay` example), tagged by `"event"`:
///
/// | event | fields |
/// |---|---|
/// | `enrolled` | `learner`, `course`, `mode` |
/// | `unenrolled` | `learner`, `course` |
/// | `certificate` | `learner`, `course`, `passed`; optional `mode` (default: the learner's enrollment mode), `grade` (0.0–1.0) |
/// | `activity_completed` | `learner`, `activity`; optional `passed` (default `true`; `false` is a failed completion, which counts for nothing) |
/// | `manual_award` | `learner`, `badge` (slug), `role` |
///
/// Every event may carry `at` (RFC 3339), which deadlines are checked against, and `id`, the
/// platform's id for the event (1 to 255 bytes): an engine that keeps progress in its store
/// handles an event delivered twice with the same id once. Events serialise to the same JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum Event {
    /// The learner enrolled in a course (or changed mode).
    Enrolled {
        /// The learner's id.
        learner: String,
        /// The course key.
        course: String,
        /// The enrollment mode (`audit`, `verified`, `honor`, …).
        mode: String,
        /// When.
        #[serde(
            default,
            with = "crate::time::rfc3339",
            skip_serializing_if = "Option::is_none"
        )]
        at: Option<DateTime<Utc>>,
        /// The platform's id for the event.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
    },
    /// The learner left a course. It lowers the enrollment count; it never revokes a badge.
    Unenrolled {
        /// The learner's id.
        learner: String,
        /// The course key.
        course: String,
        /// When.
        #[serde(
            default,
            with = "crate::time::rfc3339",
            skip_serializing_if = "Option::is_none"
        )]
        at: Option<DateTime<Utc>>,
        /// The platform's id for the event.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
    },
    /// A certificate was issued; it replaces the learner's previous one in the course.
    Certificate {
        /// The learner's id.
        learner: String,
        /// The course key.
        course: String,
        /// Whether the certificate is a passing one.
        passed: bool,
        /// The mode; when absent, the learner's enrollment mode in the course.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mode: Option<String>,
        /// The grade, 0.0 to 1.0.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        grade: Option<f64>,
        /// When.
        #[serde(
            default,
            with = "crate::time::rfc3339",
            skip_serializing_if = "Option::is_none"
        )]
        at: Option<DateTime<Utc>>,
        /// The platform's id for the event.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
    },
    /// The learner completed an activity.
    ActivityCompleted {
        /// The learner's id.
        learner: String,
        /// The activity's id.
        activity: String,
        /// `false` for a failed completion, which meets no requirement.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        passed: Option<bool>,
        /// When.
        #[serde(
            default,
            with = "crate::time::rfc3339",
            skip_serializing_if = "Option::is_none"
        )]
        at: Option<DateTime<Utc>>,
        /// The platform's id for the event.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
    },
    /// Someone holding `role` awarded the badge class `slug` to the learner by hand.
    ManualAward {
        /// The learner's id.
        learner: String,
        /// The slug of the badge class (`badge` in the event's JSON).
        #[serde(rename = "badge")]
        slug: String,
        /// The awarding person's role.
        role: String,
        /// When.
        #[serde(
            default,
            with = "crate::time::rfc3339",
            skip_serializing_if = "Option::is_none"
        )]
        at: Option<DateTime<Utc>>,
        /// The platform's id for the event.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
    },
}

impl Event {
    /// Parses one JSON event and checks its values.
    ///
    /// # Errors
    /// [`Error::Event`] naming the problem: not JSON, an unknown event or field, a missing
    /// field, a malformed course key or slug, a grade outside 0.0–1.0, a bad `at`.
    pub fn from_json(text: &str) -> Result<Self, Error> {
        let event: Event = serde_json::from_str(text).map_err(|e| Error::Event {
            problem: format!("{e}"),
        })?;
        event.check()?;
        Ok(event)
    }

    /// Checks the values of an event built in code.
    ///
    /// # Errors
    /// As [`Event::from_json`].
    pub fn check(&self) -> Result<(), Error> {
        let fail = |problem: String| Err(Error::Event { problem });
        if self.learner().trim().is_empty() {
            return fail("the learner id is empty".to_owned());
        }
        if let Some(id) = self.id() {
            if id.trim().is_empty() || id.len() > 255 {
                return fail(format!("the event id {id:?} must have 1 to 255 bytes"));
            }
        }
        match self {
            Event::Enrolled { course, .. }
            | Event::Unenrolled { course, .. }
            | Event::Certificate { course, .. }
                if !is_valid_course_key(course) =>
            {
                fail(format!(
                    "{course:?} is not a course key (course-v1:Org+Course+Run or Org/Course/Run)"
                ))
            }
            Event::Enrolled { mode, .. } if mode.trim().is_empty() => {
                fail("the mode is empty".to_owned())
            }
            Event::Certificate { grade: Some(g), .. } if !(0.0..=1.0).contains(g) => {
                fail(format!("grade {g} is not between 0.0 and 1.0"))
            }
            Event::ActivityCompleted { activity, .. } if activity.trim().is_empty() => {
                fail("the activity id is empty".to_owned())
            }
            Event::ManualAward { slug, .. } if !is_valid_slug(slug) => fail(format!(
                "badge {slug:?} is not a slug (1 to 255 of [a-z0-9_-])"
            )),
            Event::ManualAward { role, .. } if role.trim().is_empty() => {
                fail("the role is empty".to_owned())
            }
            _ => Ok(()),
        }
    }

    /// The learner the event is about.
    pub fn learner(&self) -> &str {
        match self {
            Event::Enrolled { learner, .. }
            | Event::Unenrolled { learner, .. }
            | Event::Certificate { learner, .. }
            | Event::ActivityCompleted { learner, .. }
            | Event::ManualAward { learner, .. } => learner,
        }
    }

    /// The platform's id for the event, if it gave one.
    pub fn id(&self) -> Option<&str> {
        match self {
            Event::Enrolled { id, .. }
            | Event::Unenrolled { id, .. }
            | Event::Certificate { id, .. }
            | Event::ActivityCompleted { id, .. }
            | Event::ManualAward { id, .. } => id.as_deref(),
        }
    }

    /// The event with the platform's id `id` (replacing any it had).
    pub fn with_id(mut self, new: impl Into<String>) -> Self {
        match &mut self {
            Event::Enrolled { id, .. }
            | Event::Unenrolled { id, .. }
            | Event::Certificate { id, .. }
            | Event::ActivityCompleted { id, .. }
            | Event::ManualAward { id, .. } => *id = Some(new.into()),
        }
        self
    }

    /// The JSON of the event, as [`Event::from_json`] reads it.
    pub fn to_json(&self) -> String {
        // An event holds strings, numbers and booleans only: it always serialises.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// When the event happened, if known.
    pub fn at(&self) -> Option<DateTime<Utc>> {
        match self {
            Event::Enrolled { at, .. }
            | Event::Unenrolled { at, .. }
            | Event::Certificate { at, .. }
            | Event::ActivityCompleted { at, .. }
            | Event::ManualAward { at, .. } => *at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_checks() {
        let e = Event::from_json(r#"{"event":"certificate","learner":"l1","course":"course-v1:A+B+C","passed":true,"grade":0.9,"at":"2026-01-01T00:00:00+01:00"}"#).unwrap();
        assert_eq!(e.at().map(|at| at.timestamp()), Some(1_767_222_000));
        for bad in [
            r#"{"event":"certificate","learner":"l1","course":"course-v1:A+B+C","passed":true,"grade":1.5}"#,
            r#"{"event":"certificate","learner":"l1","course":"nope","passed":true}"#,
            r#"{"event":"certificate","learner":"l1","course":"course-v1:A+B+C"}"#,
            r#"{"event":"certificate","learner":"l1","course":"course-v1:A+B+C","passed":true,"pased":true}"#,
            r#"{"event":"graduated","learner":"l1"}"#,
            r#"{"event":"enrolled","learner":"","course":"course-v1:A+B+C","mode":"audit"}"#,
            r#"{"event":"enrolled","learner":"l","course":"course-v1:A+B+C","mode":"audit","at":"yesterday"}"#,
            r#"{"event":"manual_award","learner":"l","badge":"Bad Slug","role":"teacher"}"#,
            "not json",
        ] {
            assert!(Event::from_json(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn serialises_to_what_it_reads() {
        for line in [
            r#"{"event":"certificate","learner":"l1","course":"course-v1:A+B+C","passed":true,"mode":"verified","grade":0.9,"at":"2026-01-01T00:00:00Z","id":"evt-1"}"#,
            r#"{"event":"enrolled","learner":"l1","course":"course-v1:A+B+C","mode":"audit"}"#,
            r#"{"event":"unenrolled","learner":"l1","course":"A/B/C","at":"2026-01-01T00:00:00Z"}"#,
            r#"{"event":"activity_completed","learner":"l1","activity":"q","passed":false}"#,
            r#"{"event":"manual_award","learner":"l1","badge":"b","role":"teacher","id":"x"}"#,
        ] {
            let event = Event::from_json(line).unwrap();
            assert_eq!(event.to_json(), line);
            assert_eq!(Event::from_json(&event.to_json()).unwrap(), event);
        }
        let with_id =
            Event::from_json(r#"{"event":"unenrolled","learner":"l","course":"A/B/C","id":"e7"}"#)
                .unwrap();
        assert_eq!(with_id.id(), Some("e7"));
        assert_eq!(with_id.with_id("e8").id(), Some("e8"));
        assert!(
            Event::from_json(r#"{"event":"unenrolled","learner":"l","course":"A/B/C","id":" "}"#)
                .is_err()
        );
    }
}
