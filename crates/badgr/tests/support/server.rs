//! A Badgr test server answering as the real one did in the recorded exchanges
//! (`shared/badgr/transcripts/` of the Badgery workspace: `badgr-server` v3.14.1, commit
//! `2344c612`). Status codes, content types and bodies are copied from those exchanges; each
//! handler names the ones it follows. What is not recorded is not imitated.

#![allow(dead_code)] // Each test crate uses part of it.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Form, Json, Path, Query, State};
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
    /// Badge classes and assertions as Badgr's API returns them.
    pub(crate) classes: Vec<Value>,
    pub(crate) assertions: Vec<Value>,
    /// The next award is stored, then answered 502, as if the answer were lost.
    pub(crate) lose_next_award_answer: bool,
    pub(crate) award_posts: u32,
    base: String,
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
        classes: Vec::new(),
        assertions: Vec::new(),
        lose_next_award_answer: false,
        award_posts: 0,
        base: String::new(),
    }));
    let app = axum::Router::new()
        .route("/o/token", post(token))
        .route("/v2/users/self", get(users_self))
        .route(
            "/v2/issuers/{issuer}/badgeclasses",
            get(list_classes).post(create_class),
        )
        .route(
            "/v2/badgeclasses/{class}/assertions",
            get(list_assertions).post(award),
        )
        .route("/v2/assertions/{assertion}", axum::routing::delete(revoke))
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    state.lock().unwrap().base = url.clone();
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

/// Whether the request carries a live access token. Expiry slides (the README of the
/// recordings): a request made with less than half the lifetime left pushes the token's expiry
/// to now + the full lifetime.
fn authorised(server: &mut Server, headers: &HeaderMap) -> bool {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let now = Instant::now();
    let lifetime = server.lifetime;
    let Some(expires) = token.and_then(|t| server.access.get_mut(t)) else {
        return false;
    };
    if *expires <= now {
        return false;
    }
    if *expires - now < lifetime / 2 {
        *expires = now + lifetime;
    }
    true
}

async fn users_self(State(state): State<Shared>, headers: HeaderMap) -> Response {
    let mut server = state.lock().unwrap();
    if let Some(refused) = gate(&mut server, &headers) {
        return refused;
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

/// The v2 envelope of a success (every exchange's `result` is a list).
fn ok(status: u16, result: Vec<Value>) -> Response {
    answer(
        status,
        JSON,
        json!({"status": {"success": true, "description": "ok"},
        "result": result}),
    )
}

/// A 400 with Badgr's validation errors (exchanges 21, 43).
fn bad_request(field_errors: Value, validation_errors: Vec<&str>) -> Response {
    answer(
        400,
        JSON,
        json!({"status": {"success": false, "description": "bad request"},
        "result": [], "fieldErrors": field_errors, "validationErrors": validation_errors}),
    )
}

/// Exchange 51: a missing (or forbidden) object.
fn not_found() -> Response {
    answer(
        404,
        JSON,
        json!({"status": {"success": false,
        "description": "entity not found or insufficient privileges"}, "result": [],
        "fieldErrors": {}, "validationErrors": []}),
    )
}

/// Counts an API request and answers 401 or a queued 503 before the handler runs.
fn gate(server: &mut Server, headers: &HeaderMap) -> Option<Response> {
    server.api_requests += 1;
    if server.fail_next > 0 {
        server.fail_next -= 1;
        return Some(answer(
            503,
            HTML,
            Value::String("Service Unavailable".into()),
        ));
    }
    (!authorised(server, headers)).then(unauthorised)
}

async fn list_classes(State(state): State<Shared>, headers: HeaderMap) -> Response {
    let mut server = state.lock().unwrap();
    if let Some(refused) = gate(&mut server, &headers) {
        return refused;
    }
    ok(200, server.classes.clone())
}

/// Exchange 14 (and 15, 16: the image is required and must be an image data URI).
async fn create_class(
    State(state): State<Shared>,
    Path(issuer): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let mut server = state.lock().unwrap();
    if let Some(refused) = gate(&mut server, &headers) {
        return refused;
    }
    let image_ok = body["image"].as_str().is_some_and(|i| {
        i.starts_with("data:image/png;base64,") || i.starts_with("data:image/svg+xml;base64,")
    });
    if !image_ok {
        return bad_request(json!({"image": ["Invalid image."]}), vec![]);
    }
    let id = format!("bc-{}", server.classes.len() + 1);
    let mut class = body.clone();
    class["entityType"] = json!("BadgeClass");
    class["entityId"] = json!(id);
    class["issuer"] = json!(issuer);
    class["openBadgeId"] = json!(format!("{}/public/badges/{id}", server.base));
    class["createdAt"] = json!(format!(
        "2026-12-02T05:40:{:02}.000000Z",
        server.classes.len() + 1
    ));
    server.classes.push(class.clone());
    ok(201, vec![class])
}

fn live(assertion: &Value) -> bool {
    assertion["revoked"] != json!(true)
}

/// Whether an assertion's `expires` has passed (Badgr hides such awards from lists unless
/// asked, and lets them be awarded again).
fn expired(assertion: &Value) -> bool {
    assertion["expires"]
        .as_str()
        .and_then(|e| chrono::DateTime::parse_from_rfc3339(e).ok())
        .is_some_and(|e| e < chrono::Utc::now())
}

/// Exchanges 20 (awarded), 21 (a duplicate refused), 22 (a bad recipient), 23 (no
/// recipient), 24 (a future `issuedOn`).
async fn award(
    State(state): State<Shared>,
    Path(class): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let mut server = state.lock().unwrap();
    if let Some(refused) = gate(&mut server, &headers) {
        return refused;
    }
    server.award_posts += 1;
    if !server.classes.iter().any(|c| c["entityId"] == json!(class)) {
        return not_found();
    }
    let Some(email) = body["recipient"]["identity"].as_str().map(str::to_owned) else {
        return bad_request(json!({"recipient": ["This field is required."]}), vec![]);
    };
    if !email.contains('@') {
        // Exchange 22: a nested fieldErrors object.
        return bad_request(
            json!({"recipient": {"non_field_errors": ["Enter a valid email address."]}}),
            vec![],
        );
    }
    let future = body["issuedOn"]
        .as_str()
        .and_then(|d| chrono::DateTime::parse_from_rfc3339(d).ok())
        .is_some_and(|d| d > chrono::Utc::now());
    if future {
        // Exchange 24.
        return bad_request(
            json!({"issuedOn": ["Only issuedOn dates in the past are acceptable."]}),
            vec![],
        );
    }
    let duplicates_allowed = body["allowDuplicateAwards"].as_bool().unwrap_or(true);
    let held = server.assertions.iter().any(|a| {
        a["badgeclass"] == json!(class)
            && a["recipient"]["plaintextIdentity"] == json!(email)
            && live(a)
            && !expired(a)
    });
    if held && !duplicates_allowed {
        return bad_request(
            json!({}),
            vec!["A previous award of this badge already exists for this recipient."],
        );
    }
    let n = server.assertions.len() + 1;
    let id = format!("as-{n}");
    let assertion = json!({
        "entityType": "Assertion", "entityId": id,
        "openBadgeId": format!("{}/public/assertions/{id}", server.base),
        "createdAt": format!("2026-12-02T05:41:{n:02}.000000Z"),
        "badgeclass": class,
        "image": format!("{}/media/uploads/badges/assertion-{id}.png", server.base),
        "recipient": {"identity": "sha256$0", "hashed": true, "type": "email",
                      "plaintextIdentity": email, "salt": "0"},
        "issuedOn": body["issuedOn"], "narrative": body["narrative"],
        "evidence": body["evidence"], "expires": body["expires"], "revoked": false,
    });
    server.assertions.push(assertion.clone());
    if std::mem::take(&mut server.lose_next_award_answer) {
        return answer(502, HTML, Value::String("Bad Gateway".into()));
    }
    ok(201, vec![assertion])
}

/// Exchanges 26, 48, 49: by exact plaintext recipient; revoked and expired awards hidden
/// unless asked.
async fn list_assertions(
    State(state): State<Shared>,
    Path(class): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let mut server = state.lock().unwrap();
    if let Some(refused) = gate(&mut server, &headers) {
        return refused;
    }
    let include_revoked = query.get("include_revoked").map(String::as_str) == Some("true");
    let include_expired = query.get("include_expired").map(String::as_str) == Some("true");
    let found = server
        .assertions
        .iter()
        .filter(|a| a["badgeclass"] == json!(class))
        .filter(|a| {
            query
                .get("recipient")
                .is_none_or(|r| a["recipient"]["plaintextIdentity"] == json!(r))
        })
        .filter(|a| include_revoked || live(a))
        .filter(|a| include_expired || !expired(a))
        .cloned()
        .collect();
    ok(200, found)
}

/// Exchanges 41 (no reason), 42 (revoked), 43 (revoked again).
async fn revoke(
    State(state): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let mut server = state.lock().unwrap();
    if let Some(refused) = gate(&mut server, &headers) {
        return refused;
    }
    let Some(reason) = body["revocation_reason"].as_str().map(str::to_owned) else {
        return bad_request(
            json!({"revocation_reason": ["This field is required."]}),
            vec![],
        );
    };
    let Some(assertion) = server
        .assertions
        .iter_mut()
        .find(|a| a["entityId"] == json!(id))
    else {
        return not_found();
    };
    if !live(assertion) {
        return bad_request(json!({}), vec!["Assertion is already revoked"]);
    }
    assertion["revoked"] = json!(true);
    assertion["revocationReason"] = json!(reason);
    assertion["image"] = Value::Null;
    let revoked = assertion.clone();
    ok(200, vec![revoked])
}
