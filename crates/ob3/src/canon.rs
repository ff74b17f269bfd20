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

/// The first string (member name or value) of `value` whose percent-decoding is not UTF-8.
fn undecodable(value: &Value) -> Option<&str> {
    let decodes = |text: &str| {
        let bytes = text.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            let hex = |b: u8| char::from(b).to_digit(16);
            match (
                bytes[i],
                bytes.get(i + 1).copied(),
                bytes.get(i + 2).copied(),
            ) {
                (b'%', Some(h), Some(l)) if hex(h).is_some() && hex(l).is_some() => {
                    out.push((hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0)) as u8);
                    i += 3;
                }
                (b, ..) => {
                    out.push(b);
                    i += 1;
                }
            }
        }
        std::str::from_utf8(&out).is_ok()
    };
    match value {
        Value::String(text) => (!decodes(text)).then_some(text.as_str()),
        Value::Array(items) => items.iter().find_map(undecodable),
        Value::Object(members) => members.iter().find_map(|(name, member)| {
            if decodes(name) {
                undecodable(member)
            } else {
                Some(name.as_str())
            }
        }),
        _ => None,
    }
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
}
