//! Validation: a report of findings for a document and the documents it links to.
//!
//! [`validate_document`] checks one JSON document on its own; [`validate`] also follows the
//! links an Assertion or BadgeClass makes (badge class, issuer, keys, endorsements,
//! revocation list) through a [`Resolver`] the host supplies, and runs the cross-document
//! checks (hosted verification scope, recipient, key ownership).
//!
//! The checks are those of the official 1EdTech validator 1.1.2 that need no network, plus
//! the ones it misses (see the [`Code`] list): `type` values, the issuer's email, a revoked
//! assertion, an embedded criteria with neither id nor narrative, a verification object without
//! a type. Findings carry the document, a JSON path, a [`Code`] and a message.
//!
//! ```
//! use badgery_model::validate::{validate, DocumentSet, Options};
//! let issuer = serde_json::json!({
//!     "@context": "https://w3id.org/openbadges/v2", "type": "Issuer",
//!     "id": "https://lms.example.org/issuer", "name": "LMS",
//!     "url": "https://lms.example.org", "email": "badges@lms.example.org"
//! });
//! let mut docs = DocumentSet::new();
//! docs.insert(issuer.clone());
//! let report = validate(&issuer, &docs, &Options::default());
//! assert!(report.is_valid(), "{report}");
//! ```

mod graph;
mod nodes;
mod resolve;

use std::fmt;

use chrono::Utc;

pub use graph::{validate, validate_signed};
pub use resolve::{DocumentSet, Resolver};

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Severity {
    /// Worth knowing; the document is still valid.
    Warning,
    /// The document is not valid.
    Error,
}

/// What a finding is about. The codes marked *(beyond 1.1.2)* are checks the official
/// validator misses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Code {
    /// A required property is missing, null or empty.
    Required,
    /// A property that takes one value has several.
    SingleValue,
    /// A value has the wrong JSON type (string, boolean, object…).
    ValueType,
    /// A value is not a valid IRI.
    Iri,
    /// A value is not a valid http(s) URL.
    Url,
    /// A value is not an ISO 8601 date and time with a zone.
    DateTime,
    /// A telephone number is not in E.164 form.
    Telephone,
    /// A language tag is not well formed.
    Language,
    /// An email address is not of the form `local@domain` *(beyond 1.1.2 for issuers)*.
    Email,
    /// The `type` is missing or not the expected class *(beyond 1.1.2)*.
    Type,
    /// `hashed` does not agree with the shape of `identity`.
    IdentityHash,
    /// The issue date is after "now".
    IssuedInFuture,
    /// The assertion has expired.
    Expired,
    /// The expiry is before the issue date.
    ExpiresBeforeIssued,
    /// The assertion is revoked *(beyond 1.1.2 for hosted badges)*.
    Revoked,
    /// A hosted assertion's id is outside its issuer's verification scope.
    VerificationScope,
    /// A linked document could not be resolved (the validator's failed fetch).
    Unresolved,
    /// An image is not a PNG or SVG `data:` URI, or an assertion image is a `data:` URI.
    Image,
    /// A Criteria has neither `id` nor `narrative` *(beyond 1.1.2)*.
    Criteria,
    /// The recipient does not match the expected identity.
    Recipient,
    /// A signing key is not listed by the issuer, not owned by it, or outside its origins.
    KeyOwnership,
    /// A signed badge's JWS cannot be read, or its signature does not verify with the
    /// issuer's key (or was not checked: a warning when the JSON alone is validated).
    Signature,
    /// The issuer id is not an HTTP(S) URL (a warning, as in 1.1.2).
    IssuerId,
    /// A document fetched at one IRI declares another `id`.
    IdMismatch,
    /// A document had more findings than a report keeps for one document
    /// ([`Report::MAX_PER_DOCUMENT`]); this one counts the rest.
    TooManyFindings,
}

impl Code {
    /// A stable upper-case name for the code, used in printed findings.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Required => "REQUIRED",
            Code::SingleValue => "SINGLE_VALUE",
            Code::ValueType => "VALUE_TYPE",
            Code::Iri => "IRI",
            Code::Url => "URL",
            Code::DateTime => "DATETIME",
            Code::Telephone => "TELEPHONE",
            Code::Language => "LANGUAGE",
            Code::Email => "EMAIL",
            Code::Type => "TYPE",
            Code::IdentityHash => "IDENTITY_HASH",
            Code::IssuedInFuture => "ISSUED_IN_FUTURE",
            Code::Expired => "EXPIRED",
            Code::ExpiresBeforeIssued => "EXPIRES_BEFORE_ISSUED",
            Code::Revoked => "REVOKED",
            Code::VerificationScope => "VERIFICATION_SCOPE",
            Code::Unresolved => "UNRESOLVED",
            Code::Image => "IMAGE",
            Code::Criteria => "CRITERIA",
            Code::Recipient => "RECIPIENT",
            Code::KeyOwnership => "KEY_OWNERSHIP",
            Code::Signature => "SIGNATURE",
            Code::IssuerId => "ISSUER_ID",
            Code::IdMismatch => "ID_MISMATCH",
            Code::TooManyFindings => "TOO_MANY_FINDINGS",
        }
    }
}

/// One problem found.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Error or warning.
    pub severity: Severity,
    /// The IRI of the document the finding is in (empty when the document has no id).
    pub document: String,
    /// JSON path within that document, such as `$.recipient.identity`.
    pub path: String,
    /// What kind of problem it is.
    pub code: Code,
    /// A sentence saying what is wrong.
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.severity {
            Severity::Error => "ERROR",
            Severity::Warning => "WARNING",
        };
        let document = if self.document.is_empty() {
            "(input)"
        } else {
            &self.document
        };
        write!(
            f,
            "[{level}] {} {document} {}: {}",
            self.code.as_str(),
            self.path,
            self.message
        )
    }
}

/// The findings of a validation, in the order they were found: at most
/// [`Report::MAX_PER_DOCUMENT`] for one document, then one finding that counts the rest (a
/// hostile document with a 50 MB array must not yield millions of findings).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Every finding kept.
    pub findings: Vec<Finding>,
    /// Per document: findings recorded, and of those left out, how many, and whether any was
    /// an error.
    tally: std::collections::HashMap<String, (usize, usize, bool)>,
}

impl Report {
    /// The most findings kept for one document.
    pub const MAX_PER_DOCUMENT: usize = 100;

    /// Records a finding, or counts it when its document has [`Report::MAX_PER_DOCUMENT`]
    /// already.
    pub fn push(&mut self, finding: Finding) {
        let (kept, omitted, error) = self.tally.entry(finding.document.clone()).or_default();
        if *kept < Self::MAX_PER_DOCUMENT {
            *kept += 1;
            self.findings.push(finding);
        } else {
            *omitted += 1;
            *error |= finding.severity == Severity::Error;
        }
    }

    /// Adds, for each document with findings left out, one finding that says how many.
    pub(crate) fn finish(&mut self) {
        let mut omitted: Vec<(String, usize, bool)> = self
            .tally
            .iter()
            .filter(|(_, (_, n, _))| *n > 0)
            .map(|(doc, (_, n, error))| (doc.clone(), *n, *error))
            .collect();
        omitted.sort();
        for (document, n, error) in omitted {
            self.findings.push(Finding {
                severity: if error {
                    Severity::Error
                } else {
                    Severity::Warning
                },
                document,
                path: "$".to_owned(),
                code: Code::TooManyFindings,
                message: format!(
                    "{n} more findings in this document were left out (at most {} are kept)",
                    Self::MAX_PER_DOCUMENT
                ),
            });
        }
        self.tally.clear();
    }

    /// Whether there is no error (warnings allowed).
    pub fn is_valid(&self) -> bool {
        self.error_count() == 0
    }

    /// The number of errors.
    pub fn error_count(&self) -> usize {
        self.count(Severity::Error)
    }

    /// The number of warnings.
    pub fn warning_count(&self) -> usize {
        self.count(Severity::Warning)
    }

    fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }

    /// Whether some finding has this code.
    pub fn has(&self, code: Code) -> bool {
        self.findings.iter().any(|f| f.code == code)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for finding in &self.findings {
            writeln!(f, "{finding}")?;
        }
        write!(
            f,
            "valid: {}, errors: {}, warnings: {}",
            self.is_valid(),
            self.error_count(),
            self.warning_count()
        )
    }
}

/// What a validation checks against.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Options {
    /// The instant timestamps are compared with (issue date not after it, expiry not before).
    pub now: chrono::DateTime<Utc>,
    /// An identity the assertion's recipient must match (an email address, URL, telephone
    /// number or profile IRI, per the recipient's type), like the validator's `--recipient`.
    pub recipient: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            now: Utc::now(),
            recipient: None,
        }
    }
}

impl Options {
    /// Options with the given "now" and no expected recipient.
    pub fn at(now: chrono::DateTime<Utc>) -> Self {
        Options {
            now,
            recipient: None,
        }
    }

    /// Sets the identity the recipient must match.
    pub fn with_recipient(mut self, identity: impl Into<String>) -> Self {
        self.recipient = Some(identity.into());
        self
    }
}

/// Checks one document on its own (no links followed): its properties, the nodes it embeds and
/// the timestamps. Use [`validate`] for the full, linked check.
pub fn validate_document(document: &serde_json::Value, options: &Options) -> Report {
    let mut report = Report::default();
    nodes::check_top_level(document, options, &mut report);
    report.finish();
    report
}
