//! The status report shared by `brokerwatch status` and Telegram `/status`: accounts and their
//! last successful check, unacknowledged alerts, pending deliveries, active expectations.

use crate::config::{AccountSource, Config};
use crate::store::{Store, StoreError, now};
use crate::units::format_duration;

/// A plain-text report.
pub fn report(cfg: &Config, store: &Store) -> Result<String, StoreError> {
    let t = now();
    let mut out = String::new();
    let health = store.sources()?;
    out.push_str("Accounts:\n");
    if cfg.accounts.is_empty() {
        out.push_str("  (none configured)\n");
    }
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
                .map(|at| format!("last successful check {} ago", ago(t, at)))
                .unwrap_or_else(|| "never checked successfully".into());
            let err = h
                .and_then(|h| h.last_error.as_ref().zip(h.last_error_at))
                .filter(|(_, at)| h.and_then(|h| h.last_ok).is_none_or(|ok| *at > ok))
                .map(|(e, at)| format!("; failing since {} ago: {e}", ago(t, at)))
                .unwrap_or_default();
            out.push_str(&format!("  {}/{b}: {ok}{err}\n", a.name));
        }
    }
    let unacked = store.unacked_alerts()?;
    out.push_str(&format!("Unacknowledged alerts: {}\n", unacked.len()));
    if let Some(l) = &cfg.sinks.line {
        out.push_str(&crate::alert::line::status_line(l, store)?);
    }
    for a in unacked.iter().take(20) {
        out.push_str(&format!(
            "  #{} [{}] {} ({} ago{})\n",
            a.id,
            a.severity,
            a.title,
            ago(t, a.created_at),
            if a.not_me_at.is_some() {
                ", answered NOT ME"
            } else {
                ""
            }
        ));
    }
    let pending = store.pending_deliveries()?;
    if pending.is_empty() {
        out.push_str("Pending deliveries: none\n");
    } else {
        out.push_str("Pending deliveries:\n");
        for (sink, n, err) in pending {
            out.push_str(&format!(
                "  {sink}: {n}{}\n",
                err.map(|e| format!(" (last error: {e})"))
                    .unwrap_or_default()
            ));
        }
    }
    let exp = store.active_expectations(t)?;
    out.push_str(&format!("Active expectations: {}\n", exp.len()));
    for e in exp {
        out.push_str(&format!(
            "  #{} {} {} for {} more{}\n",
            e.id,
            e.broker,
            e.event,
            format_duration(std::time::Duration::from_secs((e.until - t).max(0) as u64)),
            e.note.map(|n| format!(" ({n})")).unwrap_or_default()
        ));
    }
    if let Some(until) = store
        .kv_get("mute_until")?
        .and_then(|v| v.parse::<i64>().ok())
        && until > t
    {
        out.push_str(&format!(
            "Repeats muted for {} more\n",
            format_duration(std::time::Duration::from_secs((until - t) as u64))
        ));
    }
    Ok(out)
}

fn ago(now: i64, at: i64) -> String {
    format_duration(std::time::Duration::from_secs((now - at).max(0) as u64))
}
