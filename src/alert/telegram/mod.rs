//! The Telegram sink: alerts to every configured chat through the Bot API (teloxide), and the
//! commands and buttons people answer with (see [`TelegramSink::poll`]).
//!
//! Exactly-once per chat is the outbox's job: it should call [`TelegramSink::deliver_to`] once per
//! entry of [`TelegramSink::chats`] and record each chat's state, so that a failure on one chat is
//! retried without re-sending to the others. [`TelegramSink::deliver`] is a convenience for
//! one-shot callers (`alert-test`).
//!
//! The token is a secret: this type has a hand-written `Debug`, teloxide's `Bot` (whose `Debug`
//! prints the token) is never formatted, and request errors are described without their URL.

mod commands;
mod errors;
pub mod format;
mod poll;

pub use poll::listen;

use std::fmt;
use std::future::IntoFuture;
use std::sync::OnceLock;
use std::time::Duration;

use teloxide::RequestError;
use teloxide::prelude::*;
use teloxide::types::{BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, ParseMode};

use crate::alert::language::Language;
use crate::alert::{AlertMessage, Delivered, DeliveryError};
use crate::config::secret::SecretError;
use crate::config::{TelegramConfig, TelegramFormat};

pub use commands::{COMMANDS, SNOOZE, parse_duration};
use errors::Redactor;
use format::Part;

/// Every send, answer and command registration must finish within this (the default).
///
/// NOTE: teloxide waits 10 s before reading any 5xx response, so this must stay above 10 s for a
/// 5xx to surface as the server's own error rather than as a timeout.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// getUpdates long polls are capped at this many seconds (Telegram allows 50).
const MAX_POLL: Duration = Duration::from_secs(50);

/// Why the sink could not be built. Names the problem, never the token.
#[derive(Debug, thiserror::Error)]
pub enum TelegramSetupError {
    // NOTE: not `#[from]`: that makes the SecretError the source too, and `{:#}` (main's
    // error line) then says it twice.
    #[error("telegram token: {0}")]
    Token(SecretError),
    #[error("telegram.api_url `{url}` is not a valid URL: {reason}")]
    ApiUrl { url: String, reason: String },
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
}

/// The bot as the API describes it (`getMe`), for `doctor`-style checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BotIdentity {
    pub id: u64,
    pub username: String,
}

/// Sends alerts to Telegram chats and reads commands from them.
pub struct TelegramSink {
    bot: Bot,
    chats: Vec<i64>,
    format: TelegramFormat,
    redactor: Redactor,
    request_timeout: Duration,
    /// Our username, once `get_me` has succeeded: `/cmd@otherbot` is then ignored.
    username: OnceLock<String>,
    /// Recipients' names by chat: an answer from their chat is given in their name.
    names: std::collections::BTreeMap<i64, String>,
    /// The language of buttons, usage texts and button answers.
    language: Language,
}

impl fmt::Debug for TelegramSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TelegramSink")
            .field("chats", &self.chats)
            .field("format", &self.format)
            .field("api_url", &self.bot.api_url().as_str())
            .finish_non_exhaustive()
    }
}

impl From<SecretError> for TelegramSetupError {
    fn from(e: SecretError) -> Self {
        TelegramSetupError::Token(e)
    }
}

impl TelegramSink {
    /// Resolves the token (file, env or command) and prepares the client. No network I/O.
    pub fn new(cfg: &TelegramConfig) -> Result<Self, TelegramSetupError> {
        let token = cfg.token.resolve()?;
        let client = teloxide::net::default_reqwest_settings()
            // The per-call bound is ours (tokio timeout); this only has to outlast a long poll.
            .timeout(MAX_POLL + Duration::from_secs(30))
            .build()
            .map_err(|e| TelegramSetupError::Client(e.without_url().to_string()))?;
        let mut bot = Bot::with_client(token.expose(), client);
        if let Some(url) = &cfg.api_url {
            let trimmed = url.trim_end_matches('/');
            let parsed = parse_url(trimmed).map_err(|reason| TelegramSetupError::ApiUrl {
                url: url.clone(),
                reason,
            })?;
            bot = bot.set_api_url(parsed);
        }
        Ok(TelegramSink {
            bot,
            chats: cfg.chat_ids.clone(),
            format: cfg.format,
            redactor: Redactor::new(token.expose()),
            request_timeout: REQUEST_TIMEOUT,
            username: OnceLock::new(),
            names: Default::default(),
            language: Language::default(),
        })
    }

    /// Names the recipients' chats (see [`crate::alert::recipients::telegram_names`]).
    pub fn with_names(mut self, names: std::collections::BTreeMap<i64, String>) -> Self {
        self.names = names;
        self
    }

    /// The language of buttons, usage texts, button answers and the command list.
    pub fn with_language(mut self, language: Language) -> Self {
        self.language = language;
        self
    }

    /// Overrides the per-request bound (tests use a short one against a slow fake server).
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// The chats alerts go to, and the only ones whose commands are accepted.
    pub fn chats(&self) -> &[i64] {
        &self.chats
    }

    /// Sends `msg` to every chat. On any failure returns the first error *after* trying all
    /// chats, so the others still get it; calling this again re-sends to chats that succeeded.
    /// The daemon uses [`deliver_to`](Self::deliver_to) per chat instead.
    pub async fn deliver(&self, msg: &AlertMessage) -> Result<Delivered, DeliveryError> {
        let mut ids = Vec::new();
        let mut first_err = None;
        for &chat in &self.chats {
            match self.deliver_to(chat, msg).await {
                Ok(d) => ids.extend(d.remote_id),
                Err(e) => {
                    tracing::warn!(chat_id = chat, alert_id = msg.id, error = %e, "telegram delivery failed");
                    first_err.get_or_insert(e);
                }
            }
        }
        match first_err {
            Some(e) => Err(e),
            None => Ok(Delivered {
                remote_id: Some(ids.join(",")),
            }),
        }
    }

    /// Sends `msg` to one chat, split into several messages if it is longer than Telegram allows.
    /// `remote_id` lists `chat:message_id` of each message sent, comma-separated.
    pub async fn deliver_to(
        &self,
        chat: i64,
        msg: &AlertMessage,
    ) -> Result<Delivered, DeliveryError> {
        let parts = format::render(msg, self.format, self.language);
        let last = parts.len().saturating_sub(1);
        let mut ids = Vec::with_capacity(parts.len());
        for (i, part) in parts.iter().enumerate() {
            let keyboard = (msg.actionable && i == last).then(|| keyboard(msg.id, self.language));
            let id = self.send_part(chat, part, keyboard, msg.id).await?;
            ids.push(format!("{chat}:{id}"));
        }
        Ok(Delivered {
            remote_id: Some(ids.join(",")),
        })
    }

    /// Sends one part formatted; if the API rejects the formatting, sends it again as plain text.
    async fn send_part(
        &self,
        chat: i64,
        part: &Part,
        keyboard: Option<InlineKeyboardMarkup>,
        alert_id: i64,
    ) -> Result<i32, DeliveryError> {
        let mode = match self.format {
            TelegramFormat::Plain => None,
            TelegramFormat::MarkdownV2 => Some(ParseMode::MarkdownV2),
            TelegramFormat::Html => Some(ParseMode::Html),
        };
        let text = if mode.is_some() {
            &part.formatted
        } else {
            &part.plain
        };
        match self.send_text(chat, text, mode, keyboard.clone()).await {
            Err(CallError::Request(e)) if mode.is_some() && errors::is_parse_error(&e) => {
                tracing::warn!(
                    chat_id = chat,
                    alert_id,
                    "Telegram rejected the message formatting (400 can't parse entities); re-sending as plain text"
                );
                self.send_text(chat, &part.plain, None, keyboard)
                    .await
                    .map_err(|e| self.classify(e, Some(chat)))
            }
            other => other.map_err(|e| self.classify(e, Some(chat))),
        }
    }

    /// One sendMessage call, bounded by the request timeout.
    async fn send_text(
        &self,
        chat: i64,
        text: &str,
        mode: Option<ParseMode>,
        keyboard: Option<InlineKeyboardMarkup>,
    ) -> Result<i32, CallError> {
        let mut req = self.bot.send_message(ChatId(chat), text);
        if let Some(mode) = mode {
            req = req.parse_mode(mode);
        }
        if let Some(kb) = keyboard {
            req = req.reply_markup(kb);
        }
        self.call(req).await.map(|m| m.id.0)
    }

    /// Sends `text` as plain text (command answers), split if needed.
    pub async fn reply(&self, chat: i64, text: &str) -> Result<(), DeliveryError> {
        for chunk in format::render_plain(text, self.language) {
            self.send_text(chat, &chunk, None, None)
                .await
                .map_err(|e| self.classify(e, Some(chat)))?;
        }
        Ok(())
    }

    /// Registers the command list (setMyCommands) so clients offer completion.
    pub async fn register_commands(&self) -> Result<(), DeliveryError> {
        let cmds =
            commands::commands(self.language).map(|(name, help)| BotCommand::new(name, help));
        self.call(self.bot.set_my_commands(cmds))
            .await
            .map(|_| ())
            .map_err(|e| self.classify(e, None))
    }

    /// Asks the API who we are (getMe): checks the token and the API URL. Remembers the username.
    pub async fn get_me(&self) -> Result<BotIdentity, DeliveryError> {
        let me = self
            .call(self.bot.get_me())
            .await
            .map_err(|e| self.classify(e, None))?;
        let username = me.user.username.clone().unwrap_or_default();
        let _ = self.username.set(username.clone());
        Ok(BotIdentity {
            id: me.user.id.0,
            username,
        })
    }

    /// Runs one request within `request_timeout`.
    async fn call<R, T>(&self, req: R) -> Result<T, CallError>
    where
        R: IntoFuture<Output = Result<T, RequestError>>,
    {
        self.call_within(self.request_timeout, req).await
    }

    async fn call_within<R, T>(&self, limit: Duration, req: R) -> Result<T, CallError>
    where
        R: IntoFuture<Output = Result<T, RequestError>>,
    {
        match tokio::time::timeout(limit, req.into_future()).await {
            Ok(r) => r.map_err(CallError::Request),
            Err(_) => Err(CallError::TimedOut(limit)),
        }
    }

    fn classify(&self, e: CallError, chat: Option<i64>) -> DeliveryError {
        match e {
            CallError::TimedOut(d) => DeliveryError::Retry {
                reason: format!("the Bot API did not answer within {}s", d.as_secs_f32()),
                after: None,
            },
            CallError::Request(e) => errors::classify(&e, chat, &self.redactor),
        }
    }
}

/// A failed call: the API or transport said no, or our bound ran out.
enum CallError {
    Request(RequestError),
    TimedOut(Duration),
}

/// The buttons under an actionable alert.
fn keyboard(alert_id: i64, lang: Language) -> InlineKeyboardMarkup {
    use commands::callback_data;
    let [ack, not_me, snooze] = commands::button_labels(lang);
    InlineKeyboardMarkup::new([
        vec![
            InlineKeyboardButton::callback(ack, callback_data("ack", alert_id)),
            InlineKeyboardButton::callback(not_me, callback_data("notme", alert_id)),
        ],
        vec![InlineKeyboardButton::callback(
            snooze,
            callback_data("snooze", alert_id),
        )],
    ])
}

/// Parses a URL into whatever type teloxide wants (reqwest's `Url`, not a direct dependency).
fn parse_url<U>(s: &str) -> Result<U, String>
where
    U: std::str::FromStr,
    U::Err: fmt::Display,
{
    s.parse().map_err(|e: U::Err| e.to_string())
}
