//! From the raw file to a checked [`Config`]: every problem is collected with its location, and
//! values get their defaults here (one place to read them).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use super::raw::{
    self, Parsed, RawAccount, RawAuthserv, RawConfig, RawPolicy, RawSinks, Scalar, SeverityKey,
};
use super::values::{is_loopback, resolve_path, secret};
use super::*;
use crate::units::parse_duration;
use crate::yaml::{At, Collector, Keyed, Loc, Problem, Problems};

const DEFAULT_LOOKBACK: Duration = Duration::from_secs(3 * 86_400);
const DEFAULT_POLL: Duration = Duration::from_secs(300);
const DEFAULT_IDLE_REFRESH: Duration = Duration::from_secs(25 * 60);
const DEFAULT_MAILDIR_POLL: Duration = Duration::from_secs(5);
/// RFC 2177: servers may drop an IDLE after 30 minutes; clients re-issue before 29.
const MAX_IDLE_REFRESH: Duration = Duration::from_secs(29 * 60);

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
        check_accounts(&mut c, &cfg.accounts, accounts_key);
        super::recipients::compile(&mut c, recipients, &mut cfg);
        super::recipients::check_reachable(&mut c, &sink_keys, &cfg);
        super::oauth2::place_tokens(&mut cfg);
        cfg.escalation = escalation(&mut c, escalation_raw, &cfg.sinks);
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
        .filter_map(|a| account(c, a, base))
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
        .filter_map(|a| allowance(c, a.loc, a.value))
        .collect();
    if let Some(s) = r.sinks {
        cfg.sinks = sinks(c, s.value, base);
    }
    cfg.trading_profile = r
        .trading_profile
        .map(|p| trading_profile(c, p.value, p.loc));
    cfg.quiet_hours = r
        .quiet_hours
        .and_then(|q| super::recipients::quiet_hours(c, q));
}

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

fn account(c: &mut Collector, a: RawAccount, base: &Path) -> Option<Account> {
    let name = a.name.value.trim().to_string();
    if name.is_empty() || name.contains('/') {
        c.error(
            a.name.loc,
            "an account name must be non-empty and contain no `/`",
        );
    }
    let poll = duration(c, a.poll_interval.as_ref());
    let source = match (a.imap, a.maildir) {
        (Some(imap), None) => AccountSource::Imap(imap_account(c, imap, &name, base)?),
        (None, Some(dir)) => AccountSource::Maildir(MaildirAccount {
            path: resolve_path(base, &dir.value),
            poll_interval: poll.unwrap_or(DEFAULT_MAILDIR_POLL),
        }),
        _ => {
            c.error(
                a.name.loc,
                format!("account `{name}` needs exactly one of `imap` or `maildir`"),
            );
            return None;
        }
    };
    Some(Account { name, source })
}

fn imap_account(
    c: &mut Collector,
    r: raw::RawImap,
    name: &str,
    base: &Path,
) -> Option<ImapAccount> {
    let tls = r.tls.unwrap_or(TlsMode::Implicit);
    if tls == TlsMode::None && !is_loopback(&r.host.value) {
        c.error(
            r.host.loc,
            format!(
                "`tls: none` is only allowed for a loopback host, not `{}`: the password would cross the network in clear text",
                r.host.value
            ),
        );
    }
    let idle_refresh = duration(c, r.idle_refresh.as_ref()).unwrap_or(DEFAULT_IDLE_REFRESH);
    if idle_refresh > MAX_IDLE_REFRESH || idle_refresh.is_zero() {
        let loc = r.idle_refresh.as_ref().map(|v| v.loc).unwrap_or(r.host.loc);
        c.error(loc, "`idle_refresh` must be between 1s and 29m (RFC 2177)");
    }
    let auth = match (r.password, r.auth) {
        (Some(p), None) => ImapAuth::Password(secret(c, &p, base)?),
        (None, Some(a)) => ImapAuth::OAuth2(Box::new(super::oauth2::compile(c, a, name, base)?)),
        _ => {
            c.error(
                r.host.loc,
                "an imap account needs exactly one of `password` or `auth: {oauth2: …}`",
            );
            return None;
        }
    };
    let mailboxes = if r.mailboxes.is_empty() {
        vec!["INBOX".to_string()]
    } else {
        r.mailboxes
    };
    Some(ImapAccount {
        port: r.port.unwrap_or(match tls {
            TlsMode::Implicit => 993,
            _ => 143,
        }),
        host: r.host.value,
        tls,
        username: r.username,
        auth,
        mailboxes,
        ca_file: r.ca_file.map(|p| resolve_path(base, &p)),
        poll_interval: duration(c, r.poll_interval.as_ref()).unwrap_or(DEFAULT_POLL),
        idle_refresh,
    })
}

/// The account types the rules' `values` table produces.
const ACCOUNT_TYPES: &[&str] = &[
    "nisa_growth",
    "nisa_tsumitate",
    "nisa",
    "specific",
    "general",
    "margin",
    "ira",
];

fn trading_profile(
    c: &mut Collector,
    r: raw::RawProfile,
    loc: Loc,
) -> crate::profile::TradingProfile {
    use crate::profile::{Deviation, LoginHours, TradingProfile, parse_clock, parse_offset};
    let given = !(r.sides.is_empty()
        && r.markets.is_empty()
        && r.instruments.is_empty()
        && r.account_types.is_empty()
        && r.max_amount.is_none()
        && r.login_hours.is_none());
    let mut p = TradingProfile {
        brokers: r.brokers,
        markets: r
            .markets
            .iter()
            .map(|m| m.trim().to_ascii_uppercase())
            .collect(),
        instruments: r.instruments,
        max_amount: r.max_amount,
        burst_window: duration(c, r.burst_window.as_ref()).unwrap_or(Duration::from_secs(600)),
        ..TradingProfile::default()
    };
    for s in r.sides {
        match s.value.to_ascii_lowercase().as_str() {
            v @ ("buy" | "sell") => p.sides.push(v.to_string()),
            other => c.error(
                s.loc,
                format!("unknown side `{other}` (expected `buy` or `sell`)"),
            ),
        }
    }
    for a in r.account_types {
        let v = a.value.to_ascii_lowercase();
        if ACCOUNT_TYPES.contains(&v.as_str()) {
            p.account_types.push(v);
        } else {
            c.error(
                a.loc,
                format!(
                    "unknown account type `{}` (expected one of: {})",
                    a.value,
                    ACCOUNT_TYPES.join(", ")
                ),
            );
        }
    }
    let offset = r
        .utc_offset
        .as_ref()
        .and_then(|o| parse_offset(&o.value).map_err(|e| c.error(o.loc, e)).ok());
    if let Some(h) = &r.login_hours {
        let parsed = h
            .value
            .split_once('-')
            .ok_or_else(|| {
                format!(
                    "`{}` is not a range of hours (expected e.g. 07:00-23:30)",
                    h.value
                )
            })
            .and_then(|(a, b)| Ok((parse_clock(a)?, parse_clock(b)?)));
        match parsed {
            Ok((from, to)) => {
                p.login_hours = Some(LoginHours {
                    from,
                    to,
                    utc_offset: offset,
                })
            }
            Err(e) => c.error(h.loc, e),
        }
    } else if let Some(o) = &r.utc_offset {
        c.error(o.loc, "`utc_offset` goes with `login_hours`");
    }
    for (kind, sev) in r.severity {
        match (kind.parse::<Deviation>(), sev.value.parse::<Severity>()) {
            (Ok(k), Ok(s)) => {
                p.severity.insert(k, s);
            }
            (Err(e), _) => c.error(sev.loc, e),
            (_, Err(e)) => c.error(sev.loc, e.to_string()),
        }
    }
    if !given {
        c.error(loc, "a `trading_profile` needs at least one of `sides`, `markets`, `instruments`, `account_types`, `max_amount` or `login_hours`");
    }
    p
}

fn allowance(c: &mut Collector, loc: Loc, a: raw::RawAllowance) -> Option<Allowance> {
    let Parsed(event) = a.event;
    if a.max_amount.is_none() && a.account_suffix.is_none() {
        c.error(
            loc,
            "an allowance needs `max_amount` or `account_suffix` (or both): an unconditional allowance would silence every notice of that kind",
        );
        return None;
    }
    Some(Allowance {
        broker: a.broker.value,
        event,
        max_amount: a.max_amount,
        account_suffix: a.account_suffix,
        note: a.note,
        loc: a.broker.loc,
    })
}

fn sinks(c: &mut Collector, s: RawSinks, base: &Path) -> Sinks {
    let desktop = match s.desktop {
        Some(d) if d.enabled == Some(false) => None,
        d => Some(DesktopConfig {
            app_name: d
                .and_then(|d| d.app_name)
                .unwrap_or_else(|| "brokerwatch".into()),
        }),
    };
    let telegram = s.telegram.and_then(|t| telegram(c, t, base));
    let ntfy = s.ntfy.and_then(|n| ntfy(c, n, base));
    let webhook = s.webhook.and_then(|w| {
        if let Err(e) = reqwest::Url::parse(&w.url.value) {
            c.error(w.url.loc, format!("`{}` is not a URL: {e}", w.url.value));
        }
        Some(WebhookConfig {
            secret: secret(c, &w.secret, base)?,
            url: w.url.value,
        })
    });
    Sinks {
        ntfy,
        webhook,
        line: s
            .line
            .and_then(|l| super::sinks::line(c, l, |c, s| secret(c, s, base))),
        pushover: s
            .pushover
            .and_then(|p| super::sinks::pushover(c, p, |c, s| secret(c, s, base))),
        console: s.console.unwrap_or(true),
        desktop,
        telegram,
        command: s.command.map(|cmd| CommandConfig {
            program: cmd.program,
            args: cmd.args,
        }),
    }
}

fn ntfy(c: &mut Collector, n: raw::RawNtfy, base: &Path) -> Option<NtfyConfig> {
    if let Err(e) = reqwest::Url::parse(&n.url.value) {
        c.error(n.url.loc, format!("`{}` is not a URL: {e}", n.url.value));
    }
    if let Some(topic) = &n.topic {
        let written = Scalar::Text(topic.value.clone());
        if let Err(e) = super::recipients::channel_target(SinkKind::Ntfy, &written) {
            c.error(topic.loc, e);
        }
    }
    let token = match &n.token {
        Some(t) => Some(secret(c, t, base)?),
        None => None,
    };
    Some(NtfyConfig {
        url: n.url.value.trim_end_matches('/').to_string(),
        topic: n.topic.map(|t| t.value).unwrap_or_default(),
        token,
        tags: n.tags,
    })
}

fn telegram(c: &mut Collector, t: raw::RawTelegram, base: &Path) -> Option<TelegramConfig> {
    if let Some(url) = &t.api_url
        && !(url.value.starts_with("https://") || url.value.starts_with("http://"))
    {
        c.error(
            url.loc,
            format!("`api_url` must be an http(s) URL, not `{}`", url.value),
        );
    }
    Some(TelegramConfig {
        token: secret(c, &t.token, base)?,
        // Recipients' chats are added, and an empty list refused, once recipients are read.
        chat_ids: t.chat_ids,
        api_url: t.api_url.map(|u| u.value),
        format: t.format.unwrap_or(TelegramFormat::Plain),
        commands: t.commands.unwrap_or(true),
    })
}

fn check_accounts(c: &mut Collector, accounts: &[Account], key: Loc) {
    let mut seen = std::collections::BTreeSet::new();
    for a in accounts {
        if !seen.insert(a.name.as_str()) {
            c.error(key, format!("account name `{}` is used twice", a.name));
        }
    }
}

fn escalation(
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

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Config, Problems> {
        load_str(text, "c.yaml", Path::new("/etc/bw"))
    }

    #[test]
    fn a_full_config_compiles() {
        let cfg = load(
            "authserv_ids: [mx.google.com]\n\
             accounts:\n\
             \x20 - name: gmail\n\
             \x20   imap:\n\
             \x20     host: imap.gmail.com\n\
             \x20     username: me@gmail.com\n\
             \x20     password: {command: 'pass show gmail'}\n\
             \x20     mailboxes: [INBOX, '[Gmail]/Spam']\n\
             \x20 - name: local\n\
             \x20   maildir: mail\n\
             severity: {login: critical, phishing: critical}\n\
             allowances:\n\
             \x20 - {broker: sbi, event: withdrawal, max_amount: 100000, account_suffix: 1234}\n\
             sinks:\n\
             \x20 telegram: {token: {env: BOT}, chat_ids: [42]}\n\
             escalation:\n\
             \x20 critical: {sinks: [telegram], repeat: 10m}\n",
        )
        .unwrap();
        assert_eq!(cfg.accounts.len(), 2);
        let AccountSource::Imap(i) = &cfg.accounts[0].source else {
            panic!("imap expected")
        };
        assert_eq!((i.port, i.tls), (993, TlsMode::Implicit));
        let AccountSource::Maildir(m) = &cfg.accounts[1].source else {
            panic!("maildir expected")
        };
        assert_eq!(m.path, PathBuf::from("/etc/bw/mail"));
        assert_eq!(cfg.severity[&EventKind::Login], Severity::Critical);
        assert_eq!(cfg.phishing_severity, Severity::Critical);
        assert_eq!(cfg.allowances[0].account_suffix.as_deref(), Some("1234"));
        let p = &cfg.escalation[&Severity::Critical];
        assert_eq!(p.sinks, vec![SinkKind::Telegram]);
        assert_eq!(p.repeat, Some(Duration::from_secs(600)));
    }

    #[test]
    fn language_is_ja_or_en_and_a_bad_one_names_both() {
        use crate::alert::language::Language;
        assert_eq!(load("language: ja\n").unwrap().language, Language::Ja);
        assert_eq!(load("language: en\n").unwrap().language, Language::En);
        let err = load("shipped_rules: true\nlanguage: fr\n").unwrap_err();
        let line = err.0[0].to_string();
        assert!(line.starts_with("c.yaml:2:11:"), "{line}");
        assert!(line.contains("`ja`") && line.contains("`en`"), "{line}");
    }

    #[test]
    fn all_mistakes_are_reported_at_once_with_locations() {
        let err = load(
            "accounts:\n\
             \x20 - name: a\n\
             \x20   imap: {host: mail.example.com, tls: none, username: u, password: {env: P}}\n\
             severity:\n\
             \x20 withdrawl: critical\n\
             first_run_lookback: 3 days\n\
             colour: blue\n",
        )
        .unwrap_err();
        let lines: Vec<String> = err.0.iter().map(|p| p.to_string()).collect();
        assert_eq!(lines.len(), 4, "{lines:#?}");
        assert!(
            lines[0].starts_with("c.yaml:3:18: `tls: none`"),
            "{lines:#?}"
        );
        assert!(
            lines[1].starts_with("c.yaml:5:3: unknown event `withdrawl`"),
            "{lines:#?}"
        );
        assert!(
            lines[2].starts_with("c.yaml:6:21: invalid duration"),
            "{lines:#?}"
        );
        assert!(
            lines[3].starts_with("c.yaml:7:1: unknown field `colour`"),
            "{lines:#?}"
        );
    }

    #[test]
    fn a_trading_profile_compiles_and_its_mistakes_have_locations() {
        let cfg = load(
            "trading_profile:\n\
             \x20 sides: [buy]\n\
             \x20 markets: [jp]\n\
             \x20 instruments: ['eMAXIS Slim']\n\
             \x20 account_types: [nisa_tsumitate, specific]\n\
             \x20 max_amount: 100000\n\
             \x20 login_hours: '07:00-23:30'\n\
             \x20 utc_offset: '+09:00'\n\
             \x20 severity: {instrument: critical}\n",
        )
        .unwrap_or_else(|p| panic!("{p}"));
        let p = cfg.trading_profile.expect("profile");
        assert_eq!(p.markets, ["JP"]);
        assert_eq!(p.burst_window, Duration::from_secs(600));
        let h = p.login_hours.expect("hours");
        assert_eq!((h.from, h.to, h.utc_offset), (420, 1410, Some(32_400)));
        assert_eq!(
            p.severity_of(crate::profile::Deviation::Instrument),
            Severity::Critical
        );
        let err = load(
            "trading_profile:\n\
             \x20 sides: [hold]\n\
             \x20 account_types: [tfsa]\n\
             \x20 login_hours: '7-23'\n\
             \x20 severity: {selling: critical}\n",
        )
        .unwrap_err();
        let lines: Vec<String> = err.0.iter().map(|p| p.to_string()).collect();
        assert_eq!(lines.len(), 4, "{lines:#?}");
        assert!(
            lines[0].starts_with("c.yaml:2:11: unknown side `hold`"),
            "{lines:#?}"
        );
        assert!(
            lines[1].starts_with("c.yaml:3:19: unknown account type `tfsa`"),
            "{lines:#?}"
        );
        assert!(lines[2].starts_with("c.yaml:4:16:"), "{lines:#?}");
        assert!(lines[3].contains("unknown kind `selling`"), "{lines:#?}");
    }

    #[test]
    fn literal_passwords_and_unknown_sinks_are_refused() {
        let err = load(
            "accounts:\n\
             \x20 - name: a\n\
             \x20   imap: {host: h, username: u, password: {value: x}}\n\
             escalation:\n\
             \x20 critical: {sinks: [pager]}\n",
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("never as the value itself"), "{text}");
        assert!(text.contains("sink `pager` is not configured"), "{text}");
    }

    #[test]
    fn every_bad_account_sink_and_key_is_reported_at_once() {
        let err = load(
            "accounts:\n\
             \x20 - name: a\n\
             \x20   maildir: /m/a\n\
             \x20   colour: blue\n\
             \x20 - name: b\n\
             \x20   imap: {host: h, username: u, tls: sometimes, password: {env: P}}\n\
             \x20 - name: c\n\
             \x20   maildir: /m/c\n\
             sinks:\n\
             \x20 telegram: {token: {env: BOT}, chat_ids: [1], format: fancy}\n\
             severity: {login: loud}\n\
             escalation:\n\
             \x20 critical: {sinks: [pager]}\n",
        )
        .unwrap_err();
        crate::yaml::assert_problems_start_with(
            &err,
            &[
                "c.yaml:4:5: unknown field `colour`, expected one of `name`, `imap`, `maildir`, `poll_interval`",
                "c.yaml:6:39: unknown variant `sometimes`, expected one of `implicit`, `starttls`, `none`",
                "c.yaml:10:56: unknown format `fancy` (expected `plain`, `markdownv2` or `html`)",
                "c.yaml:11:19: unknown severity `loud`",
                "c.yaml:13:22: sink `pager` is not configured (configured: console, desktop)",
            ],
        );
    }

    #[test]
    fn the_good_pieces_of_a_bad_file_still_count() {
        // `c` is kept although `a` and `b` are not: a recipient may name it, and only it.
        let (cfg, problems) = compile(
            "accounts:\n  - {name: a, maildir: /m, x: 1}\n  - {name: c, maildir: /m/c}\n\
             tamper_check: 2m\nquiet_days: many\n",
            "c.yaml",
            Path::new("/"),
        );
        let names: Vec<&str> = cfg.accounts.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["c"]);
        assert_eq!(cfg.tamper_check, Duration::from_secs(120));
        let at: Vec<(u32, u32)> = problems.iter().map(|p| (p.loc.line, p.loc.col)).collect();
        assert_eq!(at, [(2, 28), (5, 13)], "{problems:?}");
    }

    #[test]
    fn a_flow_style_config_compiles_and_names_its_first_mistake() {
        let cfg = load("{accounts: [{name: a, maildir: m}], tls_typo: 1}").unwrap_err();
        let lines: Vec<String> = cfg.0.iter().map(|p| p.to_string()).collect();
        assert_eq!(lines.len(), 1, "{lines:#?}");
        assert!(
            lines[0].starts_with("c.yaml:1:37: unknown field `tls_typo`"),
            "{lines:#?}"
        );
        let cfg = load("{accounts: [{name: a, maildir: m}], severity: {login: critical}}")
            .unwrap_or_else(|p| panic!("{p}"));
        assert_eq!(cfg.accounts[0].name, "a");
        assert_eq!(cfg.severity[&EventKind::Login], Severity::Critical);
    }

    #[test]
    fn loopback_detection() {
        assert!(is_loopback("127.0.0.1") && is_loopback("localhost") && is_loopback("::1"));
        assert!(!is_loopback("192.168.1.2") && !is_loopback("imap.example.com"));
    }
}
