//! Reading Open Badges 0.5, 1.0 and 1.1 documents into the 2.0 types.
//!
//! The upgrade follows what the official validator does (`object_upgrades.py`):
//!
//! - **1.0** (no `@context`): the class is told by shape (`recipient` → Assertion, `criteria` →
//!   BadgeClass, `url` → Issuer); a hosted assertion takes its `id` from `verify.url`, any
//!   other document from the URL it was fetched from.
//! - **1.1** (`@context` v1): the context becomes v2; `verify` becomes `verification` with type
//!   `HostedBadge` / `SignedBadge` (its `url` is dropped: in 2.0 the hosted URL is the `id`);
//!   Unix-time or zone-less `issuedOn`/`expires` become ISO 8601 in UTC; alignment `name`,
//!   `url`, `description` become `targetName`, `targetUrl`, `targetDescription`.
//! - **0.5** (`recipient` is a plain string): the recipient becomes an IdentityObject (hashed
//!   when it has no `@`, with the top-level `salt`), `issued_on` becomes `issuedOn`, and the
//!   embedded issuer's `origin`/`contact` become `url`/`email`; the embedded badge class and
//!   issuer, which have no ids, get the blank node ids `_:b0` and `_:b1`.
//!
//! Properties 2.0 no longer defines (such as `uid`) are kept verbatim.

use serde_json::{Map, Value, json};

use crate::document::Document;
use crate::error::Error;
use crate::value::{CONTEXT_V1, CONTEXT_V2};

/// The Open Badges version a document was written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Version {
    /// 0.5 (the original Mozilla Backpack format).
    V0_5,
    /// 1.0 (no JSON-LD context).
    V1_0,
    /// 1.1 (context `https://w3id.org/openbadges/v1`).
    V1_1,
    /// 2.0 (context `https://w3id.org/openbadges/v2`).
    V2_0,
}

impl Version {
    /// Detects the version from `@context` and the document's shape.
    pub fn detect(value: &Value) -> Self {
        let has_context = |url: &str| match value.get("@context") {
            Some(Value::String(s)) => s.trim_end_matches('/') == url,
            Some(Value::Array(items)) => items
                .iter()
                .any(|i| i.as_str().is_some_and(|s| s.trim_end_matches('/') == url)),
            _ => false,
        };
        if has_context(CONTEXT_V2) {
            Version::V2_0
        } else if has_context(CONTEXT_V1) {
            Version::V1_1
        } else if value.get("recipient").is_some_and(Value::is_string) {
            Version::V0_5
        } else if value.get("@context").is_some() {
            // An unknown context: treat as 2.0 and let validation report it.
            Version::V2_0
        } else {
            Version::V1_0
        }
    }

    fn name(self) -> &'static str {
        match self {
            Version::V0_5 => "0.5",
            Version::V1_0 => "1.0",
            Version::V1_1 => "1.1",
            Version::V2_0 => "2.0",
        }
    }
}

/// Reads a document of any version as 2.0.
///
/// `fetched_from` is the URL the document was retrieved from; 0.5 and 1.0 documents that carry
/// no id of their own take it as their `id`.
///
/// # Errors
/// [`Error::Legacy`] when the document cannot be upgraded (no id can be determined, a date
/// cannot be read), or the errors of [`Document::from_value`] for the upgraded document.
pub fn read_any_version(value: Value, fetched_from: Option<&str>) -> Result<Document, Error> {
    Document::from_value(upgrade(value, fetched_from)?.0)
}

/// Upgrades a JSON document of any version to 2.0 JSON; returns it with the version detected.
///
/// # Errors
/// As [`read_any_version`].
pub fn upgrade(value: Value, fetched_from: Option<&str>) -> Result<(Value, Version), Error> {
    let version = Version::detect(&value);
    let Value::Object(mut node) = value else {
        return Err(Error::Legacy {
            version: version.name(),
            message: "the document is not a JSON object".to_owned(),
        });
    };
    let fail = |message: String| Error::Legacy {
        version: version.name(),
        message,
    };
    match version {
        Version::V2_0 => return Ok((Value::Object(node), version)),
        Version::V0_5 => upgrade_0_5(&mut node, fetched_from).map_err(fail)?,
        Version::V1_0 => upgrade_1_0(&mut node, fetched_from).map_err(fail)?,
        Version::V1_1 => {}
    }
    upgrade_1_1(&mut node).map_err(fail)?;
    Ok((Value::Object(node), version))
}

fn upgrade_0_5(node: &mut Map<String, Value>, fetched_from: Option<&str>) -> Result<(), String> {
    set_id(node, fetched_from.map(str::to_owned), "Assertion")?;
    node.insert("type".into(), json!("Assertion"));
    if let Some(issued) = node.remove("issued_on") {
        node.entry("issuedOn").or_insert(issued);
    }
    if let Some(Value::String(recipient)) = node.get("recipient").cloned() {
        let mut identity = json!({
            "type": "email",
            "hashed": !recipient.contains('@'),
            "identity": recipient,
        });
        if let Some(salt) = node.remove("salt") {
            identity["salt"] = salt;
        }
        node.insert("recipient".into(), identity);
        node.insert("verify".into(), json!({"type": "hosted"}));
    }
    if let Some(Value::Object(badge)) = node.get_mut("badge") {
        badge.insert("type".into(), json!("BadgeClass"));
        // Embedded 0.5 nodes have no id; like the validator, give them blank node ids.
        badge.entry("id").or_insert_with(|| json!("_:b0"));
        if let Some(Value::Object(issuer)) = badge.get_mut("issuer") {
            issuer.insert("type".into(), json!("Profile"));
            issuer.entry("id").or_insert_with(|| json!("_:b1"));
            for (old, new) in [("contact", "email"), ("origin", "url")] {
                if !issuer.contains_key(new) {
                    if let Some(v) = issuer.remove(old) {
                        issuer.insert(new.into(), v);
                    }
                }
            }
        }
    }
    Ok(())
}

fn upgrade_1_0(node: &mut Map<String, Value>, fetched_from: Option<&str>) -> Result<(), String> {
    let class = if node.contains_key("recipient") {
        "Assertion"
    } else if node.contains_key("criteria") {
        "BadgeClass"
    } else if node.contains_key("url") {
        "Issuer"
    } else {
        return Err("cannot tell the class: no recipient, criteria or url".to_owned());
    };
    let mut id = fetched_from.map(str::to_owned);
    if class == "Assertion" {
        let verify = node.get("verify");
        let kind = verify.and_then(|v| v.get("type")).and_then(Value::as_str);
        if kind == Some("hosted") {
            id = verify
                .and_then(|v| v.get("url"))
                .and_then(Value::as_str)
                .map(str::to_owned)
                .or(id);
        } else if kind == Some("signed") {
            if let Some(uid) = node.get("uid").and_then(Value::as_str) {
                id = Some(format!("uid:{uid}"));
            }
        }
    }
    set_id(node, id, class)?;
    node.insert("type".into(), json!(class));
    Ok(())
}

fn set_id(node: &mut Map<String, Value>, id: Option<String>, class: &str) -> Result<(), String> {
    if node.get("id").is_some_and(Value::is_string) {
        return Ok(());
    }
    let id = id.ok_or_else(|| format!("cannot determine the id of this {class}"))?;
    node.insert("id".into(), Value::String(id));
    Ok(())
}

fn upgrade_1_1(node: &mut Map<String, Value>) -> Result<(), String> {
    node.insert("@context".into(), json!(CONTEXT_V2));
    if let Some(mut verify) = node.remove("verify") {
        if let Value::Object(v) = &mut verify {
            let kind = match v.get("type").and_then(Value::as_str) {
                Some("hosted") => Some("HostedBadge"),
                Some("signed") => Some("SignedBadge"),
                _ => None,
            };
            if let Some(kind) = kind {
                v.insert("type".into(), json!(kind));
            }
            v.remove("url");
        }
        node.entry("verification").or_insert(verify);
    }
    for field in ["issuedOn", "expires"] {
        if let Some(value) = node.get(field) {
            if let Some(upgraded) = upgrade_datetime(value)? {
                node.insert(field.into(), Value::String(upgraded));
            }
        }
    }
    if let Some(alignment) = node.get_mut("alignment") {
        let items: Vec<&mut Value> = match alignment {
            Value::Array(items) => items.iter_mut().collect(),
            other => vec![other],
        };
        for item in items {
            if let Value::Object(a) = item {
                for (old, new) in [
                    ("url", "targetUrl"),
                    ("name", "targetName"),
                    ("description", "targetDescription"),
                ] {
                    if !a.contains_key(new) {
                        if let Some(v) = a.remove(old) {
                            a.insert(new.into(), v);
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

/// A 1.x date (Unix seconds as number or text, ISO 8601 without zone, or `YYYY-MM-DD`) in 2.0
/// form; `None` when it already is a valid 2.0 DateTime.
fn upgrade_datetime(value: &Value) -> Result<Option<String>, String> {
    let text = match value {
        Value::String(s) if crate::syntax::parse_datetime(s).is_some() => return Ok(None),
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        other => return Err(format!("cannot interpret the date {other}")),
    };
    let utc = |naive: chrono::NaiveDateTime| naive.and_utc().format("%Y-%m-%dT%H:%M:%S+00:00");
    // "NaN", "inf" and the like parse as numbers but are no time (NaN would become 1970).
    if let Some(seconds) = text.parse::<f64>().ok().filter(|s| s.is_finite()) {
        #[allow(clippy::cast_possible_truncation)]
        let instant = chrono::DateTime::from_timestamp(seconds.trunc() as i64, 0)
            .ok_or_else(|| format!("the Unix time {text} is out of range"))?;
        return Ok(Some(utc(instant.naive_utc()).to_string()));
    }
    if let Ok(naive) = chrono::NaiveDateTime::parse_from_str(&text, "%Y-%m-%dT%H:%M:%S%.f") {
        return Ok(Some(utc(naive).to_string()));
    }
    if let Ok(date) = chrono::NaiveDate::parse_from_str(&text, "%Y-%m-%d") {
        return Ok(Some(utc(date.and_time(chrono::NaiveTime::MIN)).to_string()));
    }
    Err(format!("cannot interpret the date {text:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_date_that_is_not_a_number_is_an_error_not_1970() {
        for bad in ["NaN", "nan", "inf", "-infinity"] {
            let e = upgrade_datetime(&Value::String(bad.to_owned())).unwrap_err();
            assert!(e.contains("cannot interpret"), "{bad}: {e}");
        }
        assert_eq!(
            upgrade_datetime(&Value::String("0".to_owned()))
                .unwrap()
                .as_deref(),
            Some("1970-01-01T00:00:00+00:00")
        );
    }

    #[test]
    fn upgrades_a_1_0_hosted_assertion() {
        let v = json!({
            "uid": "123abc",
            "recipient": {"type": "email", "hashed": true, "salt": "deadsea",
                          "identity": "sha256$ecf5409f3f4b91ab60cc5ef4c02aef7032354375e70cf4d8e43f6a1d29891942"},
            "badge": "http://example.org/badge1",
            "verify": {"type": "hosted", "url": "http://example.org/assertion1"},
            "issuedOn": 1430000000
        });
        let (up, version) = upgrade(v, None).unwrap();
        assert_eq!(version, Version::V1_0);
        assert_eq!(up["id"], "http://example.org/assertion1");
        assert_eq!(up["type"], "Assertion");
        assert_eq!(up["verification"], json!({"type": "HostedBadge"}));
        assert_eq!(up["issuedOn"], "2015-04-25T22:13:20+00:00");
        assert_eq!(up["uid"], "123abc");
        let Document::Assertion(a) = Document::from_value(up).unwrap() else {
            panic!("not an assertion")
        };
        assert!(a.recipient.matches("nobody@example.org"));
    }

    #[test]
    fn upgrades_1_1_alignment_and_dates() {
        let v = json!({
            "@context": "https://w3id.org/openbadges/v1",
            "type": "BadgeClass", "id": "http://example.org/b", "name": "B",
            "description": "d", "image": "http://example.org/i.png",
            "criteria": "http://example.org/c", "issuer": "http://example.org/i",
            "alignment": [{"name": "N", "url": "http://example.org/a", "description": "D"}]
        });
        let (up, version) = upgrade(v, None).unwrap();
        assert_eq!(version, Version::V1_1);
        assert_eq!(up["@context"], CONTEXT_V2);
        assert_eq!(
            up["alignment"][0],
            json!({"targetName": "N", "targetUrl": "http://example.org/a", "targetDescription": "D"})
        );
        assert!(matches!(
            Document::from_value(up).unwrap(),
            Document::BadgeClass(_)
        ));
    }

    #[test]
    fn upgrades_0_5() {
        let v = json!({
            "recipient": "sha256$ecf5409f3f4b91ab60cc5ef4c02aef7032354375e70cf4d8e43f6a1d29891942",
            "salt": "deadsea",
            "issued_on": "2013-01-01",
            "badge": {"name": "B", "description": "d", "image": "http://example.org/i.png",
                      "criteria": "http://example.org/c", "version": "0.5.0",
                      "issuer": {"origin": "http://example.org", "name": "I", "contact": "a@example.org"}}
        });
        let (up, version) = upgrade(v, Some("http://example.org/a.json")).unwrap();
        assert_eq!(version, Version::V0_5);
        assert_eq!(up["recipient"]["hashed"], true);
        assert_eq!(up["issuedOn"], "2013-01-01T00:00:00+00:00");
        assert_eq!(up["badge"]["issuer"]["url"], "http://example.org");
        assert_eq!(up["id"], "http://example.org/a.json");
    }

    #[test]
    fn a_1_0_document_without_id_is_an_error() {
        let v = json!({"recipient": {"type": "email", "hashed": false, "identity": "a@b.c"},
                       "verify": {"type": "signed"}});
        assert!(matches!(upgrade(v, None), Err(Error::Legacy { .. })));
    }
}
