use std::sync::Mutex;

use super::*;

/// Records what was handed over; candidates are mail from broker.example.
#[derive(Default)]
struct Recorder {
    checkpoint: Mutex<Option<Checkpoint>>,
    handed: Mutex<Vec<(RawMessage, Option<i64>)>>,
    events: Mutex<Vec<SourceEvent>>,
}

impl MailHandler for Recorder {
    fn checkpoint(&self, _: &MailboxId) -> Result<Option<Checkpoint>, anyhow::Error> {
        Ok(self.checkpoint.lock().unwrap().clone())
    }
    fn set_baseline(&self, _: &MailboxId, cp: Checkpoint) -> Result<(), anyhow::Error> {
        *self.checkpoint.lock().unwrap() = Some(cp);
        Ok(())
    }
    fn is_candidate(&self, header: &[u8]) -> bool {
        String::from_utf8_lossy(header).contains("broker.example")
    }
    fn process(
        &self,
        _: &MailboxId,
        messages: Vec<RawMessage>,
        since: Option<i64>,
    ) -> Result<usize, anyhow::Error> {
        let n = messages.len();
        let mut h = self.handed.lock().unwrap();
        h.extend(messages.into_iter().map(|m| (m, since)));
        Ok(n)
    }
    fn reset(&self, _: &MailboxId, _: u32) -> Result<(), anyhow::Error> {
        Ok(())
    }
    fn source_event(&self, _: &MailboxId, e: SourceEvent) {
        self.events.lock().unwrap().push(e);
    }
}

impl Recorder {
    fn names(&self) -> Vec<String> {
        let h = self.handed.lock().unwrap();
        h.iter()
            .map(|(m, _)| match &m.position {
                Position::Maildir { name } => name.clone(),
                Position::Imap { .. } => panic!("IMAP position from a Maildir"),
            })
            .collect()
    }
}

fn maildir() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    for sub in ["new", "cur", "tmp"] {
        std::fs::create_dir(d.path().join(sub)).unwrap();
    }
    d
}

fn deliver(root: &Path, sub: &str, name: &str, broker: bool, age: Duration) {
    let from = if broker {
        "n@broker.example"
    } else {
        "a@other.example"
    };
    let text = format!("From: {from}\r\nSubject: {name}\r\n\r\nBODY {name}\r\n");
    let path = root.join(sub).join(name);
    std::fs::write(&path, text).unwrap();
    let f = std::fs::File::options().write(true).open(&path).unwrap();
    f.set_modified(SystemTime::now() - age).unwrap();
}

fn account(root: &Path) -> MaildirAccount {
    MaildirAccount {
        path: root.to_path_buf(),
        poll_interval: Duration::from_millis(30),
    }
}

const DAY: Duration = Duration::from_secs(86_400);

#[test]
fn unique_names_drop_the_info_suffix() {
    assert_eq!(
        unique_name("1700000000.M1P2.host:2,S"),
        "1700000000.M1P2.host"
    );
    assert_eq!(unique_name("1700000000.M1P2.host"), "1700000000.M1P2.host");
}

#[test]
fn first_run_records_everything_but_only_recent_mail_is_read_in_full() {
    let d = maildir();
    deliver(d.path(), "cur", "old:2,S", true, 30 * DAY);
    deliver(d.path(), "new", "recent", true, Duration::ZERO);
    let rec = Recorder::default();
    let n = scan_once(
        "a",
        &account(d.path()),
        &rec,
        None,
        &MaildirOptions::default(),
    )
    .unwrap();
    assert_eq!(n, 2);
    assert_eq!(
        rec.names(),
        vec!["old", "recent"],
        "oldest first, keys without flags"
    );
    let h = rec.handed.lock().unwrap();
    let since = h[0].1.expect("first run carries since");
    assert!(!h[0].0.complete, "old mail is only recorded");
    assert!(h[1].0.complete && h[1].0.received_at.unwrap() >= since);
    assert!(String::from_utf8_lossy(&h[1].0.bytes).contains("BODY recent"));
    assert_eq!(*rec.checkpoint.lock().unwrap(), Some(Checkpoint::Maildir));
}

#[test]
fn after_baseline_new_files_go_once_and_moves_keep_their_key() {
    let d = maildir();
    let rec = Recorder::default();
    *rec.checkpoint.lock().unwrap() = Some(Checkpoint::Maildir);
    let mb = MailboxId {
        account: "a".into(),
        mailbox: MAILBOX.into(),
    };
    let (opts, stop) = (MaildirOptions::default(), CancellationToken::new());
    let mut s = Scanner::default();
    deliver(d.path(), "new", "m1", false, Duration::ZERO);
    deliver(d.path(), "new", "m2", true, Duration::ZERO);
    assert_eq!(s.scan(d.path(), &rec, &mb, &opts, &stop).unwrap(), 2);
    std::fs::rename(d.path().join("new/m1"), d.path().join("cur/m1:2,S")).unwrap();
    assert_eq!(s.scan(d.path(), &rec, &mb, &opts, &stop).unwrap(), 0);
    let h = rec.handed.lock().unwrap();
    assert!(h.iter().all(|(_, since)| since.is_none()));
    let text = String::from_utf8_lossy(&h[0].0.bytes);
    assert!(!h[0].0.complete && text.contains("Subject: m1") && !text.contains("BODY"));
    assert!(h[1].0.complete);
}

#[test]
fn scan_since_ignores_the_checkpoint() {
    let d = maildir();
    deliver(d.path(), "cur", "old:2,S", true, 30 * DAY);
    deliver(d.path(), "cur", "new:2,", true, DAY);
    let rec = Recorder::default();
    let since = crate::units::now() - 2 * 86_400;
    let opts = MaildirOptions::default();
    assert_eq!(
        scan_once("a", &account(d.path()), &rec, Some(since), &opts).unwrap(),
        1
    );
    assert_eq!(rec.names(), vec!["new"]);
    assert_eq!(
        *rec.checkpoint.lock().unwrap(),
        None,
        "no baseline from a --since scan"
    );
}

#[test]
fn missing_folder_is_an_error_naming_it() {
    let d = tempfile::tempdir().unwrap();
    let rec = Recorder::default();
    let err = scan_once(
        "a",
        &account(d.path()),
        &rec,
        None,
        &MaildirOptions::default(),
    );
    let err = err.unwrap_err();
    assert!(
        err.to_string()
            .contains(&*d.path().join("new").to_string_lossy()),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn watch_picks_up_deliveries_and_stops_on_shutdown() {
    let d = maildir();
    let rec = Arc::new(Recorder::default());
    let tx = CancellationToken::new();
    let rx = tx.clone();
    let (cfg, handler) = (account(d.path()), rec.clone() as Arc<dyn MailHandler>);
    let task = tokio::spawn(async move {
        watch("a", &cfg, handler, &MaildirOptions::default(), rx).await;
    });
    let wait = |n: usize| {
        let rec = rec.clone();
        async move {
            for _ in 0..100 {
                if rec.handed.lock().unwrap().len() >= n {
                    return true;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            false
        }
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    deliver(d.path(), "new", "m1", true, Duration::ZERO);
    assert!(wait(1).await);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(rec.names(), vec!["m1"], "handed once despite several polls");
    assert_eq!(*rec.events.lock().unwrap(), vec![SourceEvent::Ok]);
    tx.cancel();
    tokio::time::timeout(Duration::from_secs(2), task)
        .await
        .expect("stops promptly")
        .unwrap();
}
