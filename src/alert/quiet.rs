//! Quiet hours and the messages that are not an alert's own rounds.
//!
//! In quiet hours a warning or info alert to a person (Telegram, ntfy, the desktop) is held
//! instead of sent; when the window is over each target gets one summary listing what was held
//! and not acknowledged meanwhile. Critical alerts never wait. Held deliveries are rows in the
//! store, so a restart loses none. The "acknowledged by" notice is rendered here too.

use std::time::Duration;

use chrono::{DateTime, FixedOffset, Local, NaiveTime, TimeZone, Utc};

use super::language::Language;
use super::{AlertMessage, recipients};
use crate::config::{Config, QuietHours, SinkKind};
use crate::event::Severity;
use crate::store::{ACK_NOTICE, AlertRow, DeliveryRow, SUMMARY, Store, StoreError};

impl QuietHours {
    /// The time of day at `at` (epoch seconds) on this window's clock.
    fn clock(&self, at: i64) -> NaiveTime {
        let utc = DateTime::<Utc>::from_timestamp(at, 0).unwrap_or_default();
        match self.utc_offset {
            Some(o) => utc.with_timezone(&o).time(),
            None => utc.with_timezone(&Local).time(),
        }
    }

    /// Whether `at` is inside the window (`from` inclusive, `to` exclusive; a window that
    /// crosses midnight, 22:00–07:00, is the usual case).
    pub fn contains(&self, at: i64) -> bool {
        let t = self.clock(at);
        if self.from < self.to {
            self.from <= t && t < self.to
        } else {
            t >= self.from || t < self.to
        }
    }

    /// How long from `at` until the window ends; None when `at` is outside it.
    pub fn remaining(&self, at: i64) -> Option<Duration> {
        if !self.contains(at) {
            return None;
        }
        let secs = (self.to - self.clock(at)).num_seconds().rem_euclid(86_400);
        Some(Duration::from_secs(secs.max(1) as u64))
    }
}

/// Sinks that make a person's phone or screen go off, and so keep quiet hours.
pub fn keeps_quiet(sink: SinkKind) -> bool {
    match sink {
        SinkKind::Telegram
        | SinkKind::Ntfy
        | SinkKind::Desktop
        | SinkKind::Line
        | SinkKind::Pushover => true,
        SinkKind::Console | SinkKind::Command | SinkKind::Webhook => false,
    }
}

/// Whether this delivery waits for the end of quiet hours.
pub fn holds(config: &Config, alert: &AlertRow, d: &DeliveryRow, at: i64) -> bool {
    let Some(q) = &config.quiet_hours else {
        return false;
    };
    d.round >= 0 && alert.severity < Severity::Critical && keeps_quiet(d.sink) && q.contains(at)
}

/// The message of a delivery that is not one of the alert's rounds (an "acknowledged by"
/// notice or a summary); None: nothing is left to say (every held alert was acknowledged).
pub fn special_message(
    store: &Store,
    config: &Config,
    alert: &AlertRow,
    d: &DeliveryRow,
) -> Result<Option<AlertMessage>, StoreError> {
    let lang = recipients::language_of(config, d.sink, &d.target);
    Ok(match d.round {
        ACK_NOTICE => Some(ack_notice(alert, lang)),
        SUMMARY => {
            let offset = config.quiet_hours.and_then(|q| q.utc_offset);
            summary(d, &store.held_for(d)?, lang, offset)
        }
        _ => None,
    })
}

/// "✅ #12 acknowledged by Hanako" for the people who got alert #12.
pub fn ack_notice(alert: &AlertRow, lang: Language) -> AlertMessage {
    let by = alert.acked_by.as_deref().unwrap_or("?");
    let title = match lang {
        Language::Ja => format!("✅ {by}さんが確認済み（アラート #{}）", alert.id),
        Language::En => format!("✅ Acknowledged by {by} (alert #{})", alert.id),
    };
    let body = match lang {
        Language::Ja => format!(
            "{}\n\nこのアラートの再通知は止まりました。対応は不要です。",
            alert.title_in(lang)
        ),
        Language::En => format!(
            "{}\n\nRepeats of this alert have stopped; nothing more to do.",
            alert.title_in(lang)
        ),
    };
    AlertMessage {
        id: alert.id,
        kind: alert.kind,
        severity: Severity::Info,
        title,
        body,
        actionable: false,
    }
}

/// One message listing what quiet hours held for a target.
/// Times are shown on `offset`'s clock (quiet hours' own), else the local one.
pub fn summary(
    d: &DeliveryRow,
    held: &[AlertRow],
    lang: Language,
    offset: Option<FixedOffset>,
) -> Option<AlertMessage> {
    let newest = held.last()?;
    let n = held.len();
    let title = match lang {
        Language::Ja => format!("🌙 おやすみ中に届いた通知 {n}件"),
        Language::En => format!("🌙 {n} alert(s) held during quiet hours"),
    };
    let mut body = String::new();
    for a in held {
        let when = DateTime::<Utc>::from_timestamp(a.created_at, 0)
            .map(|t| clock_at(t, offset).format("%H:%M").to_string())
            .unwrap_or_default();
        body.push_str(&format!(
            "• #{} {when} [{}] {}\n",
            a.id,
            severity_word(a.severity, lang),
            a.title_in(lang)
        ));
    }
    if held.iter().any(|a| a.actionable) {
        body.push_str(lang.pick(
            "\n確認したものは /ack 番号 で知らせてください（例: /ack ",
            "\nAcknowledge with /ack ID (e.g. /ack ",
        ));
        body.push_str(&format!("{}){}", newest.id, lang.pick("。", ".")));
    }
    Some(AlertMessage {
        id: d.alert,
        kind: newest.kind,
        severity: held
            .iter()
            .map(|a| a.severity)
            .max()
            .unwrap_or(Severity::Info),
        title,
        body: body.trim_end().to_string(),
        actionable: false,
    })
}

fn severity_word(s: Severity, lang: Language) -> &'static str {
    match s {
        Severity::Critical => lang.pick("緊急", "critical"),
        Severity::Warning => lang.pick("注意", "warning"),
        _ => lang.pick("お知らせ", "info"),
    }
}

fn clock_at(t: DateTime<Utc>, offset: Option<FixedOffset>) -> DateTime<FixedOffset> {
    match offset {
        Some(o) => t.with_timezone(&o),
        None => Local.from_utc_datetime(&t.naive_utc()).fixed_offset(),
    }
}

/// How long until held deliveries can go: the rest of the window if it is on, else now.
pub fn release_in(config: &Config, store: &Store, at: i64) -> Result<Option<Duration>, StoreError> {
    if !store.has_held()? {
        return Ok(None);
    }
    Ok(Some(
        config
            .quiet_hours
            .as_ref()
            .and_then(|q| q.remaining(at))
            .unwrap_or(Duration::ZERO),
    ))
}

/// Queues the summaries when quiet hours are over (or no longer configured).
pub fn release(config: &Config, store: &Store, at: i64) -> Result<(), StoreError> {
    let quiet = config.quiet_hours.as_ref().is_some_and(|q| q.contains(at));
    if !quiet && store.has_held()? {
        let n = store.release_held()?;
        if n > 0 {
            tracing::info!(
                targets = n,
                "quiet hours over: sending the held alerts as summaries"
            );
        }
    }
    Ok(())
}

/// The `status` lines about quiet hours and the alerts they hold (none without either).
pub fn status_lines(config: &Config, store: &Store, at: i64) -> Result<String, StoreError> {
    let lang = config.language;
    let mut out = String::new();
    if let Some(q) = &config.quiet_hours {
        let (from, to) = (q.from.format("%H:%M"), q.to.format("%H:%M"));
        let now = if q.contains(at) {
            lang.pick("（現在おやすみ中）", " (on now)")
        } else {
            ""
        };
        out.push_str(&match lang {
            Language::Ja => format!("おやすみ時間: {from}〜{to}{now}\n"),
            Language::En => format!("Quiet hours: {from}–{to}{now}\n"),
        });
    }
    let held = store.held_alerts()?;
    if !held.is_empty() {
        out.push_str(&match lang {
            Language::Ja => format!("おやすみ時間のあとにまとめて送る通知: {}件\n", held.len()),
            Language::En => format!("Held for the quiet-hours summary: {}\n", held.len()),
        });
        for (a, targets) in held.iter().take(20) {
            out.push_str(&match lang {
                Language::Ja => format!(
                    "  #{} [{}] {}（送り先 {targets}件）\n",
                    a.id,
                    severity_word(a.severity, lang),
                    a.title
                ),
                Language::En => format!(
                    "  #{} [{}] {} (for {targets} target(s))\n",
                    a.id,
                    severity_word(a.severity, lang),
                    a.title
                ),
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(from: &str, to: &str) -> QuietHours {
        let t = |s: &str| NaiveTime::parse_from_str(s, "%H:%M").unwrap();
        QuietHours {
            from: t(from),
            to: t(to),
            utc_offset: FixedOffset::east_opt(9 * 3600),
        }
    }

    /// 2026-12-04 at hh:mm in Japan, as epoch seconds.
    fn jst(h: u32, m: u32) -> i64 {
        FixedOffset::east_opt(9 * 3600)
            .unwrap()
            .with_ymd_and_hms(2026, 12, 4, h, m, 0)
            .unwrap()
            .timestamp()
    }

    #[test]
    fn a_window_across_midnight_and_one_within_a_day() {
        let night = window("22:00", "07:00");
        assert!(night.contains(jst(23, 30)) && night.contains(jst(2, 0)));
        assert!(night.contains(jst(22, 0)) && !night.contains(jst(7, 0)));
        assert!(!night.contains(jst(12, 0)));
        assert_eq!(
            night.remaining(jst(23, 0)),
            Some(Duration::from_secs(8 * 3600))
        );
        assert_eq!(night.remaining(jst(6, 59)), Some(Duration::from_secs(60)));
        assert_eq!(night.remaining(jst(8, 0)), None);
        let lunch = window("12:00", "13:00");
        assert!(lunch.contains(jst(12, 30)) && !lunch.contains(jst(13, 30)));
        assert!(!lunch.contains(jst(11, 59)));
    }

    fn row(id: i64, severity: Severity, title: &str) -> AlertRow {
        AlertRow {
            id,
            created_at: jst(23, 5),
            kind: crate::alert::AlertKind::Unexpected,
            severity,
            broker: None,
            event: None,
            title: title.into(),
            body: String::new(),
            texts: Default::default(),
            actionable: true,
            round: 0,
            acked_at: None,
            acked_by: Some("Hanako".into()),
            snoozed_until: None,
            not_me_at: None,
        }
    }

    const JST: Option<FixedOffset> = FixedOffset::east_opt(9 * 3600);

    #[test]
    fn the_summary_lists_each_held_alert_in_the_recipients_language() {
        let d = DeliveryRow {
            alert: 9,
            sink: SinkKind::Telegram,
            target: "1".into(),
            round: SUMMARY,
            attempts: 0,
        };
        let held = [
            row(4, Severity::Warning, "SBI証券: ログイン"),
            row(9, Severity::Info, "楽天証券: 入金"),
        ];
        let ja = summary(&d, &held, Language::Ja, JST).unwrap();
        assert_eq!(ja.title, "🌙 おやすみ中に届いた通知 2件");
        assert!(
            ja.body.contains("• #4 23:05 ") && ja.body.contains("[注意] SBI証券: ログイン"),
            "{}",
            ja.body
        );
        assert!(ja.body.contains("/ack 9"), "{}", ja.body);
        assert_eq!(ja.severity, Severity::Warning);
        assert!(!ja.actionable);
        let en = summary(&d, &held, Language::En, JST).unwrap();
        assert!(en.title.contains("2 alert(s) held"), "{}", en.title);
        assert!(en.body.contains("[info] 楽天証券: 入金"), "{}", en.body);
        assert!(summary(&d, &[], Language::En, JST).is_none());
        let n = ack_notice(&held[0], Language::Ja);
        assert_eq!(n.title, "✅ Hanakoさんが確認済み（アラート #4）");
        assert!(
            ack_notice(&held[0], Language::En)
                .title
                .contains("Acknowledged by Hanako")
        );
    }
}
