//! Recipient identity: the IdentityObject, hashing with a per-assertion salt, and matching.
//!
//! # Normalisation
//!
//! Every identity is normalised the same way before it is hashed and before a candidate is
//! matched, so that an identity typed differently by the learner still matches:
//!
//! | type | rule |
//! |---|---|
//! | `email` | surrounding white space removed, then the whole address lowercased |
//! | `telephone` | spaces, `-`, `.`, `(` and `)` removed (`+1 (617) 555-1212` → `+16175551212`) |
//! | `url`, `id` | surrounding white space removed |
//!
//! Matching also tries the candidate exactly as given, so hashes made by issuers that do not
//! normalise (the official validator hashes the plain text verbatim) still match.

#![allow(
    clippy::exhaustive_structs,
    reason = "the Open Badges documents: a field per property of the specification, extensions in `extra`; hosts build them with struct literals"
)]

use md5::Md5;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::Error;
use crate::value::Extra;

/// The kind of identifier a recipient identity is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IdentityType {
    /// An email address.
    Email,
    /// A URL the recipient controls.
    Url,
    /// A telephone number (E.164).
    Telephone,
    /// An IRI of a recipient Profile.
    Id,
}

impl IdentityType {
    /// The value of the IdentityObject's `type` property.
    pub fn as_str(self) -> &'static str {
        match self {
            IdentityType::Email => "email",
            IdentityType::Url => "url",
            IdentityType::Telephone => "telephone",
            IdentityType::Id => "id",
        }
    }

    /// The type named by an IdentityObject `type` value, if it is one of the four.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "email" => Some(IdentityType::Email),
            "url" => Some(IdentityType::Url),
            "telephone" => Some(IdentityType::Telephone),
            "id" => Some(IdentityType::Id),
            _ => None,
        }
    }

    /// Applies this type's normalisation rule (see the module docs).
    pub fn normalise(self, identity: &str) -> String {
        let trimmed = identity.trim();
        match self {
            IdentityType::Email => trimmed.to_lowercase(),
            IdentityType::Telephone => trimmed
                .chars()
                .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
                .collect(),
            IdentityType::Url | IdentityType::Id => trimmed.to_owned(),
        }
    }
}

/// The recipient of an assertion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdentityObject {
    /// `email`, `url`, `telephone` or `id`.
    #[serde(rename = "type")]
    pub type_: String,
    /// The identity: plain text, or `sha256$…` / `md5$…` when hashed.
    pub identity: String,
    /// Whether `identity` is a hash.
    pub hashed: bool,
    /// The salt appended to the identity before hashing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salt: Option<String>,
    /// Properties without a field here, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Which hash an IdentityHash uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HashAlgorithm {
    /// `sha256$` (what this crate emits).
    Sha256,
    /// `md5$` (read only, for older badges).
    Md5,
}

impl IdentityObject {
    /// A hashed identity with a fresh random salt (16 bytes from the system generator, as hex).
    /// This is what an issuer should emit.
    ///
    /// # Errors
    /// [`Error::Random`] when the system random number generator fails.
    pub fn hashed(kind: IdentityType, identity: &str) -> Result<Self, Error> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).map_err(|e| Error::Random(e.to_string()))?;
        Ok(Self::hashed_with_salt(kind, identity, &hex(&bytes)))
    }

    /// A hashed identity with the salt given: `sha256$` + hex(sha256(normalised identity + salt)).
    pub fn hashed_with_salt(kind: IdentityType, identity: &str, salt: &str) -> Self {
        let normalised = kind.normalise(identity);
        IdentityObject {
            type_: kind.as_str().to_owned(),
            identity: identity_hash(HashAlgorithm::Sha256, &normalised, salt),
            hashed: true,
            salt: Some(salt.to_owned()),
            extra: Extra::new(),
        }
    }

    /// A plain (unhashed) identity, normalised.
    pub fn plain(kind: IdentityType, identity: &str) -> Self {
        IdentityObject {
            type_: kind.as_str().to_owned(),
            identity: kind.normalise(identity),
            hashed: false,
            salt: None,
            extra: Extra::new(),
        }
    }

    /// The identity type, if `type` names one of the four defined ones.
    pub fn identity_type(&self) -> Option<IdentityType> {
        IdentityType::from_name(&self.type_)
    }

    /// Whether `candidate` (an identity of this object's type) is the recipient.
    ///
    /// Hashed identities are compared with sha256 or md5 (per the `sha256$`/`md5$` prefix, in any
    /// hex case) over the candidate plus the salt; plain identities are compared as text. The
    /// candidate is tried normalised and as given (see the module docs).
    pub fn matches(&self, candidate: &str) -> bool {
        let kind = self.identity_type().unwrap_or(IdentityType::Id);
        let normalised = kind.normalise(candidate);
        let tries = [normalised.as_str(), candidate];
        if !self.hashed {
            let stored = kind.normalise(&self.identity);
            return tries.iter().any(|c| *c == stored || *c == self.identity);
        }
        let Some((algorithm, digest)) = split_hash(&self.identity) else {
            return false;
        };
        let salt = self.salt.as_deref().unwrap_or("");
        tries.iter().any(|c| {
            identity_hash(algorithm, c, salt)
                .split_once('$')
                .is_some_and(|(_, ours)| ours.eq_ignore_ascii_case(digest))
        })
    }
}

/// `ALGORITHM$hex(hash(identity + salt))`, lowercase hex.
pub fn identity_hash(algorithm: HashAlgorithm, identity: &str, salt: &str) -> String {
    match algorithm {
        HashAlgorithm::Sha256 => {
            let mut h = Sha256::new();
            h.update(identity.as_bytes());
            h.update(salt.as_bytes());
            format!("sha256${}", hex(&h.finalize()))
        }
        HashAlgorithm::Md5 => {
            let mut h = Md5::new();
            h.update(identity.as_bytes());
            h.update(salt.as_bytes());
            format!("md5${}", hex(&h.finalize()))
        }
    }
}

/// Splits a well-formed IdentityHash into its algorithm and hex digest.
pub(crate) fn split_hash(identity: &str) -> Option<(HashAlgorithm, &str)> {
    let (algorithm, digest, len) = if let Some(d) = identity.strip_prefix("sha256$") {
        (HashAlgorithm::Sha256, d, 64)
    } else if let Some(d) = identity.strip_prefix("md5$") {
        (HashAlgorithm::Md5, d, 32)
    } else {
        return None;
    };
    (digest.len() == len && digest.bytes().all(|b| b.is_ascii_hexdigit()))
        .then_some((algorithm, digest))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specification_test_vectors() {
        assert_eq!(
            identity_hash(HashAlgorithm::Sha256, "mayze", ""),
            "sha256$7a1a1b3f7d40552e4299180e346e3add12bf9a751a43d9c4ca4518febc2c60c6"
        );
        assert_eq!(
            identity_hash(HashAlgorithm::Sha256, "nobody@example.org", "deadsea"),
            "sha256$ecf5409f3f4b91ab60cc5ef4c02aef7032354375e70cf4d8e43f6a1d29891942"
        );
        let ours = IdentityObject::hashed_with_salt(
            IdentityType::Email,
            "learner@example.com",
            "oRb7Xq2v",
        );
        assert_eq!(
            ours.identity,
            "sha256$0901c310bce8ff1810cb1e2930cf137ba6eed8c6ba6722224f1de2f5957476fb"
        );
    }

    #[test]
    fn matching_normalises_email_and_accepts_any_hex_case() {
        let mut id =
            IdentityObject::hashed_with_salt(IdentityType::Email, " Learner@Example.com ", "s");
        assert!(id.matches("learner@example.com"));
        assert!(id.matches("LEARNER@EXAMPLE.COM"));
        assert!(!id.matches("other@example.com"));
        id.identity = id.identity.to_uppercase().replace("SHA256$", "sha256$");
        assert!(id.matches("learner@example.com"));
    }

    #[test]
    fn md5_hashes_match() {
        let id = IdentityObject {
            type_: "email".into(),
            identity: identity_hash(HashAlgorithm::Md5, "a@b.org", "pepper"),
            hashed: true,
            salt: Some("pepper".into()),
            extra: Extra::new(),
        };
        assert!(id.matches("a@b.org"));
        assert!(!id.matches("a@b.net"));
    }

    #[test]
    fn unnormalised_foreign_hash_still_matches_verbatim() {
        // An issuer that hashed "User@X.org" without lowercasing.
        let id = IdentityObject {
            type_: "email".into(),
            identity: identity_hash(HashAlgorithm::Sha256, "User@X.org", ""),
            hashed: true,
            salt: None,
            extra: Extra::new(),
        };
        assert!(id.matches("User@X.org"));
    }

    #[test]
    fn random_salts_differ() {
        let a = IdentityObject::hashed(IdentityType::Email, "a@b.org").unwrap();
        let b = IdentityObject::hashed(IdentityType::Email, "a@b.org").unwrap();
        assert_ne!(a.salt, b.salt);
        assert_ne!(a.identity, b.identity);
        assert!(a.matches("a@b.org") && b.matches("A@B.org"));
    }

    #[test]
    fn telephone_normalisation() {
        let id =
            IdentityObject::hashed_with_salt(IdentityType::Telephone, "+1 (617) 555-1212", "x");
        assert!(id.matches("+16175551212"));
    }
}
