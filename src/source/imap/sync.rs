//! Bringing the handler up to date with one selected mailbox: EXAMINE, checkpoint / first-run /
//! UIDVALIDITY decisions; the batched header-then-body fetch is `sync/fetch.rs`.

mod fetch;

pub(super) use fetch::fetch;
pub(crate) use fetch::process_uids;

use super::connect::ImapSession;
use super::{ImapError, Timeouts, WatchOptions, proto, with_timeout};
use crate::source::{Checkpoint, MailHandler, MailboxId};

/// What one mailbox sync needs besides the session.
pub(crate) struct SyncCtx<'a> {
    pub handler: &'a dyn MailHandler,
    pub mailbox: &'a MailboxId,
    pub opts: &'a WatchOptions,
    /// The watcher's: a backlog judged on its own thread stops fetching when it fires (the
    /// watcher's own `select!` cannot interrupt that thread).
    pub shutdown: Option<&'a tokio_util::sync::CancellationToken>,
}

/// Where this connection stands: everything up to `last_uid` is with the handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cursor {
    pub uidvalidity: u32,
    pub last_uid: u32,
}

/// EXAMINEs the mailbox and returns its UIDVALIDITY and UIDNEXT.
pub(crate) async fn examine(
    session: &mut ImapSession,
    ctx: &SyncCtx<'_>,
) -> Result<(u32, u32), ImapError> {
    let t = &ctx.opts.timeouts;
    let name = ctx.mailbox.mailbox.as_str();
    let mb = super::folder::examine(session, name, t).await?;
    let uidvalidity = mb
        .uid_validity
        .ok_or_else(|| ImapError::NoUidValidity(name.to_string()))?;
    let uidnext = match mb.uid_next {
        Some(n) => n,
        // NOTE: UIDNEXT is required in the SELECT/EXAMINE reply, but some servers omit it on
        // an empty mailbox; the highest UID + 1 is then equivalent.
        None => search(session, "ALL", t).await?.last().map_or(1, |u| u + 1),
    };
    Ok((uidvalidity, uidnext))
}

/// Opens the mailbox against the handler's checkpoint: first run, UIDVALIDITY change, or resume.
/// Returns the cursor after a full catch-up, and how many messages went to the handler.
pub(crate) async fn open(
    session: &mut ImapSession,
    ctx: &SyncCtx<'_>,
) -> Result<(Cursor, usize), ImapError> {
    let (uidvalidity, uidnext) = examine(session, ctx).await?;
    let checkpoint = ctx
        .handler
        .checkpoint(ctx.mailbox)
        .map_err(ImapError::Handler)?;
    let mut handed = 0;
    let mut cursor = match checkpoint {
        None => {
            let (cursor, n) = first_run(session, ctx, uidvalidity, uidnext).await?;
            handed = n;
            cursor
        }
        Some(Checkpoint::Imap {
            uidvalidity: v,
            last_uid,
        }) if v == uidvalidity => Cursor {
            uidvalidity,
            last_uid,
        },
        Some(Checkpoint::Imap { uidvalidity: v, .. }) => {
            tracing::warn!(mailbox = %ctx.mailbox, old = v, new = uidvalidity,
                "UIDVALIDITY changed: rescanning the mailbox");
            ctx.handler
                .reset(ctx.mailbox, uidvalidity)
                .map_err(ImapError::Handler)?;
            Cursor {
                uidvalidity,
                last_uid: 0,
            }
        }
        Some(Checkpoint::Maildir) => return Err(ImapError::WrongCheckpoint),
    };
    handed += catch_up(session, ctx, &mut cursor).await?;
    Ok((cursor, handed))
}

/// First run: mail from the lookback window goes to the handler with `first_run_since` (recorded,
/// alerts only if young enough); older mail is skipped by the baseline at UIDNEXT - 1.
async fn first_run(
    session: &mut ImapSession,
    ctx: &SyncCtx<'_>,
    uidvalidity: u32,
    uidnext: u32,
) -> Result<(Cursor, usize), ImapError> {
    let since = crate::units::now() - ctx.opts.first_run_lookback.as_secs() as i64;
    let mut cursor = Cursor {
        uidvalidity,
        last_uid: 0,
    };
    // NOTE: SEARCH SINCE compares dates only, in the server's time zone: ask one day earlier
    // and let the handler judge `received_at` against `since` exactly.
    let query = format!("SINCE {}", imap_date(since - 86_400));
    let mut uids = search(session, &query, &ctx.opts.timeouts).await?;
    uids.retain(|&u| u < uidnext);
    tracing::info!(mailbox = %ctx.mailbox, recent = uids.len(), "first run: taking a baseline");
    process_uids(session, ctx, &mut cursor, &uids, Some(since)).await?;
    let baseline = Checkpoint::Imap {
        uidvalidity,
        last_uid: uidnext.saturating_sub(1),
    };
    ctx.handler
        .set_baseline(ctx.mailbox, baseline)
        .map_err(ImapError::Handler)?;
    cursor.last_uid = uidnext.saturating_sub(1);
    Ok((cursor, uids.len()))
}

/// Hands every message above the cursor to the handler; returns how many there were.
pub(crate) async fn catch_up(
    session: &mut ImapSession,
    ctx: &SyncCtx<'_>,
    cursor: &mut Cursor,
) -> Result<usize, ImapError> {
    let first = cursor.last_uid.saturating_add(1);
    let mut uids = search(session, &format!("UID {first}:*"), &ctx.opts.timeouts).await?;
    // NOTE: `N:*` always matches the highest UID, even when it is below N.
    uids.retain(|&u| u > cursor.last_uid);
    if !uids.is_empty() {
        tracing::debug!(mailbox = %ctx.mailbox, count = uids.len(), "catching up");
    }
    process_uids(session, ctx, cursor, &uids, None).await?;
    Ok(uids.len())
}

/// UIDs from an arbitrary `UID SEARCH`, ascending.
pub(crate) async fn search(
    session: &mut ImapSession,
    query: &str,
    t: &Timeouts,
) -> Result<Vec<u32>, ImapError> {
    let found = with_timeout(t.command, "UID SEARCH", session.uid_search(query))
        .await?
        .map_err(proto("UID SEARCH"))?;
    let mut uids: Vec<u32> = found.into_iter().collect();
    uids.sort_unstable();
    Ok(uids)
}

/// A compact IMAP sequence set for ascending UIDs: `1:3,7,9:10`.
pub(crate) fn uid_set(uids: &[u32]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < uids.len() {
        let start = uids[i];
        let mut end = start;
        while i + 1 < uids.len() && uids[i + 1] == end.wrapping_add(1) {
            i += 1;
            end = uids[i];
        }
        if !out.is_empty() {
            out.push(',');
        }
        if start == end {
            out.push_str(&start.to_string());
        } else {
            out.push_str(&format!("{start}:{end}"));
        }
        i += 1;
    }
    out
}

/// An IMAP `date` (RFC 3501 `SEARCH SINCE`) for epoch seconds, in UTC: `7-Mar-2024`.
pub(crate) fn imap_date(epoch: i64) -> String {
    chrono::DateTime::from_timestamp(epoch, 0)
        .unwrap_or_default()
        .format("%-d-%b-%Y")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_sets_are_compact() {
        assert_eq!(uid_set(&[]), "");
        assert_eq!(uid_set(&[5]), "5");
        assert_eq!(uid_set(&[1, 2, 3, 7, 9, 10]), "1:3,7,9:10");
        assert_eq!(
            uid_set(&[u32::MAX - 1, u32::MAX]),
            format!("{}:{}", u32::MAX - 1, u32::MAX)
        );
    }

    #[test]
    fn imap_dates() {
        assert_eq!(imap_date(0), "1-Jan-1970");
        assert_eq!(imap_date(951_782_400), "29-Feb-2000");
        assert_eq!(imap_date(1_709_769_600 + 3_600), "7-Mar-2024");
        assert_eq!(imap_date(-1), "31-Dec-1969");
    }
}
