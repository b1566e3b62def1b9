//! Deliveries that are not one of an alert's own rounds, kept in the same `deliveries` table so
//! they get the outbox's retries, pauses and restart safety: the "acknowledged by" notice each
//! person who got an alert receives ([`ACK_NOTICE`]), and the summary that releases what quiet
//! hours held back for a target ([`SUMMARY`]).

use rusqlite::{OptionalExtension, params};

use super::outbox::{ALERT_COLS, alert_from_row};
use super::{AlertRow, DeliveryRow, DeliveryState, NewDelivery, Store, StoreError, now};
use crate::config::SinkKind;

/// The round of an "acknowledged by" notice (alert rounds count up from 0).
pub const ACK_NOTICE: i64 = -1;
/// The round of a quiet-hours summary; its `alert` is the newest alert it lists.
pub const SUMMARY: i64 = -2;

impl Store {
    /// Acknowledges an alert (its repeats stop for everyone) and, in the same transaction, queues an
    /// "acknowledged by" notice to every target on `to` sinks that was sent the alert, except
    /// `from` (the chat the acknowledgement came from, which gets its own reply).
    pub fn ack_and_notify(
        &self,
        id: i64,
        by: &str,
        to: &[SinkKind],
        from: Option<&NewDelivery>,
    ) -> Result<bool, StoreError> {
        let to: Vec<&str> = to.iter().map(|k| k.as_str()).collect();
        let to = serde_json::to_string(&to).unwrap_or_else(|_| "[]".into());
        let (from_sink, from_target) = match from {
            Some(d) => (d.sink.as_str(), d.target.as_str()),
            None => ("", ""),
        };
        let mut c = self.lock();
        let tx = c.transaction()?;
        let t = now();
        let n = tx.execute(
            "UPDATE alerts SET acked_at=?2, acked_by=?3, next_repeat_at=NULL WHERE id=?1 AND acked_at IS NULL",
            params![id, t, by],
        )?;
        // Repeats not yet sent are pointless now; first-round deliveries still go out.
        tx.execute(
            "UPDATE deliveries SET state='cancelled' WHERE alert=?1 AND state='pending' AND round > 0",
            [id],
        )?;
        if n > 0 {
            tx.execute(
                "INSERT OR IGNORE INTO deliveries (alert, sink, target, round, state, next_attempt_at)
                 SELECT DISTINCT alert, sink, target, ?2, 'pending', ?3 FROM deliveries
                 WHERE alert=?1 AND state='sent' AND round >= 0
                   AND sink IN (SELECT value FROM json_each(?4))
                   AND NOT (sink=?5 AND target=?6)",
                params![id, ACK_NOTICE, t, to, from_sink, from_target],
            )?;
        }
        tx.commit()?;
        Ok(n > 0)
    }

    /// Holds a delivery for the quiet-hours summary instead of sending it now.
    pub fn hold(&self, d: &DeliveryRow) -> Result<(), StoreError> {
        let c = self.lock();
        c.execute(
            "UPDATE deliveries SET state=?5 WHERE alert=?1 AND sink=?2 AND target=?3 AND round=?4",
            params![
                d.alert,
                d.sink.as_str(),
                d.target,
                d.round,
                DeliveryState::Held.as_str()
            ],
        )?;
        Ok(())
    }

    /// Whether anything is held for a summary.
    pub fn has_held(&self) -> Result<bool, StoreError> {
        let c = self.lock();
        Ok(
            c.prepare_cached("SELECT 1 FROM deliveries WHERE state='held' LIMIT 1")?
                .exists([])?,
        )
    }

    /// Queues one summary per target that has held deliveries and no summary waiting yet;
    /// returns how many. Run when quiet hours are over.
    pub fn release_held(&self) -> Result<usize, StoreError> {
        let mut c = self.lock();
        let tx = c.transaction()?;
        let targets: Vec<(String, String, i64)> = {
            let mut st = tx.prepare(
                "SELECT h.sink, h.target, MAX(h.alert) FROM deliveries h WHERE h.state='held'
                   AND NOT EXISTS (SELECT 1 FROM deliveries s WHERE s.sink=h.sink
                       AND s.target=h.target AND s.round=?1 AND s.state='pending')
                 GROUP BY h.sink, h.target",
            )?;
            let rows = st.query_map([SUMMARY], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            rows.collect::<Result<_, _>>()?
        };
        for (sink, target, alert) in &targets {
            // NOTE: an upsert: a summary row of the same newest alert may be left from an
            // earlier night (a held repeat of it), and must go out again.
            tx.execute(
                "INSERT INTO deliveries (alert, sink, target, round, state, next_attempt_at)
                 VALUES (?1, ?2, ?3, ?4, 'pending', ?5)
                 ON CONFLICT (alert, sink, target, round) DO UPDATE SET state='pending',
                   attempts=0, next_attempt_at=excluded.next_attempt_at, last_error=NULL",
                params![alert, sink, target, SUMMARY, now()],
            )?;
        }
        tx.commit()?;
        Ok(targets.len())
    }

    /// The alerts a summary row lists: held for its target, up to its alert, not acknowledged
    /// meanwhile; oldest first.
    pub fn held_for(&self, d: &DeliveryRow) -> Result<Vec<AlertRow>, StoreError> {
        let c = self.lock();
        let mut st = c.prepare(&format!(
            "SELECT {ALERT_COLS} FROM alerts WHERE acked_at IS NULL AND id IN
               (SELECT alert FROM deliveries WHERE state='held' AND sink=?1 AND target=?2
                AND alert <= ?3)
             ORDER BY id"
        ))?;
        let rows = st.query_map(params![d.sink.as_str(), d.target, d.alert], alert_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// After a summary went out (`Sent`) or had nothing left to list (`Cancelled`): the held
    /// deliveries it covered take that state.
    pub fn summary_done(&self, d: &DeliveryRow, state: DeliveryState) -> Result<(), StoreError> {
        let c = self.lock();
        c.execute(
            "UPDATE deliveries SET state=?4, sent_at=?5 WHERE state='held' AND sink=?1 AND target=?2
               AND alert <= ?3",
            params![d.sink.as_str(), d.target, d.alert, state.as_str(), now()],
        )?;
        Ok(())
    }

    /// Alerts held for quiet hours and not acknowledged, with how many targets wait for each
    /// (for `status`), oldest first.
    pub fn held_alerts(&self) -> Result<Vec<(AlertRow, i64)>, StoreError> {
        let ids: Vec<(i64, i64)> = {
            let c = self.lock();
            let mut st = c.prepare(
                "SELECT d.alert, COUNT(DISTINCT d.sink || ' ' || d.target) FROM deliveries d
                 JOIN alerts a ON a.id = d.alert
                 WHERE d.state='held' AND a.acked_at IS NULL GROUP BY d.alert ORDER BY d.alert",
            )?;
            let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<Result<_, _>>()?
        };
        let mut out = Vec::new();
        for (id, n) in ids {
            if let Some(a) = self.alert(id)? {
                out.push((a, n));
            }
        }
        Ok(out)
    }

    /// Who acknowledged an alert, if anyone.
    pub fn acked_by(&self, id: i64) -> Result<Option<String>, StoreError> {
        let c = self.lock();
        Ok(
            c.query_row("SELECT acked_by FROM alerts WHERE id=?1", [id], |r| {
                r.get::<_, Option<String>>(0)
            })
            .optional()?
            .flatten(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::AlertKind;
    use crate::event::Severity;
    use crate::store::NewAlert;

    fn to(sink: SinkKind, target: &str) -> NewDelivery {
        NewDelivery {
            sink,
            target: target.into(),
        }
    }

    fn sent_alert(s: &Store, severity: Severity, targets: &[NewDelivery]) -> i64 {
        let id = s
            .insert_alert(&NewAlert::once(
                AlertKind::Unexpected,
                severity,
                "t",
                targets.to_vec(),
            ))
            .unwrap();
        for d in s.due_deliveries(now() + 1, 100).unwrap() {
            s.delivery_done(&d, DeliveryState::Sent, None).unwrap();
        }
        id
    }

    #[test]
    fn an_ack_notifies_every_other_person_who_got_the_alert_once() {
        let s = Store::open_memory().unwrap();
        let (a, b) = (to(SinkKind::Telegram, "1"), to(SinkKind::Telegram, "2"));
        let id = sent_alert(
            &s,
            Severity::Critical,
            &[to(SinkKind::Console, "-"), a.clone(), b.clone()],
        );
        let people = [SinkKind::Telegram, SinkKind::Ntfy];
        assert!(s.ack_and_notify(id, "Hanako", &people, Some(&a)).unwrap());
        let due = s.due_deliveries(now() + 1, 10).unwrap();
        assert_eq!(due.len(), 1, "{due:?}");
        assert_eq!((due[0].target.as_str(), due[0].round), ("2", ACK_NOTICE));
        assert_eq!(s.acked_by(id).unwrap().as_deref(), Some("Hanako"));
        assert!(!s.ack_and_notify(id, "Taro", &people, None).unwrap());
        assert_eq!(s.due_deliveries(now() + 1, 10).unwrap().len(), 1);
    }

    #[test]
    fn held_deliveries_become_one_summary_per_target_without_acknowledged_alerts() {
        let s = Store::open_memory().unwrap();
        let t = to(SinkKind::Telegram, "1");
        let ids: Vec<i64> = (0..3)
            .map(|_| {
                s.insert_alert(&NewAlert::once(
                    AlertKind::Health,
                    Severity::Warning,
                    "w",
                    vec![t.clone()],
                ))
                .unwrap()
            })
            .collect();
        for d in s.due_deliveries(now() + 1, 10).unwrap() {
            s.hold(&d).unwrap();
        }
        assert!(s.has_held().unwrap());
        assert_eq!(s.held_alerts().unwrap().len(), 3);
        assert!(s.due_deliveries(now() + 1, 10).unwrap().is_empty());
        s.ack(ids[1], "cli:me").unwrap();
        assert_eq!(s.release_held().unwrap(), 1);
        assert_eq!(
            s.release_held().unwrap(),
            0,
            "one summary waiting is enough"
        );
        let due = s.due_deliveries(now() + 1, 10).unwrap();
        assert_eq!(due.len(), 1);
        assert_eq!((due[0].alert, due[0].round), (ids[2], SUMMARY));
        let listed: Vec<i64> = s.held_for(&due[0]).unwrap().iter().map(|a| a.id).collect();
        assert_eq!(listed, [ids[0], ids[2]]);
        s.summary_done(&due[0], DeliveryState::Sent).unwrap();
        s.delivery_done(&due[0], DeliveryState::Sent, None).unwrap();
        assert!(!s.has_held().unwrap());
        assert!(s.held_alerts().unwrap().is_empty());
    }
}
