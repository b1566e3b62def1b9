//! When a sink's budget or rate limit is spent, the alert goes to the next sink (see
//! [`super::super::routes`]) instead of waiting; and the outbox's side loop for sinks that have
//! work between deliveries (Pushover receipts).

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::Outbox;
use crate::store::{AlertRow, DeliveryRow, StoreError, now};

/// With no other sink to go to, the alert waits in its own queue and is looked at again after
/// this long (a budget may be raised, a month may turn).
const NOWHERE_RETRY_SECS: i64 = 600;
/// The longest the side loop sleeps between polls.
const MAX_POLL_SLEEP: Duration = Duration::from_secs(60);

impl Outbox {
    /// Sends this round of `alert` to the next sink instead of `d`'s; false never (the row is
    /// settled either way, so the target's other rows go on).
    pub(super) fn reroute(
        &self,
        d: &DeliveryRow,
        alert: &AlertRow,
        why: &str,
    ) -> Result<bool, StoreError> {
        let to = self.sinks.routes.fallback(alert.severity, d.sink);
        let Some(next) = to.first().map(|n| n.sink) else {
            tracing::error!(
                alert = d.alert, sink = %d.sink,
                "{why}; no other sink is configured, so the alert waits for this one"
            );
            self.store
                .delivery_retry(d, why, now() + NOWHERE_RETRY_SECS)?;
            return Ok(true);
        };
        let added = self.store.reroute(d, &to, why)?;
        tracing::warn!(
            alert = d.alert, sink = %d.sink, target = %d.target, to = %next,
            "{why}: the alert goes to {next} instead"
        );
        if added > 0 {
            self.wake.notify_one();
        }
        Ok(true)
    }

    /// Lets each sink do its work between deliveries until `shutdown`; ends at once when no
    /// sink has any.
    pub(super) async fn poll_sinks(&self, shutdown: CancellationToken) {
        loop {
            let mut wait: Option<Duration> = None;
            for sink in self.sinks.iter() {
                if let Some(w) = sink.poll().await {
                    wait = Some(wait.map_or(w, |x| x.min(w)));
                }
            }
            let Some(wait) = wait else { return };
            tokio::select! {
                _ = tokio::time::sleep(wait.min(MAX_POLL_SLEEP)) => {}
                _ = shutdown.cancelled() => return,
            }
        }
    }
}
