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

mod api;
mod control;
mod markup;
mod shapes;

use api::*;
use control::*;
pub use markup::{html_problem, markdown_v2_problem};
use shapes::*;

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
