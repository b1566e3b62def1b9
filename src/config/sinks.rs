//! The sinks an alert can go to, and each one's checked settings (compiled from `sinks:` in
//! `compile/sinks`).

use std::time::Duration;

use crate::config::secret::SecretSource;

/// The sinks an alert can go to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SinkKind {
    Console,
    Desktop,
    Telegram,
    Command,
    Ntfy,
    Webhook,
    Line,
    Pushover,
}

impl SinkKind {
    pub const ALL: [SinkKind; 8] = [
        SinkKind::Console,
        SinkKind::Desktop,
        SinkKind::Telegram,
        SinkKind::Command,
        SinkKind::Ntfy,
        SinkKind::Webhook,
        SinkKind::Line,
        SinkKind::Pushover,
    ];

    /// Sinks that only write somewhere (a log, a script) rather than reach a person: repeats
    /// do not go to them.
    pub fn reaches_a_person(self) -> bool {
        !matches!(self, SinkKind::Console)
    }

    /// The name in the config and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            SinkKind::Console => "console",
            SinkKind::Desktop => "desktop",
            SinkKind::Telegram => "telegram",
            SinkKind::Command => "command",
            SinkKind::Ntfy => "ntfy",
            SinkKind::Webhook => "webhook",
            SinkKind::Line => "line",
            SinkKind::Pushover => "pushover",
        }
    }
}

impl std::fmt::Display for SinkKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error for an unknown sink name.
#[derive(Debug, thiserror::Error)]
#[error("unknown sink `{0}` (expected one of: {list})", list = SinkKind::ALL.map(|k| k.as_str()).join(", "))]
pub struct UnknownSink(pub String);

impl std::str::FromStr for SinkKind {
    type Err = UnknownSink;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SinkKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownSink(s.to_string()))
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sinks {
    pub console: bool,
    pub desktop: Option<DesktopConfig>,
    pub telegram: Option<TelegramConfig>,
    pub command: Option<CommandConfig>,
    pub ntfy: Option<NtfyConfig>,
    pub webhook: Option<WebhookConfig>,
    pub line: Option<LineConfig>,
    pub pushover: Option<PushoverConfig>,
}

/// Pushes to LINE users or groups through a Messaging API channel (LINE Notify ended 2025-03-31).
#[derive(Debug, Clone, PartialEq)]
pub struct LineConfig {
    /// The channel's long-lived channel access token (`Authorization: Bearer`).
    pub token: SecretSource,
    /// User ids (`U` + 32 hex) and group ids (`C` + 32 hex).
    pub to: Vec<String>,
    /// Messages a calendar month (Japan time) brokerwatch may spend; the free plan has 200.
    pub monthly_limit: u32,
    /// API base URL, `https://api.line.me`; tests point it at a fake on 127.0.0.1.
    pub api_url: String,
}

/// Sends through Pushover; critical alerts at emergency priority, acknowledged in the app.
#[derive(Debug, Clone, PartialEq)]
pub struct PushoverConfig {
    /// The application's API token.
    pub token: SecretSource,
    pub users: Vec<PushoverUser>,
    /// Emergency priority: Pushover repeats the alert this often (at least 30 s)…
    pub retry: Duration,
    /// …for this long (at most 3 h) unless acknowledged.
    pub expire: Duration,
    /// How often an emergency receipt is asked about (at least 5 s, Pushover's own limit).
    pub receipt_poll: Duration,
    /// API base URL, `https://api.pushover.net`; tests point it at a fake on 127.0.0.1.
    pub api_url: String,
}

/// One person on Pushover: the user (or group) key, and the name an acknowledgement is shown with.
#[derive(Debug, Clone, PartialEq)]
pub struct PushoverUser {
    pub key: SecretSource,
    pub name: String,
}

/// POSTs each alert as JSON, signed with HMAC-SHA256 over the body.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookConfig {
    pub url: String,
    /// The HMAC key; the receiver checks `X-Brokerwatch-Signature: sha256=<hex>` with it.
    pub secret: SecretSource,
}

/// Publishes to an ntfy topic (ntfy.sh or a self-hosted server).
#[derive(Debug, Clone, PartialEq)]
pub struct NtfyConfig {
    /// Server base URL, e.g. `https://ntfy.sh`.
    pub url: String,
    /// The sink's own topic (gets every alert); empty when only recipients' topics are used.
    pub topic: String,
    /// Access token (`Authorization: Bearer`), for a protected topic.
    pub token: Option<SecretSource>,
    /// Extra tags (emoji short codes) on every message.
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DesktopConfig {
    pub app_name: String,
}

/// How Telegram messages are formatted (`format:`, any case: Telegram writes `MarkdownV2`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(try_from = "String")]
pub enum TelegramFormat {
    Plain,
    MarkdownV2,
    Html,
}

impl TryFrom<String> for TelegramFormat {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "plain" => Ok(TelegramFormat::Plain),
            "markdownv2" => Ok(TelegramFormat::MarkdownV2),
            "html" => Ok(TelegramFormat::Html),
            f => Err(format!(
                "unknown format `{f}` (expected `plain`, `markdownv2` or `html`)"
            )),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct TelegramConfig {
    pub token: SecretSource,
    /// Alerts go to these chats, and commands are accepted only from them: the `chat_ids`
    /// written under the sink (they get every alert) and every recipient's `telegram:` chat.
    pub chat_ids: Vec<i64>,
    /// Bot API base URL; tests point it at a fake server on 127.0.0.1.
    pub api_url: Option<String>,
    pub format: TelegramFormat,
    /// Long-poll getUpdates for /ack, /status, /expect and the buttons.
    pub commands: bool,
}

/// Runs a program per alert with the alert as JSON on stdin.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandConfig {
    pub program: String,
    pub args: Vec<String>,
}
