//! SVG baking: an `<openbadges:assertion>` element right after the root start tag.
//!
//! The document is parsed (it must be well-formed XML with an `svg` root) only to find byte
//! positions; the output is assembled from slices of the input, so everything outside the
//! root start tag and the `openbadges:assertion` elements stays byte for byte.

use quick_xml::events::Event;

use crate::error::Error;
use crate::limits::Limits;
use crate::payload::{Payload, PayloadKind};

const ELEMENT: &[u8] = b"openbadges:assertion";
const NAMESPACE_ATTR: &str = "xmlns:openbadges";
const NAMESPACE: &str = "http://openbadges.org";

/// What a scan of the document found.
struct Scan {
    /// Byte range of the root start tag (`<svg …>` or `<svg …/>`).
    root: (usize, usize),
    /// Whether the root is an empty element (`<svg/>`).
    root_empty: bool,
    /// The root element's qualified name, for closing an empty root.
    root_name: Vec<u8>,
    /// Whether the root already declares the `openbadges` prefix.
    has_namespace: bool,
    /// Byte ranges of every `openbadges:assertion` element.
    assertions: Vec<(usize, usize)>,
    /// The payload of the first `openbadges:assertion`: its body, else its `verify` attribute.
    first_payload: Option<Result<String, Error>>,
}

fn pos(reader: &quick_xml::Reader<&[u8]>) -> usize {
    usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX)
}

fn attribute(
    start: &quick_xml::events::BytesStart<'_>,
    name: &[u8],
    offset: usize,
) -> Result<Option<String>, Error> {
    for attr in start.attributes() {
        let attr = attr.map_err(|e| Error::svg(offset as u64, format!("bad attribute: {e}")))?;
        if attr.key.as_ref() == name {
            let value = attr
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(|e| Error::svg(offset as u64, format!("bad attribute value: {e}")))?;
            return Ok(Some(value.into_owned()));
        }
    }
    Ok(None)
}

fn resolve_entity(name: &str) -> Option<char> {
    match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        _ => {
            let code = name
                .strip_prefix("#x")
                .map(|h| u32::from_str_radix(h, 16))
                .or_else(|| name.strip_prefix('#').map(str::parse))?;
            char::from_u32(code.ok()?)
        }
    }
}

fn scan(text: &str) -> Result<Scan, Error> {
    // quick-xml skips a byte-order mark without counting it in its positions: strip it here
    // and add its length back, so every position is an offset into `text`. Only the first
    // U+FEFF is a BOM; another one is a character before the root element.
    let bom = if text.starts_with('\u{feff}') { 3 } else { 0 };
    if text[bom..].starts_with('\u{feff}') {
        return Err(Error::svg(bom as u64, "text before the root element"));
    }
    let mut scan = scan_from(&text[bom..])?;
    scan.root = (scan.root.0 + bom, scan.root.1 + bom);
    for span in &mut scan.assertions {
        *span = (span.0 + bom, span.1 + bom);
    }
    Ok(scan)
}

fn scan_from(text: &str) -> Result<Scan, Error> {
    let mut reader = quick_xml::Reader::from_str(text);
    let mut scan = Scan {
        root: (0, 0),
        root_empty: false,
        root_name: Vec::new(),
        has_namespace: false,
        assertions: Vec::new(),
        first_payload: None,
    };
    let mut depth = 0usize;
    let mut root_seen = false;
    let mut root_closed = false;
    // Inside an openbadges:assertion element: its start offset, nesting, body and verify.
    let mut open: Option<(usize, usize, Body, Option<String>)> = None;
    loop {
        let before = pos(&reader);
        let event = reader
            .read_event()
            .map_err(|e| Error::svg(reader.error_position(), e.to_string()))?;
        let after = pos(&reader);
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                if root_closed {
                    return Err(Error::svg(before as u64, "element after the root element"));
                }
                if !root_seen {
                    root_seen = true;
                    if e.local_name().as_ref() != b"svg" {
                        return Err(Error::svg(before as u64, "the root element is not svg"));
                    }
                    scan.root = (before, after);
                    scan.root_empty = empty;
                    scan.root_name = e.name().as_ref().to_vec();
                    scan.has_namespace = attribute(e, NAMESPACE_ATTR.as_bytes(), before)?.is_some();
                } else if e.name().as_ref() == ELEMENT && open.is_none() {
                    let verify = attribute(e, b"verify", before)?;
                    if empty {
                        scan.assertions.push((before, after));
                        finish_assertion(&mut scan, &Body::default(), verify, before);
                    } else {
                        open = Some((before, 0, Body::default(), verify));
                    }
                } else if let Some((_, nested, ..)) = open.as_mut() {
                    if !empty {
                        *nested += 1;
                    }
                }
                if !empty {
                    depth += 1;
                } else if depth == 0 {
                    root_closed = true;
                }
            }
            Event::End(_) => {
                depth = depth
                    .checked_sub(1)
                    .ok_or_else(|| Error::svg(before as u64, "end tag without a start tag"))?;
                if depth == 0 {
                    root_closed = true;
                }
                if let Some((start, nested, body, verify)) = open.take() {
                    if nested == 0 {
                        scan.assertions.push((start, after));
                        finish_assertion(&mut scan, &body, verify, start);
                    } else {
                        open = Some((start, nested - 1, body, verify));
                    }
                }
            }
            Event::Text(ref t) => {
                if let Some((.., body, _)) = open.as_mut() {
                    body.text(
                        &t.decode()
                            .map_err(|e| Error::svg(before as u64, e.to_string()))?,
                    );
                } else if depth == 0 && !t.iter().all(u8::is_ascii_whitespace) {
                    return Err(Error::svg(before as u64, "text outside the root element"));
                }
            }
            Event::GeneralRef(ref r) => {
                let name = r
                    .decode()
                    .map_err(|e| Error::svg(before as u64, e.to_string()))?;
                let c = resolve_entity(&name)
                    .ok_or_else(|| Error::svg(before as u64, format!("unknown entity &{name};")))?;
                if let Some((.., body, _)) = open.as_mut() {
                    body.significant(c.encode_utf8(&mut [0; 4]));
                } else if depth == 0 {
                    return Err(Error::svg(before as u64, "text outside the root element"));
                }
            }
            Event::CData(ref c) => {
                if let Some((.., body, _)) = open.as_mut() {
                    body.significant(&String::from_utf8_lossy(c));
                } else if depth == 0 {
                    return Err(Error::svg(before as u64, "CDATA outside the root element"));
                }
            }
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
        }
    }
    if !root_seen {
        return Err(Error::svg(0, "no root element"));
    }
    if depth != 0 || open.is_some() {
        return Err(Error::svg(
            text.len() as u64,
            "the document ends before its elements are closed",
        ));
    }
    Ok(scan)
}

/// The body of an `openbadges:assertion`: CDATA content and entities are kept verbatim; only
/// white-space text around them (pretty-printing) is left out.
#[derive(Default)]
struct Body {
    text: String,
    significant: Option<(usize, usize)>,
}

impl Body {
    fn text(&mut self, t: &str) {
        let start = self.text.len();
        self.text.push_str(t);
        let trimmed = t.trim();
        if !trimmed.is_empty() {
            let lead = t.len() - t.trim_start().len();
            self.mark(start + lead, start + lead + trimmed.len());
        }
    }

    fn significant(&mut self, t: &str) {
        let start = self.text.len();
        self.text.push_str(t);
        self.mark(start, self.text.len());
    }

    fn mark(&mut self, start: usize, end: usize) {
        self.significant = Some(match self.significant {
            Some((s, _)) => (s, end),
            None => (start, end),
        });
    }

    fn get(&self) -> &str {
        self.significant.map_or("", |(s, e)| &self.text[s..e])
    }
}

fn finish_assertion(scan: &mut Scan, body: &Body, verify: Option<String>, offset: usize) {
    if scan.first_payload.is_some() {
        return;
    }
    let body = body.get();
    scan.first_payload = Some(if !body.is_empty() {
        Ok(body.to_owned())
    } else if let Some(v) = verify.filter(|v| !v.trim().is_empty()) {
        Ok(v)
    } else {
        Err(Error::svg(
            offset as u64,
            "openbadges:assertion has neither a body nor a verify attribute",
        ))
    });
}

fn as_text<'a>(image: &'a [u8], limits: &Limits) -> Result<&'a str, Error> {
    limits.check_image(image.len() as u64)?;
    std::str::from_utf8(image)
        .map_err(|e| Error::svg(e.valid_up_to() as u64, "the document is not UTF-8"))
}

fn escape_attribute(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            // Character references survive attribute-value normalisation.
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            _ => out.push(c),
        }
    }
    out
}

/// The element that carries `payload`: JSON goes in a CDATA body (with `verify` = the
/// assertion's `id` when it has one); a URL or JWS goes in `verify` of an empty element.
pub fn assertion_element(payload: &Payload) -> String {
    let text = payload.as_str();
    match payload.kind() {
        PayloadKind::Json => {
            let verify = payload
                .assertion_id()
                .map(|id| format!(" verify=\"{}\"", escape_attribute(&id)))
                .unwrap_or_default();
            // CDATA cannot hold "]]>": close and reopen the section around it.
            let body = text.replace("]]>", "]]]]><![CDATA[>");
            format!("<openbadges:assertion{verify}><![CDATA[{body}]]></openbadges:assertion>")
        }
        _ => format!(
            "<openbadges:assertion verify=\"{}\"/>",
            escape_attribute(text.trim())
        ),
    }
}

/// Bakes `payload` into the SVG `image`: declares the `openbadges` namespace on the root,
/// inserts the assertion element right after the root start tag, and removes any earlier
/// `openbadges:assertion` elements. Everything else stays byte for byte.
///
/// # Errors
/// [`Error::Malformed`] when the image is not well-formed XML with an `svg` root or not UTF-8,
/// [`Error::LimitExceeded`] when the image or payload exceeds `limits`.
pub fn bake(image: &[u8], payload: &Payload, limits: &Limits) -> Result<Vec<u8>, Error> {
    limits.check_payload(payload.as_str().len())?;
    let text = as_text(image, limits)?;
    let scan = scan(text)?;
    let (root_start, root_end) = scan.root;
    let tag = &text[root_start..root_end];
    let close = if scan.root_empty {
        tag.len() - 2
    } else {
        tag.len() - 1
    };
    let element = assertion_element(payload);
    let mut out = String::with_capacity(text.len() + element.len() + 64);
    out.push_str(&text[..root_start]);
    out.push_str(&tag[..close]);
    if !scan.has_namespace {
        out.push_str(&format!(" {NAMESPACE_ATTR}=\"{NAMESPACE}\""));
    }
    out.push('>');
    out.push_str(&element);
    if scan.root_empty {
        out.push_str("</");
        out.push_str(&String::from_utf8_lossy(&scan.root_name));
        out.push('>');
    }
    let mut cursor = root_end;
    for (start, end) in scan.assertions {
        out.push_str(&text[cursor..start]);
        cursor = end;
    }
    out.push_str(&text[cursor..]);
    Ok(out.into_bytes())
}

/// Reads the payload of the SVG `image`: the body of the first `openbadges:assertion` element
/// when it has one, else its `verify` attribute. Returns `Ok(None)` when there is no such
/// element.
///
/// # Errors
/// [`Error::Malformed`] when the document is not well-formed or the element holds nothing.
pub fn unbake(image: &[u8], limits: &Limits) -> Result<Option<Payload>, Error> {
    let text = as_text(image, limits)?;
    match scan(text)?.first_payload {
        None => Ok(None),
        Some(found) => {
            let found = found?;
            limits.check_payload(found.len())?;
            Ok(Some(Payload::read(found)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bake_str(svg: &str, payload: &str) -> String {
        String::from_utf8(
            bake(
                svg.as_bytes(),
                &Payload::new(payload).unwrap(),
                &Limits::default(),
            )
            .unwrap(),
        )
        .unwrap()
    }

    fn unbake_str(svg: &str) -> Option<String> {
        unbake(svg.as_bytes(), &Limits::default())
            .unwrap()
            .map(Payload::into_string)
    }

    #[test]
    fn json_goes_in_cdata_with_verify_id() {
        let svg = "<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1\"><rect/></svg>\n";
        let json = r#"{"id":"https://x.org/a?b=1&c=2","narrative":"a ]]> b"}"#;
        let baked = bake_str(svg, json);
        assert_eq!(
            baked,
            "<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1\" xmlns:openbadges=\"http://openbadges.org\">\
             <openbadges:assertion verify=\"https://x.org/a?b=1&amp;c=2\"><![CDATA[{\"id\":\"https://x.org/a?b=1&c=2\",\"narrative\":\"a ]]]]><![CDATA[> b\"}]]></openbadges:assertion>\
             <rect/></svg>\n"
        );
        assert_eq!(unbake_str(&baked).as_deref(), Some(json));
    }

    #[test]
    fn url_and_jws_go_in_verify() {
        let baked = bake_str("<svg/>", "https://x.org/a/1");
        assert_eq!(
            baked,
            "<svg xmlns:openbadges=\"http://openbadges.org\"><openbadges:assertion verify=\"https://x.org/a/1\"/></svg>"
        );
        assert_eq!(unbake_str(&baked).as_deref(), Some("https://x.org/a/1"));
    }

    #[test]
    fn rebaking_replaces_the_element() {
        let once = bake_str("<svg><g/></svg>", "https://x.org/1");
        let twice = bake_str(&once, "https://x.org/2");
        assert_eq!(twice.matches("openbadges:assertion").count(), 1);
        assert_eq!(twice.matches("xmlns:openbadges").count(), 1);
        assert_eq!(unbake_str(&twice).as_deref(), Some("https://x.org/2"));
    }

    #[test]
    fn malformed_documents_are_errors() {
        for bad in [
            "<svg>",
            "<svg></g>",
            "<html/>",
            "",
            "text",
            "<svg/><svg/>",
            "<svg>&bogus;</svg>",
        ] {
            assert!(
                matches!(
                    unbake(bad.as_bytes(), &Limits::default()),
                    Err(Error::Malformed { .. })
                ),
                "{bad:?}"
            );
        }
        assert_eq!(unbake_str("<svg><g/></svg>"), None);
    }

    #[test]
    fn a_byte_order_mark_does_not_shift_the_splice() {
        // Found by the svg_bake fuzz target: positions were 3 bytes off after a BOM.
        let svg = "\u{feff}<?xml version=\"1.0\"?>\n<svg a=\"1\"><g/></svg>";
        let baked = bake_str(svg, "https://x.org/1");
        assert_eq!(
            baked,
            "\u{feff}<?xml version=\"1.0\"?>\n<svg a=\"1\" xmlns:openbadges=\"http://openbadges.org\"><openbadges:assertion verify=\"https://x.org/1\"/><g/></svg>"
        );
        assert_eq!(unbake_str(&baked).as_deref(), Some("https://x.org/1"));
        // A second U+FEFF is not a BOM but text before the root (found by fuzzing too).
        let two = "\u{feff}\u{feff}<svg/>";
        assert!(matches!(
            unbake(two.as_bytes(), &Limits::default()),
            Err(Error::Malformed { .. })
        ));
    }

    #[test]
    fn escaped_body_text_is_read() {
        let svg = "<svg><openbadges:assertion>{&quot;a&quot;:&#x31;}</openbadges:assertion></svg>";
        assert_eq!(unbake_str(svg).as_deref(), Some("{\"a\":1}"));
    }
}
