//! VC-JWT: a credential signed as a compact JWS (OB 3.0 §8.2, "JSON Web Token Proof Format").
//!
//! The JWT's payload is the credential JSON itself with the registered claims added: `iss` =
//! `issuer.id`, `jti` = `id`, `sub` = `credentialSubject.id`, `nbf` = `validFrom` and `exp` =
//! `validUntil` (NumericDates, whole seconds). The header names the algorithm (RS256 or ES256,
//! the two the 1EdTech validator accepts, or EdDSA, which OB 3.0 allows and it refuses), `typ`
//! `JWT`, and the key as `kid` (a DID URL whose document holds it). A verifier checks the signature and that every claim equals the member
//! it mirrors; any mismatch makes the credential invalid.

use badgery_model::jws::{CompactJws, PublicKey, SigningKey};
use chrono::DateTime;
use serde_json::{Map, Value};

use crate::error::Error;

/// The registered claims a VC-JWT adds to the credential, removed again when it is read.
pub const CLAIMS: [&str; 6] = ["iss", "jti", "sub", "nbf", "exp", "iat"];

/// The `id` of a credential's issuer: `issuer` itself when it is a string, else `issuer.id`.
pub fn issuer_id(credential: &Value) -> Option<&str> {
    let issuer = credential.get("issuer")?;
    issuer.as_str().or_else(|| issuer.get("id")?.as_str())
}

/// The ids of a credential's subjects (`credentialSubject` may be one object or a list).
fn subject_ids(credential: &Value) -> Vec<&str> {
    match credential.get("credentialSubject") {
        Some(Value::Array(list)) => list.iter().filter_map(|s| s.get("id")?.as_str()).collect(),
        Some(one) => one.get("id").and_then(Value::as_str).into_iter().collect(),
        None => Vec::new(),
    }
}

/// A date-time member as a NumericDate (seconds since 1970).
fn numeric_date(credential: &Value, member: &str) -> Result<Option<i64>, String> {
    match credential.get(member) {
        None => Ok(None),
        Some(Value::String(text)) => DateTime::parse_from_rfc3339(text)
            .map(|d| Some(d.timestamp()))
            .map_err(|e| format!("{member} {text:?} is not a date-time with a time zone: {e}")),
        Some(other) => Err(format!("{member} is {other}, not a date-time string")),
    }
}

/// Signs `credential` (an OpenBadgeCredential or a status list credential, as JSON) as a
/// VC-JWT with `key`, naming the key `kid` in the header.
///
/// # Errors
/// [`Error::Shape`] when the credential is not an object or lacks `id`, an issuer id or a
/// readable `validFrom`; [`Error::Jws`] when signing fails.
pub fn sign(credential: &Value, key: &SigningKey, kid: &str) -> Result<String, Error> {
    let shape = |path: &str, message: &str| Error::Shape {
        path: path.to_owned(),
        message: message.to_owned(),
    };
    let Value::Object(members) = credential else {
        return Err(shape(".", "a credential is a JSON object"));
    };
    let mut payload = members.clone();
    let issuer = issuer_id(credential).ok_or_else(|| shape("issuer", "no issuer id"))?;
    let id = credential
        .get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| shape("id", "no credential id"))?;
    payload.insert("iss".into(), issuer.into());
    payload.insert("jti".into(), id.into());
    if let Some(subject) = subject_ids(credential).first() {
        payload.insert("sub".into(), (*subject).into());
    }
    let not_before = numeric_date(credential, "validFrom")
        .map_err(|e| shape("validFrom", &e))?
        .ok_or_else(|| shape("validFrom", "no validFrom"))?;
    payload.insert("nbf".into(), not_before.into());
    if let Some(expires) =
        numeric_date(credential, "validUntil").map_err(|e| shape("validUntil", &e))?
    {
        payload.insert("exp".into(), expires.into());
    }
    let mut header = Map::new();
    header.insert("kid".into(), kid.into());
    header.insert("typ".into(), "JWT".into());
    key.sign_with_header(&header, &Value::Object(payload))
        .map_err(|e| Error::jws("signing the VC-JWT", e))
}

/// A VC-JWT read but not yet verified.
#[derive(Debug, Clone)]
pub struct Jwt {
    jws: CompactJws,
    credential: Value,
}

impl Jwt {
    /// Reads a compact JWS: the credential is the payload without the registered claims (or
    /// the `vc` claim of a VCDM 1.1 token).
    ///
    /// # Errors
    /// [`Error::Jws`] when the text is not a compact JWS with an accepted algorithm;
    /// [`Error::Shape`] when its payload is not an object.
    pub fn parse(token: &str) -> Result<Self, Error> {
        let jws = CompactJws::parse(token).map_err(|e| Error::jws("reading the VC-JWT", e))?;
        let payload = jws.payload();
        let credential = match payload.get("vc") {
            Some(vc @ Value::Object(_)) => vc.clone(),
            _ => {
                let Value::Object(members) = payload else {
                    return Err(Error::Shape {
                        path: ".".into(),
                        message: "the VC-JWT's payload is not a JSON object".into(),
                    });
                };
                let mut credential = members.clone();
                for claim in CLAIMS {
                    credential.remove(claim);
                }
                Value::Object(credential)
            }
        };
        Ok(Jwt { jws, credential })
    }

    /// The protected header.
    pub fn header(&self) -> &Value {
        self.jws.header()
    }

    /// The header's `kid`, if any.
    pub fn kid(&self) -> Option<&str> {
        self.jws.header().get("kid").and_then(Value::as_str)
    }

    /// The header's `jwk`, if any.
    pub fn jwk(&self) -> Option<&Value> {
        self.jws.header().get("jwk")
    }

    /// The whole payload, claims included.
    pub fn payload(&self) -> &Value {
        self.jws.payload()
    }

    /// The credential the token carries.
    pub fn credential(&self) -> &Value {
        &self.credential
    }

    /// Checks the signature with `key`.
    ///
    /// # Errors
    /// [`Error::Jws`] when it does not verify.
    pub fn verify(&self, key: &PublicKey) -> Result<(), Error> {
        self.jws
            .verify(key)
            .map_err(|e| Error::jws("verifying the VC-JWT", e))
    }

    /// What is wrong with the claims: each one must be present (`exp` only with a
    /// `validUntil`) and equal the member it mirrors. `sub` is checked only when
    /// `check_subject` (a status list credential's subject is the list, not a person).
    pub fn claim_problems(&self, check_subject: bool) -> Vec<String> {
        let payload = self.payload();
        let credential = &self.credential;
        let mut problems = Vec::new();
        let claim = |name: &str| payload.get(name);
        let mut same =
            |name: &str, expected: Option<&str>, member: &str| match (claim(name), expected) {
                (None, _) => problems.push(format!("the {name} claim is missing")),
                (Some(found), Some(expected)) if found.as_str() == Some(expected) => {}
                (Some(found), _) => problems.push(format!(
                    "the {name} claim {found} is not the credential's {member} {expected:?}"
                )),
            };
        same("iss", issuer_id(credential), "issuer id");
        same("jti", credential.get("id").and_then(Value::as_str), "id");
        if check_subject {
            let subjects = subject_ids(credential);
            match claim("sub").and_then(Value::as_str) {
                None => problems.push("the sub claim is missing".into()),
                Some(sub) if subjects.contains(&sub) => {}
                Some(sub) => problems.push(format!(
                    "the sub claim {sub:?} is not a credentialSubject id ({subjects:?})"
                )),
            }
        }
        for (name, member) in [("nbf", "validFrom"), ("exp", "validUntil")] {
            let mirrored = numeric_date(credential, member);
            match (claim(name), mirrored) {
                (_, Err(e)) => problems.push(e),
                (None, Ok(None)) => {}
                (None, Ok(Some(_))) => problems.push(format!("the {name} claim is missing")),
                (Some(found), Ok(expected)) if found.as_i64() == expected && expected.is_some() => {
                }
                (Some(found), Ok(expected)) => problems.push(format!(
                    "the {name} claim {found} is not the credential's {member} ({expected:?})"
                )),
            }
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use badgery_model::jws::Algorithm;
    use serde_json::json;

    fn credential() -> Value {
        json!({
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "id": "urn:uuid:1",
            "type": ["VerifiableCredential", "OpenBadgeCredential"],
            "issuer": {"id": "did:web:lms.example.org", "type": ["Profile"]},
            "validFrom": "2026-03-10T12:00:00Z",
            "validUntil": "2027-03-10T12:00:00Z",
            "credentialSubject": {"id": "urn:uuid:2", "type": ["AchievementSubject"]},
        })
    }

    #[test]
    fn the_claims_mirror_the_credential_and_are_removed_on_reading() {
        for algorithm in [Algorithm::Rs256, Algorithm::Es256, Algorithm::EdDsa] {
            let key = SigningKey::generate(algorithm).unwrap();
            let token = sign(&credential(), &key, "did:web:lms.example.org#key-1").unwrap();
            let jwt = Jwt::parse(&token).unwrap();
            assert_eq!(jwt.header()["typ"], "JWT");
            assert_eq!(jwt.kid(), Some("did:web:lms.example.org#key-1"));
            assert_eq!(jwt.payload()["iss"], "did:web:lms.example.org");
            assert_eq!(jwt.payload()["jti"], "urn:uuid:1");
            assert_eq!(jwt.payload()["sub"], "urn:uuid:2");
            assert_eq!(jwt.payload()["nbf"], 1_773_144_000);
            assert_eq!(jwt.payload()["exp"], 1_804_680_000);
            assert_eq!(jwt.credential(), &credential());
            assert!(jwt.claim_problems(true).is_empty());
            jwt.verify(&key.public_key()).unwrap();
        }
    }

    #[test]
    fn a_claim_that_disagrees_with_its_member_is_a_problem() {
        let key = SigningKey::generate(Algorithm::Es256).unwrap();
        for (member, value, problem) in [
            ("iss", json!("https://evil.example/"), "iss claim"),
            ("jti", json!("urn:uuid:9"), "jti claim"),
            ("sub", json!("did:example:mallory"), "sub claim"),
            ("nbf", json!(1), "nbf claim"),
            ("exp", json!("soon"), "exp claim"),
        ] {
            let mut payload = Jwt::parse(&sign(&credential(), &key, "k").unwrap())
                .unwrap()
                .payload()
                .clone();
            payload[member] = value;
            let token = key.sign(&payload).unwrap();
            let problems = Jwt::parse(&token).unwrap().claim_problems(true);
            assert!(
                problems.iter().any(|p| p.contains(problem)),
                "{member}: {problems:?}"
            );
        }
        let mut unsigned = credential();
        unsigned.as_object_mut().unwrap().remove("validFrom");
        assert!(sign(&unsigned, &key, "k").is_err());
    }
}
