//! The crate's one error type.

/// What went wrong talking to a badging backend or a badge store. [`Error::is_retryable`]
/// says whether trying again later can help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The service is down or overloaded (HTTP 5xx, connection refused): retry later.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// The call took too long: retry later (with the same idempotency key).
    #[error("timed out: {0}")]
    Timeout(String),
    /// The service refused the request (HTTP 4xx, a validation error): retrying cannot help.
    #[error("rejected: {0}")]
    Rejected(String),
    /// A badge class, assertion or pending award that should exist does not.
    #[error("not found: {0}")]
    NotFound(String),
    /// The request conflicts with stored data (for example a second class for the same course
    /// and mode).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The store failed (its own I/O or database error).
    #[error("storage error: {0}")]
    Storage(String),
}

impl Error {
    /// Whether retrying later can help: true for [`Error::Unavailable`] and
    /// [`Error::Timeout`].
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::Unavailable(_) | Error::Timeout(_))
    }
}
