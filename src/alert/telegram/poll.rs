//! Reading answers: getUpdates long polling, restricted to the configured chats.
//!
//! Anyone who finds the bot can write to it. Only updates from `chat_ids` are acted on; others
//! get no answer at all (not even a usage text, which would confirm the bot is alive) and a
//! warning naming the chat id.

use std::time::Duration;

use teloxide::prelude::*;
use teloxide::types::{AllowedUpdate, CallbackQuery, Message, UpdateKind, User};

use super::commands::{Parsed, parse_callback, parse_command};
use super::{CallError, MAX_POLL, TelegramSink, errors};
use crate::alert::{DeliveryError, Response};

impl TelegramSink {
    /// Long-polls getUpdates for up to `timeout` (capped at 50 s) and returns the answers found.
    ///
    /// `offset` is the next update id to ask for; it is advanced past every update seen, acted on
    /// or not. Keep it across calls (persisting it is optional: Telegram forgets confirmed
    /// updates). Usage texts and button answers are sent from here; their failures are logged,
    /// not returned, since the updates are already consumed.
    ///
    /// 409 Conflict (another getUpdates consumer for this token) → `Retry` plus a warning.
    pub async fn poll(
        &self,
        offset: &mut i64,
        timeout: Duration,
    ) -> Result<Vec<Response>, DeliveryError> {
        Ok(self
            .poll_from(offset, timeout)
            .await?
            .into_iter()
            .map(|(_, r)| r)
            .collect())
    }

    /// Like [`poll`](Self::poll), with the chat each response came from (to reply there).
    pub async fn poll_from(
        &self,
        offset: &mut i64,
        timeout: Duration,
    ) -> Result<Vec<(Option<i64>, Response)>, DeliveryError> {
        let wait = timeout.min(MAX_POLL);
        let secs = u32::try_from(wait.as_secs()).unwrap_or(0);
        let req = self
            .bot
            .get_updates()
            .offset(i32::try_from(*offset).unwrap_or(i32::MAX))
            .timeout(secs)
            .allowed_updates([AllowedUpdate::Message, AllowedUpdate::CallbackQuery]);
        let updates = match self.call_within(wait + self.request_timeout, req).await {
            Ok(u) => u,
            Err(CallError::Request(e)) if errors::is_conflict(&e) => {
                tracing::warn!(
                    "Telegram getUpdates conflict (409): another program or a second brokerwatch \
                     is reading updates for this bot token; commands may be lost until it stops"
                );
                return Err(self.classify(CallError::Request(e), None));
            }
            Err(e) => return Err(self.classify(e, None)),
        };
        let mut out = Vec::new();
        for update in updates {
            *offset = (*offset).max(i64::from(update.id.0) + 1);
            let response = match update.kind {
                UpdateKind::Message(m) => self.on_message(&m).await.map(|r| (Some(m.chat.id.0), r)),
                UpdateKind::CallbackQuery(q) => {
                    let chat = q.message.as_ref().map(|m| m.chat().id.0);
                    self.on_callback(&q).await.map(|r| (chat, r))
                }
                _ => None,
            };
            out.extend(response);
        }
        Ok(out)
    }

    fn allowed(&self, chat: i64, what: &str) -> bool {
        let ok = self.chats.contains(&chat);
        if !ok {
            tracing::warn!(
                chat_id = chat,
                "ignoring a Telegram {what} from chat {chat}, which is not in telegram.chat_ids nor a recipient's"
            );
        }
        ok
    }

    async fn on_message(&self, m: &Message) -> Option<Response> {
        let chat = m.chat.id.0;
        if !self.allowed(chat, "message") {
            return None;
        }
        let by = self.who(m.from.as_ref(), chat);
        match parse_command(
            m.text()?,
            self.username.get().map(String::as_str),
            &by,
            self.language,
        ) {
            Parsed::Command(r) => Some(r),
            Parsed::Usage(text) => {
                if let Err(e) = self.reply(chat, &text).await {
                    tracing::warn!(chat_id = chat, error = %e, "cannot send the usage text");
                }
                None
            }
            Parsed::Ignore => None,
        }
    }

    async fn on_callback(&self, q: &CallbackQuery) -> Option<Response> {
        let chat = q
            .message
            .as_ref()
            .map_or(q.from.id.0 as i64, |m| m.chat().id.0);
        if !self.allowed(chat, "button press") {
            return None;
        }
        let parsed = q
            .data
            .as_deref()
            .and_then(|d| parse_callback(d, &self.who(Some(&q.from), chat), self.language));
        // NOTE: until answerCallbackQuery the client shows a spinner on the button.
        let unknown = self.language.pick("不明なボタンです。", "Unknown button.");
        let answer = parsed.as_ref().map_or(unknown, |(_, text)| *text);
        let req = self.bot.answer_callback_query(q.id.clone()).text(answer);
        if let Err(e) = self.call(req).await {
            tracing::warn!(chat_id = chat, error = %self.classify(e, Some(chat)), "cannot answer a button press");
        }
        parsed.map(|(r, _)| r)
    }
}

impl TelegramSink {
    /// Who answered: the recipient's name for a recipient's chat, else [`who`].
    fn who(&self, user: Option<&User>, chat: i64) -> String {
        match self.names.get(&chat) {
            Some(name) => name.clone(),
            None => who(user, chat),
        }
    }
}

/// Who answered, for the audit trail: `telegram:@username`, else `telegram:<user id>`.
fn who(user: Option<&User>, chat: i64) -> String {
    match user {
        Some(User {
            username: Some(u), ..
        }) => format!("telegram:@{u}"),
        Some(u) => format!("telegram:{}", u.id.0),
        None => format!("telegram:chat{chat}"),
    }
}

/// Long-polls Telegram for commands and buttons and hands them to `out`, for as long as the
/// daemon runs; the update offset survives restarts.
pub async fn listen(
    t: std::sync::Arc<TelegramSink>,
    store: crate::store::Store,
    out: tokio::sync::mpsc::Sender<(Option<i64>, Response)>,
) {
    if let Err(e) = t.register_commands().await {
        tracing::warn!("cannot register Telegram commands: {e}");
    }
    let mut offset: i64 = store
        .kv_get(OFFSET_KEY)
        .ok()
        .flatten()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut backoff = crate::backoff::Backoff::new(Duration::from_secs(2), Duration::from_secs(32));
    loop {
        match t.poll_from(&mut offset, Duration::from_secs(25)).await {
            Ok(items) => {
                backoff.reset();
                let _ = store.kv_set(OFFSET_KEY, &offset.to_string());
                for item in items {
                    if out.send(item).await.is_err() {
                        return;
                    }
                }
            }
            Err(e) => {
                let wait = backoff.next_delay();
                tracing::warn!("Telegram getUpdates failed ({e}); again in {wait:?}");
                tokio::time::sleep(wait).await;
            }
        }
    }
}

/// The store key (`kv` table) of the next update id to ask for.
const OFFSET_KEY: &str = "telegram_offset";
