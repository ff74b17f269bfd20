//! Badgery: Open Badges 2.0 for learning platforms.
//!
//! This crate composes the Badgery libraries; for now it re-exports the data model
//! ([`model`], the `badgery-model` crate), the baker ([`bake`], `badgery-bake`) and the award
//! rules ([`rules`], `badgery-rules`).
//!
//! ```
//! use badgery::model::{IdentityObject, IdentityType};
//! let id = IdentityObject::hashed_with_salt(IdentityType::Email, "learner@example.com", "oRb7Xq2v");
//! assert!(id.matches("Learner@Example.com"));
//! ```

#![forbid(unsafe_code)]

pub use badgery_bake as bake;
pub use badgery_model as model;
pub use badgery_rules as rules;
