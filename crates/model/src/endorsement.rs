//! Endorsement: a third party's claim about an issuer, badge class or assertion.

use serde::{Deserialize, Serialize};

use crate::profile::Profile;
use crate::value::{Context, DateTime, Extra, IdOr, Iri, Types};
use crate::verification::VerificationObject;

/// An Open Badges 2.0 Endorsement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Endorsement {
    /// JSON-LD context (present on top-level documents).
    #[serde(rename = "@context", default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Context>,
    /// JSON-LD type: `Endorsement`.
    #[serde(rename = "type")]
    pub type_: Types,
    /// The endorsement's IRI.
    pub id: Iri,
    /// What is claimed, about which node.
    pub claim: EndorsementClaim,
    /// Who endorses.
    pub issuer: IdOr<Profile>,
    /// When the endorsement was made.
    pub issued_on: DateTime,
    /// How to verify the endorsement.
    pub verification: VerificationObject,
    /// Whether the endorsement is revoked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked: Option<bool>,
    /// Why it was revoked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_reason: Option<String>,
    /// Properties without a field here, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The claim of an Endorsement: the endorsed node's id and a comment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EndorsementClaim {
    /// IRI of the endorsed node.
    pub id: Iri,
    /// Markdown comment of the endorser.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endorsement_comment: Option<String>,
    /// Properties without a field here, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}
