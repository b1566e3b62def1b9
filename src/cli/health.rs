//! `brokerwatch health`: is the daemon keeping up? For container health checks and monitoring.
//! Reads only the state database, never the network: exit 0 when healthy, else one line per
//! problem and exit 1.
//!
//! A mailbox is unhealthy when its last successful check is older than its limit:
//! 3 × max(`poll_interval`, `idle_refresh`) for IMAP (the watcher records a success after every
//! IDLE round or poll, and an IDLE round lasts at most `idle_refresh`), and
//! 3 × max(`poll_interval`, 60 s) for a Maildir. Time is counted from the later of the last
//! success and the daemon's start (the `daemon_started_at` mark the daemon writes), so a freshly
//! (re)started daemon gets one full limit of grace — also for a mailbox it has never checked.
//! Without a start mark, a mailbox never checked successfully is unhealthy only once a failure
//! has been recorded for it. A missing, unreadable or corrupt database
//! (`PRAGMA quick_check`) is unhealthy too.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use super::Outcome;
use crate::config::{AccountSource, Config};
use crate::daemon::STARTED_AT_KEY;
use crate::source::maildir;
use crate::store::{SourceHealth, Store, StoreError, now};
use crate::units::format_duration;

/// A mailbox may go this many of its check intervals without a success.
const INTERVALS: u32 = 3;

/// The shortest interval a Maildir limit is computed from.
const MIN_MAILDIR_INTERVAL: Duration = Duration::from_secs(60);

/// Why the state database could not be read. Names the file.
#[derive(Debug, thiserror::Error)]
pub enum HealthError {
    #[error(
        "state database {0} does not exist: the daemon has not run yet (or uses another state_dir)"
    )]
    Missing(PathBuf),
    #[error("cannot open state database {path}: {source}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("state database {path} is corrupt: {detail}")]
    Corrupt { path: PathBuf, detail: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What the database says about the daemon's mailboxes.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub sources: Vec<SourceHealth>,
    /// When the daemon last started (epoch seconds), if it left a mark.
    pub started_at: Option<i64>,
}

/// One mailbox the config says is watched, and how stale it may get.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watched {
    pub account: String,
    pub mailbox: String,
    pub limit: Duration,
}

/// Every mailbox the daemon watches under `cfg`, with its staleness limit.
pub fn watched(cfg: &Config) -> Vec<Watched> {
    let mut out = Vec::new();
    for a in &cfg.accounts {
        match &a.source {
            AccountSource::Imap(i) => {
                let limit = i.poll_interval.max(i.idle_refresh) * INTERVALS;
                out.extend(i.mailboxes.iter().map(|m| Watched {
                    account: a.name.clone(),
                    mailbox: m.clone(),
                    limit,
                }));
            }
            AccountSource::Maildir(m) => out.push(Watched {
                account: a.name.clone(),
                mailbox: maildir::MAILBOX.to_string(),
                limit: m.poll_interval.max(MIN_MAILDIR_INTERVAL) * INTERVALS,
            }),
        }
    }
    out
}

/// Checks the database file itself (`PRAGMA quick_check`), then reads source health.
pub fn read_snapshot(db: &Path) -> Result<Snapshot, HealthError> {
    if !db.exists() {
        return Err(HealthError::Missing(db.to_path_buf()));
    }
    quick_check(db)?;
    let store = Store::open(db)?;
    let started_at = store
        .kv_get(STARTED_AT_KEY)?
        .and_then(|v| v.trim().parse().ok());
    Ok(Snapshot {
        sources: store.sources()?,
        started_at,
    })
}

/// Runs SQLite's own consistency check on a connection that cannot create the file.
fn quick_check(db: &Path) -> Result<(), HealthError> {
    let open_err = |source| HealthError::Open {
        path: db.to_path_buf(),
        source,
    };
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(db, flags).map_err(open_err)?;
    let corrupt = |detail: String| HealthError::Corrupt {
        path: db.to_path_buf(),
        detail,
    };
    let mut st = conn
        .prepare("PRAGMA quick_check")
        .map_err(|e| corrupt(e.to_string()))?;
    let rows: Vec<String> = st
        .query_map([], |r| r.get(0))
        .and_then(|rows| rows.collect())
        .map_err(|e| corrupt(e.to_string()))?;
    match rows.as_slice() {
        [only] if only == "ok" => Ok(()),
        _ => Err(corrupt(
            rows.into_iter().take(5).collect::<Vec<_>>().join("; "),
        )),
    }
}

/// The problems of every watched mailbox at `now`; empty when all is well.
pub fn evaluate(cfg: &Config, snap: &Snapshot, now: i64) -> Vec<String> {
    if cfg.accounts.is_empty() {
        return vec!["no accounts configured: nothing is watched".into()];
    }
    watched(cfg)
        .iter()
        .filter_map(|w| {
            let row = snap
                .sources
                .iter()
                .find(|s| s.mailbox.account == w.account && s.mailbox.mailbox == w.mailbox);
            mailbox_problem(w, row, snap.started_at, now)
        })
        .collect()
}

fn mailbox_problem(
    w: &Watched,
    row: Option<&SourceHealth>,
    started_at: Option<i64>,
    now: i64,
) -> Option<String> {
    let limit = w.limit.as_secs() as i64;
    let last_ok = row.and_then(|r| r.last_ok);
    let error = row
        .and_then(|r| r.last_error.as_deref().zip(r.last_error_at))
        .filter(|(_, at)| last_ok.is_none_or(|ok| *at > ok))
        .map(|(e, at)| format!("; failing for {}: {e}", ago(now, at)))
        .unwrap_or_default();
    let name = format!("{}/{}", w.account, w.mailbox);
    let limit_text = format_duration(w.limit);
    match (last_ok, started_at) {
        (Some(ok), started) => {
            let since = started.map_or(ok, |s| s.max(ok));
            (now - since > limit).then(|| {
                format!(
                    "{name}: last successful check {} ago (limit {limit_text}){error}",
                    ago(now, ok)
                )
            })
        }
        (None, Some(started)) => (now - started > limit).then(|| {
            format!(
                "{name}: never checked successfully; the daemon started {} ago (limit {limit_text}){error}",
                ago(now, started)
            )
        }),
        (None, None) => (!error.is_empty())
            .then(|| format!("{name}: never checked successfully{error}")),
    }
}

fn ago(now: i64, at: i64) -> String {
    format_duration(Duration::from_secs((now - at).max(0) as u64))
}

/// Everything wrong right now: database problems, or each stale mailbox.
pub fn check(cfg: &Config, now: i64) -> Vec<String> {
    match read_snapshot(&cfg.db_path()) {
        Ok(snap) => evaluate(cfg, &snap, now),
        Err(e) => vec![e.to_string()],
    }
}

/// `brokerwatch health`.
pub fn run(cfg_path: Option<&Path>) -> anyhow::Result<Outcome> {
    let Some((cfg, _)) = super::load(cfg_path) else {
        return Ok(Outcome::Usage);
    };
    let problems = check(&cfg, now());
    if problems.is_empty() {
        println!(
            "healthy: {} mailbox(es) checked within their limits",
            watched(&cfg).len()
        );
        return Ok(Outcome::Ok);
    }
    for p in &problems {
        println!("unhealthy: {p}");
    }
    anyhow::bail!("{} health problem(s)", problems.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::MailboxId;

    fn cfg() -> Config {
        let text = "accounts:\n  - name: mail\n    imap: {host: imap.example.com, username: u, password: {env: PW}, mailboxes: [INBOX, Junk], poll_interval: 5m, idle_refresh: 20m}\n  - name: local\n    maildir: /tmp/nowhere\n    poll_interval: 5s\n";
        crate::config::load_str(text, "test", Path::new("/")).expect("config")
    }

    fn row(
        account: &str,
        mailbox: &str,
        ok: Option<i64>,
        err: Option<(&str, i64)>,
    ) -> SourceHealth {
        SourceHealth {
            mailbox: MailboxId {
                account: account.into(),
                mailbox: mailbox.into(),
            },
            last_ok: ok,
            last_error: err.map(|(e, _)| e.to_string()),
            last_error_at: err.map(|(_, at)| at),
        }
    }

    #[test]
    fn limits_are_three_intervals() {
        let w = watched(&cfg());
        assert_eq!(w.len(), 3);
        assert_eq!(w[0].limit, Duration::from_secs(3 * 20 * 60));
        assert_eq!(w[2].mailbox, maildir::MAILBOX);
        assert_eq!(
            w[2].limit,
            Duration::from_secs(180),
            "Maildir: at least 60 s"
        );
    }

    #[test]
    fn fresh_mailboxes_are_healthy_and_stale_ones_are_named() {
        let now = 1_000_000;
        let snap = Snapshot {
            sources: vec![
                row("mail", "INBOX", Some(now - 60), None),
                row(
                    "mail",
                    "Junk",
                    Some(now - 3601 - 60),
                    Some(("unreachable: timeout", now - 30)),
                ),
                row("local", "INBOX", Some(now - 10), None),
            ],
            started_at: Some(now - 86_400),
        };
        let p = evaluate(&cfg(), &snap, now);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            p[0].starts_with("mail/Junk: last successful check 1h1m1s ago (limit 1h)"),
            "{p:?}"
        );
        assert!(p[0].contains("unreachable: timeout"), "{p:?}");
    }

    #[test]
    fn never_checked_gets_grace_after_a_start() {
        let now = 1_000_000;
        let mut snap = Snapshot {
            sources: vec![
                row("mail", "INBOX", Some(now - 5), None),
                row("mail", "Junk", Some(now), None),
            ],
            started_at: Some(now - 100),
        };
        assert!(
            evaluate(&cfg(), &snap, now).is_empty(),
            "local/INBOX is within its grace"
        );
        snap.started_at = Some(now - 181);
        let p = evaluate(&cfg(), &snap, now);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            p[0].starts_with("local/INBOX: never checked successfully"),
            "{p:?}"
        );
        // A restart after a long stop: the old success is stale, but the new start gives grace.
        snap.sources[0].last_ok = Some(now - 86_400);
        snap.started_at = Some(now - 60);
        assert!(evaluate(&cfg(), &snap, now).is_empty());
    }

    #[test]
    fn without_a_start_mark_only_recorded_failures_count_for_never_checked() {
        let now = 1_000_000;
        let snap = Snapshot {
            sources: vec![
                row("mail", "INBOX", None, Some(("login failed: no", now - 5))),
                row("mail", "Junk", Some(now), None),
            ],
            started_at: None,
        };
        let p = evaluate(&cfg(), &snap, now);
        assert_eq!(
            p,
            vec!["mail/INBOX: never checked successfully; failing for 5s: login failed: no"]
        );
    }

    #[test]
    fn no_accounts_is_a_problem() {
        let c = crate::config::load_str("{}", "t", Path::new("/")).expect("config");
        assert_eq!(evaluate(&c, &Snapshot::default(), 0).len(), 1);
    }
}
