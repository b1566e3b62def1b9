//! The ntfy sink: publishes each alert to a topic on an ntfy server (ntfy.sh or self-hosted)
//! as JSON (`POST <server>/` with `topic`, `title`, `message`, `priority`, `tags`). Critical
//! alerts get priority 5 (max: a long vibration, pierces do-not-disturb on Android).
//!
//! NOTE: no `click`, `attach` or `actions` field is ever sent: an alert's text may quote a mail,
//! and nothing from a mail may become a tap target.

use std::time::Duration;

use futures::future::BoxFuture;
use serde_json::json;

use super::sink::Sink;
use super::{AlertMessage, Delivered, DeliveryError};
use crate::config::secret::{Secret, SecretError};
use crate::config::{NtfyConfig, SinkKind};
use crate::event::Severity;

const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);
/// ntfy's default message size limit is 4096 bytes; longer ones become attachments, which we
/// do not want (an attachment is a link).
const MAX_MESSAGE_BYTES: usize = 4000;

/// Publishes alerts to ntfy topics: the sink's own and its recipients'.
pub struct NtfySink {
    client: reqwest::Client,
    cfg: NtfyConfig,
    token: Option<Secret>,
    /// Recipients' topics on this server (their delivery targets).
    topics: Vec<String>,
}

impl std::fmt::Debug for NtfySink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NtfySink")
            .field("url", &self.cfg.url)
            .field("topic", &self.cfg.topic)
            .finish_non_exhaustive()
    }
}

impl NtfySink {
    /// Resolves the token, if any. No network I/O.
    pub fn new(cfg: &NtfyConfig) -> Result<Self, SecretError> {
        let token = cfg.token.as_ref().map(|t| t.resolve()).transpose()?;
        let client = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .unwrap_or_default();
        Ok(NtfySink {
            client,
            cfg: cfg.clone(),
            token,
            topics: Vec::new(),
        })
    }

    /// Adds the recipients' topics as targets.
    pub fn with_recipients(mut self, recipients: &[crate::config::Recipient]) -> Self {
        for r in recipients {
            for t in r.target_on(SinkKind::Ntfy) {
                if t != self.cfg.topic && !self.topics.iter().any(|x| x == t) {
                    self.topics.push(t.to_string());
                }
            }
        }
        self
    }

    /// The JSON body for one alert to the sink's own topic.
    pub fn body(&self, msg: &AlertMessage) -> serde_json::Value {
        self.body_to(&self.cfg.topic, msg)
    }

    /// The JSON body for one alert to `topic`.
    pub fn body_to(&self, topic: &str, msg: &AlertMessage) -> serde_json::Value {
        let (priority, tag) = match msg.severity {
            Severity::Critical => (5, "rotating_light"),
            Severity::Warning => (4, "warning"),
            _ => (3, "information_source"),
        };
        let mut tags = vec![tag.to_string()];
        tags.extend(self.cfg.tags.iter().cloned());
        json!({
            "topic": topic,
            "title": msg.title,
            "message": crate::text::truncate_chars(&msg.body, MAX_MESSAGE_BYTES / 4),
            "priority": priority,
            "tags": tags,
        })
    }

    async fn publish(&self, topic: &str, msg: &AlertMessage) -> Result<Delivered, DeliveryError> {
        let mut req = self
            .client
            .post(format!("{}/", self.cfg.url))
            .header("Content-Type", "application/json")
            .body(self.body_to(topic, msg).to_string());
        if let Some(t) = &self.token {
            req = req.bearer_auth(t.expose());
        }
        let resp = req.send().await.map_err(|e| DeliveryError::Retry {
            // NOTE: without_url: a URL may carry credentials (`https://user:pass@host`).
            reason: format!("ntfy: {}", e.without_url()),
            after: None,
        })?;
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        let parsed: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        if status.is_success() {
            return Ok(Delivered {
                remote_id: parsed["id"].as_str().map(str::to_string),
            });
        }
        let error = parsed["error"].as_str().unwrap_or("no error text");
        let reason = format!("ntfy answered {}: {error}", status.as_u16());
        Err(match status.as_u16() {
            401 | 403 => DeliveryError::Config(reason),
            400 | 404 | 413 => DeliveryError::Config(reason),
            _ => DeliveryError::Retry {
                reason,
                after: None,
            },
        })
    }
}

impl Sink for NtfySink {
    fn kind(&self) -> SinkKind {
        SinkKind::Ntfy
    }

    fn targets(&self) -> Vec<String> {
        let own = (!self.cfg.topic.is_empty()).then(|| super::sink::SINGLE_TARGET.to_string());
        own.into_iter().chain(self.topics.iter().cloned()).collect()
    }

    /// `target` is `-` for the sink's own topic, else a recipient's topic.
    fn deliver<'a>(
        &'a self,
        target: &'a str,
        msg: &'a AlertMessage,
    ) -> BoxFuture<'a, Result<Delivered, DeliveryError>> {
        let topic = match target {
            super::sink::SINGLE_TARGET => self.cfg.topic.as_str(),
            t => t,
        };
        Box::pin(self.publish(topic, msg))
    }

    fn check(&self) -> BoxFuture<'_, Result<String, DeliveryError>> {
        Box::pin(async move {
            // The health endpoint needs no token and publishes nothing.
            let url = format!("{}/v1/health", self.cfg.url);
            let resp = self
                .client
                .get(url)
                .send()
                .await
                .map_err(|e| DeliveryError::Retry {
                    reason: format!("ntfy: {}", e.without_url()),
                    after: None,
                })?;
            let text = resp.text().await.unwrap_or_default();
            let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
            match v["healthy"].as_bool() {
                Some(true) => Ok(format!(
                    "server answers; topic(s) {}",
                    self.targets()
                        .iter()
                        .map(|t| match t.as_str() {
                            super::sink::SINGLE_TARGET => format!("`{}`", self.cfg.topic),
                            t => format!("`{t}`"),
                        })
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
                _ => Err(DeliveryError::Retry {
                    reason: "ntfy /v1/health does not say healthy".into(),
                    after: None,
                }),
            }
        })
    }
}
