//! Configuration: the checked, ready values the daemon runs on, and where the file is found.
//!
//! Loading is two-stage: serde checks the shape (`raw`: `deny_unknown_fields` structs and enums,
//! read by `yaml::from_str_all`), and `compile` checks the meaning, turning them into the types
//! below; *every* error is collected with its `file:line:col`. `load` does the file I/O (reading,
//! permission warnings). Nothing here touches the network.

mod compile;
pub mod live;
mod load;
pub mod oauth2;
mod raw;
mod recipients;
pub mod secret;
mod sinks;
mod values;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::config::secret::SecretSource;
use crate::event::{EventKind, Severity};

pub use crate::yaml::{Problem, Problems};
pub use compile::{builtin, load_str};
pub use load::{load, load_checked, load_partial};
pub use oauth2::OAuth2Config;
pub use recipients::{CHANNELS, Gets, QuietHours, Recipient};
pub use sinks::{
    CommandConfig, DesktopConfig, LineConfig, NtfyConfig, PushoverConfig, PushoverUser, SinkKind,
    Sinks, TelegramConfig, TelegramFormat, UnknownSink, WebhookConfig,
};
pub use values::is_loopback;

/// The whole, checked configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file this came from (None for a built-in default, e.g. `test` without a config).
    pub path: Option<PathBuf>,
    /// SQLite database and other state live here.
    pub state_dir: PathBuf,
    /// The language of every text a person reads (`language: ja | en`; default: the locale).
    pub language: crate::alert::language::Language,
    /// authserv-ids whose Authentication-Results we trust (our own receiving server).
    pub authserv_ids: Vec<String>,
    /// `authserv_ids: auto`: the daemon learns the id from recent mail (see `authserv_auto`);
    /// `authserv_ids` then holds the learned one, or nothing until it is learned.
    pub authserv_auto: bool,
    pub accounts: Vec<Account>,
    /// Rule directories in load order: shipped first, the user's last (a later rule id overrides).
    pub rules_dirs: Vec<PathBuf>,
    /// Load the rule packs built into the binary before `rules_dirs`.
    pub shipped_rules: bool,
    /// Severity of each event when it is genuine and not expected.
    pub severity: BTreeMap<EventKind, Severity>,
    /// Severity of a phishing copy.
    pub phishing_severity: Severity,
    /// Standing allowances: genuine notices matching one are expected.
    pub allowances: Vec<Allowance>,
    /// What this investor normally trades; None: trades are routine (not watched).
    pub trading_profile: Option<crate::profile::TradingProfile>,
    /// Per severity: which sinks, and how often to repeat until acknowledged.
    pub escalation: BTreeMap<Severity, Policy>,
    pub sinks: Sinks,
    /// The people alerts go to, each with their channels, role and accounts; empty: every
    /// target of a sink gets every alert of the sink (the configuration before `recipients:`).
    pub recipients: Vec<Recipient>,
    /// Warning and info alerts to people wait for the end of this window; critical never does.
    pub quiet_hours: Option<QuietHours>,
    /// On the first run on a mailbox, alert only on mail younger than this.
    pub first_run_lookback: Duration,
    /// A mailbox failing (login refused, server unreachable) this long raises "cannot watch".
    pub cannot_watch_after: Duration,
    /// Unexpected security steps at one broker within this window form one takeover incident.
    pub takeover_window: Duration,
    /// No mail at all from a broker that used to write for this many days raises "was your
    /// registered e-mail address changed?". None: off.
    pub quiet_days: Option<u32>,
    /// A notice deleted or marked read by another client this soon after arrival, before it was
    /// acknowledged, raises "a notice was removed from your mailbox".
    pub tamper_window: Duration,
    /// How often the notices inside `tamper_window` are checked.
    pub tamper_check: Duration,
    /// A "still watching" message to Telegram this often. None: off.
    pub heartbeat: Option<Duration>,
    /// Warnings found while loading (e.g. a config with secrets readable by others).
    pub warnings: Vec<String>,
}

/// One mailbox owner: an IMAP login or a local Maildir.
#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    /// A short name, unique in the config; part of every message key.
    pub name: String,
    pub source: AccountSource,
}

#[derive(Debug, Clone, PartialEq)]
pub enum AccountSource {
    Imap(ImapAccount),
    Maildir(MaildirAccount),
}

/// How the IMAP connection is secured (`tls: implicit | starttls | none`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    /// TLS from the first byte (port 993).
    Implicit,
    /// Plain connect, then STARTTLS before anything else.
    StartTls,
    /// No TLS: only accepted for a loopback host (checked at compile time).
    None,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ImapAccount {
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    pub username: String,
    /// A password (LOGIN) or OAuth2 (AUTHENTICATE XOAUTH2/OAUTHBEARER).
    pub auth: ImapAuth,
    /// Mailboxes to watch, e.g. `INBOX`, `Junk`, `[Gmail]/All Mail`.
    pub mailboxes: Vec<String>,
    /// Extra CA certificates (PEM) to trust besides the system roots.
    pub ca_file: Option<PathBuf>,
    /// Interval between polls when the server has no IDLE.
    pub poll_interval: Duration,
    /// IDLE is re-issued after this long (RFC 2177: before 29 minutes).
    pub idle_refresh: Duration,
}

/// How an IMAP account signs in.
#[derive(Debug, Clone, PartialEq)]
pub enum ImapAuth {
    Password(SecretSource),
    OAuth2(Box<OAuth2Config>),
}

impl ImapAuth {
    /// The password source, for a password account.
    pub fn password(&self) -> Option<&SecretSource> {
        match self {
            ImapAuth::Password(p) => Some(p),
            ImapAuth::OAuth2(_) => None,
        }
    }

    /// Every secret this sign-in reads (the password, or an OAuth2 client secret).
    pub fn secrets(&self) -> Option<&SecretSource> {
        match self {
            ImapAuth::Password(p) => Some(p),
            ImapAuth::OAuth2(o) => o.client_secret.as_ref(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct MaildirAccount {
    /// The Maildir root (holding `new/` and `cur/`).
    pub path: PathBuf,
    pub poll_interval: Duration,
}

/// A standing "this is fine" for genuine notices, e.g. small withdrawals to the known account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allowance {
    pub broker: String,
    pub event: EventKind,
    /// The amount, in the currency's minor-free unit as the mail shows it (yen, dollars).
    pub max_amount: Option<u64>,
    /// The last digits of the destination account, as the mail masks it.
    pub account_suffix: Option<String>,
    pub note: Option<String>,
    /// Where it was written, for cross-checks against the rule packs.
    pub loc: crate::yaml::Loc,
}

/// Escalation for one severity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub sinks: Vec<SinkKind>,
    /// Re-send every this long until acknowledged; None = once.
    pub repeat: Option<Duration>,
}

impl Config {
    /// The SQLite database path.
    pub fn db_path(&self) -> PathBuf {
        self.state_dir.join("brokerwatch.sqlite")
    }

    /// The account with this name.
    pub fn account(&self, name: &str) -> Option<&Account> {
        self.accounts.iter().find(|a| a.name == name)
    }
}

/// Which config file to use: `--config` > `$BROKERWATCH_CONFIG` > `$XDG_CONFIG_HOME/brokerwatch/config.yaml`.
pub fn locate(explicit: Option<&Path>) -> Option<PathBuf> {
    if let Some(p) = explicit {
        return Some(p.to_path_buf());
    }
    if let Some(p) = std::env::var_os("BROKERWATCH_CONFIG").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(p));
    }
    directories::ProjectDirs::from("", "", "brokerwatch")
        .map(|d| d.config_dir().join("config.yaml"))
}

/// The default state directory: `$XDG_STATE_HOME/brokerwatch` (or `~/.local/state/brokerwatch`).
pub fn default_state_dir() -> PathBuf {
    if let Some(p) = std::env::var_os("XDG_STATE_HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(p).join("brokerwatch");
    }
    directories::BaseDirs::new()
        .and_then(|b| b.state_dir().map(|d| d.join("brokerwatch")))
        .unwrap_or_else(|| PathBuf::from(".brokerwatch-state"))
}
