//! The outbox worker: takes due deliveries from the store, hands them to their sinks, records
//! the outcome, and starts repeat rounds for unacknowledged alerts. A sink that is down only
//! delays its own deliveries; nothing is dropped, and state survives restarts. Each delivery
//! is in the language of its target (its recipient's, else the configuration's).

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::pause::Pauses;
use crate::config::{Config, SinkKind};
use crate::store::{DeliveryRow, Store, StoreError, now};

mod deliver;
mod reroute;
mod sinks;

pub use deliver::message;
pub use sinks::Sinks;

/// Longest sleep while something is pending: a wall-clock change or a suspend (the sleep runs
/// on the monotonic clock) delays a due delivery or repeat by at most this.
const MAX_SLEEP: Duration = Duration::from_secs(30);

/// Delivers what the store says is due.
pub struct Outbox {
    pub store: Store,
    pub sinks: Sinks,
    pub wake: Arc<Notify>,
    /// Passed every `wake` on, for tasks that only have work after a new alert.
    pub forward_wake: Option<Arc<Notify>>,
    unavailable: Mutex<HashSet<SinkKind>>,
    /// Targets waiting out a transient failure.
    pub pauses: Pauses,
    /// The configuration in force, for recipients and quiet hours (None: neither).
    pub live: Option<crate::config::live::Live>,
}

impl Outbox {
    pub fn new(store: Store, sinks: Sinks, wake: Arc<Notify>) -> Self {
        for sink in sinks.iter() {
            sink.attach(&store);
        }
        Outbox {
            store,
            sinks,
            wake,
            forward_wake: None,
            unavailable: Mutex::new(HashSet::new()),
            pauses: Pauses::default(),
            live: None,
        }
    }

    /// Runs until `shutdown` is cancelled, and the sinks' own work between deliveries beside it.
    pub async fn run(&self, shutdown: CancellationToken) {
        tokio::join!(
            self.deliver_loop(shutdown.clone()),
            self.poll_sinks(shutdown)
        );
    }

    /// Each sink works through its rows on its own: a sink that is slow or hangs (up to its
    /// request timeout) holds up its own rows only.
    async fn deliver_loop(&self, shutdown: CancellationToken) {
        let mut running = FuturesUnordered::new();
        let mut busy: HashSet<SinkKind> = HashSet::new();
        loop {
            match self.due_by_sink(&busy) {
                Ok(batches) => {
                    // NOTE: futures are first polled in push order, and the console sink (and
                    // every sink's SQLite bookkeeping, with its fsync) runs synchronously: the
                    // sinks that wait on the network go first, so their requests are on the
                    // wire meanwhile.
                    let mut batches: Vec<_> = batches.into_iter().collect();
                    batches.sort_by_key(|(sink, _)| *sink == SinkKind::Console);
                    for (sink, rows) in batches {
                        busy.insert(sink);
                        running.push(async move {
                            self.deliver_rows(&rows).await;
                            sink
                        });
                    }
                }
                Err(e) => tracing::error!("outbox: {e}"),
            }
            let sleep = self.sleep_for();
            tokio::select! {
                Some(sink) = running.next() => {
                    busy.remove(&sink);
                }
                _ = sleep_or_wait(sleep) => {}
                _ = self.wake.notified() => {
                    if let Some(f) = &self.forward_wake {
                        f.notify_one();
                    }
                }
                _ = shutdown.cancelled() => {}
            }
            if shutdown.is_cancelled() {
                // Sends in flight finish and are recorded; dropped, they would go out again
                // after the restart.
                while running.next().await.is_some() {}
                return;
            }
        }
    }

    /// How long until the next pending delivery or repeat; `None` when nothing is pending: new
    /// alerts and answers come with a `wake`, so an idle daemon has no timer here.
    fn sleep_for(&self) -> Option<Duration> {
        let (Ok(targets), Ok(repeat), Ok(muted)) = (
            self.store.next_delivery_per_target(),
            self.store.next_repeat_at(),
            self.muted_until(),
        ) else {
            return Some(MAX_SLEEP);
        };
        let t = now();
        let until = |at: i64| Duration::from_secs((at - t).max(0) as u64);
        // NOTE: a paused target's rows are due in the store but wait for the pause; without
        // this every pass would look again after the 200 ms floor for the whole pause.
        let delivery = targets
            .into_iter()
            .map(|(sink, target, at)| until(at).max(self.pauses.remaining(&(sink, target))))
            .min();
        // NOTE: a mute holds repeats back until it ends, for the same reason.
        let repeat = repeat.map(|at| until(at.max(muted.unwrap_or(0))));
        let people = self.people_wait();
        let wait = [delivery, repeat, people].into_iter().flatten().min()?;
        Some(wait.clamp(Duration::from_millis(200), MAX_SLEEP))
    }

    /// The configuration in force, if the outbox was given one.
    fn config(&self) -> Option<Arc<Config>> {
        self.live.as_ref().map(|l| l.config())
    }

    /// With recipients, how long until the next look at the store: held alerts go when quiet
    /// hours end, and an acknowledgement made with `brokerwatch ack` (another process, no
    /// wake-up) is told to the others within [`MAX_SLEEP`].
    fn people_wait(&self) -> Option<Duration> {
        let cfg = self.config()?;
        let held = super::quiet::release_in(&cfg, &self.store, now()).unwrap_or(None);
        let look = (!cfg.recipients.is_empty()).then_some(MAX_SLEEP);
        [held, look].into_iter().flatten().min()
    }

    /// Until when repeats are muted (`/mute`), if a mute is on.
    fn muted_until(&self) -> Result<Option<i64>, StoreError> {
        let until = self
            .store
            .kv_get("mute_until")?
            .and_then(|v| v.parse::<i64>().ok());
        Ok(until.filter(|&u| u > now()))
    }

    /// One pass: start due repeats, then deliver everything due, sinks in parallel.
    pub async fn tick(&self) -> Result<(), StoreError> {
        let by_sink = self.due_by_sink(&HashSet::new())?;
        let runs = by_sink.values().map(|rows| self.deliver_rows(rows));
        futures::future::join_all(runs).await;
        Ok(())
    }

    /// Starts due repeats, then takes the due deliveries of every sink not in `busy`.
    fn due_by_sink(
        &self,
        busy: &HashSet<SinkKind>,
    ) -> Result<BTreeMap<SinkKind, Vec<DeliveryRow>>, StoreError> {
        let t = now();
        if self.muted_until()?.is_none() {
            for id in self.store.start_due_repeats(t)? {
                tracing::info!(alert = id, "not acknowledged: repeating");
            }
        }
        if let Some(cfg) = self.config() {
            super::quiet::release(&cfg, &self.store, t)?;
        }
        let skip: Vec<SinkKind> = busy.iter().copied().collect();
        let mut by_sink: BTreeMap<SinkKind, Vec<DeliveryRow>> = BTreeMap::new();
        let mut probes = HashSet::new();
        for d in self.store.due_deliveries_except(t, 200, &skip)? {
            if !self.pauses.admit(&(d.sink, d.target.clone()), &mut probes) {
                continue;
            }
            by_sink.entry(d.sink).or_default().push(d);
        }
        Ok(by_sink)
    }

    /// One sink's rows in order. After a transient failure the target's other rows wait for
    /// its pause to end: a target that is down or hangs costs one attempt (one timeout) per
    /// pause, whatever its queue; the sink's other targets go on.
    async fn deliver_rows(&self, rows: &[DeliveryRow]) {
        let mut failed: HashSet<&str> = HashSet::new();
        for d in rows {
            if failed.contains(d.target.as_str()) {
                continue;
            }
            match self.deliver_one(d).await {
                Ok(true) => {}
                Ok(false) => {
                    failed.insert(&d.target);
                }
                Err(e) => tracing::error!("outbox: {e}"),
            }
        }
    }
}

/// Sleeps for `d`; with `None` never ends (the caller also waits for a wake-up or shutdown).
async fn sleep_or_wait(d: Option<Duration>) {
    match d {
        Some(d) => tokio::time::sleep(d).await,
        None => std::future::pending().await,
    }
}
