//! The Open Badges 3.0 data model: an `OpenBadgeCredential` (a W3C Verifiable Credential 2.0)
//! and the objects it holds, as the 1EdTech JSON schema and the OB 3.0.3 context define them.
//!
//! Reading is lenient where JSON-LD is (a single value where a list is allowed); writing is
//! strict where the plain-JSON schema is: every list is written as an array, and optional
//! members are left out rather than written as `null`. Members this model does not name are
//! kept in each object's `extra`, so a credential read and written again loses nothing.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

/// The W3C Verifiable Credentials 2.0 context: always first.
pub const VC_CONTEXT: &str = "https://www.w3.org/ns/credentials/v2";
/// The Open Badges 3.0 context, version 3.0.3 (the current one): always second.
pub const OB_CONTEXT: &str = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json";

/// Reads one value or an array of them as a list (JSON-LD allows both).
fn one_or_many<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany<T> {
        Many(Vec<T>),
        One(T),
    }
    Ok(match OneOrMany::deserialize(deserializer)? {
        OneOrMany::Many(list) => list,
        OneOrMany::One(one) => vec![one],
    })
}

/// An Open Badges 3.0 credential: that its subject achieved an achievement, said by an
/// issuer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct OpenBadgeCredential {
    /// The contexts: [`VC_CONTEXT`], [`OB_CONTEXT`], then any others.
    #[serde(rename = "@context", deserialize_with = "one_or_many")]
    pub context: Vec<Value>,
    /// The credential's id (a URI: `urn:uuid:…` for Badgery's).
    pub id: String,
    /// `VerifiableCredential` and `OpenBadgeCredential` (or its alias `AchievementCredential`).
    #[serde(rename = "type", deserialize_with = "one_or_many")]
    pub types: Vec<String>,
    /// A name for displayers (the achievement's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A description for displayers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// An image for displayers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<Image>,
    /// Who says so.
    pub issuer: Profile,
    /// From when the credential is valid (`xsd:dateTime` with a time zone).
    pub valid_from: String,
    /// Until when it is valid, if it expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<String>,
    /// Who achieved what.
    pub credential_subject: AchievementSubject,
    /// Where its revocation (or suspension) is published (one object: the schema's
    /// `CredentialStatus`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_status: Option<StatusEntry>,
    /// The schemas it claims to follow.
    #[serde(
        default,
        deserialize_with = "one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub credential_schema: Vec<CredentialSchema>,
    /// Evidence of the achievement.
    #[serde(
        default,
        deserialize_with = "one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub evidence: Vec<Evidence>,
    /// Embedded proofs (none for a VC-JWT, whose signature is the JWS's).
    #[serde(
        default,
        deserialize_with = "one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub proof: Vec<Value>,
    /// Members this model does not name, kept as read.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An issuer (or another party): `type` includes `Profile`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Profile {
    /// The profile's id: the DID (or https URL) that controls the signing key.
    pub id: String,
    /// `Profile`.
    #[serde(rename = "type", deserialize_with = "one_or_many")]
    pub types: Vec<String>,
    /// The name displayers show.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The issuer's web site.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// A contact address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// A description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Members this model does not name, kept as read.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Profile {
    /// A profile with `id` and `name`.
    pub fn new(id: impl Into<String>, name: impl Into<String>) -> Self {
        Profile {
            id: id.into(),
            types: vec!["Profile".into()],
            name: Some(name.into()),
            url: None,
            email: None,
            description: None,
            extra: Map::new(),
        }
    }
}

/// The subject of a credential: who achieved the achievement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AchievementSubject {
    /// The recipient's id (a URI; required by VC-JWT, whose `sub` it is).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `AchievementSubject`.
    #[serde(rename = "type", deserialize_with = "one_or_many")]
    pub types: Vec<String>,
    /// What was achieved.
    pub achievement: Achievement,
    /// Other identifiers of the recipient (a hashed email address).
    #[serde(
        default,
        deserialize_with = "one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub identifier: Vec<IdentityObject>,
    /// When it was achieved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity_end_date: Option<String>,
    /// Results (a grade).
    #[serde(
        default,
        deserialize_with = "one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub result: Vec<AchievementResult>,
    /// Members this model does not name, kept as read.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A recipient identifier: an email address, hashed with a salt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct IdentityObject {
    /// `IdentityObject`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Whether `identity_hash` is a hash.
    pub hashed: bool,
    /// `sha256$HEX` of the identity and salt, or the identity itself.
    pub identity_hash: String,
    /// `emailAddress`, `url`, `sourcedId`, …
    pub identity_type: String,
    /// The salt, appended to the identity before hashing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salt: Option<String>,
}

impl IdentityObject {
    /// `email` (trimmed and lowercased) hashed with `salt`: `sha256$` and the hex SHA-256 of
    /// the address followed by the salt, as Open Badges 2.0 hashes recipients.
    pub fn hashed_email(email: &str, salt: &str) -> Self {
        use sha2::Digest as _;
        let digest = sha2::Sha256::digest(format!("{}{salt}", email.trim().to_lowercase()));
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        IdentityObject {
            kind: "IdentityObject".into(),
            hashed: true,
            identity_hash: format!("sha256${hex}"),
            identity_type: "emailAddress".into(),
            salt: Some(salt.to_owned()),
        }
    }

    /// Whether this identifier names `email`.
    pub fn matches_email(&self, email: &str) -> bool {
        if self.identity_type != "emailAddress" {
            return false;
        }
        if !self.hashed {
            return self.identity_hash.eq_ignore_ascii_case(email.trim());
        }
        let again = Self::hashed_email(email, self.salt.as_deref().unwrap_or(""));
        again
            .identity_hash
            .eq_ignore_ascii_case(&self.identity_hash)
    }
}

/// What was achieved: the Open Badges 3.0 counterpart of a 2.0 badge class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Achievement {
    /// Its id (a URL).
    pub id: String,
    /// `Achievement`.
    #[serde(rename = "type", deserialize_with = "one_or_many")]
    pub types: Vec<String>,
    /// Its name.
    pub name: String,
    /// Its description.
    pub description: String,
    /// How it is earned.
    pub criteria: Criteria,
    /// Its image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<Image>,
    /// Its kind (`Badge`, `Certificate`, `Course`, …), from the OB 3.0 vocabulary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub achievement_type: Option<String>,
    /// Who made it, when not the credential's issuer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator: Option<Profile>,
    /// Competencies and standards it aligns to.
    #[serde(
        default,
        deserialize_with = "one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub alignment: Vec<Alignment>,
    /// Tags.
    #[serde(
        default,
        deserialize_with = "one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub tag: Vec<String>,
    /// Members this model does not name, kept as read.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Achievement {
    /// An achievement `id` with a name, description and criteria.
    pub fn new(
        id: impl Into<String>,
        name: impl Into<String>,
        description: impl Into<String>,
        criteria: Criteria,
    ) -> Self {
        Achievement {
            id: id.into(),
            types: vec!["Achievement".into()],
            name: name.into(),
            description: description.into(),
            criteria,
            image: None,
            achievement_type: None,
            creator: None,
            alignment: Vec::new(),
            tag: Vec::new(),
            extra: Map::new(),
        }
    }
}

/// How an achievement is earned: a page, a narrative, or both.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Criteria {
    /// A page describing the criteria.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The criteria in Markdown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub narrative: Option<String>,
}

impl Criteria {
    /// Criteria told in `narrative` (Markdown).
    pub fn narrative(narrative: impl Into<String>) -> Self {
        Criteria {
            id: None,
            narrative: Some(narrative.into()),
        }
    }
}

/// An image: its URL (or `data:` URI) and type `Image`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Image {
    /// The image's URL or `data:` URI.
    pub id: String,
    /// `Image`.
    #[serde(rename = "type")]
    pub kind: String,
    /// A caption.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
}

impl Image {
    /// The image at `id`.
    pub fn new(id: impl Into<String>) -> Self {
        Image {
            id: id.into(),
            kind: "Image".into(),
            caption: None,
        }
    }
}

/// An alignment to a competency or standard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Alignment {
    /// `Alignment`.
    #[serde(rename = "type", deserialize_with = "one_or_many")]
    pub types: Vec<String>,
    /// The target's name.
    pub target_name: String,
    /// The target's URL.
    pub target_url: String,
    /// The target's description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_description: Option<String>,
    /// The framework the target belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_framework: Option<String>,
    /// The target's code in that framework.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_code: Option<String>,
}

impl Alignment {
    /// An alignment to `target_name` at `target_url`.
    pub fn new(target_name: impl Into<String>, target_url: impl Into<String>) -> Self {
        Alignment {
            types: vec!["Alignment".into()],
            target_name: target_name.into(),
            target_url: target_url.into(),
            target_description: None,
            target_framework: None,
            target_code: None,
        }
    }
}

/// A result of the achievement (a grade).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AchievementResult {
    /// `Result`.
    #[serde(rename = "type", deserialize_with = "one_or_many")]
    pub types: Vec<String>,
    /// The value (a grade such as `0.91`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// `Completed`, `Enrolled`, `Failed`, `InProgress`, `OnHold` or `Withdrew`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

/// Evidence of an achievement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Evidence {
    /// A page holding the evidence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `Evidence`.
    #[serde(rename = "type", deserialize_with = "one_or_many")]
    pub types: Vec<String>,
    /// The evidence in Markdown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub narrative: Option<String>,
}

impl Evidence {
    /// Evidence at the page `id`, told in `narrative`, or both.
    pub fn new(id: Option<String>, narrative: Option<String>) -> Self {
        Evidence {
            id,
            types: vec!["Evidence".into()],
            narrative,
        }
    }
}

/// A schema a credential follows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CredentialSchema {
    /// The schema's URL.
    pub id: String,
    /// `1EdTechJsonSchemaValidator2019`.
    #[serde(rename = "type")]
    pub kind: String,
}

/// Where a credential's status is published: a `BitstringStatusListEntry`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct StatusEntry {
    /// `LIST#INDEX`.
    pub id: String,
    /// `BitstringStatusListEntry`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `revocation` or `suspension`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_purpose: Option<String>,
    /// The credential's bit in the list, in decimal digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_list_index: Option<String>,
    /// The URL of the status list credential.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_list_credential: Option<String>,
    /// Members this model does not name, kept as read.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl OpenBadgeCredential {
    /// Reads a credential from its JSON.
    ///
    /// # Errors
    /// [`crate::Error::Shape`] naming the member (as a JSON path) that is missing or wrong.
    pub fn from_value(value: &Value) -> Result<Self, crate::Error> {
        serde_path_to_error::deserialize(value).map_err(|e| crate::Error::Shape {
            path: e.path().to_string(),
            message: e.inner().to_string(),
        })
    }

    /// The credential as JSON.
    pub fn to_value(&self) -> Value {
        // A struct of strings, lists and maps always serialises.
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}
