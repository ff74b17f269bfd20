//! JSON-LD value shapes shared by every Open Badges class.
//!
//! Reading is permissive and writing is strict: deserialising keeps whatever string a document
//! holds (so a document with a malformed IRI or date still loads and round-trips losslessly, and
//! [`crate::validate`] reports the problem with its JSON path), while the constructors used to
//! *emit* documents only accept checked values.

use std::fmt;

use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::Error;

/// The Open Badges 2.0 JSON-LD context URL.
pub const CONTEXT_V2: &str = "https://w3id.org/openbadges/v2";
/// The Open Badges 1.1 JSON-LD context URL (read by [`crate::legacy`]).
pub const CONTEXT_V1: &str = "https://w3id.org/openbadges/v1";

/// Properties a document holds that this crate has no field for: extensions, `@language`
/// variants, vendor properties. Kept in document order and written back unchanged.
pub type Extra = Map<String, Value>;

/// A JSON-LD value that may be written as a single value or as an array.
///
/// JSON-LD treats `"p": "v"` and `"p": ["v"]` as the same statement; the variant is kept so that
/// a document serialises back to exactly what was read.
#[allow(
    clippy::exhaustive_enums,
    reason = "a JSON-LD value shape: every form the syntax allows is a variant"
)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany<T> {
    /// A single value.
    One(T),
    /// An array of values (possibly of length one or zero).
    Many(Vec<T>),
}

impl<T> OneOrMany<T> {
    /// The values, in order, whichever way they were written.
    pub fn as_slice(&self) -> &[T] {
        match self {
            OneOrMany::One(value) => std::slice::from_ref(value),
            OneOrMany::Many(values) => values,
        }
    }

    /// Iterates over the values.
    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.as_slice().iter()
    }

    /// The first value, if any.
    pub fn first(&self) -> Option<&T> {
        self.as_slice().first()
    }

    /// Appends a value, turning a single value into an array when needed.
    pub fn push(&mut self, value: T) {
        let taken = std::mem::replace(self, OneOrMany::Many(Vec::new()));
        *self = match taken {
            OneOrMany::One(first) => OneOrMany::Many(vec![first, value]),
            OneOrMany::Many(mut values) => {
                values.push(value);
                OneOrMany::Many(values)
            }
        };
    }
}

impl<T> From<T> for OneOrMany<T> {
    fn from(value: T) -> Self {
        OneOrMany::One(value)
    }
}

impl<'a, T> IntoIterator for &'a OneOrMany<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// A JSON-LD `type` value: one type name or several.
pub type Types = OneOrMany<String>;

impl Types {
    /// Whether `name` is among the types.
    pub fn contains(&self, name: &str) -> bool {
        self.iter().any(|t| t == name)
    }
}

/// A property typed `@id`: either the IRI of a node or the node embedded.
#[allow(
    clippy::exhaustive_enums,
    reason = "a JSON-LD value shape: every form the syntax allows is a variant"
)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum IdOr<T> {
    /// A reference by IRI (usually an HTTPS URL where the node is hosted).
    Id(Iri),
    /// The node itself, embedded.
    Object(Box<T>),
}

impl<T> IdOr<T> {
    /// The embedded node, if this is not a bare reference.
    pub fn object(&self) -> Option<&T> {
        match self {
            IdOr::Id(_) => None,
            IdOr::Object(node) => Some(node),
        }
    }
}

impl<T> From<Iri> for IdOr<T> {
    fn from(iri: Iri) -> Self {
        IdOr::Id(iri)
    }
}

impl<T> From<url::Url> for IdOr<T> {
    fn from(url: url::Url) -> Self {
        IdOr::Id(Iri::from(url))
    }
}

/// An IRI as written in a document.
///
/// Deserialising accepts any string (see the module docs); [`Iri::parse`] checks the forms Open
/// Badges accepts: `http(s)` URLs, `urn:uuid:` URNs and `_:` blank node identifiers.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Iri(String);

impl Iri {
    /// Checks `text` and wraps it.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] when `text` is not an `http(s)` URL, a version 1–5 `urn:uuid:`
    /// URN or a blank node identifier (`_:…`).
    pub fn parse(text: &str) -> Result<Self, Error> {
        if crate::syntax::is_iri(text) {
            Ok(Iri(text.to_owned()))
        } else {
            Err(Error::InvalidValue {
                what: "IRI",
                value: text.to_owned(),
                expected: "an http(s) URL, a urn:uuid: URN or a _: blank node id",
            })
        }
    }

    /// The IRI text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<url::Url> for Iri {
    fn from(url: url::Url) -> Self {
        Iri(url.into())
    }
}

impl fmt::Display for Iri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Iri {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// An Open Badges `DateTime` value as written in a document: the text, not an instant
/// (that is chrono's `DateTime<Utc>`, which [`DateTimeText::parse`] gives).
///
/// The text is kept verbatim. [`DateTimeText::parse`] accepts exactly the ISO 8601 forms the
/// official validator accepts (a date, `T`, a time, and a zone `Z`, `±HH`, `±HHMM` or
/// `±HH:MM`: [`crate::syntax::parse_datetime`]); [`DateTimeText::from_utc`] emits the
/// recommended `YYYY-MM-DDTHH:MM:SSZ`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DateTimeText(String);

impl DateTimeText {
    /// The emission form `YYYY-MM-DDTHH:MM:SSZ` of a UTC instant (sub-seconds dropped).
    pub fn from_utc(instant: chrono::DateTime<Utc>) -> Self {
        DateTimeText(instant.format("%Y-%m-%dT%H:%M:%SZ").to_string())
    }

    /// The text as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The instant this text denotes.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] when the text is not an ISO 8601 date and time with a zone.
    pub fn parse(&self) -> Result<chrono::DateTime<Utc>, Error> {
        crate::syntax::parse_datetime(&self.0).ok_or_else(|| Error::InvalidValue {
            what: "DateTime",
            value: self.0.clone(),
            expected: "an ISO 8601 date and time with a zone, e.g. 2024-05-01T12:00:00Z",
        })
    }
}

impl From<chrono::DateTime<Utc>> for DateTimeText {
    fn from(instant: chrono::DateTime<Utc>) -> Self {
        DateTimeText::from_utc(instant)
    }
}

impl fmt::Display for DateTimeText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A JSON-LD `@context`: the v2 context URL, other URLs, inline context objects, or a list.
pub type Context = OneOrMany<ContextEntry>;

/// One entry of an `@context` value.
#[allow(
    clippy::exhaustive_enums,
    reason = "a JSON-LD value shape: every form the syntax allows is a variant"
)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ContextEntry {
    /// A context referenced by URL, such as [`CONTEXT_V2`].
    Url(String),
    /// An inline context definition (extension term mappings).
    Inline(Map<String, Value>),
}

impl Context {
    /// The context emitted by this crate: the plain v2 URL string.
    pub fn v2() -> Self {
        OneOrMany::One(ContextEntry::Url(CONTEXT_V2.to_owned()))
    }

    /// Whether the v2 context URL is among the entries.
    pub fn is_v2(&self) -> bool {
        self.iter()
            .any(|e| matches!(e, ContextEntry::Url(u) if u.trim_end_matches('/') == CONTEXT_V2))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emission_form() {
        let t = crate::syntax::parse_datetime("2024-05-01T14:00:00+02:00").unwrap();
        assert_eq!(DateTimeText::from_utc(t).as_str(), "2024-05-01T12:00:00Z");
    }

    #[test]
    fn one_or_many_push() {
        let mut v = OneOrMany::One(1);
        v.push(2);
        assert_eq!(v.as_slice(), &[1, 2]);
    }
}
