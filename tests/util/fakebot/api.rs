//! The Bot API endpoint: parameters as teloxide sends them, scripted faults and hangs, and
//! the methods the daemon calls (sendMessage, getUpdates, answerCallbackQuery, setMyCommands, getMe).

use super::*;

/// The Bot API endpoint.
pub(super) async fn api(
    State(shared): State<Arc<Shared>>,
    Path((bot, method)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let at = Instant::now();
    let received_at_ms = unix_now_ms();
    let method = canonical(&method);
    let params = parse_params(&query, &headers, &body);
    if shared.lock().hangs(&method) {
        let rec = record(&method, params, StatusCode::OK, (at, received_at_ms));
        shared.lock().requests.push(Recorded {
            status: HUNG,
            ..rec
        });
        hang_until_released(&shared, &method).await;
        let (status, body) = error(StatusCode::BAD_GATEWAY, "Bad Gateway");
        return (status, Json(body)).into_response();
    }
    let (status, body) = answer(&shared, &bot, &method, &params).await;
    shared
        .lock()
        .requests
        .push(record(&method, params, status, (at, received_at_ms)));
    (status, Json(body)).into_response()
}

/// Waits until the hang ends or the server goes down.
pub(super) async fn hang_until_released(shared: &Shared, method: &str) {
    loop {
        let unhang = shared.unhang.notified();
        let shutdown = shared.shutdown.notified();
        tokio::pin!(unhang, shutdown);
        unhang.as_mut().enable();
        shutdown.as_mut().enable();
        if !shared.lock().hangs(method) {
            return;
        }
        tokio::select! {
            _ = &mut unhang => {}
            _ = &mut shutdown => return,
        }
    }
}

pub(super) fn record(
    method: &str,
    params: Map<String, Value>,
    status: StatusCode,
    (at, received_at_ms): (Instant, u64),
) -> Recorded {
    Recorded {
        method: method.to_string(),
        chat_id: params.get("chat_id").and_then(Value::as_i64),
        text: params
            .get("text")
            .and_then(Value::as_str)
            .map(str::to_string),
        parse_mode: params
            .get("parse_mode")
            .and_then(Value::as_str)
            .map(str::to_string),
        reply_markup: params.get("reply_markup").cloned(),
        params: Value::Object(params),
        status: status.as_u16(),
        at,
        received_at_ms,
    }
}

pub(super) async fn answer(
    shared: &Shared,
    bot: &str,
    method: &str,
    p: &Map<String, Value>,
) -> (StatusCode, Value) {
    if bot.strip_prefix("bot") != Some(shared.token.as_str()) {
        return error(StatusCode::UNAUTHORIZED, "Unauthorized");
    }
    let fault = {
        let mut st = shared.lock();
        let pos = st
            .faults
            .iter()
            .position(|(m, _)| m.as_deref().is_none_or(|m| m.eq_ignore_ascii_case(method)));
        pos.and_then(|i| st.faults.remove(i)).map(|(_, f)| f)
    };
    match fault {
        Some(Fault::ServerError) => {
            return error(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error");
        }
        Some(Fault::Unauthorized) => return error(StatusCode::UNAUTHORIZED, "Unauthorized"),
        Some(Fault::ChatNotFound) => {
            return error(StatusCode::BAD_REQUEST, "Bad Request: chat not found");
        }
        Some(Fault::CantParseEntities) => {
            let why = "Bad Request: can't parse entities: Can't find end of the entity starting at byte offset 0";
            return error(StatusCode::BAD_REQUEST, why);
        }
        Some(Fault::RetryAfter(n)) => {
            let body = json!({"ok": false, "error_code": 429,
                "description": format!("Too Many Requests: retry after {n}"),
                "parameters": {"retry_after": n}});
            return (StatusCode::TOO_MANY_REQUESTS, body);
        }
        Some(Fault::Slow(d)) => tokio::time::sleep(d).await,
        None => {}
    }
    match method {
        "sendMessage" => send_message(shared, p),
        "getUpdates" => get_updates(shared, p).await,
        "answerCallbackQuery" | "setMyCommands" => ok(json!(true)),
        "getMe" => ok(get_me_json(&shared.token)),
        _ => error(StatusCode::NOT_FOUND, "Not Found"),
    }
}

/// The documented spelling of a method name.
///
/// NOTE: Telegram method names are case-insensitive, and teloxide sends `SendMessage`.
pub(super) fn canonical(method: &str) -> String {
    const KNOWN: [&str; 5] = [
        "sendMessage",
        "getUpdates",
        "answerCallbackQuery",
        "setMyCommands",
        "getMe",
    ];
    KNOWN
        .iter()
        .find(|k| k.eq_ignore_ascii_case(method))
        .map_or_else(|| method.to_string(), |k| k.to_string())
}

pub(super) fn send_message(shared: &Shared, p: &Map<String, Value>) -> (StatusCode, Value) {
    let Some(chat) = p.get("chat_id").and_then(Value::as_i64) else {
        return error(StatusCode::BAD_REQUEST, "Bad Request: chat_id is empty");
    };
    let text = p.get("text").and_then(Value::as_str).unwrap_or("");
    if text.trim().is_empty() {
        return error(
            StatusCode::BAD_REQUEST,
            "Bad Request: message text is empty",
        );
    }
    let mut st = shared.lock();
    if st.missing_chats.contains(&chat) {
        return error(StatusCode::BAD_REQUEST, "Bad Request: chat not found");
    }
    if text.encode_utf16().count() > 4096 {
        return error(StatusCode::BAD_REQUEST, "Bad Request: message is too long");
    }
    let mode = p.get("parse_mode").and_then(Value::as_str).unwrap_or("");
    let problem = match mode {
        _ if st.lenient => None,
        "MarkdownV2" => markdown_v2_problem(text),
        "HTML" => html_problem(text),
        _ => None,
    };
    if let Some(why) = problem {
        return error(
            StatusCode::BAD_REQUEST,
            &format!("Bad Request: can't parse entities: {why}"),
        );
    }
    let message_id = st.bump_message_id();
    let mut msg = json!({"message_id": message_id, "from": bot_user_json(&shared.token),
        "chat": chat_json(chat), "date": unix_now(), "text": text});
    if let Some(kb) = p.get("reply_markup") {
        msg["reply_markup"] = kb.clone();
    }
    ok(msg)
}

/// Clears the poller flag however the request ends (answered, or the client went away).
pub(super) struct PollGuard<'a>(&'a Shared);

impl Drop for PollGuard<'_> {
    fn drop(&mut self) {
        self.0.lock().polling = false;
    }
}

pub(super) async fn get_updates(shared: &Shared, p: &Map<String, Value>) -> (StatusCode, Value) {
    {
        let mut st = shared.lock();
        if st.polling {
            return error(
                StatusCode::CONFLICT,
                "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
            );
        }
        st.polling = true;
    }
    let _guard = PollGuard(shared);
    let offset = p.get("offset").and_then(Value::as_i64).unwrap_or(0);
    let timeout = p
        .get("timeout")
        .and_then(Value::as_u64)
        .unwrap_or(0)
        .min(50);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(timeout);
    loop {
        let notified = shared.new_update.notified();
        let shutdown = shared.shutdown.notified();
        tokio::pin!(notified, shutdown);
        notified.as_mut().enable();
        shutdown.as_mut().enable();
        let pending: Vec<Value> = {
            let mut st = shared.lock();
            // NOTE: an offset confirms (and forgets) every update before it.
            st.updates
                .retain(|u| u["update_id"].as_i64().unwrap_or(0) >= offset);
            st.updates.clone()
        };
        if !pending.is_empty() || tokio::time::Instant::now() >= deadline {
            return ok(Value::Array(pending));
        }
        tokio::select! {
            _ = &mut notified => {}
            _ = &mut shutdown => return ok(json!([])),
            _ = tokio::time::sleep_until(deadline) => {}
        }
    }
}

/// Merges the query string and a JSON or form body into one JSON object.
pub(super) fn parse_params(
    query: &HashMap<String, String>,
    headers: &HeaderMap,
    body: &[u8],
) -> Map<String, Value> {
    let mut out: Map<String, Value> = query
        .iter()
        .map(|(k, v)| (k.clone(), form_value(k, v)))
        .collect();
    let ctype = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if ctype.starts_with("application/json") {
        if let Ok(Value::Object(m)) = serde_json::from_slice::<Value>(body) {
            out.extend(m);
        }
    } else if ctype.starts_with("application/x-www-form-urlencoded") {
        let uri: Option<Uri> = format!("/?{}", String::from_utf8_lossy(body)).parse().ok();
        let form = uri.and_then(|u| Query::<HashMap<String, String>>::try_from_uri(&u).ok());
        for (k, v) in form.map(|q| q.0).unwrap_or_default() {
            let v = form_value(&k, &v);
            out.insert(k, v);
        }
    }
    out
}

/// Form and query values are strings; numbers and JSON-valued fields are decoded like Telegram.
pub(super) fn form_value(key: &str, v: &str) -> Value {
    match key {
        "chat_id" | "offset" | "timeout" | "limit" | "reply_markup" | "allowed_updates"
        | "commands" => serde_json::from_str(v).unwrap_or_else(|_| Value::String(v.to_string())),
        _ => Value::String(v.to_string()),
    }
}
