//! BadgeClass: the achievement a badge stands for.

#![allow(
    clippy::exhaustive_structs,
    reason = "the Open Badges documents: a field per property of the specification, extensions in `extra`; hosts build them with struct literals"
)]

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::objects::{AlignmentObject, Criteria, Image};
use crate::profile::Endorsement;
use crate::profile::Profile;
use crate::value::{Context, Extra, IdOr, Iri, OneOrMany, Types};

/// An Open Badges 2.0 BadgeClass.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BadgeClass {
    /// JSON-LD context (present on top-level documents).
    #[serde(rename = "@context", default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Context>,
    /// JSON-LD type: `BadgeClass`.
    #[serde(rename = "type")]
    pub type_: Types,
    /// The class's IRI (an HTTPS URL is advised).
    pub id: Iri,
    /// Name of the achievement.
    pub name: String,
    /// Short description of the achievement.
    pub description: String,
    /// The badge image (PNG or SVG): URL, `data:` URI or Image object.
    pub image: IdOr<Image>,
    /// Criteria: a URL of a criteria page, or a Criteria object.
    pub criteria: IdOr<Criteria>,
    /// The issuer: its Profile URL, or the Profile embedded.
    pub issuer: IdOr<Profile>,
    /// Alignments to frameworks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alignment: Option<OneOrMany<AlignmentObject>>,
    /// Tags (text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<OneOrMany<String>>,
    /// Endorsements of this class.
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

impl BadgeClass {
    /// A badge class with every required property, in the emission profile.
    ///
    /// `image` is the URL of the PNG or SVG image, or a `data:image/png;base64,…` /
    /// `data:image/svg+xml;…` URI.
    pub fn new(
        id: url::Url,
        name: impl Into<String>,
        description: impl Into<String>,
        image: url::Url,
        criteria: Criteria,
        issuer: url::Url,
    ) -> Self {
        BadgeClass {
            context: Some(Context::v2()),
            type_: OneOrMany::One("BadgeClass".to_owned()),
            id: id.into(),
            name: name.into(),
            description: description.into(),
            image: image.into(),
            criteria: IdOr::Object(Box::new(criteria)),
            issuer: issuer.into(),
            alignment: None,
            tags: None,
            endorsement: None,
            language: None,
            version: None,
            extra: Extra::new(),
        }
    }

    /// Adds an alignment.
    pub fn with_alignment(mut self, alignment: AlignmentObject) -> Self {
        match &mut self.alignment {
            Some(list) => list.push(alignment),
            None => self.alignment = Some(OneOrMany::Many(vec![alignment])),
        }
        self
    }

    /// Sets the tags.
    pub fn with_tags<I: IntoIterator<Item = S>, S: Into<String>>(mut self, tags: I) -> Self {
        self.tags = Some(OneOrMany::Many(tags.into_iter().map(Into::into).collect()));
        self
    }
}
