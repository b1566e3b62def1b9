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

#[test]
fn oauth2_provider_and_mechanism_are_read_as_enums_and_a_bad_one_is_located() {
    let cfg = load(
        "accounts:\n\
         \x20 - name: g\n\
         \x20   imap: {host: h, username: u, auth: {oauth2: {provider: google, client_id: x, mechanism: oauthbearer}}}\n",
    )
    .unwrap_or_else(|p| panic!("{p}"));
    let AccountSource::Imap(i) = &cfg.accounts[0].source else {
        panic!("imap expected")
    };
    let ImapAuth::OAuth2(o) = &i.auth else {
        panic!("oauth2 expected")
    };
    use crate::config::oauth2::{Mechanism, Provider};
    assert_eq!(
        (o.provider, o.mechanism),
        (Provider::Google, Mechanism::OAuthBearer)
    );
    assert_eq!(o.token_url, "https://oauth2.googleapis.com/token");
    let err = load(
        "accounts:\n\
         \x20 - name: a\n\
         \x20   imap: {host: h, username: u, auth: {oauth2: {provider: yahoo, client_id: x}}}\n\
         \x20 - name: b\n\
         \x20   imap: {host: h, username: u, auth: {oauth2: {provider: google, client_id: x, mechanism: plain}}}\n",
    )
    .unwrap_err();
    crate::yaml::assert_problems_start_with(
        &err,
        &[
            "c.yaml:3:60: unknown oauth2 provider `yahoo` (expected `microsoft`, `google` or `custom`)",
            "c.yaml:5:93: unknown mechanism `plain` (expected `xoauth2` or `oauthbearer`)",
        ],
    );
}
