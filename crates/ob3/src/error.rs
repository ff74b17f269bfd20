//! The crate's error type.

/// What went wrong issuing, reading or verifying an Open Badges 3.0 credential.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A credential (or status list, or DID document) does not have the shape the model
    /// requires.
    #[error("the credential's {path} is wrong: {message}")]
    Shape {
        /// Where, as a JSON path (`credentialSubject.achievement.name`); `.` for the whole.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// Input that is not what it claims to be: not JSON, not a JWS, not a baked image.
    #[error("cannot read {what}: {message}")]
    Unreadable {
        /// What was being read.
        what: &'static str,
        /// Why it cannot be read.
        message: String,
    },
    /// A key or signature problem, from the JWS layer.
    #[error("{context}: {source}")]
    Jws {
        /// What was being done.
        context: String,
        /// The JWS layer's error.
        #[source]
        source: badgery_model::Error,
    },
    /// Baking or unbaking an image failed.
    #[error("{context}: {source}")]
    Bake {
        /// What was being done.
        context: String,
        /// The baker's error.
        #[source]
        source: badgery_bake::Error,
    },
    /// Asked for something that cannot be done (an index outside a status list, a DID for a
    /// URL that is not https).
    #[error("{0}")]
    Misuse(String),
    /// The system random number generator failed (needed for salts and status indexes).
    #[error("the system random number generator failed: {0}")]
    Random(String),
}

impl Error {
    pub(crate) fn jws(context: impl Into<String>, source: badgery_model::Error) -> Self {
        Error::Jws {
            context: context.into(),
            source,
        }
    }

    pub(crate) fn bake(context: impl Into<String>, source: badgery_bake::Error) -> Self {
        Error::Bake {
            context: context.into(),
            source,
        }
    }
}
