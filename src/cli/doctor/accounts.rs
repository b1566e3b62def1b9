//! `doctor` for each account: an IMAP login (TLS, sign-in, every watched mailbox, whether our
//! server's Authentication-Results can be trusted for the brokers' mail) or a Maildir's folders.

use std::time::Duration;

use super::Report;
use crate::config::{AccountSource, Config, ImapAccount, MaildirAccount};
use crate::source::imap::{self, Timeouts, folder};

/// Bounds for the IMAP check (shorter than the daemon's: someone is waiting).
const IMAP_TIMEOUTS: Timeouts = Timeouts {
    connect: Duration::from_secs(15),
    command: Duration::from_secs(30),
};

/// Each account: an IMAP login, or a Maildir; none at all is a failure.
pub(super) async fn check_accounts(cfg: &Config, r: &mut Report) {
    if cfg.accounts.is_empty() {
        r.fail("accounts", "none configured: nothing would be watched");
    }
    for a in &cfg.accounts {
        match &a.source {
            AccountSource::Imap(i) => check_imap(&a.name, i, cfg, r).await,
            AccountSource::Maildir(m) => check_maildir(&a.name, m, r),
        }
    }
}

async fn check_imap(name: &str, cfg: &ImapAccount, whole: &Config, r: &mut Report) {
    let what = format!("imap {name}");
    let probe = match imap::probe(cfg, &IMAP_TIMEOUTS).await {
        Ok(p) => p,
        Err(e) => return r.fail(&what, e),
    };
    let mut boxes = Vec::new();
    for (mailbox, result) in &probe.mailboxes {
        match result {
            Ok(n) => boxes.push(format!("{mailbox} ({n} messages)")),
            Err(e) => r.fail(
                &format!("imap {name}/{mailbox}"),
                format!("{e}{}", did_you_mean(mailbox, &probe.listed)),
            ),
        }
    }
    if whole.authserv_auto {
        auto_sender_checks(name, &probe.recent_headers, whole, r);
    } else {
        sender_checks(name, &probe.recent_headers, &whole.authserv_ids, r);
    }
    if !probe.listed.is_empty() {
        let names: Vec<String> = probe.listed.iter().map(listed_name).collect();
        r.ok(&format!("imap {name} mailboxes"), names.join(", "));
    }
    r.ok(
        &what,
        format!(
            "logged in to {}:{} as {} over {}; {}; {}",
            cfg.host,
            cfg.port,
            cfg.username,
            if probe.tls {
                "TLS"
            } else {
                "plaintext (loopback)"
            },
            if probe.idle {
                "IDLE"
            } else {
                "no IDLE: polling"
            },
            if boxes.is_empty() {
                "no mailbox examined".into()
            } else {
                boxes.join(", ")
            },
        ),
    );
}

/// Proposes the authserv-id the account's own server writes on recent mail (sender checks
/// are off without one). Shown per account; the config setting is global.
fn sender_checks(name: &str, headers: &[Vec<u8>], trusted: &[String], r: &mut Report) {
    let what = format!("sender checks {name}");
    let learned = crate::assess::authserv::learn(headers.iter().map(Vec::as_slice));
    if !trusted.is_empty() {
        match learned {
            Some(l) if !trusted.iter().any(|t| t.eq_ignore_ascii_case(&l.id)) => r.skip(
                &what,
                &format!(
                    "recent mail was checked by `{}` ({} of {}), which is not in `authserv_ids`",
                    l.id, l.seen, l.of
                ),
            ),
            _ => r.ok(&what, format!("trusting {}", trusted.join(", "))),
        }
        return;
    }
    match learned {
        Some(l) => r.ok(
            &what,
            format!(
                "your server writes Authentication-Results as `{}` ({} of {} recent mails that have them); \
                 put `authserv_ids: [{}]` in the config to verify senders",
                l.id, l.seen, l.of, l.id
            ),
        ),
        None => r.skip(
            &what,
            &format!(
                "authenticity unknown: no authserv-id written consistently above the server's own \
                 Received in {} recent mails; senders are not verified",
                headers.len()
            ),
        ),
    }
}

/// `authserv_ids: auto`: what the daemon learned (state database) and what recent mail says now.
fn auto_sender_checks(name: &str, headers: &[Vec<u8>], cfg: &Config, r: &mut Report) {
    let what = format!("sender checks {name}");
    let stored = crate::store::Store::open_existing(&cfg.db_path())
        .ok()
        .flatten()
        .and_then(|s| crate::daemon::authserv::stored(&s));
    let now = crate::assess::authserv::learn(headers.iter().map(Vec::as_slice));
    match (stored, now) {
        (Some(s), Some(n)) if s.id == n.id => r.ok(
            &what,
            format!(
                "trusting `{}` (authserv_ids: auto; learned from {} of {} recent mails, and recent mail agrees: {} of {})",
                s.id, s.seen, s.of, n.seen, n.of
            ),
        ),
        (Some(s), other) => r.skip(
            &what,
            &format!(
                "the daemon trusts `{}` (authserv_ids: auto, learned from {} of {} recent mails), but recent mail here {}",
                s.id,
                s.seen,
                s.of,
                other.map_or("shows no consistent authserv-id".to_string(), |n| format!(
                    "was checked by `{}` ({} of {})",
                    n.id, n.seen, n.of
                ))
            ),
        ),
        (None, Some(n)) => r.ok(
            &what,
            format!(
                "authserv_ids: auto: the daemon will learn `{}` ({} of {} recent mails that have Authentication-Results)",
                n.id, n.seen, n.of
            ),
        ),
        (None, None) => r.skip(
            &what,
            &format!(
                "authenticity unknown: `authserv_ids: auto` finds no authserv-id written consistently \
                 above the server's own Received in {} recent mails; senders are not verified",
                headers.len()
            ),
        ),
    }
}

/// "; did you mean `X`?" when a configured mailbox is not on the server but a close one is.
fn did_you_mean(wanted: &str, listed: &[folder::Listed]) -> String {
    if listed.is_empty() || folder::exists(wanted, listed) {
        return String::new();
    }
    match folder::closest(wanted, listed) {
        Some(near) => format!("; the server has no such mailbox: did you mean `{near}`?"),
        None => "; the server has no such mailbox".into(),
    }
}

fn listed_name(l: &folder::Listed) -> String {
    match l.special_use {
        Some(attr) => format!("{} ({attr})", l.name),
        None => l.name.clone(),
    }
}

fn check_maildir(name: &str, cfg: &MaildirAccount, r: &mut Report) {
    let what = format!("maildir {name}");
    for sub in ["new", "cur"] {
        let dir = cfg.path.join(sub);
        if let Err(e) = std::fs::read_dir(&dir) {
            return r.fail(&what, format!("cannot read {}: {e}", dir.display()));
        }
    }
    r.ok(
        &what,
        format!("{} (new/ and cur/ readable)", cfg.path.display()),
    );
}
