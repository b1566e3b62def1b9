//! Liveness of the watch itself: a mailbox that keeps failing (login refused, server
//! unreachable) raises "cannot watch" through the sinks that still work, once per outage, and
//! a quiet note when it works again. A silent watcher is worse than none.

use crate::alert::compose::route;
use crate::config::Config;
use crate::event::Severity;
use crate::source::{MailboxId, SourceEvent};
use crate::store::{NewAlert, NewDelivery, Store, StoreError, now};
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
    deliveries: impl Fn(&[crate::config::SinkKind]) -> Vec<NewDelivery>,
) -> Result<Option<NewAlert>, StoreError> {
    let t = now();
    let (error, login) = match event {
        SourceEvent::Ok => {
            store.kv_delete(&failing_key(mb))?;
            if store.kv_delete(&alerted_key(mb))? {
                let (sinks, _) = route(config, Severity::Info);
                return Ok(Some(health_alert(
                    Severity::Info,
                    format!("brokerwatch: watching {mb} again"),
                    format!(
                        "{mb} can be read again; notices that arrived meanwhile are being processed now."
                    ),
                    deliveries(&sinks),
                )));
            }
            return Ok(None);
        }
        SourceEvent::LoginFailed(e) => (e, true),
        SourceEvent::MailboxRefused(e) => (e, true),
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
    let what = match event {
        // The server's own words: "Mailbox doesn't exist: Junk", "not valid mUTF-7", ….
        SourceEvent::MailboxRefused(e) => e.as_str(),
        _ if login => "the server refuses the login",
        _ => "the server cannot be reached",
    };
    let (sinks, _) = route(config, Severity::Warning);
    Ok(Some(health_alert(
        Severity::Warning,
        format!("brokerwatch cannot watch {mb}: {what}"),
        format!(
            "Failing for {}: {error}\nUntil this is fixed, broker notices in {mb} are NOT being watched. \
             brokerwatch keeps retrying and catches up on everything once it can read the mailbox again.{}",
            format_duration(std::time::Duration::from_secs((t - since) as u64)),
            if matches!(event, SourceEvent::MailboxRefused(_)) {
                "\nCheck the mailbox name in the config; `brokerwatch doctor` lists the server's mailboxes."
            } else if login {
                "\nCheck the password (an app password for Gmail/Outlook) and run `brokerwatch doctor`."
            } else {
                ""
            }
        ),
        deliveries(&sinks),
    )))
}

/// An alert about brokerwatch's own watch (kind `health`): informative, never repeated.
pub fn health_alert(
    severity: Severity,
    title: String,
    body: String,
    deliveries: Vec<NewDelivery>,
) -> NewAlert {
    NewAlert {
        kind: "health".into(),
        severity: severity.as_str().into(),
        broker: None,
        event: None,
        title,
        body,
        actionable: false,
        repeat_secs: None,
        deliveries,
        repeat_to: Vec::new(),
    }
}
