//! Time. Every time in the public API is chrono's `DateTime<Utc>`, read from and written as
//! RFC 3339 text; inside, the evaluator keeps whole Unix seconds, the compact form its
//! learner records and the stored progress hold.

use chrono::{DateTime, SecondsFormat, Utc};

/// Parses RFC 3339 text (`2026-05-01T12:00:00Z`, any offset) as an instant in UTC.
pub(crate) fn parse(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// The Unix seconds of an instant, as the evaluator compares them.
pub(crate) fn seconds(at: DateTime<Utc>) -> i64 {
    at.timestamp()
}

/// An optional instant as RFC 3339 text, for serde's `with`: written in UTC with a `Z`, read
/// with any offset, and refused with a message that quotes the text.
pub(crate) mod rfc3339 {
    use super::*;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(
        at: &Option<DateTime<Utc>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match at {
            Some(at) => s.serialize_str(&at.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
            None => s.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<DateTime<Utc>>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(text) => parse(&text).map(Some).ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "{text:?} is not an RFC 3339 date and time (2026-05-01T12:00:00Z)"
                ))
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_any_offset_as_utc_and_refuses_what_is_not_rfc_3339() {
        let at = parse("2026-01-01T00:00:00+01:00").unwrap();
        assert_eq!(seconds(at), 1_767_222_000);
        assert_eq!(
            at.to_rfc3339_opts(SecondsFormat::AutoSi, true),
            "2025-12-31T23:00:00Z"
        );
        for bad in ["yesterday", "2026-01-01", "2026-01-01T25:00:00Z", ""] {
            assert!(parse(bad).is_none(), "{bad}");
        }
    }
}
