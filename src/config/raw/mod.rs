//! The config file as written: serde structs that reject unknown fields and keep locations of
//! values that are checked later. `compile` turns them into [`super::Config`].

use std::collections::BTreeMap;
use std::str::FromStr;

use serde::Deserialize;

mod oauth2;
mod recipient;
mod secret;

pub use oauth2::{Mechanism, Provider, RawAuth};
pub use recipient::{RawQuietHours, RawRecipient, Scalar};
pub use secret::RawSecret;

use super::{TelegramFormat, TlsMode};
use crate::alert::language::Language;
use crate::event::{EventKind, Severity};
use crate::yaml::{At, Keyed};

/// The whole file, in the order the README documents the keys. Every key is optional: what
/// is left out keeps the built-in default (see `compile::builtin`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub state_dir: Option<String>,
    pub language: Option<Language>,
    pub authserv_ids: Option<RawAuthserv>,
    pub first_run_lookback: Option<At<String>>,
    pub cannot_watch_after: Option<At<String>>,
    pub takeover_window: Option<At<String>>,
    pub quiet_days: Option<u32>,
    pub tamper_window: Option<At<String>>,
    pub tamper_check: Option<At<String>>,
    pub heartbeat: Option<At<String>>,
    pub accounts: Option<Vec<RawAccount>>,
    pub rules_dirs: Option<Vec<String>>,
    pub shipped_rules: Option<bool>,
    pub severity: Option<BTreeMap<At<SeverityKey>, Parsed<Severity>>>,
    pub allowances: Option<Vec<At<RawAllowance>>>,
    pub trading_profile: Option<At<RawProfile>>,
    pub escalation: Option<BTreeMap<At<String>, RawPolicy>>,
    pub sinks: Option<Keyed<RawSinks>>,
    pub recipients: Option<Vec<At<RawRecipient>>>,
    pub quiet_hours: Option<At<RawQuietHours>>,
}

/// A value written as text and read with its `FromStr`, whose error names the accepted values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Parsed<T>(pub T);

impl<'de, T: FromStr> Deserialize<'de> for Parsed<T>
where
    T::Err: std::fmt::Display,
{
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map(Parsed).map_err(serde::de::Error::custom)
    }
}

/// A key of `severity:`: an event kind, or `phishing`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SeverityKey {
    Event(EventKind),
    Phishing,
}

impl FromStr for SeverityKey {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "phishing" => Ok(SeverityKey::Phishing),
            s => s
                .parse()
                .map(SeverityKey::Event)
                .map_err(|e| format!("{e}, or `phishing`")),
        }
    }
}

impl<'de> Deserialize<'de> for SeverityKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Parsed::deserialize(d).map(|Parsed(k)| k)
    }
}

/// `authserv_ids: auto` (learn it from the mail) or a list of ids.
#[derive(Debug)]
pub enum RawAuthserv {
    Auto,
    Ids(Vec<String>),
}

impl<'de> Deserialize<'de> for RawAuthserv {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = RawAuthserv;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("`auto` or a list of authserv-ids")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RawAuthserv, E> {
                match v {
                    "auto" => Ok(RawAuthserv::Auto),
                    _ => Err(E::invalid_value(serde::de::Unexpected::Str(v), &self)),
                }
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                s: A,
            ) -> Result<RawAuthserv, A::Error> {
                let d = serde::de::value::SeqAccessDeserializer::new(s);
                Vec::deserialize(d).map(RawAuthserv::Ids)
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAccount {
    pub name: At<String>,
    pub imap: Option<RawImap>,
    pub maildir: Option<At<String>>,
    pub poll_interval: Option<At<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawImap {
    pub host: At<String>,
    pub port: Option<u16>,
    pub tls: Option<TlsMode>,
    pub username: String,
    pub password: Option<At<RawSecret>>,
    pub auth: Option<At<RawAuth>>,
    #[serde(default)]
    pub mailboxes: Vec<String>,
    pub ca_file: Option<String>,
    pub poll_interval: Option<At<String>>,
    pub idle_refresh: Option<At<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAllowance {
    pub broker: At<String>,
    pub event: Parsed<EventKind>,
    pub max_amount: Option<u64>,
    pub account_suffix: Option<String>,
    pub note: Option<String>,
}

/// `trading_profile:` — what this investor normally does (see `crate::profile`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProfile {
    #[serde(default)]
    pub brokers: Vec<String>,
    #[serde(default)]
    pub sides: Vec<At<String>>,
    #[serde(default)]
    pub markets: Vec<String>,
    #[serde(default)]
    pub instruments: Vec<String>,
    #[serde(default)]
    pub account_types: Vec<At<String>>,
    pub max_amount: Option<u64>,
    /// `HH:MM-HH:MM`.
    pub login_hours: Option<At<String>>,
    /// `+09:00`; default: the notice's own Date header offset.
    pub utc_offset: Option<At<String>>,
    pub burst_window: Option<At<String>>,
    #[serde(default)]
    pub severity: std::collections::BTreeMap<String, At<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPolicy {
    pub sinks: Vec<At<String>>,
    pub repeat: Option<At<String>>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawSinks {
    pub console: Option<bool>,
    pub desktop: Option<RawDesktop>,
    pub telegram: Option<RawTelegram>,
    pub command: Option<RawCommand>,
    pub ntfy: Option<RawNtfy>,
    pub webhook: Option<RawWebhook>,
    pub line: Option<RawLine>,
    pub pushover: Option<RawPushover>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLine {
    pub channel_access_token: At<RawSecret>,
    pub to: At<Vec<At<String>>>,
    pub monthly_limit: Option<At<u32>>,
    pub api_url: Option<At<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPushover {
    pub token: At<RawSecret>,
    pub users: At<Vec<RawPushoverUser>>,
    pub retry: Option<At<String>>,
    pub expire: Option<At<String>>,
    pub receipt_poll: Option<At<String>>,
    pub api_url: Option<At<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPushoverUser {
    pub key: At<RawSecret>,
    pub name: At<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWebhook {
    pub url: At<String>,
    pub secret: At<RawSecret>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNtfy {
    pub url: At<String>,
    pub topic: Option<At<String>>,
    pub token: Option<At<RawSecret>>,
    #[serde(default)]
    pub tags: Vec<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawDesktop {
    pub app_name: Option<String>,
    pub enabled: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTelegram {
    pub token: At<RawSecret>,
    #[serde(default)]
    pub chat_ids: Vec<i64>,
    pub api_url: Option<At<String>>,
    pub format: Option<TelegramFormat>,
    pub commands: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCommand {
    pub program: String,
    #[serde(default)]
    pub args: Vec<String>,
}
