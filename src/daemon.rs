//! The daemon: sources → process → store → outbox → sinks, plus the answers coming back.
//! [`run`] is the whole of `brokerwatch run`; tests call it in-process with their own shutdown.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures::{Stream, StreamExt};

use sd_notify::NotifyState;
use tokio::sync::{Notify, mpsc, watch};
use tokio::task::JoinSet;

use crate::alert::Response;
use crate::alert::outbox::{Outbox, Sinks};
use crate::alert::telegram::TelegramSink;
use crate::backoff::Backoff;
use crate::config::{AccountSource, Config};
use crate::live::Live;
use crate::process::Processor;
use crate::respond::Responder;
use crate::rules::RuleSet;
use crate::source::{MailHandler, imap, maildir};
use crate::store::{Store, now};

/// How long tasks get to finish after shutdown (the current transaction, IDLE DONE, LOGOUT).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Runs until `shutdown` completes; then stops every task cleanly.
pub async fn run(
    config: Config,
    rules: RuleSet,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    serve(config, rules, shutdown, futures::stream::pending()).await
}

/// [`run`], reloading the configuration file and rules at each item of `reloads` (SIGHUP in
/// `brokerwatch run`). A reload that fails keeps the last good configuration and rules.
pub async fn serve(
    config: Config,
    rules: RuleSet,
    shutdown: impl Future<Output = ()>,
    reloads: impl Stream<Item = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let config = Arc::new(config);
    let rules = Arc::new(rules);
    let live = Live::new(config.clone(), rules.clone());
    let store = Store::open(&config.db_path())?;
    // `brokerwatch health` counts a mailbox's staleness from this at the earliest.
    store.kv_set(crate::cli::health::STARTED_AT_KEY, &now().to_string())?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let (resp_tx, resp_rx) = mpsc::channel::<(Option<i64>, Response)>(64);
    let wake = Arc::new(Notify::new());
    let sinks = build_sinks(&config, resp_tx.clone())?;
    let telegram = sinks.telegram.clone();
    let processor = Arc::new(Processor {
        store: store.clone(),
        live: live.clone(),
        outbox_wake: wake.clone(),
        alerts_enabled: true,
        on_verdict: None,
    });
    processor.correlate_all();
    let mut tasks = JoinSet::new();
    spawn_sources(&mut tasks, &config, processor.clone(), &stop_rx);
    let alerted = Arc::new(Notify::new());
    let mut outbox = Outbox::new(store.clone(), sinks, wake.clone());
    outbox.forward_wake = Some(alerted.clone());
    let outbox = Arc::new(outbox);
    {
        let (o, rx) = (outbox.clone(), stop_rx.clone());
        tasks.spawn(async move { o.run(rx).await });
    }
    if let (Some(t), Some(tc)) = (telegram.clone(), config.sinks.telegram.as_ref())
        && tc.commands
    {
        tasks.spawn(poll_telegram(
            t,
            store.clone(),
            resp_tx.clone(),
            stop_rx.clone(),
        ));
    }
    tasks.spawn(liveness(processor.clone(), stop_rx.clone()));
    tasks.spawn(watch_tampering(processor.clone(), alerted, stop_rx.clone()));
    let responder = Responder {
        store: store.clone(),
        live: live.clone(),
    };
    tasks.spawn(reload_on(reloads, live, stop_rx.clone()));
    tasks.spawn(answer(
        responder,
        resp_rx,
        telegram,
        wake.clone(),
        stop_rx.clone(),
    ));
    if let Some(period) = sd_notify::watchdog_enabled() {
        tasks.spawn(feed_watchdog(store.clone(), period / 2, stop_rx.clone()));
    }
    tracing::info!(
        accounts = config.accounts.len(),
        packs = rules.packs.len(),
        "brokerwatch running"
    );
    if config.authserv_ids.is_empty() {
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
    shutdown.await;
    tracing::info!("shutting down");
    let _ = sd_notify::notify(&[NotifyState::Stopping, NotifyState::Status("shutting down")]);
    let _ = stop_tx.send(true);
    drop(resp_tx);
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!("some tasks did not stop within {SHUTDOWN_GRACE:?}; aborting them");
        tasks.abort_all();
    }
    Ok(())
}

fn build_sinks(
    config: &Config,
    responses: mpsc::Sender<(Option<i64>, Response)>,
) -> anyhow::Result<Sinks> {
    // Desktop answers have no chat to reply to.
    let (tx, mut rx) = mpsc::channel::<Response>(16);
    tokio::spawn(async move {
        while let Some(r) = rx.recv().await {
            if responses.send((None, r)).await.is_err() {
                break;
            }
        }
    });
    match Sinks::from_config(config, tx) {
        (sinks, None) => Ok(sinks),
        (_, Some(e)) => Err(e.into()),
    }
}

fn spawn_sources(
    tasks: &mut JoinSet<()>,
    config: &Config,
    processor: Arc<Processor>,
    stop: &watch::Receiver<bool>,
) {
    let opts = imap::WatchOptions {
        first_run_lookback: config.first_run_lookback,
        ..imap::WatchOptions::default()
    };
    for account in &config.accounts {
        let handler: Arc<dyn MailHandler> = processor.clone();
        match &account.source {
            AccountSource::Imap(cfg) => {
                for mailbox in &cfg.mailboxes {
                    let (name, cfg, mb, h, o, rx) = (
                        account.name.clone(),
                        cfg.clone(),
                        mailbox.clone(),
                        handler.clone(),
                        opts.clone(),
                        stop.clone(),
                    );
                    tasks.spawn(async move {
                        if let Err(e) = imap::watch(&name, &cfg, &mb, h, &o, rx).await {
                            tracing::error!(account = %name, mailbox = %mb, "cannot watch: {e}");
                        }
                    });
                }
            }
            AccountSource::Maildir(cfg) => {
                let (name, cfg, h, rx) = (
                    account.name.clone(),
                    cfg.clone(),
                    handler.clone(),
                    stop.clone(),
                );
                let o = maildir::MaildirOptions {
                    first_run_lookback: config.first_run_lookback,
                };
                tasks.spawn(async move {
                    maildir::watch(&name, &cfg, h, &o, rx).await;
                });
            }
        }
    }
}

/// Long-polls Telegram for commands and buttons; the update offset survives restarts.
async fn poll_telegram(
    t: Arc<TelegramSink>,
    store: Store,
    out: mpsc::Sender<(Option<i64>, Response)>,
    mut stop: watch::Receiver<bool>,
) {
    if let Err(e) = t.register_commands().await {
        tracing::warn!("cannot register Telegram commands: {e}");
    }
    let mut offset: i64 = store
        .kv_get("telegram_offset")
        .ok()
        .flatten()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut backoff = Backoff::new(Duration::from_secs(2), Duration::from_secs(32));
    loop {
        let polled = tokio::select! {
            r = t.poll_from(&mut offset, Duration::from_secs(25)) => r,
            _ = stop.changed() => return,
        };
        match polled {
            Ok(items) => {
                backoff.reset();
                let _ = store.kv_set("telegram_offset", &offset.to_string());
                for item in items {
                    if out.send(item).await.is_err() {
                        return;
                    }
                }
            }
            Err(e) => {
                let wait = backoff.next_delay();
                tracing::warn!("Telegram getUpdates failed ({e}); again in {wait:?}");
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = stop.changed() => return,
                }
            }
        }
        if *stop.borrow() {
            return;
        }
    }
}

/// Applies answers and replies to the chat they came from (all chats for desktop answers).
async fn answer(
    responder: Responder,
    mut rx: mpsc::Receiver<(Option<i64>, Response)>,
    telegram: Option<Arc<TelegramSink>>,
    wake: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let (chat, r) = tokio::select! {
            m = rx.recv() => match m { Some(m) => m, None => return },
            _ = stop.changed() => return,
        };
        let reply = match responder.handle(&r) {
            Ok(text) => text,
            Err(e) => {
                tracing::error!("cannot apply {r:?}: {e}");
                match responder.live.config().language {
                    crate::alert::language::Language::Ja => {
                        format!("brokerwatch: この操作を反映できませんでした: {e}")
                    }
                    crate::alert::language::Language::En => {
                        format!("brokerwatch could not apply that: {e}")
                    }
                }
            }
        };
        wake.notify_one();
        let Some(t) = &telegram else {
            println!("{reply}");
            continue;
        };
        let chats: Vec<i64> = match chat {
            Some(c) => vec![c],
            None if matches!(r, Response::NotMe { .. }) => t.chats().to_vec(),
            None => Vec::new(),
        };
        for c in chats {
            if let Err(e) = t.reply(c, &reply).await {
                tracing::warn!(chat_id = c, "cannot send the reply: {e}");
            }
        }
    }
}

/// Tells systemd we are alive every `every` (half of `WatchdogSec=`), as long as the runtime
/// runs this task and the state database answers; otherwise systemd restarts us.
async fn feed_watchdog(store: Store, every: Duration, mut stop: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(every);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        match store.kv_get(crate::cli::health::STARTED_AT_KEY) {
            Ok(_) => {
                let _ = sd_notify::notify(&[NotifyState::Watchdog]);
            }
            Err(e) => {
                tracing::error!("state database does not answer ({e}); not feeding the watchdog")
            }
        }
    }
}

/// Quiet brokers and the heartbeat, when configured (no timer otherwise).
async fn liveness(p: Arc<Processor>, mut stop: watch::Receiver<bool>) {
    let Some(every) = crate::liveness::check_every(&p.config()) else {
        return;
    };
    let mut tick = tokio::time::interval(every);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        let (config, rules) = (p.config(), p.rules());
        match crate::liveness::due(&p.store, &config, &rules, now()) {
            Ok(alerts) => {
                for d in alerts {
                    if let Err(e) = p.raise(d) {
                        tracing::error!("cannot record a liveness alert: {e}");
                    }
                }
            }
            Err(e) => tracing::error!("liveness check failed: {e}"),
        }
    }
}

/// Checks recently alerted notices for deletion or foreign \\Seen every `tamper_check`; with
/// none to watch, waits for the next alert (`alerted`) rather than ticking.
async fn watch_tampering(p: Arc<Processor>, alerted: Arc<Notify>, mut stop: watch::Receiver<bool>) {
    loop {
        if matches!(crate::tamper::watching(&p), Ok(false)) {
            tokio::select! {
                _ = alerted.notified() => {}
                _ = stop.changed() => return,
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(p.config().tamper_check) => {}
            _ = stop.changed() => return,
        }
        if let Err(e) = crate::tamper::check(&p).await {
            tracing::error!("tamper check failed: {e}");
        }
    }
}

/// Reloads at each item of `reloads` until stopped.
async fn reload_on(
    reloads: impl Stream<Item = ()> + Send + 'static,
    live: Live,
    mut stop: watch::Receiver<bool>,
) {
    let mut reloads = std::pin::pin!(reloads);
    loop {
        tokio::select! {
            r = reloads.next() => if r.is_none() { return },
            _ = stop.changed() => return,
        }
        let l = live.clone();
        let outcome = tokio::task::spawn_blocking(move || crate::reload::reload(&l)).await;
        let status = match outcome {
            Ok(Ok(applied)) => {
                for note in &applied.not_applied {
                    tracing::warn!("reload: {note}");
                }
                tracing::info!(
                    packs = applied.packs,
                    rules = applied.rules,
                    "reloaded the configuration and rules"
                );
                format!(
                    "reloaded: {} rule(s) in {} pack(s)",
                    applied.rules, applied.packs
                )
            }
            Ok(Err(problems)) => {
                for p in &problems.0 {
                    tracing::error!("reload: {p}");
                }
                tracing::error!(
                    "reload failed ({} problem(s)): still running on the last good configuration and rules",
                    problems.0.len()
                );
                "reload failed: running on the last good configuration and rules".to_string()
            }
            Err(e) => {
                tracing::error!("reload failed: {e}");
                "reload failed: running on the last good configuration and rules".to_string()
            }
        };
        let _ = sd_notify::notify(&[NotifyState::Status(&status)]);
    }
}

/// Each SIGHUP, as a stream. The handler is installed at once, so a SIGHUP that arrives before
/// the daemon is ready is a reload, not the default "terminate".
pub fn hangups() -> std::io::Result<impl Stream<Item = ()> + Send + 'static> {
    use tokio::signal::unix::{SignalKind, signal};
    let hup = signal(SignalKind::hangup())?;
    Ok(futures::stream::unfold(hup, |mut hup| async move {
        hup.recv().await.map(|()| ((), hup))
    }))
}

/// Resolves on SIGTERM or SIGINT. The handlers are installed when this is called (inside a
/// runtime), not when the future is first polled: a SIGTERM during start-up then stops the daemon
/// cleanly once it runs, instead of killing it.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    use tokio::signal::unix::{SignalKind, signal};
    let term = signal(SignalKind::terminate());
    let int = signal(SignalKind::interrupt());
    async move {
        match (term, int) {
            (Ok(mut t), Ok(mut i)) => {
                tokio::select! {
                    _ = t.recv() => {}
                    _ = i.recv() => {}
                }
            }
            _ => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
}
