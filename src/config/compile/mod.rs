//! From the raw file to a checked [`Config`]: every problem is collected with its location, and
//! values get their defaults here (one place to read them).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

mod accounts;
mod escalation;
mod profile;
mod sinks;

use super::raw::{Parsed, RawAuthserv, RawConfig, SeverityKey};
use super::values::resolve_path;
use super::*;
use crate::units::parse_duration;
use crate::yaml::{At, Collector, Keyed, Problem, Problems};

const DEFAULT_LOOKBACK: Duration = Duration::from_secs(3 * 86_400);

/// Checks config text; `label` names it in problems, `base` anchors relative paths.
pub fn load_str(text: &str, label: &str, base: &Path) -> Result<Config, Problems> {
    let (cfg, problems) = compile(text, label, base);
    if problems.is_empty() {
        Ok(cfg)
    } else {
        Err(Problems(problems))
    }
}

/// The config from `text`, and every problem with it; the config holds what could be read (the
/// built-in defaults for the rest), so that later checks can still report theirs in the same run.
pub(super) fn compile(text: &str, label: &str, base: &Path) -> (Config, Vec<Problem>) {
    let mut c = Collector::new(label);
    let mut cfg = builtin();
    if let Some(raw) = c.read::<Keyed<RawConfig>>(text) {
        let accounts_key = raw.key("accounts").unwrap_or_default();
        let mut r = raw.value;
        let sink_keys = r.sinks.as_ref().map(|s| s.keys.clone()).unwrap_or_default();
        let recipients = r.recipients.take().unwrap_or_default();
        let escalation_raw = r.escalation.take().unwrap_or_default();
        apply_settings(&mut c, &mut cfg, &mut r, base);
        apply_sections(&mut c, &mut cfg, r, base);
        accounts::check_accounts(&mut c, &cfg.accounts, accounts_key);
        super::recipients::compile(&mut c, recipients, &mut cfg);
        super::recipients::check_reachable(&mut c, &sink_keys, &cfg);
        super::oauth2::place_tokens(&mut cfg);
        cfg.escalation = escalation::escalation(&mut c, escalation_raw, &cfg.sinks);
    }
    let mut problems = c.problems;
    problems.sort_by_key(|p| p.loc);
    (cfg, problems)
}

/// The configuration used when there is no file (e.g. `brokerwatch test` on a few mails).
pub fn builtin() -> Config {
    Config {
        path: None,
        state_dir: super::default_state_dir(),
        language: crate::alert::language::Language::from_locale(),
        authserv_ids: Vec::new(),
        authserv_auto: false,
        accounts: Vec::new(),
        rules_dirs: Vec::new(),
        shipped_rules: true,
        severity: default_severity(),
        phishing_severity: Severity::Warning,
        allowances: Vec::new(),
        trading_profile: None,
        escalation: BTreeMap::new(),
        recipients: Vec::new(),
        quiet_hours: None,
        sinks: Sinks {
            console: true,
            desktop: Some(DesktopConfig {
                app_name: "brokerwatch".into(),
            }),
            telegram: None,
            command: None,
            ntfy: None,
            webhook: None,
            line: None,
            pushover: None,
        },
        first_run_lookback: DEFAULT_LOOKBACK,
        cannot_watch_after: Duration::from_secs(10 * 60),
        takeover_window: Duration::from_secs(7 * 86_400),
        quiet_days: None,
        tamper_window: Duration::from_secs(30 * 60),
        tamper_check: Duration::from_secs(60),
        heartbeat: None,
        warnings: Vec::new(),
    }
}

fn default_severity() -> BTreeMap<EventKind, Severity> {
    EventKind::ALL
        .into_iter()
        .map(|e| {
            let s = match e {
                EventKind::Login => Severity::Warning,
                e if e.is_security() => Severity::Critical,
                _ => Severity::None,
            };
            (e, s)
        })
        .collect()
}

/// The single values: paths, durations, switches.
fn apply_settings(c: &mut Collector, cfg: &mut Config, r: &mut RawConfig, base: &Path) {
    if let Some(p) = &r.state_dir {
        cfg.state_dir = resolve_path(base, p);
    }
    if let Some(l) = r.language {
        cfg.language = l;
    }
    match r.authserv_ids.take() {
        Some(RawAuthserv::Auto) => cfg.authserv_auto = true,
        Some(RawAuthserv::Ids(ids)) => cfg.authserv_ids = ids,
        None => {}
    }
    let slots = [
        (&r.first_run_lookback, &mut cfg.first_run_lookback),
        (&r.cannot_watch_after, &mut cfg.cannot_watch_after),
        (&r.takeover_window, &mut cfg.takeover_window),
        (&r.tamper_window, &mut cfg.tamper_window),
    ];
    for (written, slot) in slots {
        if let Some(d) = duration(c, written.as_ref()) {
            *slot = d;
        }
    }
    if let Some(d) = duration(c, r.tamper_check.as_ref()) {
        cfg.tamper_check = d.max(Duration::from_secs(1));
    }
    cfg.quiet_days = r.quiet_days.filter(|d| *d > 0);
    cfg.heartbeat = duration(c, r.heartbeat.as_ref());
    if let Some(dirs) = &r.rules_dirs {
        cfg.rules_dirs = dirs.iter().map(|d| resolve_path(base, d)).collect();
    }
    cfg.shipped_rules = r.shipped_rules.unwrap_or(true);
}

/// The sections: accounts, severities, allowances, sinks, the trading profile, quiet hours.
fn apply_sections(c: &mut Collector, cfg: &mut Config, r: RawConfig, base: &Path) {
    cfg.accounts = (r.accounts.into_iter().flatten())
        .filter_map(|a| accounts::account(c, a, base))
        .collect();
    for (key, Parsed(sev)) in r.severity.unwrap_or_default() {
        match key.value {
            SeverityKey::Phishing => cfg.phishing_severity = sev,
            SeverityKey::Event(ev) => {
                cfg.severity.insert(ev, sev);
            }
        }
    }
    cfg.allowances = (r.allowances.into_iter().flatten())
        .filter_map(|a| profile::allowance(c, a.loc, a.value))
        .collect();
    if let Some(s) = r.sinks {
        cfg.sinks = sinks::sinks(c, s.value, base);
    }
    cfg.trading_profile = r
        .trading_profile
        .map(|p| profile::trading_profile(c, p.value, p.loc));
    cfg.quiet_hours = r
        .quiet_hours
        .and_then(|q| super::recipients::quiet_hours(c, q));
}

/// A written duration, or None with the problem noted at its location.
fn duration(c: &mut Collector, v: Option<&At<String>>) -> Option<Duration> {
    let v = v?;
    match parse_duration(&v.value) {
        Ok(d) => Some(d),
        Err(e) => {
            c.error(v.loc, e);
            None
        }
    }
}

#[cfg(test)]
mod tests;
