//! `brokerwatch doctor`: checks everything the daemon needs, one line each, `✔` or `✘` with the
//! reason: config, rules, state directory (and database), each account's login, the desktop
//! notification server, the Telegram bot. Processes no mail and shows no toast. Exit 1 if any `✘`.

mod accounts;
mod sinks;

use std::path::Path;
use std::time::Duration;

use super::Outcome;
use crate::alert::telegram::TelegramSink;
use crate::config::{self, Config};
use crate::rules;

/// Every D-Bus question is bounded by this.
const DBUS_TIMEOUT: Duration = Duration::from_secs(5);

/// Prints the lines and counts the failures.
#[derive(Debug, Default)]
struct Report {
    failed: usize,
}

impl Report {
    fn ok(&mut self, what: &str, detail: impl std::fmt::Display) {
        println!("✔ {what}: {detail}");
    }

    fn fail(&mut self, what: &str, reason: impl std::fmt::Display) {
        self.failed += 1;
        println!("✘ {what}: {reason}");
    }

    fn skip(&mut self, what: &str, why: &str) {
        println!("- {what}: {why}");
    }

    fn finish(self) -> anyhow::Result<Outcome> {
        if self.failed > 0 {
            anyhow::bail!("{} check(s) failed", self.failed);
        }
        Ok(Outcome::Ok)
    }
}

/// `brokerwatch doctor`.
pub fn run(cfg_path: Option<&Path>) -> anyhow::Result<Outcome> {
    let mut r = Report::default();
    let Some(cfg) = check_config(cfg_path, &mut r) else {
        return r.finish();
    };
    check_rules(&cfg, cfg_path, &mut r);
    check_trades(&cfg, &mut r);
    check_state(&cfg, &mut r);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        accounts::check_accounts(&cfg, &mut r).await;
        match &cfg.sinks.desktop {
            Some(_) => check_desktop(&mut r).await,
            None => r.skip("desktop", "disabled in the config"),
        }
        check_telegram(&cfg, &mut r).await;
        check_ntfy(&cfg, &mut r).await;
        sinks::check_line(&cfg, &mut r).await;
        sinks::check_pushover(&cfg, &mut r).await;
    });
    r.finish()
}

fn check_config(cfg_path: Option<&Path>, r: &mut Report) -> Option<Config> {
    let Some(path) = config::locate(cfg_path) else {
        r.fail(
            "config",
            "no config path: set --config or $BROKERWATCH_CONFIG",
        );
        return None;
    };
    if !path.exists() {
        r.fail(
            "config",
            format!(
                "{} does not exist (`brokerwatch init` writes a starter)",
                path.display()
            ),
        );
        return None;
    }
    match config::load(&path) {
        Ok(cfg) => {
            r.ok("config", format!("{} loads", path.display()));
            for w in &cfg.warnings {
                println!("  warning: {w}");
            }
            Some(cfg)
        }
        Err(problems) => {
            r.fail(
                "config",
                format!("{}: {} problem(s)", path.display(), problems.0.len()),
            );
            println!("{problems}");
            None
        }
    }
}

fn check_rules(cfg: &Config, cfg_path: Option<&Path>, r: &mut Report) {
    match rules::load(cfg.shipped_rules, &cfg.rules_dirs) {
        Ok(set) => {
            let n: usize = set.packs.iter().map(|p| p.rules.len()).sum();
            r.ok(
                "rules",
                format!("{n} rules in {} broker packs", set.packs.len()),
            );
            // The cross-checks between config and rules (e.g. an allowance naming no pack).
            if let Err(problems) = crate::config::load_checked(cfg_path) {
                r.fail(
                    "config vs rules",
                    format!("{} problem(s)", problems.0.len()),
                );
                println!("{problems}");
            }
        }
        Err(problems) => {
            r.fail("rules", format!("{} problem(s)", problems.0.len()));
            println!("{problems}");
        }
    }
}

/// Trades are watched only against a trading profile: say so when there is none.
fn check_trades(cfg: &Config, r: &mut Report) {
    let ja = cfg.language == crate::alert::language::Language::Ja;
    match &cfg.trading_profile {
        Some(p) if ja => r.ok(
            "trades",
            format!(
                "{}取引プロフィールと照合して監視しています",
                if p.brokers.is_empty() {
                    String::new()
                } else {
                    format!("{} の取引を、", p.brokers.join(", "))
                }
            ),
        ),
        Some(p) => r.ok(
            "trades",
            format!(
                "watched against your trading profile{}",
                if p.brokers.is_empty() {
                    String::new()
                } else {
                    format!(" at {}", p.brokers.join(", "))
                }
            ),
        ),
        None if ja => r.skip(
            "trades",
            "監視していません: 設定に `trading_profile` がないため、身に覚えのない取引があってもアラートは出ません（`brokerwatch profile` で、過去の取引メールから取引プロフィールを提案します）",
        ),
        None => r.skip(
            "trades",
            "NOT watched: no `trading_profile` in the config, so a trade you did not make raises nothing (`brokerwatch profile` proposes one from your past trade mails)",
        ),
    }
}

/// The state directory takes a new file (created and removed), and the database is sound.
fn check_state(cfg: &Config, r: &mut Report) {
    let dir = &cfg.state_dir;
    let probe = dir.join(format!(".doctor-{}", std::process::id()));
    let written = std::fs::create_dir_all(dir)
        .and_then(|()| {
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&probe)
        })
        .and_then(|_| std::fs::remove_file(&probe));
    match written {
        Ok(()) => r.ok("state dir", format!("{} is writable", dir.display())),
        Err(e) => r.fail(
            "state dir",
            format!("cannot write in {}: {e}", dir.display()),
        ),
    }
    let db = cfg.db_path();
    if !db.exists() {
        r.skip("state database", "not created yet (the daemon creates it)");
        return;
    }
    match super::health::read_snapshot(&db) {
        Ok(_) => r.ok(
            "state database",
            format!("{} passes quick_check", db.display()),
        ),
        Err(e) => r.fail("state database", e),
    }
}

async fn check_desktop(r: &mut Report) {
    let bus = std::env::var_os("DBUS_SESSION_BUS_ADDRESS").filter(|v| !v.is_empty());
    let runtime_bus = std::env::var_os("XDG_RUNTIME_DIR")
        .map(|d| Path::new(&d).join("bus"))
        .filter(|p| p.exists());
    if bus.is_none() && runtime_bus.is_none() {
        return r.fail(
            "desktop",
            "no session bus (DBUS_SESSION_BUS_ADDRESS is unset and there is no $XDG_RUNTIME_DIR/bus); \
             on a server set `sinks: {desktop: {enabled: false}}`",
        );
    }
    // NOTE: notify-rust's queries are blocking (and panic on a runtime thread): run them on the
    // blocking pool, bounded. GetServerInformation and GetCapabilities show nothing on screen.
    let query = tokio::task::spawn_blocking(|| {
        let info = notify_rust::get_server_information()?;
        let caps = notify_rust::get_capabilities()?;
        Ok::<_, notify_rust::error::Error>((info, caps))
    });
    match tokio::time::timeout(DBUS_TIMEOUT, query).await {
        Ok(Ok(Ok((info, caps)))) => r.ok(
            "desktop",
            format!(
                "notification server {} {} ({}buttons)",
                info.name,
                info.version,
                if caps.iter().any(|c| c == "actions") {
                    ""
                } else {
                    "no "
                }
            ),
        ),
        Ok(Ok(Err(e))) => r.fail(
            "desktop",
            format!("no notification server on the session bus: {e}"),
        ),
        Ok(Err(e)) => r.fail("desktop", format!("the D-Bus query failed: {e}")),
        Err(_) => r.fail(
            "desktop",
            format!(
                "the notification server did not answer within {}s",
                DBUS_TIMEOUT.as_secs()
            ),
        ),
    }
}

async fn check_telegram(cfg: &Config, r: &mut Report) {
    let Some(t) = &cfg.sinks.telegram else {
        return r.skip("telegram", "not configured");
    };
    let sink = match TelegramSink::new(t) {
        Ok(s) => s,
        Err(e) => return r.fail("telegram", e),
    };
    match sink.get_me().await {
        Ok(me) => {
            let chats: Vec<String> = t.chat_ids.iter().map(|c| c.to_string()).collect();
            r.ok(
                "telegram",
                format!(
                    "bot @{} answers; alerts go to chat(s) {}",
                    me.username,
                    chats.join(", ")
                ),
            );
        }
        Err(e) => r.fail("telegram", format!("getMe failed: {e}")),
    }
}

async fn check_ntfy(cfg: &Config, r: &mut Report) {
    use crate::alert::sink::Sink;
    let Some(n) = &cfg.sinks.ntfy else {
        return;
    };
    let sink = match crate::alert::ntfy::NtfySink::new(n) {
        Ok(s) => s,
        Err(e) => return r.fail("ntfy", format!("cannot read the token: {e}")),
    };
    match sink.check().await {
        Ok(line) => r.ok("ntfy", line),
        Err(e) => r.fail("ntfy", e.to_string()),
    }
}
