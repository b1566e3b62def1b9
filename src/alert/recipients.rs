//! Alerts routed to people: which targets of a sink get an alert (the recipients whose role and
//! accounts cover it), what an acknowledgement tells the others, and who a chat belongs to.
//!
//! Without `recipients:` every target of a sink gets every alert of the sink, as before.

use std::collections::BTreeMap;

use super::AlertKind;
use super::language::Language;
use crate::config::{CHANNELS, Config, Recipient, SinkKind};
use crate::event::Severity;
use crate::store::{NewDelivery, Store, StoreError};

/// What routing needs to know about an alert.
#[derive(Debug, Clone, Copy)]
pub struct About<'a> {
    pub kind: AlertKind,
    pub severity: Severity,
    /// The account whose mailbox the alert is about; None: no single one (takeover at a broker,
    /// brokerwatch's own health), which every recipient watches.
    pub account: Option<&'a str>,
}

/// The delivery rows of an alert on these sinks. A sink without per-person targets (console,
/// desktop, command, webhook) gets it as before; on a person's channel, a target the sink lists
/// itself (`chat_ids`, its `topic`) that no recipient claims gets everything, and each
/// recipient's target gets what their role and accounts cover.
pub fn route(config: &Config, sinks: &[SinkKind], about: About) -> Vec<NewDelivery> {
    let mut out: Vec<NewDelivery> = Vec::new();
    for &sink in sinks {
        let own = targets(config, &[sink]);
        if config.recipients.is_empty() || !CHANNELS.contains(&sink) {
            out.extend(own);
            continue;
        }
        let claimed = |target: &str| {
            config
                .recipients
                .iter()
                .any(|r| r.target_on(sink).any(|t| t == target))
        };
        for d in own {
            let id = own_target(config, sink, &d.target);
            if !id.is_empty() && !claimed(&id) {
                out.push(d);
            }
        }
        for r in &config.recipients {
            if r.wants(about.kind, about.severity, about.account) {
                out.extend(r.target_on(sink).map(|t| NewDelivery {
                    sink,
                    target: t.to_string(),
                }));
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|d| seen.insert(d.clone()));
    out
}

/// What a sink's own target stands for: the ntfy sink's single target `-` is its `topic`.
fn own_target(config: &Config, sink: SinkKind, target: &str) -> String {
    match (sink, target) {
        (SinkKind::Ntfy, super::sink::SINGLE_TARGET) => config
            .sinks
            .ntfy
            .as_ref()
            .map(|n| n.topic.clone())
            .unwrap_or_default(),
        _ => target.to_string(),
    }
}

/// The recipient a target belongs to, if any.
pub fn owner<'c>(config: &'c Config, sink: SinkKind, target: &str) -> Option<&'c Recipient> {
    let target = own_target(config, sink, target);
    config
        .recipients
        .iter()
        .find(|r| r.target_on(sink).any(|t| t == target))
}

/// The language of the texts made for a target: its recipient's, else the configuration's.
pub fn language_of(config: &Config, sink: SinkKind, target: &str) -> Language {
    owner(config, sink, target)
        .and_then(|r| r.language)
        .unwrap_or(config.language)
}

/// Recipient names by Telegram chat: a command from a recipient's chat is theirs.
pub fn telegram_names(config: &Config) -> BTreeMap<i64, String> {
    let mut out = BTreeMap::new();
    for r in &config.recipients {
        for t in r.target_on(SinkKind::Telegram) {
            if let Ok(chat) = t.parse() {
                out.insert(chat, r.name.clone());
            }
        }
    }
    out
}

/// Acknowledges an alert: its repeats stop for everyone. With recipients, each person who was
/// sent it, except the one who answered (`from`), is told who acknowledged it.
pub fn acknowledge(
    store: &Store,
    config: &Config,
    id: i64,
    by: &str,
    from: Option<&NewDelivery>,
) -> Result<bool, StoreError> {
    if config.recipients.is_empty() {
        store.ack(id, by)
    } else {
        store.ack_and_notify(id, by, CHANNELS, from)
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn config(text: &str) -> Config {
        crate::config::load_str(text, "c.yaml", Path::new("/etc/bw"))
            .unwrap_or_else(|p| panic!("{p}"))
    }

    const FAMILY: &str = "accounts:\n\
        \x20 - {name: hanako-sbi, maildir: /m/h}\n\
        \x20 - {name: taro-rakuten, maildir: /m/t}\n\
        sinks:\n\
        \x20 telegram: {token: {env: BOT}, chat_ids: [7]}\n\
        \x20 ntfy: {url: 'https://ntfy.example', topic: house}\n\
        recipients:\n\
        \x20 - {name: Hanako, telegram: 1, ntfy: hanako, accounts: [hanako-sbi]}\n\
        \x20 - {name: Taro, telegram: 2, gets: critical}\n\
        \x20 - {name: Jiro, telegram: 3, gets: takeover, language: en}\n";

    fn targets(
        cfg: &Config,
        kind: AlertKind,
        severity: Severity,
        account: Option<&str>,
    ) -> Vec<String> {
        let about = About {
            kind,
            severity,
            account,
        };
        route(
            cfg,
            &[SinkKind::Console, SinkKind::Telegram, SinkKind::Ntfy],
            about,
        )
        .into_iter()
        .map(|d| format!("{}:{}", d.sink, d.target))
        .collect()
    }

    #[test]
    fn each_recipient_gets_what_their_role_and_accounts_cover() {
        let cfg = config(FAMILY);
        assert_eq!(cfg.sinks.telegram.as_ref().unwrap().chat_ids, [7, 1, 2, 3]);
        use AlertKind::{Takeover, Unexpected};
        assert_eq!(
            targets(&cfg, Unexpected, Severity::Warning, Some("hanako-sbi")),
            [
                "console:-",
                "telegram:7",
                "telegram:1",
                "ntfy:-",
                "ntfy:hanako"
            ]
        );
        assert_eq!(
            targets(&cfg, Unexpected, Severity::Critical, Some("taro-rakuten")),
            ["console:-", "telegram:7", "telegram:2", "ntfy:-"]
        );
        assert_eq!(
            targets(&cfg, Takeover, Severity::Critical, None),
            [
                "console:-",
                "telegram:7",
                "telegram:1",
                "telegram:2",
                "telegram:3",
                "ntfy:-",
                "ntfy:hanako"
            ]
        );
        assert_eq!(
            language_of(&cfg, SinkKind::Telegram, "3"),
            Language::En,
            "a recipient's own language"
        );
        assert_eq!(
            owner(&cfg, SinkKind::Ntfy, "hanako").unwrap().name,
            "Hanako"
        );
        assert!(owner(&cfg, SinkKind::Ntfy, "-").is_none());
        assert_eq!(telegram_names(&cfg)[&2], "Taro");
    }

    #[test]
    fn without_recipients_every_target_gets_everything() {
        let cfg = config("sinks:\n  telegram: {token: {env: BOT}, chat_ids: [7, 8]}\n");
        let about = About {
            kind: AlertKind::Unexpected,
            severity: Severity::Info,
            account: Some("x"),
        };
        let got = route(&cfg, &[SinkKind::Console, SinkKind::Telegram], about);
        assert_eq!(
            got,
            super::targets(&cfg, &[SinkKind::Console, SinkKind::Telegram])
        );
        assert_eq!(got.len(), 3);
    }
}
