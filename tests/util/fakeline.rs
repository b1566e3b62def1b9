//! A fake LINE Messaging API on 127.0.0.1, in-process, in LINE's published shapes:
//! `POST /v2/bot/message/push` (`Authorization: Bearer`, `{to, messages:[{type:"text",text}]}`)
//! → 200 `{"sentMessages":[{"id","quoteToken"}]}` with `x-line-request-id`; a wrong token → 401
//! `{"message":"Authentication failed. …"}`; a bad `to` or a text over 5,000 UTF-16 units → 400
//! `{"message","details":[{"message","property"}]}`; `X-Line-Retry-Key` (a UUID): a key already
//! accepted → 409 `{"message":"The retry key is already accepted"}` with
//! `x-line-accepted-request-id`; 429 `{"message":"Too Many Requests"}` or
//! `{"message":"You have reached your monthly limit."}`; `GET /v2/bot/message/quota` and
//! `/quota/consumption`. Scripted faults, dropped connections, and a record of every push.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use super::httpfault::{now_ms, serve_dropping};

pub const TOKEN: &str = "fake-line-channel-access-token-0123456789abcdef";

/// A fault for the next push.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineFault {
    /// 429 "Too Many Requests" (the rate limit).
    TooManyRequests,
    /// 429 "You have reached your monthly limit."
    MonthlyLimit,
    ServerError,
    /// Accepts the push (it counts, its retry key is taken) but answers 500, as when LINE's
    /// answer is lost: the retry must meet a 409.
    AcceptThenFail,
}

/// One accepted push.
#[derive(Debug, Clone)]
pub struct Push {
    pub to: String,
    pub text: String,
    pub retry_key: Option<String>,
    pub authorization: String,
    pub received_at_ms: u128,
}

#[derive(Default)]
struct Shared {
    token: String,
    pushes: Vec<Push>,
    /// Every push request's retry key, accepted or not, in order.
    attempts: Vec<Option<String>>,
    accepted_keys: HashMap<String, String>,
    faults: VecDeque<LineFault>,
    next_id: u64,
    limit: Option<u64>,
}

/// The running fake.
pub struct FakeLine {
    addr: SocketAddr,
    shared: Arc<Mutex<Shared>>,
    drops: Arc<AtomicUsize>,
}

fn answer(status: StatusCode, body: Value, request_id: &str) -> Response {
    let mut r = (status, Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(request_id) {
        r.headers_mut().insert("x-line-request-id", v);
    }
    r
}

fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.iter().map(|p| p.len()).eq([8, 4, 4, 4, 12])
        && parts
            .iter()
            .all(|p| p.chars().all(|c| c.is_ascii_hexdigit()))
}

fn is_id(s: &str) -> bool {
    s.len() == 33
        && matches!(s.as_bytes()[0], b'U' | b'C' | b'R')
        && s[1..].chars().all(|c| c.is_ascii_hexdigit())
}

async fn push(State(s): State<Arc<Mutex<Shared>>>, headers: HeaderMap, body: String) -> Response {
    let mut st = s.lock().expect("fake line state");
    st.next_id += 1;
    let request_id = format!("fake-req-{:08}", st.next_id);
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let key = headers
        .get("x-line-retry-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    st.attempts.push(key.clone());
    if auth != format!("Bearer {}", st.token) {
        let msg = "Authentication failed. Confirm that the access token in the authorization header is valid.";
        return answer(
            StatusCode::UNAUTHORIZED,
            json!({"message": msg}),
            &request_id,
        );
    }
    if let Some(k) = &key {
        if !is_uuid(k) {
            let msg = "The value for the 'X-Line-Retry-Key' header is invalid";
            return answer(
                StatusCode::BAD_REQUEST,
                json!({"message": msg}),
                &request_id,
            );
        }
        if let Some(accepted) = st.accepted_keys.get(k) {
            let mut r = answer(
                StatusCode::CONFLICT,
                json!({"message": "The retry key is already accepted"}),
                &request_id,
            );
            if let Ok(v) = HeaderValue::from_str(accepted) {
                r.headers_mut().insert("x-line-accepted-request-id", v);
            }
            return r;
        }
    }
    let v: Value = serde_json::from_str(&body).unwrap_or_default();
    let to = v["to"].as_str().unwrap_or("").to_string();
    if !is_id(&to) {
        let msg = "The property, 'to', in the request body is invalid (line: -, column: -)";
        return answer(
            StatusCode::BAD_REQUEST,
            json!({"message": msg}),
            &request_id,
        );
    }
    let text = v["messages"][0]["text"].as_str().unwrap_or("").to_string();
    if v["messages"][0]["type"] != "text" || text.encode_utf16().count() > 5000 || text.is_empty() {
        return answer(
            StatusCode::BAD_REQUEST,
            json!({"message": "The request body has 1 error(s)",
                   "details": [{"message": "Length must be between 1 and 5000", "property": "messages[0].text"}]}),
            &request_id,
        );
    }
    let fault = st.faults.pop_front();
    match fault {
        Some(LineFault::TooManyRequests) => {
            return answer(
                StatusCode::TOO_MANY_REQUESTS,
                json!({"message": "Too Many Requests"}),
                &request_id,
            );
        }
        Some(LineFault::MonthlyLimit) => {
            return answer(
                StatusCode::TOO_MANY_REQUESTS,
                json!({"message": "You have reached your monthly limit."}),
                &request_id,
            );
        }
        Some(LineFault::ServerError) => {
            return answer(
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({"message": "An error occurred in the LINE Platform"}),
                &request_id,
            );
        }
        Some(LineFault::AcceptThenFail) | None => {}
    }
    if let Some(k) = &key {
        st.accepted_keys.insert(k.clone(), request_id.clone());
    }
    st.pushes.push(Push {
        to,
        text,
        retry_key: key,
        authorization: auth,
        received_at_ms: now_ms(),
    });
    if fault == Some(LineFault::AcceptThenFail) {
        return answer(
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({"message": "An error occurred in the LINE Platform"}),
            &request_id,
        );
    }
    let id = format!("{}", 461_230_966_842_064_897u64 + st.next_id);
    answer(
        StatusCode::OK,
        json!({"sentMessages": [{"id": id, "quoteToken": format!("q{id}")}]}),
        &request_id,
    )
}

fn authorized(st: &Shared, headers: &HeaderMap) -> bool {
    headers.get("authorization").and_then(|v| v.to_str().ok())
        == Some(&format!("Bearer {}", st.token))
}

async fn quota(State(s): State<Arc<Mutex<Shared>>>, headers: HeaderMap) -> Response {
    let st = s.lock().expect("state");
    if !authorized(&st, &headers) {
        return answer(
            StatusCode::UNAUTHORIZED,
            json!({"message": "Authentication failed."}),
            "q",
        );
    }
    match st.limit {
        Some(l) => Json(json!({"type": "limited", "value": l})).into_response(),
        None => Json(json!({"type": "none"})).into_response(),
    }
}

async fn consumption(State(s): State<Arc<Mutex<Shared>>>, headers: HeaderMap) -> Response {
    let st = s.lock().expect("state");
    if !authorized(&st, &headers) {
        return answer(
            StatusCode::UNAUTHORIZED,
            json!({"message": "Authentication failed."}),
            "q",
        );
    }
    Json(json!({"totalUsage": st.pushes.len()})).into_response()
}

async fn requests(State(s): State<Arc<Mutex<Shared>>>) -> Json<Value> {
    let st = s.lock().expect("state");
    let v: Vec<Value> = st
        .pushes
        .iter()
        .map(|p| json!({"to": p.to, "text": p.text, "received_at_ms": p.received_at_ms as u64}))
        .collect();
    Json(Value::Array(v))
}

impl FakeLine {
    /// Starts on a free port with [`TOKEN`] and a 200-message plan.
    pub async fn start() -> FakeLine {
        FakeLine::start_on(SocketAddr::from(([127, 0, 0, 1], 0)), TOKEN).await
    }

    pub async fn start_on(addr: SocketAddr, token: &str) -> FakeLine {
        let shared = Arc::new(Mutex::new(Shared {
            token: token.to_string(),
            limit: Some(200),
            ..Shared::default()
        }));
        let app = Router::new()
            .route("/v2/bot/message/push", post(push))
            .route("/v2/bot/message/quota", get(quota))
            .route("/v2/bot/message/quota/consumption", get(consumption))
            .route("/_fake/requests", get(requests))
            .with_state(Arc::clone(&shared));
        let (addr, drops) = serve_dropping(addr, app).await;
        FakeLine {
            addr,
            shared,
            drops,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The next pushes fail with these faults, in order.
    pub fn fail_next(&self, faults: &[LineFault]) {
        self.shared.lock().expect("state").faults.extend(faults);
    }

    /// The next `n` connections are dropped without an answer.
    pub fn drop_next(&self, n: usize) {
        self.drops.fetch_add(n, Ordering::SeqCst);
    }

    /// Every accepted push.
    pub fn pushes(&self) -> Vec<Push> {
        self.shared.lock().expect("state").pushes.clone()
    }

    /// The retry key of every push request that reached the handler, in order.
    pub fn attempts(&self) -> Vec<Option<String>> {
        self.shared.lock().expect("state").attempts.clone()
    }
}
