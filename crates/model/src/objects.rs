//! The small node classes: Evidence, Criteria, Image and AlignmentObject.

#![allow(
    clippy::exhaustive_structs,
    reason = "the Open Badges documents: a field per property of the specification, extensions in `extra`; hosts build them with struct literals"
)]

use serde::{Deserialize, Serialize};

use crate::value::{Extra, Iri, Types};

/// Evidence of the work that led to an award: a URL, a narrative, or both.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Evidence {
    /// JSON-LD type (defaults to `Evidence`).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub type_: Option<Types>,
    /// URL of a page showing the evidence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Iri>,
    /// Markdown narrative of the evidence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub narrative: Option<String>,
    /// A name for the evidence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A short description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The kind of evidence (for example "Certificate").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub genre: Option<String>,
    /// Who the evidence is meant for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    /// Properties without a field here, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Evidence {
    /// Evidence that is a URL to a page.
    pub fn url(url: url::Url) -> Self {
        Evidence {
            id: Some(url.into()),
            ..Evidence::default()
        }
    }

    /// Evidence that is a Markdown narrative.
    pub fn narrative(text: impl Into<String>) -> Self {
        Evidence {
            narrative: Some(text.into()),
            ..Evidence::default()
        }
    }
}

/// What a learner must do to earn a badge: a URL of a criteria page and/or a narrative.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Criteria {
    /// JSON-LD type (defaults to `Criteria`).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub type_: Option<Types>,
    /// URL of a human-readable criteria page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Iri>,
    /// Markdown narrative of the criteria.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub narrative: Option<String>,
    /// Properties without a field here, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Criteria {
    /// Criteria given as a Markdown narrative.
    pub fn narrative(text: impl Into<String>) -> Self {
        Criteria {
            narrative: Some(text.into()),
            ..Criteria::default()
        }
    }
}

/// An image: a URL or `data:` URI, with optional caption and author.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Image {
    /// JSON-LD type (defaults to `schema:ImageObject`).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub type_: Option<Types>,
    /// URL or `data:` URI of the image.
    pub id: Iri,
    /// A caption.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    /// IRI of the image's author.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<Iri>,
    /// Properties without a field here, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

/// An alignment of a badge to an educational framework or standard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlignmentObject {
    /// JSON-LD type (defaults to `AlignmentObject`).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub type_: Option<Types>,
    /// Name of the aligned node.
    pub target_name: String,
    /// URL of the aligned node.
    pub target_url: Iri,
    /// Description of the aligned node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_description: Option<String>,
    /// Name of the framework the node belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_framework: Option<String>,
    /// Code of the node within the framework.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_code: Option<String>,
    /// Properties without a field here, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

impl AlignmentObject {
    /// An alignment with its two required properties.
    pub fn new(target_name: impl Into<String>, target_url: url::Url) -> Self {
        AlignmentObject {
            type_: None,
            target_name: target_name.into(),
            target_url: target_url.into(),
            target_description: None,
            target_framework: None,
            target_code: None,
            extra: Extra::new(),
        }
    }
}
