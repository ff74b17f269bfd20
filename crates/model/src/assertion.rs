//! Assertion: one award of a badge class to one recipient.

#![allow(
    clippy::exhaustive_structs,
    reason = "the Open Badges documents: a field per property of the specification, extensions in `extra`; hosts build them with struct literals"
)]

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::badge_class::BadgeClass;
use crate::identity::IdentityObject;
use crate::objects::{Evidence, Image};
use crate::profile::Endorsement;
use crate::value::{Context, DateTimeText, Extra, IdOr, Iri, OneOrMany, Types};
use crate::verification::VerificationObject;

/// An Open Badges 2.0 Assertion.
///
/// Build one with [`Assertion::new`], which takes every required property, then the `with_*`
/// methods for the optional ones:
///
/// ```
/// use badgery_model::{Assertion, IdentityObject, IdentityType, VerificationObject};
/// let issued = chrono::DateTime::parse_from_rfc3339("2024-05-01T12:00:00Z")?.to_utc();
/// let assertion = Assertion::new(
///     "https://lms.example.org/ob/assertions/1".parse()?,
///     IdentityObject::hashed_with_salt(IdentityType::Email, "learner@example.com", "oRb7Xq2v"),
///     "https://lms.example.org/ob/badges/rust-101".parse::<url::Url>()?.into(),
///     VerificationObject::hosted(),
///     issued,
/// )
/// .with_narrative("Passed every quiz.");
/// assert_eq!(assertion.issued_on.as_str(), "2024-05-01T12:00:00Z");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Assertion {
    /// JSON-LD context (present on top-level documents).
    #[serde(rename = "@context", default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Context>,
    /// JSON-LD type: `Assertion`.
    #[serde(rename = "type")]
    pub type_: Types,
    /// The assertion's IRI (for hosted badges, the URL where it is served).
    pub id: Iri,
    /// The recipient.
    pub recipient: IdentityObject,
    /// The badge class awarded: its URL, or the class embedded.
    pub badge: IdOr<BadgeClass>,
    /// How to verify the assertion (the alias `verify` is read too and written as
    /// `verification`).
    #[serde(alias = "verify")]
    pub verification: VerificationObject,
    /// When the badge was awarded.
    pub issued_on: DateTimeText,
    /// The baked image of this award (never a `data:` URI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<IdOr<Image>>,
    /// Evidence URLs and/or Evidence objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<OneOrMany<IdOr<Evidence>>>,
    /// Markdown narrative of how the badge was earned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub narrative: Option<String>,
    /// When the award stops being valid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<DateTimeText>,
    /// Whether the issuer has revoked the award.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked: Option<bool>,
    /// Why the award was revoked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_reason: Option<String>,
    /// Endorsements of this assertion.
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

impl Assertion {
    /// An assertion with every required property, in the emission profile: `@context` and
    /// `type` as plain strings and `issuedOn` as `YYYY-MM-DDTHH:MM:SSZ`.
    pub fn new(
        id: url::Url,
        recipient: IdentityObject,
        badge: IdOr<BadgeClass>,
        verification: VerificationObject,
        issued_on: chrono::DateTime<chrono::Utc>,
    ) -> Self {
        Assertion {
            context: Some(Context::v2()),
            type_: OneOrMany::One("Assertion".to_owned()),
            id: id.into(),
            recipient,
            badge,
            verification,
            issued_on: issued_on.into(),
            image: None,
            evidence: None,
            narrative: None,
            expires: None,
            revoked: None,
            revocation_reason: None,
            endorsement: None,
            language: None,
            version: None,
            extra: Extra::new(),
        }
    }

    /// Sets the baked image URL.
    pub fn with_image(mut self, image: url::Url) -> Self {
        self.image = Some(image.into());
        self
    }

    /// Adds one piece of evidence.
    pub fn with_evidence(mut self, evidence: Evidence) -> Self {
        let item = IdOr::Object(Box::new(evidence));
        match &mut self.evidence {
            Some(list) => list.push(item),
            None => self.evidence = Some(OneOrMany::Many(vec![item])),
        }
        self
    }

    /// Sets the narrative.
    pub fn with_narrative(mut self, text: impl Into<String>) -> Self {
        self.narrative = Some(text.into());
        self
    }

    /// Sets the expiry.
    pub fn with_expires(mut self, expires: chrono::DateTime<chrono::Utc>) -> Self {
        self.expires = Some(expires.into());
        self
    }

    /// Whether the assertion says it is revoked.
    pub fn is_revoked(&self) -> bool {
        self.revoked == Some(true)
    }
}

/// What a hosted assertion URL serves once the award is revoked:
/// `{"@context", "type", "id", "revoked": true, "revocationReason"}`, with HTTP status 410.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RevokedAssertion {
    /// JSON-LD context.
    #[serde(rename = "@context", default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Context>,
    /// JSON-LD type: `Assertion`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub type_: Option<Types>,
    /// The revoked assertion's IRI.
    pub id: Iri,
    /// Always `true`.
    pub revoked: bool,
    /// Why the award was revoked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_reason: Option<String>,
    /// Properties without a field here, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

impl RevokedAssertion {
    /// The revoked form of an assertion id.
    pub fn new(id: Iri, reason: Option<String>) -> Self {
        RevokedAssertion {
            context: Some(Context::v2()),
            type_: Some(OneOrMany::One("Assertion".to_owned())),
            id,
            revoked: true,
            revocation_reason: reason,
            extra: Extra::new(),
        }
    }
}
