//! Expectation windows: notices the user said are coming (`brokerwatch expect`).

use rusqlite::params;

use super::{Store, StoreError};
use crate::assess::Expectation;
use crate::event::EventKind;

impl Store {
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
}
