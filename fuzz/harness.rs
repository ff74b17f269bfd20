//! The bodies of the fuzz targets, shared by the cargo-fuzz binaries and by the corpus replay
//! in the main workspace's `cargo test` (`tests/fuzz_corpus.rs`), so the replay runs exactly
//! what the fuzzer ran.

/// Parses arbitrary bytes as each top-level document type and validates the result. Whatever
/// parses must serialise back to the same JSON value.
pub(crate) fn model_parse(data: &[u8]) {
    use badgery_model::validate::{DocumentSet, Options, validate, validate_document};
    use badgery_model::{Assertion, BadgeClass, Document, Profile, legacy};

    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = Assertion::from_json(text);
    let _ = BadgeClass::from_json(text);
    let _ = Profile::from_json(text);
    let Ok(value) = serde_json::from_str::<serde_json::Value>(text) else {
        return;
    };
    if let Ok(doc) = Document::from_value(value.clone()) {
        assert_eq!(doc.to_value(), value, "round trip changed the document");
    }
    let options = Options::at(chrono_now());
    let _ = validate_document(&value, &options);
    let mut docs = DocumentSet::new();
    docs.insert(value.clone());
    let _ = validate(&value, &docs, &options);
    if let Ok((upgraded, _)) = legacy::upgrade(value, Some("https://example.org/a")) {
        let _ = validate_document(&upgraded, &options);
    }
}

fn chrono_now() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default()
}
