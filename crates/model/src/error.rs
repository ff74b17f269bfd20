//! The crate's one error type.

use std::path::PathBuf;

/// Everything that can go wrong in `badgery-model`.
///
/// Validation problems in a document are not errors: [`crate::validate`] returns them as
/// [`crate::validate::Finding`]s. Errors are for input that cannot be read at all, values a
/// constructor refuses, and resolver failures.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The text is not JSON, or is JSON of the wrong shape for the requested class.
    #[error("cannot read {class} JSON at {path}: {message}")]
    Json {
        /// The class being read (`Assertion`, `BadgeClass`, …).
        class: &'static str,
        /// JSON path of the offending value (`$` for the document itself).
        path: String,
        /// What was wrong there.
        message: String,
    },
    /// A value given to a constructor is not of the required form.
    #[error("invalid {what} {value:?}: expected {expected}")]
    InvalidValue {
        /// What kind of value it was meant to be.
        what: &'static str,
        /// The value as given.
        value: String,
        /// The form that is expected.
        expected: &'static str,
    },
    /// The document's `type` names no class this crate knows.
    #[error(
        "unknown document type {found}: expected Assertion, BadgeClass, Issuer, Profile, Endorsement, RevocationList or CryptographicKey"
    )]
    UnknownType {
        /// The `type` value found (JSON text), or `none`.
        found: String,
    },
    /// A legacy (Open Badges 0.5/1.0/1.1) document could not be upgraded.
    #[error("cannot upgrade Open Badges {version} document: {message}")]
    Legacy {
        /// The version detected.
        version: &'static str,
        /// What prevented the upgrade.
        message: String,
    },
    /// A linked document could not be resolved.
    #[error("cannot resolve {iri}: {message}")]
    Unresolved {
        /// The IRI asked for.
        iri: String,
        /// Why it could not be resolved.
        message: String,
    },
    /// Reading a file or directory failed.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The path that failed.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A compact JWS cannot be read.
    #[error("cannot read the JWS {part}: {message}")]
    Jws {
        /// The part that is wrong: `token`, `header`, `payload` or `signature`.
        part: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// A JWS signature does not verify.
    #[error("signature refused: {message}")]
    Signature {
        /// Why.
        message: String,
    },
    /// A signing or public key cannot be read or made.
    #[error("key refused: {message}")]
    Key {
        /// Why.
        message: String,
    },
    /// The system random number generator failed (needed for recipient salts).
    #[error("the system random number generator failed: {0}")]
    Random(String),
}
