//! CryptographicKey: a public key an issuer signs badges with.

use serde::{Deserialize, Serialize};

use crate::value::{Context, Extra, Iri, Types};

/// An Open Badges 2.0 CryptographicKey.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CryptographicKey {
    /// JSON-LD context (present on top-level documents).
    #[serde(rename = "@context", default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Context>,
    /// JSON-LD type (defaults to `CryptographicKey`).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub type_: Option<Types>,
    /// The key's URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Iri>,
    /// The issuer Profile that owns the key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<Iri>,
    /// The public key, PEM encoded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key_pem: Option<String>,
    /// Properties without a field here, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}
