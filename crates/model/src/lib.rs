//! The Open Badges 2.0 data model: every class as a Rust type, lossless JSON-LD, recipient
//! hashing and matching, reading of 0.5/1.0/1.1 documents, and a validator that agrees with the
//! official 1EdTech validator and also catches what it misses.
//!
//! Build an assertion, serialise it, validate it:
//!
//! ```
//! use badgery_model::validate::{validate, DocumentSet, Options};
//! use badgery_model::{Assertion, BadgeClass, Criteria, IdentityObject, IdentityType, Profile,
//!                     VerificationObject};
//!
//! let base = url::Url::parse("https://lms.example.org/ob/")?;
//! let issuer = Profile::issuer(base.join("issuer")?, "Example LMS", base.join("/")?,
//!                              "badges@lms.example.org")?;
//! let badge = BadgeClass::new(
//!     base.join("badges/rust-101")?, "Rust 101", "Completed the Rust course.",
//!     base.join("badges/rust-101/image.png")?,
//!     Criteria::narrative("Pass every quiz with 80%."), base.join("issuer")?,
//! );
//! let assertion = Assertion::new(
//!     base.join("assertions/1")?,
//!     IdentityObject::hashed(IdentityType::Email, "Learner@Example.com")?,
//!     base.join("badges/rust-101")?.into(),
//!     VerificationObject::hosted(),
//!     chrono::Utc::now(),
//! );
//!
//! let json = assertion.to_json_pretty();
//! assert_eq!(Assertion::from_json(&json)?, assertion);
//!
//! let mut served = DocumentSet::new();
//! for doc in [issuer.to_value(), badge.to_value(), assertion.to_value()] {
//!     served.insert(doc);
//! }
//! let options = Options::default().with_recipient("learner@example.com");
//! let report = validate(&assertion.to_value(), &served, &options);
//! assert!(report.is_valid(), "{report}");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Reading is permissive, writing is strict
//!
//! Parsing keeps every property, including unknown ones and extensions, and keeps
//! single-or-array and IRI-or-object shapes as written, so that `from_json` then `to_value`
//! gives back the same JSON value. (Known properties are written in this crate's order,
//! unknown ones after them in document order; JSON object order carries no meaning.) Values are kept as written (an IRI or date that is not
//! valid still loads); [`validate`] reports such problems with their JSON path. The
//! constructors (`Assertion::new`, `BadgeClass::new`, `Profile::issuer`, …) take every
//! required property and emit the validator-compatible profile: `@context` and `type` as plain
//! strings, timestamps as `YYYY-MM-DDTHH:MM:SSZ`, recipients hashed with a per-assertion salt,
//! issuers with name, url and email.
//!
//! One normalisation is not reversed: the `verify` alias of `verification` is read and written
//! back as `verification`.

#![forbid(unsafe_code)]

mod assertion;
mod badge_class;
mod document;
mod error;
mod identity;
pub mod jws;
mod key;
pub mod legacy;
mod objects;
mod profile;
mod revocation;
pub mod syntax;
pub mod validate;
mod value;
mod verification;

pub use assertion::{Assertion, RevokedAssertion};
pub use badge_class::BadgeClass;
pub use document::{Document, DocumentClass};
pub use error::Error;
pub use identity::{HashAlgorithm, IdentityObject, IdentityType, identity_hash};
pub use key::CryptographicKey;
pub use objects::{AlignmentObject, Criteria, Evidence, Image};
pub use profile::{Endorsement, EndorsementClaim, Profile};
pub use revocation::{RevocationList, RevokedEntry};
pub use value::{
    CONTEXT_V1, CONTEXT_V2, Context, ContextEntry, DateTimeText, Extra, IdOr, Iri, OneOrMany, Types,
};
pub use verification::VerificationObject;
