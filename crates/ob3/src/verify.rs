//! Verifying an Open Badges 3.0 credential given as JSON, as a VC-JWT, or baked in a PNG or
//! SVG image, in the order the 1EdTech certification validator checks: extract, parse, the
//! JWT's header, signature and claims, contexts, types, shape (the 1EdTech JSON schema, and
//! every member a term of the contexts), dates, proof, status.
//!
//! Nothing is fetched: the documents a verifier needs (DID documents, status lists, JWKS) are
//! given in [`Documents`], as a host's cache or a test's fixtures would hold them.

use std::collections::HashMap;

use badgery_bake::{Limits, Payload, Version};
use badgery_model::jws::{Algorithm, PublicKey};
use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::credential::{OB_CONTEXT, VC_CONTEXT};
use crate::did::{controller_document_url, did_web_document_url};
use crate::jwt::{Jwt, issuer_id};
use crate::schema::Shape;
use crate::status::{StatusList, StatusPurpose};

/// The largest input a verifier reads, in bytes (a credential, or the image it is baked in).
pub const MAX_INPUT: usize = 4 << 20;

/// A document a verifier may need, by URL.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Document {
    /// JSON: a DID document, a JWKS, a status list credential with an embedded proof.
    Json(Value),
    /// A VC-JWT: a status list credential.
    Jwt(String),
}

/// The documents a verifier may look up, by URL: what the host has fetched or serves.
#[derive(Debug, Clone, Default)]
pub struct Documents {
    by_url: HashMap<String, Document>,
    jwks: Vec<Value>,
}

impl Documents {
    /// No documents.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the document served at `url`.
    pub fn insert(&mut self, url: impl Into<String>, document: Document) -> &mut Self {
        self.by_url.insert(url.into(), document);
        self
    }

    /// Trusts the keys of `jwks` (a JWKS or one JWK) for VC-JWTs, picked by `kid` when one
    /// matches, as the oracle's `--jwks` does.
    pub fn trust_jwks(&mut self, jwks: &Value) -> &mut Self {
        match jwks.get("keys").and_then(Value::as_array) {
            Some(keys) => self.jwks.extend(keys.iter().cloned()),
            None => self.jwks.push(jwks.clone()),
        }
        self
    }

    fn get(&self, url: &str) -> Option<&Document> {
        self.by_url.get(url)
    }

    fn json(&self, url: &str) -> Option<&Value> {
        match self.get(url)? {
            Document::Json(value) => Some(value),
            Document::Jwt(_) => None,
        }
    }

    /// Whether the document of the method `id` (a `did:web` DID's, or an https method's
    /// controller document) lists it under `assertionMethod` (by id, or as an embedded
    /// method).
    fn asserts(&self, id: &str) -> bool {
        let Some(document) = controller_document_url(id).and_then(|url| self.json(url.as_str()))
        else {
            return false;
        };
        let fragment = id.split_once('#').map(|(_, f)| format!("#{f}"));
        document
            .get("assertionMethod")
            .and_then(Value::as_array)
            .is_some_and(|list| {
                list.iter().any(|m| {
                    let named = m.as_str().or_else(|| m.get("id").and_then(Value::as_str));
                    named == Some(id) || named.is_some() && named == fragment.as_deref()
                })
            })
    }

    /// The verification method `id` names: a `did:key` (read from the DID itself), in the
    /// DID document of a `did:web` DID, or in the document at an https URL (its fragment
    /// looked up among its methods).
    fn method(&self, id: &str) -> Result<Value, String> {
        let (base, _) = id.split_once('#').unwrap_or((id, ""));
        if let Some(multibase) = base.strip_prefix("did:key:") {
            return Ok(serde_json::json!({
                "id": id,
                "type": "Multikey",
                "controller": base,
                "publicKeyMultibase": multibase,
            }));
        }
        let document = if base.starts_with("did:web:") {
            let url = did_web_document_url(id).map_err(|e| e.to_string())?;
            let document = self
                .json(url.as_str())
                .ok_or_else(|| format!("no DID document for {base} ({url})"))?;
            if document.get("id").and_then(Value::as_str) != Some(base) {
                return Err(format!("the DID document at {url} is not {base}'s"));
            }
            document
        } else if base.starts_with("https://") || base.starts_with("http://") {
            if let Some(direct) = self.json(id) {
                return Ok(direct.clone());
            }
            self.json(base)
                .ok_or_else(|| format!("no document for {base}"))?
        } else {
            return Err(format!("cannot dereference the key id {id:?}"));
        };
        if id == base {
            return Ok(document.clone());
        }
        let methods = ["verificationMethod", "assertionMethod"]
            .iter()
            .filter_map(|m| document.get(*m)?.as_array())
            .flatten();
        for method in methods {
            let mid = method.get("id").and_then(Value::as_str).unwrap_or_default();
            let fragment = &id[base.len()..];
            if mid == id || mid == fragment {
                return Ok(method.clone());
            }
        }
        Err(format!("{base}'s document has no verification method {id}"))
    }
}

/// The form a credential was given in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// A JSON credential or a compact JWS, as text.
    Text,
    /// Baked in a PNG.
    Png,
    /// Baked in an SVG.
    Svg,
}

/// How a credential is proved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProofFormat {
    /// A VC-JWT.
    Jwt,
    /// An embedded proof (Data Integrity).
    Embedded,
}

/// One check and its outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Check {
    /// Which check (`extract`, `parse`, `jwt-header`, `jwt-signature`, `jwt-claims`,
    /// `context`, `type`, `schema`, `dates`, `proof`, `status`).
    pub id: &'static str,
    /// Passed, failed, or not applicable (`None`).
    pub ok: Option<bool>,
    /// What was found.
    pub message: String,
}

/// What verifying a credential found.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Verdict {
    /// How it was given.
    pub format: Format,
    /// How it is proved, once read.
    pub proof: Option<ProofFormat>,
    /// The credential, once read.
    pub credential: Option<Value>,
    /// Every check, in order.
    pub checks: Vec<Check>,
}

impl Verdict {
    /// Whether the credential was read and every check passed.
    pub fn is_valid(&self) -> bool {
        self.credential.is_some() && self.checks.iter().all(|c| c.ok != Some(false))
    }

    /// The failed checks, as `id: message`.
    pub fn errors(&self) -> Vec<String> {
        self.checks
            .iter()
            .filter(|c| c.ok == Some(false))
            .map(|c| format!("{}: {}", c.id, c.message))
            .collect()
    }

    fn pass(&mut self, id: &'static str, message: impl Into<String>) {
        self.checks.push(Check {
            id,
            ok: Some(true),
            message: message.into(),
        });
    }

    fn fail(&mut self, id: &'static str, message: impl Into<String>) {
        self.checks.push(Check {
            id,
            ok: Some(false),
            message: message.into(),
        });
    }

    fn skip(&mut self, id: &'static str, message: impl Into<String>) {
        self.checks.push(Check {
            id,
            ok: None,
            message: message.into(),
        });
    }

    /// Records the problems of check `id`, or its success.
    fn outcome(&mut self, id: &'static str, problems: Vec<String>, success: impl Into<String>) {
        if problems.is_empty() {
            self.pass(id, success);
        }
        for problem in problems {
            self.fail(id, problem);
        }
    }
}

/// Verifies Open Badges 3.0 credentials against the documents it is given, at a given time.
#[derive(Debug, Clone)]
pub struct Verifier {
    documents: Documents,
    now: DateTime<Utc>,
    limits: Limits,
    strict: bool,
    issuer_key_mismatch_allowed: bool,
}

fn is_jws(text: &str) -> bool {
    let parts: Vec<&str> = text.split('.').collect();
    parts.len() == 3
        && parts[..2].iter().all(|p| !p.is_empty())
        && parts.iter().all(|p| {
            p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

impl Verifier {
    /// A verifier that looks documents up in `documents` and judges dates at `now`.
    pub fn new(documents: Documents, now: DateTime<Utc>) -> Self {
        Verifier {
            documents,
            now,
            limits: Limits::default(),
            strict: true,
            issuer_key_mismatch_allowed: false,
        }
    }

    /// Accepts a single value where the plain-JSON schema wants a list (as JSON-LD does, and
    /// the 1EdTech validator with a warning): the check is then not applied (`ok: None`). By
    /// default such a credential is refused, as the oracle's `--strict` refuses it.
    pub fn lenient(mut self) -> Self {
        self.strict = false;
        self
    }

    /// Accepts an embedded proof by a key the issuer does not control (reported, `ok: None`),
    /// as the 1EdTech validator does for `did:key` methods: for reading others' test
    /// vectors. Never for deciding whom a credential is from.
    pub fn allowing_issuer_key_mismatch(mut self) -> Self {
        self.issuer_key_mismatch_allowed = true;
        self
    }

    /// Verifies `input`: a baked PNG or SVG, or the text of a JSON credential or VC-JWT.
    pub fn verify(&self, input: &[u8]) -> Verdict {
        let format = match badgery_bake::ImageFormat::detect(input) {
            Some(badgery_bake::ImageFormat::Png) => Format::Png,
            Some(badgery_bake::ImageFormat::Svg) => Format::Svg,
            _ => Format::Text,
        };
        let mut verdict = Verdict {
            format,
            proof: None,
            credential: None,
            checks: Vec::new(),
        };
        if input.len() > MAX_INPUT {
            verdict.fail(
                "parse",
                format!(
                    "{} bytes, over the {MAX_INPUT} a verifier reads",
                    input.len()
                ),
            );
            return verdict;
        }
        let text = if format == Format::Text {
            match std::str::from_utf8(input) {
                Ok(text) => text.trim().trim_start_matches('\u{feff}').to_owned(),
                Err(e) => {
                    verdict.fail("parse", format!("the input is not UTF-8 text: {e}"));
                    return verdict;
                }
            }
        } else {
            match badgery_bake::unbake_all(input, &self.limits) {
                Err(e) => {
                    verdict.fail("extract", e.to_string());
                    return verdict;
                }
                Ok(all) => {
                    let credentials: Vec<Payload> = all
                        .into_iter()
                        .filter(|p| p.version() == Version::Ob3)
                        .collect();
                    match credentials.as_slice() {
                        [] => {
                            verdict
                                .fail("extract", "the image holds no Open Badges 3.0 credential");
                            return verdict;
                        }
                        [one] => {
                            verdict.pass("extract", "one Open Badges 3.0 credential");
                            one.as_str().trim().to_owned()
                        }
                        [first, ..] => {
                            verdict.fail(
                                "extract",
                                format!(
                                    "{} Open Badges 3.0 credentials; an image must hold one",
                                    credentials.len()
                                ),
                            );
                            first.as_str().trim().to_owned()
                        }
                    }
                }
            }
        };
        let credential = if is_jws(&text) {
            verdict.proof = Some(ProofFormat::Jwt);
            match Jwt::parse(&text) {
                Err(e) => {
                    verdict.fail("parse", e.to_string());
                    return verdict;
                }
                Ok(jwt) => {
                    verdict.pass("parse", "a compact JWS");
                    self.check_jwt(&jwt, true, &mut verdict);
                    jwt.credential().clone()
                }
            }
        } else {
            match serde_json::from_str::<Value>(&text) {
                Ok(value @ Value::Object(_)) => {
                    verdict.proof = Some(ProofFormat::Embedded);
                    verdict.pass("parse", "a JSON credential");
                    value
                }
                Ok(_) => {
                    verdict.fail("parse", "the JSON is not an object");
                    return verdict;
                }
                Err(e) => {
                    verdict.fail("parse", format!("neither a compact JWS nor JSON: {e}"));
                    return verdict;
                }
            }
        };
        self.check_contexts_and_types(&credential, &mut verdict);
        check_shape(&credential, self.strict, &mut verdict);
        self.check_dates(&credential, &mut verdict);
        if verdict.proof == Some(ProofFormat::Embedded) {
            match self.embedded_proof(&credential, self.issuer_key_mismatch_allowed) {
                Ok((message, None)) => verdict.pass("proof", message),
                Ok((message, Some(mismatch))) => {
                    verdict.pass("proof", message);
                    verdict.skip("issuer-key", mismatch);
                }
                Err(e) => verdict.fail("proof", e),
            }
        }
        self.check_status(&credential, &mut verdict);
        verdict.credential = Some(credential);
        verdict
    }

    /// The keys that may have signed `jwt`: the trusted JWKS (by `kid` when one matches),
    /// else the header's `jwk`, else the key its `kid` names.
    fn jwt_keys(&self, jwt: &Jwt) -> Result<Vec<Value>, String> {
        let trusted = &self.documents.jwks;
        if !trusted.is_empty() {
            let by_kid: Vec<Value> = trusted
                .iter()
                .filter(|k| {
                    jwt.kid().is_some() && k.get("kid").and_then(Value::as_str) == jwt.kid()
                })
                .cloned()
                .collect();
            return Ok(if by_kid.is_empty() {
                trusted.clone()
            } else {
                by_kid
            });
        }
        if let Some(jwk) = jwt.jwk() {
            return Ok(vec![jwk.clone()]);
        }
        let kid = jwt.kid().ok_or("the header has neither kid nor jwk")?;
        let method = self.documents.method(kid)?;
        if let Some(keys) = method.get("keys").and_then(Value::as_array) {
            return Ok(keys.clone());
        }
        if let Some(multibase) = method.get("publicKeyMultibase").and_then(Value::as_str) {
            // A Multikey (a did:key's): its Ed25519 key as the JWK an EdDSA token names.
            let key =
                crate::eddsa::public_key_from_multibase(multibase).map_err(|e| e.to_string())?;
            return Ok(vec![key.to_jwk()]);
        }
        method
            .get("publicKeyJwk")
            .cloned()
            .map(|k| vec![k])
            .ok_or_else(|| format!("the verification method {kid} has no publicKeyJwk"))
    }

    /// The JWT's header, signature and claims; `check_subject` as for
    /// [`Jwt::claim_problems`].
    fn check_jwt(&self, jwt: &Jwt, check_subject: bool, verdict: &mut Verdict) {
        let header = jwt.header();
        let mut problems = Vec::new();
        if header.get("typ").is_some_and(|t| t != "JWT") {
            problems.push(format!(
                "typ is {}; if present it must be \"JWT\"",
                header["typ"]
            ));
        }
        let alg = header["alg"].as_str().unwrap_or_default();
        if alg == Algorithm::EdDsa.name() {
            let message = "alg EdDSA: OB 3.0 allows it (RS256 is the minimum) but the 1EdTech \
                           validator accepts only RS256 and ES256";
            if self.strict {
                problems.push(message.to_owned());
            } else {
                verdict.skip(
                    "jwt-header",
                    format!("warning: {message} (accepted as lenient)"),
                );
            }
        }
        if jwt.kid().is_none() && jwt.jwk().is_none() {
            problems.push("the header has neither kid nor jwk".to_owned());
        }
        if jwt.jwk().is_some_and(|k| k.get("d").is_some()) {
            problems.push("the header's jwk holds a private key".to_owned());
        }
        verdict.outcome("jwt-header", problems, format!("alg {alg}"));
        match self.jwt_keys(jwt) {
            Err(e) => verdict.fail("jwt-signature", e),
            Ok(keys) => {
                let mut last = "no key".to_owned();
                let verified = keys.iter().any(|jwk| {
                    match PublicKey::from_jwk(jwk)
                        .map_err(|e| e.to_string())
                        .and_then(|key| jwt.verify(&key).map_err(|e| e.to_string()))
                    {
                        Ok(()) => true,
                        Err(e) => {
                            last = e;
                            false
                        }
                    }
                });
                if verified {
                    verdict.pass("jwt-signature", "verified");
                } else {
                    verdict.fail("jwt-signature", last);
                }
            }
        }
        let mut problems = jwt.claim_problems(check_subject);
        if let (Some(kid), Some(issuer)) = (jwt.kid(), issuer_id(jwt.credential())) {
            // A DID key's controller is its DID; an https key says its controller.
            let controller = if kid.starts_with("did:") {
                Some(kid.split('#').next().unwrap_or_default().to_owned())
            } else {
                self.documents.method(kid).ok().and_then(|m| {
                    m.get("controller")
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                })
            };
            let trusted = !self.documents.jwks.is_empty();
            if controller.as_deref() != Some(issuer) && (kid.starts_with("did:") || !trusted) {
                problems.push(format!(
                    "the key {kid} is not controlled by the issuer {issuer}"
                ));
            }
        }
        verdict.outcome("jwt-claims", problems, "iss, jti, sub, nbf and exp match");
    }

    /// Checks the `eddsa-rdfc-2022` proof of `document`: purpose `assertionMethod`, a
    /// verification method the issuer controls (and lists under `assertionMethod` in its DID
    /// document), and the signature. Says what verified it, and (when `allow_mismatch`) that
    /// the issuer is not the key's controller.
    fn embedded_proof(
        &self,
        document: &Value,
        allow_mismatch: bool,
    ) -> Result<(String, Option<String>), String> {
        let proofs = crate::eddsa::proofs(document);
        let [proof] = proofs.as_slice() else {
            return Err(format!(
                "{} DataIntegrityProof eddsa-rdfc-2022 proofs; one is needed",
                proofs.len()
            ));
        };
        if proof.get("proofPurpose").and_then(Value::as_str) != Some("assertionMethod") {
            return Err("the proofPurpose is not assertionMethod".to_owned());
        }
        let method_id = proof
            .get("verificationMethod")
            .and_then(Value::as_str)
            .ok_or("the proof has no verificationMethod")?;
        let method = self.documents.method(method_id)?;
        let controller = method.get("controller").and_then(Value::as_str);
        let issuer = issuer_id(document);
        let mut mismatch = None;
        if controller.is_none() || controller != issuer {
            let message = format!(
                "the issuer {issuer:?} is not the controller {controller:?} of {method_id}"
            );
            if !allow_mismatch {
                return Err(message);
            }
            mismatch = Some(message);
        }
        if controller_document_url(method_id).is_some() && !self.documents.asserts(method_id) {
            return Err(format!(
                "{method_id} is not an assertionMethod of its controller's document"
            ));
        }
        let multibase = method
            .get("publicKeyMultibase")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("{method_id} has no publicKeyMultibase"))?;
        let key = crate::eddsa::public_key_from_multibase(multibase).map_err(|e| e.to_string())?;
        crate::eddsa::verify(document, proof, &key).map_err(|e| e.to_string())?;
        Ok((format!("eddsa-rdfc-2022 by {method_id}"), mismatch))
    }

    fn check_contexts_and_types(&self, credential: &Value, verdict: &mut Verdict) {
        let contexts: Vec<&Value> = match credential.get("@context") {
            Some(Value::Array(list)) => list.iter().collect(),
            Some(one) => vec![one],
            None => Vec::new(),
        };
        let mut problems = Vec::new();
        if contexts.first().and_then(|c| c.as_str()) != Some(VC_CONTEXT) {
            problems.push(format!("the first @context must be {VC_CONTEXT}"));
        }
        match contexts.get(1).and_then(|c| c.as_str()) {
            Some(OB_CONTEXT) => {}
            Some(other) if is_ob_context(other) => {}
            other => problems.push(format!(
                "the second @context must be an Open Badges 3.0 context, not {other:?}"
            )),
        }
        for context in contexts.iter().skip(2) {
            match context.as_str() {
                Some(url) if crate::terms::is_bundled(url) => {}
                _ => problems.push(format!(
                    "the context {context} is not one this verifier holds"
                )),
            }
        }
        verdict.outcome("context", problems, "VC 2.0 and Open Badges 3.0");

        let types = |value: Option<&Value>| -> Vec<String> {
            match value.and_then(|v| v.get("type")) {
                Some(Value::String(one)) => vec![one.clone()],
                Some(Value::Array(list)) => list
                    .iter()
                    .filter_map(|t| t.as_str().map(str::to_owned))
                    .collect(),
                _ => Vec::new(),
            }
        };
        let mut problems = Vec::new();
        let top = types(Some(credential));
        if !top.iter().any(|t| t == "VerifiableCredential") {
            problems.push("type lacks VerifiableCredential".to_owned());
        }
        if !top
            .iter()
            .any(|t| t == "OpenBadgeCredential" || t == "AchievementCredential")
        {
            problems.push("type lacks OpenBadgeCredential (or AchievementCredential)".to_owned());
        }
        let issuer = credential.get("issuer");
        if issuer.is_some_and(Value::is_object) && !types(issuer).iter().any(|t| t == "Profile") {
            problems.push("issuer.type lacks Profile".to_owned());
        }
        let subject = credential.get("credentialSubject");
        if !types(subject).iter().any(|t| t == "AchievementSubject") {
            problems.push("credentialSubject.type lacks AchievementSubject".to_owned());
        }
        let achievement = subject.and_then(|s| s.get("achievement"));
        if !types(achievement).iter().any(|t| t == "Achievement") {
            problems.push("credentialSubject.achievement.type lacks Achievement".to_owned());
        }
        verdict.outcome("type", problems, top.join(", "));
    }

    fn check_dates(&self, credential: &Value, verdict: &mut Verdict) {
        let date = |member: &str| -> Result<Option<DateTime<Utc>>, String> {
            match credential.get(member) {
                None => Ok(None),
                Some(Value::String(text)) => DateTime::parse_from_rfc3339(text)
                    .map(|d| Some(d.with_timezone(&Utc)))
                    .map_err(|e| format!("{member} {text:?} is not a date-time: {e}")),
                Some(other) => Err(format!("{member} is {other}, not a date-time")),
            }
        };
        let mut problems = Vec::new();
        match date("validFrom") {
            Ok(Some(from)) if from > self.now => {
                problems.push(format!("not valid yet: validFrom is {from}"));
            }
            Ok(Some(_)) => {}
            Ok(None) => problems.push("no validFrom".to_owned()),
            Err(e) => problems.push(e),
        }
        match date("validUntil") {
            Ok(Some(until)) if until < self.now => {
                problems.push(format!("expired: validUntil is {until}"));
            }
            Ok(_) => {}
            Err(e) => problems.push(e),
        }
        verdict.outcome("dates", problems, format!("valid at {}", self.now));
    }

    fn check_status(&self, credential: &Value, verdict: &mut Verdict) {
        let Some(entry) = credential.get("credentialStatus") else {
            verdict.skip("status", "no credentialStatus");
            return;
        };
        match self.status_of(credential, entry) {
            Ok(None) => verdict.pass("status", "not revoked or suspended"),
            Ok(Some(why)) => verdict.fail("status", why),
            Err(e) => verdict.fail("status", e),
        }
    }

    /// Why the status entry says the credential is not in force (`None`: it is), or why
    /// that cannot be told.
    fn status_of(&self, credential: &Value, entry: &Value) -> Result<Option<String>, String> {
        let member = |name: &str| {
            entry
                .get(name)
                .and_then(Value::as_str)
                .ok_or_else(|| format!("the status entry has no {name} string"))
        };
        if member("type")? != "BitstringStatusListEntry" {
            return Err(format!("status type {} is not checked", member("type")?));
        }
        let purpose = member("statusPurpose")?;
        StatusPurpose::parse(purpose)
            .ok_or_else(|| format!("unknown statusPurpose {purpose:?}"))?;
        let index: usize = member("statusListIndex")?
            .parse()
            .map_err(|_| "statusListIndex is not a decimal number".to_owned())?;
        let url = member("statusListCredential")?;
        let list = match self.documents.get(url) {
            None => return Err(format!("the status list {url} is not available")),
            Some(Document::Jwt(token)) => {
                let jwt = Jwt::parse(token).map_err(|e| format!("the status list {url}: {e}"))?;
                let mut sub = Verdict {
                    format: Format::Text,
                    proof: Some(ProofFormat::Jwt),
                    credential: None,
                    checks: Vec::new(),
                };
                self.check_jwt(&jwt, false, &mut sub);
                if !sub.errors().is_empty() {
                    return Err(format!(
                        "the status list {url}: {}",
                        sub.errors().join("; ")
                    ));
                }
                jwt.credential().clone()
            }
            Some(Document::Json(list)) => {
                self.embedded_proof(list, false)
                    .map_err(|e| format!("the status list {url}: {e}"))?;
                list.clone()
            }
        };
        let types = list.get("type").map(Value::to_string).unwrap_or_default();
        if !types.contains("\"BitstringStatusListCredential\"") {
            return Err(format!("{url} is not a BitstringStatusListCredential"));
        }
        if issuer_id(&list) != issuer_id(credential) {
            return Err(format!(
                "the status list {url} is not the credential issuer's"
            ));
        }
        let subject = &list["credentialSubject"];
        if subject.get("type").and_then(Value::as_str) != Some("BitstringStatusList") {
            return Err(format!("{url}'s subject is not a BitstringStatusList"));
        }
        if subject.get("statusPurpose").and_then(Value::as_str) != Some(purpose) {
            return Err(format!("{url} is not a {purpose} list"));
        }
        let encoded = subject
            .get("encodedList")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("{url} has no encodedList"))?;
        let bits = StatusList::decode(encoded).map_err(|e| e.to_string())?;
        match bits.get(index) {
            None => Err(format!("index {index} is outside the list {url}")),
            Some(true) => Ok(Some(format!("{purpose} bit {index} is set in {url}"))),
            Some(false) => Ok(None),
        }
    }
}

/// Whether `url` is an Open Badges 3.0 context (3.0.0 to 3.0.3).
fn is_ob_context(url: &str) -> bool {
    [
        "https://purl.imsglobal.org/spec/ob/v3p0/context.json",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json",
        OB_CONTEXT,
    ]
    .contains(&url)
}

/// The shape against the 1EdTech JSON schema (single values where it wants arrays fail when
/// `strict`, else warn), then every member a term of the contexts.
fn check_shape(credential: &Value, strict: bool, verdict: &mut Verdict) {
    match crate::schema::check(credential) {
        Shape::Valid => verdict.pass("schema", "valid against the 1EdTech schema"),
        Shape::ValidWrapped(paths) => {
            let message = format!(
                "single values where the plain-JSON schema wants arrays: {}",
                paths.join(", ")
            );
            if strict {
                verdict.fail("schema", message);
            } else {
                verdict.pass(
                    "schema",
                    "valid against the 1EdTech schema once lists are arrays",
                );
                verdict.skip(
                    "schema",
                    format!("warning: {message} (accepted as lenient)"),
                );
            }
        }
        Shape::Invalid(problems) => verdict.outcome("schema", problems, ""),
    }
    let undefined = crate::terms::undefined(credential);
    let problems = undefined
        .iter()
        .map(|at| format!("{at} is not a term of the credential's contexts"))
        .collect();
    verdict.outcome("terms", problems, "every member is a term of its contexts");
}
