//! The deliveries of the outbox: which are due, their outcomes, and the repeat rounds that
//! add new ones for alerts nobody has acknowledged.

use rusqlite::params;

use super::{DeliveryRow, DeliveryState, NewDelivery, insert_delivery, parsed};
use crate::config::SinkKind;
use crate::store::{Store, StoreError, now};

impl Store {
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
}
