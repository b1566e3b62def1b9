//! `brokerwatch run`: the daemon, until SIGTERM or SIGINT.

use std::path::Path;

use super::Outcome;
use crate::daemon;

pub fn run(cfg_path: Option<&Path>) -> anyhow::Result<Outcome> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async {
        // Signal handlers before anything else: a SIGTERM or SIGHUP that arrives while the config
        // and rules load is acted on once the daemon runs, not fatal.
        let shutdown = daemon::shutdown_signal();
        let hangups = daemon::hangups()?;
        let Some((cfg, rules)) = super::load_here(cfg_path) else {
            return Ok(Outcome::Usage);
        };
        if cfg.accounts.is_empty() {
            eprintln!(
                "brokerwatch: no `accounts` configured: nothing to watch (see README, Configuration)"
            );
            return Ok(Outcome::Usage);
        }
        daemon::serve(cfg, rules, shutdown, hangups).await?;
        Ok(Outcome::Ok)
    })
}
