//! The batched header-then-body fetch: headers first, bodies only for the handler's
//! candidates, each group handed over while the server already sends the next.

use std::collections::HashMap;

use async_imap::types::Fetch;
use futures::{Stream, StreamExt};

use super::{Cursor, SyncCtx, uid_set};
use crate::source::imap::connect::ImapSession;
use crate::source::imap::{ImapError, Timeouts, proto, with_timeout};
use crate::source::{Position, RawMessage};

/// The header fields the handler's candidate test sees, and all a non-candidate is judged by: it
/// claims no broker, so its authenticity (Authentication-Results, Received) is never asked; a
/// candidate's full header comes with its body. Those two fields were 60 % of the header bytes
/// (BENCHMARKS.md, "Scan throughput").
const HEADER_ITEMS: &str =
    "(UID INTERNALDATE BODY.PEEK[HEADER.FIELDS (FROM SUBJECT DATE MESSAGE-ID)])";
// NOTE: BODY.PEEK, never BODY[]: a plain BODY fetch sets \Seen even on some servers' EXAMINE.
const BODY_ITEMS: &str = "(UID BODY.PEEK[])";

/// One message's header, as fetched before deciding whether its body is needed.
struct Head {
    uid: u32,
    header: Vec<u8>,
    received_at: Option<i64>,
    candidate: bool,
}

/// Header batches of `header_batch`; within one, groups of at most `body_batch` candidates get
/// their bodies fetched and go to the handler together. Memory stays bounded either way. More
/// than one header batch is judged on a thread of its own (see [`judge_beside`]).
pub(crate) async fn process_uids(
    session: &mut ImapSession,
    ctx: &SyncCtx<'_>,
    cursor: &mut Cursor,
    uids: &[u32],
    first_run_since: Option<i64>,
) -> Result<(), ImapError> {
    if uids.len() > ctx.opts.header_batch.max(1) && beside_possible() {
        return judge_beside(session, ctx, cursor, uids, first_run_since);
    }
    process_inline(session, ctx, cursor, uids, first_run_since).await
}

/// [`process_uids`] on this thread: each group is judged while the server sends the next.
async fn process_inline(
    session: &mut ImapSession,
    ctx: &SyncCtx<'_>,
    cursor: &mut Cursor,
    uids: &[u32],
    first_run_since: Option<i64>,
) -> Result<(), ImapError> {
    let mut pending = None;
    let uidvalidity = cursor.uidvalidity;
    let fetched = fetch_groups(session, ctx, uidvalidity, uids, &mut pending, &mut |p| {
        hand_over(ctx, cursor, p, first_run_since)
    })
    .await;
    // A group fetched before a failure still goes to the handler, as it did before pipelining.
    let handed = hand_over(ctx, cursor, pending.take(), first_run_since);
    fetched.and(handed)
}

/// Can this thread leave the runtime for a while ([`tokio::task::block_in_place`])? Not on a
/// current-thread runtime (tests, embedders).
fn beside_possible() -> bool {
    tokio::runtime::Handle::try_current()
        .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread)
}

/// Groups waiting between the fetching and the judging thread: the fetch runs at most this far
/// ahead (memory stays bounded by a few groups).
const GROUPS_AHEAD: usize = 2;

/// [`process_uids`] of a backlog (a first run's window, a `scan`, a long outage): this thread
/// fetches and runs the candidate test while a second one judges and records the groups in
/// order. On one thread the two took turns, and judging is most of a backlog's CPU (BENCHMARKS.md,
/// "Session 8"). The cursor ends where the judging thread got to: past every group the handler
/// took, never past one it refused or never saw.
fn judge_beside(
    session: &mut ImapSession,
    ctx: &SyncCtx<'_>,
    cursor: &mut Cursor,
    uids: &[u32],
    first_run_since: Option<i64>,
) -> Result<(), ImapError> {
    let uidvalidity = cursor.uidvalidity;
    let start = *cursor;
    let runtime = tokio::runtime::Handle::current();
    tokio::task::block_in_place(|| {
        std::thread::scope(|s| {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Pending>(GROUPS_AHEAD);
            let spawned = std::thread::Builder::new()
                .name("bw-judge".into())
                .spawn_scoped(s, move || {
                    let mut at = start;
                    // The first refusal ends it: the receiver goes, the fetching side stops.
                    let r = rx
                        .into_iter()
                        .try_for_each(|g| hand_over(ctx, &mut at, Some(g), first_run_since));
                    (at, r)
                });
            let judge = match spawned {
                Ok(j) => j,
                Err(e) => {
                    tracing::warn!(mailbox = %ctx.mailbox, "no thread to judge on ({e}): judging between fetches");
                    let inline = process_inline(session, ctx, cursor, uids, first_run_since);
                    return runtime.block_on(inline);
                }
            };
            let mut pending = None;
            let mut send = |p: Option<Pending>| match p {
                Some(g) => tx.send(g).map_err(|_| ImapError::JudgeStopped),
                None => Ok(()),
            };
            let fetch = fetch_groups(session, ctx, uidvalidity, uids, &mut pending, &mut send);
            let fetched = runtime.block_on(async {
                match ctx.shutdown {
                    Some(stop) => tokio::select! {
                        r = fetch => r,
                        _ = stop.cancelled() => Err(ImapError::Interrupted),
                    },
                    None => fetch.await,
                }
            });
            // A group fetched before a failure still goes to the handler.
            let sent = send(pending.take());
            drop(tx);
            let (at, judged) = judge
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p));
            cursor.last_uid = cursor.last_uid.max(at.last_uid);
            // The handler's own error says more than "the judging thread stopped".
            judged.and(fetched).and(sent)
        })
    })
}

/// Fetched messages the handler has yet to see.
struct Pending {
    messages: Vec<RawMessage>,
    last_uid: u32,
}

/// The fetching half of [`process_uids`]. Each group is handed over (`hand`) only once the next
/// FETCH is sent: the server reads and sends the next batch while the handler judges and
/// records this one (before, the two alternated and the server's time added to the handler's).
async fn fetch_groups(
    session: &mut ImapSession,
    ctx: &SyncCtx<'_>,
    uidvalidity: u32,
    uids: &[u32],
    pending: &mut Option<Pending>,
    hand: &mut (dyn FnMut(Option<Pending>) -> Result<(), ImapError> + Send),
) -> Result<(), ImapError> {
    for chunk in uids.chunks(ctx.opts.header_batch.max(1)) {
        let heads = fetch_heads(session, ctx, chunk, || hand(pending.take())).await?;
        let mut start = 0;
        while start < heads.len() {
            let end = group_end(&heads[start..], ctx.opts.body_batch.max(1)) + start;
            let group = &heads[start..end];
            let messages =
                with_bodies(session, ctx, uidvalidity, group, || hand(pending.take())).await?;
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
    crate::source::imap::memory::after_batch(largest);
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
pub(in crate::source::imap) async fn fetch(
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

#[cfg(test)]
mod tests {
    use super::*;

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
