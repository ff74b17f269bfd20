//! Whether every member of a credential is a term its contexts define: JSON-LD drops an
//! undefined term when it expands a document (so it would be neither signed by a Data
//! Integrity proof nor understood by a JSON-LD verifier), and the 1EdTech validator expands
//! in safe mode, where that is an error.
//!
//! The check follows JSON-LD's scoping without expanding: a node's terms are those of the
//! contexts' top level, of the type-scoped contexts of the node's types (which apply to that
//! node only) and of the property-scoped contexts of the properties that lead to it (which
//! apply below them too). Keywords (`@…`) and absolute or compact IRIs (anything with `:`) are
//! always allowed. The contexts are bundled (see `contexts/PROVENANCE.md`); nothing is fetched.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use serde_json::{Map, Value};

/// The bundled contexts, by URL. The OB 3.0 context versions before 3.0.3 only lack terms
/// 3.0.3 added, so 3.0.3 stands for all of them.
pub(crate) const CONTEXTS: [(&str, &str); 7] = [
    (
        crate::credential::VC_CONTEXT,
        include_str!("../contexts/credentials-v2.jsonld"),
    ),
    (
        crate::credential::OB_CONTEXT,
        include_str!("../contexts/ob-v3p0-context-3.0.3.json"),
    ),
    (
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json",
        include_str!("../contexts/ob-v3p0-context-3.0.3.json"),
    ),
    (
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json",
        include_str!("../contexts/ob-v3p0-context-3.0.3.json"),
    ),
    (
        "https://purl.imsglobal.org/spec/ob/v3p0/context.json",
        include_str!("../contexts/ob-v3p0-context-3.0.3.json"),
    ),
    (
        "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json",
        include_str!("../contexts/ob-v3p0-extensions.json"),
    ),
    (
        "https://w3id.org/security/data-integrity/v2",
        include_str!("../contexts/data-integrity-v2.jsonld"),
    ),
];

/// Whether `url` is a context this crate holds.
pub(crate) fn is_bundled(url: &str) -> bool {
    CONTEXTS.iter().any(|(u, _)| *u == url)
}

/// The terms of one context.
#[derive(Default)]
struct Vocabulary {
    /// Defined at the top level.
    top: HashSet<String>,
    /// For each term with a scoped context, the terms that context defines.
    scoped: HashMap<String, HashSet<String>>,
}

impl Vocabulary {
    fn read(text: &str) -> Self {
        let mut vocabulary = Vocabulary::default();
        // The bundled files are JSON (checked by this module's tests).
        let document: Value = serde_json::from_str(text).unwrap_or(Value::Null);
        if let Some(Value::Object(context)) = document.get("@context") {
            vocabulary.top.extend(context.keys().cloned());
            vocabulary.scopes(context);
        }
        vocabulary
    }

    /// Records the scoped contexts of every definition in `context`, at any depth.
    fn scopes(&mut self, context: &Map<String, Value>) {
        for (term, definition) in context {
            if let Some(Value::Object(inner)) = definition.get("@context") {
                self.scoped
                    .entry(term.clone())
                    .or_default()
                    .extend(inner.keys().cloned());
                self.scopes(inner);
            }
        }
    }
}

fn vocabularies() -> &'static HashMap<&'static str, Vocabulary> {
    static VOCABULARIES: OnceLock<HashMap<&'static str, Vocabulary>> = OnceLock::new();
    VOCABULARIES.get_or_init(|| {
        CONTEXTS
            .iter()
            .map(|(url, text)| (*url, Vocabulary::read(text)))
            .collect()
    })
}

/// The members of `credential` that its contexts do not define, as JSON paths (a type that is
/// not a term, as the path of its `type` and the type).
pub(crate) fn undefined(credential: &Value) -> Vec<String> {
    let active: Vec<&Vocabulary> = match credential.get("@context") {
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        Some(Value::String(one)) => vec![one.as_str()],
        _ => Vec::new(),
    }
    .into_iter()
    .filter_map(|url| vocabularies().get(url))
    .collect();
    let mut found = Vec::new();
    walk(credential, &active, &HashSet::new(), "", &mut found);
    found
}

fn types(node: &Map<String, Value>) -> Vec<&str> {
    match node.get("type") {
        Some(Value::String(one)) => vec![one.as_str()],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn walk(
    value: &Value,
    active: &[&Vocabulary],
    inherited: &HashSet<String>,
    path: &str,
    found: &mut Vec<String>,
) {
    let node = match value {
        Value::Array(items) => {
            for item in items {
                walk(item, active, inherited, path, found);
            }
            return;
        }
        Value::Object(node) => node,
        _ => return,
    };
    let node_types = types(node);
    let defined = |term: &str| {
        inherited.contains(term)
            || active.iter().any(|v| {
                v.top.contains(term)
                    || node_types
                        .iter()
                        .any(|t| v.scoped.get(*t).is_some_and(|s| s.contains(term)))
            })
    };
    for (member, child) in node {
        if member == "@context" {
            continue;
        }
        let at = if path.is_empty() {
            member.clone()
        } else {
            format!("{path}.{member}")
        };
        if !member.starts_with('@') && !member.contains(':') && !defined(member) {
            found.push(at);
            continue;
        }
        if member == "type" || member == "@type" {
            // A type is a term too (else it is a relative IRI reference, an error in safe
            // mode); type-scoped terms name types only through their own definitions.
            for name in types(node) {
                let known = name.contains(':')
                    || active.iter().any(|v| {
                        v.top.contains(name) || v.scoped.values().any(|s| s.contains(name))
                    });
                if !known {
                    found.push(format!("{at} {name}"));
                }
            }
            continue;
        }
        let mut below = inherited.clone();
        for vocabulary in active {
            if let Some(scope) = vocabulary.scoped.get(member.as_str()) {
                below.extend(scope.iter().cloned());
            }
        }
        walk(child, active, &below, &at, found);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_bundled_contexts_are_json_and_define_the_open_badges_terms() {
        for (url, text) in CONTEXTS {
            let value: Value = serde_json::from_str(text).unwrap();
            assert!(value["@context"].is_object(), "{url}");
        }
        let ob = &vocabularies()[crate::credential::OB_CONTEXT];
        assert!(ob.scoped["Achievement"].contains("criteria"));
        assert!(ob.scoped["AchievementSubject"].contains("achievement"));
    }

    #[test]
    fn members_outside_the_contexts_are_found_where_they_are() {
        let credential = json!({
            "@context": [crate::credential::VC_CONTEXT, crate::credential::OB_CONTEXT],
            "type": ["VerifiableCredential", "OpenBadgeCredential"],
            "issuer": {"id": "did:web:x", "type": ["Profile"], "name": "X", "email": "a@x"},
            "validFrom": "2026-01-01T00:00:00Z",
            "credentialSubject": {
                "type": ["AchievementSubject"],
                "achievement": {
                    "id": "https://x/a", "type": ["Achievement"], "name": "A",
                    "criteria": {"narrative": "n"}, "fooBar": 1,
                    "https://example.org/ext": 2,
                },
                "criteria": {},
            },
            "credentialSchema": [{"id": "https://x/s", "type": "1EdTechJsonSchemaValidator2019"}],
            "colour": "red",
        });
        assert_eq!(
            undefined(&credential),
            [
                "credentialSubject.achievement.fooBar",
                "credentialSubject.criteria",
                "credentialSchema.type 1EdTechJsonSchemaValidator2019",
                "colour"
            ]
        );
    }
}
