//! `brokerwatch run`: the daemon, until SIGTERM or SIGINT.

use std::path::Path;

use super::Outcome;
use tokio_util::sync::CancellationToken;

use crate::daemon;

pub fn run(cfg_path: Option<&Path>) -> anyhow::Result<Outcome> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async {
        // Signal handlers before anything else: a SIGTERM or SIGHUP that arrives while the config
        // and rules load is acted on once the daemon runs, not fatal.
        let shutdown = daemon::signals::shutdown_signal();
        let hangups = daemon::signals::hangups()?;
        let Some((cfg, rules)) = super::load_here(cfg_path) else {
            return Ok(Outcome::Usage);
        };
        if cfg.accounts.is_empty() {
            eprintln!(
                "brokerwatch: no `accounts` configured: nothing to watch (see README, Configuration)"
            );
            return Ok(Outcome::Usage);
        }
        let cancel = CancellationToken::new();
        let stop = cancel.clone();
        tokio::spawn(async move {
            shutdown.await;
            stop.cancel();
        });
        let setup = daemon::Setup { config: cfg, rules };
        let options = daemon::Options::for_service(Box::pin(hangups));
        daemon::run(setup, options, cancel).await?;
        Ok(Outcome::Ok)
    })
}
