//! Liveness beyond the connection: a broker that used to write and fell silent (an attacker
//! who changed the registered e-mail address gets the notices now), and an optional heartbeat
//! that proves to the family's phones that brokerwatch is still watching.

use std::time::Duration;

use crate::alert::language::Language;
use crate::alert::raise::{Draft, in_language};
use crate::alert::wording;
use crate::config::{Config, SinkKind};
use crate::event::Severity;
use crate::rules::RuleSet;
use crate::store::{Store, StoreError};
use crate::units::format_duration;

/// How often [`due`] needs a look: every minute for a heartbeat, hourly for quiet brokers
/// (counted in days), never when neither is configured (an idle daemon keeps no timer for it).
pub fn check_every(config: &Config) -> Option<Duration> {
    match (config.heartbeat, config.quiet_days) {
        (Some(_), _) => Some(Duration::from_secs(60)),
        (None, Some(_)) => Some(Duration::from_secs(3600)),
        (None, None) => None,
    }
}

/// An alert that is due: its facts, worded per language by [`Due::draft`] so that each person
/// reads it in their own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Due {
    /// A broker silent for this many days.
    QuietBroker { name: String, days: i64 },
    /// The heartbeat, sent every `every`.
    Heartbeat { every: Duration },
}

impl Due {
    /// The alert in `lang` (the heartbeat carries the status report in that language).
    pub fn draft(
        &self,
        store: &Store,
        config: &Config,
        lang: Language,
    ) -> Result<Draft, StoreError> {
        Ok(match self {
            Due::QuietBroker { name, days } => quiet_broker(lang, name, *days),
            Due::Heartbeat { every } => {
                let status = crate::watch::status::report(&in_language(config, lang), store)?;
                heartbeat_draft(lang, *every, status)
            }
        })
    }
}

/// Alerts that are due at `now`: quiet brokers (once per silence) and the heartbeat.
pub fn due(
    store: &Store,
    config: &Config,
    rules: &RuleSet,
    now: i64,
) -> Result<Vec<Due>, StoreError> {
    let mut out = quiet_brokers(store, config, rules, now)?;
    out.extend(heartbeat(store, config, now)?);
    Ok(out)
}

/// A broker that used to write and has been silent for `quiet_days`, once per silence.
fn quiet_brokers(
    store: &Store,
    config: &Config,
    rules: &RuleSet,
    now: i64,
) -> Result<Vec<Due>, StoreError> {
    let Some(days) = config.quiet_days else {
        return Ok(Vec::new());
    };
    let limit = i64::from(days) * 86_400;
    let mut out = Vec::new();
    for (broker, last) in store.last_mail_per_broker()? {
        let key = format!("quiet_alerted:{broker}");
        if now - last < limit || store.kv_get(&key)?.as_deref() == Some(&last.to_string()) {
            continue;
        }
        store.kv_set(&key, &last.to_string())?;
        let name = rules
            .pack(&broker)
            .map_or(broker.clone(), |p| p.name.clone());
        let days = (now - last) / 86_400;
        out.push(Due::QuietBroker { name, days });
    }
    Ok(out)
}

fn quiet_broker(lang: Language, name: &str, days: i64) -> Draft {
    match lang {
        Language::Ja => Draft::health(
            Severity::Warning,
            format!(
                "{name}からのメールが{days}日間届いていません — 登録メールアドレスが変更されていませんか？"
            ),
            format!(
                "{name}からはこれまで取引報告書やお知らせなどのメールが届いていましたが、この{days}日間は1通も届いていません。\n\
                 登録メールアドレスを第三者に変更されると、通知はその人に届くようになります。\n\
                 ブックマークまたは公式アプリからログインし、登録メールアドレスを確認してください。"
            ),
        ),
        Language::En => Draft::health(
            Severity::Warning,
            format!(
                "No mail from {name} for {days} days — was your registered e-mail address changed?"
            ),
            format!(
                "{name} used to send you mail (statements, trade reports, newsletters); nothing has arrived for {days} days.\n\
                 An attacker who changes the registered e-mail address receives the notices instead of you.\n\
                 Log in from your bookmark or the official app and check the registered e-mail address."
            ),
        ),
    }
}

/// The heartbeat with the status report, when it is due. It is for the family's phones: without
/// Telegram there is nobody to prove it to.
fn heartbeat(store: &Store, config: &Config, now: i64) -> Result<Option<Due>, StoreError> {
    let Some(every) = config.heartbeat.filter(|_| config.sinks.telegram.is_some()) else {
        return Ok(None);
    };
    let last = store
        .kv_get("heartbeat_at")?
        .and_then(|v| v.parse::<i64>().ok());
    if last.is_some_and(|l| now - l < every.as_secs() as i64) {
        return Ok(None);
    }
    store.kv_set("heartbeat_at", &now.to_string())?;
    Ok(Some(Due::Heartbeat { every }))
}

fn heartbeat_draft(lang: Language, every: Duration, status: String) -> Draft {
    let title = match lang {
        Language::Ja => format!(
            "brokerwatch は監視を続けています（{}ごとの定期連絡）",
            wording::duration(Language::Ja, every)
        ),
        Language::En => format!(
            "brokerwatch is watching (heartbeat every {})",
            format_duration(every)
        ),
    };
    Draft {
        only: Some(vec![SinkKind::Telegram]),
        ..Draft::health(Severity::Info, title, status)
    }
}

/// Quiet brokers and the heartbeat, when configured (no timer otherwise), for as long as the
/// daemon runs.
pub async fn run(s: super::Services) {
    let Some(every) = check_every(&s.config()) else {
        return;
    };
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        let (config, rules) = (s.config(), s.rules());
        match due(&s.store, &config, &rules, crate::store::now()) {
            Ok(alerts) => {
                for d in alerts {
                    let draft = |lang| match d.draft(&s.store, &config, lang) {
                        Ok(d) => Some(d),
                        Err(e) => {
                            tracing::error!("cannot word a liveness alert: {e}");
                            None
                        }
                    };
                    if let Err(e) = s.raise_each(draft) {
                        tracing::error!("cannot record a liveness alert: {e}");
                    }
                }
            }
            Err(e) => tracing::error!("liveness check failed: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assess::Verdict;
    use crate::source::{MailboxId, Position};
    use crate::store::Recorded;

    fn record(store: &Store, broker: &str, at: i64, uid: u32) {
        let v = Verdict {
            message_id: Some(format!("m{uid}")),
            broker: Some(broker.into()),
            authentic: Some(true),
            ..Verdict::default()
        };
        let mb = MailboxId {
            account: "a".into(),
            mailbox: "INBOX".into(),
        };
        let pos = Position::Imap {
            uidvalidity: 1,
            uid,
        };
        store
            .record(
                &Recorded {
                    mailbox: &mb,
                    position: &pos,
                    verdict: &v,
                    received_at: Some(at),
                },
                None,
            )
            .unwrap();
    }

    #[test]
    fn a_silent_broker_is_reported_once_per_silence_and_heartbeats_are_spaced() {
        let store = Store::open_memory().unwrap();
        let rules = RuleSet::default();
        let mut cfg = crate::config::builtin();
        cfg.quiet_days = Some(30);
        let day = 86_400;
        let now = 100 * day;
        record(&store, "sbi", now - 40 * day, 1);
        record(&store, "rakuten", now - 2 * day, 2);
        let first = due(&store, &cfg, &rules, now).unwrap();
        assert_eq!(first.len(), 1);
        let title = |lang| first[0].draft(&store, &cfg, lang).unwrap().title;
        assert!(
            title(Language::En).contains("No mail from sbi for 40 days"),
            "{}",
            title(Language::En)
        );
        assert!(
            title(Language::Ja).contains("sbiからのメールが40日間届いていません"),
            "{}",
            title(Language::Ja)
        );
        assert!(
            due(&store, &cfg, &rules, now + day).unwrap().is_empty(),
            "once per silence"
        );
        record(&store, "sbi", now, 3);
        assert!(
            due(&store, &cfg, &rules, now + 2 * day).unwrap().is_empty(),
            "mail again"
        );

        cfg.quiet_days = None;
        cfg.heartbeat = Some(std::time::Duration::from_secs(day as u64));
        assert!(
            due(&store, &cfg, &rules, now).unwrap().is_empty(),
            "no heartbeat without Telegram"
        );
        cfg.sinks.telegram = Some(crate::config::TelegramConfig {
            token: crate::config::secret::SecretSource::Env("BW_TEST_UNSET".into()),
            chat_ids: vec![1],
            api_url: None,
            format: crate::config::TelegramFormat::Plain,
            commands: false,
        });
        assert_eq!(due(&store, &cfg, &rules, now).unwrap().len(), 1);
        assert!(due(&store, &cfg, &rules, now + 3600).unwrap().is_empty());
        assert_eq!(due(&store, &cfg, &rules, now + day).unwrap().len(), 1);
    }
}
