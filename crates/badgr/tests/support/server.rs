//! A Badgr test server answering as the real one did in the recorded exchanges
//! (`shared/badgr/transcripts/` of the Badgery workspace: `badgr-server` v3.14.1, commit
//! `2344c612`). Status codes, content types and bodies are copied from those exchanges; each
//! handler names the ones it follows. What is not recorded is not imitated.

#![allow(dead_code)] // Each test crate uses part of it.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

pub(crate) const USERNAME: &str = "issuer@badgr.test";
pub(crate) const PASSWORD: &str = "Badgr-Test-Pass-2021";

/// What the server holds and counts.
#[derive(Debug)]
pub(crate) struct Server {
    /// Access token → when it expires.
    access: HashMap<String, Instant>,
    refresh: HashSet<String>,
    /// Refused token requests in a row, and the back-off they started.
    failures: u32,
    blocked_until: Option<Instant>,
    next_token: u64,
    /// How long an access token lives (86 400 s on the real server).
    pub(crate) lifetime: Duration,
    /// The unit of the login back-off, 2^n of it (one second on the real server).
    pub(crate) backoff_unit: Duration,
    /// API answers still to fail with 503 before answering again.
    pub(crate) fail_next: u32,
    pub(crate) password_grants: u32,
    pub(crate) refresh_grants: u32,
    pub(crate) refused_token_requests: u32,
    pub(crate) api_requests: u32,
}

pub(crate) type Shared = Arc<Mutex<Server>>;

/// Starts the server on a free loopback port: its base URL and state.
pub(crate) async fn start() -> (String, Shared) {
    let state = Arc::new(Mutex::new(Server {
        access: HashMap::new(),
        refresh: HashSet::new(),
        failures: 0,
        blocked_until: None,
        next_token: 0,
        lifetime: Duration::from_secs(86_400),
        backoff_unit: Duration::from_millis(1000),
        fail_next: 0,
        password_grants: 0,
        refresh_grants: 0,
        refused_token_requests: 0,
        api_requests: 0,
    }));
    let app = axum::Router::new()
        .route("/o/token", post(token))
        .route("/v2/users/self", get(users_self))
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, state)
}

/// A JSON body with the content type the real server gave it (some token errors come as
/// `text/html` although the body is JSON: exchanges 02, 03, 60).
fn answer(status: u16, content_type: &'static str, body: Value) -> Response {
    (
        StatusCode::from_u16(status).unwrap(),
        [(header::CONTENT_TYPE, content_type)],
        body.to_string(),
    )
        .into_response()
}

const JSON: &str = "application/json";
const HTML: &str = "text/html; charset=utf-8";

impl Server {
    /// Every access token stops working (as after a rotation by another client).
    pub(crate) fn forget_access_tokens(&mut self) {
        self.access.clear();
    }

    fn issue(&mut self) -> Value {
        self.next_token += 1;
        let access = format!("access-{}", self.next_token);
        let refresh = format!("refresh-{}", self.next_token);
        self.access
            .insert(access.clone(), Instant::now() + self.lifetime);
        self.refresh.insert(refresh.clone());
        self.failures = 0;
        // Exchange 01.
        json!({"access_token": access, "expires_in": self.lifetime.as_secs(),
               "token_type": "Bearer", "scope": "rw:profile rw:issuer rw:backpack",
               "refresh_token": refresh})
    }

    /// Any refused token request starts (and lengthens) the login back-off.
    fn refuse(&mut self, status: u16, content_type: &'static str, body: Value) -> Response {
        self.failures += 1;
        self.refused_token_requests += 1;
        let wait = self.backoff_unit * 2u32.saturating_pow(self.failures).min(3600);
        self.blocked_until = Some(Instant::now() + wait);
        answer(status, content_type, body)
    }
}

async fn token(State(state): State<Shared>, Form(form): Form<HashMap<String, String>>) -> Response {
    let mut server = state.lock().unwrap();
    if let Some(until) = server.blocked_until.filter(|until| *until > Instant::now()) {
        // Exchange 60: even the right password, while the back-off lasts.
        let left = until.duration_since(Instant::now()).as_secs_f64().ceil() as u64;
        server.refused_token_requests += 1;
        return answer(
            429,
            HTML,
            json!({
            "error_description": "Too many login attempts. Please wait and try again.",
            "error": "login attempts throttled", "expires": left.max(1)}),
        );
    }
    match form.get("client_id").map(String::as_str) {
        // Exchange 05.
        None => return server.refuse(401, JSON, json!({"error": "invalid_client"})),
        Some("public") => {}
        // Exchange 03.
        Some(_) => return server.refuse(400, HTML, json!({"error": "invalid client_id"})),
    }
    match form.get("grant_type").map(String::as_str) {
        Some("password") => {
            let scope_ok = form.get("scope").is_none_or(|scope| {
                scope
                    .split(' ')
                    .all(|s| ["rw:profile", "rw:issuer", "rw:backpack"].contains(&s))
            });
            if !scope_ok {
                // Exchange 02.
                return server.refuse(400, HTML, json!({"error": "invalid scope requested"}));
            }
            if form.get("username").map(String::as_str) != Some(USERNAME)
                || form.get("password").map(String::as_str) != Some(PASSWORD)
            {
                // Exchange 59.
                return server.refuse(
                    400,
                    JSON,
                    json!({"error": "invalid_grant",
                    "error_description": "Invalid credentials given."}),
                );
            }
            server.password_grants += 1;
            let body = server.issue();
            answer(200, JSON, body)
        }
        Some("refresh_token") => {
            let given = form.get("refresh_token").cloned().unwrap_or_default();
            if !server.refresh.remove(&given) {
                // Exchange 57: a refresh token used once is dead.
                return server.refuse(400, JSON, json!({"error": "invalid_grant"}));
            }
            // Exchanges 55 and 56: both tokens rotate; the old access token is dead.
            let old_access = format!("access-{}", &given["refresh-".len()..]);
            server.access.remove(&old_access);
            server.refresh_grants += 1;
            let body = server.issue();
            answer(200, JSON, body)
        }
        _ => server.refuse(400, JSON, json!({"error": "unsupported_grant_type"})),
    }
}

/// Exchange 08 (and 56): a missing, unknown or expired token.
fn unauthorised() -> Response {
    answer(
        401,
        JSON,
        json!({"status": {"success": false,
        "description": "no valid auth token found"}, "result": [],
        "fieldErrors": {}, "validationErrors": []}),
    )
}

/// Whether the request carries a live access token.
fn authorised(server: &Server, headers: &HeaderMap) -> bool {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    token
        .and_then(|t| server.access.get(t))
        .is_some_and(|expires| *expires > Instant::now())
}

async fn users_self(State(state): State<Shared>, headers: HeaderMap) -> Response {
    let mut server = state.lock().unwrap();
    server.api_requests += 1;
    if server.fail_next > 0 {
        server.fail_next -= 1;
        return answer(503, HTML, Value::String("Service Unavailable".into()));
    }
    if !authorised(&server, &headers) {
        return unauthorised();
    }
    // Exchange 06, shortened to the fields a client reads.
    answer(
        200,
        JSON,
        json!({"status": {"success": true, "description": "ok"},
        "result": [{"entityType": "BadgeUser", "entityId": "N-R-gjBoT6KiTljD35CybA",
                    "emails": [{"email": USERNAME, "verified": true, "primary": true}]}]}),
    )
}
