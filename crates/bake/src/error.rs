//! The crate's one error type, grouped by who is at fault.

use std::fmt;

/// A PNG chunk type, printed as its four letters (or escaped bytes when not ASCII).
#[allow(
    clippy::exhaustive_structs,
    reason = "a newtype over the four bytes of a chunk type"
)]
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChunkType(pub [u8; 4]);

impl fmt::Display for ChunkType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            if b.is_ascii_graphic() {
                write!(f, "{}", b as char)?;
            } else {
                write!(f, "\\x{b:02x}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for ChunkType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ChunkType({self})")
    }
}

/// Which limit of [`crate::Limits`] was exceeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Limit {
    /// [`crate::Limits::max_input`].
    Input,
    /// [`crate::Limits::max_payload`].
    Payload,
}

/// Everything that can go wrong while baking or unbaking.
///
/// The variants say who is at fault: the I/O layer, the image (with the byte offset and, for
/// PNG, the chunk), the caller, or a limit set for untrusted input.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading the input or writing the output failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// A named file cannot be read or written, or is not a regular file.
    #[error("{}: {source}", path.display())]
    File {
        /// The file.
        path: std::path::PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The image is not a well-formed PNG or SVG.
    #[error("malformed {format} at byte {offset}{}: {problem}", chunk.map(|c| format!(" (chunk {c})")).unwrap_or_default())]
    Malformed {
        /// `PNG` or `SVG`.
        format: &'static str,
        /// Byte offset of the problem in the input.
        offset: u64,
        /// The PNG chunk concerned, if any.
        chunk: Option<ChunkType>,
        /// What is wrong.
        problem: String,
    },
    /// The input is neither a PNG nor an SVG image.
    #[error("the input is neither a PNG nor an SVG image")]
    UnknownFormat,
    /// The caller asked for something that cannot be done (such as baking an empty payload).
    #[error("invalid request: {0}")]
    Misuse(String),
    /// A limit for untrusted input was exceeded.
    #[error("{what} of {found} bytes exceeds the limit of {limit} bytes")]
    LimitExceeded {
        /// Which limit.
        which: Limit,
        /// What was too large.
        what: &'static str,
        /// The size found (or announced by a length field).
        found: u64,
        /// The limit in force.
        limit: u64,
    },
}

impl Error {
    pub(crate) fn png(offset: u64, chunk: Option<[u8; 4]>, problem: impl Into<String>) -> Self {
        Error::Malformed {
            format: "PNG",
            offset,
            chunk: chunk.map(ChunkType),
            problem: problem.into(),
        }
    }

    pub(crate) fn svg(offset: u64, problem: impl Into<String>) -> Self {
        Error::Malformed {
            format: "SVG",
            offset,
            chunk: None,
            problem: problem.into(),
        }
    }
}
