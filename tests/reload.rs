//! Reloading a running daemon (SIGHUP): a broken rules file or config is reported with its
//! location and the daemon keeps judging with its last good rules; a good one takes effect; a
//! broken config at start is refused.

use std::path::Path;
use std::time::Duration;

use crate::util::proc::{Daemon, command};

const SIGHUP: i32 = 1;
const SIGTERM: i32 = 15;

fn rules_with(dir: &Path, body: &str) {
    std::fs::write(dir.join("rules/mine.yaml"), body).unwrap();
}

fn rule(id: &str, word: &str) -> String {
    format!("broker: sbi\nrules:\n  - id: {id}\n    event: withdrawal\n    subject: ['{word}']\n")
}

/// A plain mail from SBI's domain whose subject carries `word`.
fn deliver(dir: &Path, n: u32, word: &str) {
    let mail = format!(
        "From: SBI <info@sbisec.co.jp>\r\nTo: user@example.jp\r\nSubject: {word} notice {n}\r\n\
         Date: Tue, 24 Nov 2026 09:37:00 +0900\r\nMessage-ID: <reload-{n}@sbisec.co.jp>\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\nnotice {n}\r\n"
    );
    let tmp = dir.join(format!("mail/tmp/{n}.reload"));
    std::fs::write(&tmp, mail).unwrap();
    std::fs::rename(&tmp, dir.join(format!("mail/new/{n}.reload"))).unwrap();
}

/// The rule that matched the mail delivered as number `n` (Some(None): processed, no rule).
fn matched_rule(dir: &Path, n: u32) -> Option<Option<String>> {
    let db = dir.join("state/brokerwatch.sqlite");
    let conn =
        rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .ok()?;
    conn.query_row(
        "SELECT rule FROM messages WHERE pos LIKE ?1",
        [format!("%:{n}.reload%")],
        |r| r.get::<_, Option<String>>(0),
    )
    .ok()
}

fn wait_matched(dir: &Path, n: u32, daemon: &Daemon) -> Option<String> {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(rule) = matched_rule(dir, n) {
            return rule;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "mail {n} was not processed; output:\n{}",
            daemon.output()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn setup(dir: &Path) -> std::path::PathBuf {
    for sub in ["mail/new", "mail/cur", "mail/tmp", "rules"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    let cfg = dir.join("config.yaml");
    std::fs::write(
        &cfg,
        "state_dir: state\nfirst_run_lookback: 3650d\nrules_dirs: [rules]\n\
         accounts:\n  - {name: local, maildir: mail, poll_interval: 1s}\n\
         sinks: {console: true, desktop: {enabled: false}}\n",
    )
    .unwrap();
    cfg
}

#[test]
fn sighup_keeps_the_last_good_rules_and_applies_good_ones() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let cfg = setup(home);
    rules_with(home, &rule("my-alpha", "ZZALPHA"));
    let mut cmd = command(home);
    cmd.arg("-c").arg(&cfg).arg("run").env("RUST_LOG", "info");
    let mut daemon = Daemon::spawn(cmd);

    deliver(home, 1, "ZZALPHA");
    assert_eq!(wait_matched(home, 1, &daemon).as_deref(), Some("my-alpha"));

    // A broken rules file: an invalid regex and an unknown event.
    rules_with(
        home,
        "broker: sbi\nrules:\n  - id: my-alpha\n    event: withdrawal\n    subject: ['(ZZ']\n  \
         - id: my-other\n    event: withdrawl\n    subject: ['x']\n",
    );
    daemon.signal(SIGHUP);
    let failed = daemon
        .wait_for_line(Duration::from_secs(20), |l| l.contains("reload failed"))
        .unwrap_or_else(|| panic!("no reload failure reported:\n{}", daemon.output()));
    assert!(failed.contains("last good"), "{failed}");
    let out = daemon.output();
    assert!(
        out.contains("mine.yaml:5:") && out.contains("mine.yaml:7:"),
        "both problems with their locations:\n{out}"
    );
    assert!(daemon.running(), "a failed reload must not stop the daemon");
    deliver(home, 2, "ZZALPHA");
    assert_eq!(
        wait_matched(home, 2, &daemon).as_deref(),
        Some("my-alpha"),
        "the last good rules must still judge"
    );

    // A good file: the new rule replaces the old one.
    rules_with(home, &rule("my-beta", "ZZBETA"));
    daemon.signal(SIGHUP);
    daemon
        .wait_for_line(Duration::from_secs(20), |l| {
            l.contains("reloaded the configuration and rules")
        })
        .unwrap_or_else(|| panic!("no reload reported:\n{}", daemon.output()));
    deliver(home, 3, "ZZBETA");
    assert_eq!(wait_matched(home, 3, &daemon).as_deref(), Some("my-beta"));
    deliver(home, 4, "ZZALPHA");
    assert_ne!(wait_matched(home, 4, &daemon).as_deref(), Some("my-alpha"));

    // A broken config file itself: also kept.
    std::fs::write(&cfg, "state_dir: state\nfirst_run_lookbak: 3d\n").unwrap();
    let before = daemon
        .lines()
        .iter()
        .filter(|(_, l)| l.contains("reload failed"))
        .count();
    daemon.signal(SIGHUP);
    daemon
        .wait_for_line(Duration::from_secs(20), |_| {
            daemon
                .lines()
                .iter()
                .filter(|(_, l)| l.contains("reload failed"))
                .count()
                > before
        })
        .unwrap_or_else(|| panic!("no second failure reported:\n{}", daemon.output()));
    assert!(
        daemon.output().contains("config.yaml:2:1"),
        "{}",
        daemon.output()
    );
    deliver(home, 5, "ZZBETA");
    assert_eq!(wait_matched(home, 5, &daemon).as_deref(), Some("my-beta"));

    daemon.signal(SIGTERM);
    let (status, out) = daemon.wait(Duration::from_secs(20));
    assert_eq!(status.code(), Some(0), "{out}");
}

#[test]
fn a_broken_config_is_refused_at_start_with_its_location() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let cfg = setup(home);
    rules_with(
        home,
        "broker: sbi\nrules:\n  - id: my-alpha\n    event: withdrawl\n    subject: ['x']\n",
    );
    let mut cmd = command(home);
    cmd.arg("-c").arg(&cfg).arg("run");
    let (status, out) = Daemon::spawn(cmd).wait(Duration::from_secs(20));
    assert_eq!(status.code(), Some(2), "{out}");
    assert!(out.contains("mine.yaml:4:12"), "{out}");
    assert!(
        !home.join("state/brokerwatch.sqlite").exists(),
        "nothing may be started"
    );
}

/// Regression: a SIGTERM that arrived while the config loaded killed the daemon (exit by signal),
/// seen when the crash test stopped a freshly restarted daemon. The signal is sent when the
/// loader prints its warning about a secret file readable by others.
#[test]
fn sigterm_while_the_config_loads_is_a_clean_stop() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let cfg = setup(home);
    rules_with(home, &rule("my-alpha", "ZZALPHA"));
    let tok = home.join("token");
    std::fs::write(&tok, "1:not-a-real-token\n").unwrap();
    std::fs::set_permissions(&tok, std::fs::Permissions::from_mode(0o644)).unwrap();
    let text = std::fs::read_to_string(&cfg).unwrap().replace(
        "sinks: {console: true, desktop: {enabled: false}}",
        &format!(
            "sinks: {{console: true, desktop: {{enabled: false}}, telegram: {{token: {{file: {}}}, \
             chat_ids: [1], api_url: 'http://127.0.0.1:9', commands: false}}}}",
            tok.display()
        ),
    );
    std::fs::write(&cfg, text).unwrap();
    for _ in 0..5 {
        let mut cmd = command(home);
        cmd.arg("-c").arg(&cfg).arg("run");
        let daemon = Daemon::spawn(cmd);
        daemon
            .wait_for_line(Duration::from_secs(30), |l| {
                l.contains("readable by other users")
            })
            .unwrap_or_else(|| panic!("no load warning:\n{}", daemon.output()));
        daemon.signal(SIGTERM);
        let (status, out) = daemon.wait(Duration::from_secs(30));
        assert_eq!(status.code(), Some(0), "{status:?}\n{out}");
    }
}
