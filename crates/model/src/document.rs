//! Reading any Open Badges document: class detection and lossless (de)serialisation.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::assertion::{Assertion, RevokedAssertion};
use crate::badge_class::BadgeClass;
use crate::error::Error;
use crate::key::CryptographicKey;
use crate::profile::Endorsement;
use crate::profile::Profile;
use crate::revocation::RevocationList;

/// Any top-level Open Badges 2.0 document.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Document {
    /// An Assertion.
    Assertion(Box<Assertion>),
    /// What a revoked hosted assertion serves: `id`, `revoked: true` and a reason.
    RevokedAssertion(RevokedAssertion),
    /// A BadgeClass.
    BadgeClass(Box<BadgeClass>),
    /// A Profile of type `Issuer` or `Profile`.
    Profile(Box<Profile>),
    /// An Endorsement.
    Endorsement(Box<Endorsement>),
    /// A RevocationList.
    RevocationList(RevocationList),
    /// A CryptographicKey.
    CryptographicKey(CryptographicKey),
}

/// The Open Badges classes a top-level document can be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DocumentClass {
    /// `Assertion`.
    Assertion,
    /// `BadgeClass`.
    BadgeClass,
    /// `Issuer` or `Profile`.
    Profile,
    /// `Endorsement`.
    Endorsement,
    /// `RevocationList`.
    RevocationList,
    /// `CryptographicKey`.
    CryptographicKey,
}

impl DocumentClass {
    /// The class named by a document's `type` (a string, or the first known name in an
    /// array).
    pub fn of(value: &Value) -> Option<Self> {
        let from_name = |name: &str| match name {
            "Assertion" => Some(DocumentClass::Assertion),
            "BadgeClass" => Some(DocumentClass::BadgeClass),
            "Issuer" | "Profile" => Some(DocumentClass::Profile),
            "Endorsement" => Some(DocumentClass::Endorsement),
            "RevocationList" => Some(DocumentClass::RevocationList),
            "CryptographicKey" => Some(DocumentClass::CryptographicKey),
            _ => None,
        };
        match value.get("type")? {
            Value::String(name) => from_name(name),
            Value::Array(names) => names.iter().filter_map(Value::as_str).find_map(from_name),
            _ => None,
        }
    }

    /// The class name as used in messages.
    pub fn name(self) -> &'static str {
        match self {
            DocumentClass::Assertion => "Assertion",
            DocumentClass::BadgeClass => "BadgeClass",
            DocumentClass::Profile => "Profile",
            DocumentClass::Endorsement => "Endorsement",
            DocumentClass::RevocationList => "RevocationList",
            DocumentClass::CryptographicKey => "CryptographicKey",
        }
    }
}

impl Document {
    /// Parses JSON text as whichever class its `type` names.
    ///
    /// # Errors
    /// [`Error::Json`] when the text is not JSON or a property has the wrong shape (with its
    /// JSON path), [`Error::UnknownType`] when `type` names no known class.
    pub fn from_json(text: &str) -> Result<Self, Error> {
        let value: Value = serde_json::from_str(text).map_err(|e| Error::Json {
            class: "document",
            path: format!("line {} column {}", e.line(), e.column()),
            message: e.to_string(),
        })?;
        Self::from_value(value)
    }

    /// Reads a JSON value as whichever class its `type` names.
    ///
    /// # Errors
    /// As [`Document::from_json`].
    pub fn from_value(value: Value) -> Result<Self, Error> {
        // A revoked hosted assertion need not carry a type (specification example).
        let revoked_only =
            value.get("revoked") == Some(&Value::Bool(true)) && value.get("recipient").is_none();
        if revoked_only
            && matches!(
                DocumentClass::of(&value),
                None | Some(DocumentClass::Assertion)
            )
        {
            return Ok(Document::RevokedAssertion(from_value(value, "Assertion")?));
        }
        let Some(class) = DocumentClass::of(&value) else {
            return Err(Error::UnknownType {
                found: value
                    .get("type")
                    .map_or_else(|| "none".to_owned(), Value::to_string),
            });
        };
        Ok(match class {
            DocumentClass::Assertion => {
                Document::Assertion(Box::new(from_value(value, "Assertion")?))
            }
            DocumentClass::BadgeClass => {
                Document::BadgeClass(Box::new(from_value(value, "BadgeClass")?))
            }
            DocumentClass::Profile => Document::Profile(Box::new(from_value(value, "Profile")?)),
            DocumentClass::Endorsement => {
                Document::Endorsement(Box::new(from_value(value, "Endorsement")?))
            }
            DocumentClass::RevocationList => {
                Document::RevocationList(from_value(value, "RevocationList")?)
            }
            DocumentClass::CryptographicKey => {
                Document::CryptographicKey(from_value(value, "CryptographicKey")?)
            }
        })
    }

    /// The document as a JSON value, exactly as it would be written.
    pub fn to_value(&self) -> Value {
        match self {
            Document::Assertion(d) => to_value(d),
            Document::RevokedAssertion(d) => to_value(d),
            Document::BadgeClass(d) => to_value(d),
            Document::Profile(d) => to_value(d),
            Document::Endorsement(d) => to_value(d),
            Document::RevocationList(d) => to_value(d),
            Document::CryptographicKey(d) => to_value(d),
        }
    }
}

/// Reads a JSON value as `T`, reporting the JSON path of a misshapen property.
pub(crate) fn from_value<T: DeserializeOwned>(
    value: Value,
    class: &'static str,
) -> Result<T, Error> {
    serde_path_to_error::deserialize(value).map_err(|e| Error::Json {
        class,
        path: json_path(&e.path().to_string()),
        message: e.into_inner().to_string(),
    })
}

fn json_path(serde_path: &str) -> String {
    if serde_path == "." {
        "$".to_owned()
    } else {
        format!("$.{serde_path}")
    }
}

/// Serialises a document. Every type in this crate serialises to a JSON object, so this cannot
/// fail; a failure would be a bug in a `Serialize` impl and yields `null`.
pub(crate) fn to_value<T: Serialize>(doc: &T) -> Value {
    serde_json::to_value(doc).unwrap_or(Value::Null)
}

macro_rules! json_io {
    ($($class:ident),*) => {$(
        impl $class {
            /// Parses JSON text as this class, keeping unknown properties.
            ///
            /// # Errors
            /// [`Error::Json`] when the text is not JSON or a property has the wrong shape (the
            /// message gives the JSON path or the line and column).
            pub fn from_json(text: &str) -> Result<Self, Error> {
                let value: Value = serde_json::from_str(text).map_err(|e| Error::Json {
                    class: stringify!($class),
                    path: format!("line {} column {}", e.line(), e.column()),
                    message: e.to_string(),
                })?;
                from_value(value, stringify!($class))
            }

            /// The document as a JSON value.
            pub fn to_value(&self) -> Value {
                to_value(self)
            }

            /// The document as pretty-printed JSON text.
            pub fn to_json_pretty(&self) -> String {
                serde_json::to_string_pretty(&self.to_value()).unwrap_or_default()
            }
        }
    )*};
}

json_io!(
    Assertion,
    RevokedAssertion,
    BadgeClass,
    Profile,
    Endorsement,
    RevocationList,
    CryptographicKey
);
