//! A real Dovecot (Debian 2.3) on 127.0.0.1 for tests: its own temp dir, test CA and server
//! certificate, passwd-file users, imap (STARTTLS) and imaps listeners on free high ports.
//! Stopped by PID only, never by name. Admin actions (APPEND, flags, expunge) go over a plaintext
//! loopback login; offline delivery and UIDVALIDITY changes use `doveadm`.

use std::net::{SocketAddr, TcpListener, TcpStream as StdTcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use async_imap::{Client, Session};
use brokerwatch::config::secret::SecretSource;
use brokerwatch::config::{ImapAccount, TlsMode};
use futures::StreamExt;
use tokio::net::TcpStream;

mod mailbox;
mod process;
mod setup;

use process::*;
use setup::*;

const DOVECOT: &str = "/usr/sbin/dovecot";
const DOVEADM: &str = "/usr/bin/doveadm";
/// The uid/gid mail is stored as (Dovecot refuses root).
const MAIL_UID: u32 = 5000;

/// Test users and their passwords.
pub const USERS: &[(&str, &str)] = &[
    ("alice", "alice-pw"),
    ("bob", "bob-pw"),
    ("carol", "carol-pw"),
];

/// A running test Dovecot. Dropping it stops the server.
pub struct Dovecot {
    dir: tempfile::TempDir,
    /// Plaintext listener (STARTTLS offered).
    pub imap_port: u16,
    /// Implicit TLS listener.
    pub imaps_port: u16,
    /// The CA that signed the server certificate.
    pub ca_path: PathBuf,
    /// A CA that signed nothing this server presents.
    pub untrusted_ca_path: PathBuf,
    conf: PathBuf,
    extra_users: Vec<(String, String)>,
}

/// Extra settings for [`Dovecot::start_with`].
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Advertise IDLE (Dovecot's default capability list) or a list without it.
    pub idle: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options { idle: true }
    }
}

/// Benchmark settings for [`Dovecot::start_scaled`]: many accounts on one server.
#[derive(Debug, Clone, Copy, Default)]
pub struct Scale {
    /// Users `user001`, `user002`, … besides [`USERS`], with generated passwords
    /// ([`Dovecot::users`]); process limits are raised so that each can hold a connection.
    pub extra_users: usize,
    /// Dovecot's `imap_idle_notify_interval`: how often an IDLE connection gets
    /// "* OK Still here" (Dovecot's default: 2 min).
    pub idle_notify: Option<Duration>,
}

impl Dovecot {
    /// Starts a server with IDLE.
    pub fn start() -> Dovecot {
        Self::start_with(Options::default())
    }

    /// Starts a server configured by `opts`.
    pub fn start_with(opts: Options) -> Dovecot {
        Self::start_scaled(opts, Scale::default())
    }

    /// Starts a server configured by `opts`, with `scale`'s extra users and settings.
    pub fn start_scaled(opts: Options, scale: Scale) -> Dovecot {
        Self::start_extra(opts, scale, "")
    }

    /// [`Dovecot::start_scaled`] with `extra` appended to the configuration (a later setting
    /// overrides an earlier one; see dovecot_oauth.rs).
    pub fn start_extra(opts: Options, scale: Scale, extra: &str) -> Dovecot {
        assert!(
            Path::new(DOVECOT).exists(),
            "dovecot not installed: run scripts/test (it installs dovecot-imapd)"
        );
        let dir = tempfile::Builder::new()
            .prefix("bw-dovecot")
            .tempdir()
            .expect("tempdir");
        let root = dir.path().to_path_buf();
        chmod(&root, 0o755);
        make_certs(&root);
        let extra_users = generated_users(scale.extra_users);
        write_users(&root, &extra_users);
        let (imap_port, imaps_port) = free_ports();
        let conf = root.join("dovecot.conf");
        let text = config(&root, imap_port, imaps_port, opts) + &scale_config(scale) + extra;
        std::fs::write(&conf, text).expect("write conf");
        let d = Dovecot {
            ca_path: root.join("ca.pem"),
            untrusted_ca_path: root.join("other-ca.pem"),
            dir,
            imap_port,
            imaps_port,
            conf,
            extra_users,
        };
        d.start_again();
        d
    }

    /// Every user and password: [`USERS`], then the generated ones of [`Scale::extra_users`].
    pub fn users(&self) -> Vec<(String, String)> {
        USERS
            .iter()
            .map(|(u, p)| (u.to_string(), p.to_string()))
            .chain(self.extra_users.iter().cloned())
            .collect()
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    /// The server's own directory: `mail/<user>` holds each user's Maildir, `dovecot.conf` the
    /// configuration (benchmarks delete index caches here).
    pub fn dir(&self) -> &Path {
        self.root()
    }

    /// Starts the (stopped) server again: same ports, same data.
    pub fn start_again(&self) {
        // NOTE: the daemonized master keeps inherited pipes open, so `output()` would wait
        // forever; its stderr goes to a file instead.
        let stderr =
            std::fs::File::create(self.root().join("dovecot.stderr")).expect("stderr file");
        let status = Command::new(DOVECOT)
            .arg("-c")
            .arg(&self.conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .status()
            .expect("run dovecot");
        assert!(status.success(), "dovecot failed to start: {}", self.log());
        let deadline = Instant::now() + Duration::from_secs(10);
        while !port_open(self.imap_port) || !port_open(self.imaps_port) {
            assert!(
                Instant::now() < deadline,
                "dovecot did not listen: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Dovecot's log so far (for assertion messages).
    pub fn log(&self) -> String {
        let read = |f: &str| std::fs::read_to_string(self.root().join(f)).unwrap_or_default();
        read("dovecot.stderr") + &read("dovecot.log")
    }

    fn pid(&self) -> Option<u32> {
        std::fs::read_to_string(self.root().join("base/master.pid"))
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    /// Stops the server and every process it started (SIGTERM by PID: the master alone leaves
    /// running imap sessions behind), and waits until they and the ports are gone.
    pub fn stop(&self) {
        let Some(pid) = self.pid() else { return };
        let mut pids = descendants(pid);
        pids.push(pid);
        for p in &pids {
            let _ = Command::new("kill")
                .arg(p.to_string())
                .stderr(Stdio::null())
                .status();
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while (pids.iter().any(|p| process_alive(*p))
            || port_open(self.imap_port)
            || port_open(self.imaps_port))
            && Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = std::fs::remove_file(self.root().join("base/master.pid"));
    }

    /// Stops and starts again on the same ports with the same data.
    pub fn restart(&self) {
        self.stop();
        self.start_again();
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        self.stop();
    }
}
