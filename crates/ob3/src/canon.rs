//! RDF Dataset Canonicalization (RDFC-1.0) of a JSON-LD document: JSON-LD to RDF with the
//! `json-ld` crate, every context from the bundle (never fetched), then canonical N-Quads
//! with `rdf-canon`. What an `eddsa-rdfc-2022` proof hashes.

use std::collections::HashMap;
use std::future::Future;
use std::task::{Context, Poll, Waker};

use iref::IriBuf;
use json_ld::{JsonLdProcessor, RemoteDocument};
use json_syntax::Parse as _;
use rdf_types::{Id, LiteralType, Term};
use serde_json::Value;

use crate::error::Error;
use crate::terms::CONTEXTS;

/// The result of a future that never waits (the contexts loader answers at once).
fn ready<F: Future>(future: F) -> Option<F::Output> {
    let mut future = std::pin::pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => Some(output),
        Poll::Pending => None,
    }
}

fn unreadable(message: impl Into<String>) -> Error {
    Error::Unreadable {
        what: "the document as JSON-LD",
        message: message.into(),
    }
}

/// The bundled contexts as the JSON-LD processor loads them, parsed once.
fn loader() -> &'static HashMap<IriBuf, RemoteDocument> {
    static LOADER: std::sync::OnceLock<HashMap<IriBuf, RemoteDocument>> =
        std::sync::OnceLock::new();
    LOADER.get_or_init(parse_contexts)
}

fn parse_contexts() -> HashMap<IriBuf, RemoteDocument> {
    let mut loader = HashMap::new();
    for (url, text) in CONTEXTS {
        // The bundled contexts are JSON (checked by the terms module's tests).
        if let (Ok(iri), Ok((value, _))) = (
            IriBuf::new(url.to_owned()),
            json_syntax::Value::parse_str(text),
        ) {
            loader.insert(iri, RemoteDocument::new(None, None, value));
        }
    }
    loader
}

/// Whether `text`, percent-decoded, is UTF-8.
fn decodes(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let digit = |at: usize| bytes.get(at).and_then(|&b| char::from(b).to_digit(16));
        match (bytes[i], digit(i + 1), digit(i + 2)) {
            (b'%', Some(high), Some(low)) => {
                out.push((high * 16 + low) as u8);
                i += 3;
            }
            (b, ..) => {
                out.push(b);
                i += 1;
            }
        }
    }
    std::str::from_utf8(&out).is_ok()
}

/// Names whose string values the JSON-LD processor may read as IRIs: the keywords that take
/// IRIs, and every term the bundled contexts define with `@type: @id` or `@vocab` or as an
/// alias of `@id` or `@type` (gathered at any scope, so a superset of the terms in force).
fn iri_valued_names() -> &'static std::collections::HashSet<String> {
    fn gather(context: &Value, names: &mut std::collections::HashSet<String>) {
        match context {
            Value::Array(list) => list.iter().for_each(|c| gather(c, names)),
            Value::Object(terms) => {
                for (term, definition) in terms {
                    match definition {
                        Value::String(k) if k == "@id" || k == "@type" => {
                            names.insert(term.clone());
                        }
                        Value::Object(d) => {
                            if matches!(
                                d.get("@type").and_then(Value::as_str),
                                Some("@id" | "@vocab")
                            ) {
                                names.insert(term.clone());
                            }
                            if let Some(scoped) = d.get("@context") {
                                gather(scoped, names);
                            }
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    static NAMES: std::sync::OnceLock<std::collections::HashSet<String>> =
        std::sync::OnceLock::new();
    NAMES.get_or_init(|| {
        let mut names: std::collections::HashSet<String> =
            ["@id", "@type", "@vocab", "@base", "@context", "@reverse"]
                .map(String::from)
                .into();
        for (_, text) in CONTEXTS {
            if let Ok(Value::Object(document)) = serde_json::from_str::<Value>(text) {
                if let Some(context) = document.get("@context") {
                    gather(context, &mut names);
                }
            }
        }
        names
    })
}

/// The first string that the JSON-LD processor may read as an IRI and whose percent-decoding
/// is not UTF-8. Member names are always checked; values only under an IRI-valued name, unless
/// the document carries a context of its own, which could make any term IRI-valued.
fn undecodable(document: &Value) -> Option<&str> {
    fn inline_context(value: &Value) -> bool {
        match value {
            Value::Array(items) => items.iter().any(inline_context),
            Value::Object(members) => members.iter().any(|(name, member)| {
                (name == "@context"
                    && !matches!(member, Value::String(_))
                    && !member
                        .as_array()
                        .is_some_and(|list| list.iter().all(Value::is_string)))
                    || inline_context(member)
            }),
            _ => false,
        }
    }
    fn find(value: &Value, iri_valued: bool, every_string: bool) -> Option<&str> {
        match value {
            Value::String(text) => {
                ((iri_valued || every_string) && !decodes(text)).then_some(text.as_str())
            }
            Value::Array(items) => items
                .iter()
                .find_map(|item| find(item, iri_valued, every_string)),
            Value::Object(members) => members.iter().find_map(|(name, member)| {
                if decodes(name) {
                    find(member, iri_valued_names().contains(name), every_string)
                } else {
                    Some(name.as_str())
                }
            }),
            _ => None,
        }
    }
    find(document, false, inline_context(document))
}

fn subject(id: &Id) -> oxrdf::Subject {
    match id {
        Id::Iri(iri) => oxrdf::NamedNode::new_unchecked(iri.as_str()).into(),
        Id::Blank(blank) => oxrdf::BlankNode::new_unchecked(blank.suffix()).into(),
    }
}

/// The canonical N-Quads of `document` (RDFC-1.0, SHA-256).
///
/// # Errors
/// [`Error::Unreadable`] when the document names a context this crate does not hold or is
/// not valid JSON-LD.
pub fn canonical_nquads(document: &Value) -> Result<String, Error> {
    if let Some(bad) = undecodable(document) {
        // The IRI library under the JSON-LD processor percent-decodes IRIs when it compares
        // them and panics on a sequence that is not UTF-8 (found by the ob3_credential fuzz
        // target): such a document is refused before it gets there.
        return Err(unreadable(format!(
            "{bad:?} holds a percent-encoded sequence that is not UTF-8"
        )));
    }
    let (value, _) = json_syntax::Value::parse_str(&document.to_string())
        .map_err(|e| unreadable(e.to_string()))?;
    let remote = RemoteDocument::new(None, None, value);
    let mut generator = rdf_types::generator::Blank::new();
    let mut rdf = ready(remote.to_rdf(&mut generator, loader()))
        .ok_or_else(|| unreadable("the JSON-LD processor waited for a document"))?
        .map_err(|e| unreadable(e.to_string()))?;
    let mut dataset = oxrdf::Dataset::new();
    for rdf_types::Quad(s, p, o, g) in rdf.cloned_quads() {
        let object: oxrdf::Term = match &o {
            Term::Id(Id::Iri(iri)) => oxrdf::NamedNode::new_unchecked(iri.as_str()).into(),
            Term::Id(Id::Blank(blank)) => oxrdf::BlankNode::new_unchecked(blank.suffix()).into(),
            Term::Literal(literal) => match &literal.type_ {
                LiteralType::Any(datatype) => oxrdf::Literal::new_typed_literal(
                    literal.value.as_str(),
                    oxrdf::NamedNode::new_unchecked(datatype.as_str()),
                )
                .into(),
                LiteralType::LangString(language) => {
                    oxrdf::Literal::new_language_tagged_literal_unchecked(
                        literal.value.as_str(),
                        language.as_str(),
                    )
                    .into()
                }
            },
        };
        let graph: oxrdf::GraphName = match &g {
            None => oxrdf::GraphName::DefaultGraph,
            Some(Id::Iri(iri)) => oxrdf::NamedNode::new_unchecked(iri.as_str()).into(),
            Some(Id::Blank(blank)) => oxrdf::BlankNode::new_unchecked(blank.suffix()).into(),
        };
        let predicate = oxrdf::NamedNode::new_unchecked(p.as_str());
        dataset.insert(oxrdf::QuadRef::new(
            &subject(&s),
            predicate.as_ref(),
            &object,
            &graph,
        ));
    }
    // Blank-node graphs can be made to cost exponential work (RDFC-1.0 §4.8 "poison
    // graphs"): bound the hash-n-degree-quads calls, far above what a credential needs.
    let options = rdf_canon::CanonicalizationOptions {
        hndq_call_limit: Some(MAX_HNDQ_CALLS),
    };
    rdf_canon::canonicalize_with::<sha2::Sha256>(&dataset, &options)
        .map_err(|e| unreadable(e.to_string()))
}

/// The most hash-n-degree-quads calls a canonicalization may make.
pub const MAX_HNDQ_CALLS: usize = 4_096;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_percent_sequence_that_is_not_utf8_is_refused_not_a_panic() {
        // From the ob3_credential fuzz target: "%ee" is a lone UTF-8 lead byte.
        let document = serde_json::json!({
            "@context": [crate::credential::VC_CONTEXT],
            "id": "urn:uuid:1bd1bdb1-a627-4bd_-b627%eec6e1e3b4bf",
            "type": ["VerifiableCredential"],
        });
        let e = canonical_nquads(&document).unwrap_err().to_string();
        assert!(e.contains("not UTF-8"), "{e}");
        let fine = serde_json::json!({"@context": [crate::credential::VC_CONTEXT],
            "id": "https://x.org/caf%C3%A9", "type": ["VerifiableCredential"]});
        assert!(canonical_nquads(&fine).is_ok());
    }

    #[test]
    fn a_literal_that_looks_percent_encoded_is_canonicalized() {
        // From the canon_props property test: a narrative is text, never an IRI.
        let document = serde_json::json!({
            "@context": [crate::credential::VC_CONTEXT, crate::credential::OB_CONTEXT],
            "id": "urn:uuid:1bd1bdb1-a627-4bd0-b627-c6e1e3b4bf00",
            "type": ["VerifiableCredential", "OpenBadgeCredential"],
            "name": "100%ee",
            "credentialSubject": {"type": ["AchievementSubject"],
                "achievement": {"id": "https://x.org/a", "type": ["Achievement"],
                    "criteria": {"narrative": "%a0"}}},
        });
        let nquads = canonical_nquads(&document).unwrap();
        assert!(nquads.contains("\"%a0\""), "{nquads}");
        // The same bytes where an IRI goes are refused, and so are they anywhere once the
        // document brings its own context.
        let mut as_iri = document.clone();
        as_iri["credentialSubject"]["achievement"]["id"] = "https://x.org/%a0".into();
        assert!(canonical_nquads(&as_iri).is_err());
        let mut own_context = document.clone();
        own_context["@context"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!({"name": {"@id": "https://x.org/n", "@type": "@id"}}));
        assert!(canonical_nquads(&own_context).is_err());
    }
}
