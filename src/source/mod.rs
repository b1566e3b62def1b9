//! Mail sources: where raw messages come from (IMAP, Maildir) and the contract with the pipeline.
//!
//! A source never decides anything about a mail. It asks the [`MailHandler`] where it left off,
//! hands it every new message with a stable key, and the handler stores what the message produced
//! together with the advanced checkpoint in one transaction.

pub mod imap;
pub mod maildir;
pub mod tls;

use std::fmt;

/// Which mailbox of which account.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MailboxId {
    pub account: String,
    pub mailbox: String,
}

impl fmt::Display for MailboxId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.account, self.mailbox)
    }
}

/// Where a source left off in a mailbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checkpoint {
    /// IMAP: everything up to and including `last_uid` under this UIDVALIDITY is processed.
    Imap { uidvalidity: u32, last_uid: u32 },
    /// Maildir: file base names (without the `:2,` flags) already processed are in the store;
    /// this marks that the baseline was taken.
    Maildir,
}

/// Where one message sits, stable across restarts.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Position {
    Imap {
        uidvalidity: u32,
        uid: u32,
    },
    /// The Maildir unique name (the part before `:2,`).
    Maildir {
        name: String,
    },
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Position::Imap { uidvalidity, uid } => {
                write!(f, "uid {uid} (uidvalidity {uidvalidity})")
            }
            Position::Maildir { name } => write!(f, "{name}"),
        }
    }
}

/// One message as the source fetched it.
#[derive(Debug, Clone)]
pub struct RawMessage {
    pub position: Position,
    /// The full RFC 5322 message, or only its header block when the handler said it was no
    /// candidate (then `complete` is false).
    pub bytes: Vec<u8>,
    pub complete: bool,
    /// IMAP INTERNALDATE or the file's mtime, seconds since the epoch (for first-run lookback).
    pub received_at: Option<i64>,
}

/// What a source reports about its own health (becomes "cannot watch mailbox" alerts and `status`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceEvent {
    /// Connected, logged in and caught up.
    Ok,
    /// The server refused the credentials; retrying with backoff.
    LoginFailed(String),
    /// The server refuses to open the mailbox (no such mailbox, invalid name, no rights): its
    /// words. Retrying with backoff, but like a refused login it needs the user now.
    MailboxRefused(String),
    /// OAuth2: not signed in, or the provider refused the refresh token. The user must run
    /// `brokerwatch login ACCOUNT`; the message says so.
    SignInNeeded(String),
    /// Connection, TLS or protocol failure; retrying with backoff.
    Unreachable(String),
    /// The password cannot be read on this machine (missing file, unset variable, failing
    /// command): a local secret or config problem, not the server's.
    SecretUnreadable(String),
    /// A local folder (Maildir) cannot be read: `PATH: no such folder`, or `PATH: REASON`.
    Folder(String),
}

/// Errors the handler returns; a source retries the batch later (the checkpoint did not move).
pub type HandlerError = anyhow::Error;

/// The pipeline side of a source. Implemented by the daemon (store + classify) and by test doubles.
///
/// Calls are synchronous and short (SQLite on local disk); sources call them from async tasks.
pub trait MailHandler: Send + Sync {
    /// Where this mailbox was left; None on the very first run.
    fn checkpoint(&self, mailbox: &MailboxId) -> Result<Option<Checkpoint>, HandlerError>;

    /// First run: record the baseline without processing old mail (e.g. `UIDNEXT - 1`).
    fn set_baseline(&self, mailbox: &MailboxId, checkpoint: Checkpoint)
    -> Result<(), HandlerError>;

    /// From a header block alone: could this be a broker mail (or a copy of one)? Only candidates
    /// get their body fetched.
    fn is_candidate(&self, header: &[u8]) -> bool;

    /// Process messages in order. For each, the verdict, any alert row and the advanced checkpoint
    /// are committed in one transaction. `first_run_since`: mail received before this (epoch
    /// seconds) is recorded but never alerts (baseline of a new mailbox).
    /// Returns how many were new (duplicates by Message-ID after a UIDVALIDITY change are skipped).
    fn process(
        &self,
        mailbox: &MailboxId,
        messages: Vec<RawMessage>,
        first_run_since: Option<i64>,
    ) -> Result<usize, HandlerError>;

    /// UIDVALIDITY changed: the old checkpoint is void; the source will rescan from UID 1 and the
    /// handler de-duplicates by Message-ID.
    fn reset(&self, mailbox: &MailboxId, uidvalidity: u32) -> Result<(), HandlerError>;

    /// Health of the connection for this mailbox.
    fn source_event(&self, mailbox: &MailboxId, event: SourceEvent);
}
