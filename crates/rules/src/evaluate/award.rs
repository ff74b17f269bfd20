//! Awards and their explanations: what the evaluator decides, and which rule decided it.

use serde::Serialize;

/// Which rule awarded a badge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Rule {
    /// A passing certificate in a course (and mode).
    CourseCompletion {
        /// The course key.
        course: String,
        /// The mode of the class, or `None` for the class of the course with no mode.
        mode: Option<String>,
    },
    /// The number of courses with a passing latest certificate reached a threshold.
    CoursesCompleted {
        /// The threshold N.
        threshold: u32,
    },
    /// The number of active enrollments reached a threshold.
    CoursesEnrolled {
        /// The threshold N.
        threshold: u32,
    },
    /// Every course of a group has a passing latest certificate.
    CourseGroup {
        /// The group's courses.
        courses: Vec<String>,
    },
    /// A criteria rule was met.
    Criteria {
        /// Its id ([`crate::CriteriaRule::id`]).
        id: String,
    },
}

/// A decision: award this badge class to this learner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Award {
    /// The learner's id.
    pub learner: String,
    /// The badge class's slug (`badge` in the serialized form, as `replay` prints it).
    #[serde(rename = "badge")]
    pub slug: String,
    /// Which award of this class to this learner it is: 1 for the first (always, unless the
    /// class is repeatable). With the learner and slug, it identifies the award.
    pub sequence: u32,
    /// The rule that fired.
    pub rule: Rule,
    /// Why, in words.
    pub reason: String,
    /// When the event that completed the rule happened, if known.
    #[serde(with = "crate::time::rfc3339", skip_serializing_if = "Option::is_none")]
    pub at: Option<chrono::DateTime<chrono::Utc>>,
}
