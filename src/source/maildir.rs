//! The Maildir source: polls a local Maildir's `new/` and `cur/` and hands every message it has
//! not handed over yet to the [`MailHandler`], keyed by the Maildir unique name (the part before
//! `:`, so a message keeps its key when the MUA moves it to `cur/` and adds flags).
//!
//! Read-only: files are never renamed, so no flag changes. The handler remembers processed names
//! across runs; an in-memory set only spares re-reading them within one run.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio_util::sync::CancellationToken;

use super::{Checkpoint, MailHandler, MailboxId, Position, RawMessage, SourceEvent};
use crate::config::MaildirAccount;

/// The mailbox name a Maildir account reports under (it has exactly one).
pub const MAILBOX: &str = "INBOX";
/// A healthy Maildir re-reports `Ok` this often: `brokerwatch health` needs a fresh last check,
/// and SQLite needs no write on every poll.
const OK_REFRESH: Duration = Duration::from_secs(60);
/// Messages per `process` call.
const BATCH: usize = 50;
/// A header block longer than this is cut (the candidate test needs only the first fields).
const MAX_HEADER: u64 = 256 * 1024;

/// Why a Maildir could not be scanned. Names the path.
#[derive(Debug, thiserror::Error)]
pub enum MaildirError {
    #[error("cannot read Maildir folder {path}: {source}")]
    ReadDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the stored checkpoint is not a Maildir checkpoint")]
    WrongCheckpoint,
    #[error("cannot record mail in the state database (nothing is marked processed): {0:#}")]
    Handler(anyhow::Error),
}

/// Knobs for the Maildir source.
#[derive(Debug, Clone)]
pub struct MaildirOptions {
    /// First run: files modified within this window are processed as alertable.
    pub first_run_lookback: Duration,
}

impl Default for MaildirOptions {
    fn default() -> Self {
        MaildirOptions {
            first_run_lookback: Duration::from_secs(3 * 86_400),
        }
    }
}

/// Watches the Maildir until `shutdown` is cancelled, scanning every
/// `cfg.poll_interval`. Reports `Folder` when the folder cannot be read and `Ok` when it can
/// again (on changes only: a poll is cheap, a health event and a log line per poll would be noise).
pub async fn watch(
    account_name: &str,
    cfg: &MaildirAccount,
    handler: Arc<dyn MailHandler>,
    opts: &MaildirOptions,
    shutdown: CancellationToken,
) {
    let mailbox = MailboxId {
        account: account_name.to_string(),
        mailbox: MAILBOX.to_string(),
    };
    let mut scanner = Scanner::default();
    let mut state = Reported::default();
    while !shutdown.is_cancelled() {
        let job = {
            let (handler, mailbox, path, opts) = (
                handler.clone(),
                mailbox.clone(),
                cfg.path.clone(),
                opts.clone(),
            );
            let stop = shutdown.clone();
            let mut s = std::mem::take(&mut scanner);
            // NOTE: file reads and handler calls block; a first run over a big Maildir must not
            // stall the runtime's worker threads.
            tokio::task::spawn_blocking(move || {
                let r = s.scan(&path, handler.as_ref(), &mailbox, &opts, &stop);
                (s, r)
            })
        };
        let result = match job.await {
            Ok((s, r)) => {
                scanner = s;
                r
            }
            Err(e) => {
                tracing::error!(%mailbox, "Maildir scan panicked: {e}");
                Ok(0)
            }
        };
        report(handler.as_ref(), &mailbox, &cfg.path, &result, &mut state);
        tokio::select! {
            _ = tokio::time::sleep(cfg.poll_interval) => {}
            _ = shutdown.cancelled() => break,
        }
    }
    tracing::debug!(%mailbox, "Maildir watch stopped");
}

/// What the watcher last told the handler about the folder's health.
#[derive(Default)]
struct Reported {
    /// When `Ok` was last reported (None: not since the last failure).
    ok_at: Option<std::time::Instant>,
    /// The failure last reported, until the folder can be read again.
    error: Option<String>,
}

fn report(
    handler: &dyn MailHandler,
    mailbox: &MailboxId,
    path: &Path,
    result: &Result<usize, MaildirError>,
    state: &mut Reported,
) {
    match result {
        Ok(_) if state.ok_at.is_none_or(|t| t.elapsed() >= OK_REFRESH) => {
            *state = Reported {
                ok_at: Some(std::time::Instant::now()),
                error: None,
            };
            handler.source_event(mailbox, SourceEvent::Ok);
        }
        Ok(_) => {}
        Err(e @ MaildirError::Handler(_)) => tracing::error!(%mailbox, "{e}; retrying next poll"),
        Err(e) => {
            let what = folder_problem(path, e);
            // The handler logs and records it: once per outage (or when the reason changes).
            if state.error.as_deref() != Some(what.as_str()) {
                state.ok_at = None;
                state.error = Some(what.clone());
                handler.source_event(mailbox, SourceEvent::Folder(what));
            }
        }
    }
}

/// `PATH: no such folder`, or `PATH: REASON`: the folder is local, no server is involved.
fn folder_problem(path: &Path, e: &MaildirError) -> String {
    match e {
        MaildirError::ReadDir { path: sub, source }
            if source.kind() == std::io::ErrorKind::NotFound =>
        {
            // The root when it is missing, else the `new/` or `cur/` inside it that is.
            let missing = if path.exists() { sub } else { path };
            format!("{}: no such folder", missing.display())
        }
        MaildirError::ReadDir { source, .. } => format!("{}: {source}", path.display()),
        e => format!("{}: {e}", path.display()),
    }
}

/// One pass for `brokerwatch scan`. Without `since`, exactly what a watcher's scan does (first
/// run and baseline included). With `since` (epoch seconds), every file modified since then is
/// handed over with `first_run_since: None`, ignoring the checkpoint. Returns how many went over.
pub fn scan_once(
    account_name: &str,
    cfg: &MaildirAccount,
    handler: &dyn MailHandler,
    since: Option<i64>,
    opts: &MaildirOptions,
) -> Result<usize, MaildirError> {
    let mailbox = MailboxId {
        account: account_name.to_string(),
        mailbox: MAILBOX.to_string(),
    };
    let never = CancellationToken::new();
    let mut scanner = Scanner::default();
    match since {
        None => scanner.scan(&cfg.path, handler, &mailbox, opts, &never),
        Some(since) => {
            let files: Vec<Entry> = list(&cfg.path)?
                .into_iter()
                .filter(|e| e.mtime >= since)
                .collect();
            scanner.hand_over(handler, &mailbox, files, None, &never)
        }
    }
}

/// One message file found in `new/` or `cur/`.
#[derive(Debug)]
struct Entry {
    key: String,
    path: PathBuf,
    mtime: i64,
}

/// What this run has handed over already.
#[derive(Debug, Default)]
struct Scanner {
    handed: HashSet<String>,
    /// Names that could not be read, warned about once.
    unreadable: HashSet<String>,
}

impl Scanner {
    /// Hands every file not handed over yet (first run: all with `first_run_since`, then the
    /// baseline). Returns how many were handed over.
    fn scan(
        &mut self,
        root: &Path,
        handler: &dyn MailHandler,
        mailbox: &MailboxId,
        opts: &MaildirOptions,
        stop: &CancellationToken,
    ) -> Result<usize, MaildirError> {
        let checkpoint = handler.checkpoint(mailbox).map_err(MaildirError::Handler)?;
        let files: Vec<Entry> = list(root)?
            .into_iter()
            .filter(|e| !self.handed.contains(&e.key))
            .collect();
        match checkpoint {
            Some(Checkpoint::Maildir) => self.hand_over(handler, mailbox, files, None, stop),
            Some(Checkpoint::Imap { .. }) => Err(MaildirError::WrongCheckpoint),
            None => {
                // NOTE: old files go over too (recorded, never alerting): the handler's store
                // of processed names *is* the Maildir baseline, so a skipped name would come
                // back as new mail after a restart.
                let since = crate::units::now() - opts.first_run_lookback.as_secs() as i64;
                tracing::info!(%mailbox, files = files.len(), "first run: taking a baseline");
                let n = self.hand_over(handler, mailbox, files, Some(since), stop)?;
                handler
                    .set_baseline(mailbox, Checkpoint::Maildir)
                    .map_err(MaildirError::Handler)?;
                Ok(n)
            }
        }
    }

    /// Reads and processes `files` in batches; stops early (without error) on shutdown.
    fn hand_over(
        &mut self,
        handler: &dyn MailHandler,
        mailbox: &MailboxId,
        files: Vec<Entry>,
        first_run_since: Option<i64>,
        stop: &CancellationToken,
    ) -> Result<usize, MaildirError> {
        let mut count = 0;
        for batch in files.chunks(BATCH) {
            if stop.is_cancelled() {
                break;
            }
            let messages: Vec<RawMessage> = batch
                .iter()
                .filter_map(|e| self.read(handler, mailbox, e, first_run_since))
                .collect();
            let keys: Vec<String> = messages
                .iter()
                .filter_map(|m| match &m.position {
                    Position::Maildir { name } => Some(name.clone()),
                    Position::Imap { .. } => None,
                })
                .collect();
            handler
                .process(mailbox, messages, first_run_since)
                .map_err(MaildirError::Handler)?;
            count += keys.len();
            self.handed.extend(keys);
        }
        Ok(count)
    }

    /// The message for `entry`: its header, or the whole file when the handler wants it. Old
    /// first-run files go header-only (they are only recorded). None if it vanished.
    fn read(
        &mut self,
        handler: &dyn MailHandler,
        mailbox: &MailboxId,
        entry: &Entry,
        first_run_since: Option<i64>,
    ) -> Option<RawMessage> {
        let old = first_run_since.is_some_and(|since| entry.mtime < since);
        let result = read_header(&entry.path).and_then(|header| {
            if !old && handler.is_candidate(&header) {
                std::fs::read(&entry.path).map(|b| (b, true))
            } else {
                Ok((header, false))
            }
        });
        match result {
            Ok((bytes, complete)) => Some(RawMessage {
                position: Position::Maildir {
                    name: entry.key.clone(),
                },
                bytes,
                complete,
                received_at: Some(entry.mtime),
            }),
            // Moved between new/ and cur/ (or deleted) while we looked: next poll finds it.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => {
                if self.unreadable.insert(entry.key.clone()) {
                    tracing::warn!(%mailbox, path = %entry.path.display(), "cannot read message: {e}");
                }
                None
            }
        }
    }
}

/// Message files in `new/` and `cur/`, oldest first. A missing `new/` or `cur/` is an error:
/// that is not a Maildir (or not mounted).
fn list(root: &Path) -> Result<Vec<Entry>, MaildirError> {
    let mut out = Vec::new();
    for sub in ["new", "cur"] {
        let dir = root.join(sub);
        let read_err = |source| MaildirError::ReadDir {
            path: dir.clone(),
            source,
        };
        for item in std::fs::read_dir(&dir).map_err(read_err)? {
            let item = item.map_err(read_err)?;
            let name = item.file_name().to_string_lossy().into_owned();
            let Ok(meta) = item.metadata() else { continue };
            if name.starts_with('.') || !meta.is_file() {
                continue;
            }
            out.push(Entry {
                key: unique_name(&name).to_string(),
                path: item.path(),
                mtime: meta.modified().map_or(0, epoch),
            });
        }
    }
    out.sort_by(|a, b| (a.mtime, &a.key).cmp(&(b.mtime, &b.key)));
    // The same message in both folders (mid-move): keep one.
    let mut keys = HashSet::new();
    out.retain(|e| keys.insert(e.key.clone()));
    Ok(out)
}

/// The Maildir unique name: everything before the `:2,` info (or any `:` suffix).
pub fn unique_name(file_name: &str) -> &str {
    file_name.split(':').next().unwrap_or(file_name)
}

/// The header block (up to and including the blank line), at most `MAX_HEADER` bytes.
fn read_header(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut reader = BufReader::new(std::fs::File::open(path)?.take(MAX_HEADER));
    let mut header = Vec::new();
    loop {
        let before = header.len();
        if reader.read_until(b'\n', &mut header)? == 0 {
            break;
        }
        let line = &header[before..];
        if line == b"\n" || line == b"\r\n" {
            break;
        }
    }
    Ok(header)
}

fn epoch(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

#[cfg(test)]
mod tests;
