//! Reloading a running daemon's configuration and rules (SIGHUP). The file is read and checked
//! exactly as at start; anything wrong and the daemon keeps what it runs on. What lives in
//! connections and open files (accounts, sinks, the state directory) needs a restart: a reload
//! keeps those as they were and says so.

use crate::config::live::Live;
use crate::config::{Config, Problem, Problems};
use crate::yaml::Loc;

/// What a successful reload applied.
#[derive(Debug)]
pub struct Applied {
    pub packs: usize,
    pub rules: usize,
    /// Changed settings that were kept as before (they need a restart).
    pub not_applied: Vec<String>,
}

/// Reads the running configuration's file and its rules again and swaps them in, or returns
/// every problem found (with `file:line:col`) and changes nothing.
pub fn reload(live: &Live) -> Result<Applied, Problems> {
    let current = live.config();
    let Some(path) = current.path.clone() else {
        return Err(Problems(vec![Problem {
            file: "config".into(),
            loc: Loc::default(),
            message: "the daemon runs on the built-in configuration: there is no file to reload"
                .into(),
        }]));
    };
    let (mut next, rules) = crate::config::load_checked(Some(&path))?;
    for w in &next.warnings {
        tracing::warn!("{w}");
    }
    let not_applied = keep_restart_only(&current, &mut next);
    crate::daemon::authserv::keep_learned(&current, &mut next);
    let applied = Applied {
        packs: rules.packs.len(),
        rules: rules.rule_count(),
        not_applied,
    };
    live.replace(next, rules);
    Ok(applied)
}

/// Puts the running values of the restart-only settings into `next`; names those that differed.
fn keep_restart_only(current: &Config, next: &mut Config) -> Vec<String> {
    let mut kept = Vec::new();
    if next.accounts != current.accounts {
        next.accounts = current.accounts.clone();
        kept.push("changes to `accounts` need a restart; the running accounts are kept".into());
    }
    if next.sinks != current.sinks {
        next.sinks = current.sinks.clone();
        kept.push("changes to `sinks` need a restart; the running sinks are kept".into());
    }
    // The sinks (buttons, reminder lines) speak the language they were built with.
    if next.language != current.language {
        next.language = current.language;
        kept.push("a new `language` needs a restart; the running one is kept".into());
    }
    if next.state_dir != current.state_dir {
        next.state_dir = current.state_dir.clone();
        kept.push("a new `state_dir` needs a restart; the running one is kept".into());
    }
    if crate::watch::liveness::check_every(next) != crate::watch::liveness::check_every(current) {
        next.heartbeat = current.heartbeat;
        next.quiet_days = current.quiet_days;
        kept.push(
            "turning `heartbeat` or `quiet_days` on or off needs a restart; the running ones are kept"
                .into(),
        );
    }
    if next.tamper_check != current.tamper_check {
        next.tamper_check = current.tamper_check;
        kept.push("a new `tamper_check` needs a restart; the running interval is kept".into());
    }
    kept
}

/// Reloads at each item of `reloads`, for as long as they come; says the outcome in the log and
/// in systemd's status line.
pub async fn on_each(reloads: futures::stream::BoxStream<'static, ()>, live: Live) {
    use futures::StreamExt;
    let mut reloads = reloads;
    while reloads.next().await.is_some() {
        let l = live.clone();
        let outcome = tokio::task::spawn_blocking(move || reload(&l)).await;
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
                FAILED.to_string()
            }
            Err(e) => {
                tracing::error!("reload failed: {e}");
                FAILED.to_string()
            }
        };
        let _ = sd_notify::notify(&[sd_notify::NotifyState::Status(&status)]);
    }
}

/// systemd's status line after a reload that changed nothing.
const FAILED: &str = "reload failed: running on the last good configuration and rules";

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use super::*;

    fn write(dir: &Path, name: &str, text: &str) {
        std::fs::write(dir.join(name), text).unwrap();
    }

    const PACK: &str = "broker: sbi\nrules:\n  - id: my-withdrawal\n    event: withdrawal\n    subject: ['お引き出し']\n";

    fn start(dir: &Path) -> Live {
        std::fs::create_dir_all(dir.join("rules")).unwrap();
        write(&dir.join("rules"), "mine.yaml", PACK);
        write(
            dir,
            "config.yaml",
            "state_dir: state\nrules_dirs: [rules]\naccounts:\n  - {name: a, maildir: mail}\n",
        );
        let (cfg, rules) = crate::config::load_checked(Some(&dir.join("config.yaml"))).unwrap();
        Live::new(Arc::new(cfg), Arc::new(rules))
    }

    #[test]
    fn a_broken_rule_file_keeps_the_last_good_rules() {
        let dir = tempfile::tempdir().unwrap();
        let live = start(dir.path());
        let before = live.rules();
        assert!(before.rule_count() > 0);
        write(
            &dir.path().join("rules"),
            "mine.yaml",
            "broker: sbi\nrules:\n  - id: my-withdrawal\n    event: withdrawal\n    subject: ['(unclosed']\n",
        );
        let problems = reload(&live).unwrap_err();
        let text = problems.to_string();
        assert!(text.contains("mine.yaml:5:"), "{text}");
        assert!(
            Arc::ptr_eq(&before, &live.rules()),
            "a failed reload must not replace the rules"
        );
    }

    #[test]
    fn a_good_reload_swaps_rules_and_keeps_restart_only_settings() {
        let dir = tempfile::tempdir().unwrap();
        let live = start(dir.path());
        let accounts_before = live.config().accounts.clone();
        write(
            dir.path(),
            "config.yaml",
            "state_dir: state\nrules_dirs: [rules]\ntakeover_window: 2d\naccounts:\n  - {name: b, maildir: other}\n",
        );
        let applied = reload(&live).unwrap();
        assert_eq!(applied.rules, live.rules().rule_count());
        assert_eq!(applied.not_applied.len(), 1, "{:?}", applied.not_applied);
        assert!(applied.not_applied[0].contains("accounts"));
        let cfg = live.config();
        assert_eq!(cfg.accounts, accounts_before);
        assert_eq!(cfg.takeover_window.as_secs(), 2 * 86400);
    }
}
