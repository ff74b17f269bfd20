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

/// Splits fuzz input into a payload (its length given by the first byte) and an image.
fn split(data: &[u8]) -> Option<(badgery_bake::Payload, &[u8])> {
    let (&n, rest) = data.split_first()?;
    let n = usize::from(n).min(rest.len());
    let text = std::str::from_utf8(&rest[..n]).ok()?;
    let payload = badgery_bake::Payload::new(text).ok()?;
    Some((payload, &rest[n..]))
}

/// PNG unbake of arbitrary bytes: never panics, and the slice and streaming readers agree.
pub(crate) fn png_unbake(data: &[u8]) {
    use badgery_bake::{Limits, png};
    let limits = Limits::new(1 << 20, 1 << 16);
    let slice = png::unbake(data, &limits);
    let stream = png::unbake_stream(data, &limits);
    match (&slice, &stream) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "slice and stream unbake differ"),
        (Err(_), Err(_)) => {}
        // The streaming reader may see a truncation the slice reader reports differently, but
        // a payload found by one must be found by the other.
        (Ok(found), Err(_)) | (Err(_), Ok(found)) => {
            assert!(found.is_none(), "{slice:?} vs {stream:?}")
        }
    }
    let _ = png::check(data);
    let _ = badgery_bake::image_info(data);
}

/// PNG bake of an arbitrary payload into arbitrary bytes: when it succeeds, the streaming bake
/// gives the same bytes, unbake returns the payload, and baking again changes nothing.
pub(crate) fn png_bake_roundtrip(data: &[u8]) {
    use badgery_bake::{Limits, png};
    let Some((payload, image)) = split(data) else {
        return;
    };
    let limits = Limits::new(1 << 20, 1 << 16);
    let mut streamed = Vec::new();
    let stream = png::bake_stream(image, &payload, &mut streamed, &limits);
    match png::bake(image, &payload, &limits) {
        Ok(baked) => {
            assert!(
                stream.is_ok(),
                "slice bake succeeded, stream bake failed: {stream:?}"
            );
            assert_eq!(baked, streamed);
            assert_eq!(
                png::unbake(&baked, &limits).ok().flatten().as_ref(),
                Some(&payload)
            );
            assert_eq!(
                png::bake(&baked, &payload, &limits).ok().as_ref(),
                Some(&baked)
            );
            assert!(png::check(&baked).is_ok());
        }
        Err(_) => assert!(
            stream.is_err(),
            "stream bake accepted what slice bake rejected"
        ),
    }
}

/// SVG unbake of arbitrary bytes: never panics.
pub(crate) fn svg_unbake(data: &[u8]) {
    let _ = badgery_bake::svg::unbake(data, &badgery_bake::Limits::default());
}

/// SVG bake of an arbitrary payload into arbitrary bytes: when it succeeds, unbake returns the
/// payload (JSON verbatim; a URL, JWS or other text as the trimmed `verify` value) and baking
/// again gives the same document.
pub(crate) fn svg_bake(data: &[u8]) {
    use badgery_bake::{Limits, PayloadKind, svg};
    let Some((payload, image)) = split(data) else {
        return;
    };
    let limits = Limits::default();
    let Ok(baked) = svg::bake(image, &payload, &limits) else {
        return;
    };
    let found = svg::unbake(&baked, &limits)
        .expect("a baked SVG reads back")
        .expect("holds a payload");
    let expected = if payload.kind() == PayloadKind::Json {
        payload.as_str()
    } else {
        payload.as_str().trim()
    };
    assert_eq!(found.as_str(), expected);
    assert_eq!(
        svg::bake(&baked, &payload, &limits).ok().as_ref(),
        Some(&baked)
    );
}

/// The Open edX text fields: arbitrary text as each field never panics, and whatever parses
/// respects the documented rules.
pub(crate) fn openedx_fields(data: &[u8]) {
    use badgery_rules::{ClassRule, RuleSet, is_valid_slug, openedx};
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let any = |slug: &str| is_valid_slug(slug);
    if let Ok(counts) = openedx::parse_counts("courses_completed", text, &any) {
        let mut seen = std::collections::HashSet::new();
        for (n, slug) in &counts {
            assert!(*n > 0 && is_valid_slug(slug) && seen.insert(*n));
        }
    }
    if let Ok(groups) = openedx::parse_groups(text, &any) {
        assert!(groups.iter().all(|(_, courses)| !courses.is_empty()));
    }
    let classes = ["a", "b", "c", "three"]
        .iter()
        .map(|s| ClassRule::new(*s))
        .collect();
    if let Ok(rules) = RuleSet::new(classes) {
        let _ = rules.with_openedx_fields(text, text, text);
    }
}

fn platform_events() -> Vec<badgery_rules::Event> {
    let lines = [
        r#"{"event":"enrolled","learner":"l","course":"course-v1:Org+A+2026","mode":"verified","at":"2026-01-01T00:00:00Z"}"#,
        r#"{"event":"certificate","learner":"l","course":"course-v1:Org+A+2026","passed":true,"grade":0.9}"#,
        r#"{"event":"certificate","learner":"l","course":"course-v1:Org+B+2026","passed":true}"#,
        r#"{"event":"activity_completed","learner":"l","activity":"q1"}"#,
        r#"{"event":"manual_award","learner":"l","badge":"a","role":"teacher"}"#,
    ];
    lines
        .iter()
        .filter_map(|l| badgery_rules::Event::from_json(l).ok())
        .collect()
}

/// A TOML rule set: arbitrary text never panics; a rule set that parses evaluates events and
/// back-fills without panicking.
pub(crate) fn rules_toml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(rules) = badgery_rules::RuleSet::from_toml(text) else {
        return;
    };
    let mut evaluator = badgery_rules::Evaluator::new(rules.clone());
    for event in platform_events() {
        let _ = evaluator.apply(&event);
    }
    let _ = evaluator.set_rules(rules);
}

/// An event line: arbitrary text never panics; an event that parses is applied twice, and the
/// second time awards nothing.
pub(crate) fn event_line(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(event) = badgery_rules::Event::from_json(text) else {
        return;
    };
    let rules = badgery_rules::RuleSet::from_toml(include_str!(
        "../crates/rules/tests/data/rules/platform.toml"
    ))
    .expect("the example rules parse");
    let mut evaluator = badgery_rules::Evaluator::new(rules);
    for e in platform_events() {
        let _ = evaluator.apply(&e);
    }
    assert_eq!(
        badgery_rules::Event::from_json(&event.to_json()).as_ref(),
        Ok(&event),
        "an event reads back as it serialises"
    );
    // The learner's progress kept as bytes decides as the evaluator's memory does.
    let progress = evaluator.progress(event.learner()).unwrap_or_default();
    let stored = badgery_rules::Progress::from_bytes(&progress.to_bytes())
        .expect("progress reads back as it was written");
    let mut other = badgery_rules::Evaluator::new(evaluator.rules().clone());
    let (after, from_store) = other.apply_to(&stored, &event);
    let awards = evaluator.apply(&event);
    assert_eq!(from_store, awards, "stored progress decides as memory");
    assert_eq!(Some(after), evaluator.progress(event.learner()));
    assert!(
        evaluator.apply(&event).is_empty(),
        "a replayed event awarded again"
    );
}

/// Arbitrary bytes as a learner's stored progress: reading never panics; what reads writes
/// back to bytes that read as the same progress, and an event can be applied to it.
pub(crate) fn progress_bytes(data: &[u8]) {
    let Ok(progress) = badgery_rules::Progress::from_bytes(data) else {
        return;
    };
    let again = badgery_rules::Progress::from_bytes(&progress.to_bytes())
        .expect("written progress reads back");
    assert_eq!(again, progress);
    let rules = badgery_rules::RuleSet::from_toml(include_str!(
        "../crates/rules/tests/data/rules/progress.toml"
    ))
    .expect("the progress rules parse");
    let mut evaluator = badgery_rules::Evaluator::new(rules);
    for event in platform_events().iter().take(6) {
        let _ = evaluator.apply_to(&progress, event);
    }
    let _ = evaluator.backfill_progress("fuzzed", &progress);
}

/// A P-256 public key no one holds the private half of (made once with `openssl ecparam
/// -name prime256v1 -genkey | openssl pkey -pubout` and the private key thrown away): no
/// fuzzed token may verify with it.
const FUZZ_KEY_PEM: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEK5yjt2LtJ1VNbqDMWE49uj8zhCNN
TMU2Jt+h3twaOcRbmZlGb/+D3fC/GJtTdA5wHYOU0cKiNgCHM884gpLuCg==
-----END PUBLIC KEY-----
";

/// Parses arbitrary bytes as a compact JWS and as a PEM key, and validates them as a signed
/// badge of an issuer publishing [`FUZZ_KEY_PEM`]; the bytes are also tried as the payload of
/// a token with a good header, so the validator sees arbitrary payloads. Nothing may panic,
/// and no token may verify.
pub(crate) fn jws_parse(data: &[u8]) {
    use badgery_model::jws::{CompactJws, PublicKey};
    use badgery_model::validate::{DocumentSet, Options, validate_signed};
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    let key = PublicKey::from_pem(FUZZ_KEY_PEM).expect("the fuzz key reads");
    let mut docs = DocumentSet::new();
    docs.insert(serde_json::json!({
        "@context": "https://w3id.org/openbadges/v2", "type": "Issuer",
        "id": "https://lms.example.org/issuer", "name": "LMS",
        "url": "https://lms.example.org", "email": "badges@lms.example.org",
        "publicKey": "https://lms.example.org/keys/1",
        "revocationList": "https://lms.example.org/revocations"
    }));
    docs.insert(serde_json::json!({
        "@context": "https://w3id.org/openbadges/v2", "type": "CryptographicKey",
        "id": "https://lms.example.org/keys/1", "owner": "https://lms.example.org/issuer",
        "publicKeyPem": FUZZ_KEY_PEM
    }));
    docs.insert(serde_json::json!({
        "@context": "https://w3id.org/openbadges/v2", "type": "RevocationList",
        "id": "https://lms.example.org/revocations", "revokedAssertions": ["urn:uuid:0", "urn:uuid:1"]
    }));
    let options = Options::at(chrono_now());
    let with_payload = format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"ES256"}"#),
        URL_SAFE_NO_PAD.encode(data),
        URL_SAFE_NO_PAD.encode([7u8; 64])
    );
    let text = std::str::from_utf8(data).unwrap_or("");
    for token in [text, with_payload.as_str()] {
        if let Ok(jws) = CompactJws::parse(token) {
            assert!(jws.verify(&key).is_err(), "a fuzzed token verified");
        }
        let report = validate_signed(token, &docs, &options);
        assert!(!report.is_valid(), "a fuzzed token validated:\n{report}");
    }
    let _ = PublicKey::from_pem(text);
    let _ = badgery_model::jws::SigningKey::from_pkcs8_pem(text);
}

/// Arbitrary bytes as an Open Badges 3.0 credential: given to the verifier as they are (JSON,
/// VC-JWT, or a PNG or SVG to unbake), as the payload of a VC-JWT, and as a JSON credential
/// carrying an eddsa-rdfc-2022 proof by a published key (so that canonicalization runs on the
/// fuzzed document). Nothing may verify (no signature is genuine), nothing may panic; whatever
/// the model reads must read again the same after writing; a status list read from the text
/// stays within its bound.
pub(crate) fn ob3_credential(data: &[u8]) {
    use badgery_ob3::OpenBadgeCredential;
    use badgery_ob3::status::{MAX_LIST_BITS, StatusList};
    use badgery_ob3::verify::{Document, Documents, Verifier};
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    const DID: &str = "did:web:lms.example.org:ob";
    // The Multikey of a fixed Ed25519 public key (32 bytes of 0x11 are not a point anyone holds
    // the secret of).
    let multikey = format!(
        "z{}",
        bs58::encode([&[0xed, 0x01][..], &[0x11; 32]].concat()).into_string()
    );
    let mut documents = Documents::new();
    documents.insert(
        "https://lms.example.org/ob/did.json",
        Document::Json(serde_json::json!({
            "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
            "id": DID,
            "verificationMethod": [{
                "id": format!("{DID}#key-1"), "type": "Multikey", "controller": DID,
                "publicKeyMultibase": multikey,
            }],
            "assertionMethod": [format!("{DID}#key-1")],
        })),
    );
    let verifier = Verifier::new(documents, chrono_now());
    assert!(!verifier.verify(data).is_valid(), "fuzzed bytes verified");
    let jwt = format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"ES256","kid":"{DID}#key-1"}}"#)),
        URL_SAFE_NO_PAD.encode(data),
        URL_SAFE_NO_PAD.encode([7u8; 64])
    );
    assert!(
        !verifier.verify(jwt.as_bytes()).is_valid(),
        "a fuzzed VC-JWT verified"
    );
    if let Ok(mut value @ serde_json::Value::Object(_)) = serde_json::from_slice(data) {
        if let Ok(credential) = OpenBadgeCredential::from_value(&value) {
            let again = OpenBadgeCredential::from_value(&credential.to_value())
                .expect("what the model writes, it reads");
            assert_eq!(again, credential, "a credential changed through writing");
        }
        value["proof"] = serde_json::json!([{
            "type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022",
            "verificationMethod": format!("{DID}#key-1"), "proofPurpose": "assertionMethod",
            "proofValue": format!("z{}", bs58::encode([3u8; 64]).into_string()),
        }]);
        if value.get("issuer").is_none() {
            value["issuer"] = serde_json::json!(DID);
        }
        let verdict = verifier.verify(value.to_string().as_bytes());
        assert!(!verdict.is_valid(), "a fuzzed eddsa proof verified");
    }
    if let Ok(list) = StatusList::decode(std::str::from_utf8(data).unwrap_or("")) {
        assert!(list.len() <= MAX_LIST_BITS);
    }
}
