//! The webhook sink: POSTs each alert as JSON to a URL of the user's (home automation, a
//! pager bridge), with `X-Brokerwatch-Signature: sha256=<hex HMAC-SHA256 of the body>` so the
//! receiver can tell it came from this brokerwatch.

use std::time::Duration;

use futures::future::BoxFuture;
use ring::hmac;
use serde_json::json;

use super::sink::Sink;
use super::{AlertMessage, Delivered, DeliveryError};
use crate::config::secret::SecretError;
use crate::config::{SinkKind, WebhookConfig};

/// The signature header.
pub const SIGNATURE_HEADER: &str = "X-Brokerwatch-Signature";
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

/// POSTs alerts to one URL.
pub struct WebhookSink {
    client: reqwest::Client,
    url: String,
    key: hmac::Key,
}

impl std::fmt::Debug for WebhookSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookSink").finish_non_exhaustive()
    }
}

/// `sha256=<hex>` of `body` under `key`.
pub fn signature(key: &[u8], body: &[u8]) -> String {
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), body);
    let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

impl WebhookSink {
    /// Resolves the secret. No network I/O.
    pub fn new(cfg: &WebhookConfig) -> Result<Self, SecretError> {
        let secret = cfg.secret.resolve()?;
        let client = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .unwrap_or_default();
        Ok(WebhookSink {
            client,
            url: cfg.url.clone(),
            key: hmac::Key::new(hmac::HMAC_SHA256, secret.expose().as_bytes()),
        })
    }

    async fn post(&self, msg: &AlertMessage) -> Result<Delivered, DeliveryError> {
        let body = json!({
            "id": msg.id,
            "kind": msg.kind.as_str(),
            "severity": msg.severity.as_str(),
            "title": msg.title,
            "body": msg.body,
            "actionable": msg.actionable,
        })
        .to_string();
        let tag = hmac::sign(&self.key, body.as_bytes());
        let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
        let resp = self
            .client
            .post(&self.url)
            .header("Content-Type", "application/json")
            .header(SIGNATURE_HEADER, format!("sha256={hex}"))
            .body(body)
            .send()
            .await
            .map_err(|e| DeliveryError::Retry {
                // NOTE: without_url: the URL may carry a token of the receiver's.
                reason: format!("webhook: {}", e.without_url()),
                after: None,
            })?;
        let status = resp.status();
        if status.is_success() {
            return Ok(Delivered::default());
        }
        let after = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let reason = format!("webhook answered {status}");
        Err(match status.as_u16() {
            408 | 429 | 500..=599 => DeliveryError::Retry { reason, after },
            _ => DeliveryError::Config(reason),
        })
    }
}

impl Sink for WebhookSink {
    fn kind(&self) -> SinkKind {
        SinkKind::Webhook
    }

    fn deliver<'a>(
        &'a self,
        _target: &'a str,
        msg: &'a AlertMessage,
    ) -> BoxFuture<'a, Result<Delivered, DeliveryError>> {
        Box::pin(self.post(msg))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_rfc_4231_test_case_2() {
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
