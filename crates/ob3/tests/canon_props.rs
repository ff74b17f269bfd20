//! Property tests of RDFC-1.0 canonicalization and eddsa-rdfc-2022 proofs on generated
//! credentials: the canonical N-Quads do not depend on the JSON's form (member order, a list
//! of one written as one value), a proof made on one form verifies on every other, and any
//! change of a value the proof covers makes it fail.

#![allow(clippy::unwrap_used)] // A test's helpers may panic: that is how a test fails.

use badgery_model::jws::{Algorithm, SigningKey};
use badgery_ob3::canon::canonical_nquads;
use badgery_ob3::credential::{OB_CONTEXT, VC_CONTEXT};
use badgery_ob3::eddsa;
use proptest::prelude::*;
use serde_json::{Map, Value, json};

fn credential(name: &str, narrative: &str, grade: &str, tags: &[String]) -> Value {
    json!({
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": "urn:uuid:00000000-0000-4000-8000-000000000001",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": name,
        "issuer": {"id": "did:web:lms.example.org", "type": ["Profile"], "name": "LMS"},
        "validFrom": "2026-03-10T12:00:00Z",
        "credentialSubject": {
            "id": "urn:uuid:10000000-0000-4000-8000-000000000001",
            "type": ["AchievementSubject"],
            "result": [{"type": ["Result"], "value": grade}],
            "achievement": {
                "id": "https://lms.example.org/badges/rust",
                "type": ["Achievement"],
                "name": name,
                "description": "Completed the course.",
                "criteria": {"narrative": narrative},
                "tag": tags,
            },
        },
    })
}

/// `value` with every object's members in reverse order and every list of one as one value.
fn reshaped(value: &Value) -> Value {
    match value {
        Value::Object(members) => {
            let mut out = Map::new();
            for (name, member) in members.iter().rev() {
                let member = match member {
                    Value::Array(list) if list.len() == 1 && name != "@context" => &list[0],
                    other => other,
                };
                out.insert(name.clone(), reshaped(member));
            }
            Value::Object(out)
        }
        Value::Array(list) => Value::Array(list.iter().map(reshaped).collect()),
        other => other.clone(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn canonical_form_and_proofs_ignore_the_json_form(
        name in "[A-Za-z0-9 éü\"\\\\]{1,24}",
        narrative in "[ -~\n]{0,40}",
        grade in "0\\.[0-9]{1,3}",
        tags in proptest::collection::vec("[a-z]{1,8}", 1..4),
    ) {
        let document = credential(&name, &narrative, &grade, &tags);
        let other = reshaped(&document);
        prop_assert_ne!(&document, &other);
        prop_assert_eq!(canonical_nquads(&document).unwrap(), canonical_nquads(&other).unwrap());

        let key = SigningKey::generate(Algorithm::EdDsa).unwrap();
        let public = key.public_key();
        let signed = eddsa::sign(&document, &key, "did:web:lms.example.org#key-2", "2026-03-10T12:00:00Z").unwrap();
        let proof = eddsa::proofs(&signed)[0].clone();
        let mut reshaped_signed = reshaped(&document);
        reshaped_signed["proof"] = signed["proof"].clone();
        prop_assert!(eddsa::verify(&reshaped_signed, &proof, &public).is_ok());

        let mut changed = signed.clone();
        changed["credentialSubject"]["achievement"]["criteria"]["narrative"] =
            Value::String(format!("{narrative}."));
        prop_assert!(eddsa::verify(&changed, &proof, &public).is_err());
        let mut changed = signed.clone();
        changed["credentialSubject"]["result"][0]["value"] = Value::String(format!("{grade}1"));
        prop_assert!(eddsa::verify(&changed, &proof, &public).is_err());
    }
}
