//! Raising an alert, the one way: what to tell (a [`Draft`]) is routed by its severity to the
//! configured sinks and their targets, written to the outbox, logged, and the outbox woken.
//! The notice path ([`plan`] inside the message's transaction) and every alert without a message
//! behind it (takeover, tampering, health, liveness, test) go through here, so routing, repeats
//! and who gets them are decided in one place.

use tokio::sync::Notify;

use super::AlertKind;
use super::language::Language;
use crate::config::{Config, SinkKind};
use crate::event::Severity;
use crate::store::{AlertText, NewAlert, Store, StoreError, Texts};

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
    /// The account whose mail this is about: only recipients watching it get it. None: every
    /// recipient whose role covers it.
    pub account: Option<String>,
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
            account: None,
        }
    }
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
    let about = super::recipients::About {
        kind: d.kind,
        severity: d.severity,
        account: d.account.as_deref(),
    };
    let deliveries = super::recipients::route(config, &sinks, about);
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
        texts: Texts::default(),
        actionable: d.actionable,
        repeat_secs: repeat.map(|r| r.as_secs() as i64),
        deliveries,
        repeat_to,
    }
}

/// The outbox row for an alert composed in each language by `draft`: routed as the draft in
/// the configuration's language says (its text is what `status` shows), and each person gets
/// the text in their own. None: `draft` has nothing to tell.
pub fn plan_each(config: &Config, draft: impl Fn(Language) -> Option<Draft>) -> Option<NewAlert> {
    let own = draft(config.language)?;
    let texts = Texts::each(|lang| {
        let d = if lang == config.language {
            Some(own.clone())
        } else {
            draft(lang)
        };
        d.map(|d| AlertText {
            title: d.title,
            body: d.body,
        })
    });
    let mut a = plan(config, own);
    a.texts = texts;
    Some(a)
}

/// The configuration as a producer that words its alert in `config.language` (takeover,
/// health) needs it to word the alert in `lang`.
pub fn in_language(config: &Config, lang: Language) -> Config {
    Config {
        language: lang,
        ..config.clone()
    }
}

/// Writes an alert that has no message behind it, logs it at its severity and wakes the outbox.
/// Its text is the draft's for everyone; [`raise_each`] composes one per language.
pub fn raise(store: &Store, config: &Config, wake: &Notify, d: Draft) -> Result<i64, StoreError> {
    insert(store, wake, plan(config, d))
}

/// [`raise`] for an alert composed in each language by `draft`, so that each person gets it in
/// their own; None: `draft` has nothing to tell.
pub fn raise_each(
    store: &Store,
    config: &Config,
    wake: &Notify,
    draft: impl Fn(Language) -> Option<Draft>,
) -> Result<Option<i64>, StoreError> {
    plan_each(config, draft)
        .map(|a| insert(store, wake, a))
        .transpose()
}

fn insert(store: &Store, wake: &Notify, a: NewAlert) -> Result<i64, StoreError> {
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

    #[test]
    fn plan_each_keeps_the_text_of_each_language_and_routes_by_the_configs() {
        let mut cfg = crate::config::builtin();
        cfg.language = Language::Ja;
        let draft = |lang: Language| {
            Some(Draft::health(
                Severity::Warning,
                lang.pick("見出し", "title").into(),
                lang.pick("本文", "body").into(),
            ))
        };
        let a = plan_each(&cfg, draft).expect("an alert");
        assert_eq!((a.title.as_str(), a.body.as_str()), ("見出し", "本文"));
        let text = |l| a.texts.get(l).map(|t| (t.title.as_str(), t.body.as_str()));
        assert_eq!(text(Language::Ja), Some(("見出し", "本文")));
        assert_eq!(text(Language::En), Some(("title", "body")));
        assert_eq!(
            a.deliveries,
            plan(&cfg, draft(Language::En).unwrap()).deliveries
        );
        assert!(plan_each(&cfg, |_| None).is_none());
    }
}
