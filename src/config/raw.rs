//! The config file as written: serde structs that reject unknown fields and keep locations of
//! values that are checked later. `compile` turns them into [`super::Config`].

use std::collections::BTreeMap;
use std::str::FromStr;

use serde::Deserialize;

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

/// `{file: PATH}`, `{env: VAR}` or `{command: CMD}`; a literal value is refused on purpose.
///
/// Deserialized by hand: serde's own messages quote what they got (`invalid type: string
/// "hunter2"`, `unknown field `hunter2``), and here what was written may be the secret itself.
#[derive(Debug, Default)]
pub struct RawSecret {
    pub file: Option<String>,
    pub env: Option<String>,
    pub command: Option<String>,
}

/// The one message for a secret written in the wrong shape; it never repeats what was written.
pub const SECRET_SHAPE: &str = "a secret is written as `{file: PATH}`, `{env: VAR}` or \
     `{command: CMD}`, never as the value itself (config files get shared; what was written here \
     is not repeated)";

impl<'de> Deserialize<'de> for RawSecret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(SecretVisitor)
    }
}

struct SecretVisitor;

impl SecretVisitor {
    fn refuse<E: serde::de::Error>() -> Result<RawSecret, E> {
        Err(E::custom(SECRET_SHAPE))
    }
}

impl<'de> serde::de::Visitor<'de> for SecretVisitor {
    type Value = RawSecret;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(SECRET_SHAPE)
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<RawSecret, A::Error> {
        let mut out = RawSecret::default();
        while let Some(key) = map.next_key::<String>()? {
            let slot = match key.as_str() {
                "file" => &mut out.file,
                "env" => &mut out.env,
                "command" => &mut out.command,
                _ => return Self::refuse(),
            };
            // A wrong type below names the type only (a list, a mapping), never a string's text.
            *slot = Some(map.next_value::<SecretText>()?.0);
        }
        Ok(out)
    }
    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<RawSecret, E> {
        Self::refuse()
    }
    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<RawSecret, E> {
        Self::refuse()
    }
    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<RawSecret, E> {
        Self::refuse()
    }
    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<RawSecret, E> {
        Self::refuse()
    }
    fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<RawSecret, E> {
        Self::refuse()
    }
    fn visit_bytes<E: serde::de::Error>(self, _: &[u8]) -> Result<RawSecret, E> {
        Self::refuse()
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<RawSecret, E> {
        Self::refuse()
    }
    fn visit_none<E: serde::de::Error>(self) -> Result<RawSecret, E> {
        Self::refuse()
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, _: A) -> Result<RawSecret, A::Error> {
        Self::refuse()
    }
}

/// The text of `file`, `env` or `command`: a scalar (a number is its digits), nothing else.
struct SecretText(String);

impl<'de> Deserialize<'de> for SecretText {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = SecretText;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a path, a variable name or a command (text)")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<SecretText, E> {
                Ok(SecretText(v.to_string()))
            }
        }
        d.deserialize_string(V)
    }
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

/// `auth:` of an IMAP account.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAuth {
    pub oauth2: At<RawOAuth2>,
}

/// `auth: {oauth2: {…}}` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOAuth2 {
    pub provider: At<String>,
    pub client_id: At<String>,
    pub client_secret: Option<At<RawSecret>>,
    pub tenant: Option<String>,
    pub scopes: Option<Vec<String>>,
    pub auth_url: Option<At<String>>,
    pub token_url: Option<At<String>>,
    pub device_url: Option<At<String>>,
    pub mechanism: Option<At<String>>,
    pub token_command: Option<String>,
}

/// One `recipients:` entry. Keys other than its fields are channels (sink names), checked by
/// `recipients::compile` against the configured sinks, so that each mistake is reported on its
/// own instead of the first hiding the rest.
#[derive(Debug, Default)]
pub struct RawRecipient {
    pub name: Option<String>,
    pub gets: Option<At<String>>,
    pub accounts: Option<Vec<At<String>>>,
    pub language: Option<Language>,
    pub channels: Vec<(At<String>, At<Scalar>)>,
}

impl<'de> Deserialize<'de> for RawRecipient {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = RawRecipient;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a recipient: a mapping with at least `name`")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<RawRecipient, A::Error> {
                let mut r = RawRecipient::default();
                while let Some(key) = map.next_key::<At<String>>()? {
                    match key.value.as_str() {
                        "name" => r.name = Some(map.next_value()?),
                        "gets" => r.gets = Some(map.next_value()?),
                        "accounts" => r.accounts = Some(map.next_value()?),
                        "language" => r.language = Some(map.next_value()?),
                        _ => r.channels.push((key, map.next_value()?)),
                    }
                }
                Ok(r)
            }
        }
        d.deserialize_map(V)
    }
}

/// A scalar as written: a channel's target is a number (Telegram) or a word (ntfy).
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    Int(i64),
    UInt(u64),
    Text(String),
    /// Anything else (a list, a mapping, nothing): never a valid target.
    Other,
}

impl Scalar {
    /// The scalar as text, as a key or a topic is read.
    pub fn text(&self) -> Option<String> {
        match self {
            Scalar::Int(i) => Some(i.to_string()),
            Scalar::UInt(u) => Some(u.to_string()),
            Scalar::Text(s) => Some(s.clone()),
            Scalar::Other => None,
        }
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a number or a word")
            }
            fn visit_i64<E>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar::Int(v))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar::UInt(v))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar::Text(v.to_string()))
            }
            fn visit_bool<E>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar::Text(v.to_string()))
            }
            fn visit_str<E>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar::Text(v.to_string()))
            }
            fn visit_unit<E>(self) -> Result<Scalar, E> {
                Ok(Scalar::Other)
            }
            fn visit_none<E>(self) -> Result<Scalar, E> {
                Ok(Scalar::Other)
            }
            fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Scalar, D::Error> {
                d.deserialize_any(V)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut s: A) -> Result<Scalar, A::Error> {
                while s.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut m: A) -> Result<Scalar, A::Error> {
                while m
                    .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
                    .is_some()
                {}
                Ok(Scalar::Other)
            }
        }
        d.deserialize_any(V)
    }
}

/// `quiet_hours: {from: "22:00", to: "07:00", utc_offset: "+09:00"}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawQuietHours {
    pub from: Option<At<String>>,
    pub to: Option<At<String>>,
    pub utc_offset: Option<At<String>>,
}
