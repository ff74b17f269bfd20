//! Revocation and suspension: W3C Bitstring Status List v1.0.
//!
//! Each credential names one bit of a list (`credentialStatus`, a `BitstringStatusListEntry`);
//! the issuer publishes the list as a signed `BitstringStatusListCredential` whose
//! `encodedList` is the bitstring, GZIP-compressed (RFC 1952), base64url-encoded without
//! padding and prefixed with `u` (multibase). Bit 0 is the most significant bit of the first
//! byte; a set bit means revoked (or suspended). A list is never shorter than 131 072 bits
//! (16 KiB), so that its size does not tell how many credentials were issued, and indexes
//! are drawn at random, so that neighbours in the list are not neighbours in time.

use std::io::{Read as _, Write as _};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::credential::{StatusEntry, VC_CONTEXT};
use crate::error::Error;

/// The shortest list the specification allows, in bits (16 KiB).
pub const MIN_LIST_BITS: usize = 131_072;
/// The longest list read, in bits (16 MiB decoded): a bound on what a hostile
/// `encodedList` can make a verifier allocate.
pub const MAX_LIST_BITS: usize = 1 << 27;

/// Why a credential's bit is set: the list's `statusPurpose`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StatusPurpose {
    /// Set for good: the credential is revoked.
    Revocation,
    /// Set while the credential is suspended.
    Suspension,
}

impl StatusPurpose {
    /// The `statusPurpose` value.
    pub fn as_str(self) -> &'static str {
        match self {
            StatusPurpose::Revocation => "revocation",
            StatusPurpose::Suspension => "suspension",
        }
    }

    /// Reads a `statusPurpose` value.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "revocation" => Some(StatusPurpose::Revocation),
            "suspension" => Some(StatusPurpose::Suspension),
            _ => None,
        }
    }
}

/// A bitstring status list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusList {
    bytes: Vec<u8>,
}

impl Default for StatusList {
    fn default() -> Self {
        StatusList {
            bytes: vec![0; MIN_LIST_BITS / 8],
        }
    }
}

impl StatusList {
    /// A list of [`MIN_LIST_BITS`] bits, none set.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many bits the list holds.
    pub fn len(&self) -> usize {
        self.bytes.len() * 8
    }

    /// Whether the list holds no bits (never, for a list made here or read).
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Whether bit `index` is set; `None` outside the list.
    pub fn get(&self, index: usize) -> Option<bool> {
        let byte = self.bytes.get(index / 8)?;
        Some(byte & (0x80 >> (index % 8)) != 0)
    }

    /// Sets or clears bit `index`.
    ///
    /// # Errors
    /// [`Error::Misuse`] for an index outside the list.
    pub fn set(&mut self, index: usize, value: bool) -> Result<(), Error> {
        let len = self.len();
        let byte = self.bytes.get_mut(index / 8).ok_or_else(|| {
            Error::Misuse(format!(
                "status index {index} is outside the list of {len} bits"
            ))
        })?;
        let mask = 0x80 >> (index % 8);
        if value {
            *byte |= mask;
        } else {
            *byte &= !mask;
        }
        Ok(())
    }

    /// The `encodedList`: `u` and the base64url (no padding) of the GZIP of the bits.
    pub fn encode(&self) -> String {
        let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        // Writing to a Vec cannot fail.
        let compressed = gzip
            .write_all(&self.bytes)
            .and_then(|()| gzip.finish())
            .unwrap_or_default();
        format!("u{}", URL_SAFE_NO_PAD.encode(compressed))
    }

    /// Reads an `encodedList`, decompressing at most [`MAX_LIST_BITS`] bits.
    ///
    /// # Errors
    /// [`Error::Unreadable`] when the text is not `u` and base64url, not GZIP, longer than
    /// the bound, or shorter than [`MIN_LIST_BITS`].
    pub fn decode(encoded: &str) -> Result<Self, Error> {
        let bad = |message: String| Error::Unreadable {
            what: "the status list's encodedList",
            message,
        };
        let base64 = encoded
            .strip_prefix('u')
            .ok_or_else(|| bad("it does not start with the multibase prefix u".into()))?;
        // The compressed text of a list within the bound is far under it.
        if base64.len() > MAX_LIST_BITS / 8 {
            return Err(bad(format!("{} characters, over the bound", base64.len())));
        }
        let compressed = URL_SAFE_NO_PAD
            .decode(base64)
            .map_err(|e| bad(format!("not base64url without padding: {e}")))?;
        let mut bytes = Vec::new();
        flate2::read::GzDecoder::new(&compressed[..])
            .take(MAX_LIST_BITS as u64 / 8 + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| bad(format!("not GZIP data: {e}")))?;
        if bytes.len() * 8 > MAX_LIST_BITS {
            return Err(bad(format!(
                "it decompresses to over {MAX_LIST_BITS} bits, the most read"
            )));
        }
        if bytes.len() * 8 < MIN_LIST_BITS {
            return Err(bad(format!(
                "{} bits; a list holds at least {MIN_LIST_BITS}",
                bytes.len() * 8
            )));
        }
        Ok(StatusList { bytes })
    }

    /// A random index in the list (to give a new credential; the caller makes sure it is not
    /// taken).
    ///
    /// # Errors
    /// [`Error::Random`] when the system has no randomness.
    pub fn random_index(&self) -> Result<usize, Error> {
        random_index(self.len())
    }
}

/// A random index in a list of `bits` bits (`bits` > 0), drawn without the list itself.
///
/// # Errors
/// [`Error::Random`] when the system has no randomness.
pub fn random_index(bits: usize) -> Result<usize, Error> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|e| Error::Random(e.to_string()))?;
    Ok((u64::from_le_bytes(bytes) % bits.max(1) as u64) as usize)
}

/// The entry a credential carries for bit `index` of the list published at `list_url`.
pub fn status_entry(list_url: &str, purpose: StatusPurpose, index: usize) -> StatusEntry {
    StatusEntry {
        id: format!("{list_url}#{index}"),
        kind: "BitstringStatusListEntry".into(),
        status_purpose: Some(purpose.as_str().into()),
        status_list_index: Some(index.to_string()),
        status_list_credential: Some(list_url.into()),
        extra: serde_json::Map::new(),
    }
}

/// The unsigned status list credential for `list`, published at `list_url` by `issuer` (its
/// DID), valid from `valid_from`.
pub fn list_credential(
    list_url: &str,
    issuer: &str,
    purpose: StatusPurpose,
    list: &StatusList,
    valid_from: &str,
) -> Value {
    json!({
        "@context": [VC_CONTEXT],
        "id": list_url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer,
        "validFrom": valid_from,
        "credentialSubject": {
            "id": format!("{list_url}#list"),
            "type": "BitstringStatusList",
            "statusPurpose": purpose.as_str(),
            "encodedList": list.encode(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_are_numbered_from_the_most_significant_bit_of_the_first_byte() {
        let mut list = StatusList::new();
        assert_eq!(list.len(), MIN_LIST_BITS);
        list.set(0, true).unwrap();
        list.set(9, true).unwrap();
        list.set(MIN_LIST_BITS - 1, true).unwrap();
        assert_eq!(list.bytes[0], 0x80);
        assert_eq!(list.bytes[1], 0x40);
        assert_eq!(list.bytes[MIN_LIST_BITS / 8 - 1], 0x01);
        assert_eq!(list.get(9), Some(true));
        assert_eq!(list.get(8), Some(false));
        assert_eq!(list.get(MIN_LIST_BITS), None);
        assert!(list.set(MIN_LIST_BITS, true).is_err());
        list.set(9, false).unwrap();
        assert_eq!(list.get(9), Some(false));
    }

    #[test]
    fn the_encoding_round_trips_and_is_gzip_base64url_multibase() {
        let mut list = StatusList::new();
        for i in [3, 77, 4096, 131_000] {
            list.set(i, true).unwrap();
        }
        let encoded = list.encode();
        assert!(
            encoded.starts_with("uH4sI"),
            "GZIP's magic 1f 8b 08: {encoded}"
        );
        assert!(!encoded.contains(['=', '+', '/']));
        assert_eq!(StatusList::decode(&encoded).unwrap(), list);
        // An empty list compresses to a few dozen bytes: the size hides nothing.
        assert!(StatusList::new().encode().len() < 200);
    }

    #[test]
    fn hostile_encoded_lists_are_refused_within_the_bound() {
        let gzip = |bytes: &[u8]| {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            e.write_all(bytes).unwrap();
            format!("u{}", URL_SAFE_NO_PAD.encode(e.finish().unwrap()))
        };
        for (encoded, why) in [
            ("H4sI".to_owned(), "multibase"),
            ("u!!!".to_owned(), "base64url"),
            (format!("u{}", URL_SAFE_NO_PAD.encode(b"plain")), "GZIP"),
            (gzip(&[0; 1024]), "at least"),
            (gzip(&vec![0; MAX_LIST_BITS / 8 + 1]), "over"),
        ] {
            let e = StatusList::decode(&encoded).unwrap_err().to_string();
            assert!(e.contains(why), "{why}: {e}");
        }
        assert!(StatusList::decode(&gzip(&vec![0; MAX_LIST_BITS / 8])).is_ok());
    }

    #[test]
    fn random_indexes_fall_inside_the_list() {
        let list = StatusList::new();
        let drawn: std::collections::BTreeSet<usize> =
            (0..64).map(|_| list.random_index().unwrap()).collect();
        assert!(drawn.iter().all(|i| *i < list.len()));
        assert!(drawn.len() > 60, "64 draws from 131 072 rarely collide");
    }
}
