//! What a test does to the server's mailboxes: accounts and passwords, APPEND, flags,
//! expunge, offline delivery and UIDVALIDITY (plaintext loopback admin logins and `doveadm`).

use super::*;

impl Dovecot {
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
