//! Mailbox tampering: an attacker who reads the victim's mailbox deletes the broker's notice or
//! marks it read before anyone notices. A notice brokerwatch alerted on that disappears, or is
//! marked read by another client, within `tamper_window` and before it was acknowledged raises
//! its own alert. brokerwatch itself never sets \Seen (it only PEEKs).

use std::collections::BTreeMap;
use std::sync::Arc;

use super::Services;
use crate::alert::language::Language;
use crate::alert::raise::Draft;
use crate::config::{AccountSource, Config};
use crate::event::Severity;
use crate::source::imap::Timeouts;
use crate::source::imap::presence::{Presence, presence};
use crate::store::{WatchedNotice, now};

/// (account, mailbox, UIDVALIDITY).
type MailboxAt = (String, String, u32);
/// (uid, alert id, broker).
type Notice = (u32, i64, Option<String>);

/// Whether any alerted notice is still within its tamper window and not yet reported.
pub fn watching(p: &Services) -> anyhow::Result<bool> {
    let since = now() - p.config().tamper_window.as_secs() as i64;
    for n in p.store.watched_notices(since)? {
        if p.store.kv_get(&format!("tamper:{}", n.alert))?.is_none() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// One pass: checks every watched notice and writes the tampering alerts it finds.
pub async fn check(p: &Services) -> anyhow::Result<usize> {
    let cfg: Arc<Config> = p.config();
    let timeouts = Timeouts {
        connect: std::time::Duration::from_secs(20),
        command: std::time::Duration::from_secs(30),
    };
    let mut raised = 0;
    for ((account, mailbox, v), notices) in unreported(p, &cfg)? {
        let Some(AccountSource::Imap(imap)) = cfg.account(&account).map(|a| &a.source) else {
            continue;
        };
        let uids: Vec<u32> = notices.iter().map(|n| n.0).collect();
        let found = match presence(imap, &mailbox, v, &uids, &timeouts).await {
            Ok(f) => f,
            Err(e) => {
                tracing::debug!(account = %account, "tamper check skipped: {e}");
                continue;
            }
        };
        for (uid, alert, broker) in notices {
            let found = found.get(&uid).copied();
            let draft = |lang| {
                let broker = broker.as_deref();
                tampered(p, found, alert, broker, &account, &mailbox, lang)
            };
            if draft(cfg.language).is_none() {
                continue;
            }
            p.store.kv_set(&format!("tamper:{alert}"), "1")?;
            p.raise_each(draft)?;
            raised += 1;
        }
    }
    Ok(raised)
}

/// The alerted notices within the tamper window that no tampering alert has named yet, grouped
/// by the mailbox (and UIDVALIDITY) they are in.
fn unreported(p: &Services, cfg: &Config) -> anyhow::Result<BTreeMap<MailboxAt, Vec<Notice>>> {
    let since = now() - cfg.tamper_window.as_secs() as i64;
    let mut groups: BTreeMap<MailboxAt, Vec<Notice>> = BTreeMap::new();
    for n in p.store.watched_notices(since)? {
        let WatchedNotice {
            alert,
            broker,
            account,
            mailbox,
            pos,
        } = n;
        if p.store.kv_get(&format!("tamper:{alert}"))?.is_some() {
            continue;
        }
        // A position that names no UIDVALIDITY and UID (a Maildir file) has nothing to look up.
        let mut parts = pos.splitn(3, ':').skip(1);
        let (Some(Ok(v)), Some(Ok(u))) = (
            parts.next().map(str::parse::<u32>),
            parts.next().map(str::parse::<u32>),
        ) else {
            continue;
        };
        groups
            .entry((account, mailbox, v))
            .or_default()
            .push((u, alert, broker));
    }
    Ok(groups)
}

/// The alert for a notice found gone or read by another client (None: nothing to tell), in the
/// language `lang`.
pub fn tampered(
    p: &Services,
    found: Option<Presence>,
    alert: i64,
    broker: Option<&str>,
    account: &str,
    mailbox: &str,
    lang: Language,
) -> Option<Draft> {
    let rules = p.rules();
    let name = broker
        .and_then(|b| rules.pack(b))
        .map_or(lang.pick("証券会社", "a broker").to_string(), |pk| {
            pk.name.clone()
        });
    let (severity, title, what) = match (found?, lang) {
        (Presence::Gone, Language::Ja) => (
            Severity::Critical,
            format!("{name}からの通知がメールボックスから削除されました"),
            "削除（または移動）されました",
        ),
        (Presence::Present { seen: true }, Language::Ja) => (
            Severity::Warning,
            format!("{name}からの通知が、別のメールソフトで既読にされました"),
            "既読にされました",
        ),
        (Presence::Gone, Language::En) => (
            Severity::Critical,
            format!("A notice from {name} was removed from your mailbox"),
            "was deleted (or moved) from",
        ),
        (Presence::Present { seen: true }, Language::En) => (
            Severity::Warning,
            format!("A notice from {name} was marked read by another mail client"),
            "was marked read in",
        ),
        (Presence::Present { seen: false }, _) => return None,
    };
    let body = match lang {
        Language::Ja => format!(
            "アラート #{alert} の通知が、届いてから数分のうちに、まだ誰も確認済みにしていない状態で {account}/{mailbox} から{what}。\n\
             ご自身の操作であれば、アラート #{alert} を確認済みにしてください。心当たりがなければ、第三者がメールを読んでいるおそれがあります。\
             メールのパスワードを変更し、メールボックスの転送設定とフィルタを確認したうえで、証券会社の公式アプリから口座の状態を確認してください。"
        ),
        Language::En => format!(
            "The notice of alert #{alert} {what} {account}/{mailbox} minutes after it arrived, before anyone acknowledged it.\n\
         If that was you, acknowledge alert #{alert}. If not, someone else may be reading your mailbox: \
         change your e-mail password, check the mailbox's forwarding and filter rules, and check your broker account from its official app."
        ),
    };
    Some(Draft {
        broker: broker.map(str::to_string),
        account: Some(account.to_string()),
        ..Draft::health(severity, title, body)
    })
}

/// Checks recently alerted notices for deletion or foreign \\Seen every `tamper_check`, for as
/// long as the daemon runs; with none to watch, waits for the next alert (`alerted`) rather than
/// ticking.
pub async fn run(s: Services, alerted: Arc<tokio::sync::Notify>) {
    loop {
        if matches!(watching(&s), Ok(false)) {
            alerted.notified().await;
        }
        tokio::time::sleep(s.config().tamper_check).await;
        if let Err(e) = check(&s).await {
            tracing::error!("tamper check failed: {e}");
        }
    }
}
