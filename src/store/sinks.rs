//! What sinks keep beyond delivery rows: an alert moved on to the next sink when one sink's
//! budget is spent, and the receipts a sink polls (Pushover emergency receipts).

use rusqlite::params;

use super::outbox::{DeliveryRow, NewDelivery};
use super::{Store, StoreError, now};
use crate::config::SinkKind;

/// A delivery's receipt to ask the service about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub alert: i64,
    pub target: String,
    pub receipt: String,
    /// Acknowledged in brokerwatch already (by anyone, through any sink or the CLI).
    pub acked: bool,
}

impl Store {
    /// Marks `d` rerouted and queues the same round of its alert to `to` (a target that already
    /// has this round keeps its row: nothing goes twice). Returns how many rows were added.
    pub fn reroute(
        &self,
        d: &DeliveryRow,
        to: &[NewDelivery],
        why: &str,
    ) -> Result<usize, StoreError> {
        let mut c = self.lock();
        let tx = c.transaction()?;
        let t = now();
        tx.execute(
            "UPDATE deliveries SET state='rerouted', attempts=attempts+1, last_error=?5
             WHERE alert=?1 AND sink=?2 AND target=?3 AND round=?4",
            params![d.alert, d.sink.as_str(), d.target, d.round, why],
        )?;
        let mut added = 0;
        for n in to {
            added += tx.execute(
                "INSERT OR IGNORE INTO deliveries (alert, sink, target, round, state, next_attempt_at)
                 VALUES (?1, ?2, ?3, ?4, 'pending', ?5)",
                params![d.alert, n.sink.as_str(), n.target, d.round, t],
            )?;
        }
        tx.commit()?;
        Ok(added)
    }

    /// Receipts (remote ids) of `sink`'s deliveries sent since `since`.
    pub fn receipts(&self, sink: SinkKind, since: i64) -> Result<Vec<Receipt>, StoreError> {
        let c = self.lock();
        let mut st = c.prepare_cached(
            "SELECT d.alert, d.target, d.remote_id, a.acked_at IS NOT NULL
             FROM deliveries d JOIN alerts a ON a.id = d.alert
             WHERE d.sink=?1 AND d.state='sent' AND d.remote_id IS NOT NULL AND d.sent_at >= ?2
             ORDER BY d.alert",
        )?;
        let rows = st.query_map(params![sink.as_str(), since], |r| {
            Ok(Receipt {
                alert: r.get(0)?,
                target: r.get(1)?,
                receipt: r.get(2)?,
                acked: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::AlertKind;
    use crate::event::Severity;
    use crate::store::{DeliveryState, NewAlert};

    #[test]
    fn a_rerouted_delivery_leaves_the_queue_and_its_round_goes_to_the_fallback_once() {
        let s = Store::open_memory().unwrap();
        let to = |sink, target: &str| NewDelivery {
            sink,
            target: target.into(),
        };
        let id = s
            .insert_alert(&NewAlert::once(
                AlertKind::Unexpected,
                Severity::Critical,
                "t",
                vec![to(SinkKind::Line, "U1"), to(SinkKind::Console, "-")],
            ))
            .unwrap();
        let due = s.due_deliveries(now() + 1, 10).unwrap();
        let line = due.iter().find(|d| d.sink == SinkKind::Line).unwrap();
        let fallback = [to(SinkKind::Console, "-"), to(SinkKind::Ntfy, "-")];
        assert_eq!(s.reroute(line, &fallback, "budget").unwrap(), 1);
        let sinks: Vec<SinkKind> = s
            .due_deliveries(now() + 1, 10)
            .unwrap()
            .into_iter()
            .map(|d| d.sink)
            .collect();
        assert_eq!(sinks, [SinkKind::Console, SinkKind::Ntfy]);
        let state: String = s
            .lock()
            .query_row(
                "SELECT state FROM deliveries WHERE alert=?1 AND sink='line'",
                [id],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(
            state.parse::<DeliveryState>().unwrap(),
            DeliveryState::Rerouted
        );
    }
}
