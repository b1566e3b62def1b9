//! `accounts:`: each mailbox, IMAP or Maildir, with its defaults (ports, poll intervals, the
//! IDLE refresh) and the checks that keep a password off the network in clear text.

use std::path::Path;
use std::time::Duration;

use super::duration;
use crate::config::raw::{self, RawAccount};
use crate::config::values::{is_loopback, resolve_path, secret};
use crate::config::{Account, AccountSource, ImapAccount, ImapAuth, MaildirAccount, TlsMode};
use crate::yaml::{Collector, Loc};

const DEFAULT_POLL: Duration = Duration::from_secs(300);
const DEFAULT_IDLE_REFRESH: Duration = Duration::from_secs(25 * 60);
const DEFAULT_MAILDIR_POLL: Duration = Duration::from_secs(5);
/// RFC 2177: servers may drop an IDLE after 30 minutes; clients re-issue before 29.
const MAX_IDLE_REFRESH: Duration = Duration::from_secs(29 * 60);

pub(super) fn account(c: &mut Collector, a: RawAccount, base: &Path) -> Option<Account> {
    let name = a.name.value.trim().to_string();
    if name.is_empty() || name.contains('/') {
        c.error(
            a.name.loc,
            "an account name must be non-empty and contain no `/`",
        );
    }
    let poll = duration(c, a.poll_interval.as_ref());
    let source = match (a.imap, a.maildir) {
        (Some(imap), None) => AccountSource::Imap(imap_account(c, imap, &name, base)?),
        (None, Some(dir)) => AccountSource::Maildir(MaildirAccount {
            path: resolve_path(base, &dir.value),
            poll_interval: poll.unwrap_or(DEFAULT_MAILDIR_POLL),
        }),
        _ => {
            c.error(
                a.name.loc,
                format!("account `{name}` needs exactly one of `imap` or `maildir`"),
            );
            return None;
        }
    };
    Some(Account { name, source })
}

fn imap_account(
    c: &mut Collector,
    r: raw::RawImap,
    name: &str,
    base: &Path,
) -> Option<ImapAccount> {
    let tls = r.tls.unwrap_or(TlsMode::Implicit);
    if tls == TlsMode::None && !is_loopback(&r.host.value) {
        c.error(
            r.host.loc,
            format!(
                "`tls: none` is only allowed for a loopback host, not `{}`: the password would cross the network in clear text",
                r.host.value
            ),
        );
    }
    let idle_refresh = duration(c, r.idle_refresh.as_ref()).unwrap_or(DEFAULT_IDLE_REFRESH);
    if idle_refresh > MAX_IDLE_REFRESH || idle_refresh.is_zero() {
        let loc = r.idle_refresh.as_ref().map(|v| v.loc).unwrap_or(r.host.loc);
        c.error(loc, "`idle_refresh` must be between 1s and 29m (RFC 2177)");
    }
    let auth = match (r.password, r.auth) {
        (Some(p), None) => ImapAuth::Password(secret(c, &p, base)?),
        (None, Some(a)) => {
            ImapAuth::OAuth2(Box::new(crate::config::oauth2::compile(c, a, name, base)?))
        }
        _ => {
            c.error(
                r.host.loc,
                "an imap account needs exactly one of `password` or `auth: {oauth2: …}`",
            );
            return None;
        }
    };
    let mailboxes = if r.mailboxes.is_empty() {
        vec!["INBOX".to_string()]
    } else {
        r.mailboxes
    };
    Some(ImapAccount {
        port: r.port.unwrap_or(match tls {
            TlsMode::Implicit => 993,
            _ => 143,
        }),
        host: r.host.value,
        tls,
        username: r.username,
        auth,
        mailboxes,
        ca_file: r.ca_file.map(|p| resolve_path(base, &p)),
        poll_interval: duration(c, r.poll_interval.as_ref()).unwrap_or(DEFAULT_POLL),
        idle_refresh,
    })
}

pub(super) fn check_accounts(c: &mut Collector, accounts: &[Account], key: Loc) {
    let mut seen = std::collections::BTreeSet::new();
    for a in accounts {
        if !seen.insert(a.name.as_str()) {
            c.error(key, format!("account name `{}` is used twice", a.name));
        }
    }
}
