//! Property checks of each class, on raw JSON so that a misshapen document yields findings
//! rather than a parse error.

use serde_json::{Map, Value};

use super::{Code, Finding, Options, Report, Severity};
use crate::document::DocumentClass;
use crate::syntax as p;

/// The node classes checked (named as in the specification, hence `BadgeClass`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(clippy::enum_variant_names)]
pub(super) enum Class {
    Assertion,
    BadgeClass,
    Profile,
    Endorsement,
    RevocationList,
    CryptographicKey,
    IdentityObject,
    AssertionVerification,
    IssuerVerification,
    Image,
    Criteria,
    Evidence,
    Alignment,
    EndorsementClaim,
}

impl Class {
    pub(super) fn of_document(class: DocumentClass) -> Self {
        match class {
            DocumentClass::Assertion => Class::Assertion,
            DocumentClass::BadgeClass => Class::BadgeClass,
            DocumentClass::Profile => Class::Profile,
            DocumentClass::Endorsement => Class::Endorsement,
            DocumentClass::RevocationList => Class::RevocationList,
            DocumentClass::CryptographicKey => Class::CryptographicKey,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Class::Assertion => "Assertion",
            Class::BadgeClass => "BadgeClass",
            Class::Profile => "Profile",
            Class::Endorsement => "Endorsement",
            Class::RevocationList => "RevocationList",
            Class::CryptographicKey => "CryptographicKey",
            Class::IdentityObject => "IdentityObject",
            Class::AssertionVerification | Class::IssuerVerification => "VerificationObject",
            Class::Image => "Image",
            Class::Criteria => "Criteria",
            Class::Evidence => "Evidence",
            Class::Alignment => "AlignmentObject",
            Class::EndorsementClaim => "EndorsementClaim",
        }
    }
}

/// The value type a property must have.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Text,
    /// Markdown: any string (1.1.2 accepts anything, even numbers; we require text).
    Markdown,
    TextOrNumber,
    Boolean,
    Url,
    Iri,
    DateTime,
    Telephone,
    Language,
    Email,
    /// `allowedOrigins` host names.
    Authority,
    /// An `@id` property: an IRI (or URL / data URI) or an embedded node of `class`.
    Node(NodeRule),
}

#[derive(Debug, Clone, Copy)]
struct NodeRule {
    class: Class,
    /// A `data:` URI is accepted in place of a URL.
    data_uri: bool,
    /// A bare IRI is accepted: the node lives elsewhere (fetched, or just referenced).
    reference: bool,
}

const fn node(class: Class, reference: bool) -> Kind {
    Kind::Node(NodeRule {
        class,
        data_uri: false,
        reference,
    })
}

const fn image(data_uri: bool) -> Kind {
    Kind::Node(NodeRule {
        class: Class::Image,
        data_uri,
        reference: true,
    })
}

/// Whether a property is required and how many values it takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Arity {
    Optional,
    Required,
    OptionalMany,
}

use Arity::{Optional, OptionalMany, Required};

/// The property table of a class: (name, kind, arity).
type Props = &'static [(&'static str, Kind, Arity)];

fn properties(class: Class) -> Props {
    match class {
        Class::Assertion => {
            const TABLE: Props = &[
                ("id", Kind::Iri, Required),
                ("recipient", node(Class::IdentityObject, false), Required),
                ("badge", node(Class::BadgeClass, true), Required),
                (
                    "verification",
                    node(Class::AssertionVerification, false),
                    Required,
                ),
                ("issuedOn", Kind::DateTime, Required),
                ("expires", Kind::DateTime, Optional),
                ("image", image(false), Optional),
                ("narrative", Kind::Markdown, Optional),
                ("evidence", node(Class::Evidence, true), OptionalMany),
                ("revoked", Kind::Boolean, Optional),
                ("revocationReason", Kind::Text, Optional),
            ];
            TABLE
        }
        Class::BadgeClass => {
            const TABLE: Props = &[
                ("id", Kind::Iri, Required),
                ("issuer", node(Class::Profile, true), Required),
                ("name", Kind::Text, Required),
                ("description", Kind::Text, Required),
                ("image", image(true), Required),
                ("criteria", node(Class::Criteria, true), Required),
                ("alignment", node(Class::Alignment, false), OptionalMany),
                ("tags", Kind::Text, OptionalMany),
            ];
            TABLE
        }
        Class::Profile => {
            const TABLE: Props = &[
                ("id", Kind::Iri, Required),
                ("name", Kind::Text, Required),
                ("description", Kind::Text, Optional),
                ("image", image(true), Optional),
                ("url", Kind::Url, Required),
                ("email", Kind::Email, Required),
                ("telephone", Kind::Telephone, Optional),
                (
                    "publicKey",
                    node(Class::CryptographicKey, true),
                    OptionalMany,
                ),
                (
                    "verification",
                    node(Class::IssuerVerification, true),
                    Optional,
                ),
                ("revocationList", Kind::Iri, Optional),
            ];
            TABLE
        }
        Class::Endorsement => {
            const TABLE: Props = &[
                ("id", Kind::Iri, Required),
                ("claim", node(Class::EndorsementClaim, false), Required),
                ("issuedOn", Kind::DateTime, Required),
                ("issuer", node(Class::Profile, true), Required),
                (
                    "verification",
                    node(Class::AssertionVerification, false),
                    Optional,
                ),
            ];
            TABLE
        }
        Class::EndorsementClaim => {
            const TABLE: Props = &[
                ("id", Kind::Iri, Required),
                ("endorsementComment", Kind::Markdown, Optional),
            ];
            TABLE
        }
        Class::RevocationList => {
            const TABLE: Props = &[("id", Kind::Iri, Optional)];
            TABLE
        }
        Class::CryptographicKey => {
            const TABLE: Props = &[
                ("id", Kind::Iri, Optional),
                ("owner", Kind::Iri, Optional),
                ("publicKeyPem", Kind::Text, Optional),
            ];
            TABLE
        }
        Class::IdentityObject => {
            const TABLE: Props = &[
                ("identity", Kind::Text, Required),
                ("hashed", Kind::Boolean, Required),
                ("salt", Kind::Text, Optional),
            ];
            TABLE
        }
        Class::AssertionVerification => {
            const TABLE: Props = &[("creator", Kind::Iri, Optional)];
            TABLE
        }
        Class::IssuerVerification => {
            const TABLE: Props = &[
                ("verificationProperty", Kind::Text, Optional),
                ("startsWith", Kind::Url, OptionalMany),
                ("allowedOrigins", Kind::Authority, OptionalMany),
            ];
            TABLE
        }
        Class::Image => {
            const TABLE: Props = &[
                ("caption", Kind::Text, Optional),
                ("author", Kind::Iri, Optional),
            ];
            TABLE
        }
        Class::Criteria => {
            const TABLE: Props = &[
                ("id", Kind::Iri, Optional),
                ("narrative", Kind::Markdown, Optional),
            ];
            TABLE
        }
        Class::Evidence => {
            const TABLE: Props = &[
                ("id", Kind::Iri, Optional),
                ("narrative", Kind::Markdown, Optional),
                ("name", Kind::Text, Optional),
                ("description", Kind::Text, Optional),
                ("genre", Kind::Text, Optional),
                ("audience", Kind::Text, Optional),
            ];
            TABLE
        }
        Class::Alignment => {
            const TABLE: Props = &[
                ("targetName", Kind::Text, Required),
                ("targetUrl", Kind::Url, Required),
                ("targetDescription", Kind::Text, Optional),
                ("targetFramework", Kind::Text, Optional),
                ("targetCode", Kind::Text, Optional),
            ];
            TABLE
        }
    }
}

/// The `type` values a class accepts, and whether `type` is required.
fn accepted_types(class: Class) -> (&'static [&'static str], bool) {
    match class {
        Class::Assertion => (&["Assertion"], true),
        Class::BadgeClass => (&["BadgeClass"], true),
        Class::Profile => (&["Issuer", "Profile"], true),
        Class::Endorsement => (&["Endorsement"], true),
        Class::RevocationList => (&["RevocationList"], true),
        Class::CryptographicKey => (&["CryptographicKey", "sec:Key"], false),
        Class::IdentityObject => (&["email", "url", "telephone", "id"], true),
        Class::AssertionVerification => (&["HostedBadge", "hosted", "SignedBadge", "signed"], true),
        Class::IssuerVerification => (&["VerificationObject"], false),
        Class::Image => (&["ImageObject", "schema:ImageObject"], false),
        Class::Criteria => (&["Criteria"], false),
        Class::Evidence => (&["Evidence"], false),
        Class::Alignment => (&["AlignmentObject"], false),
        Class::EndorsementClaim => (&[], false),
    }
}

/// Whether the class takes the common properties of the primary objects.
fn is_primary(class: Class) -> bool {
    matches!(
        class,
        Class::Assertion | Class::BadgeClass | Class::Profile | Class::Endorsement
    )
}

/// A value as a message shows it: a scalar as JSON (a long string cut short), a list or an
/// object by its size. Never the whole value: printing is recursive and a hostile value can be
/// deep (a value built in code has no parser's depth limit) or huge.
fn shown(value: &Value) -> String {
    const MAX_CHARS: usize = 80;
    match value {
        Value::String(s) if s.chars().count() > MAX_CHARS => {
            let cut: String = s.chars().take(MAX_CHARS).collect();
            format!("{:?}… ({} bytes)", cut, s.len())
        }
        Value::Array(items) => format!("[a list of {}]", items.len()),
        Value::Object(map) => format!("{{an object with {} properties}}", map.len()),
        scalar => scalar.to_string(),
    }
}

/// Records findings for one document.
pub(super) struct Checker<'a> {
    pub(super) document: String,
    pub(super) options: &'a Options,
    pub(super) report: &'a mut Report,
}

impl Checker<'_> {
    pub(super) fn add(&mut self, severity: Severity, path: &str, code: Code, message: String) {
        self.report.push(Finding {
            severity,
            document: self.document.clone(),
            path: path.to_owned(),
            code,
            message,
        });
    }

    pub(super) fn error(&mut self, path: &str, code: Code, message: String) {
        self.add(Severity::Error, path, code, message);
    }

    /// Checks a node expected to be of `class`: its type, its properties, the nodes it embeds
    /// and the rules that span several properties.
    pub(super) fn node(&mut self, value: &Value, path: &str, class: Class) {
        let Value::Object(map) = value else {
            self.error(
                path,
                Code::ValueType,
                format!("{} must be a JSON object", class.name()),
            );
            return;
        };
        self.check_type(map, path, class);
        for (name, kind, arity) in properties(class) {
            self.property(map, path, name, *kind, *arity);
        }
        if is_primary(class) {
            self.property(map, path, "@language", Kind::Language, Optional);
            self.property(map, path, "version", Kind::TextOrNumber, Optional);
            self.property(map, path, "related", node(class, true), OptionalMany);
            self.property(
                map,
                path,
                "endorsement",
                node(Class::Endorsement, true),
                OptionalMany,
            );
        }
        match class {
            Class::Assertion => self.assertion_rules(map, path),
            Class::IdentityObject => self.identity_rules(map, path),
            Class::Criteria => {
                let has = |k: &str| map.get(k).is_some_and(|v| !v.is_null());
                if !has("id") && !has("narrative") {
                    self.error(
                        path,
                        Code::Criteria,
                        "Criteria needs an id (URL of a criteria page) or a narrative".to_owned(),
                    );
                }
            }
            Class::Image => self.image_id(map.get("id"), &format!("{path}.id"), true, true),
            Class::RevocationList => self.revocation_entries(map, path),
            Class::Profile => {
                if let Some(Value::String(id)) = map.get("id") {
                    if !p::is_url(id) {
                        self.add(
                            Severity::Warning,
                            &format!("{path}.id"),
                            Code::IssuerId,
                            format!("issuer id {id} is not an HTTP(S) URL; many platforms can only handle hosted issuers"),
                        );
                    }
                }
            }
            _ => {}
        }
    }

    fn check_type(&mut self, map: &Map<String, Value>, path: &str, class: Class) {
        let (accepted, required) = accepted_types(class);
        let type_path = format!("{path}.type");
        match map.get("type") {
            None | Some(Value::Null) => {
                if required {
                    self.error(
                        &type_path,
                        Code::Required,
                        format!(
                            "{} needs a type (one of {})",
                            class.name(),
                            accepted.join(", ")
                        ),
                    );
                }
            }
            Some(value) => {
                let names: Vec<&Value> = match value {
                    Value::Array(items) => items.iter().collect(),
                    other => vec![other],
                };
                if names.iter().any(|n| !n.is_string()) {
                    self.error(
                        &type_path,
                        Code::ValueType,
                        "type values must be strings".to_owned(),
                    );
                } else if class == Class::IdentityObject && names.len() > 1 {
                    self.error(
                        &type_path,
                        Code::SingleValue,
                        "recipient type takes one value".to_owned(),
                    );
                } else if !accepted.is_empty()
                    && !names
                        .iter()
                        .any(|n| n.as_str().is_some_and(|s| accepted.contains(&s)))
                {
                    self.error(
                        &type_path,
                        Code::Type,
                        format!(
                            "type {} is not one of {} for a {}",
                            shown(value),
                            accepted.join(", "),
                            class.name()
                        ),
                    );
                }
            }
        }
    }

    fn property(
        &mut self,
        map: &Map<String, Value>,
        path: &str,
        name: &str,
        kind: Kind,
        arity: Arity,
    ) {
        // The OB v2 context defines `verify` as an alias of `verification`: a document may
        // use either term (the official validator compacts to one).
        let (name, value) = match (map.get(name), name) {
            (None, "verification") if map.contains_key("verify") => ("verify", map.get("verify")),
            (value, _) => (name, value),
        };
        let prop_path = format!("{path}.{name}");
        let required = arity == Required;
        let many = arity == OptionalMany;
        let Some(value) = value else {
            if required {
                self.error(
                    &prop_path,
                    Code::Required,
                    format!("required property {name} is missing"),
                );
            }
            return;
        };
        let values: Vec<(String, &Value)> = match value {
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, v)| (format!("{prop_path}[{i}]"), v))
                .collect(),
            other => vec![(prop_path.clone(), other)],
        };
        if values.iter().all(|(_, v)| v.is_null()) {
            if required {
                self.error(
                    &prop_path,
                    Code::Required,
                    format!("required property {name} is null or empty"),
                );
            }
            return;
        }
        if !many && values.len() > 1 {
            self.error(
                &prop_path,
                Code::SingleValue,
                format!("property {name} takes a single value"),
            );
            return;
        }
        for (item_path, item) in values {
            self.value(item, &item_path, name, kind);
        }
    }

    fn value(&mut self, value: &Value, path: &str, name: &str, kind: Kind) {
        let text = value.as_str();
        let expect = |ok: bool, code: Code, what: &str| {
            (!ok).then(|| (code, format!("{name} value {} is not {what}", shown(value))))
        };
        let problem = match kind {
            Kind::Text | Kind::Markdown => expect(text.is_some(), Code::ValueType, "text"),
            Kind::TextOrNumber => expect(
                text.is_some() || value.is_number(),
                Code::ValueType,
                "text or a number",
            ),
            Kind::Boolean => expect(value.is_boolean(), Code::ValueType, "a boolean"),
            Kind::Url => expect(text.is_some_and(p::is_url), Code::Url, "an http(s) URL"),
            Kind::Iri => expect(
                text.is_some_and(p::is_iri),
                Code::Iri,
                "an IRI (http(s) URL, urn:uuid: or _: id)",
            ),
            Kind::DateTime => expect(
                text.is_some_and(p::is_datetime),
                Code::DateTime,
                "an ISO 8601 date and time with a zone (e.g. 2024-05-01T12:00:00Z)",
            ),
            Kind::Telephone => expect(
                text.is_some_and(p::is_telephone),
                Code::Telephone,
                "an E.164 telephone number",
            ),
            Kind::Language => expect(
                text.is_some_and(p::is_language),
                Code::Language,
                "a BCP 47 language tag",
            ),
            Kind::Email => expect(
                text.is_some_and(p::is_email),
                Code::Email,
                "an email address",
            ),
            Kind::Authority => expect(
                text.is_some_and(p::is_url_authority),
                Code::Url,
                "a host name",
            ),
            Kind::Node(rule) => {
                self.node_value(value, path, name, rule);
                None
            }
        };
        if let Some((code, message)) = problem {
            self.error(path, code, message);
        }
    }

    fn node_value(&mut self, value: &Value, path: &str, name: &str, rule: NodeRule) {
        match value {
            Value::Object(_) => self.node(value, path, rule.class),
            Value::String(s) => {
                if rule.class == Class::Image {
                    self.image_id(Some(value), path, rule.data_uri, false);
                } else if !rule.reference {
                    self.error(
                        path,
                        Code::ValueType,
                        format!(
                            "{name} must be an embedded {} object, not a reference",
                            rule.class.name()
                        ),
                    );
                } else if !p::is_iri(s) {
                    self.error(
                        path,
                        Code::Iri,
                        format!("{name} value {s:?} is not an IRI or an embedded node"),
                    );
                }
            }
            other => self.error(
                path,
                Code::ValueType,
                format!(
                    "{name} value {other} is not an IRI or an embedded {}",
                    rule.class.name()
                ),
            ),
        }
    }

    /// An image reference: a URL, or (where allowed) a PNG or SVG `data:` URI.
    fn image_id(
        &mut self,
        value: Option<&Value>,
        path: &str,
        data_uri_allowed: bool,
        required: bool,
    ) {
        let Some(value) = value else {
            if required {
                self.error(path, Code::Required, "an Image needs an id".to_owned());
            }
            return;
        };
        let Some(text) = value.as_str() else {
            self.error(
                path,
                Code::ValueType,
                format!("image value {} is not a URL", shown(value)),
            );
            return;
        };
        if let Some(media_type) = p::data_uri_media_type(text) {
            if !data_uri_allowed {
                self.error(
                    path,
                    Code::Image,
                    "an Assertion image may not be a data: URI; host the baked image".to_owned(),
                );
            } else if media_type != "image/png" && media_type != "image/svg+xml" {
                self.error(path, Code::Image, format!("image data URI has type {media_type:?}; it must be image/png or image/svg+xml"));
            }
        } else if !p::is_url(text) {
            self.error(
                path,
                Code::Url,
                format!("image value {text:?} is not a URL or data: URI"),
            );
        }
    }

    fn assertion_rules(&mut self, map: &Map<String, Value>, path: &str) {
        let date = |k: &str| {
            map.get(k)
                .and_then(Value::as_str)
                .and_then(crate::syntax::parse_datetime)
        };
        let issued = date("issuedOn");
        let expires = date("expires");
        let now = self.options.now;
        if let Some(issued) = issued {
            if issued > now {
                self.error(
                    &format!("{path}.issuedOn"),
                    Code::IssuedInFuture,
                    format!("issued on {issued} which is after now ({now})"),
                );
            }
        }
        if let Some(expires) = expires {
            if issued.is_some_and(|i| expires < i) {
                self.error(
                    &format!("{path}.expires"),
                    Code::ExpiresBeforeIssued,
                    "expires before it was issued".to_owned(),
                );
            }
            if expires < now {
                self.error(
                    &format!("{path}.expires"),
                    Code::Expired,
                    format!("expired on {expires}"),
                );
            }
        }
        if map.get("revoked") == Some(&Value::Bool(true)) {
            let reason = map
                .get("revocationReason")
                .and_then(Value::as_str)
                .unwrap_or("no reason given");
            self.error(
                &format!("{path}.revoked"),
                Code::Revoked,
                format!("the assertion is revoked: {reason}"),
            );
        }
    }

    fn identity_rules(&mut self, map: &Map<String, Value>, path: &str) {
        let Some(identity) = map.get("identity").and_then(Value::as_str) else {
            return;
        };
        let hashed = map.get("hashed") == Some(&Value::Bool(true));
        let hash_shaped = crate::identity::split_hash(identity).is_some();
        let identity_path = format!("{path}.identity");
        if hashed && !hash_shaped {
            self.error(&identity_path, Code::IdentityHash, format!("hashed is true but identity {identity:?} is not sha256$<64 hex> or md5$<32 hex>"));
        } else if hash_shaped && !hashed {
            self.error(
                &identity_path,
                Code::IdentityHash,
                "identity is a hash but hashed is false".to_owned(),
            );
        }
        if !hashed
            && map.get("type").and_then(Value::as_str) == Some("email")
            && !p::is_email(identity)
        {
            self.error(
                &identity_path,
                Code::Email,
                format!("email identity {identity:?} is not an email address"),
            );
        }
    }

    fn revocation_entries(&mut self, map: &Map<String, Value>, path: &str) {
        let entries_path = format!("{path}.revokedAssertions");
        let Some(entries) = map.get("revokedAssertions") else {
            self.error(
                &entries_path,
                Code::Required,
                "required property revokedAssertions is missing".to_owned(),
            );
            return;
        };
        let list: Vec<&Value> = match entries {
            Value::Array(items) => items.iter().collect(),
            other => vec![other],
        };
        for (i, entry) in list.into_iter().enumerate() {
            let entry_path = format!("{entries_path}[{i}]");
            let ok = match entry {
                Value::String(s) => p::is_iri(s),
                Value::Object(o) => match o.get("id") {
                    Some(id) => id.as_str().is_some_and(p::is_iri),
                    None => o.get("uid").is_some_and(Value::is_string),
                },
                _ => false,
            };
            if !ok {
                self.error(
                    &entry_path,
                    Code::Iri,
                    format!("revocation entry {entry} is not an IRI, {{id}} or {{uid}}"),
                );
            }
        }
    }
}

/// Checks a top-level document of whatever class its `type` names.
pub(super) fn check_top_level(
    document: &Value,
    options: &Options,
    report: &mut Report,
) -> Option<Class> {
    let mut checker = Checker {
        document: document
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned(),
        options,
        report,
    };
    if !document.is_object() {
        checker.error(
            "$",
            Code::ValueType,
            "an Open Badges document must be a JSON object".to_owned(),
        );
        return None;
    }
    let Some(class) = DocumentClass::of(document) else {
        checker.error(
            "$.type",
            Code::Type,
            format!(
                "cannot tell the document's class from type {}",
                document
                    .get("type")
                    .map_or_else(|| "(missing)".to_owned(), shown)
            ),
        );
        return None;
    };
    let class = Class::of_document(class);
    checker.node(document, "$", class);
    Some(class)
}

/// Checks a linked document that must be of `expected` class.
pub(super) fn check_linked(
    document: &Value,
    expected: Class,
    options: &Options,
    report: &mut Report,
) {
    let mut checker = Checker {
        document: document
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned(),
        options,
        report,
    };
    checker.node(document, "$", expected);
}
