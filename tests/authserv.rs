//! Sender checks on by default (issue #14): `init` with a first account writes the authserv-id
//! its recent mail shows, and `authserv_ids: auto` makes the daemon learn it at start, keep it,
//! and judge a forged broker From: as phishing with it (and, before, as "sender not verified").

use std::time::Duration;

use brokerwatch::config::{self, Account, AccountSource, TlsMode};
use brokerwatch::store::Store;
use tempfile::TempDir;

use crate::daemon::{CHAT, Running, sbi_withdrawal, sent_to, wait_until};
use crate::util::dovecot::Dovecot;
use crate::util::fakebot::{FakeBot, TOKEN};
use crate::util::proc::command;

const OLD: &str = "01-Jan-2020 10:00:00 +0000";

/// A forged SBI withdrawal: the user's own server checked it and says DMARC fails.
fn forged(n: u32) -> Vec<u8> {
    format!(
        "Authentication-Results: mx.brokerwatch.test; dkim=none; spf=fail smtp.mailfrom=sbisec.co.jp; dmarc=fail header.from=sbisec.co.jp\r\n\
         Received: from evil.example (evil.example [198.51.100.7]) by mx.brokerwatch.test with ESMTPS id f{n}; Tue, 24 Nov 2026 09:12:03 +0900\r\n\
         From: SBI <info@sbisec.co.jp>\r\nTo: user@example.jp\r\n\
         Subject: =?UTF-8?B?44CQU0JJ6Ki85Yi444CR5Ye66YeR5oyH56S65Y+X5LuY44Gu44GK55+l44KJ44Gb?=\r\n\
         Message-ID: <forged-{n}-{}@evil.example>\r\nDate: Tue, 24 Nov 2026 09:12:00 +0900\r\n\
         Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n\
         お客様の出金指示を受け付けました。\r\n出金金額：{n},000円\r\n振込先：三井住友銀行 普通 ****9999\r\n",
        std::process::id()
    )
    .into_bytes()
}

#[tokio::test(flavor = "multi_thread")]
async fn init_with_an_imap_account_writes_the_authserv_id_of_its_recent_mail() {
    let d = tokio::task::spawn_blocking(Dovecot::start).await.unwrap();
    let dir = TempDir::new().unwrap();
    let pw = d.password_file("init", Dovecot::password("carol"));
    let init = |path: &std::path::Path| {
        let out = command(dir.path())
            .args(["init", "--path"])
            .arg(path)
            .args(["--imap", "localhost", "--user", "carol", "--port"])
            .arg(d.imaps_port.to_string())
            .arg("--password-file")
            .arg(&pw)
            .arg("--ca-file")
            .arg(&d.ca_path)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{text}");
        (std::fs::read_to_string(path).unwrap(), text)
    };
    // An empty mailbox shows nothing: `auto`, and said so.
    let (written, said) = init(&dir.path().join("empty.yaml"));
    assert!(written.contains("\nauthserv_ids: auto\n"), "{written}");
    assert!(said.contains("authserv_ids: auto"), "{said}");
    // Mail received through the server: its id, with the counts.
    let mails: Vec<Vec<u8>> = (0..4).map(|_| sbi_withdrawal("1,000", "1234")).collect();
    d.append_many("carol", "INBOX", &mails).await;
    let path = dir.path().join("config.yaml");
    let (written, said) = init(&path);
    assert!(
        written.contains("authserv_ids: [mx.brokerwatch.test]   # found by `brokerwatch init` in 4 of 4 recent mails"),
        "{written}"
    );
    assert!(said.contains("`mx.brokerwatch.test` (4 of 4"), "{said}");
    let cfg = config::load(&path).unwrap_or_else(|p| panic!("{p}\n{written}"));
    assert_eq!(cfg.authserv_ids, vec!["mx.brokerwatch.test".to_string()]);
    let AccountSource::Imap(i) = &cfg.accounts[0].source else {
        panic!("imap account");
    };
    assert_eq!((i.username.as_str(), i.port), ("carol", d.imaps_port));
}

#[tokio::test(flavor = "multi_thread")]
async fn auto_learns_the_authserv_id_and_a_forged_from_is_phishing() {
    let (d, bot, state) = (
        tokio::task::spawn_blocking(Dovecot::start).await.unwrap(),
        FakeBot::start().await,
        TempDir::new().unwrap(),
    );
    // Old mail (before the first-run lookback: recorded, never alerted) to learn from.
    for _ in 0..3 {
        d.append_dated("bob", "INBOX", &sbi_withdrawal("5,000", "1234"), OLD)
            .await;
    }
    let token = state.path().join("token");
    std::fs::write(&token, TOKEN).unwrap();
    let yaml = format!(
        "authserv_ids: auto\nstate_dir: {}\nsinks:\n  console: true\n  desktop: {{enabled: false}}\n  \
         telegram: {{token: {{file: {}}}, chat_ids: [{CHAT}], api_url: '{}'}}\n",
        state.path().join("state").display(),
        token.display(),
        bot.url()
    );
    let mut cfg = config::load_str(&yaml, "t.yaml", state.path()).unwrap();
    assert!(cfg.authserv_auto && cfg.authserv_ids.is_empty());
    cfg.accounts.push(Account {
        name: "bob".into(),
        source: AccountSource::Imap(d.account("bob", TlsMode::Implicit)),
    });
    let db = cfg.db_path();
    let rules = brokerwatch::rules::load(true, &[]).unwrap();
    let daemon = Running::start(cfg.clone(), rules.clone());
    let learned = || {
        Store::open_existing(&db)
            .ok()
            .flatten()
            .and_then(|s| brokerwatch::daemon::authserv::stored(&s))
    };
    wait_until("the learned authserv-id", Duration::from_secs(20), || {
        learned().is_some()
    })
    .await;
    let l = learned().unwrap();
    assert_eq!((l.id.as_str(), l.seen, l.of), ("mx.brokerwatch.test", 3, 3));
    d.append("bob", "INBOX", &forged(41)).await;
    d.append("bob", "INBOX", &sbi_withdrawal("42,000", "1234"))
        .await;
    wait_until("both alerts", Duration::from_secs(20), || {
        let t = sent_to(&bot, CHAT);
        t.iter().any(|t| t.contains("41,000")) && t.iter().any(|t| t.contains("42,000"))
    })
    .await;
    let texts = sent_to(&bot, CHAT);
    let fake = texts.iter().find(|t| t.contains("41,000")).unwrap();
    let real = texts.iter().find(|t| t.contains("42,000")).unwrap();
    assert!(fake.contains("phishing"), "{fake}");
    assert!(
        real.contains("genuine") && !real.contains("phishing"),
        "{real}"
    );
    daemon.stop().await;

    // `status` shows what the daemon learned.
    let cfg_file = state.path().join("config.yaml");
    std::fs::write(&cfg_file, &yaml).unwrap();
    let out = command(state.path())
        .arg("-c")
        .arg(&cfg_file)
        .arg("status")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Sender checks: trusting mx.brokerwatch.test (authserv_ids: auto, learned from 3 of 3 recent mails)"),
        "{text}"
    );
}

/// Before an id is learned, a broker notice is "sender not verified" — never silently genuine.
#[tokio::test(flavor = "multi_thread")]
async fn auto_with_nothing_to_learn_from_says_sender_not_verified() {
    let (d, bot, state) = (
        tokio::task::spawn_blocking(Dovecot::start).await.unwrap(),
        FakeBot::start().await,
        TempDir::new().unwrap(),
    );
    let token = state.path().join("token");
    std::fs::write(&token, TOKEN).unwrap();
    let yaml = format!(
        "authserv_ids: auto\nstate_dir: {}\nsinks:\n  console: true\n  desktop: {{enabled: false}}\n  \
         telegram: {{token: {{file: {}}}, chat_ids: [{CHAT}], api_url: '{}'}}\n",
        state.path().join("state").display(),
        token.display(),
        bot.url()
    );
    let mut cfg = config::load_str(&yaml, "t.yaml", state.path()).unwrap();
    cfg.accounts.push(Account {
        name: "alice".into(),
        source: AccountSource::Imap(d.account("alice", TlsMode::Implicit)),
    });
    let daemon = Running::start(cfg, brokerwatch::rules::load(true, &[]).unwrap());
    tokio::time::sleep(Duration::from_secs(2)).await;
    d.append("alice", "INBOX", &forged(43)).await;
    wait_until("the alert", Duration::from_secs(20), || {
        sent_to(&bot, CHAT).iter().any(|t| t.contains("43,000"))
    })
    .await;
    let texts = sent_to(&bot, CHAT);
    let t = texts.iter().find(|t| t.contains("43,000")).unwrap();
    assert!(t.contains("sender not verified"), "{t}");
    daemon.stop().await;
}
