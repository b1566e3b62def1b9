//! The LINE sink: Messaging API push (`POST /v2/bot/message/push`) to user and group ids, with
//! a monthly message budget kept in the store. LINE Notify ended on 2025-03-31; this is its
//! replacement. The free plan allows 200 messages a month with no overage, so repeats are
//! spent only on critical alerts and a reserve keeps room for a new critical alert.
//!
//! NOTE: every push carries `X-Line-Retry-Key`, a UUID derived from the delivery (target, alert,
//! round text) and a per-install salt, so a retry of the same delivery — also after a restart —
//! carries the same key and LINE sends it once; a 409 with `x-line-accepted-request-id` means
//! LINE had already accepted it.

mod budget;

use std::sync::OnceLock;
use std::time::Duration;

use futures::future::BoxFuture;
use ring::digest;
use serde_json::{Value, json};

use super::sink::Sink;
use super::{AlertMessage, Delivered, DeliveryError};
use crate::config::secret::{Secret, SecretError};
use crate::config::{LineConfig, SinkKind};
use crate::event::Severity;
use crate::store::{Store, StoreError};

pub use budget::{month_key, reserve, sent_this_month, status_line};

const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);
/// A text message holds at most 5,000 UTF-16 code units.
pub const MAX_TEXT_UTF16: usize = 5000;
const RETRY_KEY_HEADER: &str = "X-Line-Retry-Key";
const ACCEPTED_HEADER: &str = "x-line-accepted-request-id";
const SALT_KEY: &str = "line.retry_salt";

/// Cuts `s` to at most `max` UTF-16 code units, never inside a surrogate pair, marking a cut.
pub fn truncate_utf16(s: &str, max: usize) -> String {
    if s.encode_utf16().count() <= max {
        return s.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for ch in s.chars() {
        // One unit stays for the '…'.
        if used + ch.len_utf16() > max.saturating_sub(1) {
            break;
        }
        used += ch.len_utf16();
        out.push(ch);
    }
    out.push('…');
    out
}

/// Pushes alerts to LINE users and groups.
pub struct LineSink {
    client: reqwest::Client,
    cfg: LineConfig,
    token: Secret,
    store: OnceLock<Store>,
    salt: OnceLock<String>,
}

impl std::fmt::Debug for LineSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LineSink")
            .field("api_url", &self.cfg.api_url)
            .field("to", &self.cfg.to)
            .finish_non_exhaustive()
    }
}

fn retry(reason: String) -> DeliveryError {
    DeliveryError::Retry {
        reason,
        after: None,
    }
}

fn random_hex(n: usize) -> String {
    use ring::rand::SecureRandom;
    let mut b = vec![0u8; n];
    // NOTE: on the off chance the system RNG fails, the time still makes the salt unlikely to
    // repeat; the salt only keeps retry keys of two installs apart.
    if ring::rand::SystemRandom::new().fill(&mut b).is_err() {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        b = digest::digest(&digest::SHA256, &t.to_le_bytes()).as_ref()[..n].to_vec();
    }
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl LineSink {
    /// Resolves the channel access token. No network I/O.
    pub fn new(cfg: &LineConfig) -> Result<Self, SecretError> {
        let token = cfg.token.resolve()?;
        let client = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .unwrap_or_default();
        Ok(LineSink {
            client,
            cfg: cfg.clone(),
            token,
            store: OnceLock::new(),
            salt: OnceLock::new(),
        })
    }

    fn salt(&self) -> &str {
        self.salt.get_or_init(|| {
            let Some(store) = self.store.get() else {
                return random_hex(16);
            };
            match store.kv_get(SALT_KEY) {
                Ok(Some(s)) => s,
                _ => {
                    let s = random_hex(16);
                    if let Err(e) = store.kv_set(SALT_KEY, &s) {
                        tracing::warn!("line: cannot keep the retry-key salt: {e}");
                    }
                    s
                }
            }
        })
    }

    /// The `X-Line-Retry-Key` of one delivery: a UUID (version 4 layout) that is the same for
    /// every attempt of that delivery and different for another alert, round or target.
    pub fn retry_key(&self, target: &str, msg: &AlertMessage) -> String {
        let mut ctx = digest::Context::new(&digest::SHA256);
        for part in [self.salt(), target, &msg.id.to_string(), &msg.title] {
            ctx.update(part.as_bytes());
            ctx.update(&[0]);
        }
        let mut b = [0u8; 16];
        b.copy_from_slice(&ctx.finish().as_ref()[..16]);
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
        format!(
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        )
    }

    /// The push body for one alert to one id.
    pub fn body(target: &str, msg: &AlertMessage) -> Value {
        let text = format!("{}\n\n{}", msg.title, msg.body);
        json!({
            "to": target,
            "messages": [{"type": "text", "text": truncate_utf16(&text, MAX_TEXT_UTF16)}],
        })
    }

    fn left(&self, store: &Store) -> Result<u32, StoreError> {
        Ok(self
            .cfg
            .monthly_limit
            .saturating_sub(sent_this_month(store)?))
    }

    fn spend(&self) {
        let Some(store) = self.store.get() else {
            return;
        };
        let r =
            sent_this_month(store).and_then(|n| store.kv_set(&month_key(), &(n + 1).to_string()));
        if let Err(e) = r {
            tracing::error!("line: cannot count a sent message: {e}");
        }
    }

    /// LINE says the monthly limit is reached: the budget is spent whatever brokerwatch counted.
    fn exhaust(&self) {
        if let Some(store) = self.store.get()
            && let Err(e) = store.kv_set(&month_key(), &self.cfg.monthly_limit.to_string())
        {
            tracing::error!("line: cannot record the spent quota: {e}");
        }
    }

    async fn push(&self, target: &str, msg: &AlertMessage) -> Result<Delivered, DeliveryError> {
        let resp = self
            .client
            .post(format!("{}/v2/bot/message/push", self.cfg.api_url))
            .bearer_auth(self.token.expose())
            .header(RETRY_KEY_HEADER, self.retry_key(target, msg))
            .header("Content-Type", "application/json")
            .body(Self::body(target, msg).to_string())
            .send()
            .await
            .map_err(|e| retry(format!("line: {}", e.without_url())))?;
        let status = resp.status().as_u16();
        let accepted = resp
            .headers()
            .get(ACCEPTED_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let text = resp.text().await.unwrap_or_default();
        let v: Value = serde_json::from_str(&text).unwrap_or_default();
        if (200..300).contains(&status) {
            self.spend();
            let id = v["sentMessages"][0]["id"].as_str().map(str::to_string);
            return Ok(Delivered { remote_id: id });
        }
        if status == 409
            && let Some(id) = accepted
        {
            // An earlier attempt of this delivery got through; its answer was lost.
            self.spend();
            return Ok(Delivered {
                remote_id: Some(id),
            });
        }
        let mut reason = format!(
            "LINE answered {status}: {}",
            v["message"].as_str().unwrap_or("no message")
        );
        if let Some(details) = v["details"].as_array() {
            for d in details {
                reason.push_str(&format!(
                    "; {}: {}",
                    d["property"].as_str().unwrap_or("?"),
                    d["message"].as_str().unwrap_or("?")
                ));
            }
        }
        Err(match status {
            429 => {
                if reason.contains("monthly limit") {
                    self.exhaust();
                }
                DeliveryError::Exhausted(reason)
            }
            400..=499 => DeliveryError::Config(reason),
            _ => retry(reason),
        })
    }

    async fn get_json(&self, path: &str) -> Result<Value, DeliveryError> {
        let resp = self
            .client
            .get(format!("{}{path}", self.cfg.api_url))
            .bearer_auth(self.token.expose())
            .send()
            .await
            .map_err(|e| retry(format!("line: {}", e.without_url())))?;
        let status = resp.status();
        let v: Value =
            serde_json::from_str(&resp.text().await.unwrap_or_default()).unwrap_or_default();
        if !status.is_success() {
            let why = format!(
                "LINE answered {} to {path}: {}",
                status.as_u16(),
                v["message"].as_str().unwrap_or("no message")
            );
            return Err(match status.as_u16() {
                400..=499 => DeliveryError::Config(why),
                _ => retry(why),
            });
        }
        Ok(v)
    }

    /// LINE's own count: (messages used this month, the channel's limit or None for no limit).
    pub async fn quota(&self) -> Result<(u64, Option<u64>), DeliveryError> {
        let quota = self.get_json("/v2/bot/message/quota").await?;
        let used = self.get_json("/v2/bot/message/quota/consumption").await?;
        let limit = match quota["type"].as_str() {
            Some("limited") => quota["value"].as_u64(),
            _ => None,
        };
        Ok((used["totalUsage"].as_u64().unwrap_or(0), limit))
    }
}

impl Sink for LineSink {
    fn kind(&self) -> SinkKind {
        SinkKind::Line
    }

    fn targets(&self) -> Vec<String> {
        self.cfg.to.clone()
    }

    fn deliver<'a>(
        &'a self,
        target: &'a str,
        msg: &'a AlertMessage,
    ) -> BoxFuture<'a, Result<Delivered, DeliveryError>> {
        Box::pin(self.push(target, msg))
    }

    fn attach(&self, store: &Store) {
        let _ = self.store.set(store.clone());
    }

    fn admit(&self, severity: Severity, round: i64) -> Result<(), String> {
        let Some(store) = self.store.get() else {
            return Ok(());
        };
        let left = self
            .left(store)
            .map_err(|e| format!("line budget unreadable: {e}"))?;
        let limit = self.cfg.monthly_limit;
        let keep = reserve(limit);
        let ok = match (severity == Severity::Critical, round == 0) {
            (true, true) => left > 0,
            (true, false) | (false, true) => left > keep,
            (false, false) => false,
        };
        if ok {
            return Ok(());
        }
        Err(if round > 0 && severity != Severity::Critical {
            "LINE repeats are spent on critical alerts only".to_string()
        } else {
            format!(
                "LINE budget: {left} of {limit} messages left this month ({keep} kept for new critical alerts)"
            )
        })
    }

    fn check(&self) -> BoxFuture<'_, Result<String, DeliveryError>> {
        Box::pin(async move {
            let (used, limit) = self.quota().await?;
            let lines = match limit {
                Some(l) => format!(
                    "{} of {l} messages left this month (LINE's count)",
                    l.saturating_sub(used)
                ),
                None => format!("{used} messages sent this month, no limit (LINE's count)"),
            };
            Ok(format!(
                "channel answers; {lines}; brokerwatch spends at most {} and pushes to {}",
                self.cfg.monthly_limit,
                self.cfg.to.join(", ")
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_counts_utf16_units_and_never_splits_a_pair() {
        let s = "😀".repeat(3000); // 6,000 units
        let t = truncate_utf16(&s, MAX_TEXT_UTF16);
        assert!(t.encode_utf16().count() <= MAX_TEXT_UTF16);
        assert!(t.ends_with('…'));
        assert_eq!(t.chars().filter(|c| *c == '😀').count(), 2499);
        let kana = "出金".repeat(2500);
        assert_eq!(truncate_utf16(&kana, MAX_TEXT_UTF16), kana);
    }
}
