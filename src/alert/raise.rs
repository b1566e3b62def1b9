//! Raising an alert, the one way: what to tell (a [`Draft`]) is routed by its severity to the
//! configured sinks and their targets, written to the outbox, logged, and the outbox woken.
//! The notice path ([`plan`] inside the message's transaction) and every alert without a message
//! behind it (takeover, tampering, health, liveness, test) go through here, so routing, repeats
//! and who gets them are decided in one place.

use tokio::sync::Notify;

use super::AlertKind;
use crate::config::{Config, SinkKind};
use crate::event::Severity;
use crate::store::{NewAlert, NewDelivery, Store, StoreError};

/// An alert before it is routed: what to tell, not where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    pub kind: AlertKind,
    pub severity: Severity,
    pub broker: Option<String>,
    pub event: Option<String>,
    pub title: String,
    pub body: String,
    /// Asks for an answer: repeated (as the severity's policy says) until acknowledged.
    pub actionable: bool,
    /// Only these sinks instead of the severity's policy (the heartbeat goes to Telegram only).
    pub only: Option<Vec<SinkKind>>,
}

impl Draft {
    /// An alert about brokerwatch's own watch (kind `health`): informative, never repeated.
    pub fn health(severity: Severity, title: String, body: String) -> Draft {
        Draft {
            kind: AlertKind::Health,
            severity,
            broker: None,
            event: None,
            title,
            body,
            actionable: false,
            only: None,
        }
    }
}

/// The delivery rows for these sinks: one per target (a Telegram chat each), none for a sink
/// the config does not enable.
pub fn targets(config: &Config, sinks: &[SinkKind]) -> Vec<NewDelivery> {
    let mut out = Vec::new();
    for &sink in sinks {
        let to = |target: String| NewDelivery { sink, target };
        match sink {
            SinkKind::Telegram => {
                if let Some(t) = &config.sinks.telegram {
                    out.extend(t.chat_ids.iter().map(|c| to(c.to_string())));
                }
            }
            SinkKind::Line => {
                if let Some(l) = &config.sinks.line {
                    out.extend(l.to.iter().map(|id| to(id.clone())));
                }
            }
            SinkKind::Pushover => {
                if let Some(p) = &config.sinks.pushover {
                    out.extend(p.users.iter().map(|u| to(u.name.clone())));
                }
            }
            _ => out.push(to("-".into())),
        }
    }
    out
}

/// The outbox row for a draft: its first-round deliveries and, when it asks for an answer and
/// its severity repeats, the targets of the repeat rounds (only sinks that reach a person).
pub fn plan(config: &Config, d: Draft) -> NewAlert {
    let policy = config.escalation.get(&d.severity);
    let sinks = match &d.only {
        Some(only) => only.clone(),
        None => policy.map(|p| p.sinks.clone()).unwrap_or_default(),
    };
    let repeat = policy
        .and_then(|p| p.repeat)
        .filter(|_| d.actionable && d.only.is_none());
    let deliveries = targets(config, &sinks);
    let repeat_to = match repeat {
        Some(_) => deliveries
            .iter()
            .filter(|t| t.sink.reaches_a_person())
            .cloned()
            .collect(),
        None => Vec::new(),
    };
    NewAlert {
        kind: d.kind,
        severity: d.severity,
        broker: d.broker,
        event: d.event,
        title: d.title,
        body: d.body,
        actionable: d.actionable,
        repeat_secs: repeat.map(|r| r.as_secs() as i64),
        deliveries,
        repeat_to,
    }
}

/// Writes an alert that has no message behind it, logs it at its severity and wakes the outbox.
pub fn raise(store: &Store, config: &Config, wake: &Notify, d: Draft) -> Result<i64, StoreError> {
    let a = plan(config, d);
    let id = store.insert_alert(&a)?;
    match a.severity {
        Severity::Critical => tracing::error!(alert = id, kind = %a.kind, "{}", a.title),
        Severity::Warning => tracing::warn!(alert = id, kind = %a.kind, "{}", a.title),
        _ => tracing::info!(alert = id, kind = %a.kind, "{}", a.title),
    }
    wake.notify_one();
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(severity: Severity, actionable: bool) -> Draft {
        Draft {
            actionable,
            ..Draft::health(severity, "t".into(), "b".into())
        }
    }

    #[test]
    fn repeats_go_only_to_sinks_that_reach_a_person_and_only_when_actionable() {
        let mut cfg = crate::config::builtin();
        cfg.escalation.insert(
            Severity::Critical,
            crate::config::Policy {
                sinks: vec![SinkKind::Console, SinkKind::Desktop],
                repeat: Some(std::time::Duration::from_secs(600)),
            },
        );
        let a = plan(&cfg, draft(Severity::Critical, true));
        assert_eq!(a.deliveries.len(), 2);
        assert_eq!(a.repeat_secs, Some(600));
        let repeat: Vec<SinkKind> = a.repeat_to.iter().map(|t| t.sink).collect();
        assert_eq!(repeat, [SinkKind::Desktop]);

        let once = plan(&cfg, draft(Severity::Critical, false));
        assert_eq!(once.repeat_secs, None);
        assert!(once.repeat_to.is_empty());
    }

    #[test]
    fn only_overrides_the_policy_and_a_missing_telegram_gives_no_targets() {
        let cfg = crate::config::builtin();
        let d = Draft {
            only: Some(vec![SinkKind::Telegram]),
            ..draft(Severity::Info, false)
        };
        assert!(cfg.sinks.telegram.is_none());
        assert!(plan(&cfg, d).deliveries.is_empty());
    }
}
