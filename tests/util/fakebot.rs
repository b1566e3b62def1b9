//! A fake Telegram Bot API on 127.0.0.1, in-process, speaking the real response shapes.
//!
//! `POST /bot<TOKEN>/<method>` with a JSON body (what teloxide sends), a form body or a query
//! string. Implemented: sendMessage, getUpdates (long poll, offset, one poller at a time: a second
//! concurrent one gets 409), answerCallbackQuery, setMyCommands, getMe. Scripted faults (500,
//! 429 retry_after, 401, chat not found, slow), a hanging mode (connections accepted, requests
//! never answered), a strict MarkdownV2/HTML parser that answers 400 "can't parse entities" like
//! Telegram, down/up on the same port, and a record of every request.
//!
//! Also used by `examples/fakebot.rs` (benchmarks), which drives it through `/_fake/*` routes.

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{Json, Router};
use serde_json::{Map, Value, json};
use tokio::sync::{Notify, oneshot};
use tokio::task::JoinHandle;

/// The token the fake accepts unless told otherwise.
pub const TOKEN: &str = "110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";

/// The fake bot's own username (getMe).
pub const BOT_USERNAME: &str = "brokerwatch_test_bot";

/// A scripted failure for the next matching request.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// 500 Internal Server Error (JSON body, as Telegram's front end sends).
    ServerError,
    /// 429 with `parameters.retry_after`.
    RetryAfter(u32),
    /// 401 Unauthorized, as for a wrong token.
    Unauthorized,
    /// 400 "Bad Request: chat not found".
    ChatNotFound,
    /// 400 "can't parse entities" whatever the text (a formatting bug we did not foresee).
    CantParseEntities,
    /// Answer normally, but only after this delay.
    Slow(Duration),
}

/// [`Recorded::status`] of a request that arrived while the fake was hanging: it is recorded on
/// arrival, and answered (502) only when the hang ends, long after any client gave up.
pub const HUNG: u16 = 0;

/// One request as received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub chat_id: Option<i64>,
    pub text: Option<String>,
    pub parse_mode: Option<String>,
    pub reply_markup: Option<Value>,
    /// All parameters, normalised to JSON.
    pub params: Value,
    /// The HTTP status answered; [`HUNG`] for a request that got no answer in time.
    pub status: u16,
    /// When the request arrived.
    pub at: Instant,
    /// When the request arrived, in wall-clock milliseconds since the Unix epoch (benchmarks
    /// compare it with timestamps taken in other processes).
    pub received_at_ms: u64,
}

impl Recorded {
    /// A sendMessage that the fake accepted (200).
    pub fn is_delivered_message(&self) -> bool {
        self.method == "sendMessage" && self.status == 200
    }
}

#[derive(Default)]
struct State_ {
    requests: Vec<Recorded>,
    faults: VecDeque<(Option<String>, Fault)>,
    next_message_id: i64,
    updates: Vec<Value>,
    next_update_id: i64,
    polling: bool,
    lenient: bool,
    missing_chats: HashSet<i64>,
    /// Requests for this method (`None`: any) are accepted and not answered.
    hang: Option<Option<String>>,
}

impl State_ {
    fn hangs(&self, method: &str) -> bool {
        self.hang
            .as_ref()
            .is_some_and(|m| m.as_deref().is_none_or(|m| m.eq_ignore_ascii_case(method)))
    }
}

struct Shared {
    token: String,
    state: Mutex<State_>,
    new_update: Notify,
    shutdown: Notify,
    /// Woken when a hang ends.
    unhang: Notify,
    started: Instant,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State_> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues a text message from a user in `chat` (user id = chat id for a private chat).
    fn inject_message(&self, chat: i64, text: &str) -> i64 {
        let cmd_len = text
            .split_whitespace()
            .next()
            .filter(|w| w.starts_with('/'));
        let entities = cmd_len.map_or(
            json!([]),
            |w| json!([{"type": "bot_command", "offset": 0, "length": w.encode_utf16().count()}]),
        );
        self.push_update(|st| {
            let message_id = st.bump_message_id();
            json!({"message": {
                "message_id": message_id, "from": user_json(chat), "chat": chat_json(chat),
                "date": unix_now(), "text": text, "entities": entities,
            }})
        })
    }

    /// Queues a button press with callback `data` under a message in `chat`.
    fn inject_callback(&self, chat: i64, data: &str) -> i64 {
        self.push_update(|st| {
            let message_id = st.bump_message_id();
            json!({"callback_query": {
                "id": format!("cbq-{message_id}"), "from": user_json(chat),
                "chat_instance": format!("ci{chat}"), "data": data,
                "message": {"message_id": message_id, "from": bot_user_json(&self.token),
                    "chat": chat_json(chat), "date": unix_now(), "text": "alert"},
            }})
        })
    }

    fn push_update(&self, make: impl FnOnce(&mut State_) -> Value) -> i64 {
        let id = {
            let mut st = self.lock();
            let mut u = make(&mut st);
            let id = st.next_update_id;
            st.next_update_id += 1;
            u["update_id"] = json!(id);
            st.updates.push(u);
            id
        };
        self.new_update.notify_waiters();
        id
    }
}

/// The running fake. Dropping it stops the server.
pub struct FakeBot {
    addr: SocketAddr,
    shared: Arc<Shared>,
    server: Mutex<Option<(oneshot::Sender<()>, JoinHandle<()>)>>,
}

impl FakeBot {
    /// Starts on 127.0.0.1 with a free port, accepting [`TOKEN`].
    pub async fn start() -> FakeBot {
        Self::start_on("127.0.0.1:0".parse().expect("literal address"), TOKEN).await
    }

    /// Starts on `addr` (port 0: any free port) accepting `token`.
    pub async fn start_on(addr: SocketAddr, token: &str) -> FakeBot {
        let shared = Arc::new(Shared {
            token: token.to_string(),
            state: Mutex::new(State_ {
                next_message_id: 1,
                next_update_id: 1000,
                ..State_::default()
            }),
            new_update: Notify::new(),
            shutdown: Notify::new(),
            unhang: Notify::new(),
            started: Instant::now(),
        });
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .expect("bind fake bot");
        let addr = listener.local_addr().expect("local addr");
        let bot = FakeBot {
            addr,
            shared,
            server: Mutex::new(None),
        };
        bot.serve(listener);
        bot
    }

    fn serve(&self, listener: tokio::net::TcpListener) {
        let (tx, rx) = oneshot::channel::<()>();
        let app = router(Arc::clone(&self.shared));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        *self.server.lock().expect("server slot") = Some((tx, task));
    }

    /// The base URL to give as `telegram.api_url`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops listening: new connections are refused until [`up`](Self::up).
    pub async fn down(&self) {
        let slot = self.server.lock().expect("server slot").take();
        if let Some((tx, task)) = slot {
            let _ = tx.send(());
            self.shared.shutdown.notify_waiters();
            let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
        }
    }

    /// Listens again on the same port.
    pub async fn up(&self) {
        let listener = tokio::net::TcpListener::bind(self.addr)
            .await
            .expect("rebind fake bot");
        self.serve(listener);
    }

    /// The next `n` requests (any method) fail with `fault`.
    pub fn fail_next(&self, n: usize, fault: Fault) {
        let mut st = self.shared.lock();
        st.faults.extend(std::iter::repeat_n((None, fault), n));
    }

    /// The next `n` requests for `method` fail with `fault`.
    pub fn fail_next_on(&self, method: &str, n: usize, fault: Fault) {
        let mut st = self.shared.lock();
        st.faults
            .extend(std::iter::repeat_n((Some(method.to_string()), fault), n));
    }

    /// From now on, requests for `method` (`None`: every method) are accepted and never answered,
    /// like an API front end that hangs; each is recorded on arrival with status [`HUNG`].
    pub fn hang(&self, method: Option<&str>) {
        self.shared.lock().hang = Some(method.map(str::to_string));
    }

    /// Ends [`hang`](Self::hang): new requests are answered again, and the hung ones get a 502
    /// (their clients have normally given up by then).
    pub fn stop_hanging(&self) {
        self.shared.lock().hang = None;
        self.shared.unhang.notify_waiters();
    }

    /// Requests that arrived while hanging.
    pub fn hung(&self, method: &str) -> Vec<Recorded> {
        self.requests_for(method)
            .into_iter()
            .filter(|r| r.status == HUNG)
            .collect()
    }

    /// Accept any formatting (default: strict, like Telegram).
    pub fn set_lenient_formatting(&self, lenient: bool) {
        self.shared.lock().lenient = lenient;
    }

    /// sendMessage to `chat` answers 400 "chat not found".
    pub fn forget_chat(&self, chat: i64) {
        self.shared.lock().missing_chats.insert(chat);
    }

    /// Queues a text message from a user in `chat` (user id = chat id for a private chat).
    pub fn inject_message(&self, chat: i64, text: &str) -> i64 {
        self.shared.inject_message(chat, text)
    }

    /// Queues a button press with callback `data` under a message in `chat`.
    pub fn inject_callback(&self, chat: i64, data: &str) -> i64 {
        self.shared.inject_callback(chat, data)
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.lock().requests.clone()
    }

    /// The requests for one method.
    pub fn requests_for(&self, method: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.method == method)
            .collect()
    }

    /// The sendMessage requests that were accepted.
    pub fn delivered(&self) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(Recorded::is_delivered_message)
            .collect()
    }

    /// Waits until at least `n` requests for `method` were recorded (or `within` passes).
    pub async fn wait_for(&self, method: &str, n: usize, within: Duration) -> Vec<Recorded> {
        let deadline = Instant::now() + within;
        loop {
            let got = self.requests_for(method);
            if got.len() >= n || Instant::now() >= deadline {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for FakeBot {
    fn drop(&mut self) {
        if let Ok(mut slot) = self.server.lock()
            && let Some((tx, task)) = slot.take()
        {
            let _ = tx.send(());
            task.abort();
        }
    }
}

impl State_ {
    fn bump_message_id(&mut self) -> i64 {
        let id = self.next_message_id;
        self.next_message_id += 1;
        id
    }
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/{bot}/{method}", any(api))
        .route("/_fake/requests", get(control_requests))
        .route("/_fake/message", post(control_message))
        .route("/_fake/fault", post(control_fault))
        .with_state(shared)
}

/// The Bot API endpoint.
async fn api(
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
async fn hang_until_released(shared: &Shared, method: &str) {
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

fn record(
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

async fn answer(
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
fn canonical(method: &str) -> String {
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

fn send_message(shared: &Shared, p: &Map<String, Value>) -> (StatusCode, Value) {
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
struct PollGuard<'a>(&'a Shared);

impl Drop for PollGuard<'_> {
    fn drop(&mut self) {
        self.0.lock().polling = false;
    }
}

async fn get_updates(shared: &Shared, p: &Map<String, Value>) -> (StatusCode, Value) {
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
fn parse_params(
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
fn form_value(key: &str, v: &str) -> Value {
    match key {
        "chat_id" | "offset" | "timeout" | "limit" | "reply_markup" | "allowed_updates"
        | "commands" => serde_json::from_str(v).unwrap_or_else(|_| Value::String(v.to_string())),
        _ => Value::String(v.to_string()),
    }
}

/// Telegram's MarkdownV2 rules, strictly: what the real API rejects, with its wording.
pub fn markdown_v2_problem(text: &str) -> Option<String> {
    let mut open: Vec<&str> = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let marker = match c {
            '\\' => match chars.next() {
                Some(_) => continue,
                None => {
                    return Some(format!(
                        "Can't parse entities: unexpected end of text at byte offset {i}"
                    ));
                }
            },
            '*' => "Bold",
            '_' => "Italic",
            '~' => "Strikethrough",
            '`' => "Code",
            '|' if chars.peek().is_some_and(|&(_, n)| n == '|') => {
                chars.next();
                "Spoiler"
            }
            '[' | ']' | '(' | ')' | '>' | '#' | '+' | '-' | '=' | '|' | '{' | '}' | '.' | '!' => {
                return Some(format!(
                    "Character '{c}' is reserved and must be escaped with the preceding '\\'"
                ));
            }
            _ => continue,
        };
        if open.last() == Some(&marker) {
            open.pop();
        } else {
            open.push(marker);
        }
    }
    open.last()
        .map(|e| format!("Can't find end of {e} entity at byte offset {}", text.len()))
}

/// Telegram's HTML rules: only its tags, and `<`, `>`, `&` escaped elsewhere.
pub fn html_problem(text: &str) -> Option<String> {
    const TAGS: [&str; 14] = [
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "code",
        "pre",
        "a",
        "tg-spoiler",
        "blockquote",
    ];
    let mut stack: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(pos) = rest.find(['<', '>', '&']) {
        let tail = &rest[pos..];
        if tail.starts_with('>') {
            return Some("Unexpected end tag".into());
        }
        if let Some(after) = tail.strip_prefix('&') {
            let end = after.find(';').filter(|&e| e <= 9);
            let ent = end.map(|e| &after[..e]);
            if !matches!(ent, Some("lt" | "gt" | "amp" | "quot"))
                && !ent.is_some_and(|e| e.starts_with('#'))
            {
                return Some(format!(
                    "Unsupported entity at byte offset {}",
                    text.len() - tail.len()
                ));
            }
            rest = after;
            continue;
        }
        let Some(close) = tail.find('>') else {
            return Some("Unclosed start tag".into());
        };
        let tag = &tail[1..close];
        let (closing, name) = tag.strip_prefix('/').map_or((false, tag), |n| (true, n));
        let name = name
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        if !TAGS.contains(&name.as_str()) {
            return Some(format!(
                "Unsupported start tag \"{name}\" at byte offset {}",
                text.len() - tail.len()
            ));
        }
        if closing {
            if stack.pop().as_deref() != Some(name.as_str()) {
                return Some(format!("Unmatched end tag \"{name}\""));
            }
        } else {
            stack.push(name);
        }
        rest = &tail[close + 1..];
    }
    stack
        .last()
        .map(|t| format!("Can't find end tag corresponding to start tag \"{t}\""))
}

fn ok(result: Value) -> (StatusCode, Value) {
    (StatusCode::OK, json!({"ok": true, "result": result}))
}

fn error(status: StatusCode, description: &str) -> (StatusCode, Value) {
    let body = json!({"ok": false, "error_code": status.as_u16(), "description": description});
    (status, body)
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn unix_now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn chat_json(chat: i64) -> Value {
    if chat < 0 {
        json!({"id": chat, "type": "group", "title": "Family"})
    } else {
        json!({"id": chat, "type": "private", "first_name": "Alice", "username": format!("user{chat}")})
    }
}

fn user_json(chat: i64) -> Value {
    let id = chat.unsigned_abs();
    json!({"id": id, "is_bot": false, "first_name": "Alice", "username": format!("user{id}")})
}

fn bot_user_json(token: &str) -> Value {
    let id: u64 = token
        .split(':')
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    json!({"id": id, "is_bot": true, "first_name": "brokerwatch test", "username": BOT_USERNAME})
}

/// getMe adds the bot-only fields to the User.
fn get_me_json(token: &str) -> Value {
    let mut me = bot_user_json(token);
    for (k, v) in [
        ("can_join_groups", true),
        ("can_read_all_group_messages", false),
        ("supports_inline_queries", false),
        ("can_connect_to_business", false),
        ("has_main_web_app", false),
    ] {
        me[k] = json!(v);
    }
    me
}

/// `GET /_fake/requests`: the record, as JSON (for the standalone binary).
async fn control_requests(State(shared): State<Arc<Shared>>) -> Json<Value> {
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
async fn control_message(State(shared): State<Arc<Shared>>, Json(v): Json<Value>) -> StatusCode {
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
async fn control_fault(State(shared): State<Arc<Shared>>, Json(v): Json<Value>) -> StatusCode {
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
