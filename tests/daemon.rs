//! The daemon end to end, in-process: real Dovecot → brokerwatch::daemon::run → fake Bot API (and a
//! real dunst for the desktop). Proves delivery, retries, restarts, acknowledgement and expectations.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use brokerwatch::config::{self, Account, AccountSource, Config, TlsMode};
use brokerwatch::daemon;
use brokerwatch::event::{EventKind, Severity};
use brokerwatch::rules::{self, RuleSet};
use brokerwatch::store::Store;
use tempfile::TempDir;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::util::desktop::{DesktopEnv, use_bus};
use crate::util::dovecot::Dovecot;
use crate::util::fakebot::{FakeBot, Fault, TOKEN};

pub const CHAT: i64 = 4242;
const STRANGER: i64 = 666;

/// A genuine, authentic SBI withdrawal notice with a unique Message-ID.
pub fn sbi_withdrawal(amount: &str, account: &str) -> Vec<u8> {
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::SeqCst);
    format!(
        "Authentication-Results: mx.brokerwatch.test; dkim=pass header.d=sbisec.co.jp header.s=s1; dmarc=pass header.from=sbisec.co.jp\r\n\
         Received: from psmtp01.sbisec.co.jp (psmtp01.sbisec.co.jp [203.0.113.5]) by mx.brokerwatch.test with ESMTPS id t{n}; Tue, 24 Nov 2026 09:12:03 +0900\r\n\
         From: =?UTF-8?B?U0JJ6Ki85Yi4?= <info@sbisec.co.jp>\r\n\
         To: user@example.jp\r\n\
         Subject: =?UTF-8?B?44CQU0JJ6Ki85Yi444CR5Ye66YeR5oyH56S65Y+X5LuY44Gu44GK55+l44KJ44Gb?=\r\n\
         Message-ID: <daemon-test-{n}-{}@sbisec.co.jp>\r\n\
         Date: Tue, 24 Nov 2026 09:12:00 +0900\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         Content-Transfer-Encoding: 8bit\r\n\r\n\
         お客様の出金指示を受け付けました。\r\n出金金額：{amount}円\r\n振込先：三井住友銀行 普通 ****{account}\r\n",
        std::process::id()
    )
    .into_bytes()
}

/// An authentic Rakuten e-mail change notice.
pub fn rakuten_email_change() -> Vec<u8> {
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::SeqCst);
    format!(
        "Authentication-Results: mx.brokerwatch.test; dkim=pass header.d=rakuten-sec.co.jp; dmarc=pass header.from=rakuten-sec.co.jp\r\n\
         Received: from mta.rakuten-sec.co.jp by mx.brokerwatch.test with ESMTPS id r{n}; Tue, 24 Nov 2026 09:12:03 +0900\r\n\
         From: service@rakuten-sec.co.jp\r\n\
         To: user@example.jp\r\n\
         Subject: =?UTF-8?B?44CQ5qW95aSp6Ki85Yi444CR55m76Yyy44Oh44O844Or44Ki44OJ44Os44K55aSJ5pu044Gu44GK55+l44KJ44Gb?=\r\n\
         Message-ID: <rk-{n}-{}@rakuten-sec.co.jp>\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n\
         楽天証券をご利用いただきありがとうございます。\r\nお客様の登録メールアドレスの変更を受け付けました。\r\n変更後のメールアドレス：ab***@example.com\r\n",
        std::process::id()
    )
    .into_bytes()
}

/// A daemon running in-process on its own state dir.
pub struct Running {
    stop: CancellationToken,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

impl Running {
    pub fn start(cfg: Config, rules: RuleSet) -> Running {
        let stop = CancellationToken::new();
        let setup = daemon::Setup { config: cfg, rules };
        let task = tokio::spawn(daemon::run(setup, daemon::Options::default(), stop.clone()));
        Running {
            stop,
            task: Some(task),
        }
    }

    pub async fn stop(mut self) {
        self.stop.cancel();
        if let Some(t) = self.task.take() {
            let r = tokio::time::timeout(Duration::from_secs(15), t).await;
            r.expect("daemon stops within 15 s")
                .expect("daemon task")
                .expect("daemon run ok");
        }
    }
}

/// Config: one IMAP account on the harness, Telegram to the fake, no desktop unless asked.
pub fn config(
    state: &TempDir,
    dovecot: &Dovecot,
    bot: &FakeBot,
    user: &str,
    desktop: bool,
) -> Config {
    let token = state.path().join("token");
    std::fs::write(&token, TOKEN).unwrap();
    let yaml = format!(
        "authserv_ids: [mx.brokerwatch.test]\n\
         language: en\n\
         state_dir: {state}\n\
         sinks:\n  console: true\n  desktop: {{enabled: {desktop}}}\n  telegram:\n    token: {{file: {token}}}\n    chat_ids: [{CHAT}]\n    api_url: {url}\n",
        state = state.path().join("state").display(),
        token = token.display(),
        url = bot.url(),
    );
    let mut cfg =
        config::load_str(&yaml, "test.yaml", state.path()).unwrap_or_else(|p| panic!("{p}"));
    let mut acct = dovecot.account(user, TlsMode::Implicit);
    acct.idle_refresh = Duration::from_secs(60);
    cfg.accounts.push(Account {
        name: user.into(),
        source: AccountSource::Imap(acct),
    });
    cfg
}

fn rules() -> RuleSet {
    rules::load(true, &[]).expect("shipped rules")
}

pub fn sent_to(bot: &FakeBot, chat: i64) -> Vec<String> {
    bot.delivered()
        .into_iter()
        .filter(|r| r.chat_id == Some(chat))
        .filter_map(|r| r.text)
        .collect()
}

pub async fn wait_until(what: &str, within: Duration, f: impl FnMut() -> bool) {
    crate::util::wait::eventually(what, within, f).await
}

fn alert_texts(bot: &FakeBot) -> Vec<String> {
    sent_to(bot, CHAT)
        .into_iter()
        .filter(|t| t.contains("SBI") || t.contains("楽天"))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn appended_notice_reaches_dunst_and_telegram() {
    let desktop = DesktopEnv::start();
    let _bus = use_bus(&desktop.address).await;
    let (dovecot, bot, state) = (
        Dovecot::start(),
        FakeBot::start().await,
        TempDir::new().unwrap(),
    );
    let cfg = config(&state, &dovecot, &bot, "alice", true);
    let daemon = Running::start(cfg, rules());
    tokio::time::sleep(Duration::from_secs(1)).await;
    let t0 = Instant::now();
    dovecot
        .append("alice", "INBOX", &sbi_withdrawal("1,200,000", "5678"))
        .await;
    let msgs = bot
        .wait_for("sendMessage", 1, Duration::from_secs(10))
        .await;
    let text = msgs[0].text.clone().unwrap_or_default();
    assert!(
        text.contains("SBI証券") && text.contains("1,200,000"),
        "{text}"
    );
    assert!(msgs[0].reply_markup.is_some(), "buttons expected");
    let toasts = desktop
        .wait_for_notifications(1, Duration::from_secs(10))
        .await;
    let t = toasts
        .iter()
        .find(|t| t.summary.contains("SBI証券"))
        .expect("toast");
    assert_eq!((t.app_name.as_str(), t.urgency), ("brokerwatch", Some(2)));
    assert!(
        t.summary.contains("1,200,000") && t.summary.contains("not expected"),
        "{}",
        t.summary
    );
    eprintln!("append → telegram+toast in {:?}", t0.elapsed());
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn ack_from_allowed_chat_stops_repeats_and_strangers_are_ignored() {
    let (dovecot, bot, state) = (
        Dovecot::start(),
        FakeBot::start().await,
        TempDir::new().unwrap(),
    );
    let mut cfg = config(&state, &dovecot, &bot, "bob", false);
    // NOTE: the config refuses repeats under a minute; the test shortens it after loading.
    cfg.escalation.get_mut(&Severity::Critical).unwrap().repeat = Some(Duration::from_secs(2));
    let db = cfg.db_path();
    let daemon = Running::start(cfg, rules());
    tokio::time::sleep(Duration::from_secs(1)).await;
    dovecot
        .append("bob", "INBOX", &sbi_withdrawal("300,000", "9999"))
        .await;
    wait_until("a repeat", Duration::from_secs(15), || {
        alert_texts(&bot).len() >= 2
    })
    .await;
    assert!(
        alert_texts(&bot).iter().any(|t| t.contains("Reminder 1")),
        "{:?}",
        alert_texts(&bot)
    );
    let store = Store::open(&db).unwrap();
    let id = store.unacked_alerts().unwrap()[0].id;
    bot.inject_message(STRANGER, &format!("/ack {id}"));
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(
        store.alert(id).unwrap().unwrap().acked_at.is_none(),
        "a stranger must not ack"
    );
    assert!(
        sent_to(&bot, STRANGER).is_empty(),
        "a stranger gets no answer"
    );
    bot.inject_message(CHAT, &format!("/ack {id}"));
    wait_until("the ack", Duration::from_secs(10), || {
        store.alert(id).unwrap().unwrap().acked_at.is_some()
    })
    .await;
    wait_until("the ack reply", Duration::from_secs(5), || {
        sent_to(&bot, CHAT)
            .iter()
            .any(|t| t.contains("acknowledged"))
    })
    .await;
    let after_ack = alert_texts(&bot).len();
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(
        alert_texts(&bot).len(),
        after_ack,
        "repeats continued after /ack"
    );
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn expectation_keeps_a_matching_notice_quiet_but_not_others() {
    let (dovecot, bot, state) = (
        Dovecot::start(),
        FakeBot::start().await,
        TempDir::new().unwrap(),
    );
    let cfg = config(&state, &dovecot, &bot, "carol", false);
    let store = Store::open(&cfg.db_path()).unwrap();
    let now = brokerwatch::store::now();
    store
        .add_expectation(
            "sbi",
            EventKind::Withdrawal,
            now - 10,
            now + 3600,
            Some("test"),
        )
        .unwrap();
    let daemon = Running::start(cfg, rules());
    tokio::time::sleep(Duration::from_secs(1)).await;
    dovecot
        .append("carol", "INBOX", &sbi_withdrawal("2,000,000", "1111"))
        .await;
    dovecot
        .append("carol", "INBOX", &rakuten_email_change())
        .await;
    wait_until("the rakuten alert", Duration::from_secs(10), || {
        alert_texts(&bot).iter().any(|t| t.contains("楽天"))
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        !alert_texts(&bot).iter().any(|t| t.contains("SBI")),
        "the expected withdrawal must stay off Telegram: {:?}",
        alert_texts(&bot)
    );
    let recent = store.recent_alerts(0).unwrap();
    assert!(
        recent
            .iter()
            .any(|a| a.kind == brokerwatch::alert::AlertKind::Expected
                && a.severity == brokerwatch::event::Severity::Info),
        "{recent:?}"
    );
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn telegram_outage_and_daemon_restart_delay_but_never_lose_an_alert() {
    let (dovecot, bot, state) = (
        Dovecot::start(),
        FakeBot::start().await,
        TempDir::new().unwrap(),
    );
    let cfg = config(&state, &dovecot, &bot, "alice", false);
    bot.down().await;
    let daemon = Running::start(cfg.clone(), rules());
    tokio::time::sleep(Duration::from_secs(1)).await;
    dovecot
        .append("alice", "INBOX", &sbi_withdrawal("700,000", "2222"))
        .await;
    let store = Store::open(&cfg.db_path()).unwrap();
    wait_until("the alert row", Duration::from_secs(10), || {
        !store.unacked_alerts().unwrap().is_empty()
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    daemon.stop().await;
    assert!(alert_texts(&bot).is_empty());
    bot.up().await;
    let daemon = Running::start(cfg, rules());
    wait_until("delivery after restart", Duration::from_secs(20), || {
        !alert_texts(&bot).is_empty()
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        alert_texts(&bot).len(),
        1,
        "delivered exactly once: {:?}",
        alert_texts(&bot)
    );
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn flood_and_server_errors_are_retried_as_the_api_asks() {
    let (dovecot, bot, state) = (
        Dovecot::start(),
        FakeBot::start().await,
        TempDir::new().unwrap(),
    );
    let cfg = config(&state, &dovecot, &bot, "bob", false);
    bot.fail_next_on("sendMessage", 1, Fault::RetryAfter(3));
    let daemon = Running::start(cfg, rules());
    tokio::time::sleep(Duration::from_secs(1)).await;
    dovecot
        .append("bob", "INBOX", &sbi_withdrawal("100,000", "3333"))
        .await;
    wait_until("delivery after 429", Duration::from_secs(20), || {
        !alert_texts(&bot).is_empty()
    })
    .await;
    let sends = bot.requests_for("sendMessage");
    let first = sends
        .iter()
        .find(|r| r.status == 429)
        .expect("a 429 was answered")
        .at;
    let ok = sends
        .iter()
        .find(|r| r.status == 200)
        .expect("then delivered")
        .at;
    let waited = ok.duration_since(first);
    assert!(
        waited >= Duration::from_millis(2900),
        "retry_after 3 s not honoured: {waited:?}"
    );
    eprintln!("429 retry_after=3 → resent after {waited:?}");
    bot.fail_next_on("sendMessage", 3, Fault::ServerError);
    dovecot
        .append("bob", "INBOX", &rakuten_email_change())
        .await;
    wait_until("delivery after 3×500", Duration::from_secs(60), || {
        alert_texts(&bot).iter().any(|t| t.contains("楽天"))
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let n = alert_texts(&bot)
        .iter()
        .filter(|t| t.contains("楽天"))
        .count();
    assert_eq!(n, 1, "delivered once after three 500s");
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_login_raises_cannot_watch_through_telegram() {
    let (dovecot, bot, state) = (
        Dovecot::start(),
        FakeBot::start().await,
        TempDir::new().unwrap(),
    );
    let mut cfg = config(&state, &dovecot, &bot, "carol", false);
    if let AccountSource::Imap(a) = &mut cfg.accounts[0].source {
        a.auth = brokerwatch::config::ImapAuth::Password(
            brokerwatch::config::secret::SecretSource::File(
                dovecot.password_file("wrong", "not-the-password"),
            ),
        );
    }
    let daemon = Running::start(cfg, rules());
    wait_until("the cannot-watch alert", Duration::from_secs(15), || {
        sent_to(&bot, CHAT)
            .iter()
            .any(|t| t.contains("cannot watch carol/INBOX") && t.contains("refuses the login"))
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let n = sent_to(&bot, CHAT)
        .iter()
        .filter(|t| t.contains("cannot watch"))
        .count();
    assert_eq!(n, 1, "one alert per outage, not one per retry");
    assert!(
        !sent_to(&bot, CHAT)
            .iter()
            .any(|t| t.contains("not-the-password")),
        "the password never reaches an alert"
    );
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn two_unexpected_steps_at_one_broker_raise_one_takeover_alert() {
    let (dovecot, bot, state) = (
        Dovecot::start(),
        FakeBot::start().await,
        TempDir::new().unwrap(),
    );
    let cfg = config(&state, &dovecot, &bot, "alice", false);
    let daemon = Running::start(cfg, rules());
    tokio::time::sleep(Duration::from_secs(1)).await;
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mail");
    let email_change = std::fs::read(fixtures.join("006-sbi-email-registered-eucjp.eml")).unwrap();
    dovecot.append("alice", "INBOX", &email_change).await;
    dovecot
        .append("alice", "INBOX", &sbi_withdrawal("5,000,000", "7777"))
        .await;
    wait_until("the takeover alert", Duration::from_secs(15), || {
        sent_to(&bot, CHAT)
            .iter()
            .any(|t| t.contains("Possible account takeover at SBI証券"))
    })
    .await;
    let texts = sent_to(&bot, CHAT);
    let t = texts
        .iter()
        .find(|t| t.contains("Possible account takeover"))
        .unwrap();
    let (a, b) = (
        t.find("e-mail address change").expect("step 1"),
        t.find("withdrawal").expect("step 2"),
    );
    assert!(a < b, "steps in order: {t}");
    dovecot
        .append("alice", "INBOX", &sbi_withdrawal("1,000", "7777"))
        .await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    let n = sent_to(&bot, CHAT)
        .iter()
        .filter(|t| t.contains("Possible account takeover"))
        .count();
    assert_eq!(n, 1, "one incident, one takeover alert");
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn scan_prints_json_per_matching_mail_and_consumes_nothing_without_alert() {
    let (dovecot, state) = (Dovecot::start(), TempDir::new().unwrap());
    dovecot
        .append("bob", "INBOX", &sbi_withdrawal("1,500,000", "4444"))
        .await;
    dovecot
        .append("bob", "INBOX", &rakuten_email_change())
        .await;
    dovecot
        .append(
            "bob",
            "INBOX",
            b"From: friend@example.jp\r\nSubject: lunch?\r\n\r\nnoon\r\n",
        )
        .await;
    let acct = dovecot.account("bob", TlsMode::Implicit);
    let Some(brokerwatch::config::secret::SecretSource::File(pw)) = acct.auth.password() else {
        panic!("file secret")
    };
    let cfg = state.path().join("config.yaml");
    std::fs::write(
        &cfg,
        format!(
            "authserv_ids: [mx.brokerwatch.test]\nstate_dir: state\naccounts:\n  - name: bob\n    imap:\n      host: localhost\n      port: {}\n      username: bob\n      password: {{file: {}}}\n      ca_file: {}\nsinks: {{desktop: {{enabled: false}}}}\n",
            acct.port,
            pw.display(),
            acct.ca_file.as_ref().unwrap().display()
        ),
    )
    .unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_brokerwatch"))
        .arg("-c")
        .arg(&cfg)
        .args(["scan", "--json"])
        .env("LC_ALL", "C.UTF-8")
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let objs: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(objs.len(), 2, "{objs:?}");
    assert_eq!(
        (objs[0]["uid"].as_u64(), objs[0]["mailbox"].as_str()),
        (Some(1), Some("bob/INBOX"))
    );
    assert_eq!(
        (objs[0]["broker"].as_str(), objs[0]["event"].as_str()),
        (Some("sbi"), Some("withdrawal"))
    );
    assert_eq!(objs[1]["event"].as_str(), Some("email_change"));
    assert!(
        !state.path().join("state").exists(),
        "scan without --alert keeps no state"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_notice_deleted_or_marked_read_by_another_client_raises_tampering() {
    let (dovecot, bot, state) = (
        Dovecot::start(),
        FakeBot::start().await,
        TempDir::new().unwrap(),
    );
    let mut cfg = config(&state, &dovecot, &bot, "carol", false);
    cfg.tamper_check = Duration::from_secs(1);
    let daemon = Running::start(cfg, rules());
    tokio::time::sleep(Duration::from_secs(1)).await;
    dovecot
        .append("carol", "INBOX", &sbi_withdrawal("900,000", "1212"))
        .await;
    dovecot
        .append("carol", "INBOX", &rakuten_email_change())
        .await;
    wait_until("both alerts", Duration::from_secs(15), || {
        alert_texts(&bot).len() >= 2
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        !sent_to(&bot, CHAT)
            .iter()
            .any(|t| t.contains("removed") || t.contains("marked read")),
        "brokerwatch's own reading must not look like tampering"
    );
    dovecot.expunge("carol", "INBOX", 1).await;
    dovecot.mark_seen("carol", "INBOX", 2).await;
    wait_until("both tampering alerts", Duration::from_secs(15), || {
        let t = sent_to(&bot, CHAT);
        t.iter()
            .any(|t| t.contains("A notice from SBI証券 was removed from your mailbox"))
            && t.iter().any(|t| {
                t.contains("A notice from 楽天証券 was marked read by another mail client")
            })
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let n = sent_to(&bot, CHAT)
        .iter()
        .filter(|t| t.contains("was removed") || t.contains("marked read"))
        .count();
    assert_eq!(n, 2, "one tampering alert per notice");
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn notices_in_a_japanese_folder_and_in_junk_alert_and_a_missing_folder_is_cannot_watch() {
    use brokerwatch::source::imap::mutf7;
    let (dovecot, bot, state) = (
        Dovecot::start(),
        FakeBot::start().await,
        TempDir::new().unwrap(),
    );
    let jp = "[Gmail]/迷惑メール";
    dovecot.create_mailbox("carol", &mutf7::encode(jp)).await;
    dovecot.create_mailbox("carol", "Junk").await;
    let mut cfg = config(&state, &dovecot, &bot, "carol", false);
    if let AccountSource::Imap(a) = &mut cfg.accounts[0].source {
        a.mailboxes = vec![jp.into(), "\\Junk".into(), "Überweisungen".into()];
    }
    let daemon = Running::start(cfg, rules());
    wait_until("the cannot-watch alert", Duration::from_secs(15), || {
        sent_to(&bot, CHAT).iter().any(|t| {
            t.contains("cannot watch carol/Überweisungen") && t.contains("Mailbox doesn't exist")
        })
    })
    .await;
    dovecot
        .append(
            "carol",
            &mutf7::encode(jp),
            &sbi_withdrawal("3,100,000", "1111"),
        )
        .await;
    dovecot
        .append("carol", "Junk", &sbi_withdrawal("4,200,000", "2222"))
        .await;
    wait_until("an alert for each folder", Duration::from_secs(20), || {
        let texts = sent_to(&bot, CHAT);
        ["3,100,000", "4,200,000"]
            .iter()
            .all(|amount| texts.iter().any(|t| t.contains(amount)))
    })
    .await;
    let n = sent_to(&bot, CHAT)
        .iter()
        .filter(|t| t.contains("cannot watch"))
        .count();
    assert_eq!(n, 1, "only the missing folder cannot be watched");
    daemon.stop().await;
}
