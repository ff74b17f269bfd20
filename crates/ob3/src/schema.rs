//! The shape of a credential: the 1EdTech JSON schema of an AchievementCredential (draft
//! 2019-09, bundled in the crate, formats asserted), checked as the certification validator
//! and the oracle check it.
//!
//! The plain-JSON schema wants every `[0..*]` property as an array; JSON-LD compaction writes
//! a list of one as a single value. A credential that fails only for that is retried with the
//! single values wrapped in arrays, and the wrapped paths are reported (an error when strict,
//! a warning otherwise).

use std::sync::OnceLock;

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::paths::LocationSegment;
use jsonschema::{JsonType, ValidationError, Validator};
use serde_json::Value;

/// The bundled schema's text.
const SCHEMA: &str = include_str!("../schema/ob_v3p0_achievementcredential_schema.json");

/// The most errors one report lists.
const MAX_LISTED: usize = 8;

/// The most rounds of wrapping single values (each round wraps every one the schema named;
/// nested lists of one need one round per level).
const MAX_ROUNDS: usize = 20;

/// What the schema said of a credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Shape {
    /// Valid as it is.
    Valid,
    /// Valid once the single values at these JSON pointers are wrapped in arrays.
    ValidWrapped(Vec<String>),
    /// Invalid: what the schema says is wrong, and where.
    Invalid(Vec<String>),
}

fn validator() -> Result<&'static Validator, String> {
    static VALIDATOR: OnceLock<Result<Validator, String>> = OnceLock::new();
    VALIDATOR
        .get_or_init(|| {
            let schema: Value = serde_json::from_str(SCHEMA).map_err(|e| e.to_string())?;
            jsonschema::draft201909::options()
                .should_validate_formats(true)
                .build(&schema)
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| format!("the bundled schema does not compile: {e}"))
}

/// What is wrong with `instance`, as `POINTER: message`, the first [`MAX_LISTED`].
fn problems(validator: &Validator, instance: &Value) -> Vec<String> {
    validator
        .iter_errors(instance)
        .take(MAX_LISTED)
        .map(|e| {
            let at = e.instance_path().as_str();
            format!("{}: {e}", if at.is_empty() { "/" } else { at })
        })
        .collect()
}

/// Checks `credential` against the schema.
pub(crate) fn check(credential: &Value) -> Shape {
    let validator = match validator() {
        Ok(validator) => validator,
        Err(e) => return Shape::Invalid(vec![e]),
    };
    if validator.is_valid(credential) {
        return Shape::Valid;
    }
    let first = problems(validator, credential);
    let mut copy = credential.clone();
    let mut wrapped = Vec::new();
    for _ in 0..MAX_ROUNDS {
        let mut singles = Vec::new();
        for error in validator.iter_errors(&copy) {
            not_arrays(&error, &mut singles);
        }
        let mut changed = false;
        for path in singles {
            if let Some(single) = at_mut(&mut copy, &path).filter(|v| !v.is_array()) {
                *single = Value::Array(vec![single.take()]);
                wrapped.push(pointer(&path));
                changed = true;
            }
        }
        if !changed {
            break;
        }
        if validator.is_valid(&copy) {
            wrapped.dedup();
            return Shape::ValidWrapped(wrapped);
        }
    }
    Shape::Invalid(if wrapped.is_empty() {
        first
    } else {
        problems(validator, &copy)
    })
}

/// The paths where `error`, or an error of a `oneOf` or `anyOf` branch under it, wants an
/// array.
fn not_arrays(error: &ValidationError<'_>, paths: &mut Vec<Vec<LocationSegment<'static>>>) {
    match error.kind() {
        ValidationErrorKind::Type {
            kind: TypeKind::Single(JsonType::Array),
        } => paths.push(error.instance_path().iter().map(owned).collect()),
        ValidationErrorKind::OneOfNotValid { context } | ValidationErrorKind::AnyOf { context } => {
            for branch in context {
                for error in branch {
                    not_arrays(error, paths);
                }
            }
        }
        _ => {}
    }
}

fn owned(segment: LocationSegment<'_>) -> LocationSegment<'static> {
    match segment {
        LocationSegment::Property(name) => LocationSegment::Property(name.into_owned().into()),
        LocationSegment::Index(i) => LocationSegment::Index(i),
    }
}

fn at_mut<'v>(value: &'v mut Value, path: &[LocationSegment<'_>]) -> Option<&'v mut Value> {
    path.iter().try_fold(value, |v, segment| match segment {
        LocationSegment::Property(name) => v.get_mut(name.as_ref()),
        LocationSegment::Index(i) => v.get_mut(*i),
    })
}

fn pointer(path: &[LocationSegment<'_>]) -> String {
    path.iter()
        .map(|s| format!("/{}", s.to_string().replace('~', "~0").replace('/', "~1")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn minimal() -> Value {
        json!({
            "@context": [crate::credential::VC_CONTEXT, crate::credential::OB_CONTEXT],
            "id": "urn:uuid:1bd1bdb1-a627-4bd0-b627-c6e1e3b4bf00",
            "type": ["VerifiableCredential", "OpenBadgeCredential"],
            "issuer": {"id": "did:web:lms.example.org", "type": ["Profile"]},
            "validFrom": "2026-03-10T12:00:00Z",
            "credentialSubject": {
                "type": ["AchievementSubject"],
                "achievement": {
                    "id": "https://lms.example.org/a/1", "type": ["Achievement"],
                    "name": "A", "description": "B", "criteria": {"narrative": "C"}
                }
            }
        })
    }

    #[test]
    fn the_bundled_schema_compiles_and_takes_a_minimal_credential() {
        assert_eq!(check(&minimal()), Shape::Valid);
    }

    #[test]
    fn single_values_are_wrapped_and_named() {
        let mut credential = minimal();
        credential["issuer"]["type"] = json!("Profile");
        credential["credentialSubject"]["achievement"]["type"] = json!("Achievement");
        let Shape::ValidWrapped(paths) = check(&credential) else {
            panic!("{:?}", check(&credential));
        };
        assert!(paths.contains(&"/issuer/type".to_owned()), "{paths:?}");
        assert!(
            paths.contains(&"/credentialSubject/achievement/type".to_owned()),
            "{paths:?}"
        );
    }

    #[test]
    fn a_missing_member_and_a_bad_format_say_where() {
        let mut credential = minimal();
        credential
            .as_object_mut()
            .unwrap()
            .remove("validFrom")
            .unwrap();
        let Shape::Invalid(problems) = check(&credential) else {
            panic!()
        };
        assert!(
            problems.iter().any(|p| p.contains("validFrom")),
            "{problems:?}"
        );

        let mut credential = minimal();
        credential["validFrom"] = json!("last tuesday");
        let Shape::Invalid(problems) = check(&credential) else {
            panic!()
        };
        assert!(
            problems.iter().any(|p| p.starts_with("/validFrom")),
            "{problems:?}"
        );
    }
}
