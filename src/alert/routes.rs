//! Where an alert goes when a sink cannot take it (LINE's monthly quota spent, a 429): the next
//! sink of its severity's escalation, so it is never lost and never stuck.

use std::collections::BTreeMap;

use crate::config::{Config, SinkKind};
use crate::event::Severity;
use crate::store::NewDelivery;

/// The sinks (with their targets) each severity's escalation lists, in the order written, and
/// every configured sink.
#[derive(Debug, Default, Clone)]
pub struct Routes {
    pub(super) by_severity: BTreeMap<Severity, Vec<SinkKind>>,
    pub(super) configured: Vec<SinkKind>,
    pub(super) targets: BTreeMap<SinkKind, Vec<NewDelivery>>,
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
