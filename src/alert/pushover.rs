//! The Pushover sink: `POST /1/messages.json` per user. Critical alerts go at emergency
//! priority (2): Pushover repeats them every `retry` for up to `expire` until someone taps
//! Acknowledge, and returns a receipt. brokerwatch polls the receipt (no more than once every
//! 5 s, as Pushover asks) and an acknowledgement there acknowledges the alert — through the
//! same path as Telegram's `/ack`, with the person's name — which stops every repeat. An alert
//! acknowledged elsewhere first cancels the receipt's retries on the phones.

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use futures::future::BoxFuture;
use serde_json::Value;
use tokio::sync::mpsc;

use super::sink::Sink;
use super::{AlertMessage, Delivered, DeliveryError, Response};
use crate::config::secret::{Secret, SecretError};
use crate::config::{PushoverConfig, SinkKind};
use crate::event::Severity;
use crate::store::{Receipt, Store, now};

const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);
/// Pushover's limits: a message of 1,024 characters, a title of 250.
const MAX_MESSAGE: usize = 1024;
const MAX_TITLE: usize = 250;

/// Sends alerts to Pushover users.
pub struct PushoverSink {
    client: reqwest::Client,
    cfg: PushoverConfig,
    token: Secret,
    /// (name, user key), in config order.
    users: Vec<(String, Secret)>,
    responses: Option<mpsc::Sender<Response>>,
    store: OnceLock<Store>,
    /// Receipts settled in this run (acknowledged, expired, cancelled): not asked about again.
    settled: Mutex<HashSet<String>>,
}

impl std::fmt::Debug for PushoverSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.users.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("PushoverSink")
            .field("api_url", &self.cfg.api_url)
            .field("users", &names)
            .finish_non_exhaustive()
    }
}

fn retry(reason: String) -> DeliveryError {
    DeliveryError::Retry {
        reason,
        after: None,
    }
}

/// Pushover's error text: the `errors` array of a `status: 0` answer.
fn errors(v: &Value) -> String {
    match v["errors"].as_array() {
        Some(e) if !e.is_empty() => e
            .iter()
            .map(|x| x.as_str().unwrap_or("?"))
            .collect::<Vec<_>>()
            .join("; "),
        _ => "no error text".into(),
    }
}

/// What a receipt says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReceiptState {
    Waiting,
    Acknowledged { by_key: String, device: String },
    Expired,
}

impl PushoverSink {
    /// Resolves the app token and the user keys. No network I/O.
    pub fn new(cfg: &PushoverConfig) -> Result<Self, SecretError> {
        let token = cfg.token.resolve()?;
        let users = cfg
            .users
            .iter()
            .map(|u| Ok((u.name.clone(), u.key.resolve()?)))
            .collect::<Result<_, SecretError>>()?;
        let client = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .unwrap_or_default();
        Ok(PushoverSink {
            client,
            cfg: cfg.clone(),
            token,
            users,
            responses: None,
            store: OnceLock::new(),
            settled: Mutex::default(),
        })
    }

    /// Acknowledgements read from receipts go to `tx` (the daemon's responder).
    pub fn with_responses(mut self, tx: mpsc::Sender<Response>) -> Self {
        self.responses = Some(tx);
        self
    }

    /// The form fields of one message (the token and user key included: never log them).
    pub fn form(&self, user_key: &str, msg: &AlertMessage) -> Vec<(&'static str, String)> {
        let priority = match msg.severity {
            Severity::Critical => 2,
            Severity::Warning => 1,
            _ => 0,
        };
        let mut f = vec![
            ("token", self.token.expose().to_string()),
            ("user", user_key.to_string()),
            ("title", crate::text::truncate_chars(&msg.title, MAX_TITLE)),
            (
                "message",
                crate::text::truncate_chars(&msg.body, MAX_MESSAGE),
            ),
            ("priority", priority.to_string()),
        ];
        if priority == 2 {
            f.push(("retry", self.cfg.retry.as_secs().to_string()));
            f.push(("expire", self.cfg.expire.as_secs().to_string()));
        }
        f
    }

    async fn send(&self, target: &str, msg: &AlertMessage) -> Result<Delivered, DeliveryError> {
        let Some((_, key)) = self.users.iter().find(|(n, _)| n == target) else {
            return Err(DeliveryError::Config(format!(
                "no Pushover user named `{target}` is configured"
            )));
        };
        let resp = self
            .client
            .post(format!("{}/1/messages.json", self.cfg.api_url))
            .form(&self.form(key.expose(), msg))
            .send()
            .await
            .map_err(|e| retry(format!("pushover: {}", e.without_url())))?;
        let status = resp.status().as_u16();
        let v: Value =
            serde_json::from_str(&resp.text().await.unwrap_or_default()).unwrap_or_default();
        if (200..300).contains(&status) && v["status"].as_i64() == Some(1) {
            return Ok(Delivered {
                remote_id: v["receipt"].as_str().map(str::to_string),
            });
        }
        let reason = format!("Pushover answered {status}: {}", errors(&v));
        Err(match status {
            // Over the app's monthly message limit or sending too fast: the target waits.
            429 => retry(reason),
            400..=499 => DeliveryError::Config(reason),
            _ => retry(reason),
        })
    }

    /// Asks Pushover about one receipt.
    pub async fn receipt(&self, receipt: &str) -> Result<ReceiptState, DeliveryError> {
        let resp = self
            .client
            .get(format!("{}/1/receipts/{receipt}.json", self.cfg.api_url))
            .query(&[("token", self.token.expose())])
            .send()
            .await
            .map_err(|e| retry(format!("pushover: {}", e.without_url())))?;
        let status = resp.status().as_u16();
        let v: Value =
            serde_json::from_str(&resp.text().await.unwrap_or_default()).unwrap_or_default();
        if !(200..300).contains(&status) || v["status"].as_i64() != Some(1) {
            let reason = format!("Pushover answered {status} for a receipt: {}", errors(&v));
            return Err(match status {
                400..=499 if status != 429 => DeliveryError::Config(reason),
                _ => retry(reason),
            });
        }
        Ok(if v["acknowledged"].as_i64() == Some(1) {
            ReceiptState::Acknowledged {
                by_key: v["acknowledged_by"].as_str().unwrap_or("").to_string(),
                device: v["acknowledged_by_device"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
            }
        } else if v["expired"].as_i64() == Some(1) {
            ReceiptState::Expired
        } else {
            ReceiptState::Waiting
        })
    }

    /// Stops the emergency retries of a receipt (the alert was acknowledged elsewhere).
    async fn cancel(&self, receipt: &str) -> Result<(), DeliveryError> {
        let resp = self
            .client
            .post(format!(
                "{}/1/receipts/{receipt}/cancel.json",
                self.cfg.api_url
            ))
            .form(&[("token", self.token.expose())])
            .send()
            .await
            .map_err(|e| retry(format!("pushover: {}", e.without_url())))?;
        match resp.status().as_u16() {
            200..=299 => Ok(()),
            s => Err(retry(format!("Pushover answered {s} to a cancel"))),
        }
    }

    /// The name of the person with this user key; the delivery's own target when Pushover
    /// names a key brokerwatch does not know (a group member).
    fn name_of(&self, key: &str, target: &str) -> String {
        self.users
            .iter()
            .find(|(_, k)| k.expose() == key)
            .map(|(n, _)| n.clone())
            .unwrap_or_else(|| target.to_string())
    }

    fn settle(&self, receipt: &str) {
        if let Ok(mut s) = self.settled.lock() {
            s.insert(receipt.to_string());
        }
    }

    /// One round over the open receipts: acknowledgements become [`Response::Ack`].
    pub async fn poll_receipts(&self) {
        let Some(store) = self.store.get() else {
            return;
        };
        // A receipt is worth asking about until its emergency expires.
        let since = now() - self.cfg.expire.as_secs() as i64 - 60;
        let open: Vec<Receipt> = match store.receipts(SinkKind::Pushover, since) {
            Ok(r) => r,
            Err(e) => return tracing::error!("pushover: cannot read receipts: {e}"),
        };
        for r in open {
            if self.settled.lock().is_ok_and(|s| s.contains(&r.receipt)) {
                continue;
            }
            if r.acked {
                match self.cancel(&r.receipt).await {
                    Ok(()) => self.settle(&r.receipt),
                    Err(e) => tracing::warn!(alert = r.alert, "pushover: {e}"),
                }
                continue;
            }
            match self.receipt(&r.receipt).await {
                Ok(ReceiptState::Acknowledged { by_key, device }) => {
                    let name = self.name_of(&by_key, &r.target);
                    let by = match device.as_str() {
                        "" => format!("{name} (Pushover)"),
                        d => format!("{name} (Pushover, {d})"),
                    };
                    tracing::info!(alert = r.alert, by = %by, "acknowledged on Pushover");
                    let ack = Response::Ack {
                        alert_id: r.alert,
                        by,
                    };
                    match &self.responses {
                        Some(tx) if tx.send(ack).await.is_ok() => self.settle(&r.receipt),
                        _ => tracing::error!(
                            alert = r.alert,
                            "pushover: nobody takes the acknowledgement"
                        ),
                    }
                }
                Ok(ReceiptState::Expired) => self.settle(&r.receipt),
                Ok(ReceiptState::Waiting) => {}
                Err(e) => tracing::warn!(alert = r.alert, "pushover: {e}"),
            }
        }
    }
}

impl Sink for PushoverSink {
    fn kind(&self) -> SinkKind {
        SinkKind::Pushover
    }

    /// The people's names: their user keys are secrets and never a delivery row's target.
    fn targets(&self) -> Vec<String> {
        self.users.iter().map(|(n, _)| n.clone()).collect()
    }

    fn deliver<'a>(
        &'a self,
        target: &'a str,
        msg: &'a AlertMessage,
    ) -> BoxFuture<'a, Result<Delivered, DeliveryError>> {
        Box::pin(self.send(target, msg))
    }

    fn attach(&self, store: &Store) {
        let _ = self.store.set(store.clone());
    }

    fn poll(&self) -> BoxFuture<'_, Option<Duration>> {
        Box::pin(async move {
            self.poll_receipts().await;
            Some(self.cfg.receipt_poll)
        })
    }

    fn check(&self) -> BoxFuture<'_, Result<String, DeliveryError>> {
        Box::pin(async move {
            let mut ok = Vec::new();
            for (name, key) in &self.users {
                let resp = self
                    .client
                    .post(format!("{}/1/users/validate.json", self.cfg.api_url))
                    .form(&[("token", self.token.expose()), ("user", key.expose())])
                    .send()
                    .await
                    .map_err(|e| retry(format!("pushover: {}", e.without_url())))?;
                let status = resp.status().as_u16();
                let v: Value = serde_json::from_str(&resp.text().await.unwrap_or_default())
                    .unwrap_or_default();
                if v["status"].as_i64() != Some(1) {
                    return Err(DeliveryError::Config(format!(
                        "Pushover answered {status} for `{name}`: {}",
                        errors(&v)
                    )));
                }
                let devices = v["devices"]
                    .as_array()
                    .map(|d| {
                        d.iter()
                            .filter_map(Value::as_str)
                            .collect::<Vec<_>>()
                            .join(", ")
                    })
                    .unwrap_or_default();
                ok.push(format!("{name} ({devices})"));
            }
            Ok(format!("app token and user keys valid: {}", ok.join("; ")))
        })
    }
}
