//! One delivery: the row's alert rendered for its target, in the target's language, handed to
//! its sink, and the outcome recorded.

use std::sync::Arc;

use crate::alert::language::Language;
use crate::alert::{AlertMessage, Delivered, DeliveryError, quiet, recipients};
use crate::config::Config;
use crate::store::{AlertRow, DeliveryRow, DeliveryState, StoreError, now};

use super::Outbox;

/// A configuration problem (401, chat not found) is retried slowly: someone has to fix it.
const CONFIG_RETRY_SECS: i64 = 600;

impl Outbox {
    /// Delivers one row and records the outcome; false if the sink failed transiently.
    pub(super) async fn deliver_one(&self, d: &DeliveryRow) -> Result<bool, StoreError> {
        let Some(alert) = self.still_due(d)? else {
            return Ok(true);
        };
        let cfg = self.config();
        if let Some(cfg) = &cfg
            && quiet::holds(cfg, &alert, d, now())
        {
            tracing::info!(alert = d.alert, sink = %d.sink, target = %d.target, "quiet hours: held for the summary");
            self.store.hold(d)?;
            return Ok(true);
        }
        let Some(msg) = self.message_for(cfg, &alert, d)? else {
            return Ok(true);
        };
        if d.round >= 0
            && let Some(Err(why)) = self
                .sinks
                .get(d.sink)
                .map(|s| s.admit(alert.severity, d.round))
        {
            return self.reroute(d, &alert, &why);
        }
        let sent = self.send(d, &msg).await;
        self.record(d, &alert, sent)
    }

    /// The row's alert, if the row is still to go: a deleted alert, or a repeat of one
    /// acknowledged meanwhile, cancels it.
    fn still_due(&self, d: &DeliveryRow) -> Result<Option<AlertRow>, StoreError> {
        match self.store.alert(d.alert)? {
            Some(a) if d.round <= 0 || a.acked_at.is_none() => Ok(Some(a)),
            _ => {
                self.store
                    .delivery_done(d, DeliveryState::Cancelled, None)?;
                Ok(None)
            }
        }
    }

    /// The message of this row in its target's language; None (the row cancelled) when a
    /// summary or notice has nothing left to say.
    fn message_for(
        &self,
        cfg: Option<Arc<Config>>,
        alert: &AlertRow,
        d: &DeliveryRow,
    ) -> Result<Option<AlertMessage>, StoreError> {
        if d.round >= 0 {
            let lang = cfg.map_or(self.sinks.language, |c| {
                recipients::language_of(&c, d.sink, &d.target)
            });
            return Ok(Some(message(alert, d.round, lang)));
        }
        let cfg = cfg.unwrap_or_else(|| Arc::new(crate::config::builtin()));
        let msg = quiet::special_message(&self.store, &cfg, alert, d)?;
        if msg.is_none() {
            self.store.summary_done(d, DeliveryState::Cancelled)?;
            self.store
                .delivery_done(d, DeliveryState::Cancelled, None)?;
        }
        Ok(msg)
    }

    /// Records what the sink said; false if it failed transiently (the target is paused).
    fn record(
        &self,
        d: &DeliveryRow,
        alert: &AlertRow,
        sent: Result<Delivered, DeliveryError>,
    ) -> Result<bool, StoreError> {
        match sent {
            Ok(done) => {
                tracing::debug!(alert = d.alert, sink = %d.sink, "delivered");
                if self.pauses.succeeded(&(d.sink, d.target.clone())) {
                    tracing::info!(sink = %d.sink, target = %d.target, "reachable again: sending what waited");
                    // The rest of its queue goes in the next pass, at once.
                    self.wake.notify_one();
                }
                if d.round == crate::store::SUMMARY {
                    self.store.summary_done(d, DeliveryState::Sent)?;
                }
                self.store
                    .delivery_done(d, DeliveryState::Sent, done.remote_id.as_deref())?;
                Ok(true)
            }
            Err(DeliveryError::Unavailable(why)) => {
                let first = self
                    .unavailable
                    .lock()
                    .map(|mut s| s.insert(d.sink))
                    .unwrap_or(false);
                if first {
                    tracing::warn!(sink = %d.sink, "sink unavailable, skipping it: {why}");
                }
                self.store
                    .delivery_done(d, DeliveryState::Unavailable, None)?;
                Ok(true)
            }
            Err(DeliveryError::Retry { reason, after }) => {
                let wait = self.pauses.failed(&(d.sink, d.target.clone()), after);
                tracing::warn!(
                    alert = d.alert, sink = %d.sink, target = %d.target,
                    paused_ms = wait.as_millis() as u64,
                    "delivery failed, target paused: {reason}"
                );
                // The store's time is only a floor after a restart; the pause decides.
                self.store.delivery_retry(d, &reason, now())?;
                Ok(false)
            }
            Err(DeliveryError::Exhausted(why)) => self.reroute(d, alert, &why),
            Err(DeliveryError::Config(reason)) => {
                tracing::error!(alert = d.alert, sink = %d.sink, "sink misconfigured: {reason}");
                // Another chat of the same sink may still work.
                self.store
                    .delivery_retry(d, &reason, now() + CONFIG_RETRY_SECS)?;
                Ok(true)
            }
        }
    }

    async fn send(&self, d: &DeliveryRow, msg: &AlertMessage) -> Result<Delivered, DeliveryError> {
        match self.sinks.get(d.sink) {
            Some(sink) => sink.deliver(&d.target, msg).await,
            None => Err(DeliveryError::Unavailable(format!(
                "sink `{}` is not configured",
                d.sink
            ))),
        }
    }
}

/// The message a sink gets for one round of an alert.
pub fn message(a: &AlertRow, round: i64, lang: Language) -> AlertMessage {
    let title = match (round > 0, lang) {
        (true, Language::Ja) => format!("【再通知 {round}回目・未確認】{}", a.title_in(lang)),
        (true, Language::En) => format!("Reminder {round}: {}", a.title_in(lang)),
        (false, _) => a.title_in(lang).to_string(),
    };
    let mut body = a.body_in(lang).replace("<id>", &a.id.to_string());
    if a.actionable {
        let id = a.id;
        body.push_str(&match lang {
            Language::Ja => format!(
                "\n\nアラート #{id} — 確認済みにするには /ack {id} を送るか、`brokerwatch ack {id}` を実行してください。"
            ),
            Language::En => format!(
                "\n\nAlert #{id} — acknowledge with /ack {id} or `brokerwatch ack {id}`."
            ),
        });
    }
    AlertMessage {
        id: a.id,
        kind: a.kind,
        severity: a.severity,
        title,
        body,
        actionable: a.actionable && a.acked_at.is_none(),
    }
}
