//! The database schema and its migrations, by `PRAGMA user_version`. A newer file than this
//! binary understands is refused rather than guessed at.

use rusqlite::Connection;

use super::StoreError;

/// Each entry upgrades from version `i` to `i + 1`.
pub(super) const MIGRATIONS: &[&str] = &[
    // 1: the first schema.
    "CREATE TABLE checkpoints (
        account TEXT NOT NULL, mailbox TEXT NOT NULL, kind TEXT NOT NULL,
        uidvalidity INTEGER NOT NULL, last_uid INTEGER NOT NULL, updated_at INTEGER NOT NULL,
        PRIMARY KEY (account, mailbox));
     CREATE TABLE messages (
        id INTEGER PRIMARY KEY, account TEXT NOT NULL, mailbox TEXT NOT NULL, pos TEXT NOT NULL,
        message_id TEXT, received_at INTEGER, processed_at INTEGER NOT NULL,
        broker TEXT, event TEXT, severity TEXT NOT NULL, phishing INTEGER NOT NULL,
        expected INTEGER NOT NULL, rule TEXT, verdict TEXT NOT NULL,
        UNIQUE (account, mailbox, pos));
     CREATE INDEX messages_by_message_id ON messages (account, message_id);
     CREATE INDEX messages_by_broker ON messages (broker, processed_at);
     CREATE TABLE alerts (
        id INTEGER PRIMARY KEY, created_at INTEGER NOT NULL, message INTEGER REFERENCES messages(id),
        kind TEXT NOT NULL, severity TEXT NOT NULL, broker TEXT, event TEXT,
        title TEXT NOT NULL, body TEXT NOT NULL, actionable INTEGER NOT NULL,
        repeat_secs INTEGER, next_repeat_at INTEGER, round INTEGER NOT NULL DEFAULT 0,
        acked_at INTEGER, acked_by TEXT, snoozed_until INTEGER, not_me_at INTEGER);
     CREATE TABLE deliveries (
        alert INTEGER NOT NULL REFERENCES alerts(id), sink TEXT NOT NULL, target TEXT NOT NULL,
        round INTEGER NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL, last_error TEXT, remote_id TEXT, sent_at INTEGER,
        PRIMARY KEY (alert, sink, target, round));
     CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at);
     CREATE TABLE expectations (
        id INTEGER PRIMARY KEY, broker TEXT NOT NULL, event TEXT NOT NULL,
        from_ts INTEGER NOT NULL, until_ts INTEGER NOT NULL, note TEXT);
     CREATE TABLE sources (
        account TEXT NOT NULL, mailbox TEXT NOT NULL, last_ok INTEGER, last_error TEXT,
        last_error_at INTEGER, PRIMARY KEY (account, mailbox));
     CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
    // 2: who gets an alert's repeats becomes a table (it was `repeat:ALERT:SINK:TARGET` keys in
    // kv); at most one alert of a kind per message, enforced by the database.
    "CREATE TABLE repeat_targets (
        alert INTEGER NOT NULL REFERENCES alerts(id), sink TEXT NOT NULL, target TEXT NOT NULL,
        PRIMARY KEY (alert, sink, target));
     WITH k AS (SELECT substr(key, 8) AS rest FROM kv WHERE key LIKE 'repeat:%'),
          a AS (SELECT substr(rest, 1, instr(rest, ':') - 1) AS alert,
                       substr(rest, instr(rest, ':') + 1) AS st FROM k WHERE instr(rest, ':') > 0)
     INSERT OR IGNORE INTO repeat_targets (alert, sink, target)
        SELECT CAST(alert AS INTEGER), substr(st, 1, instr(st, ':') - 1), substr(st, instr(st, ':') + 1)
        FROM a WHERE instr(st, ':') > 0;
     DELETE FROM kv WHERE key LIKE 'repeat:%';
     CREATE UNIQUE INDEX alerts_one_per_message ON alerts (message, kind) WHERE message IS NOT NULL;",
    // 3: an alert's text in each language, so each person gets it in their own. Older rows
    // keep NULL here: their `title` and `body` serve every language.
    "ALTER TABLE alerts ADD COLUMN title_ja TEXT;
     ALTER TABLE alerts ADD COLUMN body_ja TEXT;
     ALTER TABLE alerts ADD COLUMN title_en TEXT;
     ALTER TABLE alerts ADD COLUMN body_en TEXT;",
];

/// The schema version this binary writes.
pub const VERSION: i64 = MIGRATIONS.len() as i64;

pub fn migrate(conn: &Connection, label: &str) -> Result<(), StoreError> {
    let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if found > VERSION {
        return Err(StoreError::TooNew {
            path: label.to_string(),
            found,
            supported: VERSION,
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        conn.execute_batch(&format!(
            "BEGIN; {sql}; PRAGMA user_version = {}; COMMIT;",
            i + 1
        ))?;
    }
    Ok(())
}
