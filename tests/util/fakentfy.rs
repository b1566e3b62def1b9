//! A fake ntfy server on 127.0.0.1, in-process, speaking ntfy's published shapes: JSON publish
//! (`POST /` with `topic`, `title`, `message`, `priority`, `tags`) answered with the message
//! envelope (`id`, `time`, `expires`, `event: "message"`, `topic`, …); errors as ntfy's envelope
//! `{code, http, error, link}` (401 40101 without the right Bearer token on a protected topic,
//! 429 42901 "limit reached: too many requests"); `GET /v1/health` → `{"healthy":true}`.
//! Scripted faults and a record of every publish.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

/// A fault for the next publish.
#[derive(Debug, Clone, Copy)]
pub enum NtfyFault {
    TooManyRequests,
    ServerError,
}

#[derive(Default)]
struct Shared {
    token: Option<String>,
    published: Vec<Value>,
    /// When each accepted publish arrived (ms since the epoch), beside `published`.
    received_at_ms: Vec<u64>,
    faults: VecDeque<NtfyFault>,
    refused: usize,
    next_id: u64,
}

/// The running fake. Dropping it leaves the server task to end with the runtime.
pub struct FakeNtfy {
    addr: SocketAddr,
    shared: Arc<Mutex<Shared>>,
}

fn error(status: StatusCode, code: u32, text: &str, link: &str) -> Response {
    let body = json!({"code": code, "http": status.as_u16(), "error": text, "link": link});
    (status, Json(body)).into_response()
}

async fn publish(
    State(s): State<Arc<Mutex<Shared>>>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let mut st = s.lock().expect("fake ntfy state");
    if let Some(token) = &st.token {
        let auth = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if auth != format!("Bearer {token}") {
            st.refused += 1;
            return error(
                StatusCode::UNAUTHORIZED,
                40101,
                "unauthorized",
                "https://ntfy.sh/docs/publish/#authentication",
            );
        }
    }
    let Ok(msg) = serde_json::from_str::<Value>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            40024,
            "invalid request: JSON body",
            "",
        );
    };
    match st.faults.pop_front() {
        Some(NtfyFault::TooManyRequests) => {
            st.refused += 1;
            return error(
                StatusCode::TOO_MANY_REQUESTS,
                42901,
                "limit reached: too many requests",
                "https://ntfy.sh/docs/publish/#limitations",
            );
        }
        Some(NtfyFault::ServerError) => {
            st.refused += 1;
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                50001,
                "internal server error",
                "",
            );
        }
        None => {}
    }
    st.next_id += 1;
    let id = format!("fake{:06}", st.next_id);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    st.published.push(msg.clone());
    st.received_at_ms.push(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0),
    );
    Json(json!({
        "id": id, "time": now, "expires": now + 43_200, "event": "message",
        "topic": msg["topic"], "title": msg["title"], "message": msg["message"],
        "priority": msg["priority"], "tags": msg["tags"],
    }))
    .into_response()
}

/// `GET /_fake/requests`: every accepted publish with its receive time, for the benchmarks.
async fn requests(State(s): State<Arc<Mutex<Shared>>>) -> Json<Value> {
    let st = s.lock().expect("fake ntfy state");
    let v: Vec<Value> = st
        .published
        .iter()
        .zip(&st.received_at_ms)
        .map(|(m, t)| json!({"topic": m["topic"], "title": m["title"], "message": m["message"], "received_at_ms": t}))
        .collect();
    Json(Value::Array(v))
}

impl FakeNtfy {
    /// Starts on a free port; with `token`, publishing needs `Authorization: Bearer <token>`.
    pub async fn start(token: Option<&str>) -> FakeNtfy {
        let shared = Arc::new(Mutex::new(Shared {
            token: token.map(str::to_string),
            ..Shared::default()
        }));
        let app = Router::new()
            .route("/", post(publish))
            .route(
                "/v1/health",
                get(|| async { Json(json!({"healthy": true})) }),
            )
            .route("/_fake/requests", get(requests))
            .with_state(Arc::clone(&shared));
        let addr = super::httpfault::serve(app).await;
        FakeNtfy { addr, shared }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The next publishes fail with these faults, in order.
    pub fn fail_next(&self, faults: &[NtfyFault]) {
        self.shared.lock().expect("state").faults.extend(faults);
    }

    /// Every accepted publish body.
    pub fn published(&self) -> Vec<Value> {
        self.shared.lock().expect("state").published.clone()
    }

    /// Publishes answered with an error.
    pub fn refused(&self) -> usize {
        self.shared.lock().expect("state").refused
    }
}
