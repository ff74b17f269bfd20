//! OAuth2 tokens and where they are kept between processes.

use std::sync::Mutex;

use async_trait::async_trait;
use badgery_backend::Error;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A Badgr access token, the refresh token issued with it, and when the access token
/// expires.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Tokens {
    /// The bearer token.
    pub access_token: String,
    /// The token that obtains the next pair (Badgr rotates both on refresh).
    pub refresh_token: Option<String>,
    /// When the access token stops working (Badgr slides it forward on use; this is the
    /// latest expiry the client knows of).
    pub expires_at: DateTime<Utc>,
}

impl Tokens {
    /// Tokens as the host stored them.
    pub fn new(
        access_token: impl Into<String>,
        refresh_token: Option<String>,
        expires_at: DateTime<Utc>,
    ) -> Self {
        Tokens {
            access_token: access_token.into(),
            refresh_token,
            expires_at,
        }
    }
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Tokens are credentials: never in logs.
        write!(f, "Tokens(.., expires_at: {})", self.expires_at)
    }
}

/// Where the session keeps its tokens: the host's database or secret store, shared by its
/// app servers, so that a restart or another server reuses them rather than logging in
/// again (each login counts against Badgr's back-off).
#[async_trait]
pub trait TokenStore: Send + Sync + std::fmt::Debug {
    /// The tokens kept, if any.
    ///
    /// # Errors
    /// The store's own errors.
    async fn load(&self) -> Result<Option<Tokens>, Error>;

    /// Keeps `tokens`, replacing those kept (`None`: forget them, they are dead).
    ///
    /// # Errors
    /// The store's own errors.
    async fn save(&self, tokens: Option<&Tokens>) -> Result<(), Error>;
}

/// Tokens in this process's memory: the default, lost on restart.
#[derive(Debug, Default)]
pub struct MemoryTokenStore {
    tokens: Mutex<Option<Tokens>>,
}

#[async_trait]
impl TokenStore for MemoryTokenStore {
    async fn load(&self) -> Result<Option<Tokens>, Error> {
        Ok(self.tokens.lock().map_err(poisoned)?.clone())
    }

    async fn save(&self, tokens: Option<&Tokens>) -> Result<(), Error> {
        *self.tokens.lock().map_err(poisoned)? = tokens.cloned();
        Ok(())
    }
}

fn poisoned<T>(_: std::sync::PoisonError<T>) -> Error {
    Error::storage("the token store's lock", std::io::Error::other("poisoned"))
}
