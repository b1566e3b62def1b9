//! A webhook receiver on 127.0.0.1 that checks `X-Brokerwatch-Signature` (HMAC-SHA256 over the
//! raw body with its own copy of the secret) as a receiver should: a bad or missing signature is
//! a 401. Scripted 429s with `Retry-After`, and a record of every accepted body.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::Value;

#[derive(Default)]
struct Shared {
    secret: String,
    accepted: Vec<Value>,
    too_many: usize,
    refused: usize,
}

pub struct FakeHook {
    addr: SocketAddr,
    shared: Arc<Mutex<Shared>>,
}

async fn receive(
    State(s): State<Arc<Mutex<Shared>>>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let mut st = s.lock().expect("fake hook state");
    let want = brokerwatch::alert::webhook::signature(st.secret.as_bytes(), body.as_bytes());
    let got = headers
        .get("x-brokerwatch-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if got != want {
        st.refused += 1;
        return (StatusCode::UNAUTHORIZED, "bad signature").into_response();
    }
    if st.too_many > 0 {
        st.too_many -= 1;
        st.refused += 1;
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [("Retry-After", "1")],
            "slow down",
        )
            .into_response();
    }
    match serde_json::from_str(&body) {
        Ok(v) => {
            st.accepted.push(v);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(_) => (StatusCode::BAD_REQUEST, "not JSON").into_response(),
    }
}

impl FakeHook {
    pub async fn start(secret: &str) -> FakeHook {
        let shared = Arc::new(Mutex::new(Shared {
            secret: secret.to_string(),
            ..Shared::default()
        }));
        let app = Router::new()
            .route("/hook", post(receive))
            .with_state(Arc::clone(&shared));
        let addr = super::httpfault::serve(app).await;
        FakeHook { addr, shared }
    }

    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    /// The next `n` correctly signed requests get 429 with `Retry-After: 1`.
    pub fn too_many_next(&self, n: usize) {
        self.shared.lock().expect("state").too_many = n;
    }

    pub fn accepted(&self) -> Vec<Value> {
        self.shared.lock().expect("state").accepted.clone()
    }

    pub fn refused(&self) -> usize {
        self.shared.lock().expect("state").refused
    }
}
