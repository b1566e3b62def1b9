//! Issue #18, the newcomer's path: what a new user hits, each as they hit it with the real binary.
//! A configuration problem is exit 2 from `check` and `run`, stated once; a vanished Maildir is
//! named as such and logged once; `expect` says which argument is wrong; read-only commands
//! leave no state behind; a YAML syntax error says where once.

use std::path::Path;
use std::time::Duration;

use crate::util::proc::{Daemon, command};

fn out(c: &mut std::process::Command) -> (Option<i32>, String, String) {
    let o = c.output().unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn bw(home: &Path, cfg: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    out(command(home).arg("-c").arg(cfg).args(args))
}

fn maildir(root: &Path) {
    for sub in ["new", "cur", "tmp"] {
        std::fs::create_dir_all(root.join(sub)).unwrap();
    }
}

/// Item 6 (and 4): a missing token variable made `run` exit 1 with the message doubled; a
/// missing password file did not stop `run`, and `check` passed both.
#[test]
fn a_missing_secret_or_folder_stops_check_and_run_with_exit_2_stated_once() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let cfg = home.join("config.yaml");
    std::fs::write(
        &cfg,
        "state_dir: state\naccounts:\n  - name: mail\n    imap: {host: localhost, port: 1, tls: none, \
         username: u, password: {file: no-such-password}}\n  - name: local\n    maildir: no-such-maildir\n\
         sinks:\n  desktop: {enabled: false}\n  telegram: {token: {env: BW_NEWCOMER_UNSET_TOKEN}, chat_ids: [1]}\n",
    )
    .unwrap();
    for cmd in ["check", "run"] {
        let (code, stdout, stderr) = bw(home, &cfg, &[cmd]);
        let all = format!("{stdout}{stderr}");
        assert_eq!(code, Some(2), "{cmd}: {all}");
        for (what, want) in [
            (
                "password",
                "config.yaml:4:72: account `mail`: the password file `",
            ),
            (
                "folder",
                "config.yaml:6:14: account `local`: cannot watch `",
            ),
            (
                "token",
                "config.yaml:9:21: the Telegram token variable `BW_NEWCOMER_UNSET_TOKEN` is not set",
            ),
        ] {
            assert_eq!(
                all.matches(want).count(),
                1,
                "{cmd}: the {what} once:\n{all}"
            );
        }
        assert!(all.contains("no-such-maildir`: no such folder"), "{all}");
        assert!(
            !all.contains("refuses the login") && !all.contains("unreachable"),
            "{all}"
        );
        assert!(
            !all.contains("error:"),
            "{cmd}: said twice, as an error too:\n{all}"
        );
    }
    assert!(!home.join("state").exists(), "a refused run created state");
}

/// Item 6: a token command that fails when `run` starts (a runtime failure: the command may
/// work next time) stops it with exit 1, its reason said once.
#[test]
fn a_failing_token_command_is_said_once() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    maildir(&home.join("mail"));
    let cfg = home.join("config.yaml");
    std::fs::write(
        &cfg,
        "state_dir: state\naccounts:\n  - {name: local, maildir: mail}\n\
         sinks:\n  desktop: {enabled: false}\n  telegram: {token: {command: 'exit 3'}, chat_ids: [1]}\n",
    )
    .unwrap();
    let (code, stdout, stderr) = bw(home, &cfg, &["run"]);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert_eq!(stderr.matches("exited with").count(), 1, "{stderr}");
}

/// Item 4: a Maildir that disappears while the daemon runs was "the server cannot be reached",
/// logged twice every poll.
#[test]
fn a_vanished_maildir_is_no_such_folder_logged_once() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let mail = home.join("mail");
    maildir(&mail);
    let cfg = home.join("config.yaml");
    std::fs::write(
        &cfg,
        "state_dir: state\naccounts:\n  - {name: local, maildir: mail, poll_interval: 1s}\n\
         sinks: {console: true, desktop: {enabled: false}}\n",
    )
    .unwrap();
    let daemon = Daemon::spawn({
        let mut c = command(home);
        c.arg("-c").arg(&cfg).arg("run").env("RUST_LOG", "info");
        c
    });
    let ok = home.join("state/brokerwatch.sqlite");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !ok.exists() {
        assert!(std::time::Instant::now() < deadline, "{}", daemon.output());
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(1500));
    std::fs::rename(&mail, home.join("mail.moved")).unwrap();
    let want = format!("cannot watch {}: no such folder", mail.display());
    let alert = daemon.wait_for_line(Duration::from_secs(20), |l| {
        l.starts_with("[WARNING]") && l.contains(&want)
    });
    assert!(alert.is_some(), "no alert `{want}`:\n{}", daemon.output());
    let count = || daemon.output().matches("no such folder").count();
    let first = count();
    std::thread::sleep(Duration::from_secs(4)); // four more polls
    assert_eq!(count(), first, "repeated:\n{}", daemon.output());
    let logged = daemon
        .lines()
        .iter()
        .filter(|(_, l)| l.contains("ERROR") && l.contains("no such folder"))
        .count();
    assert_eq!(logged, 1, "{}", daemon.output());
    assert!(
        !daemon.output().contains("cannot be reached"),
        "{}",
        daemon.output()
    );
    let (_, status, _) = bw(home, &cfg, &["status"]);
    assert!(status.contains("failing since"), "{status}");
    daemon.signal(15);
    let (code, text) = daemon.wait(Duration::from_secs(20));
    assert_eq!(code.code(), Some(0), "{text}");
}

/// Item 7: `expect` did not say which argument was wrong and was case-sensitive.
#[test]
fn expect_names_the_wrong_argument_accepts_any_case_and_suggests_the_closest() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let cfg = home.join("config.yaml");
    std::fs::write(&cfg, "state_dir: state\n").unwrap();
    let (code, stdout, stderr) = bw(home, &cfg, &["expect", "SBI", "Withdrawal", "--for", "1h"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("Expecting a withdrawal at SBI"), "{stdout}");

    let (code, _, stderr) = bw(home, &cfg, &["expect", "sbi", "withdrawl"]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("unknown EVENT `withdrawl`: did you mean `withdrawal`?"),
        "{stderr}"
    );
    assert!(!stderr.contains("BROKER"), "the broker was right: {stderr}");

    let (code, _, stderr) = bw(home, &cfg, &["expect", "sbj", "Email-Change"]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("unknown BROKER `sbj`: did you mean `sbi`?"),
        "{stderr}"
    );
    assert!(!stderr.contains("EVENT"), "the event was right: {stderr}");
}

/// Items 8, 9 and 10: `status` created a state database, `scan` said "first run: taking a
/// baseline" on every run and nothing for a future `--since`; a YAML syntax error said where
/// twice; `--help` pointed at a file not in the repository.
#[test]
fn read_only_commands_leave_no_state_and_say_what_they_did() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    maildir(&home.join("mail"));
    let cfg = home.join("config.yaml");
    std::fs::write(
        &cfg,
        "state_dir: state\naccounts:\n  - {name: local, maildir: mail}\n",
    )
    .unwrap();
    let (code, stdout, _) = bw(home, &cfg, &["status"]);
    assert_eq!(code, Some(0));
    assert!(stdout.contains("No state database at"), "{stdout}");
    assert!(!home.join("state").exists(), "status created state");

    for _ in 0..2 {
        let (code, _, stderr) = bw(home, &cfg, &["scan"]);
        assert_eq!(code, Some(0), "{stderr}");
        assert!(!stderr.contains("first run"), "{stderr}");
        assert!(stderr.contains("a dry pass"), "{stderr}");
        assert!(stderr.contains("no broker mail found"), "{stderr}");
    }
    let (code, _, stderr) = bw(home, &cfg, &["scan", "--since", "2999-01-01"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("in the future"), "{stderr}");
    assert!(!home.join("state").exists(), "scan created state");

    let bad = home.join("bad.yaml");
    std::fs::write(&bad, "state_dir: state\naccounts: [1, 2\n").unwrap();
    let (code, _, stderr) = bw(home, &bad, &["check"]);
    assert_eq!(code, Some(2), "{stderr}");
    let first = stderr.lines().next().unwrap_or_default();
    assert!(
        first.starts_with(&format!("{}:", bad.display())),
        "{stderr}"
    );
    assert!(
        !first.contains(" line ") && !first.contains("error:"),
        "{first}"
    );

    for sub in ["test", "scan"] {
        let (_, help, _) = out(command(home).args([sub, "--help"]));
        assert!(help.contains("--json"), "{help}");
        assert!(!help.contains("DESIGN.md"), "{help}");
    }
}
