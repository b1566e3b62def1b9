//! The outbox worker: takes due deliveries from the store, hands them to their sinks, records
//! the outcome, and starts repeat rounds for unacknowledged alerts. A sink that is down only
//! delays its own deliveries; nothing is dropped, and state survives restarts.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;

use super::command::CommandSink;
use super::console::ConsoleSink;
use super::desktop::DesktopSink;
use super::language::Language;
use super::line::LineSink;
use super::ntfy::NtfySink;
use super::pause::Pauses;
use super::pushover::PushoverSink;
use super::routes::Routes;
use super::sink::Sink;
use super::telegram::{TelegramSetupError, TelegramSink};
use super::webhook::WebhookSink;
use super::{AlertMessage, Delivered, DeliveryError, Response};
use crate::config::{Config, SinkKind};
use crate::store::{AlertRow, DeliveryRow, DeliveryState, Store, StoreError, now};

mod reroute;

/// Longest sleep while something is pending: a wall-clock change or a suspend (the sleep runs
/// on the monotonic clock) delays a due delivery or repeat by at most this.
const MAX_SLEEP: Duration = Duration::from_secs(30);
/// A configuration problem (401, chat not found) is retried slowly: someone has to fix it.
const CONFIG_RETRY_SECS: i64 = 600;

/// The configured sinks, by kind.
#[derive(Default)]
pub struct Sinks {
    by_kind: BTreeMap<SinkKind, Arc<dyn Sink>>,
    /// The Telegram sink once more, typed: it also reads commands and sends replies.
    pub telegram: Option<Arc<TelegramSink>>,
    /// The language of the reminder and acknowledgement lines the outbox adds.
    pub language: Language,
    /// Where an alert goes when a sink's budget is spent.
    pub routes: Routes,
}

impl Sinks {
    /// The sinks the config enables. Desktop button clicks go to `desktop_responses`. A Telegram
    /// sink that cannot be built (unreadable token, bad URL) is left out and its error returned
    /// beside the rest, so each caller decides whether that is fatal.
    pub fn from_config(
        config: &Config,
        desktop_responses: mpsc::Sender<Response>,
    ) -> (Sinks, Option<TelegramSetupError>) {
        let mut sinks = Sinks {
            language: config.language,
            routes: Routes::from_config(config),
            ..Sinks::default()
        };
        let pushover_responses = desktop_responses.clone();
        if config.sinks.console {
            sinks.insert(Arc::new(ConsoleSink));
        }
        if let Some(d) = &config.sinks.desktop {
            sinks.insert(Arc::new(
                DesktopSink::new(d)
                    .with_language(config.language)
                    .with_responses(desktop_responses),
            ));
        }
        let mut error = None;
        if let Some(t) = &config.sinks.telegram {
            match TelegramSink::new(t) {
                Ok(s) => {
                    let s = s
                        .with_names(super::recipients::telegram_names(config))
                        .with_language(config.language);
                    let s = Arc::new(s);
                    sinks.telegram = Some(s.clone());
                    sinks.insert(s);
                }
                Err(e) => error = Some(e),
            }
        }
        if let Some(c) = &config.sinks.command {
            sinks.insert(Arc::new(CommandSink::new(c)));
        }
        if let Some(n) = &config.sinks.ntfy {
            match NtfySink::new(n) {
                Ok(s) => sinks.insert(Arc::new(s.with_recipients(&config.recipients))),
                // Left out like an unavailable sink; `doctor` and `alert-test` say why.
                Err(e) => tracing::error!("ntfy sink left out: cannot read its token: {e}"),
            }
        }
        if let Some(w) = &config.sinks.webhook {
            match WebhookSink::new(w) {
                Ok(s) => sinks.insert(Arc::new(s)),
                Err(e) => tracing::error!("webhook sink left out: cannot read its secret: {e}"),
            }
        }
        if let Some(l) = &config.sinks.line {
            match LineSink::new(l) {
                Ok(s) => sinks.insert(Arc::new(s)),
                Err(e) => tracing::error!("line sink left out: cannot read its token: {e}"),
            }
        }
        if let Some(p) = &config.sinks.pushover {
            match PushoverSink::new(p) {
                Ok(s) => sinks.insert(Arc::new(s.with_responses(pushover_responses))),
                Err(e) => tracing::error!("pushover sink left out: cannot read a key: {e}"),
            }
        }
        (sinks, error)
    }

    /// Adds (or replaces) the sink of its kind.
    pub fn insert(&mut self, sink: Arc<dyn Sink>) {
        self.by_kind.insert(sink.kind(), sink);
    }

    pub fn get(&self, kind: SinkKind) -> Option<&Arc<dyn Sink>> {
        self.by_kind.get(&kind)
    }

    /// Every configured sink, in kind order.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<dyn Sink>> {
        self.by_kind.values()
    }
}

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

    /// Delivers one row and records the outcome; false if the sink failed transiently.
    async fn deliver_one(&self, d: &DeliveryRow) -> Result<bool, StoreError> {
        let Some(alert) = self.store.alert(d.alert)? else {
            self.store
                .delivery_done(d, DeliveryState::Cancelled, None)?;
            return Ok(true);
        };
        if d.round > 0 && alert.acked_at.is_some() {
            self.store
                .delivery_done(d, DeliveryState::Cancelled, None)?;
            return Ok(true);
        }
        let cfg = self.config();
        if let Some(cfg) = &cfg
            && super::quiet::holds(cfg, &alert, d, now())
        {
            tracing::info!(alert = d.alert, sink = %d.sink, target = %d.target, "quiet hours: held for the summary");
            self.store.hold(d)?;
            return Ok(true);
        }
        let msg = if d.round < 0 {
            let cfg = cfg.unwrap_or_else(|| Arc::new(crate::config::builtin()));
            match super::quiet::special_message(&self.store, &cfg, &alert, d)? {
                Some(m) => m,
                None => {
                    self.store.summary_done(d, DeliveryState::Cancelled)?;
                    self.store
                        .delivery_done(d, DeliveryState::Cancelled, None)?;
                    return Ok(true);
                }
            }
        } else {
            message(&alert, d.round, self.sinks.language)
        };
        if d.round >= 0
            && let Some(Err(why)) = self
                .sinks
                .get(d.sink)
                .map(|s| s.admit(alert.severity, d.round))
        {
            return self.reroute(d, &alert, &why);
        }
        match self.send(d, &msg).await {
            Ok(done) => {
                tracing::debug!(alert = d.alert, sink = %d.sink, "delivered");
                if self.pauses.succeeded(&(d.sink, d.target.clone())) {
                    tracing::info!(sink = %d.sink, target = %d.target, "reachable again: sending what waited");
                    // The rest of its queue goes in the next pass, at once.
                    self.wake.notify_one();
                }
                if d.round == crate::store::SUMMARY {
                    self.store.summary_done(d, DeliveryState::Sent)?;
                }
                self.store
                    .delivery_done(d, DeliveryState::Sent, done.remote_id.as_deref())?;
                Ok(true)
            }
            Err(DeliveryError::Unavailable(why)) => {
                let first = self
                    .unavailable
                    .lock()
                    .map(|mut s| s.insert(d.sink))
                    .unwrap_or(false);
                if first {
                    tracing::warn!(sink = %d.sink, "sink unavailable, skipping it: {why}");
                }
                self.store
                    .delivery_done(d, DeliveryState::Unavailable, None)?;
                Ok(true)
            }
            Err(DeliveryError::Retry { reason, after }) => {
                let wait = self.pauses.failed(&(d.sink, d.target.clone()), after);
                tracing::warn!(
                    alert = d.alert, sink = %d.sink, target = %d.target,
                    paused_ms = wait.as_millis() as u64,
                    "delivery failed, target paused: {reason}"
                );
                // The store's time is only a floor after a restart; the pause decides.
                self.store.delivery_retry(d, &reason, now())?;
                Ok(false)
            }
            Err(DeliveryError::Exhausted(why)) => self.reroute(d, &alert, &why),
            Err(DeliveryError::Config(reason)) => {
                tracing::error!(alert = d.alert, sink = %d.sink, "sink misconfigured: {reason}");
                // Another chat of the same sink may still work.
                self.store
                    .delivery_retry(d, &reason, now() + CONFIG_RETRY_SECS)?;
                Ok(true)
            }
        }
    }

    async fn send(&self, d: &DeliveryRow, msg: &AlertMessage) -> Result<Delivered, DeliveryError> {
        match self.sinks.get(d.sink) {
            Some(sink) => sink.deliver(&d.target, msg).await,
            None => Err(DeliveryError::Unavailable(format!(
                "sink `{}` is not configured",
                d.sink
            ))),
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

/// The message a sink gets for one round of an alert.
pub fn message(a: &AlertRow, round: i64, lang: Language) -> AlertMessage {
    let title = match (round > 0, lang) {
        (true, Language::Ja) => format!("【再通知 {round}回目・未確認】{}", a.title),
        (true, Language::En) => format!("Reminder {round}: {}", a.title),
        (false, _) => a.title.clone(),
    };
    let mut body = a.body.replace("<id>", &a.id.to_string());
    if a.actionable {
        let id = a.id;
        body.push_str(&match lang {
            Language::Ja => format!(
                "\n\nアラート #{id} — 確認済みにするには /ack {id} を送るか、`brokerwatch ack {id}` を実行してください。"
            ),
            Language::En => format!(
                "\n\nAlert #{id} — acknowledge with /ack {id} or `brokerwatch ack {id}`."
            ),
        });
    }
    AlertMessage {
        id: a.id,
        kind: a.kind,
        severity: a.severity,
        title,
        body,
        actionable: a.actionable && a.acked_at.is_none(),
    }
}
