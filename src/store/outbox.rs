//! The outbox: alert rows and their per-sink, per-target deliveries. Delivery state survives
//! restarts; a sink that is down only delays its rows. Repeats are new delivery rounds.

use std::str::FromStr;

use rusqlite::types::Type;
use rusqlite::{OptionalExtension, Row, Transaction, params};

use super::{Store, StoreError, now};
use crate::alert::AlertKind;
use crate::config::SinkKind;
use crate::event::Severity;

/// A delivery to create with an alert: a sink and its target (a Telegram chat id, `-` for a
/// sink with a single target).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NewDelivery {
    pub sink: SinkKind,
    pub target: String,
}

/// An alert to write in the same transaction as the message that caused it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAlert {
    pub kind: AlertKind,
    pub severity: Severity,
    pub broker: Option<String>,
    pub event: Option<String>,
    pub title: String,
    pub body: String,
    pub actionable: bool,
    /// Seconds between repeats until acknowledged; None = once.
    pub repeat_secs: Option<i64>,
    /// Deliveries of the first round.
    pub deliveries: Vec<NewDelivery>,
    /// Sinks (with targets) that repeat rounds go to.
    pub repeat_to: Vec<NewDelivery>,
}

impl NewAlert {
    /// An alert sent once to `deliveries`, about no broker, asking for no answer.
    pub fn once(
        kind: AlertKind,
        severity: Severity,
        title: &str,
        deliveries: Vec<NewDelivery>,
    ) -> NewAlert {
        NewAlert {
            kind,
            severity,
            broker: None,
            event: None,
            title: title.to_string(),
            body: String::new(),
            actionable: false,
            repeat_secs: None,
            deliveries,
            repeat_to: Vec::new(),
        }
    }
}

/// State of one delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryState {
    Pending,
    Sent,
    /// The sink cannot work here (no session bus): not retried.
    Unavailable,
    /// The alert was acknowledged before this repeat went out.
    Cancelled,
    /// Waiting for the end of quiet hours, to go out in that target's summary.
    Held,
    /// The sink's budget or rate limit was spent: the alert went to the next sink instead.
    Rerouted,
}

impl DeliveryState {
    pub const ALL: [DeliveryState; 6] = [
        DeliveryState::Pending,
        DeliveryState::Sent,
        DeliveryState::Unavailable,
        DeliveryState::Cancelled,
        DeliveryState::Held,
        DeliveryState::Rerouted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Sent => "sent",
            DeliveryState::Unavailable => "unavailable",
            DeliveryState::Cancelled => "cancelled",
            DeliveryState::Held => "held",
            DeliveryState::Rerouted => "rerouted",
        }
    }
}

/// The error for an unknown delivery state.
#[derive(Debug, thiserror::Error)]
#[error(
    "unknown delivery state `{0}` (expected one of: pending, sent, unavailable, cancelled, held, rerouted)"
)]
pub struct UnknownDeliveryState(pub String);

impl FromStr for DeliveryState {
    type Err = UnknownDeliveryState;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DeliveryState::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownDeliveryState(s.to_string()))
    }
}

/// Reads a column stored as a name (kind, severity, sink, state) into its type. A value that
/// does not parse is an error naming it, never a guess: a guessed severity or kind would change
/// what a person is told.
pub(super) fn parsed<T>(r: &Row, i: usize) -> rusqlite::Result<T>
where
    T: FromStr,
    T::Err: std::error::Error + Send + Sync + 'static,
{
    let text: String = r.get(i)?;
    text.parse()
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, Type::Text, Box::new(e)))
}

/// An alert as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertRow {
    pub id: i64,
    pub created_at: i64,
    pub kind: AlertKind,
    pub severity: Severity,
    pub broker: Option<String>,
    pub event: Option<String>,
    pub title: String,
    pub body: String,
    pub actionable: bool,
    pub round: i64,
    pub acked_at: Option<i64>,
    pub acked_by: Option<String>,
    pub snoozed_until: Option<i64>,
    pub not_me_at: Option<i64>,
}

/// A delivery that is due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRow {
    pub alert: i64,
    pub sink: SinkKind,
    pub target: String,
    pub round: i64,
    pub attempts: i64,
}

pub(super) fn insert_alert(
    tx: &Transaction,
    a: &NewAlert,
    message: Option<i64>,
) -> Result<i64, rusqlite::Error> {
    let t = now();
    tx.prepare_cached(
        "INSERT INTO alerts (created_at, message, kind, severity, broker, event, title, body,
            actionable, repeat_secs, next_repeat_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params![
        t,
        message,
        a.kind.as_str(),
        a.severity.as_str(),
        a.broker,
        a.event,
        a.title,
        a.body,
        a.actionable,
        a.repeat_secs,
        a.repeat_secs.map(|r| t + r),
    ])?;
    let id = tx.last_insert_rowid();
    for d in &a.deliveries {
        insert_delivery(tx, id, d, 0, t)?;
    }
    for d in &a.repeat_to {
        tx.prepare_cached(
            "INSERT OR IGNORE INTO repeat_targets (alert, sink, target) VALUES (?1, ?2, ?3)",
        )?
        .execute(params![id, d.sink.as_str(), d.target])?;
    }
    Ok(id)
}

fn insert_delivery(
    tx: &Transaction,
    alert: i64,
    d: &NewDelivery,
    round: i64,
    at: i64,
) -> Result<(), rusqlite::Error> {
    tx.prepare_cached(
        "INSERT OR IGNORE INTO deliveries (alert, sink, target, round, state, next_attempt_at)
         VALUES (?1, ?2, ?3, ?4, 'pending', ?5)",
    )?
    .execute(params![alert, d.sink.as_str(), d.target, round, at])?;
    Ok(())
}

pub(super) fn alert_from_row(r: &rusqlite::Row) -> rusqlite::Result<AlertRow> {
    Ok(AlertRow {
        id: r.get(0)?,
        created_at: r.get(1)?,
        kind: parsed(r, 2)?,
        severity: parsed(r, 3)?,
        broker: r.get(4)?,
        event: r.get(5)?,
        title: r.get(6)?,
        body: r.get(7)?,
        actionable: r.get(8)?,
        round: r.get(9)?,
        acked_at: r.get(10)?,
        acked_by: r.get(11)?,
        snoozed_until: r.get(12)?,
        not_me_at: r.get(13)?,
    })
}

pub(super) const ALERT_COLS: &str =
    "id, created_at, kind, severity, broker, event, title, body, actionable,
    round, acked_at, acked_by, snoozed_until, not_me_at";

impl Store {
    /// Writes an alert that has no message behind it (health, takeover, test).
    pub fn insert_alert(&self, a: &NewAlert) -> Result<i64, StoreError> {
        let mut c = self.lock();
        let tx = c.transaction()?;
        let id = insert_alert(&tx, a, None)?;
        tx.commit()?;
        Ok(id)
    }

    pub fn alert(&self, id: i64) -> Result<Option<AlertRow>, StoreError> {
        let c = self.lock();
        Ok(c.query_row(
            &format!("SELECT {ALERT_COLS} FROM alerts WHERE id=?1"),
            [id],
            alert_from_row,
        )
        .optional()?)
    }

    /// Alerts not yet acknowledged that ask for an answer, newest first.
    pub fn unacked_alerts(&self) -> Result<Vec<AlertRow>, StoreError> {
        let c = self.lock();
        let mut st = c.prepare(&format!(
            "SELECT {ALERT_COLS} FROM alerts WHERE acked_at IS NULL AND actionable ORDER BY id DESC"
        ))?;
        let rows = st.query_map([], alert_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Alerts created since `since`, newest first.
    pub fn recent_alerts(&self, since: i64) -> Result<Vec<AlertRow>, StoreError> {
        let c = self.lock();
        let mut st = c.prepare(&format!(
            "SELECT {ALERT_COLS} FROM alerts WHERE created_at >= ?1 ORDER BY id DESC"
        ))?;
        let rows = st.query_map([since], alert_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Acknowledges an alert: its repeats stop. False if no such alert or already acknowledged.
    pub fn ack(&self, id: i64, by: &str) -> Result<bool, StoreError> {
        self.ack_and_notify(id, by, &[], None)
    }

    /// "Not me": the alert stays unacknowledged and critical; remembered for status.
    pub fn not_me(&self, id: i64) -> Result<bool, StoreError> {
        let c = self.lock();
        let n = c.execute(
            "UPDATE alerts SET not_me_at=?2, severity='critical' WHERE id=?1",
            params![id, now()],
        )?;
        Ok(n > 0)
    }

    /// Postpones the repeats of one alert.
    pub fn snooze(&self, id: i64, until: i64) -> Result<bool, StoreError> {
        let c = self.lock();
        let n = c.execute(
            "UPDATE alerts SET snoozed_until=?2, next_repeat_at=MAX(COALESCE(next_repeat_at, 0), ?2)
             WHERE id=?1 AND acked_at IS NULL",
            params![id, until],
        )?;
        Ok(n > 0)
    }

    /// Deliveries whose time has come, oldest first.
    pub fn due_deliveries(&self, at: i64, limit: usize) -> Result<Vec<DeliveryRow>, StoreError> {
        self.due_deliveries_except(at, limit, &[])
    }

    /// [`due_deliveries`](Self::due_deliveries) of every sink but those in `skip` (busy ones).
    pub fn due_deliveries_except(
        &self,
        at: i64,
        limit: usize,
        skip: &[SinkKind],
    ) -> Result<Vec<DeliveryRow>, StoreError> {
        let skip: Vec<&str> = skip.iter().map(|k| k.as_str()).collect();
        let skip = serde_json::to_string(&skip).unwrap_or_else(|_| "[]".into());
        let c = self.lock();
        let mut st = c.prepare_cached(
            "SELECT alert, sink, target, round, attempts FROM deliveries
             WHERE state='pending' AND next_attempt_at <= ?1
               AND sink NOT IN (SELECT value FROM json_each(?3))
             ORDER BY next_attempt_at, alert LIMIT ?2",
        )?;
        let rows = st.query_map(params![at, limit as i64, skip], |r| {
            Ok(DeliveryRow {
                alert: r.get(0)?,
                sink: parsed(r, 1)?,
                target: r.get(2)?,
                round: r.get(3)?,
                attempts: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The earliest time a pending delivery is due, if any.
    pub fn next_delivery_at(&self) -> Result<Option<i64>, StoreError> {
        let c = self.lock();
        Ok(c.query_row(
            "SELECT MIN(next_attempt_at) FROM deliveries WHERE state='pending'",
            [],
            |r| r.get(0),
        )?)
    }

    /// Per sink target, the earliest time one of its pending deliveries is due.
    pub fn next_delivery_per_target(&self) -> Result<Vec<(SinkKind, String, i64)>, StoreError> {
        let c = self.lock();
        let mut st = c.prepare_cached(
            "SELECT sink, target, MIN(next_attempt_at) FROM deliveries WHERE state='pending'
             GROUP BY sink, target",
        )?;
        let rows = st.query_map([], |r| Ok((parsed(r, 0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The earliest time an unacknowledged alert repeats, if any.
    pub fn next_repeat_at(&self) -> Result<Option<i64>, StoreError> {
        let c = self.lock();
        Ok(c.query_row(
            "SELECT MIN(MAX(next_repeat_at, COALESCE(snoozed_until, 0))) FROM alerts
             WHERE acked_at IS NULL AND next_repeat_at IS NOT NULL",
            [],
            |r| r.get(0),
        )?)
    }

    /// Records the outcome of one attempt.
    pub fn delivery_done(
        &self,
        d: &DeliveryRow,
        state: DeliveryState,
        remote_id: Option<&str>,
    ) -> Result<(), StoreError> {
        let c = self.lock();
        c.execute(
            "UPDATE deliveries SET state=?5, attempts=attempts+1, remote_id=?6, sent_at=?7, last_error=NULL
             WHERE alert=?1 AND sink=?2 AND target=?3 AND round=?4",
            params![d.alert, d.sink.as_str(), d.target, d.round, state.as_str(), remote_id, now()],
        )?;
        Ok(())
    }

    /// Records a failed attempt and when to try again.
    pub fn delivery_retry(
        &self,
        d: &DeliveryRow,
        error: &str,
        next_at: i64,
    ) -> Result<(), StoreError> {
        let c = self.lock();
        c.execute(
            "UPDATE deliveries SET attempts=attempts+1, last_error=?5, next_attempt_at=?6
             WHERE alert=?1 AND sink=?2 AND target=?3 AND round=?4",
            params![d.alert, d.sink.as_str(), d.target, d.round, error, next_at],
        )?;
        Ok(())
    }

    /// Starts the next round for unacknowledged alerts whose repeat is due; returns their ids.
    pub fn start_due_repeats(&self, at: i64) -> Result<Vec<i64>, StoreError> {
        let mut c = self.lock();
        let tx = c.transaction()?;
        let due: Vec<(i64, i64, i64)> = {
            let mut st = tx.prepare(
                "SELECT id, round, repeat_secs FROM alerts WHERE acked_at IS NULL AND next_repeat_at IS NOT NULL
                 AND next_repeat_at <= ?1 AND COALESCE(snoozed_until, 0) <= ?1",
            )?;
            let rows = st.query_map([at], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            rows.collect::<Result<_, _>>()?
        };
        for (id, round, every) in &due {
            let targets: Vec<NewDelivery> = {
                let mut st = tx.prepare_cached(
                    "SELECT sink, target FROM repeat_targets WHERE alert=?1 ORDER BY sink, target",
                )?;
                let rows = st.query_map([id], |r| {
                    Ok(NewDelivery {
                        sink: parsed(r, 0)?,
                        target: r.get(1)?,
                    })
                })?;
                rows.collect::<Result<_, _>>()?
            };
            for d in &targets {
                insert_delivery(&tx, *id, d, round + 1, at)?;
            }
            tx.execute(
                "UPDATE alerts SET round=round+1, next_repeat_at=?2 WHERE id=?1",
                params![id, at + every.max(&60)],
            )?;
        }
        tx.commit()?;
        Ok(due.into_iter().map(|(id, _, _)| id).collect())
    }

    /// Pending deliveries per sink (for `status`).
    pub fn pending_deliveries(&self) -> Result<Vec<(SinkKind, i64, Option<String>)>, StoreError> {
        let c = self.lock();
        let mut st = c.prepare(
            "SELECT sink, COUNT(*), MAX(last_error) FROM deliveries WHERE state='pending' GROUP BY sink ORDER BY sink",
        )?;
        let rows = st.query_map([], |r| Ok((parsed(r, 0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Remote ids recorded for an alert's deliveries (e.g. Telegram message ids).
    pub fn remote_ids(&self, alert: i64) -> Result<Vec<(SinkKind, String)>, StoreError> {
        let c = self.lock();
        let mut st = c.prepare(
            "SELECT sink, remote_id FROM deliveries WHERE alert=?1 AND remote_id IS NOT NULL ORDER BY round",
        )?;
        let rows = st.query_map([alert], |r| Ok((parsed(r, 0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// A small persistent key-value (e.g. the Telegram update offset).
    pub fn kv_get(&self, key: &str) -> Result<Option<String>, StoreError> {
        let c = self.lock();
        Ok(
            c.query_row("SELECT value FROM kv WHERE key=?1", [key], |r| r.get(0))
                .optional()?,
        )
    }

    pub fn kv_set(&self, key: &str, value: &str) -> Result<(), StoreError> {
        let c = self.lock();
        c.execute(
            "INSERT INTO kv (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
            params![key, value],
        )?;
        Ok(())
    }

    pub fn kv_delete(&self, key: &str) -> Result<bool, StoreError> {
        let c = self.lock();
        Ok(c.execute("DELETE FROM kv WHERE key=?1", [key])? > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_deliveries_except_leaves_out_busy_sinks() {
        let s = Store::open_memory().unwrap();
        let to = |sink: SinkKind, target: &str| NewDelivery {
            sink,
            target: target.into(),
        };
        let to = vec![
            to(SinkKind::Console, "-"),
            to(SinkKind::Telegram, "1"),
            to(SinkKind::Telegram, "2"),
        ];
        s.insert_alert(&NewAlert::once(
            AlertKind::Unexpected,
            Severity::Critical,
            "t",
            to,
        ))
        .unwrap();
        let sinks = |skip: &[SinkKind]| -> Vec<SinkKind> {
            let due = s.due_deliveries_except(now() + 1, 10, skip).unwrap();
            due.into_iter().map(|d| d.sink).collect()
        };
        use SinkKind::{Console, Telegram};
        assert_eq!(sinks(&[]), [Console, Telegram, Telegram]);
        assert_eq!(sinks(&[Telegram]), [Console]);
        assert!(sinks(&[Telegram, Console]).is_empty());
    }

    /// Regression: a stored kind that did not parse became "unexpected", a severity "critical".
    #[test]
    fn a_stored_value_that_does_not_parse_is_an_error_naming_it() {
        let s = Store::open_memory().unwrap();
        let id = s
            .insert_alert(&NewAlert::once(
                AlertKind::Health,
                Severity::Info,
                "t",
                vec![],
            ))
            .unwrap();
        assert_eq!(s.alert(id).unwrap().unwrap().severity, Severity::Info);
        s.lock()
            .execute("UPDATE alerts SET severity='loud' WHERE id=?1", [id])
            .unwrap();
        let e = s.alert(id).unwrap_err().to_string();
        assert!(e.contains("`loud`"), "{e}");
        s.lock()
            .execute(
                "UPDATE alerts SET severity='info', kind='odd' WHERE id=?1",
                [id],
            )
            .unwrap();
        let e = s.alert(id).unwrap_err().to_string();
        assert!(e.contains("unknown alert kind `odd`"), "{e}");
    }
}
