//! What the watchers ask of the recorded history: a broker's recent security steps (takeover),
//! its newest mail (liveness), the alerted notices still in the mailbox (tampering), an open
//! trade alert a burst joins.

use rusqlite::{Connection, OptionalExtension, params};

use super::{Store, StoreError};

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

impl Store {
    /// Unexpected, genuine-or-unverified security notices of one broker since `since`, oldest
    /// first: (epoch seconds, event, fields as JSON).
    pub fn security_steps(
        &self,
        broker: &str,
        since: i64,
    ) -> Result<Vec<(i64, String, String)>, StoreError> {
        let c = self.lock();
        // Cached: the daemon asks once per pack at start (and per notice after).
        let mut st = c.prepare_cached(
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
        open_trade_alert(&self.lock(), broker, since)
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
}

pub(super) fn open_trade_alert(
    c: &Connection,
    broker: &str,
    since: i64,
) -> Result<Option<i64>, StoreError> {
    Ok(c.prepare_cached(
        "SELECT id FROM alerts WHERE kind='unexpected' AND event='trade' AND broker=?1
           AND created_at >= ?2 AND acked_at IS NULL ORDER BY id DESC LIMIT 1",
    )?
    .query_row(params![broker, since], |r| r.get(0))
    .optional()?)
}
