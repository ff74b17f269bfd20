//! Profile: an issuer (or any entity that issues, endorses or receives badges), and
//! Endorsement: a third party's claim about an issuer, badge class or assertion. The two are
//! in one module because each holds the other: a profile is endorsed, and an endorsement is
//! issued by a profile.

#![allow(
    clippy::exhaustive_structs,
    reason = "the Open Badges documents: a field per property of the specification, extensions in `extra`; hosts build them with struct literals"
)]

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::key::CryptographicKey;
use crate::objects::Image;
use crate::value::{Context, DateTimeText, Extra, IdOr, Iri, OneOrMany, Types};
use crate::verification::VerificationObject;

/// An Open Badges 2.0 Profile, type `Issuer` or `Profile`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    /// JSON-LD context (present on top-level documents).
    #[serde(rename = "@context", default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Context>,
    /// JSON-LD type: `Issuer` or `Profile`.
    #[serde(rename = "type")]
    pub type_: Types,
    /// The profile's IRI (HTTP(S) for issuers).
    pub id: Iri,
    /// Name (required for issuers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Home page (required for issuers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<Iri>,
    /// Contact address (required for issuers by the specification).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Telephone number in E.164 form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub telephone: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Image (logo).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<IdOr<Image>>,
    /// Keys the issuer signs with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<OneOrMany<IdOr<CryptographicKey>>>,
    /// Hosted verification policy (allowed origins, id prefixes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification: Option<VerificationObject>,
    /// URL of the issuer's RevocationList (signed badges).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_list: Option<Iri>,
    /// Endorsements of this profile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endorsement: Option<OneOrMany<IdOr<Endorsement>>>,
    /// The document's language (BCP 47).
    #[serde(rename = "@language", default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Version (text or number).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<Value>,
    /// Properties without a field here (extensions and others), kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Profile {
    /// An issuer profile with the properties the specification requires of an issuer (name,
    /// url, email), in the emission profile.
    ///
    /// # Errors
    /// [`crate::Error::InvalidValue`] when `email` is not of the form `local@domain`.
    pub fn issuer(
        id: url::Url,
        name: impl Into<String>,
        url: url::Url,
        email: &str,
    ) -> Result<Self, crate::Error> {
        if !crate::syntax::is_email(email) {
            return Err(crate::Error::InvalidValue {
                what: "issuer email",
                value: email.to_owned(),
                expected: "an address of the form local@domain",
            });
        }
        Ok(Profile {
            context: Some(Context::v2()),
            type_: OneOrMany::One("Issuer".to_owned()),
            id: id.into(),
            name: Some(name.into()),
            url: Some(url.into()),
            email: Some(email.to_owned()),
            telephone: None,
            description: None,
            image: None,
            public_key: None,
            verification: None,
            revocation_list: None,
            endorsement: None,
            language: None,
            version: None,
            extra: Extra::new(),
        })
    }

    /// Sets the description.
    pub fn with_description(mut self, text: impl Into<String>) -> Self {
        self.description = Some(text.into());
        self
    }

    /// Sets the hosted verification policy.
    pub fn with_verification(mut self, policy: VerificationObject) -> Self {
        self.verification = Some(policy);
        self
    }
}

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
    pub issued_on: DateTimeText,
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
