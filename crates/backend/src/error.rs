//! The crate's one error type.

use std::sync::Arc;

/// The underlying cause of an [`Error`] (a database driver's or an HTTP client's error),
/// shared so that the error stays `Clone`.
pub type Cause = Arc<dyn std::error::Error + Send + Sync + 'static>;

/// What went wrong talking to a badging backend or a badge store. [`Error::is_retryable`]
/// says whether trying again later can help; [`std::error::Error::source`] gives the
/// underlying cause where there is one.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The service is down or overloaded (HTTP 5xx, connection refused): retry later.
    #[error("service unavailable: {message}")]
    Unavailable {
        /// What was unavailable, and where.
        message: String,
        /// The transport's error, if any.
        #[source]
        source: Option<Cause>,
    },
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
    /// The store failed (its own I/O or database error). Retrying can help: a store that is
    /// busy or briefly unreachable is the common case, and every store operation is atomic.
    #[error("storage error: {message}")]
    Storage {
        /// What the store was doing.
        message: String,
        /// The database's or the file system's error.
        #[source]
        source: Option<Cause>,
    },
}

impl Error {
    /// A service that could not be reached or answered 5xx, with no underlying error.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Error::Unavailable {
            message: message.into(),
            source: None,
        }
    }

    /// A service that could not be reached, keeping the transport's error as the source.
    pub fn unavailable_from(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Error::Unavailable {
            message: message.into(),
            source: Some(Arc::new(source)),
        }
    }

    /// A store failure, keeping the database's error as the source.
    pub fn storage(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Error::Storage {
            message: message.into(),
            source: Some(Arc::new(source)),
        }
    }

    /// Whether retrying later can help: true for [`Error::Unavailable`], [`Error::Timeout`]
    /// and [`Error::Storage`].
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Error::Unavailable { .. } | Error::Timeout(_) | Error::Storage { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn a_storage_error_keeps_its_source_and_is_retryable() {
        let io = std::io::Error::other("disk on fire");
        let e = Error::storage("claiming ada/rust-101#1", io);
        assert_eq!(e.to_string(), "storage error: claiming ada/rust-101#1");
        assert_eq!(
            e.source().map(ToString::to_string).as_deref(),
            Some("disk on fire")
        );
        assert!(e.is_retryable());
        assert!(Error::unavailable("503").source().is_none());
        assert!(!Error::Rejected("bad".into()).is_retryable());
    }
}
