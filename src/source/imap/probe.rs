//! A connection check for `brokerwatch doctor`: TCP, TLS (or STARTTLS), greeting and LOGIN, then
//! EXAMINE of each configured mailbox (read-only: it changes no flag and fetches no message) and
//! LOGOUT. Nothing is handed to the pipeline and no checkpoint is read or written.

use super::connect::{self, ImapSession};
use super::{ImapError, Timeouts, prepare, proto, with_timeout};
use super::{folder, sync};
use crate::config::{ImapAccount, TlsMode};

/// What the server answered.
#[derive(Debug)]
pub struct Probe {
    /// The transport was TLS (implicit or STARTTLS); false only for `tls: none` on loopback.
    pub tls: bool,
    /// The server offers IDLE (otherwise the watcher polls every `poll_interval`).
    pub idle: bool,
    /// Each configured mailbox with its message count, or why it could not be examined.
    pub mailboxes: Vec<(String, Result<u32, ImapError>)>,
    /// Authentication-Results and Received of the most recent mail in each examined mailbox
    /// (in header order), for learning the receiving server's authserv-id.
    pub recent_headers: Vec<Vec<u8>>,
    /// Every mailbox the server lists (empty if LIST failed), for "did you mean …?".
    pub listed: Vec<folder::Listed>,
}

/// Connects and logs in as the account would, examines its mailboxes, and logs out.
///
/// `Err` when the server cannot be reached, TLS fails, or the login is refused (the password
/// is read from its source now, so an unreadable secret is reported here too).
pub async fn probe(cfg: &ImapAccount, t: &Timeouts) -> Result<Probe, ImapError> {
    let tls = prepare(cfg)?;
    let mut session = connect::connect(cfg, &tls, t).await?;
    let caps = with_timeout(t.command, "CAPABILITY", session.capabilities())
        .await?
        .map_err(proto("CAPABILITY"))?;
    let idle = caps.has_str("IDLE");
    let listed = folder::list(&mut session, t).await.unwrap_or_else(|e| {
        tracing::debug!("LIST: {e}");
        Vec::new()
    });
    let mut mailboxes = Vec::with_capacity(cfg.mailboxes.len());
    let mut recent_headers = Vec::new();
    for name in &cfg.mailboxes {
        let r = examine(&mut session, name, t).await;
        if r.is_ok() {
            recent_headers.extend(recent(&mut session, t).await?);
        }
        let fatal = matches!(&r, Err(e) if !e.is_mailbox_refused());
        mailboxes.push((name.clone(), r));
        if fatal {
            // The connection state is unknown after anything but a refused EXAMINE.
            break;
        }
    }
    // Best effort: the check is over either way.
    let _ = with_timeout(t.command, "LOGOUT", session.logout()).await;
    Ok(Probe {
        tls: cfg.tls != TlsMode::None,
        idle,
        mailboxes,
        recent_headers,
        listed,
    })
}

/// Messages per mailbox whose headers are read for the authserv-id.
const RECENT: usize = 30;

/// The trace headers of the newest [`RECENT`] messages of the examined mailbox (PEEK: no flag
/// changes).
async fn recent(session: &mut ImapSession, t: &Timeouts) -> Result<Vec<Vec<u8>>, ImapError> {
    let uids = sync::search(session, "ALL", t).await?;
    let newest = &uids[uids.len().saturating_sub(RECENT)..];
    if newest.is_empty() {
        return Ok(Vec::new());
    }
    let items = "(UID BODY.PEEK[HEADER.FIELDS (AUTHENTICATION-RESULTS RECEIVED)])";
    let fetched = sync::fetch(session, newest, items, t).await?;
    Ok(fetched
        .iter()
        .filter_map(|f| f.header().map(<[u8]>::to_vec))
        .collect())
}

async fn examine(session: &mut ImapSession, name: &str, t: &Timeouts) -> Result<u32, ImapError> {
    Ok(folder::examine(session, name, t).await?.exists)
}
