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
use brokerwatch::config::{ImapAccount, TlsMode};
use brokerwatch::secret::SecretSource;
use futures::StreamExt;
use tokio::net::TcpStream;

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
        let (imap_port, imaps_port) = (free_port(), free_port());
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

    /// The password of a test user.
    pub fn password(user: &str) -> &'static str {
        USERS
            .iter()
            .find(|(u, _)| *u == user)
            .map(|(_, p)| *p)
            .expect("unknown test user")
    }

    /// A file holding `password` (for `SecretSource::File`), inside this server's temp dir.
    pub fn password_file(&self, name: &str, password: &str) -> PathBuf {
        let path = self.root().join(format!("pw-{name}"));
        std::fs::write(&path, format!("{password}\n")).expect("write password file");
        path
    }

    /// An account for `user` on this server, trusting the test CA.
    pub fn account(&self, user: &str, tls: TlsMode) -> ImapAccount {
        let pw = self.password_file(user, Self::password(user));
        let port = match tls {
            TlsMode::Implicit => self.imaps_port,
            TlsMode::StartTls | TlsMode::None => self.imap_port,
        };
        ImapAccount {
            host: "localhost".into(),
            port,
            tls,
            username: user.into(),
            auth: brokerwatch::config::ImapAuth::Password(SecretSource::File(pw)),
            mailboxes: vec!["INBOX".into()],
            ca_file: Some(self.ca_path.clone()),
            poll_interval: Duration::from_millis(200),
            idle_refresh: Duration::from_secs(60),
        }
    }

    /// An admin session for `user` (plaintext on loopback, which Dovecot allows).
    pub async fn session(&self, user: &str) -> Session<TcpStream> {
        let tcp = TcpStream::connect(("127.0.0.1", self.imap_port))
            .await
            .expect("connect");
        let mut client = Client::new(tcp);
        client
            .read_response()
            .await
            .expect("greeting")
            .expect("greeting");
        client
            .login(user, Self::password(user))
            .await
            .map_err(|(e, _)| e)
            .expect("admin login")
    }

    /// APPENDs one message.
    pub async fn append(&self, user: &str, mailbox: &str, bytes: &[u8]) {
        self.append_many(user, mailbox, &[bytes.to_vec()]).await;
    }

    /// APPENDs messages in order on one connection.
    pub async fn append_many(&self, user: &str, mailbox: &str, messages: &[Vec<u8>]) {
        let mut s = self.session(user).await;
        for m in messages {
            s.append(mailbox, None, None, m).await.expect("APPEND");
        }
        let _ = s.logout().await;
    }

    /// APPENDs one message with an explicit INTERNALDATE (`"01-Jan-2020 10:00:00 +0000"`).
    pub async fn append_dated(&self, user: &str, mailbox: &str, bytes: &[u8], date: &str) {
        let mut s = self.session(user).await;
        let date = format!("\"{date}\"");
        s.append(mailbox, None, Some(&date), bytes)
            .await
            .expect("APPEND");
        let _ = s.logout().await;
    }

    /// Delivers while the server is down (or up): a file into the user's Maildir `new/` with a
    /// unique base name, as an MDA would (doveadm needs the running auth service).
    pub fn deliver_offline(&self, user: &str, mailbox: &str, bytes: &[u8]) {
        static SEQ: AtomicU32 = AtomicU32::new(0);
        let mut dir = self.root().join("mail").join(user);
        if !mailbox.eq_ignore_ascii_case("INBOX") {
            dir = dir.join(format!(".{mailbox}"));
        }
        for sub in ["tmp", "new", "cur"] {
            std::fs::create_dir_all(dir.join(sub)).expect("mkdir maildir");
        }
        let n = SEQ.fetch_add(1, Ordering::Relaxed);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let name = format!(
            "{}.M{}P{}Q{n}.bwtest",
            nanos.as_secs(),
            nanos.subsec_micros(),
            std::process::id()
        );
        let tmp = dir.join("tmp").join(&name);
        std::fs::write(&tmp, bytes).expect("write mail");
        chown(&tmp);
        std::fs::rename(&tmp, dir.join("new").join(&name)).expect("deliver mail");
    }

    pub async fn create_mailbox(&self, user: &str, mailbox: &str) {
        let mut s = self.session(user).await;
        s.create(mailbox).await.expect("CREATE");
        let _ = s.logout().await;
    }

    /// Flags \Deleted and expunges one message by UID.
    pub async fn expunge(&self, user: &str, mailbox: &str, uid: u32) {
        let mut s = self.session(user).await;
        s.select(mailbox).await.expect("SELECT");
        let fetched: Vec<_> = s
            .uid_store(uid.to_string(), "+FLAGS.SILENT (\\Deleted)")
            .await
            .expect("STORE")
            .collect()
            .await;
        drop(fetched);
        s.uid_expunge(uid.to_string())
            .await
            .expect("EXPUNGE")
            .collect::<Vec<_>>()
            .await;
        let _ = s.logout().await;
    }

    /// Marks a message read, as another mail client would.
    pub async fn mark_seen(&self, user: &str, mailbox: &str, uid: u32) {
        let mut s = self.session(user).await;
        s.select(mailbox).await.expect("SELECT");
        let done: Vec<_> = s
            .uid_store(uid.to_string(), "+FLAGS.SILENT (\\Seen)")
            .await
            .expect("STORE")
            .collect()
            .await;
        drop(done);
        let _ = s.logout().await;
    }

    /// UID → flags of every message (EXAMINE, so looking changes nothing).
    pub async fn flags(&self, user: &str, mailbox: &str) -> Vec<(u32, Vec<String>)> {
        let mut s = self.session(user).await;
        s.examine(mailbox).await.expect("EXAMINE");
        let fetches: Vec<_> = s
            .fetch("1:*", "(UID FLAGS)")
            .await
            .expect("FETCH")
            .collect()
            .await;
        let mut out = Vec::new();
        for f in fetches.into_iter().flatten() {
            let flags = f.flags().map(|fl| format!("{fl:?}")).collect();
            out.push((f.uid.unwrap_or(0), flags));
        }
        drop(s.logout().await);
        out
    }

    /// Current UIDVALIDITY of a mailbox.
    pub async fn uidvalidity(&self, user: &str, mailbox: &str) -> u32 {
        let mut s = self.session(user).await;
        let mb = s.examine(mailbox).await.expect("EXAMINE");
        let _ = s.logout().await;
        mb.uid_validity.expect("UIDVALIDITY")
    }

    /// Sets a new UIDVALIDITY (messages keep their UIDs, which now mean nothing).
    pub fn set_uidvalidity(&self, user: &str, mailbox: &str, value: u32) {
        let out = self
            .doveadm(&[
                "mailbox",
                "update",
                "--uid-validity",
                &value.to_string(),
                "-u",
                user,
                mailbox,
            ])
            .output()
            .expect("doveadm mailbox update");
        assert!(
            out.status.success(),
            "doveadm: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn doveadm(&self, args: &[&str]) -> Command {
        let mut c = Command::new(DOVEADM);
        c.arg("-c").arg(&self.conf).args(args);
        c
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        self.stop();
    }
}

fn config(root: &Path, imap_port: u16, imaps_port: u16, opts: Options) -> String {
    let r = root.display();
    let caps = if opts.idle {
        String::new()
    } else {
        // Dovecot's default list minus IDLE.
        "  imap_capability = IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE LITERAL+ SORT \
         THREAD=REFERENCES MULTIAPPEND UNSELECT CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED \
         I18NLEVEL=1 CONDSTORE QRESYNC ESEARCH ESORT SEARCHRES WITHIN CONTEXT=SEARCH \
         LIST-STATUS BINARY MOVE\n"
            .to_string()
    };
    format!(
        r#"base_dir = {r}/base
state_dir = {r}/state
log_path = {r}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{r}/server.pem
ssl_key = <{r}/server.key
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 1 secs
mail_location = maildir:{r}/mail/%u
mail_uid = {MAIL_UID}
mail_gid = {MAIL_UID}
first_valid_uid = 1000
# `/` as separator so `[Gmail]/迷惑メール`-style names nest; Junk carries SPECIAL-USE (RFC 6154).
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Junk {{
    special_use = \Junk
  }}
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {r}/passwd
}}
userdb {{
  driver = static
  args = uid={MAIL_UID} gid={MAIL_UID} home={r}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
    ssl = yes
  }}
}}
# No growing penalty for repeated failed logins (the login-failure test retries quickly).
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
protocol imap {{
  mail_max_userip_connections = 200
{caps}}}
"#
    )
}

/// Settings appended to the configuration for [`Scale`] (none by default).
fn scale_config(scale: Scale) -> String {
    let mut out = String::new();
    if scale.extra_users > 0 {
        // NOTE: with TLS every connection holds one imap-login (proxy) and one imap process;
        // Dovecot's default_process_limit of 100 would refuse the 101st login.
        let limit = 2 * (scale.extra_users + USERS.len()) + 100;
        out += &format!(
            "default_process_limit = {limit}\ndefault_client_limit = {}\n",
            4 * limit
        );
    }
    if let Some(every) = scale.idle_notify {
        out += &format!(
            "imap_idle_notify_interval = {} secs\n",
            every.as_secs().max(1)
        );
    }
    out
}

/// `user001`… with passwords unique to this server instance.
fn generated_users(n: usize) -> Vec<(String, String)> {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    let salt = h.finish();
    (1..=n)
        .map(|i| (format!("user{i:03}"), format!("pw-{salt:016x}-{i}")))
        .collect()
}

fn write_users(root: &Path, extra: &[(String, String)]) {
    let passwd: String = USERS
        .iter()
        .map(|(u, p)| (*u, *p))
        .chain(extra.iter().map(|(u, p)| (u.as_str(), p.as_str())))
        .map(|(u, p)| format!("{u}:{{PLAIN}}{p}\n"))
        .collect();
    std::fs::write(root.join("passwd"), passwd).expect("write passwd");
    chmod(&root.join("passwd"), 0o644);
    for sub in ["mail", "home"] {
        std::fs::create_dir_all(root.join(sub)).expect("mkdir");
        chown(&root.join(sub));
    }
}

/// A test CA, a server certificate it signs (localhost, 127.0.0.1), and an unrelated CA.
fn make_certs(root: &Path) {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    for (name, cn) in [
        ("ca", "brokerwatch test CA"),
        ("other-ca", "untrusted test CA"),
    ] {
        let subj = format!("/CN={cn}");
        let (key, pem) = (format!("{name}.key"), format!("{name}.pem"));
        let mut args = vec![
            "req", "-x509", "-days", "2", "-subj", &subj, "-keyout", &key, "-out", &pem,
        ];
        args.extend(ec);
        args.extend([
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ]);
        openssl(root, &args);
    }
    let mut args = vec![
        "req",
        "-new",
        "-subj",
        "/CN=localhost",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    ];
    args.extend(ec);
    openssl(root, &args);
    std::fs::write(
        root.join("server.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n\
         keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .expect("write ext");
    openssl(
        root,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-out",
            "server.pem",
            "-extfile",
            "server.ext",
        ],
    );
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A port nobody listens on right now (bind 127.0.0.1:0, read it, close).
fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("local addr").port()
}

fn port_open(port: u16) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    StdTcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
}

/// All processes below `root` (from /proc: field 4 of `stat` is the parent PID).
fn descendants(root: u32) -> Vec<u32> {
    let mut parent_of = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        let ppid = stat
            .rsplit(')')
            .next()
            .and_then(|r| r.split_whitespace().nth(1));
        if let Some(ppid) = ppid.and_then(|p| p.parse::<u32>().ok()) {
            parent_of.push((pid, ppid));
        }
    }
    let mut found = vec![root];
    let mut i = 0;
    while i < found.len() {
        let p = found[i];
        found.extend(parent_of.iter().filter(|(_, pp)| *pp == p).map(|(c, _)| *c));
        i += 1;
    }
    found.remove(0);
    found
}

/// Alive and not a zombie (a daemonized master is not our child, so nobody may reap it).
fn process_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

fn chown(path: &Path) {
    std::os::unix::fs::chown(path, Some(MAIL_UID), Some(MAIL_UID)).expect("chown");
}
