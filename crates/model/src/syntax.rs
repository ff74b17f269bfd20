//! The syntax of Open Badges 2.0 values: IRIs, URLs, emails, telephone numbers, language
//! tags and the date-time grammar, written to accept exactly what validator 1.1.2 accepts
//! (its regular expressions are quoted in the comments). The bottom of the crate: the value
//! types check what they emit with it and the validator what it reads, and it uses neither.

use chrono::{NaiveDate, NaiveTime, Utc};

/// `http(s)` URL, `_:` blank node, or `urn:uuid:` version 1–5 (any case).
pub fn is_iri(value: &str) -> bool {
    is_url(value) || value.starts_with("_:") || is_urn_uuid(value)
}

/// `^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, case
/// insensitive.
fn is_urn_uuid(value: &str) -> bool {
    let Some(prefix) = value.get(..9) else {
        return false;
    };
    if !prefix.eq_ignore_ascii_case("urn:uuid:") {
        return false;
    }
    let groups: Vec<&str> = value[9..].split('-').collect();
    let lens = [8, 4, 4, 4, 12];
    groups.len() == 5
        && groups
            .iter()
            .zip(lens)
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
        && matches!(groups[2].as_bytes()[0], b'1'..=b'5')
        && matches!(
            groups[3].as_bytes()[0].to_ascii_lowercase(),
            b'8' | b'9' | b'a' | b'b'
        )
}

/// An absolute `http` or `https` URL.
pub fn is_url(value: &str) -> bool {
    url::Url::parse(value).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
}

/// `data:[mediatype][;base64],data`.
pub fn is_data_uri(value: &str) -> bool {
    value
        .get(..5)
        .is_some_and(|p| p.eq_ignore_ascii_case("data:"))
        && value.contains(',')
}

/// The media type of a `data:` URI (lowercase), if it is one.
pub fn data_uri_media_type(value: &str) -> Option<String> {
    if !is_data_uri(value) {
        return None;
    }
    let header = &value[5..value.find(',')?];
    Some(
        header
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase(),
    )
}

/// `^[^@\s]+@[^@\s]+$`.
pub fn is_email(value: &str) -> bool {
    let Some((local, domain)) = value.split_once('@') else {
        return false;
    };
    let ok = |s: &str| !s.is_empty() && !s.contains('@') && !s.chars().any(char::is_whitespace);
    ok(local) && ok(domain)
}

/// E.164: `^\+?[1-9]\d{1,14}(;ext=\d+)?$`.
pub fn is_telephone(value: &str) -> bool {
    let (number, ext) = match value.split_once(";ext=") {
        Some((n, e)) => (n, Some(e)),
        None => (value, None),
    };
    let digits = number.strip_prefix('+').unwrap_or(number);
    let digits_ok = (2..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0');
    let ext_ok = ext.is_none_or(|e| !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit()));
    digits_ok && ext_ok
}

/// A well-formed BCP 47 language tag: a primary subtag of 2–3 (or 5–8) letters, then subtags
/// of 1–8 letters or digits. (The official validator also looks the subtags up in the IANA
/// registry; this check is for the form only.)
pub fn is_language(value: &str) -> bool {
    let mut subtags = value.split('-');
    let primary = subtags.next().unwrap_or("");
    let primary_ok = matches!(primary.len(), 2 | 3 | 5..=8)
        && primary.bytes().all(|b| b.is_ascii_alphabetic())
        || primary.eq_ignore_ascii_case("i")
        || primary.eq_ignore_ascii_case("x");
    primary_ok
        && subtags
            .all(|s| (1..=8).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// An ISO 8601 date and time with a zone, as the validator accepts it.
pub fn is_datetime(value: &str) -> bool {
    parse_datetime(value).is_some()
}

/// Parses an Open Badges DateTime the way validator 1.1.2 does: `aniso8601.parse_datetime`
/// (calendar, ordinal or week dates, extended or basic, a time of `hh`, `hh:mm` or `hh:mm:ss`
/// with an optional `.`/`,` fraction on the last unit) followed by a zone designator that must
/// be present.
pub fn parse_datetime(text: &str) -> Option<chrono::DateTime<Utc>> {
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

/// A host name (with optional port) as allowed in `allowedOrigins`.
pub fn is_url_authority(value: &str) -> bool {
    let host = value.rsplit_once(':').map_or(value, |(h, port)| {
        if port.bytes().all(|b| b.is_ascii_digit()) && !port.is_empty() {
            h
        } else {
            value
        }
    });
    (4..=253).contains(&host.len())
        && host.contains('.')
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// The authority (`host[:port]`) of a URL, as hosted verification compares it.
pub fn authority(value: &str) -> Option<String> {
    let url = url::Url::parse(value).ok()?;
    let host = url.host_str()?;
    Some(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    })
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
    fn iris() {
        assert!(is_iri("https://example.org/a"));
        assert!(is_iri("_:b0"));
        assert!(is_iri("urn:uuid:2f4a2e0c-3b1d-4a8e-9f00-0123456789ab"));
        assert!(is_iri("URN:UUID:2F4A2E0C-3B1D-4A8E-9F00-0123456789AB"));
        assert!(!is_iri("urn:uuid:2f4a2e0c-3b1d-6a8e-9f00-0123456789ab"));
        assert!(!is_iri("mailto:a@b.org"));
        assert!(!is_iri("/relative"));
        assert!(!is_iri(""));
    }

    #[test]
    fn telephones() {
        assert!(is_telephone("+16175551212"));
        assert!(is_telephone("16175551212;ext=12"));
        assert!(!is_telephone("+0123"));
        assert!(!is_telephone("+1 617 555 1212"));
        assert!(!is_telephone("+1234567890123456"));
    }

    #[test]
    fn emails_and_languages() {
        assert!(is_email("a@b"));
        assert!(!is_email("a@b@c"));
        assert!(!is_email("a b@c"));
        assert!(is_language("en"));
        assert!(is_language("en-US"));
        assert!(is_language("zh-Hant-TW"));
        assert!(!is_language("e"));
        assert!(!is_language("en_US"));
    }

    #[test]
    fn data_uris_and_authorities() {
        assert_eq!(
            data_uri_media_type("data:image/PNG;base64,AAA").as_deref(),
            Some("image/png")
        );
        assert_eq!(data_uri_media_type("https://x.org"), None);
        assert!(is_url_authority("example.org"));
        assert!(is_url_authority("example.org:8443"));
        assert!(!is_url_authority("http://example.org"));
        assert_eq!(
            authority("https://a.example.org:8443/x").as_deref(),
            Some("a.example.org:8443")
        );
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
