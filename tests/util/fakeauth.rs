//! A fake OAuth2 authorization server on 127.0.0.1, in-process, answering in the shapes the
//! Microsoft identity platform publishes (and RFC 6749/7636/8628/7662 define):
//! - `POST /devicecode` → `{device_code, user_code, verification_uri, expires_in, interval, message}`;
//! - `POST /token` for `urn:ietf:params:oauth:grant-type:device_code` (scripted
//!   `authorization_pending` / `slow_down` answers first), `authorization_code` (the PKCE
//!   verifier is checked against the S256 challenge) and `refresh_token` (rotated on each use:
//!   the old one is then `invalid_grant`); errors as `400 {error, error_description,
//!   error_codes, trace_id, correlation_id}`; a client secret from a public client is `401
//!   invalid_client` (AADSTS700025), as Microsoft answers;
//! - `GET /authorize` → 302 to the redirect URI with `code` and `state` (the user's consent);
//! - `POST /introspect` (for Dovecot's oauth2 passdb) → `{"active": true, "username": …}` for a
//!   live access token, `{"active": false}` otherwise.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde_json::{Value, json};

/// The client id the fake knows (a public client: it must send no secret).
pub const CLIENT_ID: &str = "3f1c8d3e-7d6a-4a5e-9c61-brokerwatch-test";

/// A scripted answer to a device code poll before the user "signs in".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceStep {
    Pending,
    SlowDown,
}

struct Access {
    user: String,
    expires: Instant,
    revoked: bool,
}

#[derive(Default)]
struct Shared {
    user: String,
    /// A confidential client's secret; None: a public client, which must send none.
    secret: Option<String>,
    lifetime: Duration,
    access: HashMap<String, Access>,
    refresh: HashMap<String, String>,
    /// Every refresh token ever issued.
    issued: Vec<String>,
    codes: HashMap<String, (String, String)>,
    device: HashMap<String, VecDeque<DeviceStep>>,
    script: VecDeque<DeviceStep>,
    /// Every token grant asked for, in order (`grant_type` values).
    grants: Vec<String>,
    /// Every refused token request: (grant_type, error).
    refusals: Vec<(String, String)>,
    /// When each device poll came in.
    polls: Vec<Instant>,
    introspections: usize,
    secrets_sent: usize,
    next: u64,
}

/// The running fake.
pub struct FakeAuth {
    addr: SocketAddr,
    shared: Arc<Mutex<Shared>>,
}

fn oauth_error(status: StatusCode, error: &str, code: u32, text: &str) -> Response {
    let body = json!({
        "error": error,
        "error_description": format!("AADSTS{code}: {text}\r\nTrace ID: 0000\r\nCorrelation ID: 0000\r\nTimestamp: 2026-12-04 00:00:00Z"),
        "error_codes": [code],
        "timestamp": "2026-12-04 00:00:00Z",
        "trace_id": "00000000-0000-0000-0000-000000000000",
        "correlation_id": "00000000-0000-0000-0000-000000000000",
    });
    (status, Json(body)).into_response()
}

impl Shared {
    fn token(&mut self, prefix: &str) -> String {
        self.next += 1;
        format!("{prefix}-{:04}-{:x}", self.next, rand_part())
    }

    /// A new access token (and a new refresh token, replacing `old`).
    fn issue(&mut self, user: &str, old: Option<&str>) -> Value {
        let at = self.token("EwBAT");
        let rt = self.token("M.C5_RT");
        if let Some(old) = old {
            self.refresh.remove(old);
        }
        self.refresh.insert(rt.clone(), user.to_string());
        self.issued.push(rt.clone());
        self.access.insert(
            at.clone(),
            Access {
                user: user.to_string(),
                expires: Instant::now() + self.lifetime,
                revoked: false,
            },
        );
        json!({
            "token_type": "Bearer",
            "scope": "https://outlook.office.com/IMAP.AccessAsUser.All",
            "expires_in": self.lifetime.as_secs(),
            "ext_expires_in": self.lifetime.as_secs(),
            "access_token": at,
            "refresh_token": rt,
        })
    }
}

fn rand_part() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(Instant::now().elapsed().as_nanos() as u64);
    h.finish()
}

async fn devicecode(
    State(s): State<Arc<Mutex<Shared>>>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let mut st = s.lock().expect("fake auth state");
    if f.get("client_id").map(String::as_str) != Some(CLIENT_ID) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            700016,
            "Application not found.",
        );
    }
    let code = st.token("DAQABAAEAAAD");
    let script = st.script.clone();
    st.device.insert(code.clone(), script);
    Json(json!({
        "user_code": "FAKE-CODE",
        "device_code": code,
        "verification_uri": "https://microsoft.com/devicelogin",
        "expires_in": 900,
        "interval": 1,
        "message": "To sign in, use a web browser to open the page https://microsoft.com/devicelogin and enter the code FAKE-CODE to authenticate.",
    }))
    .into_response()
}

async fn token(
    State(s): State<Arc<Mutex<Shared>>>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let mut st = s.lock().expect("fake auth state");
    let grant = f.get("grant_type").cloned().unwrap_or_default();
    st.grants.push(grant.clone());
    let refuse = |st: &mut Shared, status, error: &str, code, text: &str| {
        st.refusals.push((grant.clone(), error.to_string()));
        oauth_error(status, error, code, text)
    };
    let sent = f.get("client_secret");
    st.secrets_sent += usize::from(sent.is_some());
    match (st.secret.clone(), sent) {
        (None, Some(_)) => {
            return refuse(
                &mut st,
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                700025,
                "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.",
            );
        }
        (Some(want), got) if got != Some(&want) => {
            return refuse(
                &mut st,
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.",
            );
        }
        _ => {}
    }
    if f.get("client_id").map(String::as_str) != Some(CLIENT_ID) {
        return refuse(
            &mut st,
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            700016,
            "Application not found.",
        );
    }
    let user = st.user.clone();
    match grant.as_str() {
        "urn:ietf:params:oauth:grant-type:device_code" => {
            st.polls.push(Instant::now());
            let code = f.get("device_code").cloned().unwrap_or_default();
            let Some(steps) = st.device.get_mut(&code) else {
                return refuse(
                    &mut st,
                    StatusCode::BAD_REQUEST,
                    "bad_verification_code",
                    70019,
                    "Verification code expired.",
                );
            };
            match steps.pop_front() {
                Some(DeviceStep::Pending) => refuse(
                    &mut st,
                    StatusCode::BAD_REQUEST,
                    "authorization_pending",
                    70016,
                    "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
                ),
                Some(DeviceStep::SlowDown) => refuse(
                    &mut st,
                    StatusCode::BAD_REQUEST,
                    "slow_down",
                    70016,
                    "Slow down.",
                ),
                None => {
                    st.device.remove(&code);
                    Json(st.issue(&user, None)).into_response()
                }
            }
        }
        "authorization_code" => {
            let code = f.get("code").cloned().unwrap_or_default();
            let verifier = f.get("code_verifier").cloned().unwrap_or_default();
            let Some((challenge, redirect)) = st.codes.remove(&code) else {
                return refuse(
                    &mut st,
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    70000,
                    "The provided authorization code is invalid.",
                );
            };
            if f.get("redirect_uri") != Some(&redirect) {
                return refuse(
                    &mut st,
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    50011,
                    "The redirect URI does not match.",
                );
            }
            if s256(&verifier) != challenge {
                return refuse(
                    &mut st,
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    501481,
                    "The Code_Verifier does not match the code_challenge supplied in the authorization request.",
                );
            }
            Json(st.issue(&user, None)).into_response()
        }
        "refresh_token" => {
            let rt = f.get("refresh_token").cloned().unwrap_or_default();
            match st.refresh.get(&rt).cloned() {
                Some(u) => Json(st.issue(&u, Some(&rt))).into_response(),
                None => refuse(
                    &mut st,
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    70000,
                    "The provided value for the input parameter 'refresh_token' or 'assertion' is not valid.",
                ),
            }
        }
        _ => refuse(
            &mut st,
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            70003,
            "The app requested an unsupported grant type.",
        ),
    }
}

fn s256(verifier: &str) -> String {
    use base64::Engine as _;
    let d = ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(d.as_ref())
}

async fn authorize(
    State(s): State<Arc<Mutex<Shared>>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let mut st = s.lock().expect("fake auth state");
    let (Some(redirect), Some(challenge)) = (q.get("redirect_uri"), q.get("code_challenge")) else {
        return (
            StatusCode::BAD_REQUEST,
            "AADSTS900144: missing redirect_uri or code_challenge",
        )
            .into_response();
    };
    if q.get("code_challenge_method").map(String::as_str) != Some("S256") {
        return (
            StatusCode::BAD_REQUEST,
            "AADSTS501491: code_challenge_method must be S256",
        )
            .into_response();
    }
    let code = st.token("M.C5_AUTH");
    st.codes
        .insert(code.clone(), (challenge.clone(), redirect.clone()));
    let state = q.get("state").cloned().unwrap_or_default();
    let to = format!("{redirect}?code={code}&state={state}");
    (StatusCode::FOUND, [(header::LOCATION, to)]).into_response()
}

async fn introspect(State(s): State<Arc<Mutex<Shared>>>, body: String) -> Response {
    let mut st = s.lock().expect("fake auth state");
    st.introspections += 1;
    let token = form_pairs(&body).remove("token").unwrap_or_default();
    match st.access.get(&token) {
        Some(a) if !a.revoked && Instant::now() < a.expires => {
            Json(json!({"active": true, "username": a.user, "token_type": "Bearer"}))
                .into_response()
        }
        _ => Json(json!({"active": false})).into_response(),
    }
}

/// Dovecot posts `token=…` form-encoded.
fn form_pairs(body: &str) -> HashMap<String, String> {
    reqwest::Url::parse(&format!("http://x/?{body}"))
        .map(|u| u.query_pairs().into_owned().collect())
        .unwrap_or_default()
}

impl FakeAuth {
    /// Starts on a free port; tokens are issued to `user` and live for `lifetime`.
    pub async fn start(user: &str, lifetime: Duration) -> FakeAuth {
        let shared = Arc::new(Mutex::new(Shared {
            user: user.to_string(),
            lifetime,
            ..Shared::default()
        }));
        let app = Router::new()
            .route("/devicecode", post(devicecode))
            .route("/token", post(token))
            .route("/authorize", get(authorize))
            .route("/introspect", post(introspect))
            .with_state(Arc::clone(&shared));
        let addr = super::httpfault::serve(app).await;
        FakeAuth { addr, shared }
    }

    /// As [`FakeAuth::start`], for a confidential client: every token request must carry `secret`.
    pub async fn start_confidential(user: &str, lifetime: Duration, secret: &str) -> FakeAuth {
        let f = Self::start(user, lifetime).await;
        f.shared.lock().expect("state").secret = Some(secret.to_string());
        f
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The `auth: {oauth2: …}` YAML (flow style) of a custom provider pointing here.
    pub fn yaml(&self, mechanism: &str) -> String {
        let u = self.url();
        format!(
            "{{oauth2: {{provider: custom, client_id: {CLIENT_ID}, mechanism: {mechanism}, scopes: [imap], \
             token_url: '{u}/token', device_url: '{u}/devicecode', auth_url: '{u}/authorize'}}}}"
        )
    }

    /// Device code polls are answered with these steps before the tokens.
    pub fn script_device(&self, steps: &[DeviceStep]) {
        self.shared.lock().expect("state").script = steps.iter().copied().collect();
    }

    /// Signs the user in out of band: a live refresh token (and access token) as a login would
    /// have stored them, in the JSON shape of a token response.
    pub fn grant(&self) -> Value {
        let mut st = self.shared.lock().expect("state");
        let user = st.user.clone();
        st.issue(&user, None)
    }

    /// Every refresh token stops working (revoked by the user, or a Google "Testing" client's
    /// 7 days are over).
    pub fn revoke_refresh_tokens(&self) {
        self.shared.lock().expect("state").refresh.clear();
    }

    /// Every access token issued so far is refused by introspection from now on.
    pub fn revoke_access_tokens(&self) {
        for a in self.shared.lock().expect("state").access.values_mut() {
            a.revoked = true;
        }
    }

    /// The live refresh tokens.
    pub fn refresh_tokens(&self) -> Vec<String> {
        self.shared
            .lock()
            .expect("state")
            .refresh
            .keys()
            .cloned()
            .collect()
    }

    /// Every refresh token issued, live or not.
    pub fn issued_refresh_tokens(&self) -> Vec<String> {
        self.shared.lock().expect("state").issued.clone()
    }

    /// Every access token issued.
    pub fn access_tokens(&self) -> Vec<String> {
        self.shared
            .lock()
            .expect("state")
            .access
            .keys()
            .cloned()
            .collect()
    }

    pub fn grants(&self) -> Vec<String> {
        self.shared.lock().expect("state").grants.clone()
    }

    pub fn refusals(&self) -> Vec<(String, String)> {
        self.shared.lock().expect("state").refusals.clone()
    }

    pub fn polls(&self) -> Vec<Instant> {
        self.shared.lock().expect("state").polls.clone()
    }

    pub fn introspections(&self) -> usize {
        self.shared.lock().expect("state").introspections
    }

    /// Token requests that carried a client secret (a public client must send none).
    pub fn secrets_sent(&self) -> usize {
        self.shared.lock().expect("state").secrets_sent
    }
}
