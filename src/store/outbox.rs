//! The outbox: alert rows and their per-sink, per-target deliveries. Delivery state survives
//! restarts; a sink that is down only delays its rows. Repeats are new delivery rounds.
//!
//! An alert is stored with its text in the configuration's language (`title`, `body`: what
//! `status` shows) and, composed when it was raised, in each language (`title_ja`, `body_en`,
//! ...), so that each person gets it in their own. A row from before the per-language columns
//! has only its own text, which then serves every language.

mod deliveries;
mod state;
#[cfg(test)]
mod tests;

use rusqlite::{OptionalExtension, Transaction, params};

pub use state::DeliveryState;
pub(in crate::store) use state::parsed;

use super::{Store, StoreError, now};
use crate::alert::AlertKind;
use crate::alert::language::Language;
use crate::config::SinkKind;
use crate::event::Severity;

/// A delivery to create with an alert: a sink and its target (a Telegram chat id, `-` for a
/// sink with a single target).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NewDelivery {
    pub sink: SinkKind,
    pub target: String,
}

/// An alert's title and body in one language.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AlertText {
    pub title: String,
    pub body: String,
}

/// An alert's text in each language it was composed in. A language left out reads as the
/// row's own text (see [`AlertRow::title_in`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Texts {
    pub ja: Option<AlertText>,
    pub en: Option<AlertText>,
}

impl Texts {
    /// The text in `lang`, if the alert was composed in it.
    pub fn get(&self, lang: Language) -> Option<&AlertText> {
        match lang {
            Language::Ja => self.ja.as_ref(),
            Language::En => self.en.as_ref(),
        }
    }

    /// Composes a text in each language with `f`; a language `f` has nothing for is left out.
    pub fn each(mut f: impl FnMut(Language) -> Option<AlertText>) -> Texts {
        Texts {
            ja: f(Language::Ja),
            en: f(Language::En),
        }
    }
}

/// A line added to an alert's body (a burst's further trade), in the row's own language and
/// in each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertLine {
    /// In the language of the row's own `body`.
    pub line: String,
    pub ja: String,
    pub en: String,
}

/// An alert to write in the same transaction as the message that caused it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAlert {
    pub kind: AlertKind,
    pub severity: Severity,
    pub broker: Option<String>,
    pub event: Option<String>,
    /// The text in the configuration's language.
    pub title: String,
    pub body: String,
    /// The text in each language, for people who read another one.
    pub texts: Texts,
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
            texts: Texts::default(),
            actionable: false,
            repeat_secs: None,
            deliveries,
            repeat_to: Vec::new(),
        }
    }
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
    /// The text in the configuration's language when it was raised (what `status` shows).
    pub title: String,
    pub body: String,
    /// The text in each language; see [`AlertRow::title_in`].
    pub texts: Texts,
    pub actionable: bool,
    pub round: i64,
    pub acked_at: Option<i64>,
    pub acked_by: Option<String>,
    pub snoozed_until: Option<i64>,
    pub not_me_at: Option<i64>,
}

impl AlertRow {
    /// The title a person reading `lang` gets: the one composed in it, else the row's own.
    pub fn title_in(&self, lang: Language) -> &str {
        self.texts.get(lang).map_or(&self.title, |t| &t.title)
    }

    /// The body a person reading `lang` gets: the one composed in it, else the row's own.
    pub fn body_in(&self, lang: Language) -> &str {
        self.texts.get(lang).map_or(&self.body, |t| &t.body)
    }
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
    let (ja, en) = (a.texts.ja.as_ref(), a.texts.en.as_ref());
    tx.prepare_cached(
        "INSERT INTO alerts (created_at, message, kind, severity, broker, event, title, body,
            actionable, repeat_secs, next_repeat_at, title_ja, body_ja, title_en, body_en)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
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
        ja.map(|x| &x.title),
        ja.map(|x| &x.body),
        en.map(|x| &x.title),
        en.map(|x| &x.body),
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

/// Appends a line to an alert's body in every language it has (a language the row has no text
/// of stays without: its own body, which gets the line too, serves it).
pub(super) fn append_line(
    tx: &Transaction,
    alert: i64,
    line: &AlertLine,
) -> Result<(), rusqlite::Error> {
    tx.prepare_cached(
        "UPDATE alerts SET body = body || ?2, body_ja = body_ja || ?3, body_en = body_en || ?4
         WHERE id = ?1",
    )?
    .execute(params![alert, line.line, line.ja, line.en])?;
    Ok(())
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
    let text = |title: usize| -> rusqlite::Result<Option<AlertText>> {
        let (t, b): (Option<String>, Option<String>) = (r.get(title)?, r.get(title + 1)?);
        Ok(t.zip(b).map(|(title, body)| AlertText { title, body }))
    };
    Ok(AlertRow {
        id: r.get(0)?,
        created_at: r.get(1)?,
        kind: parsed(r, 2)?,
        severity: parsed(r, 3)?,
        broker: r.get(4)?,
        event: r.get(5)?,
        title: r.get(6)?,
        body: r.get(7)?,
        texts: Texts {
            ja: text(14)?,
            en: text(16)?,
        },
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
    round, acked_at, acked_by, snoozed_until, not_me_at, title_ja, body_ja, title_en, body_en";

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
