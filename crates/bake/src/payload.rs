//! What is baked: an Open Badges 2.0 assertion (JSON, a hosted assertion URL, or a signed
//! assertion as a JWS) or an Open Badges 3.0 credential (JSON with an embedded proof, or a
//! VC-JWT).

use crate::error::Error;

/// Which Open Badges version a payload belongs to: each is baked under its own PNG keyword and
/// SVG element, so an image can carry one of each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Version {
    /// Open Badges 2.0: PNG `iTXt` keyword `openbadges`, SVG `<openbadges:assertion>` in the
    /// namespace `http://openbadges.org`.
    Ob2,
    /// Open Badges 3.0: PNG `iTXt` keyword `openbadgecredential` (never compressed), SVG
    /// `<openbadges:credential>` in the namespace `https://purl.imsglobal.org/ob/v3p0`.
    Ob3,
}

impl Version {
    /// The keyword of the PNG text chunk, with its NUL separator.
    pub(crate) fn png_keyword(self) -> &'static [u8] {
        match self {
            Version::Ob2 => b"openbadges\0",
            Version::Ob3 => b"openbadgecredential\0",
        }
    }

    /// The local name of the SVG element.
    pub(crate) fn svg_element(self) -> &'static [u8] {
        match self {
            Version::Ob2 => b"assertion",
            Version::Ob3 => b"credential",
        }
    }

    /// The namespace URI of the SVG element.
    pub(crate) fn svg_namespace(self) -> &'static str {
        match self {
            Version::Ob2 => "http://openbadges.org",
            Version::Ob3 => "https://purl.imsglobal.org/ob/v3p0",
        }
    }

    /// Both versions, in the order readers try them.
    pub(crate) const ALL: [Version; 2] = [Version::Ob2, Version::Ob3];
}

/// The kind of an Open Badges payload, told from its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PayloadKind {
    /// An assertion as JSON (the text starts with `{`).
    Json,
    /// A hosted assertion URL (`http://` or `https://`).
    Url,
    /// A signed assertion in JWS compact form (three base64url parts joined by `.`).
    Jws,
    /// Anything else.
    Other,
}

/// An Open Badges payload: the text baked into or read from an image, and its version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload {
    text: String,
    version: Version,
}

impl Payload {
    /// Wraps the text of an Open Badges 2.0 payload.
    ///
    /// # Errors
    /// [`Error::Misuse`] when the text is empty or only white space (there is nothing to
    /// bake), or when it starts like JSON (`{` or `[`) but is not JSON: no reader could use it.
    pub fn new(text: impl Into<String>) -> Result<Self, Error> {
        let text = text.into();
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(Error::Misuse("the payload is empty".to_owned()));
        }
        if trimmed.starts_with(['{', '[']) {
            if let Err(e) = serde_json::from_str::<serde_json::Value>(trimmed) {
                return Err(Error::Misuse(format!(
                    "the payload starts like JSON but is not JSON: {e}"
                )));
            }
        }
        Ok(Payload {
            text,
            version: Version::Ob2,
        })
    }

    /// Wraps the text of an Open Badges 3.0 credential: its JSON (with an embedded proof) or
    /// its VC-JWT.
    ///
    /// # Errors
    /// As [`Payload::new`].
    pub fn credential(text: impl Into<String>) -> Result<Self, Error> {
        Ok(Self::new(text)?.with_version(Version::Ob3))
    }

    /// The same text, for `version`.
    pub fn with_version(mut self, version: Version) -> Self {
        self.version = version;
        self
    }

    /// The Open Badges version: which PNG keyword and SVG element carry the payload.
    pub fn version(&self) -> Version {
        self.version
    }

    /// Wraps payload bytes, which must be UTF-8.
    ///
    /// # Errors
    /// [`Error::Misuse`] when the bytes are not UTF-8 or are empty.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, Error> {
        let text = String::from_utf8(bytes).map_err(|e| {
            Error::Misuse(format!(
                "the payload is not UTF-8 text (byte {})",
                e.utf8_error().valid_up_to()
            ))
        })?;
        Self::new(text)
    }

    pub(crate) fn read(text: String, version: Version) -> Self {
        Payload { text, version }
    }

    /// The payload text, verbatim.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The payload text, verbatim.
    pub fn into_string(self) -> String {
        self.text
    }

    /// What the payload is.
    pub fn kind(&self) -> PayloadKind {
        let t = self.text.trim();
        if t.starts_with('{') {
            PayloadKind::Json
        } else if t.starts_with("https://") || t.starts_with("http://") {
            PayloadKind::Url
        } else if is_jws(t) {
            PayloadKind::Jws
        } else {
            PayloadKind::Other
        }
    }

    /// For a JSON payload, its `id` (the hosted assertion URL or `urn:uuid:`), if it has one.
    pub fn assertion_id(&self) -> Option<String> {
        if self.kind() != PayloadKind::Json {
            return None;
        }
        let value: serde_json::Value = serde_json::from_str(&self.text).ok()?;
        value.get("id")?.as_str().map(str::to_owned)
    }
}

fn is_jws(t: &str) -> bool {
    let parts: Vec<&str> = t.split('.').collect();
    parts.len() == 3
        && parts[..2].iter().all(|p| !p.is_empty())
        && parts.iter().all(|p| {
            p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'=')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        let k = |s: &str| Payload::new(s).unwrap().kind();
        assert_eq!(k(r#"{"id":"x"}"#), PayloadKind::Json);
        assert_eq!(k("https://lms.example.org/a/1"), PayloadKind::Url);
        assert_eq!(k("eyJhbGciOiJSUzI1NiJ9.eyJhIjoxfQ.c2ln"), PayloadKind::Jws);
        assert_eq!(k("hello"), PayloadKind::Other);
        assert!(Payload::new("  ").is_err());
        for broken in [r#"{"id":"x""#, "[1,", "{nope}"] {
            let e = Payload::new(broken).unwrap_err().to_string();
            assert!(
                e.contains("starts like JSON but is not JSON"),
                "{broken}: {e}"
            );
        }
        assert!(Payload::from_bytes(vec![0xff]).is_err());
    }

    #[test]
    fn assertion_id() {
        let p = Payload::new(r#"{"id":"https://x.org/a/1","type":"Assertion"}"#).unwrap();
        assert_eq!(p.assertion_id().as_deref(), Some("https://x.org/a/1"));
    }
}
