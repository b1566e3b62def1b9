//! The IMAP source: watches one mailbox per connection (IDLE, or polling when the server has no
//! IDLE) and the one-shot scan behind `brokerwatch scan`. Read-only by construction: mailboxes are
//! EXAMINEd and bodies fetched with `BODY.PEEK`, so no flag ever changes.
//!
//! Submodules: `connect` (TCP/TLS/STARTTLS/LOGIN), `sync` (checkpoint decisions and batched
//! fetching), `watch` (the IDLE/poll loop, keepalive and reconnect).

mod connect;
pub mod folder;
mod memory;
pub mod mutf7;
pub mod oauth2;
pub mod presence;
pub mod probe;
mod sync;
mod watch;

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::tls::{self, TlsError};
use super::{MailHandler, MailboxId};
use crate::config::ImapAccount;
use crate::config::secret::SecretError;

pub use connect::is_loopback_host;
pub use probe::{Probe, probe};

/// Why talking to the server failed. Each variant names what was being done.
#[derive(Debug, thiserror::Error)]
pub enum ImapError {
    #[error("refusing plaintext IMAP to `{0}`: only loopback hosts may use `tls: none`")]
    PlaintextRefused(String),
    #[error(transparent)]
    TlsConfig(#[from] TlsError),
    #[error("`{0}` is not a valid TLS server name")]
    BadHostName(String),
    #[error("cannot connect to {addr}: {source}")]
    Connect {
        addr: String,
        source: std::io::Error,
    },
    #[error("TLS with {host} failed: {source}")]
    Tls {
        host: String,
        source: std::io::Error,
    },
    #[error("unexpected server greeting: {0}")]
    Greeting(String),
    #[error("cannot read the IMAP password: {0}")]
    Secret(#[from] SecretError),
    /// No OAuth2 access token (not signed in, refresh refused, provider unreachable).
    #[error(transparent)]
    OAuth(#[from] oauth2::OAuthError),
    #[error("login as `{user}` rejected: {msg}")]
    LoginRejected { user: String, msg: String },
    #[error("{what} timed out after {after:?}")]
    Timeout { what: &'static str, after: Duration },
    #[error("IMAP {what} failed: {source}")]
    Protocol {
        what: &'static str,
        source: async_imap::error::Error,
    },
    /// The server refused to open the mailbox (EXAMINE NO: no such mailbox, an invalid name, no
    /// rights) or has no mailbox with the configured SPECIAL-USE attribute.
    #[error("cannot watch mailbox `{mailbox}`: {msg}")]
    MailboxRefused { mailbox: String, msg: String },
    #[error("server sent no UIDVALIDITY for mailbox `{0}`")]
    NoUidValidity(String),
    #[error("the stored checkpoint is not an IMAP checkpoint")]
    WrongCheckpoint,
    #[error("cannot record mail in the state database (nothing is marked processed): {0:#}")]
    Handler(anyhow::Error),
    /// The judging thread stopped taking mail (it reports why itself).
    #[error("the judging thread stopped")]
    JudgeStopped,
    /// Shutdown came during a catch-up: fetching stopped, what was fetched was judged.
    #[error("stopped by shutdown")]
    Interrupted,
}

impl ImapError {
    /// The credentials are the problem (rejected, or the password cannot be read): retrying
    /// alone will not help, the user must act.
    pub fn is_login_failure(&self) -> bool {
        matches!(self, ImapError::LoginRejected { .. } | ImapError::Secret(_))
            || matches!(self, ImapError::OAuth(e) if e.needs_user())
    }

    /// The server is fine but will not open this mailbox: the user must act, now.
    pub fn is_mailbox_refused(&self) -> bool {
        matches!(self, ImapError::MailboxRefused { .. })
    }

    /// A configuration problem that no retry can fix (watch gives up on these).
    pub fn is_permanent(&self) -> bool {
        matches!(
            self,
            ImapError::PlaintextRefused(_) | ImapError::TlsConfig(_) | ImapError::BadHostName(_)
        )
    }
}

/// Bounds on how long the server may stay silent.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// TCP connect and TLS handshake.
    pub connect: Duration,
    /// Any command's reply, or the gap between two replies of a FETCH.
    pub command: Duration,
}

/// Timing and batching knobs. `Default` suits production; tests shrink the timers.
#[derive(Debug, Clone)]
pub struct WatchOptions {
    /// First run on a mailbox: mail younger than this is processed as alertable.
    pub first_run_lookback: Duration,
    pub timeouts: Timeouts,
    /// Longest IDLE before a DONE round trip proves the connection alive (a silently dropped
    /// TCP connection is noticed within this plus `timeouts.command`). The account's
    /// `idle_refresh` applies too; the shorter wins.
    pub keepalive: Duration,
    /// First reconnect delay; doubles (with ±25 % jitter) up to `backoff_max`.
    pub backoff_initial: Duration,
    pub backoff_max: Duration,
    /// UIDs per header FETCH.
    pub header_batch: usize,
    /// Candidate bodies per FETCH (and per `process` call).
    pub body_batch: usize,
}

impl Default for WatchOptions {
    fn default() -> Self {
        WatchOptions {
            first_run_lookback: Duration::from_secs(3 * 86_400),
            timeouts: Timeouts {
                connect: Duration::from_secs(30),
                command: Duration::from_secs(60),
            },
            keepalive: Duration::from_secs(5 * 60),
            backoff_initial: Duration::from_secs(1),
            backoff_max: Duration::from_secs(60),
            header_batch: 500,
            body_batch: 50,
        }
    }
}

/// Watches `mailbox` of one account until `shutdown` is cancelled.
///
/// Reports health through [`MailHandler::source_event`] and retries every transient failure with
/// backoff, forever. Returns `Err` only for a configuration no retry can fix (plaintext to a
/// non-loopback host, an unusable CA file), after reporting it as `Unreachable`.
pub async fn watch(
    account_name: &str,
    cfg: &ImapAccount,
    mailbox: &str,
    handler: Arc<dyn MailHandler>,
    opts: &WatchOptions,
    shutdown: CancellationToken,
) -> Result<(), ImapError> {
    let mailbox = MailboxId {
        account: account_name.to_string(),
        mailbox: mailbox.to_string(),
    };
    let ctx = sync::SyncCtx {
        handler: handler.as_ref(),
        mailbox: &mailbox,
        opts,
        shutdown: Some(&shutdown),
    };
    let tls = match prepare(cfg) {
        Ok(tls) => tls,
        Err(e) => {
            watch::report(&ctx, &e);
            return Err(e);
        }
    };
    watch::run(cfg, &tls, &ctx, &shutdown).await;
    tracing::debug!(%mailbox, "watch stopped");
    Ok(())
}

/// Checks done once, before any connection: plaintext policy and the TLS configuration.
fn prepare(cfg: &ImapAccount) -> Result<tokio_rustls::TlsConnector, ImapError> {
    connect::check_plaintext(cfg)?;
    Ok(tls::connector(cfg.ca_file.as_deref())?)
}

/// The outcome of a one-shot scan for one mailbox.
#[derive(Debug)]
pub struct MailboxScan {
    pub mailbox: String,
    /// How many messages went to the handler, or why the mailbox could not be scanned.
    pub result: Result<usize, ImapError>,
}

/// One pass over every mailbox of the account on a single connection, then LOGOUT.
///
/// Without `since`, each mailbox is caught up from the handler's checkpoint exactly as the
/// watcher would (first run, UIDVALIDITY change and all). With `since` (epoch seconds), every
/// message received since that day is handed over regardless of checkpoints, with
/// `first_run_since: None`; the checkpoint is neither read nor baselined.
///
/// `Err` when the account cannot be reached or logged in to; per-mailbox failures (e.g. a
/// mailbox that does not exist) are in the returned list.
pub async fn scan_once(
    account_name: &str,
    cfg: &ImapAccount,
    handler: &dyn MailHandler,
    since: Option<i64>,
    opts: &WatchOptions,
) -> Result<Vec<MailboxScan>, ImapError> {
    let tls = prepare(cfg)?;
    let mut session = connect::connect(cfg, &tls, &opts.timeouts).await?;
    let mut results = Vec::new();
    for name in &cfg.mailboxes {
        let mailbox = MailboxId {
            account: account_name.to_string(),
            mailbox: name.clone(),
        };
        let ctx = sync::SyncCtx {
            handler,
            mailbox: &mailbox,
            opts,
            shutdown: None,
        };
        let result = scan_mailbox(&mut session, &ctx, since).await;
        let fatal = matches!(&result, Err(e) if !e.is_mailbox_refused());
        results.push(MailboxScan {
            mailbox: name.clone(),
            result,
        });
        if fatal {
            // The connection state is unknown after anything but a refused EXAMINE.
            return Ok(results);
        }
    }
    let quiet = sync::SyncCtx {
        handler,
        mailbox: &MailboxId {
            account: account_name.to_string(),
            mailbox: String::new(),
        },
        opts,
        shutdown: None,
    };
    watch::logout(session, &quiet).await;
    Ok(results)
}

async fn scan_mailbox(
    session: &mut connect::ImapSession,
    ctx: &sync::SyncCtx<'_>,
    since: Option<i64>,
) -> Result<usize, ImapError> {
    let Some(since) = since else {
        return Ok(sync::open(session, ctx).await?.1);
    };
    let (uidvalidity, _) = sync::examine(session, ctx).await?;
    let query = format!("SINCE {}", sync::imap_date(since));
    let uids = sync::search(session, &query, &ctx.opts.timeouts).await?;
    let mut cursor = sync::Cursor {
        uidvalidity,
        last_uid: 0,
    };
    sync::process_uids(session, ctx, &mut cursor, &uids, None).await?;
    Ok(uids.len())
}

/// Maps an async-imap error to [`ImapError::Protocol`] for the named command.
fn proto(what: &'static str) -> impl Fn(async_imap::error::Error) -> ImapError {
    move |source| ImapError::Protocol { what, source }
}

/// Runs `f`, failing with [`ImapError::Timeout`] if it takes longer than `after`.
async fn with_timeout<F: Future>(
    after: Duration,
    what: &'static str,
    f: F,
) -> Result<F::Output, ImapError> {
    tokio::time::timeout(after, f)
        .await
        .map_err(|_| ImapError::Timeout { what, after })
}

/// The server's own words from async-imap's `code: …, info: Some("…")` (LOGIN) or
/// `information: Some("…")` (EXAMINE) rendering, without Dovecot's timing suffix.
pub(crate) fn server_text(msg: &str) -> String {
    let text = ["info: Some(\"", "information: Some(\""]
        .iter()
        .find_map(|m| msg.split_once(m))
        .and_then(|(_, rest)| rest.rsplit_once("\")"))
        .map_or_else(|| msg.to_string(), |(text, _)| text.replace("\\\"", "\""));
    // NOTE: Dovecot appends " (0.001 + 0.000 secs)." to tagged replies.
    match text.rsplit_once(" (") {
        Some((words, timing)) if timing.ends_with(" secs).") => words.to_string(),
        _ => text,
    }
}
