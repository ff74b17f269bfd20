//! The crate's one error type.

/// Everything that can go wrong in `badgery-rules`: configuration that cannot be accepted, and
/// events that cannot be read. Each says where (field or file, line) and what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A line of an Open edX text field (`courses_completed`, `courses_enrolled`,
    /// `course_groups`) is wrong.
    #[error("{field}, line {line}: {problem}")]
    Field {
        /// The field's name.
        field: &'static str,
        /// The line number, from 1.
        line: usize,
        /// What is wrong and what was expected.
        problem: String,
    },
    /// The TOML rule set is wrong.
    #[error("rules, line {line}: {problem}")]
    Toml {
        /// The line number in the TOML document, from 1.
        line: usize,
        /// What is wrong and what was expected.
        problem: String,
    },
    /// A rule set built in code (no file, so no line) is wrong.
    #[error("rules: {problem}")]
    Rules {
        /// What is wrong and what was expected.
        problem: String,
    },
    /// An event is wrong.
    #[error("event: {problem}")]
    Event {
        /// What is wrong and what was expected.
        problem: String,
    },
    /// Stored progress cannot be read.
    #[error("learner progress, byte {offset}: {problem}")]
    Progress {
        /// Where in the bytes, from 0.
        offset: usize,
        /// What is wrong.
        problem: String,
    },
}
