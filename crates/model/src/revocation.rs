//! RevocationList: the ids of signed assertions an issuer has revoked.

#![allow(
    clippy::exhaustive_structs,
    reason = "the Open Badges documents: a field per property of the specification, extensions in `extra`; hosts build them with struct literals"
)]

use serde::{Deserialize, Serialize};

use crate::profile::Profile;
use crate::value::{Context, Extra, IdOr, Iri, OneOrMany, Types};

/// An Open Badges 2.0 RevocationList (used for signed badges).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RevocationList {
    /// JSON-LD context (present on top-level documents).
    #[serde(rename = "@context", default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Context>,
    /// JSON-LD type: `RevocationList`.
    #[serde(rename = "type")]
    pub type_: Types,
    /// The list's IRI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Iri>,
    /// The issuer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<IdOr<Profile>>,
    /// The revoked assertions. Emit an array even for one entry.
    pub revoked_assertions: OneOrMany<RevokedEntry>,
    /// Properties without a field here, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

impl RevokedEntry {
    /// An entry revoking the assertion `id` for `reason`.
    pub fn with_reason(id: Iri, reason: impl Into<String>) -> Self {
        RevokedEntry::Detailed {
            id: Some(id),
            uid: None,
            revocation_reason: Some(reason.into()),
            extra: Extra::new(),
        }
    }
}

/// One entry of a RevocationList: an assertion id, or an object with `id` (or 1.x `uid`) and a
/// reason.
#[allow(
    clippy::exhaustive_enums,
    reason = "an Open Badges document: a field per property of the specification, extensions in `extra`; hosts build it with a struct literal"
)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RevokedEntry {
    /// The revoked assertion's id.
    Id(Iri),
    /// An entry with details.
    Detailed {
        /// The revoked assertion's id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<Iri>,
        /// The 1.x `uid` of the revoked assertion.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        uid: Option<String>,
        /// Why it was revoked.
        #[serde(
            rename = "revocationReason",
            default,
            skip_serializing_if = "Option::is_none"
        )]
        revocation_reason: Option<String>,
        /// Properties without a field here, kept verbatim.
        #[serde(flatten)]
        extra: Extra,
    },
}

impl RevocationList {
    /// The list at `id` of `issuer`, revoking `entries` (written as an array, even of one).
    pub fn new(id: url::Url, issuer: url::Url, entries: Vec<RevokedEntry>) -> Self {
        RevocationList {
            context: Some(Context::v2()),
            type_: OneOrMany::One("RevocationList".to_owned()),
            id: Some(id.into()),
            issuer: Some(IdOr::Id(issuer.into())),
            revoked_assertions: OneOrMany::Many(entries),
            extra: Extra::new(),
        }
    }

    /// Whether the assertion with this id (or 1.x uid) is listed.
    pub fn is_revoked(&self, assertion_id: &str) -> bool {
        self.revoked_assertions.iter().any(|entry| match entry {
            RevokedEntry::Id(id) => id.as_str() == assertion_id,
            RevokedEntry::Detailed { id, uid, .. } => {
                id.as_ref().is_some_and(|i| i.as_str() == assertion_id)
                    || uid.as_deref() == Some(assertion_id)
            }
        })
    }
}
