//! `escalation:`: per severity, which sinks and how often to repeat until acknowledged; what
//! is not written gets the defaults below.

use std::collections::BTreeMap;
use std::time::Duration;

use super::duration;
use crate::config::raw::RawPolicy;
use crate::config::{Policy, Severity, SinkKind, Sinks};
use crate::yaml::{At, Collector};

pub(super) fn escalation(
    c: &mut Collector,
    written: BTreeMap<At<String>, RawPolicy>,
    sinks: &Sinks,
) -> BTreeMap<Severity, Policy> {
    let configured = configured_sinks(sinks);
    let mut out = default_escalation(&configured);
    for (sev_name, p) in written {
        let Ok(sev) = sev_name.value.parse::<Severity>() else {
            c.error(
                sev_name.loc,
                format!(
                    "unknown severity `{}` (expected `info`, `warning` or `critical`)",
                    sev_name.value
                ),
            );
            continue;
        };
        let kinds = policy_sinks(c, &p.sinks, &configured);
        let repeat = duration(c, p.repeat.as_ref());
        if let (Some(r), Some(at)) = (repeat, p.repeat.as_ref())
            && r < Duration::from_secs(60)
        {
            c.error(at.loc, "`repeat` must be at least 1m");
        }
        out.insert(
            sev,
            Policy {
                sinks: kinds,
                repeat,
            },
        );
    }
    out
}

/// The sinks a policy names, each one configured.
fn policy_sinks(c: &mut Collector, names: &[At<String>], configured: &[SinkKind]) -> Vec<SinkKind> {
    let mut kinds = Vec::new();
    for s in names {
        match configured.iter().find(|k| k.as_str() == s.value) {
            Some(k) => kinds.push(*k),
            None => c.error(
                s.loc,
                format!(
                    "sink `{}` is not configured (configured: {})",
                    s.value,
                    configured
                        .iter()
                        .map(|k| k.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
        }
    }
    kinds
}

fn configured_sinks(s: &Sinks) -> Vec<SinkKind> {
    let mut v = Vec::new();
    if s.console {
        v.push(SinkKind::Console);
    }
    if s.desktop.is_some() {
        v.push(SinkKind::Desktop);
    }
    if s.telegram.is_some() {
        v.push(SinkKind::Telegram);
    }
    if s.command.is_some() {
        v.push(SinkKind::Command);
    }
    if s.ntfy.is_some() {
        v.push(SinkKind::Ntfy);
    }
    if s.webhook.is_some() {
        v.push(SinkKind::Webhook);
    }
    if s.line.is_some() {
        v.push(SinkKind::Line);
    }
    if s.pushover.is_some() {
        v.push(SinkKind::Pushover);
    }
    v
}

/// Critical: everywhere, every 30 minutes until acknowledged. Warning: everywhere, once.
/// Info: the console (and the command sink) only.
fn default_escalation(configured: &[SinkKind]) -> BTreeMap<Severity, Policy> {
    let all = configured.to_vec();
    let quiet: Vec<SinkKind> = configured
        .iter()
        .copied()
        .filter(|k| matches!(k, SinkKind::Console | SinkKind::Command))
        .collect();
    BTreeMap::from([
        (
            Severity::Critical,
            Policy {
                sinks: all.clone(),
                repeat: Some(Duration::from_secs(30 * 60)),
            },
        ),
        (
            Severity::Warning,
            Policy {
                sinks: all,
                repeat: None,
            },
        ),
        (
            Severity::Info,
            Policy {
                sinks: quiet,
                repeat: None,
            },
        ),
    ])
}
