//! The status report shared by `brokerwatch status` and Telegram `/status`: accounts and their
//! last successful check, unacknowledged alerts, pending deliveries, active expectations.

use crate::alert::language::Language;
use crate::alert::wording;
use crate::config::{AccountSource, Config};
use crate::event::Severity;
use crate::store::{Store, StoreError, now};
use crate::units::format_duration;

/// A plain-text report, in the configured language.
pub fn report(cfg: &Config, store: &Store) -> Result<String, StoreError> {
    let t = now();
    let lang = cfg.language;
    let mut out = accounts(cfg, store, t)?;
    out.push_str(&unacked(cfg, store, t)?);
    out.push_str(&crate::alert::quiet::status_lines(cfg, store, t)?);
    out.push_str(&pending(lang, store)?);
    out.push_str(&expectations(lang, store, t)?);
    out.push_str(&muted(lang, store, t)?);
    Ok(out)
}

/// Each watched mailbox with its last successful check and, when it is failing, since when.
fn accounts(cfg: &Config, store: &Store, t: i64) -> Result<String, StoreError> {
    let lang = cfg.language;
    let mut out = String::from(lang.pick("監視中のアカウント:\n", "Accounts:\n"));
    if cfg.accounts.is_empty() {
        out.push_str(lang.pick("  （設定されていません）\n", "  (none configured)\n"));
    }
    let health = store.sources()?;
    for a in &cfg.accounts {
        let boxes: Vec<String> = match &a.source {
            AccountSource::Imap(i) => i.mailboxes.clone(),
            AccountSource::Maildir(_) => vec![crate::source::maildir::MAILBOX.into()],
        };
        for b in boxes {
            let h = health
                .iter()
                .find(|h| h.mailbox.account == a.name && h.mailbox.mailbox == b);
            let ok = h
                .and_then(|h| h.last_ok)
                .map(|at| match lang {
                    Language::Ja => format!("最後に確認できたのは{}前", ago(lang, t, at)),
                    Language::En => format!("last successful check {} ago", ago(lang, t, at)),
                })
                .unwrap_or_else(|| {
                    lang.pick("まだ一度も確認できていません", "never checked successfully")
                        .into()
                });
            let err = h
                .and_then(|h| h.last_error.as_ref().zip(h.last_error_at))
                .filter(|(_, at)| h.and_then(|h| h.last_ok).is_none_or(|ok| *at > ok))
                .map(|(e, at)| match lang {
                    Language::Ja => format!("。{}前から失敗しています: {e}", ago(lang, t, at)),
                    Language::En => format!("; failing since {} ago: {e}", ago(lang, t, at)),
                })
                .unwrap_or_default();
            out.push_str(&format!("  {}/{b}: {ok}{err}\n", a.name));
        }
    }
    Ok(out)
}

/// The count of unacknowledged alerts, LINE's remaining budget, and the first 20 alerts.
fn unacked(cfg: &Config, store: &Store, t: i64) -> Result<String, StoreError> {
    let lang = cfg.language;
    let unacked = store.unacked_alerts()?;
    let mut out = format!(
        "{}: {}\n",
        lang.pick("未確認のアラート", "Unacknowledged alerts"),
        unacked.len()
    );
    if let Some(l) = &cfg.sinks.line {
        out.push_str(&crate::alert::line::status_line(l, store, lang)?);
    }
    for a in unacked.iter().take(20) {
        let not_me = a.not_me_at.is_some();
        out.push_str(&match lang {
            Language::Ja => format!(
                "  #{} [{}] {}（{}前{}）\n",
                a.id,
                severity_ja(a.severity),
                a.title,
                ago(lang, t, a.created_at),
                if not_me {
                    "、「身に覚えがない」と回答済み"
                } else {
                    ""
                }
            ),
            Language::En => format!(
                "  #{} [{}] {} ({} ago{})\n",
                a.id,
                a.severity,
                a.title,
                ago(lang, t, a.created_at),
                if not_me { ", answered NOT ME" } else { "" }
            ),
        });
    }
    Ok(out)
}

/// Deliveries still waiting, per sink, with the last error each met.
fn pending(lang: Language, store: &Store) -> Result<String, StoreError> {
    let pending = store.pending_deliveries()?;
    if pending.is_empty() {
        return Ok(lang
            .pick("送信待ちの通知: なし\n", "Pending deliveries: none\n")
            .into());
    }
    let mut out = String::from(lang.pick("送信待ちの通知:\n", "Pending deliveries:\n"));
    for (sink, n, err) in pending {
        out.push_str(&format!(
            "  {sink}: {n}{}\n",
            err.map(|e| match lang {
                Language::Ja => format!("（直近のエラー: {e}）"),
                Language::En => format!(" (last error: {e})"),
            })
            .unwrap_or_default()
        ));
    }
    Ok(out)
}

/// Active `expect` windows and how long each has left.
fn expectations(lang: Language, store: &Store, t: i64) -> Result<String, StoreError> {
    let exp = store.active_expectations(t)?;
    let mut out = format!(
        "{}: {}\n",
        lang.pick("有効な予定", "Active expectations"),
        exp.len()
    );
    for e in exp {
        let left = std::time::Duration::from_secs((e.until - t).max(0) as u64);
        out.push_str(&match lang {
            Language::Ja => format!(
                "  #{} {} {}（残り{}）{}\n",
                e.id,
                e.broker,
                e.event,
                wording::duration(lang, left),
                e.note.map(|n| format!("（{n}）")).unwrap_or_default()
            ),
            Language::En => format!(
                "  #{} {} {} for {} more{}\n",
                e.id,
                e.broker,
                e.event,
                format_duration(left),
                e.note.map(|n| format!(" ({n})")).unwrap_or_default()
            ),
        });
    }
    Ok(out)
}

/// A line while repeats are muted (`/mute`), with the time left.
fn muted(lang: Language, store: &Store, t: i64) -> Result<String, StoreError> {
    let Some(until) = store
        .kv_get("mute_until")?
        .and_then(|v| v.parse::<i64>().ok())
        .filter(|until| *until > t)
    else {
        return Ok(String::new());
    };
    let left = std::time::Duration::from_secs((until - t) as u64);
    Ok(match lang {
        Language::Ja => format!("再通知を停止中（残り{}）\n", wording::duration(lang, left)),
        Language::En => format!("Repeats muted for {} more\n", format_duration(left)),
    })
}

/// A severity as the Japanese texts name it.
pub fn severity_ja(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "緊急",
        Severity::Warning => "警告",
        Severity::Info => "情報",
        Severity::None => "なし",
    }
}

fn ago(lang: Language, now: i64, at: i64) -> String {
    wording::duration(
        lang,
        std::time::Duration::from_secs((now - at).max(0) as u64),
    )
}
