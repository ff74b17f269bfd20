//! CryptographicKey: a public key an issuer signs badges with.

#![allow(
    clippy::exhaustive_structs,
    reason = "the Open Badges documents: a field per property of the specification, extensions in `extra`; hosts build them with struct literals"
)]

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

impl CryptographicKey {
    /// A key document at `id`, owned by the issuer `owner`, publishing `public_key_pem`.
    pub fn new(id: url::Url, owner: url::Url, public_key_pem: impl Into<String>) -> Self {
        CryptographicKey {
            context: Some(Context::v2()),
            type_: Some(crate::value::OneOrMany::One("CryptographicKey".to_owned())),
            id: Some(id.into()),
            owner: Some(owner.into()),
            public_key_pem: Some(public_key_pem.into()),
            extra: Extra::new(),
        }
    }
}
