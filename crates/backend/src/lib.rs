//! The traits a host platform implements or picks to issue Open Badges: where an award goes
//! ([`BadgeBackend`]: the platform's own hosted issuer, Badgr, others) and where badge classes,
//! issued assertions and pending awards are kept ([`BadgeStore`]: a [`ClassCatalog`], an
//! [`AwardLedger`] and an [`AssertionRepository`]), with an in-memory store
//! ([`MemoryStore`]) and a conformance suite any store can run (`conformance`, feature
//! `testing`).
//!
//! The ledger's atomic [`AwardLedger::claim`] is what makes issuing exactly-once: an award is
//! claimed before the backend is called, so of two concurrent attempts only one goes ahead,
//! and a crash between the call and its recording leaves a pending award that is retried with
//! the same idempotency key.
//!
//! ```
//! use badgery_backend::{AwardKey, AwardLedger, Claim, MemoryStore, PendingAward, Recipient};
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let store = MemoryStore::new();
//! let now = chrono::Utc::now();
//! let award = |n| PendingAward::new(AwardKey::new("ada", "rust-101", 1),
//!                                    Recipient::new("ada", "ada@example.org"), vec![], n, now);
//! assert!(matches!(store.claim(award("first"), now).await?, Claim::Won(_)));
//! assert!(matches!(store.claim(award("second"), now).await?, Claim::Exists(_)));
//! # Ok::<(), badgery_backend::Error>(())
//! # }).unwrap();
//! ```

#![forbid(unsafe_code)]

#[cfg(feature = "testing")]
pub mod conformance;
mod error;
mod memory;
mod traits;
mod types;

pub use error::{Cause, Error};
pub use memory::MemoryStore;
pub use traits::{
    AssertionRepository, AwardLedger, BadgeBackend, BadgeStore, ClassCatalog, ProgressStore,
};
pub use types::{
    Alignment, AssertionFilter, AwardKey, AwardRequest, AwardState, BadgeClassRecord, BatchCommit,
    Claim, ClassImage, CourseFilter, EvidenceItem, Expiry, ImageFormat, IssuedAssertion,
    PendingAward, ProgressCommit, ProgressUpdate, Recipient, StoredProgress, check_identifier,
    check_slug,
};
