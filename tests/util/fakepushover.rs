//! A fake Pushover API on 127.0.0.1, in-process, in Pushover's published shapes:
//! `POST /1/messages.json` (form: token, user, title, message, priority, retry, expire) →
//! `{"status":1,"request":…}` plus a 30-character `receipt` at emergency priority (2); errors
//! `{"<field>":"invalid","errors":[…],"status":0,"request":…}` with 4xx; 429 when over the
//! app's limit; `GET /1/receipts/<receipt>.json?token=` → `{status, acknowledged,
//! acknowledged_at, acknowledged_by, acknowledged_by_device, last_delivered_at, expired,
//! expires_at, called_back, called_back_at, request}`; `POST /1/receipts/<r>/cancel.json`;
//! `POST /1/users/validate.json`. Scripted faults, dropped connections, receipts acknowledged
//! on command, and a record of every message and receipt poll.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde_json::{Value, json};

use super::httpfault::{now_ms, serve_dropping};

/// An application token and two user keys, in Pushover's 30-character shape.
pub const TOKEN: &str = "azGDORePK8gMaC0QOYAMyEEuzJnyUi";
pub const HANAKO: &str = "uQiRzpo4DXghDmr9QzzfQu27cmVRsG";
pub const TARO: &str = "gznej3rKEVAvPUxu9vvNnqpmZpokzF";

/// A fault for the next message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushoverFault {
    TooManyRequests,
    ServerError,
}

#[derive(Debug, Clone, Default)]
struct ReceiptState {
    user: String,
    acknowledged_by: Option<(String, String, u64)>,
    expires_at: u64,
    cancelled: bool,
    polls: Vec<u128>,
}

#[derive(Default)]
struct Shared {
    token: String,
    users: Vec<String>,
    messages: Vec<HashMap<String, String>>,
    received_at_ms: Vec<u128>,
    receipts: HashMap<String, ReceiptState>,
    faults: VecDeque<PushoverFault>,
    next: u64,
}

/// The running fake.
pub struct FakePushover {
    addr: SocketAddr,
    shared: Arc<Mutex<Shared>>,
    drops: Arc<AtomicUsize>,
}

fn now_secs() -> u64 {
    (now_ms() / 1000) as u64
}

fn request_id(n: u64) -> String {
    format!("5042853c-402d-4a18-abcb-{n:012}")
}

impl Shared {
    /// Numbers the request; refuses it (400, Pushover's words) without the application token.
    fn begin(&mut self, params: &HashMap<String, String>) -> Result<String, Box<Response>> {
        self.next += 1;
        let req = request_id(self.next);
        if params.get("token") != Some(&self.token) {
            return Err(Box::new(invalid(
                "token",
                "application token is invalid, see https://pushover.net/api",
                &req,
            )));
        }
        Ok(req)
    }
}

fn invalid(field: &str, text: &str, req: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({field: "invalid", "errors": [text], "status": 0, "request": req})),
    )
        .into_response()
}

async fn messages(
    State(s): State<Arc<Mutex<Shared>>>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let mut st = s.lock().expect("fake pushover state");
    let req = match st.begin(&f) {
        Ok(req) => req,
        Err(refused) => return *refused,
    };
    let get = |k: &str| f.get(k).cloned().unwrap_or_default();
    if !st.users.contains(&get("user")) {
        return invalid(
            "user",
            "user identifier is not a valid user, group, or subscribed user key, see https://pushover.net/api#identifiers",
            &req,
        );
    }
    if get("message").is_empty() {
        return invalid("message", "message cannot be blank", &req);
    }
    if get("message").chars().count() > 1024 || get("title").chars().count() > 250 {
        return invalid("message", "message is too long", &req);
    }
    let priority: i64 = get("priority").parse().unwrap_or(0);
    let (retry, expire): (u64, u64) = (
        get("retry").parse().unwrap_or(0),
        get("expire").parse().unwrap_or(0),
    );
    if priority == 2 && retry < 30 {
        return invalid(
            "retry",
            "retry is invalid (emergency priority needs at least 30 seconds)",
            &req,
        );
    }
    if priority == 2 && (expire == 0 || expire > 10_800) {
        return invalid("expire", "expire is invalid (at most 10800 seconds)", &req);
    }
    match st.faults.pop_front() {
        Some(PushoverFault::TooManyRequests) => {
            return (
                StatusCode::TOO_MANY_REQUESTS,
                Json(json!({"errors": ["application is over its monthly message limit"], "status": 0, "request": req})),
            )
                .into_response();
        }
        Some(PushoverFault::ServerError) => {
            return (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response();
        }
        None => {}
    }
    st.messages.push(f.clone());
    st.received_at_ms.push(now_ms());
    let mut body = json!({"status": 1, "request": req});
    if priority == 2 {
        let receipt = format!("rcpt{:026}", st.next);
        st.receipts.insert(
            receipt.clone(),
            ReceiptState {
                user: get("user"),
                expires_at: now_secs() + expire,
                ..ReceiptState::default()
            },
        );
        body["receipt"] = json!(receipt);
    }
    Json(body).into_response()
}

async fn receipt(
    State(s): State<Arc<Mutex<Shared>>>,
    Path(file): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let mut st = s.lock().expect("state");
    let req = match st.begin(&q) {
        Ok(req) => req,
        Err(refused) => return *refused,
    };
    let id = file.strip_suffix(".json").unwrap_or(&file).to_string();
    let Some(r) = st.receipts.get_mut(&id) else {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({"receipt": "not found", "errors": ["receipt not found; may be invalid or expired"], "status": 0, "request": req})),
        )
            .into_response();
    };
    r.polls.push(now_ms());
    let (ack, by, device, at) = match &r.acknowledged_by {
        Some((u, d, at)) => (1, u.clone(), d.clone(), *at),
        None => (0, String::new(), String::new(), 0),
    };
    let expired = i32::from(ack == 0 && (r.cancelled || now_secs() >= r.expires_at));
    Json(json!({
        "status": 1, "acknowledged": ack, "acknowledged_at": at, "acknowledged_by": by,
        "acknowledged_by_device": device, "last_delivered_at": now_secs(), "expired": expired,
        "expires_at": r.expires_at, "called_back": 0, "called_back_at": 0, "request": req,
    }))
    .into_response()
}

async fn cancel(
    State(s): State<Arc<Mutex<Shared>>>,
    Path(id): Path<String>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let mut st = s.lock().expect("state");
    let req = match st.begin(&f) {
        Ok(req) => req,
        Err(refused) => return *refused,
    };
    match st.receipts.get_mut(&id) {
        Some(r) => {
            r.cancelled = true;
            Json(json!({"status": 1, "request": req})).into_response()
        }
        None => invalid(
            "receipt",
            "receipt not found; may be invalid or expired",
            &req,
        ),
    }
}

async fn validate(
    State(s): State<Arc<Mutex<Shared>>>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let mut st = s.lock().expect("state");
    let req = match st.begin(&f) {
        Ok(req) => req,
        Err(refused) => return *refused,
    };
    if !f.get("user").is_some_and(|u| st.users.contains(u)) {
        return invalid("user", "user key is invalid", &req);
    }
    Json(json!({"status": 1, "group": 0, "devices": ["iphone"], "licenses": ["iOS"], "request": req}))
        .into_response()
}

async fn requests(State(s): State<Arc<Mutex<Shared>>>) -> Json<Value> {
    let st = s.lock().expect("state");
    let v: Vec<Value> = st
        .messages
        .iter()
        .zip(&st.received_at_ms)
        .map(|(m, at)| json!({"title": m.get("title"), "priority": m.get("priority"), "received_at_ms": *at as u64}))
        .collect();
    Json(Value::Array(v))
}

impl FakePushover {
    /// Starts on a free port knowing [`TOKEN`] and the users [`HANAKO`] and [`TARO`].
    pub async fn start() -> FakePushover {
        let shared = Arc::new(Mutex::new(Shared {
            token: TOKEN.into(),
            users: vec![HANAKO.into(), TARO.into()],
            ..Shared::default()
        }));
        let app = Router::new()
            .route("/1/messages.json", post(messages))
            .route("/1/receipts/{file}", get(receipt))
            .route("/1/receipts/{id}/cancel.json", post(cancel))
            .route("/1/users/validate.json", post(validate))
            .route("/_fake/requests", get(requests))
            .with_state(Arc::clone(&shared));
        let (addr, drops) = serve_dropping(SocketAddr::from(([127, 0, 0, 1], 0)), app).await;
        FakePushover {
            addr,
            shared,
            drops,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn fail_next(&self, faults: &[PushoverFault]) {
        self.shared.lock().expect("state").faults.extend(faults);
    }

    pub fn drop_next(&self, n: usize) {
        self.drops.fetch_add(n, Ordering::SeqCst);
    }

    /// Every accepted message's form fields.
    pub fn messages(&self) -> Vec<HashMap<String, String>> {
        self.shared.lock().expect("state").messages.clone()
    }

    /// The receipts handed out so far, with the user key each went to.
    pub fn receipts(&self) -> Vec<(String, String)> {
        let st = self.shared.lock().expect("state");
        let mut v: Vec<_> = st
            .receipts
            .iter()
            .map(|(k, r)| (k.clone(), r.user.clone()))
            .collect();
        v.sort();
        v
    }

    /// The person with `user_key` taps Acknowledge on `device`.
    pub fn acknowledge(&self, receipt: &str, user_key: &str, device: &str) {
        let mut st = self.shared.lock().expect("state");
        if let Some(r) = st.receipts.get_mut(receipt) {
            r.acknowledged_by = Some((user_key.into(), device.into(), now_secs()));
        }
    }

    /// When each poll of `receipt` arrived (ms since the epoch).
    pub fn polls(&self, receipt: &str) -> Vec<u128> {
        let st = self.shared.lock().expect("state");
        st.receipts
            .get(receipt)
            .map(|r| r.polls.clone())
            .unwrap_or_default()
    }

    pub fn cancelled(&self, receipt: &str) -> bool {
        let st = self.shared.lock().expect("state");
        st.receipts.get(receipt).is_some_and(|r| r.cancelled)
    }
}
