use std::path::Path;

use rusqlite::Connection;

use super::*;
use crate::assess::Verdict;
use crate::event::{EventKind, Severity};
use crate::source::{Checkpoint, MailboxId, Position};

#[test]
fn a_new_state_is_private_to_the_user() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("state/brokerwatch.sqlite");
    let store = Store::open(&db).unwrap();
    store.kv_set("k", "v").unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&db), 0o600);
    assert_eq!(mode(&dir.path().join("state")), 0o700);
    assert_eq!(
        mode(&dir.path().join("state/brokerwatch.sqlite-wal")),
        0o600
    );
}

/// Issue #18 item 3: "failing since 5s ago" after 40 s of failure.
#[test]
fn an_outage_counts_from_its_first_failed_attempt() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.sqlite")).unwrap();
    let mb = MailboxId {
        account: "a".into(),
        mailbox: "INBOX".into(),
    };
    let shift = |col: &str, secs: i64| {
        store
            .lock()
            .execute(&format!("UPDATE sources SET {col} = {col} - ?1"), [secs])
            .unwrap();
    };
    let error_at = || store.sources().unwrap()[0].last_error_at.unwrap();
    store.source_error(&mb, "first").unwrap();
    shift("last_error_at", 40);
    let first = error_at();
    store.source_error(&mb, "again").unwrap();
    assert_eq!(
        error_at(),
        first,
        "a repeated failure moved the outage's start"
    );
    assert_eq!(
        store.sources().unwrap()[0].last_error.as_deref(),
        Some("again")
    );
    // A success ends the outage; the next failure starts a new one.
    store.source_ok(&mb).unwrap();
    shift("last_ok", -1);
    store.source_error(&mb, "new outage").unwrap();
    assert!(error_at() > first + 30, "a new outage kept the old start");
}
fn verdict(mid: &str) -> Verdict {
    Verdict {
        message_id: Some(mid.into()),
        broker: Some("sbi".into()),
        event: Some(EventKind::Withdrawal),
        authentic: Some(true),
        severity: Severity::Critical,
        rule: Some("sbi-withdrawal".into()),
        ..Verdict::default()
    }
}

fn alert(repeat: Option<i64>) -> NewAlert {
    let d = |s: &str, t: &str| NewDelivery {
        sink: s.parse().unwrap(),
        target: t.into(),
    };
    NewAlert {
        kind: crate::alert::AlertKind::Unexpected,
        severity: Severity::Critical,
        broker: Some("sbi".into()),
        event: Some("withdrawal".into()),
        title: "t".into(),
        body: "b".into(),
        texts: Default::default(),
        actionable: true,
        repeat_secs: repeat,
        deliveries: vec![d("console", "-"), d("telegram", "42")],
        repeat_to: vec![d("telegram", "42")],
    }
}

fn mb() -> MailboxId {
    MailboxId {
        account: "a".into(),
        mailbox: "INBOX".into(),
    }
}

#[test]
fn message_alert_and_checkpoint_commit_together_and_replays_are_skipped() {
    let s = Store::open_memory().unwrap();
    let pos = Position::Imap {
        uidvalidity: 7,
        uid: 12,
    };
    let v = verdict("m1@x");
    let rec = Recorded {
        mailbox: &mb(),
        position: &pos,
        verdict: &v,
        received_at: None,
    };
    let id = s.record(&rec, Some(&alert(None))).unwrap();
    assert!(id.is_some());
    assert_eq!(
        s.checkpoint(&mb()).unwrap(),
        Some(Checkpoint::Imap {
            uidvalidity: 7,
            last_uid: 12
        })
    );
    // The same message again (a crash before the source noticed): no second alert.
    assert_eq!(s.record(&rec, Some(&alert(None))).unwrap(), None);
    assert_eq!(s.due_deliveries(now() + 1, 10).unwrap().len(), 2);
    assert!(s.seen_message_id("a", "m1@x").unwrap());
    // The checkpoint never moves back by processing an older uid.
    let old = Position::Imap {
        uidvalidity: 7,
        uid: 3,
    };
    let rec = Recorded {
        mailbox: &mb(),
        position: &old,
        verdict: &v,
        received_at: None,
    };
    s.record(&rec, None).unwrap();
    assert_eq!(
        s.checkpoint(&mb()).unwrap(),
        Some(Checkpoint::Imap {
            uidvalidity: 7,
            last_uid: 12
        })
    );
}

#[test]
fn repeats_run_until_acknowledged() {
    let s = Store::open_memory().unwrap();
    let id = s.insert_alert(&alert(Some(60))).unwrap();
    assert!(s.start_due_repeats(now()).unwrap().is_empty());
    assert_eq!(s.start_due_repeats(now() + 61).unwrap(), vec![id]);
    let due = s.due_deliveries(now() + 61, 10).unwrap();
    assert_eq!(due.iter().filter(|d| d.round == 1).count(), 1, "{due:?}");
    assert!(s.ack(id, "test").unwrap());
    assert!(!s.ack(id, "test").unwrap());
    assert!(s.start_due_repeats(now() + 1000).unwrap().is_empty());
    let due = s.due_deliveries(now() + 1000, 10).unwrap();
    assert!(due.iter().all(|d| d.round == 0), "{due:?}");
}

#[test]
fn expectations_have_a_window() {
    let s = Store::open_memory().unwrap();
    s.add_expectation("sbi", EventKind::Withdrawal, 100, 200, Some("n"))
        .unwrap();
    assert_eq!(s.active_expectations(150).unwrap().len(), 1);
    assert!(s.active_expectations(200).unwrap().is_empty());
}

#[test]
fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("db.sqlite");
    {
        let c = Connection::open(&p).unwrap();
        c.pragma_update(None, "user_version", 99).unwrap();
    }
    assert!(matches!(
        Store::open(&p),
        Err(StoreError::TooNew { found: 99, .. })
    ));
}
