//! When a sink's budget or rate limit is spent (LINE's monthly quota, a 429), the alert goes to
//! the next sink of its severity's escalation instead of waiting: never lost, never stuck. Also
//! the outbox's side loop for sinks that have work between deliveries (Pushover receipts).

use std::collections::BTreeMap;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::outbox::Outbox;
use crate::config::{Config, SinkKind};
use crate::event::Severity;
use crate::store::{AlertRow, DeliveryRow, NewDelivery, StoreError, now};

/// With no other sink to go to, the alert waits in its own queue and is looked at again after
/// this long (a budget may be raised, a month may turn).
const NOWHERE_RETRY_SECS: i64 = 600;
/// The longest the side loop sleeps between polls.
const MAX_POLL_SLEEP: Duration = Duration::from_secs(60);

/// The sinks (with their targets) each severity's escalation lists, in the order written, and
/// every configured sink.
#[derive(Debug, Default, Clone)]
pub struct Routes {
    by_severity: BTreeMap<Severity, Vec<SinkKind>>,
    configured: Vec<SinkKind>,
    targets: BTreeMap<SinkKind, Vec<NewDelivery>>,
}

fn configured(config: &Config, kind: SinkKind) -> bool {
    let s = &config.sinks;
    match kind {
        SinkKind::Console => s.console,
        SinkKind::Desktop => s.desktop.is_some(),
        SinkKind::Telegram => s.telegram.is_some(),
        SinkKind::Command => s.command.is_some(),
        SinkKind::Ntfy => s.ntfy.is_some(),
        SinkKind::Webhook => s.webhook.is_some(),
        SinkKind::Line => s.line.is_some(),
        SinkKind::Pushover => s.pushover.is_some(),
    }
}

impl Routes {
    pub fn from_config(config: &Config) -> Routes {
        let configured: Vec<SinkKind> = SinkKind::ALL
            .into_iter()
            .filter(|k| configured(config, *k))
            .collect();
        let targets = configured
            .iter()
            .map(|k| (*k, super::recipients::targets(config, &[*k])))
            .collect();
        let by_severity = config
            .escalation
            .iter()
            .map(|(sev, p)| (*sev, p.sinks.clone()))
            .collect();
        Routes {
            by_severity,
            configured,
            targets,
        }
    }

    /// Where an alert of `severity` goes when `from` cannot take it: the next sink its
    /// escalation lists after `from` (wrapping round); when it lists no other, the first other
    /// configured sink that reaches a person, else the console. Empty when there is none.
    pub fn fallback(&self, severity: Severity, from: SinkKind) -> Vec<NewDelivery> {
        let policy = self.by_severity.get(&severity).cloned().unwrap_or_default();
        let at = policy.iter().position(|k| *k == from).unwrap_or(0);
        let (before, after) = policy.split_at(at);
        let in_policy = after.iter().chain(before).copied();
        let reaching = self
            .configured
            .iter()
            .copied()
            .filter(|k| k.reaches_a_person());
        let next = in_policy
            .chain(reaching)
            .chain(self.configured.iter().copied())
            .find(|k| *k != from && self.targets.get(k).is_some_and(|t| !t.is_empty()));
        next.and_then(|k| self.targets.get(&k).cloned())
            .unwrap_or_default()
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    fn routes(policy: &[SinkKind], configured: &[SinkKind]) -> Routes {
        let one = |k: SinkKind| NewDelivery {
            sink: k,
            target: "-".into(),
        };
        Routes {
            by_severity: BTreeMap::from([(Severity::Critical, policy.to_vec())]),
            configured: configured.to_vec(),
            targets: configured.iter().map(|k| (*k, vec![one(*k)])).collect(),
        }
    }

    fn next(r: &Routes, from: SinkKind) -> Vec<SinkKind> {
        r.fallback(Severity::Critical, from)
            .into_iter()
            .map(|d| d.sink)
            .collect()
    }

    #[test]
    fn the_next_sink_of_the_policy_then_any_that_reaches_a_person_then_the_console() {
        use SinkKind::*;
        let all = [Console, Desktop, Ntfy, Line];
        assert_eq!(next(&routes(&[Line, Ntfy, Desktop], &all), Line), [Ntfy]);
        assert_eq!(next(&routes(&[Desktop, Line], &all), Line), [Desktop]);
        assert_eq!(next(&routes(&[Line], &all), Line), [Desktop]);
        assert_eq!(next(&routes(&[Line], &[Console, Line]), Line), [Console]);
        assert!(next(&routes(&[Line], &[Line]), Line).is_empty());
    }
}
