//! The config file as written: serde structs that reject unknown fields and keep locations of
//! values that are checked later. `compile` turns them into [`super::Config`].

use serde::Deserialize;

use crate::yaml::At;

/// The top-level keys, in the order the README documents them.
pub const TOP_LEVEL: &[&str] = &[
    "state_dir",
    "language",
    "authserv_ids",
    "first_run_lookback",
    "cannot_watch_after",
    "takeover_window",
    "quiet_days",
    "tamper_window",
    "tamper_check",
    "heartbeat",
    "accounts",
    "rules_dirs",
    "shipped_rules",
    "severity",
    "allowances",
    "trading_profile",
    "escalation",
    "sinks",
    "recipients",
    "quiet_hours",
];

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
    pub tls: Option<At<String>>,
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
    pub event: At<String>,
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
    pub format: Option<At<String>>,
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
