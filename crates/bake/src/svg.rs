//! SVG baking: an `<openbadges:assertion>` element (Open Badges 2.0) or an
//! `<openbadges:credential>` element (3.0) right after the root start tag.
//!
//! The document is parsed (it must be well-formed UTF-8 XML with an `svg` root, no NUL and no
//! duplicate attributes) only to find byte positions; the output is assembled from slices of
//! the input, so everything outside the root start tag and the assertion elements stays byte
//! for byte.
//!
//! The element is found by its namespace URI and local name, whatever the prefix:
//! `http://openbadges.org` and `assertion` for 2.0, `https://purl.imsglobal.org/ob/v3p0` and
//! `credential` for 3.0. `<ob:assertion>` under `xmlns:ob` bound to the 2.0 URI is an
//! assertion (replaced when baking one), and `<openbadges:assertion>` under a prefix bound to
//! another URI is not. Baking one version leaves the other's element in place, so an image
//! can carry one of each. [`check_safe`] is the stricter check for images an issuer re-serves.

use quick_xml::events::Event;

use crate::error::Error;
use crate::limits::Limits;
use crate::payload::{Payload, PayloadKind, Version};

const NAMESPACE_ATTR: &str = "xmlns:openbadges";

/// How the root element binds the `openbadges` prefix.
#[derive(Clone, Copy, PartialEq, Eq)]
enum RootPrefix {
    /// Not at all: the baker declares it on the root.
    Unbound,
    /// To the namespace of the payload's version.
    Ours,
    /// To another namespace: the baker declares it on the payload's element itself.
    Other,
}

/// The namespace bindings in scope: (prefix, URI, depth at which it was declared); the empty
/// prefix is the default namespace.
#[derive(Default)]
struct Namespaces(Vec<(Vec<u8>, String, usize)>);

impl Namespaces {
    fn resolve(&self, prefix: &[u8]) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(p, ..)| p == prefix)
            .map(|(_, uri, _)| uri.as_str())
    }

    /// Declares the `xmlns` attributes of an element at `depth`.
    fn declare(&mut self, attributes: &[(Vec<u8>, String)], depth: usize) {
        for (key, value) in attributes {
            if key == b"xmlns" {
                self.0.push((Vec::new(), value.clone(), depth));
            } else if let Some(prefix) = key.strip_prefix(b"xmlns:") {
                self.0.push((prefix.to_vec(), value.clone(), depth));
            }
        }
    }

    /// Forgets what an element at `depth` declared.
    fn close(&mut self, depth: usize) {
        while self.0.last().is_some_and(|(.., d)| *d >= depth) {
            self.0.pop();
        }
    }

    /// Which version's payload element a qualified element name is, if any.
    fn payload_element(&self, name: &[u8]) -> Option<Version> {
        let (prefix, local) = match name.iter().position(|&b| b == b':') {
            Some(i) => (&name[..i], &name[i + 1..]),
            None => (&b""[..], name),
        };
        // An `openbadges` prefix bound to nothing (namespace-malformed, but found in the
        // wild) is taken as ours; bound to another URI, it is not.
        Version::ALL.into_iter().find(|v| {
            local == v.svg_element()
                && match self.resolve(prefix) {
                    Some(uri) => uri == v.svg_namespace(),
                    None => prefix == b"openbadges",
                }
        })
    }
}

/// What a scan of the document found.
struct Scan {
    /// Byte range of the root start tag (`<svg …>` or `<svg …/>`).
    root: (usize, usize),
    /// Whether the root is an empty element (`<svg/>`).
    root_empty: bool,
    /// The root element's qualified name, for closing an empty root.
    root_name: Vec<u8>,
    /// What the root binds the `openbadges` prefix to, if anything.
    root_prefix: Option<String>,
    /// Byte ranges of every payload element, with their versions.
    elements: Vec<(usize, usize, Version)>,
    /// The payload of each payload element, in document order: its body, else its `verify`
    /// attribute.
    payloads: Vec<Result<Payload, Error>>,
}

impl Scan {
    /// How the root binds the `openbadges` prefix, for a payload of `version`.
    fn root_prefix(&self, version: Version) -> RootPrefix {
        match &self.root_prefix {
            None => RootPrefix::Unbound,
            Some(uri) if uri == version.svg_namespace() => RootPrefix::Ours,
            Some(_) => RootPrefix::Other,
        }
    }
}

fn pos(reader: &quick_xml::Reader<&[u8]>) -> usize {
    usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX)
}

/// Every attribute of a start tag, values normalised; a duplicate or malformed one is an
/// error at `offset`.
fn attributes(
    start: &quick_xml::events::BytesStart<'_>,
    offset: usize,
) -> Result<Vec<(Vec<u8>, String)>, Error> {
    let mut found = Vec::new();
    // quick-xml's checks (on by default) refuse a duplicate attribute.
    for attr in start.attributes() {
        let attr = attr.map_err(|e| Error::svg(offset as u64, format!("bad attribute: {e}")))?;
        let value = attr
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| Error::svg(offset as u64, format!("bad attribute value: {e}")))?;
        found.push((attr.key.as_ref().to_vec(), value.into_owned()));
    }
    Ok(found)
}

fn value<'a>(attributes: &'a [(Vec<u8>, String)], name: &[u8]) -> Option<&'a str> {
    attributes
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
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
    for span in &mut scan.elements {
        *span = (span.0 + bom, span.1 + bom, span.2);
    }
    Ok(scan)
}

fn scan_from(text: &str) -> Result<Scan, Error> {
    if let Some(nul) = text.find('\0') {
        return Err(Error::svg(nul as u64, "NUL is not allowed in XML"));
    }
    let mut reader = quick_xml::Reader::from_str(text);
    let mut scan = Scan {
        root: (0, 0),
        root_empty: false,
        root_name: Vec::new(),
        root_prefix: None,
        elements: Vec::new(),
        payloads: Vec::new(),
    };
    let mut namespaces = Namespaces::default();
    let mut depth = 0usize;
    let mut root_seen = false;
    let mut root_closed = false;
    // Inside a payload element: its start offset, nesting, body, verify and version.
    let mut open: Option<(usize, usize, Body, Option<String>, Version)> = None;
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
                let attrs = attributes(e, before)?;
                namespaces.declare(&attrs, depth);
                if !root_seen {
                    root_seen = true;
                    if e.local_name().as_ref() != b"svg" {
                        return Err(Error::svg(before as u64, "the root element is not svg"));
                    }
                    scan.root = (before, after);
                    scan.root_empty = empty;
                    scan.root_name = e.name().as_ref().to_vec();
                    scan.root_prefix = value(&attrs, NAMESPACE_ATTR.as_bytes()).map(str::to_owned);
                } else if let Some(version) = open
                    .is_none()
                    .then(|| namespaces.payload_element(e.name().as_ref()))
                    .flatten()
                {
                    let verify = value(&attrs, b"verify").map(str::to_owned);
                    if empty {
                        scan.elements.push((before, after, version));
                        finish_element(&mut scan, &Body::default(), verify, before, version);
                    } else {
                        open = Some((before, 0, Body::default(), verify, version));
                    }
                } else if let Some((_, nested, ..)) = open.as_mut() {
                    if !empty {
                        *nested += 1;
                    }
                }
                if !empty {
                    depth += 1;
                } else {
                    namespaces.close(depth);
                    if depth == 0 {
                        root_closed = true;
                    }
                }
            }
            Event::End(_) => {
                depth = depth
                    .checked_sub(1)
                    .ok_or_else(|| Error::svg(before as u64, "end tag without a start tag"))?;
                namespaces.close(depth);
                if depth == 0 {
                    root_closed = true;
                }
                if let Some((start, nested, body, verify, version)) = open.take() {
                    if nested == 0 {
                        scan.elements.push((start, after, version));
                        finish_element(&mut scan, &body, verify, start, version);
                    } else {
                        open = Some((start, nested - 1, body, verify, version));
                    }
                }
            }
            Event::Text(ref t) => {
                if let Some((_, _, body, ..)) = open.as_mut() {
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
                if let Some((_, _, body, ..)) = open.as_mut() {
                    body.significant(c.encode_utf8(&mut [0; 4]));
                } else if depth == 0 {
                    return Err(Error::svg(before as u64, "text outside the root element"));
                }
            }
            Event::CData(ref c) => {
                if let Some((_, _, body, ..)) = open.as_mut() {
                    body.significant(&String::from_utf8_lossy(c));
                } else if depth == 0 {
                    return Err(Error::svg(before as u64, "CDATA outside the root element"));
                }
            }
            Event::Decl(ref d) => {
                if let Some(Ok(encoding)) = d.encoding() {
                    if !encoding.eq_ignore_ascii_case(b"utf-8") {
                        return Err(Error::svg(
                            before as u64,
                            format!(
                                "the document declares the encoding {}; only UTF-8 is supported",
                                String::from_utf8_lossy(&encoding)
                            ),
                        ));
                    }
                }
            }
            Event::Eof => break,
            Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
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

/// Elements that run code or embed other documents: never in an image an issuer re-serves.
const UNSAFE_ELEMENTS: [&str; 6] = [
    "script",
    "foreignobject",
    "iframe",
    "object",
    "embed",
    "handler",
];

/// Checks that an SVG is safe to serve from the issuer's own origin (a badge class image is):
/// well formed as [`unbake`] requires, with no DOCTYPE (entities), no `<script>`,
/// `<foreignObject>` or other embedding element, no event handler attribute (`on…`), and no
/// reference outside the document (`href` other than `#fragment` or a `data:image/` URI, or a
/// `url(…)` that is not `url(#…)`).
///
/// # Errors
/// [`Error::Malformed`] naming the element or attribute refused and its byte offset.
pub fn check_safe(image: &[u8], limits: &Limits) -> Result<(), Error> {
    let text = as_text(image, limits)?;
    scan(text)?;
    let bom = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let mut reader = quick_xml::Reader::from_str(&text[bom..]);
    loop {
        let before = pos(&reader) + bom;
        let event = reader
            .read_event()
            .map_err(|e| Error::svg(reader.error_position(), e.to_string()))?;
        match event {
            Event::DocType(_) => {
                return Err(Error::svg(before as u64, "a DOCTYPE is not allowed"));
            }
            Event::Start(ref e) | Event::Empty(ref e) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                let local = String::from_utf8_lossy(e.local_name().as_ref()).to_ascii_lowercase();
                if UNSAFE_ELEMENTS.contains(&local.as_str()) {
                    return Err(Error::svg(
                        before as u64,
                        format!("the element <{name}> is not allowed"),
                    ));
                }
                for (key, value) in attributes(e, before)? {
                    let key = String::from_utf8_lossy(&key).into_owned();
                    let local_key = key.rsplit(':').next().unwrap_or("").to_ascii_lowercase();
                    let refuse = |why: &str| {
                        Err(Error::svg(
                            before as u64,
                            format!("the attribute {key} of <{name}> {why}"),
                        ))
                    };
                    if local_key.starts_with("on") {
                        return refuse("is an event handler");
                    }
                    if local_key == "href" || local_key == "src" {
                        let v = value.trim();
                        if !(v.starts_with('#') || v.starts_with("data:image/")) {
                            return refuse("refers outside the document");
                        }
                    }
                    if external_url(&value) {
                        return refuse("refers outside the document (url(…))");
                    }
                }
                if local == "style" && !matches!(event, Event::Empty(_)) {
                    let end = e.to_end().into_owned();
                    let css = reader
                        .read_text(end.name())
                        .map_err(|e| Error::svg(before as u64, e.to_string()))?;
                    let css = String::from_utf8_lossy(&css);
                    if external_url(&css) || css.contains("@import") {
                        return Err(Error::svg(
                            before as u64,
                            format!("the element <{name}> refers outside the document"),
                        ));
                    }
                }
            }
            Event::Eof => return Ok(()),
            _ => {}
        }
    }
}

/// Whether CSS text holds a `url(…)` that is not a fragment reference.
fn external_url(css: &str) -> bool {
    let lower = css.to_ascii_lowercase();
    lower.match_indices("url(").any(|(i, _)| {
        let rest = lower[i + 4..].trim_start_matches([' ', '\t', '\n', '\r', '"', '\'']);
        !rest.starts_with('#')
    })
}

/// The body of a payload element: CDATA content and entities are kept verbatim; only
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

fn finish_element(
    scan: &mut Scan,
    body: &Body,
    verify: Option<String>,
    offset: usize,
    version: Version,
) {
    let body = body.get();
    let text = if !body.is_empty() {
        Ok(body.to_owned())
    } else if let Some(v) = verify.filter(|v| !v.trim().is_empty()) {
        Ok(v)
    } else {
        Err(Error::svg(
            offset as u64,
            format!(
                "openbadges:{} has neither a body nor a verify attribute",
                String::from_utf8_lossy(version.svg_element())
            ),
        ))
    };
    scan.payloads
        .push(text.map(|text| Payload::read(text, version)));
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

/// The element that carries `payload`: JSON goes in a CDATA body (for Open Badges 2.0 with
/// `verify` = the assertion's `id` when it has one; 3.0 wants no `verify` beside a JSON
/// credential); a URL or JWS goes in `verify` of an empty element.
pub fn assertion_element(payload: &Payload) -> String {
    let text = payload.as_str();
    let name = match payload.version() {
        Version::Ob2 => "openbadges:assertion",
        Version::Ob3 => "openbadges:credential",
    };
    match payload.kind() {
        PayloadKind::Json => {
            let verify = match payload.version() {
                Version::Ob2 => payload
                    .assertion_id()
                    .map(|id| format!(" verify=\"{}\"", escape_attribute(&id)))
                    .unwrap_or_default(),
                Version::Ob3 => String::new(),
            };
            // CDATA cannot hold "]]>": close and reopen the section around it.
            let body = text.replace("]]>", "]]]]><![CDATA[>");
            format!("<{name}{verify}><![CDATA[{body}]]></{name}>")
        }
        _ => format!("<{name} verify=\"{}\"/>", escape_attribute(text.trim())),
    }
}

/// Bakes `payload` into the SVG `image`: declares the `openbadges` namespace of its version on
/// the root (on the element itself when the root binds that prefix to another namespace),
/// inserts the payload's element right after the root start tag, and removes every earlier
/// element of the same version, whatever its prefix. Everything else stays byte for byte.
///
/// # Errors
/// [`Error::Malformed`] when the image is not well-formed XML with an `svg` root or not UTF-8,
/// [`Error::LimitExceeded`] when the image or payload exceeds `limits`, [`Error::Misuse`] for a
/// payload holding a character XML cannot carry (NUL, most C0 controls).
pub fn bake(image: &[u8], payload: &Payload, limits: &Limits) -> Result<Vec<u8>, Error> {
    limits.check_payload(payload.as_str().len())?;
    // XML 1.0 cannot carry these characters in any form, not even as references.
    if let Some(c) = payload.as_str().chars().find(|&c| {
        matches!(c, '\0'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}')
    }) {
        return Err(Error::Misuse(format!(
            "the payload holds the character {c:?}, which an SVG (XML) document cannot carry"
        )));
    }
    let text = as_text(image, limits)?;
    let scan = scan(text)?;
    let (root_start, root_end) = scan.root;
    let tag = &text[root_start..root_end];
    let close = if scan.root_empty {
        tag.len() - 2
    } else {
        tag.len() - 1
    };
    let version = payload.version();
    let namespace = version.svg_namespace();
    let root_prefix = scan.root_prefix(version);
    let mut element = assertion_element(payload);
    if root_prefix == RootPrefix::Other {
        // The root binds `openbadges` to another namespace: bind it to ours on the element.
        let name_end = element.find([' ', '>', '/']).unwrap_or(element.len());
        element.insert_str(name_end, &format!(" {NAMESPACE_ATTR}=\"{namespace}\""));
    }
    let mut out = String::with_capacity(text.len() + element.len() + 64);
    out.push_str(&text[..root_start]);
    out.push_str(&tag[..close]);
    if root_prefix == RootPrefix::Unbound {
        out.push_str(&format!(" {NAMESPACE_ATTR}=\"{namespace}\""));
    }
    out.push('>');
    out.push_str(&element);
    if scan.root_empty {
        out.push_str("</");
        out.push_str(&String::from_utf8_lossy(&scan.root_name));
        out.push('>');
    }
    let mut cursor = root_end;
    for (start, end, _) in scan.elements.iter().filter(|e| e.2 == version) {
        out.push_str(&text[cursor..*start]);
        cursor = *end;
    }
    out.push_str(&text[cursor..]);
    Ok(out.into_bytes())
}

/// Reads the payload of the SVG `image`: the body of the first `openbadges:assertion` (2.0) or
/// `openbadges:credential` (3.0) element when it has one, else its `verify` attribute; the
/// payload says which version it is. Returns `Ok(None)` when there is no such element.
///
/// # Errors
/// [`Error::Malformed`] when the document is not well-formed or the element holds nothing.
pub fn unbake(image: &[u8], limits: &Limits) -> Result<Option<Payload>, Error> {
    let text = as_text(image, limits)?;
    match scan(text)?.payloads.into_iter().next() {
        None => Ok(None),
        Some(found) => {
            let found = found?;
            limits.check_payload(found.as_str().len())?;
            Ok(Some(found))
        }
    }
}

/// Every payload of the SVG `image`, of either version, in document order: how a verifier
/// tells that a credential is baked only once.
///
/// # Errors
/// As [`unbake`], for any of the elements.
pub fn unbake_all(image: &[u8], limits: &Limits) -> Result<Vec<Payload>, Error> {
    let text = as_text(image, limits)?;
    let mut all = Vec::new();
    for found in scan(text)?.payloads {
        let found = found?;
        limits.check_payload(found.as_str().len())?;
        all.push(found);
    }
    Ok(all)
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
