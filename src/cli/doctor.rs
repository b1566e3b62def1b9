//! `brokerwatch doctor`: checks everything the daemon needs, one line each, `✔` or `✘` with the
//! reason: config, rules, state directory (and database), each account's login, the desktop
//! notification server, the Telegram bot. Processes no mail and shows no toast. Exit 1 if any `✘`.

mod sinks;

use std::path::Path;
use std::time::Duration;

use super::Outcome;
use crate::alert::telegram::TelegramSink;
use crate::config::{self, AccountSource, Config, ImapAccount, MaildirAccount};
use crate::rules;
use crate::source::imap::{self, Timeouts, folder};

/// Bounds for the IMAP check (shorter than the daemon's: someone is waiting).
const IMAP_TIMEOUTS: Timeouts = Timeouts {
    connect: Duration::from_secs(15),
    command: Duration::from_secs(30),
};

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
        check_accounts(&cfg, &mut r).await;
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

async fn check_accounts(cfg: &Config, r: &mut Report) {
    if cfg.accounts.is_empty() {
        r.fail("accounts", "none configured: nothing would be watched");
    }
    for a in &cfg.accounts {
        match &a.source {
            AccountSource::Imap(i) => check_imap(&a.name, i, cfg, r).await,
            AccountSource::Maildir(m) => check_maildir(&a.name, m, r),
        }
    }
}

async fn check_imap(name: &str, cfg: &ImapAccount, whole: &Config, r: &mut Report) {
    let what = format!("imap {name}");
    let probe = match imap::probe(cfg, &IMAP_TIMEOUTS).await {
        Ok(p) => p,
        Err(e) => return r.fail(&what, e),
    };
    let mut boxes = Vec::new();
    for (mailbox, result) in &probe.mailboxes {
        match result {
            Ok(n) => boxes.push(format!("{mailbox} ({n} messages)")),
            Err(e) => r.fail(
                &format!("imap {name}/{mailbox}"),
                format!("{e}{}", did_you_mean(mailbox, &probe.listed)),
            ),
        }
    }
    if whole.authserv_auto {
        auto_sender_checks(name, &probe.recent_headers, whole, r);
    } else {
        sender_checks(name, &probe.recent_headers, &whole.authserv_ids, r);
    }
    if !probe.listed.is_empty() {
        let names: Vec<String> = probe.listed.iter().map(listed_name).collect();
        r.ok(&format!("imap {name} mailboxes"), names.join(", "));
    }
    r.ok(
        &what,
        format!(
            "logged in to {}:{} as {} over {}; {}; {}",
            cfg.host,
            cfg.port,
            cfg.username,
            if probe.tls {
                "TLS"
            } else {
                "plaintext (loopback)"
            },
            if probe.idle {
                "IDLE"
            } else {
                "no IDLE: polling"
            },
            if boxes.is_empty() {
                "no mailbox examined".into()
            } else {
                boxes.join(", ")
            },
        ),
    );
}

/// Proposes the authserv-id the account's own server writes on recent mail (sender checks
/// are off without one). Shown per account; the config setting is global.
fn sender_checks(name: &str, headers: &[Vec<u8>], trusted: &[String], r: &mut Report) {
    let what = format!("sender checks {name}");
    let learned = crate::assess::authserv::learn(headers.iter().map(Vec::as_slice));
    if !trusted.is_empty() {
        match learned {
            Some(l) if !trusted.iter().any(|t| t.eq_ignore_ascii_case(&l.id)) => r.skip(
                &what,
                &format!(
                    "recent mail was checked by `{}` ({} of {}), which is not in `authserv_ids`",
                    l.id, l.seen, l.of
                ),
            ),
            _ => r.ok(&what, format!("trusting {}", trusted.join(", "))),
        }
        return;
    }
    match learned {
        Some(l) => r.ok(
            &what,
            format!(
                "your server writes Authentication-Results as `{}` ({} of {} recent mails that have them); \
                 put `authserv_ids: [{}]` in the config to verify senders",
                l.id, l.seen, l.of, l.id
            ),
        ),
        None => r.skip(
            &what,
            &format!(
                "authenticity unknown: no authserv-id written consistently above the server's own \
                 Received in {} recent mails; senders are not verified",
                headers.len()
            ),
        ),
    }
}

/// `authserv_ids: auto`: what the daemon learned (state database) and what recent mail says now.
fn auto_sender_checks(name: &str, headers: &[Vec<u8>], cfg: &Config, r: &mut Report) {
    let what = format!("sender checks {name}");
    let stored = crate::store::Store::open_existing(&cfg.db_path())
        .ok()
        .flatten()
        .and_then(|s| crate::daemon::authserv::stored(&s));
    let now = crate::assess::authserv::learn(headers.iter().map(Vec::as_slice));
    match (stored, now) {
        (Some(s), Some(n)) if s.id == n.id => r.ok(
            &what,
            format!(
                "trusting `{}` (authserv_ids: auto; learned from {} of {} recent mails, and recent mail agrees: {} of {})",
                s.id, s.seen, s.of, n.seen, n.of
            ),
        ),
        (Some(s), other) => r.skip(
            &what,
            &format!(
                "the daemon trusts `{}` (authserv_ids: auto, learned from {} of {} recent mails), but recent mail here {}",
                s.id,
                s.seen,
                s.of,
                other.map_or("shows no consistent authserv-id".to_string(), |n| format!(
                    "was checked by `{}` ({} of {})",
                    n.id, n.seen, n.of
                ))
            ),
        ),
        (None, Some(n)) => r.ok(
            &what,
            format!(
                "authserv_ids: auto: the daemon will learn `{}` ({} of {} recent mails that have Authentication-Results)",
                n.id, n.seen, n.of
            ),
        ),
        (None, None) => r.skip(
            &what,
            &format!(
                "authenticity unknown: `authserv_ids: auto` finds no authserv-id written consistently \
                 above the server's own Received in {} recent mails; senders are not verified",
                headers.len()
            ),
        ),
    }
}

/// "; did you mean `X`?" when a configured mailbox is not on the server but a close one is.
fn did_you_mean(wanted: &str, listed: &[folder::Listed]) -> String {
    if listed.is_empty() || folder::exists(wanted, listed) {
        return String::new();
    }
    match folder::closest(wanted, listed) {
        Some(near) => format!("; the server has no such mailbox: did you mean `{near}`?"),
        None => "; the server has no such mailbox".into(),
    }
}

fn listed_name(l: &folder::Listed) -> String {
    match l.special_use {
        Some(attr) => format!("{} ({attr})", l.name),
        None => l.name.clone(),
    }
}

fn check_maildir(name: &str, cfg: &MaildirAccount, r: &mut Report) {
    let what = format!("maildir {name}");
    for sub in ["new", "cur"] {
        let dir = cfg.path.join(sub);
        if let Err(e) = std::fs::read_dir(&dir) {
            return r.fail(&what, format!("cannot read {}: {e}", dir.display()));
        }
    }
    r.ok(
        &what,
        format!("{} (new/ and cur/ readable)", cfg.path.display()),
    );
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
