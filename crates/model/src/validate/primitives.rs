//! The primitive value checks of Open Badges 2.0, written to accept exactly what validator
//! 1.1.2 accepts (its regular expressions are quoted in the comments).

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
    crate::value::parse_datetime(value).is_some()
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
