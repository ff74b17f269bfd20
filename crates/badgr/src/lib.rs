//! A Badgery backend for Badgr and Canvas Credentials, over the Badgr v2 API, built against
//! the behaviour of the real server (`badgr-server` v3.14.1, recorded exchange by exchange).
//!
//! [`Session`] holds the login: OAuth2 password-grant tokens kept through a [`TokenStore`]
//! the host implements, so that a restart or a second app server reuses them (tested with
//! two sessions over one token store, in one process), refreshed before they expire and
//! after a 401, with Badgr's rotation (after a refresh the old access and refresh tokens are
//! dead). Badgr's login back-off is respected: any failed token request makes Badgr answer
//! 429 to every login for a while, even with the right password, so the session waits it out
//! and reports the call as deferred (a transient error) instead of hammering the token
//! endpoint. Every response body is read with a size limit.
//!
//! [`BadgrBackend`] is the `BadgeBackend`: a class is created once (found again by its
//! `badgery:SLUG` tag when a creation's answer was lost; two app servers creating it at
//! once both take the first created, as Badgr has no unique key for a class; a class id set
//! by an admin is used as is), an award is posted with `allowDuplicateAwards: false` and Badgr's "previous award
//! already exists" answer means an earlier call got through, so the award Badgr holds is
//! adopted; a repeated award (number 2 and on) is found by counting the recipient's awards;
//! "already revoked" means revoked.
//!
//! ```no_run
//! use badgery_badgr::{BadgrConfig, MemoryTokenStore, Session};
//! # async fn run() -> Result<(), badgery_backend::Error> {
//! let config = BadgrConfig::new("https://api.eu.badgr.io", "issuer@example.org", "secret")?;
//! let session = Session::new(config, std::sync::Arc::new(MemoryTokenStore::default()))?;
//! let me = session.get("/v2/users/self").await?;
//! println!("{}", me[0]["entityId"]);
//! # Ok(()) }
//! ```

#![forbid(unsafe_code)]

mod backend;
mod http;
mod session;
mod token;

pub use backend::BadgrBackend;
pub use session::{BadgrConfig, Session};
pub use token::{MemoryTokenStore, TokenStore, Tokens};
