use std::path::Path;

use super::*;
use crate::config::{Problems, load_str};

fn load(text: &str) -> Result<Config, Problems> {
    load_str(text, "c.yaml", Path::new("/etc/bw"))
}

const SINKS: &str = "accounts:\n\
    \x20 - {name: hanako-sbi, maildir: /m/h}\n\
    \x20 - {name: taro-rakuten, maildir: /m/t}\n\
    sinks:\n\
    \x20 telegram: {token: {env: BOT}}\n\
    \x20 ntfy: {url: 'https://ntfy.example'}\n";

#[test]
fn recipients_and_quiet_hours_compile() {
    let cfg = load(&format!(
        "{SINKS}recipients:\n\
         \x20 - name: Hanako\n\
         \x20   telegram: 123456789\n\
         \x20   ntfy: hanako-alerts\n\
         \x20   accounts: [hanako-sbi]\n\
         \x20   language: ja\n\
         \x20 - {{name: Taro, telegram: -100200, gets: critical}}\n\
         \x20 - {{name: Jiro, ntfy: jiro, gets: takeover}}\n\
         quiet_hours: {{from: '22:00', to: '07:00', utc_offset: '+09:00'}}\n"
    ))
    .unwrap_or_else(|p| panic!("{p}"));
    let [h, t, j] = &cfg.recipients[..] else {
        panic!("three recipients: {:?}", cfg.recipients)
    };
    assert_eq!(
        h.channels,
        [
            (SinkKind::Telegram, "123456789".to_string()),
            (SinkKind::Ntfy, "hanako-alerts".to_string())
        ]
    );
    assert_eq!(
        (h.gets, h.accounts.as_deref(), h.language),
        (
            Gets::Everything,
            Some(&["hanako-sbi".to_string()][..]),
            Some(Language::Ja)
        )
    );
    assert_eq!(
        (t.gets, t.accounts.as_ref(), t.language),
        (Gets::Critical, None, None)
    );
    assert_eq!(j.gets, Gets::Takeover);
    assert_eq!(
        cfg.sinks.telegram.as_ref().unwrap().chat_ids,
        [123456789, -100200],
        "commands are accepted from the recipients' chats"
    );
    let q = cfg.quiet_hours.expect("quiet hours");
    assert_eq!(q.from, NaiveTime::from_hms_opt(22, 0, 0).unwrap());
    assert_eq!(q.utc_offset, FixedOffset::east_opt(9 * 3600));
    assert!(h.wants(AlertKind::Unexpected, Severity::Warning, Some("hanako-sbi")));
    assert!(!h.wants(
        AlertKind::Unexpected,
        Severity::Critical,
        Some("taro-rakuten")
    ));
    assert!(h.wants(AlertKind::Health, Severity::Warning, None));
    assert!(!t.wants(
        AlertKind::Unexpected,
        Severity::Warning,
        Some("taro-rakuten")
    ));
    assert!(t.wants(AlertKind::Phishing, Severity::Critical, Some("hanako-sbi")));
    assert!(!j.wants(AlertKind::Unexpected, Severity::Critical, None));
    assert!(j.wants(AlertKind::Takeover, Severity::Critical, None));
}

#[test]
fn every_recipient_mistake_is_reported_at_once_with_its_location() {
    let err = load(
        "accounts:\n\
         \x20 - {name: hanako-sbi, maildir: /m/h}\n\
         sinks:\n\
         \x20 telegram: {token: {env: BOT}, chat_ids: [1]}\n\
         recipients:\n\
         \x20 - name: Hanako\n\
         \x20   telegram: 5\n\
         \x20   accounts: [hanako-sbi, hanako-rakuten]\n\
         \x20   gets: warnings\n\
         \x20   line: U123\n\
         \x20   slack: '#x'\n\
         \x20 - {name: Taro, telegram: '@taro', ntfy: taro}\n\
         \x20 - {telegram: 6}\n\
         quiet_hours: {from: '22:00', to: '7pm'}\n",
    )
    .unwrap_err();
    crate::yaml::assert_problems_start_with(
        &err,
        &[
            "c.yaml:8:28: unknown account `hanako-rakuten` (configured: hanako-sbi)",
            "c.yaml:9:11: unknown role `warnings` (expected `everything`, `critical` or `takeover`)",
            "c.yaml:10:5: unknown channel or field `line`",
            "c.yaml:11:5: unknown channel or field `slack`",
            "c.yaml:12:28: a Telegram chat id is a number",
            "c.yaml:12:37: channel `ntfy` needs the `ntfy` sink under `sinks:`",
            "c.yaml:13:5: a recipient needs a `name`",
            "c.yaml:14:34: `7pm` is not a time of day",
        ],
    );
}

#[test]
fn a_telegram_sink_with_nobody_to_reach_is_refused() {
    let err = load("sinks:\n  telegram: {token: {env: BOT}}\n").unwrap_err();
    assert!(
        err.to_string()
            .starts_with("c.yaml:2:3: the telegram sink needs `chat_ids` or a recipient"),
        "{err}"
    );
    let err = load("sinks:\n  ntfy: {url: 'https://n.example'}\n").unwrap_err();
    assert!(
        err.to_string().contains("needs a `topic` or a recipient"),
        "{err}"
    );
}
