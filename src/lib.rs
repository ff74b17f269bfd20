//! Badgery: Open Badges 2.0 for learning platforms.
//!
//! This crate composes the Badgery libraries into what a host platform uses: the awarding
//! [`Engine`] (events → rules → exactly-once awards through a backend → the store) and the
//! [`HostedIssuer`] backend, which issues hosted OB 2.0 assertions itself and bakes them. It
//! re-exports the parts: [`model`] (`badgery-model`), [`bake`] (`badgery-bake`), [`rules`]
//! (`badgery-rules`), [`backend`] (`badgery-backend`) and `store_sql` (`badgery-store-sql`,
//! features `sqlite`, on by default, and `postgres`).
//!
//! ```
//! use std::sync::Arc;
//! use badgery::backend::{BadgeClassRecord, ClassImage, ImageFormat, MemoryStore};
//! use badgery::rules::{ClassRule, Event, RuleSet};
//! use badgery::{Engine, HostedIssuer, IdSecret, IssuerProfile, Outcome, StaticDirectory, UrlScheme};
//!
//! # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
//! let course = "course-v1:Org+Rust+2026";
//! let rules = RuleSet::new(vec![ClassRule::course_completion("rust", course, None)])?;
//! let issuer = HostedIssuer::new(
//!     UrlScheme::new("https://lms.example.org/ob/")?,
//!     IssuerProfile::new("Example LMS", "https://lms.example.org".parse()?, "badges@lms.example.org"),
//!     IdSecret::generate()?, // in production: the platform's stored secret
//! )?;
//! let directory = StaticDirectory::new().learner("ada", "ada@example.org");
//! let engine = Engine::new(rules, Arc::new(MemoryStore::new()), Arc::new(issuer), Arc::new(directory));
//!
//! # let png = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/images/rust.png"))?;
//! let image = ClassImage { format: ImageFormat::Png, bytes: png };
//! // The class's course and mode are the rules': the record takes them when registered.
//! engine.register_classes(vec![
//!     BadgeClassRecord::new("rust", "Rust", "Completed the Rust course.", "Pass the course.", image),
//! ]).await?;
//!
//! let event = Event::from_json(&format!(
//!     r#"{{"event":"certificate","learner":"ada","course":"{course}","passed":true}}"#))?;
//! let outcomes = engine.handle(&event).await?;
//! let Outcome::Issued(assertion) = &outcomes[0] else { panic!("not issued: {outcomes:?}") };
//! assert!(assertion.id.starts_with("https://lms.example.org/ob/assertions/"));
//! // The same event again issues nothing.
//! assert!(matches!(engine.handle(&event).await?[..], []));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]

mod class_image;
mod engine;
mod error;
pub mod fault;
mod hosted;
#[cfg(feature = "ob3")]
mod ob3_issuing;

/// The attribute the traits a host implements ([`Directory`], the backend and store traits)
/// are written with; re-exported so that a host needs no dependency of its own for it.
pub use async_trait::async_trait;
pub use badgery_backend as backend;
pub use badgery_bake as bake;
pub use badgery_model as model;
/// Open Badges 3.0 (`badgery-ob3`, feature `ob3`): credentials, VC-JWT, status lists,
/// did:web, baking, verification.
#[cfg(feature = "ob3")]
pub use badgery_ob3 as ob3;
pub use badgery_rules as rules;
/// The durable stores (`badgery-store-sql`): SQLite (feature `sqlite`, on by default) and
/// PostgreSQL (feature `postgres`).
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub use badgery_store_sql as store_sql;
pub use class_image::check_class_image;
pub use engine::{
    AutoClasses, CourseInfo, Directory, Engine, MemoryUse, Notifier, Outcome, RetryPolicy,
    StaticDirectory,
};
pub use error::Error;
pub use hosted::{
    HostedIssuer, HostedRecord, IdSecret, IssuerProfile, Ob3Credential, Ob3Record, Route,
    ServedDocument, UrlScheme,
};
#[cfg(feature = "ob3")]
pub use ob3_issuing::{IssuedAs, Ob3Issuing, Ob3Proof};
