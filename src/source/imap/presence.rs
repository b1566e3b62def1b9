//! Mailbox tampering check: are these notices still there, and did another client mark them
//! read? One read-only connection (EXAMINE, `UID FETCH (FLAGS)`), then LOGOUT.

use std::collections::BTreeMap;

use async_imap::types::Flag;

use super::connect;
use super::{ImapError, Timeouts, prepare, sync, with_timeout};
use crate::config::ImapAccount;

/// What the server says of one notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// Still there; `seen`: some client set \Seen (brokerwatch itself only ever PEEKs).
    Present { seen: bool },
    /// Expunged, or the mailbox was recreated (UIDVALIDITY changed) so the UID means nothing.
    Gone,
}

/// The presence of each UID (under `uidvalidity`) in `mailbox`.
pub async fn presence(
    cfg: &ImapAccount,
    mailbox: &str,
    uidvalidity: u32,
    uids: &[u32],
    t: &Timeouts,
) -> Result<BTreeMap<u32, Presence>, ImapError> {
    let tls = prepare(cfg)?;
    let mut session = connect::connect(cfg, &tls, t).await?;
    let mb = super::folder::examine(&mut session, mailbox, t).await?;
    let mut out: BTreeMap<u32, Presence> = uids.iter().map(|u| (*u, Presence::Gone)).collect();
    if mb.uid_validity == Some(uidvalidity) && !uids.is_empty() {
        let mut sorted = uids.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        for f in sync::fetch(&mut session, &sorted, "(UID FLAGS)", t).await? {
            if let Some(uid) = f.uid {
                let seen = f.flags().any(|fl| fl == Flag::Seen);
                out.insert(uid, Presence::Present { seen });
            }
        }
    }
    let _ = with_timeout(t.command, "LOGOUT", session.logout()).await;
    Ok(out)
}
