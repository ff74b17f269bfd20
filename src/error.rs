//! The crate's one error type.

/// Everything that can go wrong composing the Badgery crates.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The backend or the store failed ([`badgery_backend::Error::is_retryable`] says whether
    /// a retry can help).
    #[error(transparent)]
    Backend(#[from] badgery_backend::Error),
    /// The backend panicked instead of answering (the message says where and why).
    #[error("{0}")]
    BackendPanicked(String),
    /// An event or a rule set was rejected.
    #[error(transparent)]
    Rules(#[from] badgery_rules::Error),
    /// A badge class image is not acceptable (PNG square and under 256 KB, or SVG).
    #[error("invalid badge image: {0}")]
    InvalidImage(String),
    /// An issued assertion's data is not the hosted issuer's record
    /// ([`HostedRecord::of`](crate::HostedRecord::of)): another backend issued it, or the
    /// stored data is damaged (the source says where).
    #[error("assertion {id} (backend {backend:?}) holds no hosted issuer's record")]
    NotHostedRecord {
        /// The assertion's id.
        id: String,
        /// The backend that issued it.
        backend: String,
        /// Why its data could not be read, when the hosted issuer issued it.
        #[source]
        source: Option<serde_json::Error>,
    },
    /// The engine or the hosted issuer is misconfigured.
    #[error("configuration: {0}")]
    Config(String),
}
