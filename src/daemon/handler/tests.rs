use std::path::Path;
use std::sync::Mutex;

use super::*;
use crate::config::live::Live;
use crate::source::Position;
use crate::store::Store;
use tokio::sync::Notify;

const SHOP: &str = "broker: shop\nname: Shop\ndomains: [shop.example]\nrules:\n  - id: shop-deals\n    event: login\n    subject: ['deals']\n";
/// One header a test: the memo is shared by the tests running in parallel.
fn header(n: u32) -> Vec<u8> {
    format!("From: News <news@shop.example>\r\nSubject: Weekly deals\r\nMessage-ID: <w{n}@shop.example>\r\n\r\n").into_bytes()
}

fn load(dir: &Path, pack: Option<&str>) -> (Config, RuleSet) {
    let rules = dir.join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    let file = rules.join("shop.yaml");
    match pack {
        Some(p) => std::fs::write(&file, p).unwrap(),
        None => _ = std::fs::remove_file(&file),
    }
    std::fs::write(
        dir.join("config.yaml"),
        "state_dir: state\nrules_dirs: [rules]\naccounts:\n  - {name: a, maildir: mail}\n",
    )
    .unwrap();
    crate::config::load_checked(Some(&dir.join("config.yaml"))).unwrap()
}

/// A processor over `dir`'s config, and the verdicts it hands to `scan`.
fn processor(dir: &Path) -> (Processor, Arc<Mutex<Vec<Verdict>>>) {
    let (cfg, rules) = load(dir, None);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let services = Services {
        store: Store::open_memory().unwrap(),
        live: Live::new(Arc::new(cfg), Arc::new(rules)),
        outbox_wake: Arc::new(Notify::new()),
    };
    let options = HandlerOptions {
        alerts: false,
        on_verdict: Some(Box::new(move |_, _, v| {
            sink.lock().unwrap().push(v.clone())
        })),
    };
    let p = Processor::new(services, options);
    (p, seen)
}

fn header_only(uid: u32) -> RawMessage {
    RawMessage {
        position: Position::Imap {
            uidvalidity: 1,
            uid,
        },
        bytes: header(uid),
        complete: false,
        received_at: None,
    }
}

fn mb() -> MailboxId {
    MailboxId {
        account: "a".into(),
        mailbox: "INBOX".into(),
    }
}

#[test]
fn a_non_candidate_is_judged_as_from_scratch() {
    let dir = tempfile::tempdir().unwrap();
    let (p, seen) = processor(dir.path());
    assert!(!p.is_candidate(&header(1)));
    p.process(&mb(), vec![header_only(1)], None).unwrap();
    let live = p.services.live.snapshot();
    let ctx = Context {
        config: &live.config,
        expectations: &[],
        now: store::now(),
    };
    let fresh = judge(&header(1), false, &live.rules, &ctx).verdict;
    assert_eq!(seen.lock().unwrap().as_slice(), [fresh]);
    assert!(
        !p.unclaimed.lock().contains_key(&header(1)),
        "the memo entry is used up"
    );
}

#[test]
fn a_reload_between_candidate_test_and_judgement_judges_by_the_new_rules() {
    let dir = tempfile::tempdir().unwrap();
    let (p, seen) = processor(dir.path());
    assert!(!p.is_candidate(&header(2)));
    let (cfg, rules) = load(dir.path(), Some(SHOP));
    p.services.live.replace(cfg, rules);
    p.process(&mb(), vec![header_only(2)], None).unwrap();
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].broker.as_deref(), Some("shop"));
}
