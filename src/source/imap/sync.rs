//! Bringing the handler up to date with one selected mailbox: EXAMINE, checkpoint / first-run /
//! UIDVALIDITY decisions, and the batched header-then-body fetch.

use std::collections::HashMap;

use async_imap::types::Fetch;
use futures::{Stream, StreamExt};

use super::connect::ImapSession;
use super::{ImapError, Timeouts, WatchOptions, proto, with_timeout};
use crate::source::{Checkpoint, MailHandler, MailboxId, Position, RawMessage};

/// The header fields the handler's candidate test sees, and all a non-candidate is judged by: it
/// claims no broker, so its authenticity (Authentication-Results, Received) is never asked; a
/// candidate's full header comes with its body. Those two fields were 60 % of the header bytes
/// (BENCHMARKS.md, "Scan throughput").
const HEADER_ITEMS: &str =
    "(UID INTERNALDATE BODY.PEEK[HEADER.FIELDS (FROM SUBJECT DATE MESSAGE-ID)])";
// NOTE: BODY.PEEK, never BODY[]: a plain BODY fetch sets \Seen even on some servers' EXAMINE.
const BODY_ITEMS: &str = "(UID BODY.PEEK[])";

/// What one mailbox sync needs besides the session.
pub(crate) struct SyncCtx<'a> {
    pub handler: &'a dyn MailHandler,
    pub mailbox: &'a MailboxId,
    pub opts: &'a WatchOptions,
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

/// One message's header, as fetched before deciding whether its body is needed.
struct Head {
    uid: u32,
    header: Vec<u8>,
    received_at: Option<i64>,
    candidate: bool,
}

/// Header batches of `header_batch`; within one, groups of at most `body_batch` candidates get
/// their bodies fetched and go to the handler together. Memory stays bounded either way.
pub(crate) async fn process_uids(
    session: &mut ImapSession,
    ctx: &SyncCtx<'_>,
    cursor: &mut Cursor,
    uids: &[u32],
    first_run_since: Option<i64>,
) -> Result<(), ImapError> {
    let mut pending = None;
    let fetched = fetch_groups(session, ctx, cursor, uids, first_run_since, &mut pending).await;
    // A group fetched before a failure still goes to the handler, as it did before pipelining.
    let handed = hand_over(ctx, cursor, pending.take(), first_run_since);
    fetched.and(handed)
}

/// Fetched messages the handler has yet to see.
struct Pending {
    messages: Vec<RawMessage>,
    last_uid: u32,
}

/// The fetching half of [`process_uids`]. Each group is handed over only once the next FETCH is
/// sent: the server reads and sends the next batch while the handler judges and records this
/// one (before, the two alternated and the server's time added to the handler's).
async fn fetch_groups(
    session: &mut ImapSession,
    ctx: &SyncCtx<'_>,
    cursor: &mut Cursor,
    uids: &[u32],
    first_run_since: Option<i64>,
    pending: &mut Option<Pending>,
) -> Result<(), ImapError> {
    let uidvalidity = cursor.uidvalidity;
    for chunk in uids.chunks(ctx.opts.header_batch.max(1)) {
        let heads = fetch_heads(session, ctx, chunk, || {
            hand_over(ctx, cursor, pending.take(), first_run_since)
        })
        .await?;
        let mut start = 0;
        while start < heads.len() {
            let end = group_end(&heads[start..], ctx.opts.body_batch.max(1)) + start;
            let group = &heads[start..end];
            let messages = with_bodies(session, ctx, uidvalidity, group, || {
                hand_over(ctx, cursor, pending.take(), first_run_since)
            })
            .await?;
            *pending = Some(Pending {
                messages,
                last_uid: group[group.len() - 1].uid,
            });
            start = end;
        }
    }
    Ok(())
}

/// Gives a fetched group to the handler and advances the cursor past it.
fn hand_over(
    ctx: &SyncCtx<'_>,
    cursor: &mut Cursor,
    batch: Option<Pending>,
    first_run_since: Option<i64>,
) -> Result<(), ImapError> {
    let Some(b) = batch else {
        return Ok(());
    };
    let largest = b.messages.iter().map(|m| m.bytes.len()).max().unwrap_or(0);
    let processed = ctx
        .handler
        .process(ctx.mailbox, b.messages, first_run_since)
        .map_err(ImapError::Handler);
    super::memory::after_batch(largest);
    processed?;
    cursor.last_uid = cursor.last_uid.max(b.last_uid);
    Ok(())
}

/// Length of the longest prefix holding at most `max_candidates` candidates.
fn group_end(heads: &[Head], max_candidates: usize) -> usize {
    let mut seen = 0;
    for (i, h) in heads.iter().enumerate() {
        if h.candidate {
            if seen == max_candidates {
                return i;
            }
            seen += 1;
        }
    }
    heads.len()
}

/// The heads of `uids`, each with the handler's candidate test; `work` runs while they arrive.
async fn fetch_heads(
    session: &mut ImapSession,
    ctx: &SyncCtx<'_>,
    uids: &[u32],
    work: impl FnOnce() -> Result<(), ImapError>,
) -> Result<Vec<Head>, ImapError> {
    let fetches = fetch_while(session, uids, HEADER_ITEMS, &ctx.opts.timeouts, work).await?;
    let mut heads: Vec<Head> = fetches
        .iter()
        .filter_map(|f| {
            let uid = f.uid?;
            let header = f.header().unwrap_or_default().to_vec();
            let candidate = ctx.handler.is_candidate(&header);
            let received_at = f.internal_date().map(|d| d.timestamp());
            Some(Head {
                uid,
                header,
                received_at,
                candidate,
            })
        })
        .collect();
    heads.sort_unstable_by_key(|h| h.uid);
    heads.dedup_by_key(|h| h.uid);
    Ok(heads)
}

/// Builds the messages of one group, fetching full bodies for its candidates; `work` runs while
/// they arrive (at once if there is nothing to fetch).
async fn with_bodies(
    session: &mut ImapSession,
    ctx: &SyncCtx<'_>,
    uidvalidity: u32,
    group: &[Head],
    work: impl FnOnce() -> Result<(), ImapError>,
) -> Result<Vec<RawMessage>, ImapError> {
    let wanted: Vec<u32> = group
        .iter()
        .filter(|h| h.candidate)
        .map(|h| h.uid)
        .collect();
    let mut bodies: HashMap<u32, Vec<u8>> = HashMap::new();
    if wanted.is_empty() {
        work()?;
    } else {
        for f in fetch_while(session, &wanted, BODY_ITEMS, &ctx.opts.timeouts, work).await? {
            if let (Some(uid), Some(body)) = (f.uid, f.body()) {
                bodies.insert(uid, body.to_vec());
            }
        }
    }
    let mut messages = Vec::with_capacity(group.len());
    for h in group {
        let (bytes, complete) = match (h.candidate, bodies.remove(&h.uid)) {
            (false, _) => (h.header.clone(), false),
            (true, Some(body)) => (body, true),
            (true, None) => {
                // Expunged between the two fetches: nothing left to judge.
                tracing::warn!(mailbox = %ctx.mailbox, uid = h.uid, "message vanished before its body was fetched");
                continue;
            }
        };
        messages.push(RawMessage {
            position: Position::Imap {
                uidvalidity,
                uid: h.uid,
            },
            bytes,
            complete,
            received_at: h.received_at,
        });
    }
    Ok(messages)
}

/// `UID FETCH` of exactly `uids` (ascending); unsolicited FETCH replies for others are dropped.
pub(super) async fn fetch(
    session: &mut ImapSession,
    uids: &[u32],
    items: &str,
    t: &Timeouts,
) -> Result<Vec<Fetch>, ImapError> {
    fetch_while(session, uids, items, t, || Ok(())).await
}

/// [`fetch`], running `work` once the command is sent: the server works on the reply meanwhile.
async fn fetch_while(
    session: &mut ImapSession,
    uids: &[u32],
    items: &str,
    t: &Timeouts,
    work: impl FnOnce() -> Result<(), ImapError>,
) -> Result<Vec<Fetch>, ImapError> {
    let set = uid_set(uids);
    let stream = with_timeout(t.command, "UID FETCH", session.uid_fetch(&set, items))
        .await?
        .map_err(proto("UID FETCH"))?;
    let worked = work();
    // The reply is read even when the work failed: the session stays in step for the caller.
    let all = collect(stream, t).await?;
    worked?;
    Ok(all
        .into_iter()
        .filter(|f| f.uid.is_some_and(|u| uids.binary_search(&u).is_ok()))
        .collect())
}

/// Drains a fetch stream; the timeout bounds silence between two replies, not the whole
/// transfer (a large batch on a slow link is fine, a dead link is not).
async fn collect<S>(stream: S, t: &Timeouts) -> Result<Vec<Fetch>, ImapError>
where
    S: Stream<Item = async_imap::error::Result<Fetch>>,
{
    let mut stream = std::pin::pin!(stream);
    let mut out = Vec::new();
    while let Some(item) = with_timeout(t.command, "UID FETCH reply", stream.next()).await? {
        out.push(item.map_err(proto("UID FETCH"))?);
    }
    Ok(out)
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

    #[test]
    fn groups_bound_candidates() {
        let h = |uid, candidate| Head {
            uid,
            header: vec![],
            received_at: None,
            candidate,
        };
        let heads = vec![h(1, true), h(2, false), h(3, true), h(4, true), h(5, false)];
        assert_eq!(group_end(&heads, 2), 3);
        assert_eq!(group_end(&heads[3..], 2), 2);
        assert_eq!(group_end(&heads, 10), 5);
        assert_eq!(group_end(&[h(1, false), h(2, false)], 1), 2);
    }
}
