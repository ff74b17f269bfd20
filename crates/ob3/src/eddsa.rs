//! Embedded Data Integrity proofs with the `eddsa-rdfc-2022` cryptosuite (W3C Data Integrity
//! EdDSA Cryptosuites v1.0 §3.2), what the 1EdTech certification accepts as an embedded proof.
//!
//! The proof options (type `DataIntegrityProof`, the cryptosuite, `created`, the verification
//! method, `proofPurpose` `assertionMethod`, and the document's `@context`) and the document
//! without its proof are each canonicalized (RDFC-1.0) and hashed with SHA-256; the Ed25519
//! signature of the two hashes, options first, is the `proofValue`, multibase base58btc (`z`).
//! The key is published as a Multikey: `z6Mk…`, the multicodec prefix `0xed01` and the 32-byte
//! public key in base58btc.

use badgery_model::jws::{Algorithm, PublicKey, SigningKey};
use serde_json::{Map, Value, json};
use sha2::Digest as _;

use crate::canon::canonical_nquads;
use crate::error::Error;

/// The multicodec prefix of an Ed25519 public key.
const ED25519_PUB: [u8; 2] = [0xed, 0x01];

/// `key` as a Multikey `publicKeyMultibase` (`z6Mk…`).
///
/// # Errors
/// [`Error::Misuse`] when it is not an Ed25519 key.
pub fn public_multibase(key: &PublicKey) -> Result<String, Error> {
    let public = key.ed25519().ok_or_else(|| {
        Error::Misuse(format!(
            "an eddsa-rdfc-2022 key is Ed25519, not {}",
            key.algorithm().name()
        ))
    })?;
    Ok(format!(
        "z{}",
        bs58::encode([&ED25519_PUB[..], &public].concat()).into_string()
    ))
}

/// The Ed25519 public key of a Multikey `publicKeyMultibase`.
///
/// # Errors
/// [`Error::Unreadable`] when it is not `z`, base58btc, the Ed25519 prefix and 32 bytes.
pub fn public_key_from_multibase(multibase: &str) -> Result<PublicKey, Error> {
    let bad = |message: &str| Error::Unreadable {
        what: "the publicKeyMultibase",
        message: message.to_owned(),
    };
    let encoded = multibase
        .strip_prefix('z')
        .ok_or_else(|| bad("it does not start with z (base58btc)"))?;
    let bytes = bs58::decode(encoded)
        .into_vec()
        .map_err(|_| bad("not base58btc"))?;
    bytes
        .strip_prefix(&ED25519_PUB[..])
        .and_then(|key| <[u8; 32]>::try_from(key).ok())
        .map(|key| PublicKey::from_ed25519(&key))
        .ok_or_else(|| bad("not an Ed25519 Multikey (0xed01 and 32 bytes)"))
}

/// The bytes an `eddsa-rdfc-2022` signature covers: SHA-256 of the canonical proof options
/// (with the document's `@context`), then SHA-256 of the canonical document without proof.
fn hash_data(document: &Value, options: &Map<String, Value>) -> Result<Vec<u8>, Error> {
    let mut unsecured = document.clone();
    if let Some(members) = unsecured.as_object_mut() {
        members.remove("proof");
    }
    let mut config = options.clone();
    config.remove("proofValue");
    if let Some(context) = document.get("@context") {
        config.insert("@context".into(), context.clone());
    }
    let config_hash = sha2::Sha256::digest(canonical_nquads(&Value::Object(config))?.as_bytes());
    let document_hash = sha2::Sha256::digest(canonical_nquads(&unsecured)?.as_bytes());
    Ok([config_hash.as_slice(), document_hash.as_slice()].concat())
}

/// `document` with an `eddsa-rdfc-2022` proof by `key` (Ed25519), named
/// `verification_method`, made at `created` (an `xsd:dateTime`), as the single item of its
/// `proof` list.
///
/// # Errors
/// [`Error::Misuse`] when the key is not Ed25519; [`Error::Shape`] when the document is not an
/// object; [`Error::Unreadable`] when it is not JSON-LD this crate can canonicalize.
pub fn sign(
    document: &Value,
    key: &SigningKey,
    verification_method: &str,
    created: &str,
) -> Result<Value, Error> {
    if key.algorithm() != Algorithm::EdDsa {
        return Err(Error::Misuse(format!(
            "an eddsa-rdfc-2022 key is Ed25519, not {}",
            key.algorithm().name()
        )));
    }
    let Value::Object(_) = document else {
        return Err(Error::Shape {
            path: ".".into(),
            message: "a credential is a JSON object".into(),
        });
    };
    let mut options = Map::new();
    options.insert("type".into(), "DataIntegrityProof".into());
    options.insert("cryptosuite".into(), "eddsa-rdfc-2022".into());
    options.insert("created".into(), created.into());
    options.insert("verificationMethod".into(), verification_method.into());
    options.insert("proofPurpose".into(), "assertionMethod".into());
    let signature = key
        .sign_message(&hash_data(document, &options)?)
        .map_err(|e| Error::Misuse(e.to_string()))?;
    options.insert(
        "proofValue".into(),
        format!("z{}", bs58::encode(signature).into_string()).into(),
    );
    let mut signed = document.clone();
    signed["proof"] = json!([Value::Object(options)]);
    Ok(signed)
}

/// The `eddsa-rdfc-2022` proofs of `document` (its `proof`, one object or a list).
pub fn proofs(document: &Value) -> Vec<&Map<String, Value>> {
    let all: Vec<&Value> = match document.get("proof") {
        Some(Value::Array(list)) => list.iter().collect(),
        Some(one) => vec![one],
        None => Vec::new(),
    };
    all.into_iter()
        .filter_map(Value::as_object)
        .filter(|p| {
            p.get("type").and_then(Value::as_str) == Some("DataIntegrityProof")
                && p.get("cryptosuite").and_then(Value::as_str) == Some("eddsa-rdfc-2022")
        })
        .collect()
}

/// Checks `proof` (one of `document`'s) with the Ed25519 `public_key`.
///
/// # Errors
/// [`Error::Unreadable`] when the proof value is not base58btc or the document cannot be
/// canonicalized; [`Error::Misuse`] when the signature does not verify.
pub fn verify(
    document: &Value,
    proof: &Map<String, Value>,
    public_key: &PublicKey,
) -> Result<(), Error> {
    let value = proof
        .get("proofValue")
        .and_then(Value::as_str)
        .and_then(|v| v.strip_prefix('z'))
        .ok_or_else(|| Error::Unreadable {
            what: "the proof",
            message: "no proofValue in base58btc (z…)".into(),
        })?;
    let signature = bs58::decode(value)
        .into_vec()
        .map_err(|_| Error::Unreadable {
            what: "the proof",
            message: "the proofValue is not base58btc".into(),
        })?;
    let data = hash_data(document, proof)?;
    if public_key.algorithm() != Algorithm::EdDsa {
        return Err(Error::Misuse(
            "an eddsa-rdfc-2022 proof verifies with an Ed25519 key".into(),
        ));
    }
    public_key
        .verify_message(&data, &signature)
        .map_err(|_| Error::Misuse("the eddsa-rdfc-2022 signature does not verify".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn credential() -> Value {
        json!({
            "@context": [crate::credential::VC_CONTEXT, crate::credential::OB_CONTEXT],
            "id": "urn:uuid:1",
            "type": ["VerifiableCredential", "OpenBadgeCredential"],
            "issuer": {"id": "did:web:x", "type": ["Profile"], "name": "X"},
            "validFrom": "2026-01-01T00:00:00Z",
            "credentialSubject": {
                "type": ["AchievementSubject"],
                "achievement": {
                    "id": "https://x/a", "type": ["Achievement"], "name": "A",
                    "description": "d", "criteria": {"narrative": "n"},
                },
            },
        })
    }

    #[test]
    fn a_signed_credential_verifies_and_a_changed_one_does_not() {
        let key = SigningKey::generate(Algorithm::EdDsa).unwrap();
        let multibase = public_multibase(&key.public_key()).unwrap();
        assert!(multibase.starts_with("z6Mk"));
        let public = public_key_from_multibase(&multibase).unwrap();
        assert_eq!(public, key.public_key());
        let signed = sign(
            &credential(),
            &key,
            "did:web:x#key-2",
            "2026-01-01T00:00:00Z",
        )
        .unwrap();
        let proof = proofs(&signed)[0].clone();
        verify(&signed, &proof, &public).unwrap();
        let mut changed = signed.clone();
        changed["credentialSubject"]["achievement"]["name"] = json!("B");
        assert!(verify(&changed, &proof, &public).is_err());
        // Changing only the JSON's form (member order, a list of one as one) changes nothing
        // in RDF: the proof still holds.
        let mut reshaped = signed.clone();
        reshaped["type"] = json!(["OpenBadgeCredential", "VerifiableCredential"]);
        reshaped["issuer"]["type"] = json!("Profile");
        verify(&reshaped, &proof, &public).unwrap();
        let other = SigningKey::generate(Algorithm::EdDsa).unwrap();
        assert!(verify(&signed, &proof, &other.public_key()).is_err());
        let es256 = SigningKey::generate(Algorithm::Es256).unwrap();
        assert!(
            sign(
                &credential(),
                &es256,
                "did:web:x#key-1",
                "2026-01-01T00:00:00Z"
            )
            .is_err()
        );
        assert!(public_multibase(&es256.public_key()).is_err());
    }

    #[test]
    fn multibase_keys_are_checked() {
        for bad in [
            "",
            "6Mk",
            "z0OIl",
            "z6LSbysY2xFMRpGMhb7tFTLMpeuPRaqaWM1yECx2AtzE3KCc",
        ] {
            assert!(public_key_from_multibase(bad).is_err(), "{bad}");
        }
    }
}
