//! `/_fake/*`: the control routes `examples/fakebot` (benchmarks) drives the fake through.

use super::*;

/// `GET /_fake/requests`: the record, as JSON (for the standalone binary).
pub(super) async fn control_requests(State(shared): State<Arc<Shared>>) -> Json<Value> {
    let st = shared.lock();
    let list = st.requests.iter().map(|r| {
        json!({
            "method": r.method, "chat_id": r.chat_id, "text": r.text, "parse_mode": r.parse_mode,
            "reply_markup": r.reply_markup, "status": r.status,
            "at_ms": r.at.duration_since(shared.started).as_millis() as u64,
            "received_at_ms": r.received_at_ms,
        })
    });
    Json(Value::Array(list.collect()))
}

/// `POST /_fake/message {"chat_id", "text"}` or `{"chat_id", "callback_data"}`: queues an update.
pub(super) async fn control_message(
    State(shared): State<Arc<Shared>>,
    Json(v): Json<Value>,
) -> StatusCode {
    let chat = v["chat_id"].as_i64().unwrap_or(0);
    match (v["text"].as_str(), v["callback_data"].as_str()) {
        (Some(t), _) => shared.inject_message(chat, t),
        (_, Some(d)) => shared.inject_callback(chat, d),
        _ => return StatusCode::BAD_REQUEST,
    };
    StatusCode::NO_CONTENT
}

/// `POST /_fake/fault {"kind": "500"|"429"|"401"|"slow", "n": 1, "secs": 2, "method": "sendMessage"}`;
/// `{"kind": "hang", "method": …}` hangs until `{"kind": "unhang"}`.
pub(super) async fn control_fault(
    State(shared): State<Arc<Shared>>,
    Json(v): Json<Value>,
) -> StatusCode {
    let secs = v["secs"].as_u64().unwrap_or(1);
    let fault = match v["kind"].as_str().unwrap_or("") {
        "hang" => {
            shared.lock().hang = Some(v["method"].as_str().map(str::to_string));
            return StatusCode::NO_CONTENT;
        }
        "unhang" => {
            shared.lock().hang = None;
            shared.unhang.notify_waiters();
            return StatusCode::NO_CONTENT;
        }
        "500" => Fault::ServerError,
        "429" => Fault::RetryAfter(u32::try_from(secs).unwrap_or(1)),
        "401" => Fault::Unauthorized,
        "chat_not_found" => Fault::ChatNotFound,
        "slow" => Fault::Slow(Duration::from_secs(secs)),
        _ => return StatusCode::BAD_REQUEST,
    };
    let n = usize::try_from(v["n"].as_u64().unwrap_or(1)).unwrap_or(1);
    let method = v["method"].as_str().map(str::to_string);
    shared
        .lock()
        .faults
        .extend(std::iter::repeat_n((method, fault), n));
    StatusCode::NO_CONTENT
}
