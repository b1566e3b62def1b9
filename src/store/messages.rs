//! Processed messages and the checkpoints they advance: one message (or a fetched batch of
//! them, [`Batch`]) is recorded with its alert and the advanced checkpoint in one transaction.

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::outbox::{self, AlertLine, NewAlert};
use super::{Store, StoreError, now};
use crate::assess::Verdict;
use crate::source::{Checkpoint, MailboxId, Position};

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

impl Store {
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
        seen_position(&self.lock(), mb, pos)
    }

    /// Was a message with this Message-ID already processed in this account?
    pub fn seen_message_id(&self, account: &str, message_id: &str) -> Result<bool, StoreError> {
        seen_message_id(&self.lock(), account, message_id)
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
        self.in_batch(|b| b.record_plan(rec, plan))
    }

    /// Runs `f` in one transaction, committed when it returns Ok (rolled back on an error): a
    /// fetched batch of messages costs one commit, not one per message. While `f` runs this
    /// store is locked, so `f` must reach the database through the [`Batch`] only.
    ///
    /// Replaying a batch after a crash is safe: a message is inserted only where none was
    /// recorded at its position, and only a newly inserted message creates or joins an alert.
    pub fn in_batch<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&Batch) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut c = self.lock();
        let tx = c.transaction().map_err(StoreError::from)?;
        let out = f(&Batch { tx: &tx })?;
        tx.commit().map_err(StoreError::from)?;
        Ok(out)
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

/// The open transaction of [`Store::in_batch`]: what it reads includes what it wrote (an
/// alert created earlier in the batch is there for a later trade's burst lookup).
pub struct Batch<'t> {
    tx: &'t Transaction<'t>,
}

impl Batch<'_> {
    /// [`Store::seen_message_id`], in this transaction.
    pub fn seen_message_id(&self, account: &str, message_id: &str) -> Result<bool, StoreError> {
        seen_message_id(self.tx, account, message_id)
    }

    /// [`Store::open_trade_alert`], in this transaction.
    pub fn open_trade_alert(&self, broker: &str, since: i64) -> Result<Option<i64>, StoreError> {
        super::history::open_trade_alert(self.tx, broker, since)
    }

    /// [`Store::record_plan`], in this transaction (committed with the batch).
    pub fn record_plan(&self, rec: &Recorded, plan: AlertPlan) -> Result<Option<i64>, StoreError> {
        let tx = self.tx;
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
            ])?;
        let mut alert_id = None;
        if inserted > 0 {
            match plan {
                AlertPlan::Nothing => {}
                AlertPlan::New(a) => {
                    let msg_row = tx.last_insert_rowid();
                    alert_id = Some(outbox::insert_alert(tx, a, Some(msg_row))?);
                }
                AlertPlan::Join { alert, line } => outbox::append_line(tx, alert, line)?,
            }
        }
        if let Position::Imap { uidvalidity, uid } = rec.position {
            let cp = Checkpoint::Imap {
                uidvalidity: *uidvalidity,
                last_uid: *uid,
            };
            write_checkpoint(tx, rec.mailbox, &cp, false)?;
        }
        Ok(alert_id)
    }
}

fn seen_position(c: &Connection, mb: &MailboxId, pos: &Position) -> Result<bool, StoreError> {
    let key = position_key(pos);
    let mut st =
        c.prepare_cached("SELECT 1 FROM messages WHERE account=?1 AND mailbox=?2 AND pos=?3")?;
    Ok(st.exists(params![mb.account, mb.mailbox, key])?)
}

fn seen_message_id(c: &Connection, account: &str, message_id: &str) -> Result<bool, StoreError> {
    let mut st =
        c.prepare_cached("SELECT 1 FROM messages WHERE account=?1 AND message_id=?2 LIMIT 1")?;
    Ok(st.exists(params![account, message_id])?)
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
