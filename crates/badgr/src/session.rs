//! The authenticated session: which server and account, and the tokens that open it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use badgery_backend::Error;
use chrono::{DateTime, Utc};
use serde_json::Value;
use url::Url;

use crate::http::{Answer, send};
use crate::token::{TokenStore, Tokens};

/// Where the Badgr server is and which account issues.
#[derive(Clone)]
#[non_exhaustive]
pub struct BadgrConfig {
    /// The API's base URL (`https://api.badgr.io`, a regional host such as
    /// `https://api.eu.badgr.io`, or a self-hosted server).
    pub base_url: Url,
    /// The account's username (its email address).
    pub username: String,
    /// The account's password.
    pub password: String,
    /// The OAuth2 client id, always sent (Badgr answers 401 `invalid_client` without one):
    /// `public` by default.
    pub client_id: String,
    /// The scopes asked for.
    pub scope: String,
    /// How long one HTTP request may take.
    pub timeout: Duration,
    /// How long before its expiry an access token is refreshed.
    pub refresh_margin: Duration,
}

impl BadgrConfig {
    /// An account on the server at `base_url`, with the `public` client and the scopes an
    /// issuer needs.
    ///
    /// # Errors
    /// [`Error::Rejected`] when `base_url` is not an http(s) URL.
    pub fn new(
        base_url: &str,
        username: impl Into<String>,
        password: impl Into<String>,
    ) -> Result<Self, Error> {
        let base_url = Url::parse(base_url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && !u.cannot_be_a_base())
            .ok_or_else(|| {
                Error::Rejected(format!("Badgr base URL {base_url:?} is not an http(s) URL"))
            })?;
        Ok(BadgrConfig {
            base_url,
            username: username.into(),
            password: password.into(),
            client_id: "public".to_owned(),
            scope: "rw:profile rw:issuer rw:backpack".to_owned(),
            timeout: Duration::from_secs(20),
            refresh_margin: Duration::from_secs(300),
        })
    }

    fn url(&self, path: &str) -> Result<Url, Error> {
        self.base_url
            .join(path)
            .map_err(|e| Error::Rejected(format!("Badgr path {path:?}: {e}")))
    }
}

impl std::fmt::Debug for BadgrConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BadgrConfig")
            .field("base_url", &self.base_url.as_str())
            .field("username", &self.username)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// A logged-in session with a Badgr server: every call carries a valid access token,
/// obtained, refreshed and shared as the crate docs say.
#[derive(Debug)]
pub struct Session {
    config: BadgrConfig,
    http: reqwest::Client,
    store: Arc<dyn TokenStore>,
    state: tokio::sync::Mutex<State>,
    token_requests: AtomicU64,
    api_requests: AtomicU64,
}

#[derive(Debug, Default)]
struct State {
    tokens: Option<Tokens>,
    /// No login before this: Badgr's back-off (its 429 `expires`), or ours after a refused
    /// login.
    no_login_before: Option<DateTime<Utc>>,
    /// Logins refused in a row, for our own back-off (2^n s, at most an hour, as Badgr's).
    refused_logins: u32,
    /// The access token the API last refused: dead, even if the store still holds it.
    refused_access: Option<String>,
}

impl Session {
    /// A session for `config`, keeping tokens in `store`.
    ///
    /// # Errors
    /// [`Error::Unavailable`] when no HTTP client can be built (no TLS roots).
    pub fn new(config: BadgrConfig, store: Arc<dyn TokenStore>) -> Result<Self, Error> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .build()
            .map_err(|e| Error::unavailable_from("building the HTTP client", e))?;
        Ok(Session {
            config,
            http,
            store,
            state: tokio::sync::Mutex::default(),
            token_requests: AtomicU64::new(0),
            api_requests: AtomicU64::new(0),
        })
    }

    /// How many requests this session has made to the token endpoint.
    pub fn token_requests(&self) -> u64 {
        self.token_requests.load(Ordering::Relaxed)
    }

    /// How many API requests (not counting the token endpoint) this session has sent: an
    /// award in steady state is one.
    pub fn api_requests(&self) -> u64 {
        self.api_requests.load(Ordering::Relaxed)
    }

    /// `GET path` (relative to the base URL): the envelope's `result` list.
    ///
    /// # Errors
    /// As [`Session::call`].
    pub async fn get(&self, path: &str) -> Result<Vec<Value>, Error> {
        self.call(reqwest::Method::GET, path, None).await
    }

    /// Calls the API with a valid token and `body` as JSON: the envelope's `result` list. A
    /// 401 (the token expired or was rotated by another server) gets one new token and one
    /// retry.
    ///
    /// # Errors
    /// [`Error::Unavailable`] for a server that cannot be reached, answers 5xx or 429, or
    /// during a login back-off (the call is deferred); [`Error::Timeout`]; [`Error::NotFound`]
    /// for 404; [`Error::Rejected`] for other 4xx, with Badgr's messages.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Vec<Value>, Error> {
        let url = self.config.url(path)?;
        let what = format!("{method} {url}");
        let request = |token: &str| {
            let request = self
                .http
                .request(method.clone(), url.clone())
                .bearer_auth(token);
            match body {
                Some(body) => request.json(body),
                None => request,
            }
        };
        let token = self.access_token().await?;
        self.api_requests.fetch_add(1, Ordering::Relaxed);
        let mut answer = send(request(&token), &what).await?;
        if answer.status == 401 {
            self.rejected(&token).await;
            let token = self.access_token().await?;
            self.api_requests.fetch_add(1, Ordering::Relaxed);
            answer = send(request(&token), &what).await?;
        }
        answer.result(&what)
    }

    /// Marks `token` dead after the API refused it.
    async fn rejected(&self, token: &str) {
        self.state.lock().await.refused_access = Some(token.to_owned());
    }

    /// A valid access token: the one held, one another server stored, a refreshed one, or
    /// a new login. One token request at a time, whatever the number of callers.
    async fn access_token(&self) -> Result<String, Error> {
        let mut state = self.state.lock().await;
        let margin = chrono::Duration::from_std(self.config.refresh_margin).unwrap_or_default();
        let refused = state.refused_access.clone();
        let fresh = |tokens: &Option<Tokens>| {
            tokens
                .as_ref()
                .filter(|t| t.expires_at - margin > Utc::now())
                .filter(|t| refused.as_ref() != Some(&t.access_token))
                .map(|t| t.access_token.clone())
        };
        if let Some(token) = fresh(&state.tokens) {
            return Ok(token);
        }
        // Another process may have logged in or refreshed (and so rotated ours).
        let stored = self.store.load().await?;
        if let Some(token) = fresh(&stored) {
            state.tokens = stored;
            return Ok(token);
        }
        if stored.is_some() {
            state.tokens = stored;
        }
        if let Some(until) = state.no_login_before.filter(|until| *until > Utc::now()) {
            return Err(Error::unavailable(format!(
                "Badgr's login back-off lasts until {until}: the call is deferred"
            )));
        }
        let refresh = state.tokens.as_ref().and_then(|t| t.refresh_token.clone());
        let mut form = vec![("client_id", self.config.client_id.clone())];
        match &refresh {
            Some(token) => {
                form.push(("grant_type", "refresh_token".to_owned()));
                form.push(("refresh_token", token.clone()));
            }
            None => {
                form.push(("grant_type", "password".to_owned()));
                form.push(("scope", self.config.scope.clone()));
                form.push(("username", self.config.username.clone()));
                form.push(("password", self.config.password.clone()));
            }
        }
        let url = self.config.url("/o/token")?;
        self.token_requests.fetch_add(1, Ordering::Relaxed);
        let answer = send(self.http.post(url).form(&form), "POST /o/token").await?;
        match answer.status {
            200 => {
                let tokens = tokens_from(&answer)?;
                self.store.save(Some(&tokens)).await?;
                let token = tokens.access_token.clone();
                state.tokens = Some(tokens);
                state.no_login_before = None;
                state.refused_logins = 0;
                Ok(token)
            }
            429 => {
                // Badgr's back-off, which it restarts on every refused token request.
                let wait = answer
                    .body
                    .get("expires")
                    .and_then(Value::as_i64)
                    .unwrap_or(2);
                state.no_login_before = Some(Utc::now() + chrono::Duration::seconds(wait.max(1)));
                Err(Error::unavailable(format!(
                    "Badgr throttles logins for {wait} s ({}): the call is deferred",
                    answer.messages()
                )))
            }
            500..=599 => Err(Error::unavailable(format!(
                "POST /o/token: Badgr answered {}: {}",
                answer.status,
                answer.messages()
            ))),
            status => {
                // A refused refresh token is dead (rotated by another server, or expired):
                // log in next time. A refused login waits, since each refusal lengthens
                // Badgr's back-off.
                if refresh.is_some() {
                    // Forget them, unless another server has rotated them meanwhile and
                    // stored the new pair, which is then used next time.
                    let stored = self.store.load().await?;
                    let rotated = stored.as_ref().is_some_and(|t| t.refresh_token != refresh);
                    if rotated {
                        state.tokens = stored;
                    } else {
                        state.tokens = None;
                        self.store.save(None).await?;
                    }
                } else {
                    state.refused_logins = state.refused_logins.saturating_add(1);
                    let wait = 2_i64.saturating_pow(state.refused_logins).min(3600);
                    state.no_login_before = Some(Utc::now() + chrono::Duration::seconds(wait));
                }
                let grant = if refresh.is_some() {
                    "refresh"
                } else {
                    "login"
                };
                Err(Error::unavailable(format!(
                    "Badgr refused the {grant} ({status}: {}): the call is deferred",
                    answer.messages()
                )))
            }
        }
    }
}

fn tokens_from(answer: &Answer) -> Result<Tokens, Error> {
    let body = &answer.body;
    let access = body.get("access_token").and_then(Value::as_str);
    let lifetime = body.get("expires_in").and_then(Value::as_i64);
    match (access, lifetime) {
        (Some(access), Some(lifetime)) if !access.is_empty() && lifetime > 0 => Ok(Tokens::new(
            access,
            body.get("refresh_token")
                .and_then(Value::as_str)
                .map(str::to_owned),
            Utc::now() + chrono::Duration::seconds(lifetime),
        )),
        _ => Err(Error::unavailable(
            "POST /o/token: Badgr answered 200 without access_token and expires_in",
        )),
    }
}
