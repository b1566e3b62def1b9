//! Source health: when each watched mailbox was last checked, and its current outage.

use rusqlite::params;

use super::{Store, StoreError, now};
use crate::source::MailboxId;

/// Health of one watched mailbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceHealth {
    pub mailbox: MailboxId,
    pub last_ok: Option<i64>,
    pub last_error: Option<String>,
    pub last_error_at: Option<i64>,
}

impl Store {
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
}
