//! Integration tests of `badgery-model`: lossless round trips on every fixture, the validator's
//! verdicts against the official validator's, the checks it misses, and property tests.

#![allow(clippy::unwrap_used)] // A test's helpers may panic: that is how a test fails.

use std::path::{Path, PathBuf};

use badgery_model::legacy::{self, Version};
use badgery_model::validate::{Code, DocumentSet, Options, validate, validate_document};
use badgery_model::{
    Assertion, BadgeClass, Criteria, Document, Evidence, IdentityObject, IdentityType, Profile,
    VerificationObject,
};
use proptest::prelude::*;
use serde_json::{Value, json};

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(rel)
}

fn read(rel: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(data(rel)).unwrap()).unwrap()
}

fn json_files(dir: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(data(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json") && !p.ends_with("routes.json"))
        .collect();
    files.sort();
    files
}

fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
        .unwrap()
        .to_utc()
}

#[test]
fn every_fixture_round_trips_losslessly() {
    let mut checked = 0;
    for dir in ["spec", "conformance/hosted", "conformance/broken"] {
        for path in json_files(dir) {
            let original: Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            match Document::from_value(original.clone()) {
                Ok(doc) => {
                    assert_eq!(
                        doc.to_value(),
                        original,
                        "{} changed in a round trip",
                        path.display()
                    );
                    checked += 1;
                }
                // Only the document missing a required property may fail to parse.
                Err(e) => assert!(
                    path.ends_with("missing-recipient.json"),
                    "{}: {e}",
                    path.display()
                ),
            }
        }
    }
    assert_eq!(checked, 11 + 3 + 7);
}

#[test]
fn unknown_properties_and_extensions_are_kept() {
    let mut doc = read("conformance/hosted/assertion.json");
    doc["extensions:ApplyLink"] = json!({
        "@context": "https://openbadgespec.org/extensions/applyLinkExtension/context.json",
        "type": ["Extension", "extensions:ApplyLink"],
        "url": "http://website.com/apply"
    });
    doc["zz-vendor"] = json!([1, 2.5, null, {"a": true}]);
    doc["recipient"]["x-note"] = json!("kept");
    let a: Assertion = serde_json::from_value(doc.clone()).unwrap();
    assert_eq!(
        a.extra.keys().collect::<Vec<_>>(),
        ["extensions:ApplyLink", "zz-vendor"]
    );
    assert_eq!(serde_json::to_value(&a).unwrap(), doc);
}

#[test]
fn shapes_single_many_iri_object_and_context_variants_parse() {
    let mut doc = read("spec/linked-assertion.json");
    doc["@context"] = json!(["https://w3id.org/openbadges/v2", {"extensions": "https://w3id.org/openbadges/extensions#"}]);
    doc["type"] = json!(["Assertion", "extensions:Thing"]);
    doc["evidence"] = json!(["https://example.org/e1", {"narrative": "did it"}]);
    let parsed = Document::from_value(doc.clone()).unwrap();
    assert_eq!(parsed.to_value(), doc);
    let Document::Assertion(a) = parsed else {
        panic!()
    };
    assert!(a.context.as_ref().unwrap().is_v2());
    assert!(a.badge.object().is_some());
    assert_eq!(a.evidence.as_ref().unwrap().as_slice().len(), 2);
}

#[test]
fn parse_errors_name_the_json_path() {
    let mut doc = read("conformance/hosted/assertion.json");
    doc["recipient"]["hashed"] = json!("yes");
    let err = Document::from_value(doc).unwrap_err().to_string();
    assert!(err.contains("$.recipient.hashed"), "{err}");
}

fn hosted_docs() -> DocumentSet {
    DocumentSet::from_dir(&data("conformance/hosted")).unwrap()
}

fn verdict(rel: &str, recipient: Option<&str>) -> bool {
    let input = read(rel);
    let mut docs = hosted_docs();
    docs.insert(input.clone());
    let mut options = Options::at(now());
    options.recipient = recipient.map(str::to_owned);
    validate(&input, &docs, &options).is_valid()
}

/// The official validator's verdicts (from the conformance kit's `run_examples.sh`).
#[test]
fn verdicts_equal_the_official_validators() {
    let cases: &[(&str, Option<&str>, bool)] = &[
        ("conformance/hosted/assertion.json", None, true),
        (
            "conformance/hosted/assertion.json",
            Some("learner@example.com"),
            true,
        ),
        ("conformance/broken/missing-recipient.json", None, false),
        ("conformance/broken/bad-date.json", None, false),
        ("conformance/broken/wrong-hash.json", None, true),
        (
            "conformance/broken/wrong-hash.json",
            Some("learner@example.com"),
            false,
        ),
        (
            "conformance/broken/hashed-flag-but-plain-identity.json",
            None,
            false,
        ),
        ("conformance/broken/badge-url-mismatch.json", None, false),
        ("conformance/broken/foreign-origin.json", None, false),
        ("conformance/broken/expired.json", None, false),
        ("conformance/broken/future-issued.json", None, false),
    ];
    for (rel, recipient, expected) in cases {
        assert_eq!(
            verdict(rel, *recipient),
            *expected,
            "{rel} with recipient {recipient:?}"
        );
    }
}

/// The one deliberate difference: the official validator compares the plain email
/// case-sensitively; we normalise emails (documented in `identity`).
#[test]
fn email_case_is_normalised_when_matching() {
    assert!(verdict(
        "conformance/hosted/assertion.json",
        Some("LEARNER@example.com")
    ));
}

fn assert_error(doc: &Value, docs: &DocumentSet, code: Code) {
    let report = validate(doc, docs, &Options::at(now()));
    assert!(
        !report.is_valid() && report.has(code),
        "expected {code:?}:\n{report}"
    );
}

/// Part B.5: what validator 1.1.2 lets through and we report.
#[test]
fn catches_what_the_official_validator_misses() {
    let assertion = read("conformance/hosted/assertion.json");
    let serve = |badge: Value, issuer: Value| {
        let mut d = DocumentSet::new();
        d.insert(badge);
        d.insert(issuer);
        d
    };
    let badge = read("conformance/hosted/badgeclass.json");
    let issuer = read("conformance/hosted/issuer.json");

    let mut b = badge.clone();
    b["type"] = json!("Foo");
    assert_error(&assertion, &serve(b, issuer.clone()), Code::Type);

    let mut i = issuer.clone();
    i["type"] = json!("BadgeClass");
    assert_error(&assertion, &serve(badge.clone(), i), Code::Type);

    let mut i = issuer.clone();
    i.as_object_mut().unwrap().remove("email");
    assert_error(&assertion, &serve(badge.clone(), i), Code::Required);

    let mut i = issuer.clone();
    i["email"] = json!("not an address");
    assert_error(&assertion, &serve(badge.clone(), i), Code::Email);

    let docs = serve(badge.clone(), issuer.clone());
    let mut a = assertion.clone();
    a["recipient"]["type"] = json!("name");
    assert_error(&a, &docs, Code::Type);

    let mut a = assertion.clone();
    a["verification"] = json!({});
    assert_error(&a, &docs, Code::Required);

    let mut a = assertion.clone();
    a["revoked"] = json!(true);
    assert_error(&a, &docs, Code::Revoked);

    let mut a = assertion.clone();
    a["expires"] = json!("2024-04-01T00:00:00Z");
    assert_error(&a, &docs, Code::ExpiresBeforeIssued);

    let mut b = badge.clone();
    b["criteria"] = json!({});
    assert_error(&assertion, &serve(b, issuer.clone()), Code::Criteria);

    let mut b = badge.clone();
    b["image"] = json!("data:image/gif;base64,R0lGOD");
    assert_error(&assertion, &serve(b, issuer.clone()), Code::Image);

    let mut a = assertion.clone();
    a["image"] = json!("data:image/png;base64,iVBOR");
    assert_error(&a, &docs, Code::Image);

    let mut b = badge.clone();
    b["tags"] = json!(["ok", 3]);
    assert_error(&assertion, &serve(b, issuer.clone()), Code::ValueType);
}

#[cfg(unix)]
#[test]
fn a_document_directory_with_a_link_loop_loads() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("issuer.json"),
        serde_json::to_string(&read("conformance/hosted/issuer.json")).unwrap(),
    )
    .unwrap();
    std::os::unix::fs::symlink(dir.path(), dir.path().join("loop")).unwrap();
    let docs = DocumentSet::from_dir(dir.path()).unwrap();
    assert_eq!(docs.len(), 1);
}

#[test]
fn hosted_scope_follows_the_issuers_policy() {
    let mut a = read("conformance/broken/foreign-origin.json");
    let badge = read("conformance/hosted/badgeclass.json");
    let mut issuer = read("conformance/hosted/issuer.json");
    issuer["verification"] = json!({"allowedOrigins": ["evil.example.net"]});
    let mut docs = DocumentSet::new();
    docs.insert(badge);
    docs.insert(issuer.clone());
    assert!(validate(&a, &docs, &Options::at(now())).is_valid());
    issuer["verification"]["startsWith"] = json!("https://evil.example.net/badges/");
    docs.insert(issuer);
    assert_error(&a, &docs, Code::VerificationScope);
    a["id"] = json!("https://evil.example.net/badges/1");
    assert!(validate(&a, &docs, &Options::at(now())).is_valid());
}

#[test]
fn signed_badges_check_key_ownership_and_revocation_list() {
    let mut assertion = read("spec/signed-claims.json");
    let mut docs = DocumentSet::new();
    for f in ["badgeclass", "issuer", "key", "revocation-list"] {
        docs.insert(read(&format!("spec/{f}.json")));
    }
    let report = validate(&assertion, &docs, &Options::at(now()));
    assert!(report.is_valid(), "{report}");
    assertion["verification"]["creator"] = json!("https://example.org/otherKey.json");
    assert_error(&assertion, &docs, Code::KeyOwnership);
    assertion["verification"]["creator"] = json!("https://example.org/publicKey.json");
    assertion["id"] = json!("urn:uuid:e79a6c18-787e-4868-8e65-e6a4530fb418");
    assert_error(&assertion, &docs, Code::Revoked);
}

#[test]
fn every_spec_class_example_validates_alone() {
    for name in [
        "badgeclass",
        "issuer",
        "key",
        "revocation-list",
        "endorsement-124",
    ] {
        let report = validate_document(&read(&format!("spec/{name}.json")), &Options::at(now()));
        assert!(report.is_valid(), "{name}: {report}");
    }
    // The spec's assertion example expired in 2017.
    let report = validate_document(&read("spec/assertion.json"), &Options::at(now()));
    assert!(
        report.has(Code::Expired) && report.error_count() == 1,
        "{report}"
    );
}

#[test]
fn legacy_documents_read_as_2_0() {
    let cases = [
        (
            "legacy/v1_0-assertion.json",
            Version::V1_0,
            "https://lms.example.org/ob/assertions/v1-0",
        ),
        (
            "legacy/v1_1-assertion.json",
            Version::V1_1,
            "https://lms.example.org/ob/assertions/v1-1",
        ),
        (
            "legacy/v0_5-assertion.json",
            Version::V0_5,
            "https://lms.example.org/ob/assertions/v0-5",
        ),
    ];
    for (rel, version, id) in cases {
        let (upgraded, detected) = legacy::upgrade(read(rel), Some(id)).unwrap();
        assert_eq!(detected, version, "{rel}");
        let Document::Assertion(a) = Document::from_value(upgraded.clone()).unwrap() else {
            panic!("{rel} is not an assertion")
        };
        assert_eq!(a.id.as_str(), id);
        assert!(a.recipient.matches("nobody@example.org"), "{rel}");
        assert!(a.issued_on.parse().is_ok(), "{rel}: {}", a.issued_on);
        let report = validate_document(&upgraded, &Options::at(now()));
        assert!(report.is_valid(), "{rel}: {report}");
    }
}

#[test]
fn builders_emit_the_validator_profile() {
    let base = url::Url::parse("https://lms.example.org/ob/").unwrap();
    let issuer = Profile::issuer(
        base.join("issuer").unwrap(),
        "LMS",
        base.join("/").unwrap(),
        "b@lms.example.org",
    )
    .unwrap();
    assert!(Profile::issuer(base.join("issuer").unwrap(), "LMS", base.clone(), "nope").is_err());
    let badge = BadgeClass::new(
        base.join("badges/a").unwrap(),
        "A",
        "d",
        base.join("badges/a.png").unwrap(),
        Criteria::narrative("do it"),
        base.join("issuer").unwrap(),
    );
    let issued = chrono::DateTime::parse_from_rfc3339("2025-02-03T04:05:06.789+01:00")
        .unwrap()
        .to_utc();
    let assertion = Assertion::new(
        base.join("assertions/1").unwrap(),
        IdentityObject::hashed(IdentityType::Email, "a@b.org").unwrap(),
        base.join("badges/a").unwrap().into(),
        VerificationObject::hosted(),
        issued,
    )
    .with_evidence(Evidence::url(base.join("evidence/1").unwrap()))
    .with_expires(issued + chrono::Duration::days(365));
    let v = assertion.to_value();
    assert_eq!(v["@context"], "https://w3id.org/openbadges/v2");
    assert_eq!(v["type"], "Assertion");
    assert_eq!(v["issuedOn"], "2025-02-03T03:05:06Z");
    assert_eq!(v["recipient"]["hashed"], true);
    assert!(v["recipient"]["salt"].as_str().unwrap().len() >= 16);
    let mut docs = DocumentSet::new();
    for d in [issuer.to_value(), badge.to_value(), v.clone()] {
        docs.insert(d);
    }
    let report = validate(&v, &docs, &Options::at(now()).with_recipient("A@B.org"));
    assert!(report.is_valid(), "{report}");
}

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".*".prop_map(Value::String),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    json_leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z:]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    /// Any assertion with arbitrary text values and arbitrary extra properties round-trips.
    #[test]
    fn arbitrary_assertions_round_trip(
        identity in ".*", salt in proptest::option::of(".*"), hashed in any::<bool>(),
        narrative in proptest::option::of(".*"), issued in ".*",
        evidence in proptest::collection::vec(".*", 0..3),
        extras in proptest::collection::btree_map("x-[a-z]{1,6}", json_value(), 0..4),
    ) {
        let mut doc = read("conformance/hosted/assertion.json");
        doc["recipient"]["identity"] = json!(identity);
        doc["recipient"]["hashed"] = json!(hashed);
        if let Some(salt) = salt { doc["recipient"]["salt"] = json!(salt); }
        if let Some(n) = narrative { doc["narrative"] = json!(n); }
        doc["issuedOn"] = json!(issued);
        if !evidence.is_empty() { doc["evidence"] = json!(evidence); }
        for (k, v) in extras { doc[k] = v; }
        let parsed: Assertion = serde_json::from_value(doc.clone()).unwrap();
        prop_assert_eq!(serde_json::to_value(&parsed).unwrap(), doc.clone());
        // Validation of arbitrary content never panics.
        let _ = validate_document(&doc, &Options::at(now()));
    }

    /// Hashing then matching finds the recipient for any identity and salt, and any other
    /// identity does not match.
    #[test]
    fn hashed_identities_match_only_their_recipient(email in "[a-zA-Z0-9._]{1,20}@[a-z]{1,10}\\.[a-z]{2,4}", salt in ".*") {
        let id = IdentityObject::hashed_with_salt(IdentityType::Email, &email, &salt);
        prop_assert!(id.matches(&email));
        prop_assert!(id.matches(&email.to_uppercase()));
        let other = format!("x{email}");
        prop_assert!(!id.matches(&other));
    }

    /// Any JSON value given to the validator yields a report, never a panic.
    #[test]
    fn validator_never_panics(doc in json_value(), class in prop::sample::select(vec!["Assertion", "BadgeClass", "Issuer", "Endorsement", "RevocationList"])) {
        let mut doc = doc;
        if let Value::Object(m) = &mut doc { m.insert("type".into(), json!(class)); }
        let _ = validate(&doc, &hosted_docs(), &Options::at(now()));
        let _ = Document::from_value(doc);
    }
}

#[test]
fn findings_per_document_are_capped_with_a_count_of_the_rest() {
    use badgery_model::validate::{Code, Options, Report, validate_document};
    let evidence: Vec<Value> = (0..200_000).map(|_| serde_json::json!(5)).collect();
    let assertion = serde_json::json!({
        "@context": "https://w3id.org/openbadges/v2",
        "type": "Assertion",
        "id": "https://x.org/a/1",
        "recipient": {"type": "email", "hashed": false, "identity": "a@example.org"},
        "badge": "https://x.org/b/1",
        "verification": {"type": "hosted"},
        "issuedOn": "2026-01-01T00:00:00Z",
        "evidence": evidence,
    });
    let started = std::time::Instant::now();
    let report = validate_document(&assertion, &Options::default());
    assert!(
        report.findings.len() <= Report::MAX_PER_DOCUMENT + 1,
        "{}",
        report.findings.len()
    );
    let last = report.findings.last().unwrap();
    assert_eq!(last.code, Code::TooManyFindings);
    assert_eq!(
        last.message,
        format!(
            "{} more findings in this document were left out (at most 100 are kept)",
            200_000 - 100
        )
    );
    assert!(!report.is_valid());
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}

/// A copy one level deep (a full clone of a deep value would recurse).
fn deep_copy(value: &Value) -> Value {
    match value {
        Value::Object(_) => json!({"type": "Evidence"}),
        other => other.clone(),
    }
}

/// A value built in code has no parser's depth limit: validation must not recurse with it.
#[test]
fn validation_of_a_deeply_nested_value_built_in_code_is_bounded() {
    use badgery_model::validate::{Options, validate_document};
    let handle = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(|| {
            let mut deep = json!("https://x.org/e");
            for _ in 0..20_000 {
                // Built by hand: `json!` would serialise `deep` recursively.
                let mut node = serde_json::Map::new();
                node.insert("type".into(), json!("Evidence"));
                node.insert("evidence".into(), Value::Array(vec![deep_copy(&deep)]));
                node.insert("narrative".into(), deep);
                deep = Value::Object(node);
            }
            let mut assertion = json!({
                "@context": "https://w3id.org/openbadges/v2",
                "type": "Assertion",
                "id": "https://x.org/a/1",
                "recipient": {"type": "email", "hashed": false, "identity": "a@example.org"},
                "badge": "https://x.org/b",
                "verification": {"type": "hosted"},
                "issuedOn": "2026-01-01T00:00:00Z",
            });
            assertion["evidence"] = Value::Array(vec![deep]);
            let report = validate_document(&assertion, &Options::default());
            let invalid = !report.is_valid();
            // serde_json drops a Value recursively: leak this one rather than test its Drop.
            std::mem::forget(assertion);
            invalid
        })
        .unwrap();
    assert!(handle.join().unwrap());
}

/// `verify` is the v2 context's alias of `verification`, and `hosted` of `HostedBadge`.
#[test]
fn context_aliases_are_accepted_for_required_properties() {
    use badgery_model::validate::{DocumentSet, Options, validate};
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/conformance/hosted");
    let mut docs = DocumentSet::from_dir(Path::new(dir)).unwrap();
    let text = std::fs::read_to_string(format!("{dir}/assertion.json")).unwrap();
    let mut assertion: Value = serde_json::from_str(&text).unwrap();
    let now = Options::at("2026-06-01T00:00:00Z".parse().unwrap());
    assert!(validate(&assertion, &docs, &now).is_valid());
    let map = assertion.as_object_mut().unwrap();
    let verification = map.remove("verification").unwrap();
    map.insert("verify".into(), verification);
    // Served as it is written.
    docs.insert(assertion.clone());
    let report = validate(&assertion, &docs, &now);
    assert!(report.is_valid(), "{report}");
}

/// A 1.0 assertion's linked badge class and issuer are 1.0 documents too: upgraded like the
/// input, as the official validator does, so a real 2014 badge validates.
#[test]
fn linked_1_0_documents_are_upgraded_like_the_input() {
    use badgery_model::validate::{DocumentSet, Options, validate};
    let mut docs = DocumentSet::new();
    let class_iri = "https://lms.example.org/ob/badges/rust-101";
    let issuer_iri = "https://lms.example.org/ob/issuer-1-0";
    // 1.0 documents have no @context, type or id; they are served at their IRI.
    let mut served = std::collections::HashMap::new();
    served.insert(
        class_iri,
        json!({
            "name": "Rust 101", "description": "Completed Rust 101.",
            "image": "https://lms.example.org/ob/badges/rust-101/image.png",
            "criteria": "https://lms.example.org/courses/rust-101", "issuer": issuer_iri
        }),
    );
    served.insert(issuer_iri, json!({
        "name": "Example LMS", "url": "https://lms.example.org", "email": "badges@lms.example.org"
    }));
    #[derive(Debug)]
    struct Served(std::collections::HashMap<&'static str, Value>, DocumentSet);
    impl badgery_model::validate::Resolver for Served {
        fn resolve(&self, iri: &str) -> Result<Value, badgery_model::Error> {
            match self.0.get(iri) {
                Some(doc) => Ok(doc.clone()),
                None => self.1.resolve(iri),
            }
        }
    }
    let raw = read("legacy/v1_0-assertion.json");
    let id = "https://lms.example.org/ob/assertions/v1-0";
    docs.insert(legacy::upgrade(raw.clone(), Some(id)).unwrap().0);
    let (input, _) = legacy::upgrade(raw, Some(id)).unwrap();
    let resolver = Served(served, docs);
    let report = validate(
        &input,
        &resolver,
        &Options::at("2026-01-01T00:00:00Z".parse().unwrap()),
    );
    assert!(report.is_valid(), "{report}");
}

/// An endorsement's issuer is fetched and checked like any issuer profile.
#[test]
fn an_endorsements_issuer_is_followed() {
    use badgery_model::validate::{Code, DocumentSet, Options, validate};
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/conformance/hosted");
    let mut docs = DocumentSet::from_dir(Path::new(dir)).unwrap();
    let text = std::fs::read_to_string(format!("{dir}/assertion.json")).unwrap();
    let mut assertion: Value = serde_json::from_str(&text).unwrap();
    assertion["endorsement"] = json!("https://example.org/endorsement-124.json");
    docs.insert(assertion.clone());
    docs.insert(read("spec/endorsement-124.json"));
    let now = Options::at("2026-06-01T00:00:00Z".parse().unwrap());
    let report = validate(&assertion, &docs, &now);
    let endorser_missing = |r: &badgery_model::validate::Report| {
        r.findings.iter().any(|f| {
            f.code == Code::Unresolved
                && f.document == "https://example.org/endorsement-124.json"
                && f.path == "$.issuer"
        })
    };
    assert!(endorser_missing(&report), "{report}");
    docs.insert(json!({
        "@context": "https://w3id.org/openbadges/v2", "type": "Issuer",
        "id": "https://example.org/issuer-5.json", "name": "Endorser",
        "url": "https://example.org", "email": "endorser@example.org"
    }));
    let report = validate(&assertion, &docs, &now);
    assert!(!endorser_missing(&report), "{report}");
}

/// A copy whose hosted original is of another version (a 1.0 assertion still served for a copy
/// read as 2.0, as 0.5-era backpack bakes with `verify.url` are) is compared by its claims:
/// recipient, badge and issue date.
#[test]
fn a_copy_is_compared_with_an_original_of_another_version_by_its_claims() {
    let id = "https://lms.example.org/ob/assertions/v1-0";
    let original = read("legacy/v1_0-assertion.json");
    let (copy, _) = legacy::upgrade(original.clone(), Some(id)).unwrap();
    let check = |original: Value| {
        let mut docs = DocumentSet::new();
        docs.insert_at(id, original);
        validate(&copy, &docs, &Options::at(now()))
    };
    let report = check(original.clone());
    assert!(
        !report.has(Code::IdMismatch),
        "the same claims in 1.0: {report}"
    );
    let mut other = original.clone();
    other["recipient"]["identity"] = json!("sha256$0000");
    other["issuedOn"] = json!("2016-02-02");
    let report = check(other);
    let mismatched: Vec<&str> = report
        .findings
        .iter()
        .filter(|f| f.code == Code::IdMismatch)
        .map(|f| f.path.as_str())
        .collect();
    assert_eq!(mismatched, ["$.recipient", "$.issuedOn"], "{report}");
    let mut revoked = original;
    revoked["revoked"] = json!(true);
    assert!(check(revoked).has(Code::Revoked));
}
