//! Operations commands as a user (or a container health check) runs them: `health` against state
//! written through the library `Store`, `init` and its starter config, `doctor` against a real
//! Dovecot, the fake Bot API and a private desktop bus, and `completions`.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use brokerwatch::daemon::STARTED_AT_KEY;
use brokerwatch::source::MailboxId;
use brokerwatch::store::{Store, now};

use crate::util::desktop::DesktopEnv;
use crate::util::dovecot::Dovecot;
use crate::util::fakebot::{BOT_USERNAME, FakeBot, TOKEN};

/// The binary with a clean environment: no config, state or session bus of the machine's.
fn bw(home: &Path) -> Command {
    let mut c = crate::util::proc::command(home);
    c.env("RUST_LOG", "warn");
    c
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn write_config(dir: &Path, yaml: &str) -> PathBuf {
    let path = dir.join("config.yaml");
    std::fs::write(&path, yaml).expect("write config");
    path
}

fn mb(account: &str, mailbox: &str) -> MailboxId {
    MailboxId {
        account: account.into(),
        mailbox: mailbox.into(),
    }
}

/// An IMAP account whose health limit is 3 s (poll and IDLE refresh of 1 s), plus a Maildir.
fn health_config(dir: &Path) -> PathBuf {
    write_config(
        dir,
        &format!(
            "state_dir: {}\n\
             accounts:\n\
             \x20 - name: mail\n\
             \x20   imap: {{host: imap.example.com, username: u, password: {{env: NOPE}}, mailboxes: [INBOX, Junk], poll_interval: 1s, idle_refresh: 1s}}\n\
             \x20 - name: local\n\
             \x20   maildir: {}\n",
            dir.join("state").display(),
            dir.join("Maildir").display()
        ),
    )
}

fn health(dir: &Path, cfg: &Path) -> (Option<i32>, String, String) {
    let out = bw(dir)
        .arg("-c")
        .arg(cfg)
        .arg("health")
        .output()
        .expect("run");
    let (o, e) = text(&out);
    (out.status.code(), o, e)
}

#[test]
fn health_is_ok_while_every_mailbox_is_fresh_and_names_each_stale_one() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = health_config(dir.path());
    let store = Store::open(&dir.path().join("state/brokerwatch.sqlite")).unwrap();
    store
        .kv_set(STARTED_AT_KEY, &(now() - 1).to_string())
        .unwrap();
    let checked_at = now();
    for (a, m) in [("mail", "INBOX"), ("mail", "Junk"), ("local", "INBOX")] {
        store.source_ok(&mb(a, m)).unwrap();
    }
    let (code, out, err) = health(dir.path(), &cfg);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.starts_with("healthy: 3 mailbox(es)"), "{out}");

    // 4 s later the IMAP mailboxes (limit 3 s) are stale; the Maildir (limit 3 min) is not.
    std::thread::sleep(Duration::from_secs(4));
    store.source_ok(&mb("mail", "INBOX")).unwrap();
    store
        .source_error(&mb("mail", "Junk"), "unreachable: connection refused")
        .unwrap();
    let (code, out, err) = health(dir.path(), &cfg);
    assert_eq!(code, Some(1), "{out}{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 1, "{out}");
    // The age is what the wall clock says (a loaded machine sleeps longer than asked).
    let age: i64 = lines[0]
        .strip_prefix("unhealthy: mail/Junk: last successful check ")
        .and_then(|r| r.split_once("s ago (limit 3s)"))
        .and_then(|(n, _)| n.parse().ok())
        .unwrap_or_else(|| panic!("{out}"));
    assert!((4..=now() - checked_at + 1).contains(&age), "{out}");
    assert!(lines[0].contains("connection refused"), "{out}");
}

#[test]
fn health_flags_a_mailbox_never_checked_once_the_daemon_is_up_longer_than_its_limit() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = health_config(dir.path());
    let store = Store::open(&dir.path().join("state/brokerwatch.sqlite")).unwrap();
    store.source_ok(&mb("mail", "INBOX")).unwrap();
    store.source_ok(&mb("local", "INBOX")).unwrap();
    // Just started: mail/Junk has no row yet, and that is fine for now.
    store.kv_set(STARTED_AT_KEY, &now().to_string()).unwrap();
    let (code, out, err) = health(dir.path(), &cfg);
    assert_eq!(code, Some(0), "{out}{err}");
    store
        .kv_set(STARTED_AT_KEY, &(now() - 2).to_string())
        .unwrap();
    store
        .source_error(&mb("mail", "Junk"), "login failed: bad password")
        .unwrap();
    assert_eq!(health(dir.path(), &cfg).0, Some(0), "still within 3 s");
    store
        .kv_set(STARTED_AT_KEY, &(now() - 60).to_string())
        .unwrap();
    store.source_ok(&mb("mail", "INBOX")).unwrap();
    let (code, out, _) = health(dir.path(), &cfg);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("unhealthy: mail/Junk: never checked successfully; the daemon started 1m"),
        "{out}"
    );
    assert!(out.contains("(limit 3s); failing for"), "{out}");
    assert!(out.contains("login failed: bad password"), "{out}");
}

#[test]
fn health_reports_a_missing_or_corrupt_database_and_needs_no_network() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = health_config(dir.path());
    let (code, out, _) = health(dir.path(), &cfg);
    assert_eq!(code, Some(1));
    assert!(out.contains("does not exist"), "{out}");
    assert!(
        !dir.path().join("state/brokerwatch.sqlite").exists(),
        "health must not create it"
    );

    std::fs::create_dir_all(dir.path().join("state")).unwrap();
    let db = dir.path().join("state/brokerwatch.sqlite");
    std::fs::write(
        &db,
        b"this is not an SQLite database, just some bytes; ".repeat(200),
    )
    .unwrap();
    let (code, out, err) = health(dir.path(), &cfg);
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(
        out.contains("is corrupt") && out.contains("not a database"),
        "{out}"
    );

    // A real database with a damaged page: quick_check names it.
    std::fs::remove_file(&db).unwrap();
    {
        let store = Store::open(&db).unwrap();
        for i in 0..200 {
            store.source_ok(&mb("mail", &format!("box{i}"))).unwrap();
        }
    }
    let _ = std::fs::remove_file(dir.path().join("state/brokerwatch.sqlite-wal"));
    let mut bytes = std::fs::read(&db).unwrap();
    let page = 4096;
    assert!(bytes.len() > 3 * page, "{} bytes", bytes.len());
    // Page 1 (header and schema) stays; every table page after it is garbage.
    for b in &mut bytes[page..] {
        *b = 0xA5;
    }
    std::fs::write(&db, &bytes).unwrap();
    let (code, out, err) = health(dir.path(), &cfg);
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(out.contains("corrupt"), "{out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn health_is_ok_while_the_daemon_watches_a_maildir() {
    let dir = tempfile::tempdir().unwrap();
    let maildir = dir.path().join("Maildir");
    for sub in ["new", "cur", "tmp"] {
        std::fs::create_dir_all(maildir.join(sub)).unwrap();
    }
    let cfg_path = write_config(
        dir.path(),
        &format!(
            "state_dir: {}\naccounts:\n  - name: local\n    maildir: {}\n    poll_interval: 1s\n\
             sinks: {{console: false, desktop: {{enabled: false}}}}\n",
            dir.path().join("state").display(),
            maildir.display()
        ),
    );
    let (cfg, rules) = brokerwatch::config::load_checked(Some(&cfg_path)).unwrap();
    let stop = tokio_util::sync::CancellationToken::new();
    let setup = brokerwatch::daemon::Setup { config: cfg, rules };
    let options = brokerwatch::daemon::Options::default();
    let daemon = tokio::spawn(brokerwatch::daemon::run(setup, options, stop.clone()));
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let out = loop {
        let mut cmd = bw(dir.path());
        cmd.arg("-c").arg(&cfg_path).arg("health");
        let out = tokio::process::Command::from(cmd).output().await.unwrap();
        if out.status.success() || std::time::Instant::now() > deadline {
            break out;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    stop.cancel();
    daemon.await.unwrap().unwrap();
    let (o, e) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{o}{e}");
    assert!(o.starts_with("healthy: 1 mailbox(es)"), "{o}");
}

/// The example account lines of the starter lose their first `#`: a user filling it in.
fn uncomment_examples(text: &str) -> String {
    text.lines()
        .map(|l| {
            l.strip_prefix('#')
                .filter(|r| r.starts_with("  "))
                .unwrap_or(l)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn init_writes_a_private_starter_that_checks_as_written_and_filled_in_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("etc/deeper/config.yaml");
    let out = bw(dir.path())
        .args(["init", "--path"])
        .arg(&target)
        .output()
        .unwrap();
    let (o, e) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{o}{e}");
    for step in [
        "check",
        "alert-test",
        "systemctl --user enable --now brokerwatch",
    ] {
        assert!(o.contains(step), "next steps name `{step}`: {o}");
    }
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&target), 0o600);
    assert_eq!(mode(target.parent().unwrap()), 0o700);
    assert!(
        dir.path().join("state/brokerwatch").is_dir(),
        "state dir created"
    );

    let check = |cfg: &Path| {
        let out = bw(dir.path())
            .arg("-c")
            .arg(cfg)
            .arg("check")
            .output()
            .unwrap();
        let (o, e) = text(&out);
        assert_eq!(out.status.code(), Some(0), "{o}{e}");
        o
    };
    assert!(check(&target).contains("0 account(s)"));
    let written = std::fs::read_to_string(&target).unwrap();
    let filled = dir.path().join("filled.yaml");
    std::fs::write(&filled, uncomment_examples(&written)).unwrap();
    // `check` also finds the secrets and the Maildir the filled-in starter names (issue #18).
    let secrets = dir.path().join(".config/brokerwatch");
    std::fs::create_dir_all(&secrets).unwrap();
    for f in ["imap-password", "telegram-token"] {
        std::fs::write(secrets.join(f), "x\n").unwrap();
        std::fs::set_permissions(secrets.join(f), std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    std::fs::create_dir_all(dir.path().join("Mail/broker")).unwrap();
    let o = check(&filled);
    assert!(
        o.contains("2 account(s)") && o.contains("1 allowance(s)"),
        "{o}"
    );

    // Again: refused with exit 2, the file untouched.
    std::fs::write(&target, "# mine\n").unwrap();
    let out = bw(dir.path())
        .args(["init", "--path"])
        .arg(&target)
        .output()
        .unwrap();
    let (o, e) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{o}{e}");
    assert!(e.contains("already exists"), "{e}");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "# mine\n");
}

#[test]
fn init_without_path_writes_where_brokerwatch_looks() {
    let dir = tempfile::tempdir().unwrap();
    let out = bw(dir.path()).arg("init").output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    let default = dir.path().join("config/brokerwatch/config.yaml");
    assert!(default.exists());
    // `check` without --config now finds and loads it.
    let out = bw(dir.path()).arg("check").output().unwrap();
    let (o, e) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{o}{e}");
    assert!(o.contains(&default.display().to_string()), "{o}");
    let via_env = dir.path().join("env.yaml");
    let out = bw(dir.path())
        .env("BROKERWATCH_CONFIG", &via_env)
        .arg("init")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    assert!(via_env.exists());
}

/// A config for doctor: one IMAP account on the test Dovecot, Telegram on the fake Bot API.
fn doctor_config(
    dir: &Path,
    d: &Dovecot,
    password: &str,
    bot: &FakeBot,
    token: &str,
    desktop: bool,
) -> PathBuf {
    let pw = dir.join("imap-password");
    std::fs::write(&pw, format!("{password}\n")).unwrap();
    let tok = dir.join("bot-token");
    std::fs::write(&tok, format!("{token}\n")).unwrap();
    for f in [&pw, &tok] {
        std::fs::set_permissions(f, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    write_config(
        dir,
        &format!(
            "state_dir: {state}\n\
             accounts:\n\
             \x20 - name: home\n\
             \x20   imap:\n\
             \x20     host: localhost\n\
             \x20     port: {port}\n\
             \x20     username: alice\n\
             \x20     password: {{file: {pw}}}\n\
             \x20     ca_file: {ca}\n\
             \x20     mailboxes: [INBOX, NoSuchBox]\n\
             sinks:\n\
             \x20 desktop: {{enabled: {desktop}}}\n\
             \x20 telegram: {{token: {{file: {tok}}}, chat_ids: [4242], api_url: '{url}', commands: false}}\n",
            state = dir.join("state").display(),
            port = d.imaps_port,
            pw = pw.display(),
            ca = d.ca_path.display(),
            tok = tok.display(),
            url = bot.url(),
        ),
    )
}

async fn doctor(cmd: Command) -> (Option<i32>, String, String) {
    let out = tokio::process::Command::from(cmd)
        .arg("doctor")
        .output()
        .await
        .expect("run doctor");
    let (o, e) = text(&out);
    (out.status.code(), o, e)
}

const MAIL: &[u8] = b"From: SBI <info@sbisec.co.jp>\r\nTo: alice@example.com\r\nSubject: test\r\n\
Message-ID: <doctor-1@sbisec.co.jp>\r\nDate: Mon, 1 Jan 2024 00:00:00 +0900\r\n\r\nbody\r\n";

#[tokio::test(flavor = "multi_thread")]
async fn doctor_logs_in_and_asks_the_bot_without_processing_mail() {
    let d = tokio::task::spawn_blocking(Dovecot::start).await.unwrap();
    d.append("alice", "INBOX", MAIL).await;
    // A near miss for the configured NoSuchBox, and the spam folder (SPECIAL-USE \Junk).
    d.create_mailbox("alice", "NoSuchBx").await;
    d.create_mailbox("alice", "Junk").await;
    let bot = FakeBot::start().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = doctor_config(
        dir.path(),
        &d,
        Dovecot::password("alice"),
        &bot,
        TOKEN,
        false,
    );
    let mut cmd = bw(dir.path());
    cmd.arg("-c").arg(&cfg);
    let (code, out, err) = doctor(cmd).await;
    // The only failure: the mailbox that does not exist.
    assert_eq!(code, Some(1), "{out}{err}");
    let fails: Vec<&str> = out.lines().filter(|l| l.starts_with('✘')).collect();
    assert_eq!(fails.len(), 1, "{out}");
    assert!(
        fails[0].starts_with(
            "✘ imap home/NoSuchBox: cannot watch mailbox `NoSuchBox`: Mailbox doesn't exist"
        ) && fails[0].ends_with("did you mean `NoSuchBx`?"),
        "{out}"
    );
    let listed = out
        .lines()
        .find(|l| l.starts_with("✔ imap home mailboxes: "))
        .unwrap_or_else(|| panic!("no mailbox list in:\n{out}"));
    for want in ["INBOX", "NoSuchBx", "Junk (\\Junk)"] {
        assert!(listed.contains(want), "`{want}` not in {listed}");
    }
    for want in [
        "✔ config: ",
        "✔ rules: ",
        "✔ state dir: ",
        "✔ imap home: logged in to localhost:",
        "as alice over TLS; IDLE; INBOX (1 messages)",
        "- desktop: disabled in the config",
        &format!("✔ telegram: bot @{BOT_USERNAME} answers; alerts go to chat(s) 4242"),
    ] {
        assert!(out.contains(want), "missing `{want}` in:\n{out}");
    }
    assert!(
        !out.contains(TOKEN) && !err.contains(TOKEN),
        "the token leaked:\n{out}{err}"
    );
    assert_eq!(bot.requests_for("getMe").len(), 1);
    assert!(bot.delivered().is_empty(), "doctor sends no message");
    assert!(
        !dir.path().join("state/brokerwatch.sqlite").exists(),
        "doctor processes no mail and records nothing"
    );
    let flags = d.flags("alice", "INBOX").await;
    assert_eq!(flags.len(), 1, "{flags:?}");
    assert!(
        flags
            .iter()
            .all(|(_, f)| !f.iter().any(|x| x.contains("Seen"))),
        "{flags:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_names_a_rejected_password_and_a_wrong_bot_token() {
    let d = tokio::task::spawn_blocking(Dovecot::start).await.unwrap();
    let bot = FakeBot::start().await;
    let dir = tempfile::tempdir().unwrap();
    let wrong_token = "999:wrong-token-value";
    let cfg = doctor_config(dir.path(), &d, "not-the-password", &bot, wrong_token, false);
    let mut cmd = bw(dir.path());
    cmd.arg("-c").arg(&cfg);
    let (code, out, err) = doctor(cmd).await;
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(
        out.contains("✘ imap home: login as `alice` rejected"),
        "{out}"
    );
    assert!(out.contains("✘ telegram: getMe failed"), "{out}");
    assert!(
        !out.contains(wrong_token) && !err.contains(wrong_token),
        "the token leaked:\n{out}{err}"
    );
    assert!(err.contains("check(s) failed"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_finds_the_notification_server_without_showing_a_toast() {
    let d = tokio::task::spawn_blocking(Dovecot::start).await.unwrap();
    let bot = FakeBot::start().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = doctor_config(
        dir.path(),
        &d,
        Dovecot::password("alice"),
        &bot,
        TOKEN,
        true,
    );
    let run = |address: Option<String>| {
        let mut cmd = bw(dir.path());
        cmd.arg("-c").arg(&cfg);
        if let Some(a) = address {
            cmd.env("DBUS_SESSION_BUS_ADDRESS", a);
        }
        doctor(cmd)
    };

    let (_, out, _) = run(None).await;
    assert!(out.contains("✘ desktop: no session bus"), "{out}");

    let bus_only = tokio::task::spawn_blocking(DesktopEnv::start_bus_only)
        .await
        .unwrap();
    let (_, out, _) = run(Some(bus_only.address.clone())).await;
    assert!(out.contains("✘ desktop: no notification server"), "{out}");
    drop(bus_only);

    let desk = tokio::task::spawn_blocking(DesktopEnv::start)
        .await
        .unwrap();
    let (_, out, _) = run(Some(desk.address.clone())).await;
    assert!(
        out.contains("✔ desktop: notification server dunst"),
        "{out}"
    );
    assert!(out.contains("(buttons)"), "dunst offers actions: {out}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        desk.notifications().is_empty(),
        "doctor showed a toast: {:?}",
        desk.notifications()
    );
}

#[test]
fn completions_print_a_script_for_each_shell() {
    let dir = tempfile::tempdir().unwrap();
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef brokerwatch"),
        ("fish", "complete -c brokerwatch"),
    ] {
        let out = bw(dir.path())
            .args(["completions", shell])
            .output()
            .unwrap();
        let (o, e) = text(&out);
        assert_eq!(out.status.code(), Some(0), "{shell}: {e}");
        assert!(o.contains(marker), "{shell}: no `{marker}`");
        for sub in ["health", "doctor", "init", "alert-test"] {
            assert!(o.contains(sub), "{shell} completion lacks `{sub}`");
        }
    }
    let out = bw(dir.path())
        .args(["completions", "tcsh"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn docker_example_config_checks_with_state_in_data_and_no_desktop() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docker/config.example.yaml");
    let cfg = brokerwatch::config::load(&path).unwrap_or_else(|p| panic!("{p}"));
    assert_eq!(cfg.state_dir, Path::new("/data"));
    assert!(cfg.sinks.desktop.is_none(), "no session bus in a container");
    assert!(cfg.sinks.telegram.is_some());
    let dir = tempfile::tempdir().unwrap();
    let out = bw(dir.path())
        .arg("-c")
        .arg(&path)
        .arg("check")
        .output()
        .unwrap();
    // The config itself is valid; its secret files exist only inside the container, and `check`
    // says so (issue #18: a missing secret is a configuration problem).
    let (o, e) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{o}{e}");
    let problems: Vec<&str> = e
        .lines()
        .filter(|l| l.contains("config.example.yaml:"))
        .collect();
    assert_eq!(problems.len(), 2, "{e}");
    assert!(
        problems[0].ends_with("the password file `/run/secrets/imap_password` does not exist"),
        "{e}"
    );
    assert!(
        problems[1]
            .ends_with("the Telegram token file `/run/secrets/telegram_token` does not exist"),
        "{e}"
    );
}

/// A mail as the trusted receiving server delivered it: its Authentication-Results on top,
/// above its own Received; a forged header from the sender sits lower.
fn received_by_trusted_server(n: u32) -> Vec<u8> {
    format!(
        "Authentication-Results: mx.brokerwatch.test;\r\n\tdkim=pass header.d=sbisec.co.jp; dmarc=pass header.from=sbisec.co.jp\r\n\
         Received: from psmtp01.sbisec.co.jp (psmtp01.sbisec.co.jp [203.0.113.5])\r\n\tby mx.brokerwatch.test with ESMTPS id t{n}; Mon, 1 Jan 2024 00:00:00 +0900\r\n\
         Authentication-Results: forged.example; dkim=pass\r\n\
         From: SBI <info@sbisec.co.jp>\r\nTo: alice@example.com\r\nSubject: notice {n}\r\n\
         Message-ID: <authserv-{n}@sbisec.co.jp>\r\nDate: Mon, 1 Jan 2024 00:00:00 +0900\r\n\r\nbody\r\n"
    )
    .into_bytes()
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_proposes_the_authserv_id_of_the_server_that_received_the_mail() {
    let d = tokio::task::spawn_blocking(Dovecot::start).await.unwrap();
    for n in 0..3 {
        d.append("alice", "INBOX", &received_by_trusted_server(n))
            .await;
    }
    d.append("alice", "INBOX", MAIL).await;
    let bot = FakeBot::start().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = doctor_config(
        dir.path(),
        &d,
        Dovecot::password("alice"),
        &bot,
        TOKEN,
        false,
    );
    let mut cmd = bw(dir.path());
    cmd.arg("-c").arg(&cfg);
    let (_, out, err) = doctor(cmd).await;
    let want = "✔ sender checks home: your server writes Authentication-Results as \
                `mx.brokerwatch.test` (3 of 3 recent mails that have them); put `authserv_ids: [mx.brokerwatch.test]`";
    assert!(out.contains(want), "missing `{want}` in:\n{out}{err}");
    assert!(!out.contains("forged.example"), "{out}");
}
