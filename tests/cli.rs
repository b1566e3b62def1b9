//! The binary as a user runs it: `check` reports every mistake with file:line:col and exits 2;
//! `test --json` gives the contract's keys; `expect`, `ack` and `status` work on the state.

use std::path::Path;
use std::process::Command;

fn bw() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_brokerwatch"));
    c.env("LC_ALL", "C.UTF-8")
        .env_remove("BROKERWATCH_CONFIG")
        .env("XDG_CONFIG_HOME", "/nonexistent");
    c
}

#[test]
fn check_reports_three_mistakes_with_locations_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config.yaml");
    std::fs::write(
        &cfg,
        "authserv_ids: [mx.example]\n\
         accounts:\n\
         \x20 - name: home\n\
         \x20   imap:\n\
         \x20     host: mail.example.com\n\
         \x20     username: me\n\
         \x20     password: {env: IMAP_PW}\n\
         \x20     poll_intervall: 5m\n\
         severity:\n\
         \x20 withdrawal: urgent\n\
         allowances:\n\
         \x20 - {broker: nomurra, event: withdrawal, max_amount: 1000}\n",
    )
    .unwrap();
    let out = bw()
        .arg("--config")
        .arg(&cfg)
        .arg("check")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    let label = cfg.display().to_string();
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with(&label)).collect();
    assert_eq!(lines.len(), 3, "{err}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(&format!("{label}:8:7: unknown field `poll_intervall`"))),
        "{err}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(&format!("{label}:10:15: unknown severity `urgent`"))),
        "{err}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains(":12:") && l.contains("unknown broker `nomurra`")),
        "{err}"
    );
}

#[test]
fn check_reports_bad_user_rules_with_locations() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    std::fs::write(
        rules.join("mine.yaml"),
        "broker: sbi\nrules:\n  - id: my-rule\n    event: withdrawel\n    subject: ['出金(']\n",
    )
    .unwrap();
    let cfg = dir.path().join("config.yaml");
    std::fs::write(&cfg, "rules_dirs: [rules]\n").unwrap();
    let out = bw().arg("-c").arg(&cfg).arg("check").output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("mine.yaml:4:12: unknown event `withdrawel`"),
        "{err}"
    );
    assert!(err.contains("mine.yaml:5:15: invalid regex"), "{err}");
}

#[test]
fn test_json_gives_the_contract_keys() {
    let fixtures = crate::util::fixtures();
    let mut mails = crate::util::fixture_mails();
    mails.truncate(5);
    assert!(!mails.is_empty());
    let out = bw()
        .arg("-c")
        .arg(fixtures.join("config.yaml"))
        .arg("test")
        .arg("--json")
        .args(&mails)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let objs: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(objs.len(), mails.len());
    for o in &objs {
        for k in [
            "file",
            "message_id",
            "broker",
            "event",
            "authentic",
            "phishing",
            "expected",
            "severity",
            "rule",
            "fields",
            "reasons",
        ] {
            assert!(o.get(k).is_some(), "missing {k} in {o}");
        }
    }
}

#[test]
fn expect_ack_and_status_work_on_the_state() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config.yaml");
    std::fs::write(
        &cfg,
        format!("state_dir: {}\n", dir.path().join("state").display()),
    )
    .unwrap();
    let out = bw()
        .arg("-c")
        .arg(&cfg)
        .args([
            "expect",
            "sbi",
            "withdrawal",
            "--for",
            "2h",
            "--note",
            "rent",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Expecting a withdrawal at SBI"));
    let out = bw()
        .arg("-c")
        .arg(&cfg)
        .args(["expect", "sbi", "withdraw"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = bw().arg("-c").arg(&cfg).arg("status").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Active expectations: 1") && text.contains("sbi withdrawal"),
        "{text}"
    );
    let out = bw()
        .arg("-c")
        .arg(&cfg)
        .args(["ack", "999"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no alert #999"));
}

#[test]
fn run_on_a_maildir_alerts_and_stops_cleanly_on_sigterm() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let dir = tempfile::tempdir().unwrap();
    let maildir = dir.path().join("mail");
    for sub in ["new", "cur", "tmp"] {
        std::fs::create_dir_all(maildir.join(sub)).unwrap();
    }
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("demo/maildir/new");
    for e in std::fs::read_dir(&demo).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, maildir.join("new").join(p.file_name().unwrap())).unwrap();
    }
    let cfg = dir.path().join("config.yaml");
    std::fs::write(
        &cfg,
        "authserv_ids: [mx.brokerwatch.test]\nstate_dir: state\nfirst_run_lookback: 3650d\n\
         accounts:\n  - {name: local, maildir: mail}\nsinks: {console: true, desktop: {enabled: false}}\n",
    )
    .unwrap();
    let mut child = bw()
        .arg("-c")
        .arg(&cfg)
        .arg("run")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let first_alert = lines
        .by_ref()
        .map_while(Result::ok)
        .find(|l| l.starts_with("[CRITICAL]"))
        .expect("an alert line on stdout");
    assert!(first_alert.contains("not expected"), "{first_alert}");
    // SAFETY: kill(2) on our own child's pid.
    let rc = unsafe { libc_kill(child.id() as i32, 15) };
    assert_eq!(rc, 0);
    let status = child.wait().unwrap();
    assert_eq!(
        status.code(),
        Some(0),
        "SIGTERM must end the daemon with exit 0"
    );
}

unsafe extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, sig: i32) -> i32;
}

#[test]
fn status_says_authenticity_is_unknown_without_authserv_ids() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config.yaml");
    let maildir = dir.path().join("mail");
    for sub in ["new", "cur", "tmp"] {
        std::fs::create_dir_all(maildir.join(sub)).unwrap();
    }
    std::fs::write(
        &cfg,
        format!(
            "state_dir: {}\naccounts:\n  - name: home\n    maildir: {}\n",
            dir.path().join("state").display(),
            maildir.display()
        ),
    )
    .unwrap();
    let out = bw().arg("-c").arg(&cfg).arg("status").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Sender checks: authenticity unknown"),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
