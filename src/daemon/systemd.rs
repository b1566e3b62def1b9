//! systemd's watchdog: proof of life while the runtime runs tasks and the state database
//! answers; otherwise systemd restarts us.

use std::time::Duration;

use sd_notify::NotifyState;

use super::STARTED_AT_KEY;
use crate::store::Store;

/// Tells systemd we are alive every `every` (half of `WatchdogSec=`), as long as the runtime
/// runs this task and the state database answers.
pub(super) async fn feed_watchdog(store: Store, every: Duration) {
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        match store.kv_get(STARTED_AT_KEY) {
            Ok(_) => {
                let _ = sd_notify::notify(&[NotifyState::Watchdog]);
            }
            Err(e) => {
                tracing::error!("state database does not answer ({e}); not feeding the watchdog")
            }
        }
    }
}
