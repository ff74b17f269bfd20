//! Limits for untrusted input.

use crate::error::{Error, Limit};

/// Size limits applied before anything is allocated or copied.
///
/// The defaults suit badge images: a 64 MiB image and a 4 MiB payload are far beyond any real
/// badge (Open edX caps badge images at 256 KB) while keeping a hostile input from exhausting
/// memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// The largest image accepted, in bytes.
    pub max_input: u64,
    /// The largest payload baked or read (after decompression), in bytes.
    pub max_payload: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_input: 64 * 1024 * 1024,
            max_payload: 4 * 1024 * 1024,
        }
    }
}

impl Limits {
    /// Limits with the given largest image and payload.
    pub fn new(max_input: u64, max_payload: usize) -> Self {
        Limits {
            max_input,
            max_payload,
        }
    }
}

impl Limits {
    /// Checks an image's size against [`Limits::max_input`].
    pub(crate) fn check_image(&self, len: u64) -> Result<(), Error> {
        check_len(Limit::Input, "image", len, self.max_input)
    }

    /// Checks a payload's size against [`Limits::max_payload`].
    pub(crate) fn check_payload(&self, len: usize) -> Result<(), Error> {
        check_len(
            Limit::Payload,
            "payload",
            len as u64,
            self.max_payload as u64,
        )
    }
}

pub(crate) fn check_len(
    which: Limit,
    what: &'static str,
    found: u64,
    limit: u64,
) -> Result<(), Error>
where
{
    if found > limit {
        Err(Error::LimitExceeded {
            which,
            what,
            found,
            limit,
        })
    } else {
        Ok(())
    }
}
