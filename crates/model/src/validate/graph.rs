//! Cross-document validation: following an Assertion's links and the checks that span
//! documents.

use std::collections::HashSet;

use serde_json::Value;

use super::nodes::{self, Class};
use super::{Code, Finding, Options, Report, Resolver, Severity};
use crate::identity::IdentityObject;
use crate::syntax as p;

/// Validates `input` and every document it links to, resolved through `resolver`.
///
/// For an Assertion: the badge class (also when embedded with an HTTP id, which the official
/// validator re-fetches), its issuer, the issuer's keys, endorsements, the hosted verification
/// scope, the expected recipient ([`Options::recipient`]), the timestamps against
/// [`Options::now`], revocation (a hosted `revoked: true`, or the issuer's RevocationList for a
/// signed badge) and, for signed badges, that the creator key is the issuer's. For a
/// BadgeClass: its issuer. A link that cannot be resolved is an [`Code::Unresolved`] error.
///
/// The JWS signature of a signed badge is not checked here, as this function receives the
/// assertion JSON, not the JWS: a [`Code::Signature`] warning says so. Give the JWS to
/// [`validate_signed`] to check it.
pub fn validate(input: &Value, resolver: &dyn Resolver, options: &Options) -> Report {
    walk(input, None, resolver, options)
}

/// Validates a signed badge given as a compact JWS: its payload as [`validate`] does, and the
/// signature, with the key its `verification.creator` names, which must be one of the
/// issuer's `publicKey`s, owned by the issuer (`owner`) and served from the issuer's origins
/// (its verification policy's `allowedOrigins`, by default the issuer id's host and port).
/// A token that cannot be read (`alg: none` and HMAC among them), or a signature that does
/// not verify, is a [`Code::Signature`] error.
pub fn validate_signed(token: &str, resolver: &dyn Resolver, options: &Options) -> Report {
    match crate::jws::CompactJws::parse(token) {
        Ok(jws) => walk(jws.payload(), Some(&jws), resolver, options),
        Err(e) => {
            let mut report = Report::default();
            report.push(Finding {
                severity: Severity::Error,
                document: String::new(),
                path: "$".to_owned(),
                code: Code::Signature,
                message: e.to_string(),
            });
            report.finish();
            report
        }
    }
}

fn walk(
    input: &Value,
    jws: Option<&crate::jws::CompactJws>,
    resolver: &dyn Resolver,
    options: &Options,
) -> Report {
    let mut walk = Walk {
        resolver,
        options,
        report: Report::default(),
        seen: HashSet::new(),
        jws,
    };
    let Some(class) = nodes::check_top_level(input, options, &mut walk.report) else {
        walk.report.finish();
        return walk.report;
    };
    let input_id = input
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    walk.seen.insert(input_id.clone());
    match class {
        Class::Assertion => walk.assertion(input, &input_id),
        Class::BadgeClass => {
            walk.badge_class_links(input, &input_id);
        }
        Class::Profile => walk.profile_links(input, &input_id),
        _ => {}
    }
    walk.report.finish();
    walk.report
}

struct Walk<'a> {
    resolver: &'a dyn Resolver,
    options: &'a Options,
    report: Report,
    seen: HashSet<String>,
    /// The token the input came in, for a signed badge given as a JWS.
    jws: Option<&'a crate::jws::CompactJws>,
}

impl Walk<'_> {
    fn finding(
        &mut self,
        severity: Severity,
        document: &str,
        path: &str,
        code: Code,
        message: String,
    ) {
        self.report.push(Finding {
            severity,
            document: document.to_owned(),
            path: path.to_owned(),
            code,
            message,
        });
    }

    /// Resolves the node at `value` (an IRI, or an embedded node with an HTTP id, which is
    /// re-fetched by that id) and checks it as `class`. Returns the node's JSON when it is
    /// available.
    fn linked(
        &mut self,
        value: Option<&Value>,
        class: Class,
        from: &str,
        path: &str,
    ) -> Option<Value> {
        let iri = match value? {
            Value::String(iri) => iri.clone(),
            Value::Object(map) => match map.get("id").and_then(Value::as_str) {
                Some(id) if p::is_url(id) => id.to_owned(),
                // Embedded without an HTTP id: already checked as part of its parent.
                _ => return value.cloned(),
            },
            _ => return None,
        };
        match self.resolver.resolve(&iri) {
            Ok(document) => {
                // A linked 0.5–1.1 document (the badge class and issuer a 1.0 assertion names)
                // is read as 2.0 first, like the input, with the IRI it came from as its id.
                let document = match crate::legacy::upgrade(document.clone(), Some(&iri)) {
                    Ok((upgraded, _)) => upgraded,
                    Err(_) => document,
                };
                let declared = document.get("id").and_then(Value::as_str).unwrap_or("");
                if declared.trim_end_matches('/')
                    != iri.split('#').next().unwrap_or("").trim_end_matches('/')
                {
                    self.finding(
                        Severity::Warning,
                        from,
                        path,
                        Code::IdMismatch,
                        format!("the document at {iri} declares id {declared:?}"),
                    );
                }
                if self.seen.insert(iri.clone()) {
                    nodes::check_linked(&document, class, self.options, &mut self.report);
                }
                Some(document)
            }
            Err(e) => {
                self.finding(Severity::Error, from, path, Code::Unresolved, e.to_string());
                None
            }
        }
    }

    fn assertion(&mut self, assertion: &Value, id: &str) {
        let badge = self.linked(assertion.get("badge"), Class::BadgeClass, id, "$.badge");
        let issuer = badge.as_ref().and_then(|b| {
            let badge_id = b.get("id").and_then(Value::as_str).unwrap_or("").to_owned();
            self.badge_class_links(b, &badge_id)
        });
        for (i, endorsement) in list(assertion.get("endorsement")).into_iter().enumerate() {
            let path = format!("$.endorsement[{i}]");
            if let Some(endorsement) = self.linked(Some(endorsement), Class::Endorsement, id, &path)
            {
                // The endorser is an issuer profile like any other: fetched and checked.
                let endorsement_id = endorsement
                    .get("id")
                    .and_then(Value::as_str)
                    .unwrap_or(id)
                    .to_owned();
                self.linked(
                    endorsement.get("issuer"),
                    Class::Profile,
                    &endorsement_id,
                    "$.issuer",
                );
            }
        }
        let verification = assertion
            .get("verification")
            .or_else(|| assertion.get("verify"));
        let kind = verification
            .and_then(|v| v.get("type"))
            .and_then(Value::as_str)
            .unwrap_or("");
        if matches!(kind, "HostedBadge" | "hosted") {
            self.hosted_original(assertion, id);
        }
        let signed = matches!(kind, "SignedBadge" | "signed");
        if self.jws.is_some() && !signed {
            self.finding(Severity::Error, id, "$.verification.type", Code::Signature,
                format!("the JWS holds an assertion whose verification type is {kind:?}, not SignedBadge"));
        } else if self.jws.is_none() && signed {
            self.finding(
                Severity::Warning,
                id,
                "$",
                Code::Signature,
                "the signature was not checked: the assertion JSON was given, not its JWS"
                    .to_owned(),
            );
        }
        if let Some(issuer) = &issuer {
            match kind {
                "HostedBadge" | "hosted" => self.hosted_scope(id, issuer),
                "SignedBadge" | "signed" => self.signed_checks(assertion, id, issuer),
                _ => {}
            }
        }
        if let Some(expected) = &self.options.recipient {
            let recipient = assertion
                .get("recipient")
                .cloned()
                .and_then(|r| serde_json::from_value::<IdentityObject>(r).ok());
            match recipient {
                Some(r) if r.matches(expected) => {}
                Some(r) => self.finding(Severity::Error, id, "$.recipient", Code::Recipient,
                    format!("the recipient ({} {}) does not match {expected:?}", r.type_, r.identity)),
                None => self.finding(Severity::Error, id, "$.recipient", Code::Recipient,
                    format!("the recipient cannot be compared with {expected:?}: it is missing or malformed")),
            }
        }
    }

    /// A hosted assertion is what its id serves: a copy (a baked one, say) whose hosted
    /// original is revoked, or differs from it, is not valid. An id that cannot be resolved is
    /// left to the badge class's and issuer's checks (the copy is all there is to check).
    fn hosted_original(&mut self, assertion: &Value, id: &str) {
        let Ok(original) = self.resolver.resolve(id) else {
            return;
        };
        let same_version = original.get("@context") == assertion.get("@context");
        // An original of another version (a 1.0 assertion still hosted for a 0.5-era or 2.0
        // copy, say) is read as 2.0 like the copy was, then compared by what it claims.
        let original = if same_version {
            original
        } else {
            match crate::legacy::upgrade(original.clone(), Some(id)) {
                Ok((upgraded, _)) => upgraded,
                Err(_) => original,
            }
        };
        if original.get("revoked").and_then(Value::as_bool) == Some(true) {
            let reason = original
                .get("revocationReason")
                .and_then(Value::as_str)
                .map(|r| format!(": {r}"))
                .unwrap_or_default();
            self.finding(
                Severity::Error,
                id,
                "$",
                Code::Revoked,
                format!("the assertion hosted at its id is revoked{reason}"),
            );
        } else if same_version && original != *assertion {
            self.finding(
                Severity::Error,
                id,
                "$",
                Code::IdMismatch,
                "this copy differs from the assertion hosted at its id".to_owned(),
            );
        } else if !same_version {
            // Versions differ in how they say the same thing (and in what else they carry):
            // the claims must agree, not the bytes.
            let badge_id = |v: &Value| match v.get("badge") {
                Some(Value::Object(b)) => b.get("id").cloned(),
                other => other.cloned(),
            };
            let recipient = |v: &Value| {
                v.get("recipient")
                    .map(|r| (r.get("identity").cloned(), r.get("salt").cloned()))
            };
            let issued = |v: &Value| {
                v.get("issuedOn")
                    .and_then(Value::as_str)
                    .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            };
            let differs = [
                ("recipient", recipient(&original) != recipient(assertion)),
                ("badge", badge_id(&original) != badge_id(assertion)),
                ("issuedOn", issued(&original) != issued(assertion)),
            ];
            for (field, _) in differs.iter().filter(|(_, differs)| *differs) {
                self.finding(
                    Severity::Error,
                    id,
                    &format!("$.{field}"),
                    Code::IdMismatch,
                    format!(
                        "this copy's {field} differs from that of the assertion hosted at its id \
                         (a document of another version)"
                    ),
                );
            }
        }
    }

    /// Follows a badge class's issuer; returns the issuer's JSON.
    fn badge_class_links(&mut self, badge: &Value, badge_id: &str) -> Option<Value> {
        let issuer = self.linked(badge.get("issuer"), Class::Profile, badge_id, "$.issuer")?;
        let issuer_id = issuer
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        self.profile_links(&issuer, &issuer_id);
        Some(issuer)
    }

    fn profile_links(&mut self, profile: &Value, profile_id: &str) {
        for (i, key) in list(profile.get("publicKey")).into_iter().enumerate() {
            self.linked(
                Some(key),
                Class::CryptographicKey,
                profile_id,
                &format!("$.publicKey[{i}]"),
            );
        }
    }

    /// The hosted verification rule: the assertion id must match the issuer's `startsWith`
    /// prefixes and come from an allowed origin (by default, the issuer id's host and port).
    fn hosted_scope(&mut self, assertion_id: &str, issuer: &Value) {
        let issuer_id = issuer.get("id").and_then(Value::as_str).unwrap_or("");
        let policy = self.verification_policy(issuer);
        let starts_with: Vec<&str> = list(policy.get("startsWith"))
            .into_iter()
            .filter_map(Value::as_str)
            .collect();
        if !starts_with.is_empty() && !starts_with.iter().any(|s| assertion_id.starts_with(s)) {
            self.finding(Severity::Error, assertion_id, "$.id", Code::VerificationScope,
                format!("assertion id does not start with any of {starts_with:?} (issuer's verification policy)"));
            return;
        }
        let allowed = allowed_origins(&policy, issuer_id);
        if allowed.is_empty() || !issuer_id.starts_with("http") {
            self.finding(
                Severity::Warning,
                assertion_id,
                "$.id",
                Code::VerificationScope,
                format!(
                    "issuer {issuer_id} has no HTTP origin to check hosted verification against"
                ),
            );
            return;
        }
        let origin = p::authority(assertion_id).unwrap_or_default();
        if !allowed.contains(&origin) {
            self.finding(Severity::Error, assertion_id, "$.id", Code::VerificationScope,
                format!("hosted assertion is served from {origin:?}, not from the issuer's allowed origins {allowed:?}"));
        }
    }

    /// Signed badges: the creator key must be one of the issuer's keys, and the assertion must
    /// not be in the issuer's RevocationList.
    fn signed_checks(&mut self, assertion: &Value, id: &str, issuer: &Value) {
        let verification = assertion
            .get("verification")
            .or_else(|| assertion.get("verify"));
        let creator = verification
            .and_then(|v| v.get("creator"))
            .and_then(Value::as_str);
        let keys: Vec<&str> = list(issuer.get("publicKey"))
            .into_iter()
            .filter_map(|k| k.as_str().or_else(|| k.get("id").and_then(Value::as_str)))
            .collect();
        match creator {
            Some(creator) if keys.contains(&creator) => {
                let key = self.linked(
                    Some(&Value::String(creator.to_owned())),
                    Class::CryptographicKey,
                    id,
                    "$.verification.creator",
                );
                if let Some(key) = key {
                    self.signing_key(id, creator, &key, issuer);
                }
            }
            Some(creator) => self.finding(
                Severity::Error,
                id,
                "$.verification.creator",
                Code::KeyOwnership,
                format!("signing key {creator} is not among the issuer's publicKey {keys:?}"),
            ),
            None => self.finding(
                Severity::Error,
                id,
                "$.verification.creator",
                Code::Required,
                "a signed badge must name its signing key in verification.creator".to_owned(),
            ),
        }
        let issuer_id = issuer
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        if let Some(list_value) = self.linked(
            issuer.get("revocationList"),
            Class::RevocationList,
            &issuer_id,
            "$.revocationList",
        ) {
            let revoked = list(list_value.get("revokedAssertions"))
                .into_iter()
                .find(|entry| match entry {
                    Value::String(s) => s == id,
                    other => {
                        other.get("id").and_then(Value::as_str) == Some(id)
                            || other.get("uid").and_then(Value::as_str).is_some_and(|u| {
                                Some(u) == assertion.get("uid").and_then(Value::as_str)
                            })
                    }
                });
            if let Some(entry) = revoked {
                let reason = entry
                    .get("revocationReason")
                    .and_then(Value::as_str)
                    .unwrap_or("no reason given");
                self.finding(
                    Severity::Error,
                    id,
                    "$",
                    Code::Revoked,
                    format!("the issuer's revocation list revokes this assertion: {reason}"),
                );
            }
        }
    }
    /// The signing key of a signed badge: owned by the issuer, served from the issuer's
    /// origins, and (for a JWS) verifying its signature.
    fn signing_key(&mut self, id: &str, creator: &str, key: &Value, issuer: &Value) {
        let path = "$.verification.creator";
        let issuer_id = issuer.get("id").and_then(Value::as_str).unwrap_or("");
        let owner = key.get("owner").and_then(Value::as_str);
        if owner != Some(issuer_id) {
            self.finding(
                Severity::Error,
                id,
                path,
                Code::KeyOwnership,
                format!(
                    "signing key {creator} is owned by {owner:?}, not by the issuer {issuer_id}"
                ),
            );
        }
        let allowed = allowed_origins(&self.verification_policy(issuer), issuer_id);
        let origin = p::authority(creator).unwrap_or_default();
        if !allowed.contains(&origin) {
            self.finding(Severity::Error, id, path, Code::KeyOwnership,
                format!("signing key {creator} is served from {origin:?}, not from the issuer's origins {allowed:?}"));
        }
        let Some(jws) = self.jws else { return };
        let verified = key
            .get("publicKeyPem")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("the key {creator} has no publicKeyPem"))
            .and_then(|pem| crate::jws::PublicKey::from_pem(pem).map_err(|e| e.to_string()))
            .and_then(|public| jws.verify(&public).map_err(|e| e.to_string()));
        if let Err(message) = verified {
            self.finding(
                Severity::Error,
                id,
                path,
                Code::Signature,
                format!("{message} (key {creator})"),
            );
        }
    }
    /// The issuer's verification policy: embedded, or resolved from its IRI (`Null` if none).
    fn verification_policy(&self, issuer: &Value) -> Value {
        match issuer.get("verification") {
            Some(Value::String(iri)) => self.resolver.resolve(iri).unwrap_or(Value::Null),
            Some(other) => other.clone(),
            None => Value::Null,
        }
    }
}

/// The origins (host and port) the issuer's documents may come from: its policy's
/// `allowedOrigins`, by default the issuer id's own.
fn allowed_origins(policy: &Value, issuer_id: &str) -> Vec<String> {
    match policy.get("allowedOrigins") {
        Some(origins) => list(Some(origins))
            .into_iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        None => p::authority(issuer_id).into_iter().collect(),
    }
}

/// A property's values as a list, whether written as one value or an array.
fn list(value: Option<&Value>) -> Vec<&Value> {
    match value {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.iter().collect(),
        Some(other) => vec![other],
    }
}
