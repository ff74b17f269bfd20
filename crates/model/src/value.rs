//! JSON-LD value shapes shared by every Open Badges class.
//!
//! Reading is permissive and writing is strict: deserialising keeps whatever string a document
//! holds (so a document with a malformed IRI or date still loads and round-trips losslessly, and
//! [`crate::validate`] reports the problem with its JSON path), while the constructors used to
//! *emit* documents only accept checked values.

use std::fmt;

use chrono::{NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::Error;

/// The Open Badges 2.0 JSON-LD context URL.
pub const CONTEXT_V2: &str = "https://w3id.org/openbadges/v2";
/// The Open Badges 1.1 JSON-LD context URL (read by [`crate::legacy`]).
pub const CONTEXT_V1: &str = "https://w3id.org/openbadges/v1";

/// Properties a document holds that this crate has no field for: extensions, `@language`
/// variants, vendor properties. Kept in document order and written back unchanged.
pub type Extra = Map<String, Value>;

/// A JSON-LD value that may be written as a single value or as an array.
///
/// JSON-LD treats `"p": "v"` and `"p": ["v"]` as the same statement; the variant is kept so that
/// a document serialises back to exactly what was read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany<T> {
    /// A single value.
    One(T),
    /// An array of values (possibly of length one or zero).
    Many(Vec<T>),
}

impl<T> OneOrMany<T> {
    /// The values, in order, whichever way they were written.
    pub fn as_slice(&self) -> &[T] {
        match self {
            OneOrMany::One(value) => std::slice::from_ref(value),
            OneOrMany::Many(values) => values,
        }
    }

    /// Iterates over the values.
    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.as_slice().iter()
    }

    /// The first value, if any.
    pub fn first(&self) -> Option<&T> {
        self.as_slice().first()
    }

    /// Appends a value, turning a single value into an array when needed.
    pub fn push(&mut self, value: T) {
        let taken = std::mem::replace(self, OneOrMany::Many(Vec::new()));
        *self = match taken {
            OneOrMany::One(first) => OneOrMany::Many(vec![first, value]),
            OneOrMany::Many(mut values) => {
                values.push(value);
                OneOrMany::Many(values)
            }
        };
    }
}

impl<T> From<T> for OneOrMany<T> {
    fn from(value: T) -> Self {
        OneOrMany::One(value)
    }
}

impl<'a, T> IntoIterator for &'a OneOrMany<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// A JSON-LD `type` value: one type name or several.
pub type Types = OneOrMany<String>;

impl Types {
    /// Whether `name` is among the types.
    pub fn contains(&self, name: &str) -> bool {
        self.iter().any(|t| t == name)
    }
}

/// A property typed `@id`: either the IRI of a node or the node embedded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum IdOr<T> {
    /// A reference by IRI (usually an HTTPS URL where the node is hosted).
    Id(Iri),
    /// The node itself, embedded.
    Object(Box<T>),
}

impl<T> IdOr<T> {
    /// The embedded node, if this is not a bare reference.
    pub fn object(&self) -> Option<&T> {
        match self {
            IdOr::Id(_) => None,
            IdOr::Object(node) => Some(node),
        }
    }
}

impl<T> From<Iri> for IdOr<T> {
    fn from(iri: Iri) -> Self {
        IdOr::Id(iri)
    }
}

impl<T> From<url::Url> for IdOr<T> {
    fn from(url: url::Url) -> Self {
        IdOr::Id(Iri::from(url))
    }
}

/// An IRI as written in a document.
///
/// Deserialising accepts any string (see the module docs); [`Iri::parse`] checks the forms Open
/// Badges accepts: `http(s)` URLs, `urn:uuid:` URNs and `_:` blank node identifiers.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Iri(String);

impl Iri {
    /// Checks `text` and wraps it.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] when `text` is not an `http(s)` URL, a version 1–5 `urn:uuid:`
    /// URN or a blank node identifier (`_:…`).
    pub fn parse(text: &str) -> Result<Self, Error> {
        if crate::validate::primitives::is_iri(text) {
            Ok(Iri(text.to_owned()))
        } else {
            Err(Error::InvalidValue {
                what: "IRI",
                value: text.to_owned(),
                expected: "an http(s) URL, a urn:uuid: URN or a _: blank node id",
            })
        }
    }

    /// The IRI text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<url::Url> for Iri {
    fn from(url: url::Url) -> Self {
        Iri(url.into())
    }
}

impl fmt::Display for Iri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Iri {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// An Open Badges `DateTime` as written in a document.
///
/// The text is kept verbatim. [`DateTime::parse`] accepts exactly the ISO 8601 forms the
/// official validator accepts (a date, `T`, a time, and a zone `Z`, `±HH`, `±HHMM` or
/// `±HH:MM`); [`DateTime::from_utc`] emits the recommended `YYYY-MM-DDTHH:MM:SSZ`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DateTime(String);

impl DateTime {
    /// The emission form `YYYY-MM-DDTHH:MM:SSZ` of a UTC instant (sub-seconds dropped).
    pub fn from_utc(instant: chrono::DateTime<Utc>) -> Self {
        DateTime(instant.format("%Y-%m-%dT%H:%M:%SZ").to_string())
    }

    /// The text as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The instant this text denotes.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] when the text is not an ISO 8601 date and time with a zone.
    pub fn parse(&self) -> Result<chrono::DateTime<Utc>, Error> {
        parse_datetime(&self.0).ok_or_else(|| Error::InvalidValue {
            what: "DateTime",
            value: self.0.clone(),
            expected: "an ISO 8601 date and time with a zone, e.g. 2024-05-01T12:00:00Z",
        })
    }
}

impl From<chrono::DateTime<Utc>> for DateTime {
    fn from(instant: chrono::DateTime<Utc>) -> Self {
        DateTime::from_utc(instant)
    }
}

impl fmt::Display for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Parses an Open Badges DateTime the way validator 1.1.2 does: `aniso8601.parse_datetime`
/// (calendar, ordinal or week dates, extended or basic, a time of `hh`, `hh:mm` or `hh:mm:ss`
/// with an optional `.`/`,` fraction on the last unit) followed by a zone designator that must
/// be present.
pub(crate) fn parse_datetime(text: &str) -> Option<chrono::DateTime<Utc>> {
    // Every accepted form is ASCII; refusing anything else first also keeps the fixed-offset
    // slicing below on character boundaries.
    if !text.is_ascii() {
        return None;
    }
    let (date_text, rest) = text.split_once('T')?;
    let date = parse_date(date_text)?;
    let (time_text, offset_seconds) = split_zone(rest)?;
    let time = parse_time(time_text)?;
    let local = date.and_time(time);
    let offset = chrono::FixedOffset::east_opt(offset_seconds)?;
    local
        .and_local_timezone(offset)
        .single()
        .map(|t| t.with_timezone(&Utc))
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn num(s: &str) -> Option<u32> {
    if all_digits(s) { s.parse().ok() } else { None }
}

fn parse_date(s: &str) -> Option<NaiveDate> {
    let year = |y: &str| -> Option<i32> {
        if y.len() == 4 && all_digits(y) {
            y.parse().ok()
        } else {
            None
        }
    };
    let b = s.as_bytes();
    match (s.len(), b.get(4), b.get(5)) {
        // YYYY-MM-DD
        (10, Some(b'-'), _) if b[7] == b'-' => {
            NaiveDate::from_ymd_opt(year(&s[..4])?, num(&s[5..7])?, num(&s[8..])?)
        }
        // YYYY-Www-D
        (10, Some(b'-'), Some(b'W')) => week_date(year(&s[..4])?, &s[6..8], s.get(9..)?, b[8]),
        // YYYY-DDD
        (8, Some(b'-'), _) => NaiveDate::from_yo_opt(year(&s[..4])?, num(&s[5..])?),
        // YYYYMMDD
        (8, _, _) if all_digits(s) => {
            NaiveDate::from_ymd_opt(year(&s[..4])?, num(&s[4..6])?, num(&s[6..])?)
        }
        // YYYYWwwD
        (8, Some(b'W'), _) => week_date(year(&s[..4])?, &s[5..7], &s[7..], b'-'),
        // YYYYDDD
        (7, _, _) if all_digits(s) => NaiveDate::from_yo_opt(year(&s[..4])?, num(&s[4..])?),
        _ => None,
    }
}

fn week_date(year: i32, week: &str, day: &str, separator: u8) -> Option<NaiveDate> {
    if separator != b'-' || week.len() != 2 || day.len() != 1 {
        return None;
    }
    let weekday = match num(day)? {
        1 => chrono::Weekday::Mon,
        2 => chrono::Weekday::Tue,
        3 => chrono::Weekday::Wed,
        4 => chrono::Weekday::Thu,
        5 => chrono::Weekday::Fri,
        6 => chrono::Weekday::Sat,
        7 => chrono::Weekday::Sun,
        _ => return None,
    };
    NaiveDate::from_isoywd_opt(year, num(week)?, weekday)
}

/// Splits `time+zone` into the time text and the zone offset in seconds. A zone is required.
fn split_zone(s: &str) -> Option<(&str, i32)> {
    if let Some(time) = s.strip_suffix('Z') {
        return Some((time, 0));
    }
    let at = s.rfind(['+', '-'])?;
    let (time, zone) = (&s[..at], &s[at + 1..]);
    let sign = if s.as_bytes()[at] == b'-' { -1 } else { 1 };
    let (hours, minutes) = match zone.len() {
        2 => (num(zone)?, 0),
        4 => (num(&zone[..2])?, num(&zone[2..])?),
        5 if zone.as_bytes()[2] == b':' => (num(&zone[..2])?, num(&zone[3..])?),
        _ => return None,
    };
    if hours > 23 || minutes > 59 {
        return None;
    }
    let seconds = i32::try_from(hours * 3600 + minutes * 60).ok()?;
    Some((time, sign * seconds))
}

fn parse_time(s: &str) -> Option<NaiveTime> {
    // A fraction may follow the last unit only, written with '.' or ','.
    let (whole, fraction) = match s.find(['.', ',']) {
        Some(at) => (&s[..at], Some(&s[at + 1..])),
        None => (s, None),
    };
    let units: Vec<&str> = if whole.contains(':') {
        whole.split(':').collect()
    } else if whole.len() % 2 == 0 && whole.len() <= 6 {
        (0..whole.len())
            .step_by(2)
            .map(|i| &whole[i..i + 2])
            .collect()
    } else {
        return None;
    };
    if units.is_empty() || units.len() > 3 || units.iter().any(|u| u.len() != 2) {
        return None;
    }
    let mut parts = [0u32; 3];
    for (slot, unit) in parts.iter_mut().zip(&units) {
        *slot = num(unit)?;
    }
    let fraction = match fraction {
        Some(f) => {
            if !all_digits(f) {
                return None;
            }
            // Only the leading digits matter for nanoseconds; longer fractions are truncated.
            let digits: String = f.chars().chain(std::iter::repeat('0')).take(9).collect();
            Some(num(&digits)? as f64 / 1e9)
        }
        None => None,
    };
    let [h, m, sec] = parts;
    // aniso8601 accepts 24:00:00 as the end of the day; it is rare enough in badges to reject.
    // A leap second (:60) is refused, as the official validator refuses it (its date parser
    // takes seconds 0 to 59 only; checked with ob_validate on 2016-12-31T23:59:60Z).
    let base = NaiveTime::from_hms_opt(h, m, sec)?;
    let extra = match (fraction, units.len()) {
        (None, _) => 0.0,
        (Some(f), 1) => f * 3600.0,
        (Some(f), 2) => f * 60.0,
        (Some(f), _) => f,
    };
    let nanos = (extra * 1e9).round();
    if !(0.0..86_400e9).contains(&nanos) {
        return None;
    }
    Some(base + chrono::Duration::nanoseconds(nanos as i64))
}

/// A JSON-LD `@context`: the v2 context URL, other URLs, inline context objects, or a list.
pub type Context = OneOrMany<ContextEntry>;

/// One entry of an `@context` value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ContextEntry {
    /// A context referenced by URL, such as [`CONTEXT_V2`].
    Url(String),
    /// An inline context definition (extension term mappings).
    Inline(Map<String, Value>),
}

impl Context {
    /// The context emitted by this crate: the plain v2 URL string.
    pub fn v2() -> Self {
        OneOrMany::One(ContextEntry::Url(CONTEXT_V2.to_owned()))
    }

    /// Whether the v2 context URL is among the entries.
    pub fn is_v2(&self) -> bool {
        self.iter()
            .any(|e| matches!(e, ContextEntry::Url(u) if u.trim_end_matches('/') == CONTEXT_V2))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_validators_datetime_forms() {
        for ok in [
            "2024-05-01T12:00:00Z",
            "2024-05-01T12:00:00.123Z",
            "2024-05-01T12:00Z",
            "2024-05-01T12:00:00+0000",
            "2024-05-01T12:00:00+02",
            "2024-05-01T12:00:00-05:30",
            "20240501T120000Z",
            "2024-122T12:00:00Z",
            "2024-W18-3T12:00:00Z",
            "2024-05-01T12Z",
        ] {
            assert!(parse_datetime(ok).is_some(), "{ok} should parse");
        }
    }

    #[test]
    fn rejects_what_the_validator_rejects() {
        for bad in [
            "2024-05-01",
            "2024-05-01T12:00:00",
            "2024-05-01 12:00:00Z",
            "1714564800",
            "2024-13-01T12:00:00Z",
            "2024-02-30T12:00:00Z",
            "2024-05-01T25:00:00Z",
            "2024-05-01T12:00:00+2",
            "",
            "T",
        ] {
            assert!(parse_datetime(bad).is_none(), "{bad} should be rejected");
        }
    }

    #[test]
    fn zones_shift_the_instant() {
        let a = parse_datetime("2024-05-01T12:00:00+02:00").unwrap();
        let b = parse_datetime("2024-05-01T10:00:00Z").unwrap();
        assert_eq!(a, b);
        let c = parse_datetime("2024-05-01T12:30:00.5Z").unwrap();
        assert_eq!(c.timestamp_subsec_millis(), 500);
    }

    #[test]
    fn emission_form() {
        let t = parse_datetime("2024-05-01T14:00:00+02:00").unwrap();
        assert_eq!(DateTime::from_utc(t).as_str(), "2024-05-01T12:00:00Z");
    }

    #[test]
    fn one_or_many_push() {
        let mut v = OneOrMany::One(1);
        v.push(2);
        assert_eq!(v.as_slice(), &[1, 2]);
    }
}

#[cfg(test)]
mod never_panics {
    use proptest::prelude::*;

    proptest! {
        /// Any text, including multi-byte characters where digits are expected, parses or is
        /// refused without panicking.
        #[test]
        fn parse_datetime_never_panics(text in "[0-9T:+\\-.,Z€éW]{0,30}") {
            let _ = super::parse_datetime(&text);
        }
    }

    #[test]
    fn a_leap_second_is_refused_as_the_official_validator_does() {
        assert!(super::parse_datetime("2016-12-31T23:59:60Z").is_none());
        assert!(super::parse_datetime("2016-12-31T23:59:59Z").is_some());
    }

    #[test]
    fn multi_byte_characters_at_fixed_offsets() {
        for text in [
            "2024-0€-01T00:00:00Z",
            "2024-01-01T€€:00Z",
            "2024-01-01T00:00:00+0€",
            "€€€€-01-01T00:00Z",
            "2024-W€-1T00Z",
        ] {
            assert!(super::parse_datetime(text).is_none(), "{text}");
        }
    }
}
