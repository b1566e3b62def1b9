//! The desktop sink: a freedesktop notification (toast) on the session bus, with "It was me" /
//! "Not me" buttons whose clicks come back as [`Response`]s.
//!
//! Action clicks: build the sink with [`DesktopSink::with_responses`]; every delivery of an
//! actionable alert then spawns a task holding the notification's bus connection until the toast
//! is clicked or closed, and a click on `ack` / `notme` is sent on the channel as
//! `Response::Ack { by: "desktop" }` / `Response::NotMe { .. }`. Delivering the same alert again
//! replaces its toast (same notification id) instead of stacking a second one.
//!
//! NOTE: notify-rust (through zbus) only finds the bus through `DBUS_SESSION_BUS_ADDRESS` (or
//! `$XDG_RUNTIME_DIR/bus`); there is no way to pass an address. In Docker there is no bus: the
//! sink then answers `DeliveryError::Unavailable` within [`DBUS_TIMEOUT`] and never panics.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use notify_rust::{Notification, NotificationHandle, NotificationResponse, Timeout, Urgency};
use tokio::sync::{mpsc, oneshot};

use crate::alert::language::Language;
use crate::alert::{AlertMessage, Delivered, DeliveryError, Response};
use crate::config::DesktopConfig;
use crate::event::Severity;

/// Every D-Bus call is bounded by this.
pub const DBUS_TIMEOUT: Duration = Duration::from_secs(5);

/// The action keys, as sent in Notify and returned in ActionInvoked.
pub const ACTION_ACK: &str = "ack";
pub const ACTION_NOT_ME: &str = "notme";

/// The toast shown for an alert; kept to replace it on a repeat and to close it on an ack.
#[derive(Debug)]
struct Live {
    notification_id: u32,
    generation: u64,
    close: Option<oneshot::Sender<()>>,
}

type LiveMap = Arc<Mutex<HashMap<i64, Live>>>;

/// Shows alerts as desktop notifications.
#[derive(Debug)]
pub struct DesktopSink {
    app_name: String,
    responses: Option<mpsc::Sender<Response>>,
    /// Whether the server offers buttons ("actions" in GetCapabilities); asked once, and again
    /// after a failed Notify (the server may have been replaced).
    actions: Mutex<Option<bool>>,
    live: LiveMap,
    generation: std::sync::atomic::AtomicU64,
    language: Language,
}

impl DesktopSink {
    /// A sink that shows toasts; clicks are ignored until [`with_responses`](Self::with_responses).
    pub fn new(cfg: &DesktopConfig) -> Self {
        DesktopSink {
            app_name: cfg.app_name.clone(),
            responses: None,
            actions: Mutex::new(None),
            live: Arc::default(),
            generation: Default::default(),
            language: Language::default(),
        }
    }

    /// The language of the buttons.
    pub fn with_language(mut self, language: Language) -> Self {
        self.language = language;
        self
    }

    /// Forwards "It was me" / "Not me" clicks to `tx`.
    pub fn with_responses(mut self, tx: mpsc::Sender<Response>) -> Self {
        self.responses = Some(tx);
        self
    }

    /// Shows `msg`. `remote_id` is the notification id.
    ///
    /// No session bus or no notification server → `Unavailable`; a failed or slow Notify once the
    /// server was found → `Retry`.
    pub async fn deliver(&self, msg: &AlertMessage) -> Result<Delivered, DeliveryError> {
        // Asked even without buttons: it is also the check that a notification server exists.
        let has_actions = self.server_has_actions().await?;
        let with_actions = msg.actionable && has_actions;
        let mut n = self.build(msg, with_actions);
        let previous = self.live_entry(msg.id);
        if let Some(id) = previous {
            n.id(id);
        }
        let handle = match tokio::time::timeout(DBUS_TIMEOUT, n.show_async()).await {
            Ok(Ok(h)) => h,
            Ok(Err(e)) => return Err(self.notify_failed(format!("Notify failed: {e}"))),
            Err(_) => {
                return Err(self.notify_failed(format!(
                    "the notification server did not answer within {}s",
                    DBUS_TIMEOUT.as_secs()
                )));
            }
        };
        let id = handle.id();
        tracing::debug!(
            alert_id = msg.id,
            notification_id = id,
            "desktop notification shown"
        );
        self.track(msg.id, handle, with_actions);
        Ok(Delivered {
            remote_id: Some(id.to_string()),
        })
    }

    /// Closes the toast of `alert_id`, if it is still shown (e.g. acknowledged on Telegram).
    pub fn dismiss(&self, alert_id: i64) {
        let entry = self.live.lock().ok().and_then(|mut m| m.remove(&alert_id));
        if let Some(close) = entry.and_then(|mut l| l.close.take()) {
            let _ = close.send(());
        }
    }

    fn build(&self, msg: &AlertMessage, with_actions: bool) -> Notification {
        let mut n = Notification::new();
        n.appname(&self.app_name)
            .summary(&msg.title)
            .body(&msg.body);
        match msg.severity {
            Severity::Critical => n.urgency(Urgency::Critical).timeout(Timeout::Never),
            Severity::Warning => n.urgency(Urgency::Normal),
            Severity::Info | Severity::None => n.urgency(Urgency::Low),
        };
        if with_actions {
            let lang = self.language;
            n.action(ACTION_ACK, lang.pick("確認済みにする", "It was me"))
                .action(ACTION_NOT_ME, lang.pick("身に覚えがない", "Not me"));
        }
        n
    }

    /// Asks the server for its capabilities once (GetCapabilities), bounded by [`DBUS_TIMEOUT`].
    async fn server_has_actions(&self) -> Result<bool, DeliveryError> {
        if let Some(known) = self.actions.lock().ok().and_then(|c| *c) {
            return Ok(known);
        }
        // NOTE: notify-rust has only a blocking get_capabilities, which panics on a tokio worker
        // thread; run it on the blocking pool. If the server hangs, that thread stays blocked
        // until the bus goes away, but we stop waiting.
        let query = tokio::task::spawn_blocking(notify_rust::get_capabilities);
        let has = match tokio::time::timeout(DBUS_TIMEOUT, query).await {
            Ok(Ok(Ok(caps))) => caps.iter().any(|c| c == "actions"),
            Ok(Ok(Err(e))) => return Err(unavailable(&e.to_string())),
            Ok(Err(join)) => return Err(unavailable(&format!("capability query failed: {join}"))),
            Err(_) => return Err(unavailable("no answer to GetCapabilities in time")),
        };
        if let Ok(mut c) = self.actions.lock() {
            *c = Some(has);
        }
        Ok(has)
    }

    /// The notification id currently shown for `alert_id`, if any.
    fn live_entry(&self, alert_id: i64) -> Option<u32> {
        let map = self.live.lock().ok()?;
        map.get(&alert_id).map(|l| l.notification_id)
    }

    fn notify_failed(&self, reason: String) -> DeliveryError {
        // The server may have gone away or been replaced: ask again next time.
        if let Ok(mut c) = self.actions.lock() {
            *c = None;
        }
        if reason.contains("ServiceUnknown") {
            return unavailable(&reason);
        }
        DeliveryError::Retry {
            reason,
            after: None,
        }
    }

    /// Keeps the handle alive in a task that forwards a click and closes the toast on dismiss.
    fn track(&self, alert_id: i64, handle: NotificationHandle, with_actions: bool) {
        let generation = self
            .generation
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (close_tx, close_rx) = oneshot::channel();
        let old = self.live.lock().ok().and_then(|mut m| {
            m.insert(
                alert_id,
                Live {
                    notification_id: handle.id(),
                    generation,
                    close: Some(close_tx),
                },
            )
        });
        // The replaced toast's task would also see the click on the shared id: retire it.
        drop(old);
        let tx = self.responses.clone().filter(|_| with_actions);
        let live = Arc::clone(&self.live);
        tokio::spawn(async move {
            let action = wait_for_click(&handle, close_rx).await;
            if let Ok(mut m) = live.lock()
                && m.get(&alert_id).is_some_and(|l| l.generation == generation)
            {
                m.remove(&alert_id);
            }
            if let (Some(tx), Some(response)) = (tx, action.and_then(|a| to_response(&a, alert_id)))
            {
                let _ = tx.send(response).await;
            }
        });
    }
}

/// Waits for a click on `handle`'s toast; `None` if it was closed, dismissed or replaced.
async fn wait_for_click(
    handle: &NotificationHandle,
    close_rx: oneshot::Receiver<()>,
) -> Option<String> {
    let mut action = None;
    tokio::select! {
        _ = handle.wait_for_action_async(|r| {
            if let NotificationResponse::Action(a) = r {
                action = Some(a.clone());
            }
        }) => action,
        closed = close_rx => {
            // Ok: dismissed → close the toast. Err: replaced by a newer delivery → leave it shown.
            if closed.is_ok() {
                let _ = tokio::time::timeout(DBUS_TIMEOUT, handle.close_async()).await;
            }
            None
        }
    }
}

/// The response a clicked action stands for.
fn to_response(action: &str, alert_id: i64) -> Option<Response> {
    let by = "desktop".to_string();
    match action {
        ACTION_ACK => Some(Response::Ack { alert_id, by }),
        ACTION_NOT_ME => Some(Response::NotMe { alert_id, by }),
        _ => None,
    }
}

fn unavailable(reason: &str) -> DeliveryError {
    DeliveryError::Unavailable(format!("no desktop notification service: {reason}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_map_to_responses() {
        assert_eq!(
            to_response("ack", 3),
            Some(Response::Ack {
                alert_id: 3,
                by: "desktop".into()
            })
        );
        assert_eq!(
            to_response("notme", 3),
            Some(Response::NotMe {
                alert_id: 3,
                by: "desktop".into()
            })
        );
        assert_eq!(to_response("default", 3), None);
    }
}
