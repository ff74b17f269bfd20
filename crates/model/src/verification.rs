//! VerificationObject: how an assertion is verified (hosted or signed), or an issuer's policy.

#![allow(
    clippy::exhaustive_structs,
    reason = "the Open Badges documents: a field per property of the specification, extensions in `extra`; hosts build them with struct literals"
)]

use serde::{Deserialize, Serialize};

use crate::value::{Extra, Iri, OneOrMany, Types};

/// Verification instructions (on an Assertion) or policy (on an issuer Profile).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerificationObject {
    /// `HostedBadge` / `hosted`, `SignedBadge` / `signed`, or `VerificationObject` in a policy.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub type_: Option<Types>,
    /// The assertion property checked against the policy (only `id` is defined).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification_property: Option<String>,
    /// URI prefixes that hosted assertion ids must start with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starts_with: Option<OneOrMany<String>>,
    /// Host names (with port) where hosted assertions may live.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_origins: Option<OneOrMany<String>>,
    /// For signed badges, the URL of the CryptographicKey that signed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator: Option<Iri>,
    /// Properties without a field here, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

impl VerificationObject {
    /// `{"type": "hosted"}`: the assertion is verified by fetching it at its `id`.
    pub fn hosted() -> Self {
        Self::of_type("hosted", None)
    }

    /// `{"type": "SignedBadge", "creator": KEY}`: the assertion is a JWS signed with that key.
    pub fn signed(creator: url::Url) -> Self {
        Self::of_type("SignedBadge", Some(creator.into()))
    }

    fn of_type(type_: &str, creator: Option<Iri>) -> Self {
        VerificationObject {
            type_: Some(OneOrMany::One(type_.to_owned())),
            verification_property: None,
            starts_with: None,
            allowed_origins: None,
            creator,
            extra: Extra::new(),
        }
    }

    /// Whether this is hosted verification (`hosted` or `HostedBadge`).
    pub fn is_hosted(&self) -> bool {
        self.type_
            .as_ref()
            .is_some_and(|t| t.contains("hosted") || t.contains("HostedBadge"))
    }

    /// Whether this is signed verification (`signed` or `SignedBadge`).
    pub fn is_signed(&self) -> bool {
        self.type_
            .as_ref()
            .is_some_and(|t| t.contains("signed") || t.contains("SignedBadge"))
    }
}
