//! `brokerwatch scan [--since DATE] [--json] [--alert]`: one pass over the configured mailboxes.
//!
//! Without `--alert` the pass uses a throwaway state, so it never consumes a notice the daemon
//! has yet to alert on. With `--alert` it uses the daemon's state (checkpoints advance) and
//! delivers the alerts it raises before it exits.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::sync::Notify;

use super::Outcome;
use crate::alert::outbox::{Outbox, Sinks};
use crate::assess::Verdict;
use crate::config::{AccountSource, Config};
use crate::daemon::handler::{HandlerOptions, Processor, VerdictHook};
use crate::rules::RuleSet;
use crate::source::{MailboxId, Position, RawMessage, imap, maildir};
use crate::store::{Store, now};
use crate::watch::Services;

/// `--alert`: how long to keep delivering after the pass.
const DELIVERY_WINDOW: Duration = Duration::from_secs(60);

pub fn run(
    cfg_path: Option<&Path>,
    since: Option<&str>,
    as_json: bool,
    alert: bool,
) -> anyhow::Result<Outcome> {
    let Some((cfg, rules)) = super::load(cfg_path) else {
        return Ok(Outcome::Usage);
    };
    let since = match since.map(crate::units::parse_date).transpose() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("brokerwatch: --since: {e}");
            return Ok(Outcome::Usage);
        }
    };
    if let Some(s) = since.filter(|s| *s > now()) {
        eprintln!(
            "brokerwatch: scan: --since is {} in the future: no mail to look at",
            crate::units::format_duration(Duration::from_secs((s - now()) as u64))
        );
        return Ok(Outcome::Ok);
    }
    // NOTE: a dry pass has a fresh throwaway state, so without a date it would be a "first run"
    // every time (and say so); the lookback it would apply is the date instead.
    let since = match since {
        None if !alert => Some(now() - cfg.first_run_lookback.as_secs() as i64),
        s => s,
    };
    if !alert {
        eprintln!(
            "brokerwatch: scan: mail of the last {} (a dry pass: nothing is recorded, no alert is sent)",
            crate::units::format_duration(Duration::from_secs(
                (now() - since.unwrap_or_else(now)).max(0) as u64
            ))
        );
    }
    let shown = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let store = if alert {
        Store::open(&cfg.db_path())?
    } else {
        Store::open_memory()?
    };
    let counted = shown.clone();
    let hook: VerdictHook = Box::new(move |mb, m, v| {
        if print_verdict(mb, m, v, as_json) {
            counted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    });
    let failures = pass(Arc::new(cfg), rules, store, alert, hook, since)?;
    if failures > 0 {
        anyhow::bail!("{failures} mailbox(es) could not be scanned");
    }
    if shown.load(std::sync::atomic::Ordering::Relaxed) == 0 {
        eprintln!("brokerwatch: scan: no broker mail found");
    }
    Ok(Outcome::Ok)
}

/// One pass over every configured mailbox, each verdict handed to `hook`; with `alert`, the
/// alerts it raises are delivered before it returns. Returns how many mailboxes failed (each
/// already reported on stderr). `brokerwatch profile` makes the same pass.
pub(super) fn pass(
    cfg: Arc<Config>,
    rules: RuleSet,
    store: Store,
    alert: bool,
    hook: VerdictHook,
    since: Option<i64>,
) -> anyhow::Result<usize> {
    let wake = Arc::new(Notify::new());
    let services = Services {
        store: store.clone(),
        live: crate::config::live::Live::new(cfg.clone(), Arc::new(rules)),
        outbox_wake: wake.clone(),
    };
    let options = HandlerOptions {
        alerts: alert,
        on_verdict: Some(hook),
    };
    let processor = Processor::new(services, options);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    Ok(rt.block_on(async {
        let mut failures = 0;
        for a in &cfg.accounts {
            failures += scan_account(a, &cfg, &processor, since).await;
        }
        if alert {
            deliver_pending(&cfg, processor.services.live.clone(), store.clone(), wake).await;
        }
        failures
    }))
}

/// One account's mailboxes, once; returns how many failed, each reported on stderr.
async fn scan_account(
    a: &crate::config::Account,
    cfg: &Config,
    processor: &Processor,
    since: Option<i64>,
) -> usize {
    let r = match &a.source {
        AccountSource::Imap(i) => {
            let opts = imap::WatchOptions {
                first_run_lookback: cfg.first_run_lookback,
                ..Default::default()
            };
            imap::scan_once(&a.name, i, processor, since, &opts)
                .await
                .map(|boxes| {
                    boxes
                        .iter()
                        .filter_map(|b| b.result.as_ref().err().map(|e| (b, e)))
                        .inspect(|(b, e)| eprintln!("brokerwatch: {}/{}: {e}", a.name, b.mailbox))
                        .count()
                })
                .map_err(|e| e.to_string())
        }
        AccountSource::Maildir(m) => maildir::scan_once(
            &a.name,
            m,
            processor,
            since,
            &maildir::MaildirOptions {
                first_run_lookback: cfg.first_run_lookback,
            },
        )
        .map(|_| 0)
        .map_err(|e| e.to_string()),
    };
    r.unwrap_or_else(|e| {
        eprintln!("brokerwatch: {}: {e}", a.name);
        1
    })
}

/// Prints one verdict; false when the mail is not worth a line (no broker, parsed fine).
fn print_verdict(mb: &MailboxId, m: &RawMessage, v: &Verdict, as_json: bool) -> bool {
    if v.broker.is_none() && !v.reasons.iter().any(|r| r.is_unparseable()) {
        return false;
    }
    let (key, value) = match &m.position {
        Position::Imap { uid, .. } => ("uid", json!(uid)),
        Position::Maildir { name } => ("file", json!(name)),
    };
    if as_json {
        let mut obj = super::verdict_json(v, key, value);
        if let Some(o) = obj.as_object_mut() {
            o.insert("mailbox".into(), json!(mb.to_string()));
        }
        println!("{obj}");
    } else {
        println!(
            "{mb} {key} {value}: {} {} severity={}{}{} — {}",
            v.broker.as_deref().unwrap_or("-"),
            v.event.map(|e| e.as_str()).unwrap_or("-"),
            v.severity,
            if v.phishing { " PHISHING" } else { "" },
            if v.expected { " expected" } else { "" },
            v.subject
        );
    }
    true
}

async fn deliver_pending(
    cfg: &crate::config::Config,
    live: crate::config::live::Live,
    store: Store,
    wake: Arc<Notify>,
) {
    let (tx, _rx) = tokio::sync::mpsc::channel(1);
    let (sinks, telegram_error) = Sinks::from_config(cfg, tx);
    if let Some(e) = telegram_error {
        eprintln!("brokerwatch: telegram: {e}");
    }
    let mut outbox = Outbox::new(store.clone(), sinks, wake);
    // Quiet hours hold here too; the daemon sends the summary when they end.
    outbox.live = Some(live);
    let start = Instant::now();
    while start.elapsed() < DELIVERY_WINDOW {
        if let Err(e) = outbox.tick().await {
            eprintln!("brokerwatch: outbox: {e}");
        }
        match store.next_delivery_at() {
            Ok(Some(at)) if at <= now() + DELIVERY_WINDOW.as_secs() as i64 => {
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            _ => return,
        }
    }
    eprintln!("brokerwatch: some alerts are still pending; `brokerwatch run` will deliver them");
}
