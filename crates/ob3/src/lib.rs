//! Open Badges 3.0 for Badgery: OpenBadgeCredentials (W3C Verifiable Credentials 2.0) issued
//! under a `did:web`, https or `did:key` identity, signed as VC-JWT or with an embedded
//! `eddsa-rdfc-2022` proof, revocable through a Bitstring status list, baked into PNG and SVG
//! images, and verified.
//!
//! ```
//! use badgery_model::jws::{Algorithm, SigningKey};
//! use badgery_ob3::credential::{Achievement, Criteria, Profile};
//! use badgery_ob3::issue::{CredentialRequest, Issuer};
//! use badgery_ob3::status::StatusList;
//! use badgery_ob3::verify::{Document, Documents, Verifier};
//! use chrono::{TimeZone, Utc};
//!
//! let issuer = Issuer::new(
//!     "https://lms.example.org/ob/",
//!     Profile::new("", "Example Academy"),
//!     SigningKey::generate(Algorithm::Es256)?,
//!     "key-1",
//!     "https://lms.example.org/ob/status/1",
//! )?;
//! assert_eq!(issuer.identity().id(), "did:web:lms.example.org:ob");
//!
//! let achievement = Achievement::new(
//!     "https://lms.example.org/ob/badges/rust",
//!     "Rust",
//!     "Completed the Rust course.",
//!     Criteria::narrative("Pass the final exam."),
//! );
//! let at = Utc.with_ymd_and_hms(2026, 3, 10, 12, 0, 0).unwrap();
//! let mut request = CredentialRequest::new("urn:uuid:8c2f…", achievement, "urn:uuid:5b1e…", at);
//! request.status_index = Some(7);
//! let token = issuer.sign_jwt(&issuer.credential(&request))?;
//!
//! // What a verifier needs: the DID document and the status list, as the host serves them.
//! let mut documents = Documents::new();
//! let (did_document_url, did_document) = issuer.controller_document().expect("a did:web's");
//! documents.insert(did_document_url.as_str(), Document::Json(did_document));
//! let mut list = StatusList::new();
//! let publish = |list: &StatusList, documents: &mut Documents| -> Result<(), badgery_ob3::Error> {
//!     let jwt = issuer.status_list_jwt(list, at)?;
//!     documents.insert(issuer.status_list_url(), Document::Jwt(jwt));
//!     Ok(())
//! };
//! publish(&list, &mut documents)?;
//! let verdict = Verifier::new(documents.clone(), at).verify(token.as_bytes());
//! assert!(verdict.is_valid(), "{:?}", verdict.errors());
//!
//! // Revoked: bit 7 set in a newly signed list.
//! list.set(7, true)?;
//! publish(&list, &mut documents)?;
//! let verdict = Verifier::new(documents, at).verify(token.as_bytes());
//! assert_eq!(verdict.errors(), ["status: revocation bit 7 is set in https://lms.example.org/ob/status/1"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The model ([`credential`]) writes what the 1EdTech schema wants (every list an array, the
//! VC 2.0 and OB 3.0.3 contexts first); [`jwt`] signs and reads VC-JWTs (RS256 and ES256, the
//! algorithms the 1EdTech validator accepts); [`status`] keeps the revocation list; [`did`]
//! names the issuer; [`bake`] puts a credential into a badge image; [`verify`] checks one in
//! the certification validator's order. Not yet here: embedded `eddsa-rdfc-2022` proofs.

#![forbid(unsafe_code)]

pub mod bake;
pub mod canon;
pub mod credential;
pub mod did;
pub mod eddsa;
mod error;
pub mod issue;
pub mod jwt;
mod schema;
pub mod status;
mod terms;
pub mod verify;

pub use credential::OpenBadgeCredential;
pub use error::Error;
