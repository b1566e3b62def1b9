//! State in SQLite: checkpoints, processed messages, alerts with their per-sink deliveries (the
//! outbox), expectations and source health. The one rule: what a message produced and the
//! advanced checkpoint are committed in the same transaction.

mod outbox;
mod people;
mod schema;
mod sinks;

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, params};

use crate::assess::{Expectation, Verdict};
use crate::event::EventKind;
use crate::source::{Checkpoint, MailboxId, Position};

pub use outbox::{
    AlertLine, AlertRow, AlertText, DeliveryRow, DeliveryState, NewAlert, NewDelivery, Texts,
};
pub use people::{ACK_NOTICE, SUMMARY};
pub use sinks::Receipt;

/// Errors of the state database; they name the file.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open state database {path}: {source}")]
    Open {
        path: String,
        source: rusqlite::Error,
    },
    #[error("cannot create state directory {path}: {source}")]
    Dir {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "state database {path} has schema version {found}, newer than this brokerwatch ({supported}): upgrade brokerwatch"
    )]
    TooNew {
        path: String,
        found: i64,
        supported: i64,
    },
    #[error("state database error: {0}")]
    Sql(#[from] rusqlite::Error),
}

/// A handle to the state database; cheap to clone, safe to share between tasks.
#[derive(Clone)]
pub struct Store {
    conn: Arc<Mutex<Connection>>,
}

pub use crate::units::now;

/// What a recorded message does to the alerts.
#[derive(Debug, Clone, Copy)]
pub enum AlertPlan<'a> {
    Nothing,
    /// A new alert with its deliveries.
    New(&'a NewAlert),
    /// A line appended to an existing alert (a burst's further trade).
    Join {
        alert: i64,
        line: &'a AlertLine,
    },
}

/// A processed message as recorded.
#[derive(Debug, Clone)]
pub struct Recorded<'a> {
    pub mailbox: &'a MailboxId,
    pub position: &'a Position,
    pub verdict: &'a Verdict,
    pub received_at: Option<i64>,
}

/// An alerted notice whose presence in the mailbox is being watched (tampering check).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchedNotice {
    pub alert: i64,
    pub broker: Option<String>,
    pub account: String,
    pub mailbox: String,
    /// `imap:UIDVALIDITY:UID`.
    pub pos: String,
}

/// Health of one watched mailbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceHealth {
    pub mailbox: MailboxId,
    pub last_ok: Option<i64>,
    pub last_error: Option<String>,
    pub last_error_at: Option<i64>,
}

impl Store {
    /// Opens (creating if needed) the database and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
        // Alerts quote the user's notices (amounts, banks): only the user may read the state.
        if let Some(dir) = path.parent() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|source| StoreError::Dir {
                    path: dir.display().to_string(),
                    source,
                })?;
        }
        let label = path.display().to_string();
        let open_err = |source| StoreError::Open {
            path: label.clone(),
            source,
        };
        if !path.exists() {
            // SQLite gives its -wal and -shm files the database file's mode.
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
                .map_err(|e| {
                    open_err(rusqlite::Error::SqliteFailure(
                        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN),
                        Some(e.to_string()),
                    ))
                })?;
        }
        let conn = Connection::open(path).map_err(open_err)?;
        let setup = || -> rusqlite::Result<()> {
            conn.busy_timeout(Duration::from_secs(10))?;
            conn.pragma_update(None, "journal_mode", "WAL")?;
            conn.pragma_update(None, "synchronous", "FULL")
        };
        setup().map_err(open_err)?;
        schema::migrate(&conn, &label).map_err(|e| match e {
            StoreError::Sql(source) => open_err(source),
            other => other,
        })?;
        Ok(Store {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// A private in-memory database (for `scan` without `--alert`).
    pub fn open_memory() -> Result<Store, StoreError> {
        let conn = Connection::open_in_memory()?;
        schema::migrate(&conn, ":memory:")?;
        Ok(Store {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Opens an existing database read-only-ish for commands (`test`, `status`); None if absent.
    pub fn open_existing(path: &Path) -> Result<Option<Store>, StoreError> {
        if path.exists() {
            Store::open(path).map(Some)
        } else {
            Ok(None)
        }
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (transactions roll back).
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Where a mailbox was left; None on the first run.
    pub fn checkpoint(&self, mb: &MailboxId) -> Result<Option<Checkpoint>, StoreError> {
        let c = self.lock();
        let row = c
            .prepare_cached(
                "SELECT kind, uidvalidity, last_uid FROM checkpoints WHERE account=?1 AND mailbox=?2",
            )?
            .query_row(params![mb.account, mb.mailbox], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
            })
            .optional()?;
        Ok(row.map(|(kind, v, u)| match kind.as_str() {
            "maildir" => Checkpoint::Maildir,
            _ => Checkpoint::Imap {
                uidvalidity: v as u32,
                last_uid: u as u32,
            },
        }))
    }

    /// Sets a checkpoint outright (baseline, or after a UIDVALIDITY reset).
    pub fn set_checkpoint(&self, mb: &MailboxId, cp: &Checkpoint) -> Result<(), StoreError> {
        let c = self.lock();
        write_checkpoint(&c, mb, cp, true)?;
        Ok(())
    }

    /// Was this message (by position) already processed?
    pub fn seen_position(&self, mb: &MailboxId, pos: &Position) -> Result<bool, StoreError> {
        let c = self.lock();
        let key = position_key(pos);
        let mut st =
            c.prepare_cached("SELECT 1 FROM messages WHERE account=?1 AND mailbox=?2 AND pos=?3")?;
        Ok(st.exists(params![mb.account, mb.mailbox, key])?)
    }

    /// Was a message with this Message-ID already processed in this account?
    pub fn seen_message_id(&self, account: &str, message_id: &str) -> Result<bool, StoreError> {
        let c = self.lock();
        let mut st =
            c.prepare_cached("SELECT 1 FROM messages WHERE account=?1 AND message_id=?2 LIMIT 1")?;
        Ok(st.exists(params![account, message_id])?)
    }

    /// Records a processed message, its alert (if any) with deliveries, and advances the
    /// checkpoint, all in one transaction. Returns the alert id. A message already recorded at
    /// this position is skipped (returns Ok(None)) so a replay never alerts twice.
    pub fn record(
        &self,
        rec: &Recorded,
        alert: Option<&NewAlert>,
    ) -> Result<Option<i64>, StoreError> {
        let plan = match alert {
            Some(a) => AlertPlan::New(a),
            None => AlertPlan::Nothing,
        };
        self.record_plan(rec, plan)
    }

    /// Like [`Store::record`], with a burst's further trade joining an earlier alert: the line is
    /// appended to that alert's text (so its repeats list every trade) in the same transaction.
    pub fn record_plan(&self, rec: &Recorded, plan: AlertPlan) -> Result<Option<i64>, StoreError> {
        let mut c = self.lock();
        let tx = c.transaction()?;
        let key = position_key(rec.position);
        let v = rec.verdict;
        let inserted = tx
            .prepare_cached(
                "INSERT OR IGNORE INTO messages (account, mailbox, pos, message_id, received_at, processed_at,
                broker, event, severity, phishing, expected, rule, verdict)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            )?
            .execute(params![
                rec.mailbox.account,
                rec.mailbox.mailbox,
                key,
                v.message_id,
                rec.received_at,
                now(),
                v.broker,
                v.event.map(|e| e.as_str()),
                v.severity.as_str(),
                v.phishing,
                v.expected,
                v.rule,
                serde_json::to_string(v).unwrap_or_default(),
            ],
        )?;
        let mut alert_id = None;
        if inserted > 0 {
            match plan {
                AlertPlan::Nothing => {}
                AlertPlan::New(a) => {
                    let msg_row = tx.last_insert_rowid();
                    alert_id = Some(outbox::insert_alert(&tx, a, Some(msg_row))?);
                }
                AlertPlan::Join { alert, line } => outbox::append_line(&tx, alert, line)?,
            }
        }
        if let Position::Imap { uidvalidity, uid } = rec.position {
            let cp = Checkpoint::Imap {
                uidvalidity: *uidvalidity,
                last_uid: *uid,
            };
            write_checkpoint(&tx, rec.mailbox, &cp, false)?;
        }
        tx.commit()?;
        Ok(alert_id)
    }

    /// Records the health of a source.
    pub fn source_ok(&self, mb: &MailboxId) -> Result<(), StoreError> {
        let c = self.lock();
        c.execute(
            "INSERT INTO sources (account, mailbox, last_ok) VALUES (?1, ?2, ?3)
             ON CONFLICT(account, mailbox) DO UPDATE SET last_ok=excluded.last_ok",
            params![mb.account, mb.mailbox, now()],
        )?;
        Ok(())
    }

    /// Records a failed attempt. `last_error_at` stays at the outage's FIRST failure (an outage
    /// ends with a successful check after it), so "failing for" counts the whole outage.
    pub fn source_error(&self, mb: &MailboxId, error: &str) -> Result<(), StoreError> {
        let c = self.lock();
        c.execute(
            "INSERT INTO sources (account, mailbox, last_error, last_error_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(account, mailbox) DO UPDATE SET last_error=excluded.last_error,
               last_error_at = CASE
                 WHEN sources.last_error_at IS NOT NULL
                      AND (sources.last_ok IS NULL OR sources.last_error_at > sources.last_ok)
                 THEN sources.last_error_at ELSE excluded.last_error_at END",
            params![mb.account, mb.mailbox, error, now()],
        )?;
        Ok(())
    }

    /// Health of every mailbox seen so far.
    pub fn sources(&self) -> Result<Vec<SourceHealth>, StoreError> {
        let c = self.lock();
        let mut st = c.prepare(
            "SELECT account, mailbox, last_ok, last_error, last_error_at FROM sources ORDER BY account, mailbox",
        )?;
        let rows = st.query_map([], |r| {
            Ok(SourceHealth {
                mailbox: MailboxId {
                    account: r.get(0)?,
                    mailbox: r.get(1)?,
                },
                last_ok: r.get(2)?,
                last_error: r.get(3)?,
                last_error_at: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Declares an expectation window; returns its id.
    pub fn add_expectation(
        &self,
        broker: &str,
        event: EventKind,
        from: i64,
        until: i64,
        note: Option<&str>,
    ) -> Result<i64, StoreError> {
        let c = self.lock();
        c.execute(
            "INSERT INTO expectations (broker, event, from_ts, until_ts, note) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![broker, event.as_str(), from, until, note],
        )?;
        Ok(c.last_insert_rowid())
    }

    /// Expectations whose window contains `at`.
    pub fn active_expectations(&self, at: i64) -> Result<Vec<Expectation>, StoreError> {
        let c = self.lock();
        let mut st = c.prepare_cached(
            "SELECT id, broker, event, from_ts, until_ts, note FROM expectations
             WHERE from_ts <= ?1 AND until_ts > ?1 ORDER BY id",
        )?;
        let rows = st.query_map([at], |r| {
            let ev: String = r.get(2)?;
            Ok((r.get(0)?, r.get(1)?, ev, r.get(3)?, r.get(4)?, r.get(5)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, broker, ev, from, until, note) = row?;
            if let Ok(event) = ev.parse() {
                out.push(Expectation {
                    id,
                    broker,
                    event,
                    from,
                    until,
                    note,
                });
            }
        }
        Ok(out)
    }

    /// Unexpected, genuine-or-unverified security notices of one broker since `since`, oldest
    /// first: (epoch seconds, event, fields as JSON).
    pub fn security_steps(
        &self,
        broker: &str,
        since: i64,
    ) -> Result<Vec<(i64, String, String)>, StoreError> {
        let c = self.lock();
        let mut st = c.prepare(
            "SELECT COALESCE(received_at, processed_at), event, verdict FROM messages
             WHERE broker=?1 AND COALESCE(received_at, processed_at) >= ?2 AND phishing=0 AND expected=0
               AND (event IN ('withdrawal','email_change','payout_account_change','login','password_change','mfa_change','profile_change')
                    OR (event='trade' AND severity IN ('warning','critical')))
             ORDER BY COALESCE(received_at, processed_at), id",
        )?;
        let rows = st.query_map(params![broker, since], |r| {
            let verdict: String = r.get(2)?;
            let fields = serde_json::from_str::<serde_json::Value>(&verdict)
                .ok()
                .and_then(|v| v.get("fields").map(|f| f.to_string()))
                .unwrap_or_default();
            Ok((r.get(0)?, r.get(1)?, fields))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The newest mail of each broker that was not a phishing copy: (broker, epoch seconds).
    pub fn last_mail_per_broker(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let c = self.lock();
        let mut st = c.prepare(
            "SELECT broker, MAX(COALESCE(received_at, processed_at)) FROM messages
             WHERE broker IS NOT NULL AND phishing=0 GROUP BY broker ORDER BY broker",
        )?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Unacknowledged alerts about genuine notices created since `since`, with where the notice sits.
    pub fn watched_notices(&self, since: i64) -> Result<Vec<WatchedNotice>, StoreError> {
        let c = self.lock();
        let mut st = c.prepare(
            "SELECT a.id, a.broker, m.account, m.mailbox, m.pos FROM alerts a JOIN messages m ON m.id = a.message
             WHERE a.kind IN ('unexpected', 'expected') AND a.acked_at IS NULL AND a.created_at >= ?1
               AND m.pos LIKE 'imap:%' ORDER BY a.id",
        )?;
        let rows = st.query_map([since], |r| {
            Ok(WatchedNotice {
                alert: r.get(0)?,
                broker: r.get(1)?,
                account: r.get(2)?,
                mailbox: r.get(3)?,
                pos: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The newest unacknowledged alert about an unexpected trade at `broker` since `since`: a
    /// further trade of the same burst joins it instead of alerting per fill.
    pub fn open_trade_alert(&self, broker: &str, since: i64) -> Result<Option<i64>, StoreError> {
        let c = self.lock();
        Ok(c.query_row(
            "SELECT id FROM alerts WHERE kind='unexpected' AND event='trade' AND broker=?1
               AND created_at >= ?2 AND acked_at IS NULL ORDER BY id DESC LIMIT 1",
            params![broker, since],
            |r| r.get(0),
        )
        .optional()?)
    }

    /// Was a takeover alert for this broker raised since `since`?
    pub fn takeover_alerted(&self, broker: &str, since: i64) -> Result<bool, StoreError> {
        let c = self.lock();
        Ok(c.query_row(
            "SELECT 1 FROM alerts WHERE kind='takeover' AND broker=?1 AND created_at >= ?2 LIMIT 1",
            params![broker, since],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
    }

    /// Counts of recorded messages (for `status`).
    pub fn message_count(&self) -> Result<i64, StoreError> {
        let c = self.lock();
        Ok(c.query_row("SELECT COUNT(*) FROM messages", [], |r| r.get(0))?)
    }

    /// Forgets the IMAP checkpoint after a UIDVALIDITY change (messages stay, for de-duplication).
    pub fn reset_imap(&self, mb: &MailboxId, uidvalidity: u32) -> Result<(), StoreError> {
        self.set_checkpoint(
            mb,
            &Checkpoint::Imap {
                uidvalidity,
                last_uid: 0,
            },
        )
    }
}

fn position_key(p: &Position) -> String {
    match p {
        Position::Imap { uidvalidity, uid } => format!("imap:{uidvalidity}:{uid}"),
        Position::Maildir { name } => format!("maildir:{name}"),
    }
}

fn write_checkpoint(
    c: &Connection,
    mb: &MailboxId,
    cp: &Checkpoint,
    overwrite: bool,
) -> Result<(), rusqlite::Error> {
    let (kind, v, u) = match cp {
        Checkpoint::Imap {
            uidvalidity,
            last_uid,
        } => ("imap", *uidvalidity as i64, *last_uid as i64),
        Checkpoint::Maildir => ("maildir", 0, 0),
    };
    // Processing in order only moves forward; an explicit set (baseline, reset) may move back.
    let sql = if overwrite {
        "INSERT INTO checkpoints (account, mailbox, kind, uidvalidity, last_uid, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT(account, mailbox) DO UPDATE SET kind=excluded.kind, uidvalidity=excluded.uidvalidity,
            last_uid=excluded.last_uid, updated_at=excluded.updated_at"
    } else {
        "INSERT INTO checkpoints (account, mailbox, kind, uidvalidity, last_uid, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT(account, mailbox) DO UPDATE SET
            last_uid = CASE WHEN checkpoints.uidvalidity = excluded.uidvalidity
                            THEN MAX(checkpoints.last_uid, excluded.last_uid) ELSE excluded.last_uid END,
            uidvalidity = excluded.uidvalidity, updated_at = excluded.updated_at"
    };
    c.prepare_cached(sql)?
        .execute(params![mb.account, mb.mailbox, kind, v, u, now()])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_state_is_private_to_the_user() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("state/brokerwatch.sqlite");
        let store = Store::open(&db).unwrap();
        store.kv_set("k", "v").unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&db), 0o600);
        assert_eq!(mode(&dir.path().join("state")), 0o700);
        assert_eq!(
            mode(&dir.path().join("state/brokerwatch.sqlite-wal")),
            0o600
        );
    }

    /// Issue #18 item 3: "failing since 5s ago" after 40 s of failure.
    #[test]
    fn an_outage_counts_from_its_first_failed_attempt() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.sqlite")).unwrap();
        let mb = MailboxId {
            account: "a".into(),
            mailbox: "INBOX".into(),
        };
        let shift = |col: &str, secs: i64| {
            store
                .lock()
                .execute(&format!("UPDATE sources SET {col} = {col} - ?1"), [secs])
                .unwrap();
        };
        let error_at = || store.sources().unwrap()[0].last_error_at.unwrap();
        store.source_error(&mb, "first").unwrap();
        shift("last_error_at", 40);
        let first = error_at();
        store.source_error(&mb, "again").unwrap();
        assert_eq!(
            error_at(),
            first,
            "a repeated failure moved the outage's start"
        );
        assert_eq!(
            store.sources().unwrap()[0].last_error.as_deref(),
            Some("again")
        );
        // A success ends the outage; the next failure starts a new one.
        store.source_ok(&mb).unwrap();
        shift("last_ok", -1);
        store.source_error(&mb, "new outage").unwrap();
        assert!(error_at() > first + 30, "a new outage kept the old start");
    }
    use crate::event::Severity;

    fn verdict(mid: &str) -> Verdict {
        Verdict {
            message_id: Some(mid.into()),
            broker: Some("sbi".into()),
            event: Some(EventKind::Withdrawal),
            authentic: Some(true),
            phishing: false,
            expected: false,
            severity: Severity::Critical,
            rule: Some("sbi-withdrawal".into()),
            fields: Default::default(),
            reasons: vec![],
            broker_name: None,
            subject: String::new(),
            sender: None,
            unrecognised: Vec::new(),
            generic: false,
            off_profile: Vec::new(),
            date: None,
            date_offset: None,
        }
    }

    fn alert(repeat: Option<i64>) -> NewAlert {
        let d = |s: &str, t: &str| NewDelivery {
            sink: s.parse().unwrap(),
            target: t.into(),
        };
        NewAlert {
            kind: crate::alert::AlertKind::Unexpected,
            severity: Severity::Critical,
            broker: Some("sbi".into()),
            event: Some("withdrawal".into()),
            title: "t".into(),
            body: "b".into(),
            texts: Default::default(),
            actionable: true,
            repeat_secs: repeat,
            deliveries: vec![d("console", "-"), d("telegram", "42")],
            repeat_to: vec![d("telegram", "42")],
        }
    }

    fn mb() -> MailboxId {
        MailboxId {
            account: "a".into(),
            mailbox: "INBOX".into(),
        }
    }

    #[test]
    fn message_alert_and_checkpoint_commit_together_and_replays_are_skipped() {
        let s = Store::open_memory().unwrap();
        let pos = Position::Imap {
            uidvalidity: 7,
            uid: 12,
        };
        let v = verdict("m1@x");
        let rec = Recorded {
            mailbox: &mb(),
            position: &pos,
            verdict: &v,
            received_at: None,
        };
        let id = s.record(&rec, Some(&alert(None))).unwrap();
        assert!(id.is_some());
        assert_eq!(
            s.checkpoint(&mb()).unwrap(),
            Some(Checkpoint::Imap {
                uidvalidity: 7,
                last_uid: 12
            })
        );
        // The same message again (a crash before the source noticed): no second alert.
        assert_eq!(s.record(&rec, Some(&alert(None))).unwrap(), None);
        assert_eq!(s.due_deliveries(now() + 1, 10).unwrap().len(), 2);
        assert!(s.seen_message_id("a", "m1@x").unwrap());
        // The checkpoint never moves back by processing an older uid.
        let old = Position::Imap {
            uidvalidity: 7,
            uid: 3,
        };
        let rec = Recorded {
            mailbox: &mb(),
            position: &old,
            verdict: &v,
            received_at: None,
        };
        s.record(&rec, None).unwrap();
        assert_eq!(
            s.checkpoint(&mb()).unwrap(),
            Some(Checkpoint::Imap {
                uidvalidity: 7,
                last_uid: 12
            })
        );
    }

    #[test]
    fn repeats_run_until_acknowledged() {
        let s = Store::open_memory().unwrap();
        let id = s.insert_alert(&alert(Some(60))).unwrap();
        assert!(s.start_due_repeats(now()).unwrap().is_empty());
        assert_eq!(s.start_due_repeats(now() + 61).unwrap(), vec![id]);
        let due = s.due_deliveries(now() + 61, 10).unwrap();
        assert_eq!(due.iter().filter(|d| d.round == 1).count(), 1, "{due:?}");
        assert!(s.ack(id, "test").unwrap());
        assert!(!s.ack(id, "test").unwrap());
        assert!(s.start_due_repeats(now() + 1000).unwrap().is_empty());
        let due = s.due_deliveries(now() + 1000, 10).unwrap();
        assert!(due.iter().all(|d| d.round == 0), "{due:?}");
    }

    #[test]
    fn expectations_have_a_window() {
        let s = Store::open_memory().unwrap();
        s.add_expectation("sbi", EventKind::Withdrawal, 100, 200, Some("n"))
            .unwrap();
        assert_eq!(s.active_expectations(150).unwrap().len(), 1);
        assert!(s.active_expectations(200).unwrap().is_empty());
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("db.sqlite");
        {
            let c = Connection::open(&p).unwrap();
            c.pragma_update(None, "user_version", 99).unwrap();
        }
        assert!(matches!(
            Store::open(&p),
            Err(StoreError::TooNew { found: 99, .. })
        ));
    }
}
