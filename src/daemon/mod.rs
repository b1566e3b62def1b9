//! The daemon: sources → handler → store → outbox → sinks, plus the answers coming back and the
//! second-order checks. [`run`] is the whole of `brokerwatch run`; tests call it in-process with
//! their own options and cancellation.

use std::sync::Arc;
use std::time::Duration;

use futures::stream::BoxStream;
use sd_notify::NotifyState;
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::alert::Response;
use crate::alert::outbox::{Outbox, Sinks};
use crate::config::live::Live;
use crate::config::{AccountSource, Config};
use crate::rules::RuleSet;
use crate::source::{MailHandler, imap, maildir};
use crate::store::{Store, now};
use crate::watch::Services;
use handler::{HandlerOptions, Processor};
use respond::Responder;

pub mod authserv;
pub mod handler;
pub mod reload;
pub mod respond;
pub mod signals;
mod systemd;

/// The store key (`kv` table) holding the epoch second the daemon last started; `brokerwatch
/// health` counts a mailbox's staleness from it at the earliest.
pub const STARTED_AT_KEY: &str = "daemon_started_at";

/// What the daemon judges by at start: the checked configuration and rules.
pub struct Setup {
    pub config: Config,
    pub rules: RuleSet,
}

/// How this daemon runs, as opposed to what it watches.
pub struct Options {
    /// Reload the configuration file and rules at each item (SIGHUP in `brokerwatch run`).
    pub reloads: Option<BoxStream<'static, ()>>,
    /// How long tasks get to finish after cancellation (the current transaction, IDLE DONE,
    /// LOGOUT) before they are aborted.
    pub shutdown_grace: Duration,
    /// Feed systemd's watchdog this often (half of `WatchdogSec=`), when it asks for it.
    pub watchdog: Option<Duration>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            reloads: None,
            shutdown_grace: Duration::from_secs(10),
            watchdog: None,
        }
    }
}

impl Options {
    /// `brokerwatch run`'s: reload on SIGHUP, feed the watchdog when systemd set one.
    pub fn for_service(reloads: BoxStream<'static, ()>) -> Self {
        Self {
            reloads: Some(reloads),
            watchdog: sd_notify::watchdog_enabled().map(|period| period / 2),
            ..Self::default()
        }
    }
}

/// Runs until `cancel` is cancelled; then stops every task cleanly, or aborts what is still
/// running after the grace period.
pub async fn run(setup: Setup, options: Options, cancel: CancellationToken) -> anyhow::Result<()> {
    let config = Arc::new(setup.config);
    let rules = Arc::new(setup.rules);
    let live = Live::new(config.clone(), rules.clone());
    let store = Store::open(&config.db_path())?;
    store.kv_set(STARTED_AT_KEY, &now().to_string())?;
    let (resp_tx, resp_rx) = mpsc::channel::<(Option<i64>, Response)>(64);
    let wake = Arc::new(Notify::new());
    let sinks = build_sinks(&config, resp_tx.clone(), &cancel)?;
    let telegram = sinks.telegram.clone();
    let services = Services {
        store: store.clone(),
        live: live.clone(),
        outbox_wake: wake.clone(),
    };
    let processor = Arc::new(Processor::new(services.clone(), HandlerOptions::daemon()));
    processor.correlate_all();
    let tasks = Tasks::default();
    if let Some(learn) = authserv::start(&live, &store) {
        tasks.spawn(until(cancel.clone(), learn));
    }
    spawn_sources(&tasks, &config, processor, &cancel);
    let alerted = spawn_outbox(&tasks, &services, sinks, &cancel);
    spawn_commands(&tasks, &config, &store, &telegram, &resp_tx, &cancel);
    tasks.spawn(until(
        cancel.clone(),
        crate::watch::liveness::run(services.clone()),
    ));
    let tamper = crate::watch::tamper::run(services, alerted);
    tasks.spawn(until(cancel.clone(), tamper));
    if let Some(reloads) = options.reloads {
        tasks.spawn(until(
            cancel.clone(),
            reload::on_each(reloads, live.clone()),
        ));
    }
    let responder = Responder {
        store: store.clone(),
        live,
    };
    let answers = respond::answer(responder, resp_rx, telegram, wake);
    tasks.spawn(until(cancel.clone(), answers));
    if let Some(every) = options.watchdog {
        tasks.spawn(until(cancel.clone(), systemd::feed_watchdog(store, every)));
    }
    announce(&config, &rules);
    cancel.cancelled().await;
    tracing::info!("shutting down");
    let _ = sd_notify::notify(&[NotifyState::Stopping, NotifyState::Status("shutting down")]);
    drop(resp_tx);
    tasks.finish(options.shutdown_grace).await;
    Ok(())
}

/// The daemon's tasks: tracked to wait for them, and abortable after the grace period.
#[derive(Default)]
struct Tasks {
    tracker: TaskTracker,
    aborts: std::sync::Mutex<Vec<tokio::task::AbortHandle>>,
}

impl Tasks {
    fn spawn(&self, f: impl Future<Output = ()> + Send + 'static) {
        let handle = self.tracker.spawn(f);
        let mut aborts = self.aborts.lock().unwrap_or_else(|p| p.into_inner());
        aborts.push(handle.abort_handle());
    }

    async fn finish(self, grace: Duration) {
        self.tracker.close();
        if tokio::time::timeout(grace, self.tracker.wait())
            .await
            .is_err()
        {
            tracing::warn!("some tasks did not stop within {grace:?}; aborting them");
            let aborts = self.aborts.lock().unwrap_or_else(|p| p.into_inner());
            aborts.iter().for_each(tokio::task::AbortHandle::abort);
        }
    }
}

/// Runs `f` until it ends or `cancel` is cancelled, whichever comes first: for loops whose
/// every await point may be dropped (no transaction or protocol exchange to finish).
async fn until(cancel: CancellationToken, f: impl Future<Output = ()>) {
    tokio::select! {
        _ = f => {}
        _ = cancel.cancelled() => {}
    }
}

/// Logs the start, says whether senders are verified, and tells systemd we are ready.
fn announce(config: &Config, rules: &RuleSet) {
    tracing::info!(
        accounts = config.accounts.len(),
        packs = rules.packs.len(),
        "brokerwatch running"
    );
    if config.authserv_ids.is_empty() && !config.authserv_auto {
        // Issue #14: sender checks silently off was how a forged broker From: went unnoticed.
        tracing::warn!(
            "authenticity unknown: no `authserv_ids` configured, so no sender is verified; \
             `brokerwatch doctor` proposes your server's authserv-id"
        );
    }
    let status = format!(
        "watching {} account(s) with {} broker pack(s)",
        config.accounts.len(),
        rules.packs.len()
    );
    // NOTE: a no-op without NOTIFY_SOCKET (not under systemd, or Type=simple).
    let _ = sd_notify::notify(&[NotifyState::Ready, NotifyState::Status(&status)]);
}

/// The outbox, delivering what is committed; returns the notification it passes every wake-up
/// on to (the tampering check has work only after a new alert).
fn spawn_outbox(
    tasks: &Tasks,
    services: &Services,
    sinks: Sinks,
    cancel: &CancellationToken,
) -> Arc<Notify> {
    let alerted = Arc::new(Notify::new());
    let mut outbox = Outbox::new(services.store.clone(), sinks, services.outbox_wake.clone());
    outbox.forward_wake = Some(alerted.clone());
    outbox.live = Some(services.live.clone());
    let c = cancel.clone();
    tasks.spawn(async move { outbox.run(c).await });
    alerted
}

/// Telegram commands (/ack, /snooze, …), when the Telegram sink is configured to take them.
fn spawn_commands(
    tasks: &Tasks,
    config: &Config,
    store: &Store,
    telegram: &Option<Arc<crate::alert::telegram::TelegramSink>>,
    responses: &mpsc::Sender<(Option<i64>, Response)>,
    cancel: &CancellationToken,
) {
    if let (Some(t), Some(tc)) = (telegram.clone(), config.sinks.telegram.as_ref())
        && tc.commands
    {
        let listen = crate::alert::telegram::listen(t, store.clone(), responses.clone());
        tasks.spawn(until(cancel.clone(), listen));
    }
}

fn build_sinks(
    config: &Config,
    responses: mpsc::Sender<(Option<i64>, Response)>,
    cancel: &CancellationToken,
) -> anyhow::Result<Sinks> {
    // Desktop answers have no chat to reply to.
    let (tx, mut rx) = mpsc::channel::<Response>(16);
    let forward = async move {
        while let Some(r) = rx.recv().await {
            if responses.send((None, r)).await.is_err() {
                break;
            }
        }
    };
    tokio::spawn(until(cancel.clone(), forward));
    match Sinks::from_config(config, tx) {
        (sinks, None) => Ok(sinks),
        (_, Some(e)) => Err(e.into()),
    }
}

fn spawn_sources(
    tasks: &Tasks,
    config: &Config,
    processor: Arc<Processor>,
    cancel: &CancellationToken,
) {
    let opts = imap::WatchOptions {
        first_run_lookback: config.first_run_lookback,
        ..imap::WatchOptions::default()
    };
    for account in &config.accounts {
        let handler: Arc<dyn MailHandler> = processor.clone();
        let name = account.name.clone();
        match &account.source {
            AccountSource::Imap(cfg) => {
                for mailbox in &cfg.mailboxes {
                    let (name, cfg, mb, h, o) = (
                        name.clone(),
                        cfg.clone(),
                        mailbox.clone(),
                        handler.clone(),
                        opts.clone(),
                    );
                    let c = cancel.clone();
                    tasks.spawn(async move {
                        if let Err(e) = imap::watch(&name, &cfg, &mb, h, &o, c).await {
                            tracing::error!(account = %name, mailbox = %mb, "cannot watch: {e}");
                        }
                    });
                }
            }
            AccountSource::Maildir(cfg) => {
                let (cfg, c) = (cfg.clone(), cancel.clone());
                let o = maildir::MaildirOptions {
                    first_run_lookback: config.first_run_lookback,
                };
                tasks.spawn(async move { maildir::watch(&name, &cfg, handler, &o, c).await });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};

    use tokio::time::Instant;

    use super::*;

    /// Sets its flag when dropped: a task's future was dropped (finished or aborted).
    struct Dropped(Arc<AtomicBool>);

    impl Drop for Dropped {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn cancelled_loops_end_at_once_without_waiting_for_the_grace() {
        let (tasks, cancel) = (Tasks::default(), CancellationToken::new());
        let gone = Arc::new(AtomicBool::new(false));
        let guard = Dropped(gone.clone());
        tasks.spawn(until(cancel.clone(), async move {
            let _guard = guard;
            std::future::pending::<()>().await
        }));
        cancel.cancel();
        let start = Instant::now();
        tasks.finish(Duration::from_secs(10)).await;
        assert_eq!(start.elapsed(), Duration::ZERO);
        assert!(gone.load(Ordering::SeqCst));
    }

    #[tokio::test(start_paused = true)]
    async fn a_task_that_ignores_cancellation_is_aborted_after_the_grace() {
        let tasks = Tasks::default();
        let gone = Arc::new(AtomicBool::new(false));
        let guard = Dropped(gone.clone());
        tasks.spawn(async move {
            let _guard = guard;
            loop {
                tokio::time::sleep(Duration::from_secs(3600)).await;
            }
        });
        let start = Instant::now();
        tasks.finish(Duration::from_secs(10)).await;
        assert_eq!(start.elapsed(), Duration::from_secs(10));
        tokio::task::yield_now().await;
        assert!(gone.load(Ordering::SeqCst), "aborted");
    }
}
