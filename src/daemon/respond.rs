//! Answers from people (Telegram commands and buttons, desktop actions): acknowledge, "not me",
//! snooze, expect, mute, status. Each returns the text to send back.

use std::time::Duration;

use crate::alert::Response;
use crate::alert::compose::{label, playbook};
use crate::alert::language::Language;
use crate::alert::wording;
use crate::config::live::Live;
use crate::event::EventKind;
use crate::store::{NewDelivery, Store, StoreError, now};
use crate::units::format_duration;

/// Default length of an `/expect` window.
pub const DEFAULT_EXPECT: Duration = Duration::from_secs(24 * 3600);

pub struct Responder {
    pub store: Store,
    /// The configuration and rules in force (replaced on reload).
    pub live: Live,
}

impl Responder {
    /// The language of the person an answer came from (the config's for the desktop).
    fn language_of(&self, from: Option<&NewDelivery>) -> Language {
        let cfg = self.live.config();
        from.map_or(cfg.language, |d| {
            crate::alert::recipients::language_of(&cfg, d.sink, &d.target)
        })
    }

    /// Applies a response; returns the reply text, in the configured language.
    pub fn handle(&self, r: &Response) -> Result<String, StoreError> {
        self.handle_from(r, None)
    }

    /// Like [`handle`](Self::handle) for an answer that came from `from` (a Telegram chat):
    /// an acknowledgement is told to every other person who got the alert, not back to it.
    pub fn handle_from(&self, r: &Response, from: Option<i64>) -> Result<String, StoreError> {
        let from = from.map(|chat| NewDelivery {
            sink: crate::config::SinkKind::Telegram,
            target: chat.to_string(),
        });
        // A reply reads in the language of the person who asked.
        let lang = self.language_of(from.as_ref());
        match r {
            Response::Ack { alert_id, by } => self.acked(*alert_id, by, from.as_ref(), lang),
            Response::NotMe { alert_id, by } => self.not_me(*alert_id, by, lang),
            Response::Snooze { alert_id, by, for_ } => self.snoozed(*alert_id, by, *for_, lang),
            Response::Status { .. } => {
                let cfg = crate::alert::raise::in_language(&self.live.config(), lang);
                crate::watch::status::report(&cfg, &self.store)
            }
            Response::Expect {
                broker,
                event,
                for_,
                by,
            } => self.expect(broker, event, *for_, by, lang),
            Response::Mute { for_, by } => self.muted(*for_, by, lang),
        }
    }

    fn acked(
        &self,
        alert_id: i64,
        by: &str,
        from: Option<&NewDelivery>,
        lang: Language,
    ) -> Result<String, StoreError> {
        if !self.ack(alert_id, by, from)? {
            return Ok(gone(alert_id, lang));
        }
        tracing::info!(alert = alert_id, by = %by, "acknowledged");
        Ok(match lang {
            Language::Ja => format!(
                "✅ アラート #{alert_id} は確認済みになりました（{by}）。再通知を停止しました。"
            ),
            Language::En => format!("✅ Alert #{alert_id} acknowledged by {by}. Repeats stopped."),
        })
    }

    fn snoozed(
        &self,
        alert_id: i64,
        by: &str,
        for_: Duration,
        lang: Language,
    ) -> Result<String, StoreError> {
        if !self.store.snooze(alert_id, now() + for_.as_secs() as i64)? {
            return Ok(gone(alert_id, lang));
        }
        tracing::info!(alert = alert_id, by = %by, "snoozed");
        Ok(match lang {
            Language::Ja => format!(
                "😴 アラート #{alert_id} の再通知を{}止めます。確認済みにしない限り、その後また通知します。",
                wording::duration(lang, for_)
            ),
            Language::En => format!(
                "😴 Alert #{alert_id} snoozed for {}; it repeats afterwards unless acknowledged.",
                format_duration(for_)
            ),
        })
    }

    fn muted(&self, for_: Duration, by: &str, lang: Language) -> Result<String, StoreError> {
        let until = now() + for_.as_secs() as i64;
        self.store.kv_set("mute_until", &until.to_string())?;
        tracing::warn!(by = %by, "repeats muted for {}", format_duration(for_));
        Ok(match lang {
            Language::Ja => format!(
                "🔕 再通知を{}停止しました（新しいアラートは引き続き届きます）。",
                wording::duration(lang, for_)
            ),
            Language::En => format!(
                "🔕 Repeats muted for {} (new alerts still arrive).",
                format_duration(for_)
            ),
        })
    }

    /// Acknowledges for everyone; with recipients, the others are told who did.
    fn ack(&self, id: i64, by: &str, from: Option<&NewDelivery>) -> Result<bool, StoreError> {
        crate::alert::recipients::acknowledge(&self.store, &self.live.config(), id, by, from)
    }

    fn not_me(&self, id: i64, by: &str, lang: Language) -> Result<String, StoreError> {
        let Some(alert) = self.store.alert(id)? else {
            return Ok(match lang {
                Language::Ja => format!("アラート #{id} は存在しません。"),
                Language::En => format!("Alert #{id} does not exist."),
            });
        };
        self.store.not_me(id)?;
        tracing::error!(alert = id, by = %by, "answered NOT ME");
        let rules = self.live.rules();
        let pack = alert.broker.as_deref().and_then(|b| rules.pack(b));
        let mut text = match lang {
            Language::Ja => format!(
                "🚨 アラート #{id} はご本人の操作ではありません。今すぐ対応してください。メール内のリンクは使わないでください。\n{}",
                alert.title
            ),
            Language::En => format!(
                "🚨 Alert #{id} was NOT you. Act now — do not use any link from the mail.\n{}",
                alert.title
            ),
        };
        match pack {
            Some(p) => text.push_str(&playbook(p, lang)),
            None => text.push_str(lang.pick(
                "\n公式サイト、またはお手元の電話番号から証券会社に連絡してください。",
                "\nContact the broker through its official site or phone number you already know.",
            )),
        }
        text.push_str(lang.pick(
            "\nこのアラートは、確認済みにするまで「緊急」のまま残ります。",
            "\nThe alert stays open and critical until acknowledged.",
        ));
        Ok(text)
    }

    fn expect(
        &self,
        broker: &str,
        event: &str,
        for_: Option<Duration>,
        by: &str,
        lang: Language,
    ) -> Result<String, StoreError> {
        let rules = self.live.rules();
        let Some(pack) = rules.pack(broker) else {
            let known: Vec<&str> = rules.packs.iter().map(|p| p.id.as_str()).collect();
            return Ok(match lang {
                Language::Ja => format!(
                    "`{broker}` という証券会社は登録されていません。指定できるもの: {}",
                    known.join(", ")
                ),
                Language::En => format!("Unknown broker `{broker}`. Known: {}", known.join(", ")),
            });
        };
        let ev: EventKind = match event.parse() {
            Ok(e) => e,
            Err(e) => {
                return Ok(match lang {
                    Language::Ja => format!(
                        "`{event}` という通知の種類はありません。指定できるもの: {}",
                        EventKind::ALL.map(|e| e.as_str()).join(", ")
                    ),
                    Language::En => e.to_string(),
                });
            }
        };
        let d = for_.unwrap_or(DEFAULT_EXPECT);
        let t = now();
        let id = self.store.add_expectation(
            &pack.id,
            ev,
            t,
            t + d.as_secs() as i64,
            Some(&format!("by {by}")),
        )?;
        Ok(match lang {
            Language::Ja => format!(
                "👍 {}の{}を、これから{}のあいだ予定として登録しました（#{id}）。この間に届く正規の通知ではアラートを出しません。",
                pack.name,
                label(ev, &pack.name, lang),
                wording::duration(lang, d)
            ),
            Language::En => format!(
                "👍 Expecting a {} at {} for {} (#{id}). A genuine notice in that window stays quiet.",
                ev.describe(),
                pack.name,
                format_duration(d)
            ),
        })
    }
}

/// Applies answers and replies to the chat they came from (all chats for desktop answers), for
/// as long as answers come.
pub async fn answer(
    responder: Responder,
    mut rx: tokio::sync::mpsc::Receiver<(Option<i64>, Response)>,
    telegram: Option<std::sync::Arc<crate::alert::telegram::TelegramSink>>,
    wake: std::sync::Arc<tokio::sync::Notify>,
) {
    while let Some((chat, r)) = rx.recv().await {
        let reply = match responder.handle_from(&r, chat) {
            Ok(text) => text,
            Err(e) => {
                tracing::error!("cannot apply {r:?}: {e}");
                let from = chat.map(|c| NewDelivery {
                    sink: crate::config::SinkKind::Telegram,
                    target: c.to_string(),
                });
                match responder.language_of(from.as_ref()) {
                    Language::Ja => format!("brokerwatch: この操作を反映できませんでした: {e}"),
                    Language::En => format!("brokerwatch could not apply that: {e}"),
                }
            }
        };
        wake.notify_one();
        let Some(t) = &telegram else {
            println!("{reply}");
            continue;
        };
        let chats: Vec<i64> = match chat {
            Some(c) => vec![c],
            None if matches!(r, Response::NotMe { .. }) => t.chats().to_vec(),
            None => Vec::new(),
        };
        for c in chats {
            if let Err(e) = t.reply(c, &reply).await {
                tracing::warn!(chat_id = c, "cannot send the reply: {e}");
            }
        }
    }
}

/// The reply to an answer about an alert that is not (or no longer) waiting for one.
fn gone(id: i64, lang: Language) -> String {
    match lang {
        Language::Ja => format!("アラート #{id} は存在しないか、すでに確認済みです。"),
        Language::En => format!("Alert #{id} does not exist or was already acknowledged."),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    /// A reply reads in the language of the recipient whose chat asked; a chat of no recipient
    /// (and the desktop) gets the config's.
    #[test]
    fn a_reply_is_in_the_language_of_the_person_who_asked() {
        let cfg = crate::config::load_str(
            "language: ja\n\
             sinks:\n  telegram: {token: {env: BW_UNSET}, chat_ids: [7]}\n\
             recipients:\n  - {name: Hanako, telegram: 42, language: en}\n",
            "t",
            std::path::Path::new("/"),
        )
        .unwrap_or_else(|p| panic!("{p}"));
        let responder = Responder {
            store: Store::open_memory().unwrap(),
            live: Live::new(Arc::new(cfg), Arc::default()),
        };
        let ack = Response::Ack {
            alert_id: 99,
            by: "x".into(),
        };
        let reply = |chat| responder.handle_from(&ack, chat).unwrap();
        assert_eq!(reply(Some(42)), gone(99, Language::En));
        assert_eq!(reply(Some(7)), gone(99, Language::Ja));
        assert_eq!(reply(None), gone(99, Language::Ja));
    }
}
