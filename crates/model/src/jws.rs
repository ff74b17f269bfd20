//! Signed badges: an Assertion as a JSON Web Signature in compact serialization (RFC 7515),
//! the form Open Badges 2.0's `SignedBadge` verification takes, and the keys that sign and
//! verify it.
//!
//! RS256 (RSASSA-PKCS1-v1_5 with SHA-256) is what the official validator verifies, and what
//! an issuer should sign with. ES256 (ECDSA P-256 with SHA-256) and EdDSA (Ed25519, RFC 8037)
//! are read and written too, but the reference tools do not accept them. Nothing else is
//! accepted: not `none`, not HMAC (a
//! shared secret proves nothing to a third party), not RSA keys under 2048 bits.
//!
//! ```
//! use badgery_model::jws::{Algorithm, CompactJws, SigningKey};
//! let key = SigningKey::generate(Algorithm::Es256)?;
//! let token = key.sign(&serde_json::json!({"type": "Assertion"}))?;
//! let jws = CompactJws::parse(&token)?;
//! jws.verify(&key.public_key())?;
//! assert_eq!(jws.payload()["type"], "Assertion");
//! # Ok::<(), badgery_model::Error>(())
//! ```

use aws_lc_rs::encoding::{AsDer, PublicKeyX509Der};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    self, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, RsaKeyPair, UnparsedPublicKey,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::error::Error;

/// The signature algorithms accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Algorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256, RSA keys of 2048 to 8192 bits: what the official
    /// validator verifies.
    Rs256,
    /// ECDSA over P-256 with SHA-256 (a 64-byte `r || s` signature): beyond what the
    /// reference tools accept.
    Es256,
    /// EdDSA over Ed25519 (RFC 8037, a 64-byte signature): beyond what the reference tools
    /// and the 1EdTech certification accept; an opt-in for verifiers that take it.
    EdDsa,
}

impl Algorithm {
    /// The JWS `alg` name.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Rs256 => "RS256",
            Algorithm::Es256 => "ES256",
            Algorithm::EdDsa => "EdDSA",
        }
    }

    /// What verifies its signatures.
    fn verification(self) -> &'static dyn signature::VerificationAlgorithm {
        match self {
            Algorithm::Rs256 => &signature::RSA_PKCS1_2048_8192_SHA256,
            Algorithm::Es256 => &signature::ECDSA_P256_SHA256_FIXED,
            Algorithm::EdDsa => &signature::ED25519,
        }
    }

    fn from_name(name: &str) -> Result<Self, Error> {
        match name {
            "RS256" => Ok(Algorithm::Rs256),
            "ES256" => Ok(Algorithm::Es256),
            "EdDSA" => Ok(Algorithm::EdDsa),
            other => Err(jws_error(
                "header",
                format!(
                    "alg {other:?} is not accepted: only RS256, ES256 and EdDSA are (an \
                     unsigned or HMAC-signed badge proves nothing about its issuer)"
                ),
            )),
        }
    }
}

/// The longest compact JWS read, in bytes: far more than any assertion needs.
pub const MAX_JWS_LEN: usize = 1 << 20;

fn jws_error(part: &'static str, message: impl Into<String>) -> Error {
    Error::Jws {
        part,
        message: message.into(),
    }
}

fn key_error(message: impl Into<String>) -> Error {
    Error::Key {
        message: message.into(),
    }
}

/// A compact JWS, parsed but not yet verified: [`CompactJws::verify`] checks the signature.
#[derive(Debug, Clone, PartialEq)]
pub struct CompactJws {
    header: Value,
    algorithm: Algorithm,
    payload: Value,
    /// `BASE64URL(header) . BASE64URL(payload)`, the bytes signed.
    signing_input: String,
    signature: Vec<u8>,
}

impl CompactJws {
    /// Parses `header.payload.signature` (surrounding whitespace ignored): three base64url
    /// parts without padding, a JSON object header naming an accepted `alg`, and a JSON
    /// payload.
    ///
    /// # Errors
    /// [`Error::Jws`] naming the part that is wrong: longer than [`MAX_JWS_LEN`], not three
    /// parts, not base64url, not JSON, or an `alg` that is not accepted.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let text = text.trim();
        if text.len() > MAX_JWS_LEN {
            return Err(jws_error(
                "token",
                format!("{} bytes, over the limit of {MAX_JWS_LEN}", text.len()),
            ));
        }
        let mut parts = text.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(jws_error(
                "token",
                format!(
                    "{} parts separated by '.'; a compact JWS has 3",
                    text.split('.').count()
                ),
            ));
        };
        let decode = |part: &'static str, text: &str| {
            URL_SAFE_NO_PAD
                .decode(text)
                .map_err(|e| jws_error(part, format!("not base64url without padding: {e}")))
        };
        let header_json: Value = serde_json::from_slice(&decode("header", header)?)
            .map_err(|e| jws_error("header", format!("not JSON: {e}")))?;
        let algorithm = match header_json.get("alg") {
            Some(Value::String(alg)) => Algorithm::from_name(alg)?,
            _ => return Err(jws_error("header", "no alg string")),
        };
        if header_json.get("crit").is_some() {
            // RFC 7515 §4.1.11: extensions a reader does not understand must be refused.
            return Err(jws_error(
                "header",
                "crit names extensions this reader does not know",
            ));
        }
        let payload_json = serde_json::from_slice(&decode("payload", payload)?)
            .map_err(|e| jws_error("payload", format!("not JSON: {e}")))?;
        Ok(CompactJws {
            header: header_json,
            algorithm,
            payload: payload_json,
            signing_input: format!("{header}.{payload}"),
            signature: decode("signature", signature)?,
        })
    }

    /// The protected header.
    pub fn header(&self) -> &Value {
        &self.header
    }

    /// The header's algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The payload (for a badge, the Assertion), not to be trusted before
    /// [`CompactJws::verify`] succeeds.
    pub fn payload(&self) -> &Value {
        &self.payload
    }

    /// Checks the signature with `key`.
    ///
    /// # Errors
    /// [`Error::Signature`] when the key is not of the header's algorithm or the signature
    /// does not verify.
    pub fn verify(&self, key: &PublicKey) -> Result<(), Error> {
        if key.algorithm != self.algorithm {
            return Err(Error::Signature {
                message: format!(
                    "the token is signed {} but the key is an {} key",
                    self.algorithm.name(),
                    key.algorithm.name()
                ),
            });
        }
        UnparsedPublicKey::new(self.algorithm.verification(), key.raw())
            .verify(self.signing_input.as_bytes(), &self.signature)
            .map_err(|_| Error::Signature {
                message: format!(
                    "the {} signature does not verify with the key",
                    self.algorithm.name()
                ),
            })
    }
}

/// A public key that verifies signatures, read from and written as PEM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    algorithm: Algorithm,
    /// The PEM label the key was read with (`PUBLIC KEY` or `RSA PUBLIC KEY`).
    label: &'static str,
    /// X.509 SubjectPublicKeyInfo, or PKCS#1 RSAPublicKey, DER: the verifier reads both.
    der: Vec<u8>,
}

/// The SubjectPublicKeyInfo of an Ed25519 key up to the key's 32 bytes: the algorithm
/// id-Ed25519 (1.3.101.112, RFC 8410) and the BIT STRING's header.
const ED25519_SPKI_PREFIX: &[u8] = &[
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// DER of the rsaEncryption object identifier (1.2.840.113549.1.1.1).
const RSA_ENCRYPTION: &[u8] = &[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01,
];
/// DER of id-ecPublicKey (1.2.840.10045.2.1) followed by prime256v1 (1.2.840.10045.3.1.7).
const EC_P256: &[u8] = &[
    0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d,
    0x03, 0x01, 0x07,
];

impl PublicKey {
    /// Reads a PEM public key: `PUBLIC KEY` (X.509 SubjectPublicKeyInfo, RSA or P-256) or
    /// `RSA PUBLIC KEY` (PKCS#1), as Open Badges' `publicKeyPem` holds it.
    ///
    /// # Errors
    /// [`Error::Key`] when the text is not such a PEM key.
    pub fn from_pem(pem: &str) -> Result<Self, Error> {
        let (label, der) = pem_rfc7468::decode_vec(pem.trim().as_bytes())
            .map_err(|e| key_error(format!("not a PEM document: {e}")))?;
        let key = match label {
            "PUBLIC KEY" => {
                // The algorithm identifier comes first in the SubjectPublicKeyInfo: look for
                // it there, then let the verifier parse the whole key.
                let head = &der[..der.len().min(32)];
                let has = |oid: &[u8]| head.windows(oid.len()).any(|w| w == oid);
                let algorithm = if has(RSA_ENCRYPTION) {
                    Algorithm::Rs256
                } else if has(EC_P256) {
                    Algorithm::Es256
                } else if der.starts_with(ED25519_SPKI_PREFIX) && der.len() == 44 {
                    Algorithm::EdDsa
                } else {
                    return Err(key_error(
                        "neither an RSA, a P-256 nor an Ed25519 public key",
                    ));
                };
                PublicKey {
                    algorithm,
                    label: "PUBLIC KEY",
                    der,
                }
            }
            "RSA PUBLIC KEY" => PublicKey {
                algorithm: Algorithm::Rs256,
                label: "RSA PUBLIC KEY",
                der,
            },
            other => {
                return Err(key_error(format!(
                    "a PEM {other:?}; a public key is \"PUBLIC KEY\" or \"RSA PUBLIC KEY\""
                )));
            }
        };
        // Parse it now, so that a broken key is reported as such and not as a bad signature.
        signature::ParsedPublicKey::new(key.algorithm.verification(), key.raw())
            .map_err(|e| key_error(format!("the key cannot be read: {e}")))?;
        if key.algorithm == Algorithm::Rs256 {
            let (n, _) = rsa_components(&key.der, key.label)
                .ok_or_else(|| key_error("the RSA key's modulus cannot be read"))?;
            if !(256..=1024).contains(&n.len()) {
                return Err(key_error(format!(
                    "an RSA key of {} bits; 2048 to 8192 are accepted",
                    n.len() * 8
                )));
            }
        }
        Ok(key)
    }

    /// The algorithm this key verifies.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// An Ed25519 public key from its 32 bytes (as a Multikey or an OKP JWK holds it).
    pub fn from_ed25519(key: &[u8; 32]) -> Self {
        PublicKey {
            algorithm: Algorithm::EdDsa,
            label: "PUBLIC KEY",
            der: [ED25519_SPKI_PREFIX, key].concat(),
        }
    }

    /// The 32 bytes of an Ed25519 key; `None` for other keys.
    pub fn ed25519(&self) -> Option<[u8; 32]> {
        match self.algorithm {
            Algorithm::EdDsa => self
                .der
                .strip_prefix(ED25519_SPKI_PREFIX)
                .and_then(|key| key.try_into().ok()),
            _ => None,
        }
    }

    /// The bytes the verifier reads: the DER, except for Ed25519, whose verifier takes the
    /// key's 32 bytes.
    fn raw(&self) -> &[u8] {
        match self.algorithm {
            Algorithm::EdDsa => &self.der[ED25519_SPKI_PREFIX.len().min(self.der.len())..],
            _ => &self.der,
        }
    }

    /// Checks `signature` over `message` (a detached signature, as a Data Integrity proof
    /// holds it).
    ///
    /// # Errors
    /// [`Error::Signature`] when it does not verify.
    pub fn verify_message(&self, message: &[u8], signature: &[u8]) -> Result<(), Error> {
        UnparsedPublicKey::new(self.algorithm.verification(), self.raw())
            .verify(message, signature)
            .map_err(|_| Error::Signature {
                message: format!(
                    "the {} signature does not verify with the key",
                    self.algorithm.name()
                ),
            })
    }

    /// The key as a PEM `PUBLIC KEY` (for `publicKeyPem`). A PKCS#1 key read from an
    /// `RSA PUBLIC KEY` stays in that form.
    pub fn to_pem(&self) -> String {
        pem(self.label, &self.der)
    }
}

impl PublicKey {
    /// The key as a public JWK (RFC 7517, 7518 and 8037): `{"kty": "RSA", "n", "e"}`,
    /// `{"kty": "EC", "crv": "P-256", "x", "y"}` or `{"kty": "OKP", "crv": "Ed25519", "x"}`,
    /// with its `alg`, for a JWKS or a DID document's `publicKeyJwk`.
    pub fn to_jwk(&self) -> Value {
        let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
        match self.algorithm {
            Algorithm::Rs256 => {
                let (n, e) = rsa_components(&self.der, self.label).unwrap_or_default();
                json!({"kty": "RSA", "alg": "RS256", "n": b64(n), "e": b64(e)})
            }
            Algorithm::Es256 => {
                // An uncompressed point ends the SubjectPublicKeyInfo: 0x04, x, y.
                let point = &self.der[self.der.len().saturating_sub(64)..];
                let (x, y) = point.split_at(32);
                json!({"kty": "EC", "crv": "P-256", "alg": "ES256", "x": b64(x), "y": b64(y)})
            }
            Algorithm::EdDsa => {
                json!({"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "x": b64(self.raw())})
            }
        }
    }

    /// Reads a public JWK: RSA (2048 to 8192 bits), EC P-256 or OKP Ed25519.
    ///
    /// # Errors
    /// [`Error::Key`] naming the member that is missing or wrong, or when the JWK holds a
    /// private key (`d`: a public document must never carry it).
    pub fn from_jwk(jwk: &Value) -> Result<Self, Error> {
        if jwk.get("d").is_some() {
            return Err(key_error("the JWK holds a private key (\"d\")"));
        }
        let member = |name: &str| -> Result<Vec<u8>, Error> {
            let text = jwk
                .get(name)
                .and_then(Value::as_str)
                .ok_or_else(|| key_error(format!("the JWK has no {name:?} string")))?;
            URL_SAFE_NO_PAD
                .decode(text)
                .map_err(|e| key_error(format!("the JWK's {name:?} is not base64url: {e}")))
        };
        let der = match jwk.get("kty").and_then(Value::as_str) {
            Some("RSA") => {
                let rsa = der_tlv(
                    0x30,
                    &[der_integer(&member("n")?), der_integer(&member("e")?)].concat(),
                );
                let algorithm = der_tlv(0x30, &[RSA_ENCRYPTION, &[0x05, 0x00]].concat());
                der_tlv(
                    0x30,
                    &[algorithm, der_tlv(0x03, &[&[0][..], &rsa].concat())].concat(),
                )
            }
            Some("EC") => {
                if jwk.get("crv").and_then(Value::as_str) != Some("P-256") {
                    return Err(key_error("an EC JWK whose crv is not \"P-256\""));
                }
                let (x, y) = (member("x")?, member("y")?);
                if x.len() != 32 || y.len() != 32 {
                    return Err(key_error("a P-256 JWK's x and y are 32 bytes each"));
                }
                let algorithm = der_tlv(0x30, EC_P256);
                let point = [&[0, 4][..], &x, &y].concat();
                der_tlv(0x30, &[algorithm, der_tlv(0x03, &point)].concat())
            }
            Some("OKP") => {
                if jwk.get("crv").and_then(Value::as_str) != Some("Ed25519") {
                    return Err(key_error("an OKP JWK whose crv is not \"Ed25519\""));
                }
                let x: [u8; 32] = member("x")?
                    .try_into()
                    .map_err(|_| key_error("an Ed25519 JWK's x is 32 bytes"))?;
                return Ok(PublicKey::from_ed25519(&x));
            }
            _ => {
                return Err(key_error(
                    "the JWK's kty is neither \"RSA\", \"EC\" nor \"OKP\"",
                ));
            }
        };
        PublicKey::from_pem(&pem("PUBLIC KEY", &der))
    }
}

/// A DER element: `tag`, its length (short or long form) and `content`.
fn der_tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let len = content.len();
    let mut out = vec![tag];
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

/// A DER INTEGER of the unsigned big-endian `value` (a zero byte first when its top bit is
/// set, so that it is not read as negative).
fn der_integer(value: &[u8]) -> Vec<u8> {
    let value = &value[value.iter().take_while(|b| **b == 0).count()..];
    let mut content = Vec::with_capacity(value.len() + 1);
    if value.first().is_none_or(|b| b & 0x80 != 0) {
        content.push(0);
    }
    content.extend_from_slice(value);
    der_tlv(0x02, &content)
}

/// Reads one DER element of `tag` from the start of `input`: its content and what follows.
fn der_read(tag: u8, input: &[u8]) -> Option<(&[u8], &[u8])> {
    let (&first, rest) = input.split_first()?;
    let (&len, rest) = rest.split_first()?;
    if first != tag {
        return None;
    }
    let (len, rest) = if len < 0x80 {
        (usize::from(len), rest)
    } else {
        let count = usize::from(len & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let (bytes, rest) = rest.split_at(count);
        (
            bytes.iter().fold(0, |n, b| (n << 8) | usize::from(*b)),
            rest,
        )
    };
    (rest.len() >= len).then(|| rest.split_at(len))
}

/// The modulus and exponent (big-endian, without sign bytes) of an RSA public key held as
/// SubjectPublicKeyInfo (`PUBLIC KEY`) or PKCS#1 (`RSA PUBLIC KEY`) DER.
fn rsa_components<'a>(der: &'a [u8], label: &str) -> Option<(&'a [u8], &'a [u8])> {
    let pkcs1 = if label == "RSA PUBLIC KEY" {
        der
    } else {
        let (spki, _) = der_read(0x30, der)?;
        let (_, rest) = der_read(0x30, spki)?;
        let (bits, _) = der_read(0x03, rest)?;
        bits.strip_prefix(&[0])?
    };
    let (sequence, _) = der_read(0x30, pkcs1)?;
    let (n, rest) = der_read(0x02, sequence)?;
    let (e, _) = der_read(0x02, rest)?;
    let unsigned = |v: &'a [u8]| &v[v.iter().take_while(|b| **b == 0).count()..];
    Some((unsigned(n), unsigned(e)))
}

fn pem(label: &str, der: &[u8]) -> String {
    // Encoding to a string cannot fail for a valid label and any bytes.
    pem_rfc7468::encode_string(label, pem_rfc7468::LineEnding::LF, der).unwrap_or_default()
}

/// A private key that signs badges: RSA (RS256), P-256 (ES256) or Ed25519 (EdDSA).
pub struct SigningKey {
    algorithm: Algorithm,
    pair: Pair,
    /// The key as given or generated (PKCS#8 v1 DER), to write back.
    pkcs8: Vec<u8>,
}

enum Pair {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey({}, ..)", self.algorithm.name())
    }
}

impl SigningKey {
    /// A new key from the system's random number generator: RSA of 2048 bits for RS256,
    /// P-256 for ES256, Ed25519 for EdDSA.
    ///
    /// # Errors
    /// [`Error::Key`] when no key can be generated.
    pub fn generate(algorithm: Algorithm) -> Result<Self, Error> {
        let pkcs8 = match algorithm {
            Algorithm::Rs256 => {
                let pair = RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
                    .map_err(|e| key_error(format!("generating an RSA key: {e}")))?;
                AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&pair)
                    .map_err(|e| key_error(format!("encoding the RSA key: {e}")))?
                    .as_ref()
                    .to_vec()
            }
            Algorithm::Es256 => EcdsaKeyPair::generate_pkcs8(
                &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                &SystemRandom::new(),
            )
            .map_err(|e| key_error(format!("generating a P-256 key: {e}")))?
            .as_ref()
            .to_vec(),
            Algorithm::EdDsa => Ed25519KeyPair::generate()
                .and_then(|pair| pair.to_pkcs8())
                .map_err(|e| key_error(format!("generating an Ed25519 key: {e}")))?
                .as_ref()
                .to_vec(),
        };
        Self::from_pkcs8_der(pkcs8)
    }

    /// Reads a PEM `PRIVATE KEY` (unencrypted PKCS#8), RSA (2048 to 8192 bits), P-256 or
    /// Ed25519.
    ///
    /// # Errors
    /// [`Error::Key`] when the text is not such a key.
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, Error> {
        let (label, der) = pem_rfc7468::decode_vec(pem.trim().as_bytes())
            .map_err(|e| key_error(format!("not a PEM document: {e}")))?;
        if label != "PRIVATE KEY" {
            return Err(key_error(format!(
                "a PEM {label:?}; a signing key is an unencrypted PKCS#8 \"PRIVATE KEY\""
            )));
        }
        Self::from_pkcs8_der(der)
    }

    fn from_pkcs8_der(pkcs8: Vec<u8>) -> Result<Self, Error> {
        let (algorithm, pair) = match RsaKeyPair::from_pkcs8(&pkcs8) {
            Ok(pair) => (Algorithm::Rs256, Pair::Rsa(pair)),
            Err(rsa) => {
                match EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &pkcs8)
                {
                    Ok(pair) => (Algorithm::Es256, Pair::Ec(pair)),
                    // PKCS#8 v2 (with the public key) or v1, as OpenSSL writes it.
                    Err(ec) => match Ed25519KeyPair::from_pkcs8(&pkcs8)
                        .or_else(|_| Ed25519KeyPair::from_pkcs8_maybe_unchecked(&pkcs8))
                    {
                        Ok(pair) => (Algorithm::EdDsa, Pair::Ed(pair)),
                        Err(ed) => {
                            return Err(key_error(format!(
                                "neither an RSA key ({rsa}), a P-256 key ({ec}) nor an \
                                 Ed25519 key ({ed})"
                            )));
                        }
                    },
                }
            }
        };
        if let Pair::Rsa(pair) = &pair {
            if pair.public_modulus_len() < 256 {
                return Err(key_error(format!(
                    "an RSA key of {} bits; at least 2048 are needed",
                    pair.public_modulus_len() * 8
                )));
            }
        }
        Ok(SigningKey {
            algorithm,
            pair,
            pkcs8,
        })
    }

    /// The key as a PEM `PRIVATE KEY` (PKCS#8), to keep with the platform's secrets.
    pub fn to_pkcs8_pem(&self) -> String {
        pem("PRIVATE KEY", &self.pkcs8)
    }

    /// The algorithm this key signs with.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The public half, to publish.
    pub fn public_key(&self) -> PublicKey {
        let spki = match &self.pair {
            Pair::Rsa(pair) => AsDer::<PublicKeyX509Der>::as_der(pair.public_key()),
            Pair::Ec(pair) => AsDer::<PublicKeyX509Der>::as_der(pair.public_key()),
            Pair::Ed(pair) => AsDer::<PublicKeyX509Der>::as_der(pair.public_key()),
        };
        PublicKey {
            algorithm: self.algorithm,
            label: "PUBLIC KEY",
            // Encoding a key this library holds does not fail.
            der: spki.map(|d| d.as_ref().to_vec()).unwrap_or_default(),
        }
    }

    /// Signs `payload` (serialised compactly) as a compact JWS with header `{"alg": …}`.
    ///
    /// # Errors
    /// [`Error::Key`] when the signature cannot be made (the system has no randomness).
    pub fn sign(&self, payload: &Value) -> Result<String, Error> {
        self.sign_with_header(&serde_json::Map::new(), payload)
    }

    /// Signs `payload` as a compact JWS whose header is `{"alg": …}` followed by `header`'s
    /// members (`kid`, `typ`, …); an `alg` in `header` is ignored: the key's is written.
    ///
    /// # Errors
    /// [`Error::Key`] when the signature cannot be made (the system has no randomness).
    pub fn sign_with_header(
        &self,
        header: &serde_json::Map<String, Value>,
        payload: &Value,
    ) -> Result<String, Error> {
        let mut members = serde_json::Map::new();
        members.insert("alg".into(), Value::from(self.algorithm.name()));
        for (name, value) in header {
            if name != "alg" {
                members.insert(name.clone(), value.clone());
            }
        }
        let header = Value::Object(members);
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(payload.to_string())
        );
        let signature = self.sign_message(signing_input.as_bytes())?;
        Ok(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature)
        ))
    }

    /// The signature of `message` under the key's algorithm: a detached signature, as a
    /// Data Integrity proof holds it.
    ///
    /// # Errors
    /// [`Error::Key`] when the signature cannot be made (the system has no randomness).
    pub fn sign_message(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        let rng = SystemRandom::new();
        Ok(match &self.pair {
            Pair::Rsa(pair) => {
                let mut signature = vec![0; pair.public_modulus_len()];
                pair.sign(&signature::RSA_PKCS1_SHA256, &rng, message, &mut signature)
                    .map_err(|e| key_error(format!("signing: {e}")))?;
                signature
            }
            Pair::Ec(pair) => pair
                .sign(&rng, message)
                .map_err(|e| key_error(format!("signing: {e}")))?
                .as_ref()
                .to_vec(),
            Pair::Ed(pair) => pair.sign(message).as_ref().to_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tampered(token: &str, part: usize, with: &str) -> String {
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        parts[part] = with.to_owned();
        parts.join(".")
    }

    #[test]
    fn both_algorithms_sign_and_verify_and_keys_round_trip_through_pem() {
        for algorithm in [Algorithm::Rs256, Algorithm::Es256, Algorithm::EdDsa] {
            let key = SigningKey::generate(algorithm).unwrap();
            let again = SigningKey::from_pkcs8_pem(&key.to_pkcs8_pem()).unwrap();
            assert_eq!(again.public_key(), key.public_key());
            let public = PublicKey::from_pem(&key.public_key().to_pem()).unwrap();
            assert_eq!(public.algorithm(), algorithm);
            let token = again.sign(&json!({"id": "urn:uuid:1"})).unwrap();
            let jws = CompactJws::parse(&token).unwrap();
            assert_eq!(jws.algorithm(), algorithm);
            jws.verify(&public).unwrap();
        }
    }

    #[test]
    fn keys_round_trip_through_jwk_and_verify_tokens_with_a_header() {
        for algorithm in [Algorithm::Rs256, Algorithm::Es256, Algorithm::EdDsa] {
            let key = SigningKey::generate(algorithm).unwrap();
            let jwk = key.public_key().to_jwk();
            assert_eq!(jwk["alg"], algorithm.name());
            let public = PublicKey::from_jwk(&jwk).unwrap();
            assert_eq!(public.to_jwk(), jwk);
            assert_eq!(public.to_pem(), key.public_key().to_pem());
            let mut header = serde_json::Map::new();
            header.insert("kid".into(), json!("did:web:lms.example.org#key-1"));
            header.insert("alg".into(), json!("none"));
            let token = key.sign_with_header(&header, &json!({"n": 1})).unwrap();
            let jws = CompactJws::parse(&token).unwrap();
            assert_eq!(jws.header()["alg"], algorithm.name());
            assert_eq!(jws.header()["kid"], "did:web:lms.example.org#key-1");
            jws.verify(&public).unwrap();
        }
        // A PKCS#1 RSA key (as `RSA PUBLIC KEY`) gives the same JWK as its SPKI form.
        let rsa = SigningKey::generate(Algorithm::Rs256).unwrap().public_key();
        let (n, e) = rsa_components(&rsa.der, rsa.label).unwrap();
        let pkcs1 = der_tlv(0x30, &[der_integer(n), der_integer(e)].concat());
        let pkcs1 = PublicKey::from_pem(&pem("RSA PUBLIC KEY", &pkcs1)).unwrap();
        assert_eq!(pkcs1.to_jwk(), rsa.to_jwk());
        let mut private = rsa.to_jwk();
        private["d"] = json!("AQAB");
        assert!(PublicKey::from_jwk(&private).is_err());
        for broken in [
            json!({"kty": "oct", "k": "AQAB"}),
            json!({"kty": "EC", "crv": "P-384", "x": "AA", "y": "AA"}),
            json!({"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}),
            json!({"kty": "RSA", "n": "!!", "e": "AQAB"}),
            json!({"kty": "RSA", "n": "AQAB", "e": "AQAB"}),
        ] {
            assert!(PublicKey::from_jwk(&broken).is_err(), "{broken}");
        }
    }

    #[test]
    fn a_changed_payload_another_key_and_a_changed_algorithm_do_not_verify() {
        let key = SigningKey::generate(Algorithm::Es256).unwrap();
        let other = SigningKey::generate(Algorithm::Es256).unwrap();
        let rsa = SigningKey::generate(Algorithm::Rs256).unwrap();
        let token = key.sign(&json!({"n": 1})).unwrap();
        let changed = tampered(&token, 1, &URL_SAFE_NO_PAD.encode(r#"{"n":2}"#));
        let verify = |token: &str, key: &SigningKey| {
            CompactJws::parse(token)
                .and_then(|jws| jws.verify(&key.public_key()))
                .map_err(|e| e.to_string())
        };
        assert!(verify(&token, &key).is_ok());
        assert!(
            verify(&changed, &key)
                .unwrap_err()
                .contains("does not verify")
        );
        assert!(
            verify(&token, &other)
                .unwrap_err()
                .contains("does not verify")
        );
        assert!(
            verify(&token, &rsa)
                .unwrap_err()
                .contains("but the key is an RS256")
        );
    }

    #[test]
    fn the_rfc_8037_ed25519_example_verifies() {
        // RFC 8037 Appendix A.1 (the public key) and A.4 (the JWS over a text payload).
        let key = PublicKey::from_jwk(&json!({"kty": "OKP", "crv": "Ed25519",
            "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}))
        .unwrap();
        let input = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
        let signature = URL_SAFE_NO_PAD
            .decode(
                "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg",
            )
            .unwrap();
        key.verify_message(input.as_bytes(), &signature).unwrap();
        assert!(key.verify_message(b"another message", &signature).is_err());
        let pem = key.to_pem();
        assert_eq!(PublicKey::from_pem(&pem).unwrap().ed25519(), key.ed25519());
        assert_eq!(
            key.to_jwk()["x"],
            "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
        );
    }

    #[test]
    fn an_openssl_ed25519_key_signs_what_its_public_key_verifies() {
        // `openssl genpkey -algorithm ed25519` (PKCS#8 v1) and `openssl pkey -pubout`.
        let key = SigningKey::from_pkcs8_pem("-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIBd+413SAKFHmAZhjVGgIeHd7qpcZML0UMicuKH/xMt3\n-----END PRIVATE KEY-----").unwrap();
        let public = PublicKey::from_pem("-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAd+7yh/FAfs5j0eYIBkOhjbSao/CnuSfuYftp4Vu/5j8=\n-----END PUBLIC KEY-----").unwrap();
        assert_eq!(key.algorithm(), Algorithm::EdDsa);
        assert_eq!(key.public_key().ed25519(), public.ed25519());
        let token = key.sign(&json!({"type": "Assertion"})).unwrap();
        CompactJws::parse(&token).unwrap().verify(&public).unwrap();
    }

    #[test]
    fn unsigned_and_hmac_tokens_are_refused_by_name() {
        let payload = URL_SAFE_NO_PAD.encode(r#"{"type":"Assertion"}"#);
        for alg in ["none", "HS256", "RS512", "PS256"] {
            let header = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"{alg}"}}"#));
            let e = CompactJws::parse(&format!("{header}.{payload}.")).unwrap_err();
            assert!(
                e.to_string()
                    .contains(&format!("alg {alg:?} is not accepted")),
                "{e}"
            );
        }
    }

    #[test]
    fn malformed_tokens_name_the_part_that_is_wrong() {
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256"}"#);
        let payload = URL_SAFE_NO_PAD.encode("{}");
        for (token, part) in [
            ("a.b".to_owned(), "token"),
            ("a.b.c.d".to_owned(), "token"),
            (format!("!!.{payload}.c2ln"), "header"),
            (
                format!("{}.{payload}.c2ln", URL_SAFE_NO_PAD.encode("[1")),
                "header",
            ),
            (
                format!("{header}.{}.c2ln", URL_SAFE_NO_PAD.encode("nope")),
                "payload",
            ),
            (format!("{header}.{payload}.c2ln="), "signature"),
            (
                format!(
                    "{}.{payload}.c2ln",
                    URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","crit":["b64"]}"#)
                ),
                "header",
            ),
            (
                format!("{header}.{payload}.{}", "a".repeat(MAX_JWS_LEN)),
                "token",
            ),
        ] {
            match CompactJws::parse(&token) {
                Err(Error::Jws { part: found, .. }) => assert_eq!(found, part, "{token:.60}"),
                other => panic!("{token:.60}: {other:?}"),
            }
        }
    }

    #[test]
    fn keys_that_are_not_signing_keys_are_refused() {
        let ec = SigningKey::generate(Algorithm::Es256).unwrap();
        assert!(SigningKey::from_pkcs8_pem(&ec.public_key().to_pem()).is_err());
        assert!(PublicKey::from_pem(&ec.to_pkcs8_pem()).is_err());
        assert!(PublicKey::from_pem("not pem").is_err());
        let garbage = pem("PUBLIC KEY", &[0x30, 0x03, 0x02, 0x01, 0x00]);
        assert!(PublicKey::from_pem(&garbage).is_err());
    }
}
