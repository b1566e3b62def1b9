//! State in SQLite: checkpoints, processed messages, alerts with their per-sink deliveries (the
//! outbox), expectations and source health. The one rule: what a message produced and the
//! advanced checkpoint are committed in the same transaction.
//!
//! The schema and its migrations are in `schema.rs`; each other file holds one table's concern.

mod expectations;
mod history;
mod messages;
mod outbox;
mod people;
mod schema;
mod sinks;
mod sources;

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::Connection;

pub use history::WatchedNotice;
pub use messages::{AlertPlan, Batch, Recorded};
pub use outbox::{
    AlertLine, AlertRow, AlertText, DeliveryRow, DeliveryState, NewAlert, NewDelivery, Texts,
};
pub use people::{ACK_NOTICE, SUMMARY};
pub use sinks::Receipt;
pub use sources::SourceHealth;

/// Errors of the state database; they name the file.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open state database {path}: {source}")]
    Open {
        path: String,
        source: rusqlite::Error,
    },
    #[error("cannot create state directory {path}: {source}")]
    Dir {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "state database {path} has schema version {found}, newer than this brokerwatch ({supported}): upgrade brokerwatch"
    )]
    TooNew {
        path: String,
        found: i64,
        supported: i64,
    },
    #[error("state database error: {0}")]
    Sql(#[from] rusqlite::Error),
}

/// A handle to the state database; cheap to clone, safe to share between tasks.
#[derive(Clone)]
pub struct Store {
    conn: Arc<Mutex<Connection>>,
}

pub use crate::units::now;

impl Store {
    /// Opens (creating if needed) the database and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
        // Alerts quote the user's notices (amounts, banks): only the user may read the state.
        if let Some(dir) = path.parent() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|source| StoreError::Dir {
                    path: dir.display().to_string(),
                    source,
                })?;
        }
        let label = path.display().to_string();
        let open_err = |source| StoreError::Open {
            path: label.clone(),
            source,
        };
        if !path.exists() {
            // SQLite gives its -wal and -shm files the database file's mode.
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
                .map_err(|e| {
                    open_err(rusqlite::Error::SqliteFailure(
                        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN),
                        Some(e.to_string()),
                    ))
                })?;
        }
        let conn = Connection::open(path).map_err(open_err)?;
        let setup = || -> rusqlite::Result<()> {
            conn.busy_timeout(Duration::from_secs(10))?;
            conn.pragma_update(None, "journal_mode", "WAL")?;
            conn.pragma_update(None, "synchronous", "FULL")
        };
        setup().map_err(open_err)?;
        schema::migrate(&conn, &label).map_err(|e| match e {
            StoreError::Sql(source) => open_err(source),
            other => other,
        })?;
        Ok(Store {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// A private in-memory database (for `scan` without `--alert`).
    pub fn open_memory() -> Result<Store, StoreError> {
        let conn = Connection::open_in_memory()?;
        schema::migrate(&conn, ":memory:")?;
        Ok(Store {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Opens an existing database read-only-ish for commands (`test`, `status`); None if absent.
    pub fn open_existing(path: &Path) -> Result<Option<Store>, StoreError> {
        if path.exists() {
            Store::open(path).map(Some)
        } else {
            Ok(None)
        }
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (transactions roll back).
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests;
