//! Liveness of the watch itself: a mailbox that keeps failing (login refused, server
//! unreachable) raises "cannot watch" through the sinks that still work, once per outage, and
//! a quiet note when it works again. A silent watcher is worse than none.

use crate::alert::raise::Draft;
use crate::config::Config;
use crate::event::Severity;
use crate::source::{MailboxId, SourceEvent};
use crate::store::{Store, StoreError, now};
use crate::units::format_duration;

fn failing_key(mb: &MailboxId) -> String {
    format!("failing_since:{mb}")
}

fn alerted_key(mb: &MailboxId) -> String {
    format!("cannot_watch_alerted:{mb}")
}

/// Records a source event; returns an alert to write when an outage crosses the threshold or
/// ends after having been reported.
pub fn on_event(
    store: &Store,
    config: &Config,
    mb: &MailboxId,
    event: &SourceEvent,
) -> Result<Option<Draft>, StoreError> {
    let t = now();
    let (error, login) = match event {
        SourceEvent::Ok => {
            store.kv_delete(&failing_key(mb))?;
            if store.kv_delete(&alerted_key(mb))? {
                return Ok(Some(Draft::health(
                    Severity::Info,
                    format!("brokerwatch: watching {mb} again"),
                    format!(
                        "{mb} can be read again; notices that arrived meanwhile are being processed now."
                    ),
                )));
            }
            return Ok(None);
        }
        SourceEvent::LoginFailed(e) => (e, true),
        SourceEvent::Unreachable(e) => (e, false),
    };
    let since = match store
        .kv_get(&failing_key(mb))?
        .and_then(|v| v.parse::<i64>().ok())
    {
        Some(s) => s,
        None => {
            store.kv_set(&failing_key(mb), &t.to_string())?;
            t
        }
    };
    // A refused password does not fix itself: tell at once. A network outage may pass.
    let threshold = if login {
        0
    } else {
        config.cannot_watch_after.as_secs() as i64
    };
    if t - since < threshold || store.kv_get(&alerted_key(mb))?.is_some() {
        return Ok(None);
    }
    store.kv_set(&alerted_key(mb), &t.to_string())?;
    let what = if login {
        "the server refuses the login"
    } else {
        "the server cannot be reached"
    };
    Ok(Some(Draft::health(
        Severity::Warning,
        format!("brokerwatch cannot watch {mb}: {what}"),
        format!(
            "Failing for {}: {error}\nUntil this is fixed, broker notices in {mb} are NOT being watched. \
             brokerwatch keeps retrying and catches up on everything once it can read the mailbox again.{}",
            format_duration(std::time::Duration::from_secs((t - since) as u64)),
            if login {
                "\nCheck the password (an app password for Gmail/Outlook) and run `brokerwatch doctor`."
            } else {
                ""
            }
        ),
    )))
}
