//! Alerts: what a person is told, through which sinks, until someone acknowledges it.
//!
//! The pipeline writes an alert row (the outbox, in the store) in the same transaction as the
//! checkpoint; the outbox worker renders an [`AlertMessage`] and hands it to each sink, recording
//! each sink's delivery state. Sinks only deliver; they never decide.

pub mod command;
pub mod compose;
pub mod console;
pub mod desktop;
pub mod language;
pub mod line;
pub mod ntfy;
pub mod outbox;
pub mod pause;
pub mod pushover;
pub mod quiet;
pub mod raise;
pub mod recipients;
pub mod routes;
pub mod sink;
pub mod telegram;
pub mod webhook;
pub mod wording;

use std::time::Duration;

use crate::event::Severity;

/// What an alert is about; decides wording and buttons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertKind {
    /// A genuine security notice nobody said to expect.
    Unexpected,
    /// A copy that claims a broker but is not authentic.
    Phishing,
    /// An expected notice seen (quiet confirmation).
    Expected,
    /// Several unexpected steps at one broker within the window.
    Takeover,
    /// brokerwatch cannot do its job (login failing, mailbox unreachable, mail unparseable).
    Health,
    /// `brokerwatch alert-test`.
    Test,
}

impl AlertKind {
    pub const ALL: [AlertKind; 6] = [
        AlertKind::Unexpected,
        AlertKind::Phishing,
        AlertKind::Expected,
        AlertKind::Takeover,
        AlertKind::Health,
        AlertKind::Test,
    ];

    /// The name stored in the database and shown to scripts (`command` sink JSON).
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::Unexpected => "unexpected",
            AlertKind::Phishing => "phishing",
            AlertKind::Expected => "expected",
            AlertKind::Takeover => "takeover",
            AlertKind::Health => "health",
            AlertKind::Test => "test",
        }
    }
}

impl std::fmt::Display for AlertKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error for an unknown alert kind.
#[derive(Debug, thiserror::Error)]
#[error(
    "unknown alert kind `{0}` (expected one of: unexpected, phishing, expected, takeover, health, test)"
)]
pub struct UnknownAlertKind(pub String);

impl std::str::FromStr for AlertKind {
    type Err = UnknownAlertKind;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AlertKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownAlertKind(s.to_string()))
    }
}

/// A rendered alert, ready for any sink. Text is plain; sinks escape it for their format.
/// It never holds a clickable URL from a mail (they are defanged before this) nor a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertMessage {
    /// The alert row id; what `/ack ID` and the buttons refer to.
    pub id: i64,
    pub kind: AlertKind,
    pub severity: Severity,
    /// One line, e.g. "SBI証券: withdrawal (出金) 1,200,000 — not expected".
    pub title: String,
    /// Several lines: what happened, the cues, and what to do.
    pub body: String,
    /// Offer "It was me" / "Not me" (and "Snooze 1h" on Telegram).
    pub actionable: bool,
}

/// A sink's successful delivery.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Delivered {
    /// The remote id (Telegram message_id, desktop notification id), if any.
    pub remote_id: Option<String>,
}

/// Why a delivery did not happen. The outbox keeps the alert and decides when to retry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// The sink cannot work in this environment at all (no session bus): reported once, skipped.
    #[error("sink unavailable: {0}")]
    Unavailable(String),
    /// Try again; `after` is the server's own wish (Telegram 429 retry_after).
    #[error("temporary failure: {reason}")]
    Retry {
        reason: String,
        after: Option<Duration>,
    },
    /// The configuration is wrong (Telegram 401/403, chat not found): retried slowly, reported.
    #[error("configuration problem: {0}")]
    Config(String),
    /// The sink's message budget or rate limit is spent (LINE 429, monthly quota): the alert
    /// goes to the next sink of its severity rather than wait.
    #[error("limit reached: {0}")]
    Exhausted(String),
}

/// An answer a person gave through a sink (Telegram command or button, desktop action).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// "✅ It was me" or `/ack ID`.
    Ack { alert_id: i64, by: String },
    /// "🚨 Not me": keep it critical and send the broker's official contact and steps.
    NotMe { alert_id: i64, by: String },
    /// "Snooze 1h".
    Snooze {
        alert_id: i64,
        by: String,
        for_: Duration,
    },
    /// `/status`.
    Status { by: String },
    /// `/expect BROKER EVENT [DURATION]`.
    Expect {
        broker: String,
        event: String,
        for_: Option<Duration>,
        by: String,
    },
    /// `/mute DURATION`.
    Mute { for_: Duration, by: String },
}
