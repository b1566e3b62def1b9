//! The state directory running out of space under a running daemon, or read-only at start: a clear
//! error, nothing marked processed that was not recorded, no corruption, and every notice alerted
//! exactly once when the disk is back. The state dir is a small tmpfs in the daemon's own mount
//! namespace (`unshare -m`, which needs root, as in CI); the test reaches it through
//! /proc/PID/root. A read-only state dir is tested at start (a read-only tmpfs, and a state dir
//! the daemon's user may not write): a mounted file system with the database open for writing
//! cannot be remounted read-only.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::util::proc::{Daemon, command};

const SIGTERM: i32 = 15;

fn deliver(dir: &Path, n: u32) {
    let mail = format!(
        "From: SBI <info@sbisec.co.jp>\r\nTo: user@example.jp\r\nSubject: 【SBI証券】出金指示を受け付けました {n}\r\n\
         Date: Tue, 24 Nov 2026 09:37:00 +0900\r\nMessage-ID: <storage-{n}@sbisec.co.jp>\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n以下の内容で出金指示を受け付けました。\r\n出金金額：{n},000円\r\n"
    );
    let tmp = dir.join(format!("mail/tmp/{n}.storage"));
    std::fs::write(&tmp, mail).unwrap();
    std::fs::rename(&tmp, dir.join(format!("mail/new/{n}.storage"))).unwrap();
}

/// The daemon in its own mount namespace with `state` on a tmpfs of `size`.
fn start_on_tmpfs(home: &Path, size: &str) -> Daemon {
    for sub in ["mail/new", "mail/cur", "mail/tmp", "state"] {
        std::fs::create_dir_all(home.join(sub)).unwrap();
    }
    let cfg = home.join("config.yaml");
    std::fs::write(
        &cfg,
        "state_dir: state\nfirst_run_lookback: 3650d\n\
         accounts:\n  - {name: local, maildir: mail, poll_interval: 1s}\n\
         sinks: {console: true, desktop: {enabled: false}}\n",
    )
    .unwrap();
    let bin = env!("CARGO_BIN_EXE_brokerwatch");
    let mut cmd = command(home);
    cmd.env("RUST_LOG", "info");
    let script = format!(
        "mount -t tmpfs -o size={size},mode=0700 bw-state '{state}' && exec '{bin}' -c '{cfg}' run",
        state = home.join("state").display(),
        cfg = cfg.display(),
    );
    let mut c = Command::new("unshare");
    c.args(["-m", "--propagation", "private", "sh", "-c", &script]);
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => c.env(k, v),
            None => c.env_remove(k),
        };
    }
    Daemon::spawn(c)
}

/// The daemon's view of `path` (inside its mount namespace).
fn inside(d: &Daemon, path: &Path) -> PathBuf {
    PathBuf::from(format!("/proc/{}/root", d.pid())).join(path.strip_prefix("/").unwrap())
}

fn alerts_for(d: &Daemon, n: u32) -> usize {
    // The English title: "SBI証券: withdrawal (出金) 1,000 — not expected".
    let needle = format!("(出金) {n},000 —");
    d.lines()
        .iter()
        .filter(|(s, l)| *s == "out" && l.starts_with('[') && l.contains(&needle))
        .count()
}

fn wait_until(d: &Daemon, what: &str, within: Duration, ok: impl Fn() -> bool) {
    let deadline = Instant::now() + within;
    while !ok() {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; output:\n{}",
            d.output()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `PRAGMA integrity_check` on a copy of the database (with its WAL).
fn integrity(d: &Daemon, state: &Path) -> String {
    let copy = tempfile::tempdir().unwrap();
    for f in ["brokerwatch.sqlite", "brokerwatch.sqlite-wal"] {
        let from = inside(d, &state.join(f));
        if from.exists() {
            std::fs::copy(&from, copy.path().join(f)).unwrap();
        }
    }
    let conn = rusqlite::Connection::open(copy.path().join("brokerwatch.sqlite")).unwrap();
    conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn a_full_disk_delays_alerts_and_loses_none() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let state = home.join("state");
    let d = start_on_tmpfs(home, "4m");
    deliver(home, 1);
    wait_until(&d, "the first alert", Duration::from_secs(30), || {
        alerts_for(&d, 1) == 1
    });

    // Fill the tmpfs to the last byte.
    let filler = inside(&d, &state.join("filler"));
    {
        use std::io::Write as _;
        let mut f = std::fs::File::create(&filler).unwrap();
        let block = vec![0u8; 64 * 1024];
        while f.write_all(&block).is_ok() {}
        while f.write_all(&block[..512]).is_ok() {}
    }
    for n in 2..=4 {
        deliver(home, n);
    }
    wait_until(&d, "a disk-full error", Duration::from_secs(30), || {
        d.output().contains("database or disk is full")
    });
    std::thread::sleep(Duration::from_secs(2));
    for n in 2..=4 {
        assert_eq!(
            alerts_for(&d, n),
            0,
            "nothing can be recorded on a full disk"
        );
    }

    std::fs::remove_file(&filler).unwrap();
    wait_until(&d, "the delayed alerts", Duration::from_secs(30), || {
        (2..=4).all(|n| alerts_for(&d, n) >= 1)
    });
    std::thread::sleep(Duration::from_secs(2));
    for n in 1..=4 {
        assert_eq!(
            alerts_for(&d, n),
            1,
            "notice {n}: exactly one alert\n{}",
            d.output()
        );
    }
    assert_eq!(integrity(&d, &state), "ok");
    for (_, l) in d
        .lines()
        .iter()
        .filter(|(_, l)| l.contains("disk is full"))
        .take(2)
    {
        eprintln!("{l}");
    }
    d.signal(SIGTERM);
    let (status, out) = d.wait(Duration::from_secs(30));
    assert_eq!(status.code(), Some(0), "{out}");
}

#[test]
fn a_read_only_state_dir_is_a_clear_error_and_stays_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    // A state written by an earlier run.
    let d = start_on_tmpfs(home, "4m");
    deliver(home, 1);
    wait_until(&d, "the first alert", Duration::from_secs(30), || {
        alerts_for(&d, 1) == 1
    });
    d.signal(SIGTERM);
    let (status, out) = d.wait(Duration::from_secs(30));
    assert_eq!(status.code(), Some(0), "{out}");

    // 1. A read-only file system with no database yet.
    let bin = env!("CARGO_BIN_EXE_brokerwatch");
    let cfg = home.join("config.yaml");
    let script = format!(
        "mount -t tmpfs -o size=1m,ro bw-state '{state}' && exec '{bin}' -c '{cfg}' run",
        state = home.join("state").display(),
        cfg = cfg.display(),
    );
    let out = Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c", &script])
        .env("LC_ALL", "C.UTF-8")
        .env("HOME", home)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("cannot open state database") && err.contains("brokerwatch.sqlite"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");

    // 2. An existing database in a state dir the daemon's user may not write (run as nobody).
    let state = home.join("state");
    std::fs::create_dir_all(&state).unwrap();
    let db = state.join("brokerwatch.sqlite");
    let src = tempfile::tempdir().unwrap();
    let d = start_on_tmpfs(src.path(), "4m");
    deliver(src.path(), 1);
    wait_until(&d, "an alert", Duration::from_secs(30), || {
        alerts_for(&d, 1) == 1
    });
    let inner = inside(&d, &src.path().join("state/brokerwatch.sqlite"));
    d.signal(SIGTERM);
    let before = {
        // Copy while the namespace still exists: a clean shutdown checkpointed the WAL.
        let bytes = std::fs::read(&inner).unwrap_or_default();
        let (status, out) = d.wait(Duration::from_secs(30));
        assert_eq!(status.code(), Some(0), "{out}");
        bytes
    };
    assert!(!before.is_empty());
    std::fs::write(&db, &before).unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    let mode =
        |p: &Path, m: u32| std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
    mode(home, 0o755);
    mode(&home.join("mail"), 0o755);
    mode(&cfg, 0o644);
    mode(&state, 0o555);
    mode(&db, 0o444);
    let out = Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            bin,
            "-c",
        ])
        .arg(&cfg)
        .arg("run")
        .env("HOME", home)
        .env("RUST_LOG", "info")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("brokerwatch.sqlite"), "names the file: {err}");
    assert!(
        err.contains("readonly") || err.contains("read-only") || err.contains("Permission denied"),
        "says why: {err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(
        std::fs::read(&db).unwrap(),
        before,
        "the database is untouched"
    );
    eprintln!(
        "read-only state: {}",
        err.lines().last().unwrap_or_default()
    );
}
