//! The IMAP source against a real Dovecot: IDLE latency, backlog, reconnect, UIDVALIDITY,
//! first-run lookback, login failure, TLS modes and refusals, polling, header-only hand-over,
//! and that nothing is ever marked \Seen.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use brokerwatch::config::TlsMode;
use brokerwatch::config::secret::SecretSource;
use brokerwatch::source::imap::{self, ImapError, WatchOptions};
use brokerwatch::source::{
    Checkpoint, HandlerError, MailHandler, MailboxId, Position, RawMessage, SourceEvent,
};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::util::dovecot::{Dovecot, Options};
use crate::util::wait::eventually;

/// What the recorder saw of one message.
#[derive(Debug, Clone)]
struct Seen {
    uidvalidity: u32,
    uid: u32,
    message_id: String,
    complete: bool,
    bytes: Vec<u8>,
    first_run_since: Option<i64>,
    received_at: Option<i64>,
}

#[derive(Default)]
struct State {
    checkpoints: HashMap<MailboxId, Checkpoint>,
    /// Every message handed over, duplicates included.
    handed: Vec<Seen>,
    /// Message-IDs recorded as new (the store's de-duplication).
    new_ids: Vec<String>,
    events: Vec<SourceEvent>,
    baselines: Vec<Checkpoint>,
    resets: Vec<u32>,
    /// `process` refuses, once, the group holding this UID (a store that failed).
    refuse_once: Option<u32>,
}

/// A MailHandler test double: checkpoints in memory, candidates are mail from broker.example.
#[derive(Default)]
struct Recorder {
    state: Mutex<State>,
}

impl Recorder {
    fn with<R>(&self, f: impl FnOnce(&State) -> R) -> R {
        f(&self.state.lock().unwrap())
    }
    fn handed_ids(&self) -> Vec<String> {
        self.with(|s| s.handed.iter().map(|m| m.message_id.clone()).collect())
    }
    fn count_events(&self, f: impl Fn(&SourceEvent) -> bool) -> usize {
        self.with(|s| s.events.iter().filter(|e| f(e)).count())
    }
}

fn message_id(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    text.lines()
        .find_map(|l| l.strip_prefix("Message-ID: "))
        .unwrap_or("")
        .trim()
        .to_string()
}

impl MailHandler for Recorder {
    fn checkpoint(&self, mb: &MailboxId) -> Result<Option<Checkpoint>, HandlerError> {
        Ok(self.state.lock().unwrap().checkpoints.get(mb).cloned())
    }
    fn set_baseline(&self, mb: &MailboxId, cp: Checkpoint) -> Result<(), HandlerError> {
        let mut s = self.state.lock().unwrap();
        s.baselines.push(cp.clone());
        s.checkpoints.insert(mb.clone(), cp);
        Ok(())
    }
    fn is_candidate(&self, header: &[u8]) -> bool {
        String::from_utf8_lossy(header).contains("broker.example")
    }
    fn process(
        &self,
        mb: &MailboxId,
        messages: Vec<RawMessage>,
        first_run_since: Option<i64>,
    ) -> Result<usize, HandlerError> {
        let mut s = self.state.lock().unwrap();
        let refused = s.refuse_once.filter(|&target| {
            let has =
                |m: &RawMessage| matches!(m.position, Position::Imap { uid, .. } if uid == target);
            messages.iter().any(has)
        });
        if let Some(uid) = refused {
            s.refuse_once = None;
            anyhow::bail!("refusing the group of UID {uid}, once");
        }
        let mut new = 0;
        for m in messages {
            let Position::Imap { uidvalidity, uid } = m.position else {
                anyhow::bail!("not an IMAP position");
            };
            let id = message_id(&m.bytes);
            if !s.new_ids.contains(&id) {
                s.new_ids.push(id.clone());
                new += 1;
            }
            s.checkpoints.insert(
                mb.clone(),
                Checkpoint::Imap {
                    uidvalidity,
                    last_uid: uid,
                },
            );
            s.handed.push(Seen {
                uidvalidity,
                uid,
                message_id: id,
                complete: m.complete,
                bytes: m.bytes,
                first_run_since,
                received_at: m.received_at,
            });
        }
        Ok(new)
    }
    fn reset(&self, mb: &MailboxId, uidvalidity: u32) -> Result<(), HandlerError> {
        let mut s = self.state.lock().unwrap();
        s.resets.push(uidvalidity);
        s.checkpoints.insert(
            mb.clone(),
            Checkpoint::Imap {
                uidvalidity,
                last_uid: 0,
            },
        );
        Ok(())
    }
    fn source_event(&self, _mb: &MailboxId, event: SourceEvent) {
        self.state.lock().unwrap().events.push(event);
    }
}

/// A mail; `broker` makes it a candidate (From: broker.example).
fn mail(n: usize, broker: bool) -> Vec<u8> {
    let from = if broker {
        "notice@broker.example"
    } else {
        "friend@other.example"
    };
    format!(
        "From: {from}\r\nTo: alice@localhost\r\nSubject: test {n}\r\n\
         Message-ID: <m{n}-{}@test>\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n\r\n\
         BODY-MARKER {n}\r\n",
        std::process::id()
    )
    .into_bytes()
}

fn fast_opts() -> WatchOptions {
    // RUST_LOG=brokerwatch=debug shows the source's log in failing tests.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let mut o = WatchOptions::default();
    o.timeouts.connect = Duration::from_secs(5);
    o.timeouts.command = Duration::from_secs(5);
    o.backoff_initial = Duration::from_millis(100);
    o.backoff_max = Duration::from_millis(500);
    o.keepalive = Duration::from_secs(30);
    o
}

struct Watcher {
    stop: CancellationToken,
    task: JoinHandle<Result<(), ImapError>>,
}

impl Watcher {
    fn spawn(
        cfg: brokerwatch::config::ImapAccount,
        rec: &Arc<Recorder>,
        opts: WatchOptions,
    ) -> Self {
        Self::spawn_on("INBOX", cfg, rec, opts)
    }

    fn spawn_on(
        mailbox: &str,
        cfg: brokerwatch::config::ImapAccount,
        rec: &Arc<Recorder>,
        opts: WatchOptions,
    ) -> Self {
        let stop = CancellationToken::new();
        let rx = stop.clone();
        let handler: Arc<dyn MailHandler> = rec.clone();
        let mailbox = mailbox.to_string();
        let task =
            tokio::spawn(
                async move { imap::watch("acct", &cfg, &mailbox, handler, &opts, rx).await },
            );
        Watcher { stop, task }
    }

    /// Requests shutdown and requires the task to end promptly and cleanly.
    async fn stop(self) {
        self.stop.cancel();
        let r = tokio::time::timeout(Duration::from_secs(5), self.task)
            .await
            .expect("watcher did not stop within 5 s");
        r.expect("watcher panicked").expect("watcher failed");
    }
}

async fn ready(rec: &Recorder) {
    eventually("the watcher to report Ok", Duration::from_secs(10), || {
        rec.count_events(|e| *e == SourceEvent::Ok) > 0
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn message_appended_during_idle_arrives_without_polling() {
    let d = Dovecot::start();
    let rec = Arc::new(Recorder::default());
    // No poll would come within the deadline: only IDLE can bring the message.
    let mut acct = d.account("alice", TlsMode::Implicit);
    acct.poll_interval = Duration::from_secs(3600);
    acct.idle_refresh = Duration::from_secs(600);
    let w = Watcher::spawn(acct, &rec, fast_opts());
    ready(&rec).await;
    tokio::time::sleep(Duration::from_millis(200)).await; // let IDLE start
    let t0 = Instant::now();
    d.append("alice", "INBOX", &mail(1, true)).await;
    eventually(
        "rec.with(|s| s.handed.len()) == 1",
        Duration::from_secs(30),
        || rec.with(|s| s.handed.len()) == 1,
    )
    .await;
    let elapsed = t0.elapsed();
    let m = rec.with(|s| s.handed[0].clone());
    assert!(
        m.complete && m.uid == 1 && m.first_run_since.is_none(),
        "{m:?}"
    );
    assert!(String::from_utf8_lossy(&m.bytes).contains("BODY-MARKER 1"));
    w.stop().await;
    eprintln!("IDLE delivery took {elapsed:?}");
}

/// Watches `user`'s INBOX once (its baseline), appends `mails` while nobody watches, and watches
/// again with `opts`: the mails are a backlog to catch up. Returns the running watcher once
/// `rec` holds as many messages as `mails` (and 300 ms later, so a surplus would show).
async fn catch_up_backlog(
    d: &Dovecot,
    rec: &Arc<Recorder>,
    user: &str,
    opts: WatchOptions,
    mails: &[Vec<u8>],
    within: Duration,
) -> Watcher {
    let cfg = d.account(user, TlsMode::Implicit);
    let w = Watcher::spawn(cfg.clone(), rec, opts.clone());
    ready(rec).await;
    w.stop().await;
    d.append_many(user, "INBOX", mails).await;
    let w = Watcher::spawn(cfg, rec, opts);
    let n = mails.len();
    eventually(
        &format!("rec.with(|s| s.handed.len()) >= {n}"),
        within,
        || rec.with(|s| s.handed.len()) >= n,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    w
}

#[tokio::test(flavor = "multi_thread")]
async fn backlog_of_200_is_processed_once_after_start() {
    let d = Dovecot::start();
    let rec = Arc::new(Recorder::default());
    let mut opts = fast_opts();
    opts.header_batch = 64;
    opts.body_batch = 7;
    let mails: Vec<Vec<u8>> = (0..200).map(|n| mail(n, n % 3 == 0)).collect();
    let w = catch_up_backlog(&d, &rec, "bob", opts, &mails, Duration::from_secs(10)).await;
    let uids: Vec<u32> = rec.with(|s| s.handed.iter().map(|m| m.uid).collect());
    assert_eq!(
        uids,
        (1..=200).collect::<Vec<u32>>(),
        "each UID once, in order"
    );
    let complete = rec.with(|s| s.handed.iter().filter(|m| m.complete).count());
    assert_eq!(complete, 67, "only candidates carry a body");
    w.stop().await;
}

/// A backlog of several header batches is judged on a thread of its own: a group the handler
/// refuses stops it there (no later group is recorded past it), and the retry hands over the
/// rest, each UID once and in order.
#[tokio::test(flavor = "multi_thread")]
async fn a_refused_group_in_a_backlog_is_retried_and_nothing_after_it_skips_ahead() {
    let d = Dovecot::start();
    let rec = Arc::new(Recorder::default());
    let mut opts = fast_opts();
    opts.header_batch = 16;
    opts.body_batch = 3;
    // The baseline run sees an empty mailbox: the refusal waits for the backlog.
    rec.state.lock().unwrap().refuse_once = Some(57);
    let mails: Vec<Vec<u8>> = (0..150).map(|n| mail(n, n % 4 == 0)).collect();
    let w = catch_up_backlog(&d, &rec, "bob", opts, &mails, Duration::from_secs(20)).await;
    let uids: Vec<u32> = rec.with(|s| s.handed.iter().map(|m| m.uid).collect());
    assert_eq!(
        uids,
        (1..=150).collect::<Vec<u32>>(),
        "each UID once, in order"
    );
    assert!(
        rec.with(|s| s.refuse_once.is_none()),
        "the refusal happened"
    );
    let complete = rec.with(|s| s.handed.iter().filter(|m| m.complete).count());
    assert_eq!(complete, 38, "only candidates carry a body");
    w.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn dovecot_restart_mid_idle_reconnects_and_loses_nothing() {
    let d = Dovecot::start();
    let rec = Arc::new(Recorder::default());
    let w = Watcher::spawn(d.account("alice", TlsMode::StartTls), &rec, fast_opts());
    ready(&rec).await;
    d.append("alice", "INBOX", &mail(1, true)).await;
    eventually(
        "rec.with(|s| s.handed.len()) == 1",
        Duration::from_secs(3),
        || rec.with(|s| s.handed.len()) == 1,
    )
    .await;
    d.stop();
    d.deliver_offline("alice", "INBOX", &mail(2, true));
    d.deliver_offline("alice", "INBOX", &mail(3, false));
    eventually(
        "a lost connection is reported",
        Duration::from_secs(3),
        || rec.count_events(|e| matches!(e, SourceEvent::Unreachable(_))) > 0,
    )
    .await;
    d.start_again();
    d.append("alice", "INBOX", &mail(4, true)).await;
    eventually("the mails to be handed", Duration::from_secs(6), || {
        rec.with(|s| s.handed.len()) == 4
    })
    .await;
    let uids: Vec<u32> = rec.with(|s| s.handed.iter().map(|m| m.uid).collect());
    assert_eq!(uids, vec![1, 2, 3, 4]);
    let oks = rec.count_events(|e| *e == SourceEvent::Ok);
    assert!(oks >= 2, "Ok again after the reconnect");
    w.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn uidvalidity_change_rescans_without_duplicates() {
    let d = Dovecot::start();
    let rec = Arc::new(Recorder::default());
    let cfg = d.account("carol", TlsMode::Implicit);
    let w = Watcher::spawn(cfg.clone(), &rec, fast_opts());
    ready(&rec).await;
    d.append_many(
        "carol",
        "INBOX",
        &[mail(1, true), mail(2, false), mail(3, true)],
    )
    .await;
    eventually(
        "rec.with(|s| s.handed.len()) == 3",
        Duration::from_secs(3),
        || rec.with(|s| s.handed.len()) == 3,
    )
    .await;
    w.stop().await;
    let old = d.uidvalidity("carol", "INBOX").await;
    d.set_uidvalidity("carol", "INBOX", old + 1000);
    d.append("carol", "INBOX", &mail(4, true)).await;
    let w = Watcher::spawn(cfg, &rec, fast_opts());
    eventually(
        "the rescan to hand all 4 again",
        Duration::from_secs(5),
        || rec.with(|s| s.handed.len()) == 7,
    )
    .await;
    rec.with(|s| {
        assert_eq!(s.resets, vec![old + 1000]);
        assert!(s.handed[3..].iter().all(|m| m.uidvalidity == old + 1000));
        let unique: HashSet<&String> = s.new_ids.iter().collect();
        assert_eq!(unique.len(), s.new_ids.len());
        assert_eq!(s.new_ids.len(), 4, "three old (deduped) + one new");
    });
    w.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn first_run_processes_only_recent_mail_and_baselines_the_rest() {
    let d = Dovecot::start();
    d.append_dated(
        "alice",
        "INBOX",
        &mail(1, true),
        "01-Jan-2020 10:00:00 +0000",
    )
    .await;
    d.append_dated(
        "alice",
        "INBOX",
        &mail(2, true),
        "02-Jan-2020 10:00:00 +0000",
    )
    .await;
    d.append("alice", "INBOX", &mail(3, true)).await;
    d.append("alice", "INBOX", &mail(4, false)).await;
    let rec = Arc::new(Recorder::default());
    let mut opts = fast_opts();
    opts.first_run_lookback = Duration::from_secs(7 * 86_400);
    let w = Watcher::spawn(d.account("alice", TlsMode::Implicit), &rec, opts);
    ready(&rec).await;
    rec.with(|s| {
        let uids: Vec<u32> = s.handed.iter().map(|m| m.uid).collect();
        assert_eq!(uids, vec![3, 4], "old mail is not even fetched");
        let since = s.handed[0]
            .first_run_since
            .expect("first-run messages carry since");
        assert!(s.handed.iter().all(|m| m.received_at.unwrap() >= since));
        assert_eq!(s.baselines.len(), 1);
        assert!(matches!(
            s.baselines[0],
            Checkpoint::Imap { last_uid: 4, .. }
        ));
    });
    d.append("alice", "INBOX", &mail(5, true)).await;
    eventually(
        "rec.with(|s| s.handed.len()) == 3",
        Duration::from_secs(3),
        || rec.with(|s| s.handed.len()) == 3,
    )
    .await;
    rec.with(|s| assert_eq!((s.handed[2].uid, s.handed[2].first_run_since), (5, None)));
    w.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_password_reports_login_failed_and_keeps_retrying() {
    let d = Dovecot::start();
    let rec = Arc::new(Recorder::default());
    let mut cfg = d.account("bob", TlsMode::Implicit);
    let pw = d.password_file("bob-wrong", "not-the-password");
    cfg.auth = brokerwatch::config::ImapAuth::Password(SecretSource::File(pw.clone()));
    let w = Watcher::spawn(cfg, &rec, fast_opts());
    let failed = |rec: &Recorder| rec.count_events(|e| matches!(e, SourceEvent::LoginFailed(_)));
    eventually(
        "retries after a refused login",
        Duration::from_secs(10),
        || failed(&rec) >= 2,
    )
    .await;
    assert_eq!(
        rec.count_events(|e| matches!(e, SourceEvent::Unreachable(_))),
        0
    );
    let msg = rec.with(|s| format!("{:?}", s.events[0]));
    assert!(
        !msg.contains("not-the-password"),
        "the password is never in a message: {msg}"
    );
    std::fs::write(&pw, format!("{}\n", Dovecot::password("bob"))).unwrap();
    ready(&rec).await;
    w.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn starttls_implicit_tls_and_loopback_plaintext_all_work() {
    let d = Dovecot::start();
    for (n, tls) in [TlsMode::StartTls, TlsMode::Implicit, TlsMode::None]
        .into_iter()
        .enumerate()
    {
        let rec = Arc::new(Recorder::default());
        let mut cfg = d.account("carol", tls);
        if tls == TlsMode::None {
            cfg.host = "127.0.0.1".into();
        }
        let w = Watcher::spawn(cfg, &rec, fast_opts());
        ready(&rec).await;
        let m = mail(n, true);
        d.append("carol", "INBOX", &m).await;
        let id = message_id(&m);
        eventually(&format!("{tls:?}"), Duration::from_secs(3), || {
            rec.handed_ids().contains(&id)
        })
        .await;
        w.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn certificate_from_untrusted_ca_is_refused() {
    let d = Dovecot::start();
    for tls in [TlsMode::Implicit, TlsMode::StartTls] {
        let rec = Arc::new(Recorder::default());
        let mut cfg = d.account("alice", tls);
        cfg.ca_file = Some(d.untrusted_ca_path.clone());
        let w = Watcher::spawn(cfg, &rec, fast_opts());
        let unreachable = |r: &Recorder| {
            r.with(|s| {
                s.events.iter().find_map(|e| match e {
                    SourceEvent::Unreachable(m) => Some(m.clone()),
                    _ => None,
                })
            })
        };
        eventually(
            "unreachable(&rec).is_some()",
            Duration::from_secs(5),
            || unreachable(&rec).is_some(),
        )
        .await;
        let msg = unreachable(&rec).unwrap();
        assert!(msg.contains("certificate"), "{tls:?}: {msg}");
        assert_eq!(rec.count_events(|e| *e == SourceEvent::Ok), 0);
        w.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn plaintext_to_non_loopback_host_is_refused_before_connecting() {
    let rec = Arc::new(Recorder::default());
    let cfg = brokerwatch::config::ImapAccount {
        host: "imap.example.invalid".into(), // never resolves: a connect attempt would be Unreachable
        port: 143,
        tls: TlsMode::None,
        username: "u".into(),
        auth: brokerwatch::config::ImapAuth::Password(SecretSource::Env(
            "BROKERWATCH_TEST_UNSET".into(),
        )),
        mailboxes: vec!["INBOX".into()],
        ca_file: None,
        poll_interval: Duration::from_secs(60),
        idle_refresh: Duration::from_secs(600),
    };
    let rx = CancellationToken::new();
    let handler: Arc<dyn MailHandler> = rec.clone();
    let err = imap::watch("acct", &cfg, "INBOX", handler, &fast_opts(), rx)
        .await
        .unwrap_err();
    assert!(
        matches!(err, ImapError::PlaintextRefused(ref h) if h == "imap.example.invalid"),
        "{err}"
    );
    assert_eq!(
        rec.count_events(|e| matches!(e, SourceEvent::Unreachable(_))),
        1
    );
    let err = imap::scan_once("acct", &cfg, rec.as_ref(), None, &fast_opts())
        .await
        .unwrap_err();
    assert!(matches!(err, ImapError::PlaintextRefused(_)), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn polling_without_idle_capability_works() {
    let d = Dovecot::start_with(Options { idle: false });
    let rec = Arc::new(Recorder::default());
    let w = Watcher::spawn(d.account("bob", TlsMode::Implicit), &rec, fast_opts());
    ready(&rec).await;
    d.append("bob", "INBOX", &mail(1, true)).await;
    eventually(
        "rec.with(|s| s.handed.len()) == 1",
        Duration::from_secs(2),
        || rec.with(|s| s.handed.len()) == 1,
    )
    .await;
    // Polls keep reporting Ok: more than one round happened.
    eventually(
        "rec .count_events(|e| *e == SourceEvent::Ok) >= 3",
        Duration::from_secs(2),
        || rec.count_events(|e| *e == SourceEvent::Ok) >= 3,
    )
    .await;
    w.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn non_candidates_go_header_only_and_nothing_is_marked_seen() {
    let d = Dovecot::start();
    let rec = Arc::new(Recorder::default());
    let w = Watcher::spawn(d.account("alice", TlsMode::Implicit), &rec, fast_opts());
    ready(&rec).await;
    d.append_many("alice", "INBOX", &[mail(1, false), mail(2, true)])
        .await;
    eventually(
        "rec.with(|s| s.handed.len()) == 2",
        Duration::from_secs(3),
        || rec.with(|s| s.handed.len()) == 2,
    )
    .await;
    rec.with(|s| {
        let (plain, broker) = (&s.handed[0], &s.handed[1]);
        let text = String::from_utf8_lossy(&plain.bytes);
        assert!(
            !plain.complete && text.contains("Subject: test 1"),
            "{text}"
        );
        assert!(
            !text.contains("BODY-MARKER") && !text.contains("To: "),
            "header fields only: {text}"
        );
        assert!(
            broker.complete && String::from_utf8_lossy(&broker.bytes).contains("BODY-MARKER 2")
        );
    });
    w.stop().await;
    let flags = d.flags("alice", "INBOX").await;
    assert_eq!(flags.len(), 2);
    for (uid, f) in flags {
        assert!(!f.iter().any(|x| x.contains("Seen")), "uid {uid} got {f:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn scan_once_catches_up_every_mailbox_then_logs_out() {
    let d = Dovecot::start();
    d.create_mailbox("carol", "Junk").await;
    d.append("carol", "INBOX", &mail(1, true)).await;
    d.append("carol", "Junk", &mail(2, true)).await;
    let mut cfg = d.account("carol", TlsMode::Implicit);
    cfg.mailboxes = vec!["INBOX".into(), "Junk".into(), "Missing".into()];
    let rec = Recorder::default();
    let scans = imap::scan_once("acct", &cfg, &rec, None, &fast_opts())
        .await
        .unwrap();
    let counts: Vec<_> = scans
        .iter()
        .map(|s| s.result.as_ref().ok().copied())
        .collect();
    assert_eq!(counts, vec![Some(1), Some(1), None], "{scans:?}");
    d.append("carol", "INBOX", &mail(3, false)).await;
    let scans = imap::scan_once("acct", &cfg, &rec, None, &fast_opts())
        .await
        .unwrap();
    assert_eq!(
        scans[0].result.as_ref().ok(),
        Some(&1),
        "from the checkpoint: only the new one"
    );
    let since = imap::scan_once("acct", &cfg, &rec, Some(0), &fast_opts())
        .await
        .unwrap();
    assert_eq!(
        since[0].result.as_ref().ok(),
        Some(&2),
        "--since ignores the checkpoint"
    );
}

/// A TCP forwarder to Dovecot that can silently stall its current connections (no FIN, no RST):
/// what a dead NAT entry or a pulled cable looks like to the client.
struct StallingProxy {
    port: u16,
    /// Connections numbered below this stop forwarding.
    stall_below: Arc<std::sync::atomic::AtomicUsize>,
    next: Arc<std::sync::atomic::AtomicUsize>,
}

impl StallingProxy {
    async fn start(target: u16) -> Self {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (stall_below, next) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let (stall, counter) = (stall_below.clone(), next.clone());
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let id = counter.fetch_add(1, Ordering::SeqCst);
                let server = tokio::net::TcpStream::connect(("127.0.0.1", target))
                    .await
                    .unwrap();
                let (cr, cw) = client.into_split();
                let (sr, sw) = server.into_split();
                let alive = move |s: &Arc<AtomicUsize>| id >= s.load(Ordering::SeqCst);
                tokio::spawn(Self::pump(cr, sw, stall.clone(), alive));
                tokio::spawn(Self::pump(sr, cw, stall.clone(), alive));
            }
        });
        StallingProxy {
            port,
            stall_below,
            next,
        }
    }

    async fn pump(
        mut from: tokio::net::tcp::OwnedReadHalf,
        mut to: tokio::net::tcp::OwnedWriteHalf,
        stall: Arc<std::sync::atomic::AtomicUsize>,
        alive: impl Fn(&Arc<std::sync::atomic::AtomicUsize>) -> bool,
    ) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = match from.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            if !alive(&stall) {
                // Swallow everything from now on, keeping both sockets open.
                std::future::pending::<()>().await;
            }
            if to.write_all(&buf[..n]).await.is_err() {
                return;
            }
        }
    }

    /// Every connection made so far goes silent.
    fn stall_existing(&self) {
        use std::sync::atomic::Ordering;
        self.stall_below
            .store(self.next.load(Ordering::SeqCst), Ordering::SeqCst);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn silently_dropped_connection_is_detected_and_replaced() {
    let d = Dovecot::start();
    let proxy = StallingProxy::start(d.imaps_port).await;
    let mut cfg = d.account("bob", TlsMode::Implicit);
    cfg.port = proxy.port;
    let mut opts = fast_opts();
    opts.keepalive = Duration::from_millis(700);
    opts.timeouts.command = Duration::from_millis(700);
    let rec = Arc::new(Recorder::default());
    let w = Watcher::spawn(cfg, &rec, opts);
    ready(&rec).await;
    proxy.stall_existing();
    let m = mail(1, true);
    d.append("bob", "INBOX", &m).await;
    eventually(
        "a stalled connection to be noticed (keepalive + timeout) and replaced",
        Duration::from_secs(6),
        || rec.handed_ids().contains(&message_id(&m)),
    )
    .await;
    assert!(
        rec.count_events(|e| matches!(e, SourceEvent::Unreachable(m) if m.contains("timed out")))
            >= 1
    );
    w.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn japanese_named_folder_and_special_use_junk_are_watched() {
    let d = Dovecot::start();
    let jp = "[Gmail]/迷惑メール";
    let de = "Überweisungen-出金";
    for name in [jp, de, "Spamfilter"] {
        d.create_mailbox("alice", &imap::mutf7::encode(name)).await;
    }
    // Dovecot's SPECIAL-USE \Junk is on the mailbox named Junk (tests/util/dovecot.rs).
    d.create_mailbox("alice", "Junk").await;
    let mut watchers = Vec::new();
    let mut recs = Vec::new();
    for name in [jp, de, "\\Junk"] {
        let rec = Arc::new(Recorder::default());
        watchers.push(Watcher::spawn_on(
            name,
            d.account("alice", TlsMode::Implicit),
            &rec,
            fast_opts(),
        ));
        ready(&rec).await;
        recs.push(rec);
    }
    for (n, wire) in [
        imap::mutf7::encode(jp),
        imap::mutf7::encode(de),
        "Junk".into(),
    ]
    .iter()
    .enumerate()
    {
        d.append("alice", wire, &mail(900 + n, true)).await;
    }
    for (n, rec) in recs.iter().enumerate() {
        let want = format!("BODY-MARKER {}", 900 + n);
        eventually(
            &format!("mail put in mailbox #{n} reached the handler"),
            Duration::from_secs(5),
            || {
                rec.with(|s| {
                    s.handed
                        .iter()
                        .any(|m| String::from_utf8_lossy(&m.bytes).contains(&want))
                })
            },
        )
        .await;
        assert_eq!(
            rec.with(|s| s.handed.len()),
            1,
            "mailbox #{n}: only its own mail"
        );
    }
    for w in watchers {
        w.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_folder_is_cannot_watch_with_the_servers_words_not_unreachable() {
    let d = Dovecot::start();
    let rec = Arc::new(Recorder::default());
    let w = Watcher::spawn_on(
        "Überweisungen",
        d.account("alice", TlsMode::Implicit),
        &rec,
        fast_opts(),
    );
    let refused = |rec: &Recorder| {
        rec.count_events(|e| matches!(e, SourceEvent::MailboxRefused(m) if m.contains("exist")))
    };
    eventually(
        &format!(
            "a missing mailbox is refused in the server's words: {:?}",
            rec.with(|s| s.events.clone())
        ),
        Duration::from_secs(5),
        || refused(&rec) >= 1,
    )
    .await;
    assert_eq!(
        rec.count_events(|e| matches!(e, SourceEvent::Unreachable(_))),
        0
    );
    // No \Junk mailbox on this server (none created): refused, naming the attribute.
    let rec2 = Arc::new(Recorder::default());
    let w2 = Watcher::spawn_on(
        "\\Junk",
        d.account("alice", TlsMode::Implicit),
        &rec2,
        fast_opts(),
    );
    eventually(
        "rec2.count_events( |e| matches!(e, SourceEvent::MailboxRefused(m) i",
        Duration::from_secs(5),
        || {
            rec2.count_events(
                |e| matches!(e, SourceEvent::MailboxRefused(m) if m.contains("\\Junk")),
            ) >= 1
        },
    )
    .await;
    w.stop().await;
    w2.stop().await;
}
