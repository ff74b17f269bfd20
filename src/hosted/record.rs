//! What the hosted issuer keeps of each award, typed: the documents it serves and what its
//! revocation and status lists are made from. Stored as the [`IssuedAssertion::data`] of
//! the assertions it issues.

use badgery_backend::IssuedAssertion;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::Error;

/// The hosted issuer's record of one award ([`HostedRecord::of`] reads it back from an
/// [`IssuedAssertion`]).
///
/// Written as a JSON object with the members `assertion`, `jws` and `ob3`, each present only
/// when there is something to keep; members that earlier versions wrote and nothing reads
/// (`badge_class`, `issuer`) are ignored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct HostedRecord {
    /// The Open Badges 2.0 assertion as served at its URL (its `RevokedAssertion` once
    /// revoked); `None` when the class is issued as Open Badges 3.0 only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assertion: Option<Value>,
    /// Signed mode: the assertion as a compact JWS. A signed assertion has no URL; it is
    /// revoked through the issuer's revocation list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jws: Option<String>,
    /// The Open Badges 3.0 credential, when the class is issued as one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ob3: Option<Ob3Record>,
}

/// An Open Badges 3.0 credential the hosted issuer issued.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Ob3Record {
    /// The credential's id (`urn:uuid:…`).
    pub id: String,
    /// Its bit in the issuer's status list.
    pub status_index: u64,
    /// The credential as it was baked.
    #[serde(flatten)]
    pub credential: Ob3Credential,
}

/// An Open Badges 3.0 credential in the form its proof gives it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Ob3Credential {
    /// A VC-JWT (compact JWS).
    Jwt(String),
    /// The credential with its embedded Data Integrity proof.
    Json(Value),
}

impl Ob3Credential {
    /// The text baked into the image: the JWT, or the credential's JSON.
    pub fn text(&self) -> String {
        match self {
            Ob3Credential::Jwt(jwt) => jwt.clone(),
            Ob3Credential::Json(json) => json.to_string(),
        }
    }
}

impl HostedRecord {
    /// The hosted issuer's record of `assertion`.
    ///
    /// # Errors
    /// [`Error::NotHostedRecord`] when another backend issued `assertion` or its data is not
    /// such a record (damaged in the store).
    pub fn of(assertion: &IssuedAssertion) -> Result<Self, Error> {
        let not_hosted = |source| Error::NotHostedRecord {
            id: assertion.id.clone(),
            backend: assertion.backend.clone(),
            source,
        };
        if assertion.backend != super::BACKEND_NAME {
            return Err(not_hosted(None));
        }
        HostedRecord::deserialize(&assertion.data).map_err(|e| not_hosted(Some(e)))
    }

    /// The record as the [`IssuedAssertion::data`] it is stored as.
    pub fn to_data(&self) -> Value {
        // A struct of strings and JSON values always serializes.
        serde_json::to_value(self).unwrap_or_default()
    }

    /// Whether the record holds a hosted (unsigned) Open Badges 2.0 assertion, served at its
    /// URL.
    pub fn is_served_at_its_url(&self) -> bool {
        self.assertion.is_some() && self.jws.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_what_it_writes_and_what_earlier_versions_wrote() {
        let record = HostedRecord {
            assertion: Some(json!({"id": "https://lms.example.org/ob/assertions/1"})),
            jws: None,
            ob3: Some(Ob3Record {
                id: "urn:uuid:1".into(),
                status_index: 7,
                credential: Ob3Credential::Jwt("a.b.c".into()),
            }),
        };
        let data = record.to_data();
        assert_eq!(
            data,
            json!({
                "assertion": {"id": "https://lms.example.org/ob/assertions/1"},
                "ob3": {"id": "urn:uuid:1", "status_index": 7, "jwt": "a.b.c"}
            })
        );
        assert_eq!(HostedRecord::deserialize(&data).unwrap(), record);
        // Before the record was typed, the class and issuer documents were written too.
        let earlier = json!({
            "assertion": {"id": "x"}, "badge_class": {}, "issuer": {}, "jws": "h.p.s",
            "ob3": {"id": "urn:uuid:2", "status_index": 1, "json": {"proof": {}}}
        });
        let read = HostedRecord::deserialize(&earlier).unwrap();
        assert_eq!(read.jws.as_deref(), Some("h.p.s"));
        assert!(!read.is_served_at_its_url());
        assert_eq!(
            read.ob3.unwrap().credential,
            Ob3Credential::Json(json!({"proof": {}}))
        );
    }

    #[test]
    fn refuses_data_that_is_not_a_record() {
        assert!(HostedRecord::deserialize(&json!({"jws": 5})).is_err());
        assert!(HostedRecord::deserialize(&json!({"ob3": {"id": "x"}})).is_err());
        assert!(HostedRecord::deserialize(&json!("a string")).is_err());
    }
}
