//! The long-running side: one connection per (account, mailbox), IDLE or polling, keepalive,
//! reconnect with backoff, and a clean DONE + LOGOUT on shutdown.

use async_imap::extensions::idle::IdleResponse;
use async_imap::types::UnsolicitedResponse;
use tokio_rustls::TlsConnector;
use tokio_util::sync::CancellationToken;

use super::connect::{ImapSession, connect};
use super::sync::{SyncCtx, catch_up, open};
use super::{ImapError, proto, with_timeout};
use crate::backoff::Backoff;
use crate::config::ImapAccount;
use crate::source::SourceEvent;

/// Why the connection woke from IDLE or a poll sleep.
#[derive(Debug, PartialEq, Eq)]
enum Wake {
    /// The server said something, or it is time to look anyway.
    Look,
    Shutdown,
}

/// Keeps one mailbox watched until shutdown; never gives up on transient errors.
pub(crate) async fn run(
    cfg: &ImapAccount,
    tls: &TlsConnector,
    ctx: &SyncCtx<'_>,
    shutdown: &CancellationToken,
) {
    let opts = ctx.opts;
    let mut backoff = Backoff::new(opts.backoff_initial, opts.backoff_max);
    while !shutdown.is_cancelled() {
        let err = match connection(cfg, tls, ctx, &mut backoff, shutdown).await {
            Ok(()) => return,
            // Whatever failed while stopping is no news about the mailbox.
            Err(_) if shutdown.is_cancelled() => return,
            Err(e) => e,
        };
        report(ctx, &err);
        let delay = backoff.next_delay();
        if matches!(err, ImapError::Handler(_)) {
            tracing::error!(mailbox = %ctx.mailbox, retry_in = ?delay, "{err}");
        } else {
            tracing::warn!(mailbox = %ctx.mailbox, retry_in = ?delay, "{err}");
        }
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = shutdown.cancelled() => return,
        }
    }
}

/// Tells the handler what the failure means for the mailbox's health.
pub(crate) fn report(ctx: &SyncCtx<'_>, err: &ImapError) {
    let event = if let ImapError::OAuth(e) = err {
        super::oauth2::source_event(e)
    } else if matches!(err, ImapError::Secret(_)) {
        SourceEvent::SecretUnreadable(err.to_string())
    } else if err.is_login_failure() {
        SourceEvent::LoginFailed(err.to_string())
    } else if let ImapError::MailboxRefused { msg, .. } = err {
        SourceEvent::MailboxRefused(msg.clone())
    } else if matches!(err, ImapError::Handler(_)) {
        // The store failed, not the source: nothing to say about the mailbox.
        return;
    } else {
        SourceEvent::Unreachable(err.to_string())
    };
    ctx.handler.source_event(ctx.mailbox, event);
}

/// One connection's life: connect, catch up, then wait and catch up again. `Ok` only on shutdown.
async fn connection(
    cfg: &ImapAccount,
    tls: &TlsConnector,
    ctx: &SyncCtx<'_>,
    backoff: &mut Backoff,
    shutdown: &CancellationToken,
) -> Result<(), ImapError> {
    let t = &ctx.opts.timeouts;
    let opened = async {
        let mut session = connect(cfg, tls, t).await?;
        let (cursor, _) = open(&mut session, ctx).await?;
        let caps = with_timeout(t.command, "CAPABILITY", session.capabilities())
            .await?
            .map_err(proto("CAPABILITY"))?;
        Ok::<_, ImapError>((session, cursor, caps.has_str("IDLE")))
    };
    // NOTE: shutdown during connect or catch-up just drops the socket: each handler call is
    // atomic, so nothing is half done, and the protocol state is unknown anyway.
    let (mut session, mut cursor, idle) = tokio::select! {
        r = opened => r?,
        _ = shutdown.cancelled() => return Ok(()),
    };
    tracing::info!(mailbox = %ctx.mailbox, idle, last_uid = cursor.last_uid, "watching");
    backoff.reset();
    ctx.handler.source_event(ctx.mailbox, SourceEvent::Ok);
    loop {
        let (s, wake) = if mail_announced(&mut session) {
            (session, Wake::Look)
        } else if idle {
            idle_wait(session, cfg, ctx, shutdown).await?
        } else {
            poll_wait(session, cfg, ctx, shutdown).await?
        };
        session = s;
        if wake == Wake::Shutdown {
            logout(session, ctx).await;
            return Ok(());
        }
        // Untagged replies were only a wake-up call; the catch-up asks for itself.
        while session.unsolicited_responses.try_recv().is_ok() {}
        tokio::select! {
            r = catch_up(&mut session, ctx, &mut cursor) => { r?; }
            _ = shutdown.cancelled() => return Ok(()),
        }
        ctx.handler.source_event(ctx.mailbox, SourceEvent::Ok);
    }
}

/// Whether replies to our own commands (the catch-up's SEARCH and FETCH, CAPABILITY) announced
/// new mail; consumes every untagged reply queued so far.
///
/// NOTE: mail that arrives during a catch-up, after its SEARCH, is announced (EXISTS) in those
/// replies, and IDLE will not announce it again: without a look now it would wait for the next
/// mail or the IDLE refresh.
fn mail_announced(session: &mut ImapSession) -> bool {
    let mut announced = false;
    while let Ok(r) = session.unsolicited_responses.try_recv() {
        announced |= matches!(
            r,
            UnsolicitedResponse::Exists(_) | UnsolicitedResponse::Recent(_)
        );
    }
    announced
}

/// One IDLE round. Ends on any server data, at the keepalive/refresh deadline, or on shutdown;
/// the DONE round trip afterwards doubles as the liveness check.
async fn idle_wait(
    session: ImapSession,
    cfg: &ImapAccount,
    ctx: &SyncCtx<'_>,
    shutdown: &CancellationToken,
) -> Result<(ImapSession, Wake), ImapError> {
    let t = &ctx.opts.timeouts;
    let mut idle = session.idle();
    with_timeout(t.command, "IDLE", idle.init())
        .await?
        .map_err(proto("IDLE"))?;
    let cycle = cfg.idle_refresh.min(ctx.opts.keepalive);
    let wake = {
        let (wait, _interrupt) = idle.wait_with_timeout(cycle);
        // NOTE: async-imap's own timeout restarts on every "* OK Still here", so it alone would
        // never end a healthy IDLE; the outer deadline enforces the refresh.
        tokio::select! {
            r = tokio::time::timeout(cycle, wait) => match r {
                Ok(Ok(IdleResponse::NewData(data))) => {
                    tracing::debug!(mailbox = %ctx.mailbox, "IDLE: {:?}", data.parsed());
                    Wake::Look
                }
                // NOTE: a dropped connection surfaces as ManualInterrupt; done() then fails.
                Ok(Ok(IdleResponse::ManualInterrupt | IdleResponse::Timeout)) | Err(_) => Wake::Look,
                Ok(Err(e)) => return Err(proto("IDLE")(e)),
            },
            _ = shutdown.cancelled() => Wake::Shutdown,
        }
    };
    let session = with_timeout(t.command, "DONE", idle.done())
        .await?
        .map_err(proto("DONE"))?;
    Ok((session, wake))
}

/// One poll round for servers without IDLE: sleep, then NOOP (which also proves liveness).
async fn poll_wait(
    mut session: ImapSession,
    cfg: &ImapAccount,
    ctx: &SyncCtx<'_>,
    shutdown: &CancellationToken,
) -> Result<(ImapSession, Wake), ImapError> {
    tokio::select! {
        _ = tokio::time::sleep(cfg.poll_interval) => {}
        _ = shutdown.cancelled() => return Ok((session, Wake::Shutdown)),
    }
    with_timeout(ctx.opts.timeouts.command, "NOOP", session.noop())
        .await?
        .map_err(proto("NOOP"))?;
    Ok((session, Wake::Look))
}

/// LOGOUT, best effort: we are leaving either way.
pub(crate) async fn logout(mut session: ImapSession, ctx: &SyncCtx<'_>) {
    let t = &ctx.opts.timeouts;
    if let Ok(Err(e)) = with_timeout(t.command, "LOGOUT", session.logout()).await {
        tracing::debug!(mailbox = %ctx.mailbox, "LOGOUT: {e}");
    }
}
