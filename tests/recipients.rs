//! Recipients with roles and quiet hours, against the fake Bot API and the fake ntfy server:
//! a spouse who gets only critical alerts, a person who watches one account, an acknowledgement
//! by one that stops the repeats for all and is told to the others, commands from a chat that
//! is no recipient's, and quiet hours holding a warning for a summary while a critical goes at once.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use brokerwatch::alert::Response;
use brokerwatch::alert::language::Language;
use brokerwatch::alert::outbox::{Outbox, Sinks};
use brokerwatch::alert::raise::{Draft, raise};
use brokerwatch::config::live::Live;
use brokerwatch::config::{self, AccountSource, Config, TlsMode};
use brokerwatch::event::Severity;
use brokerwatch::rules;
use brokerwatch::store::Store;
use tempfile::TempDir;
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;

use crate::daemon::{Running, rakuten_email_change, sent_to, wait_until};
use crate::util::dovecot::Dovecot;
use crate::util::fakebot::{FakeBot, TOKEN};
use crate::util::fakentfy::FakeNtfy;
use crate::util::fixtures;

const HANAKO: i64 = 1001;
const TARO: i64 = 1002;
const STRANGER: i64 = 666;

/// Hanako watches alice's mailbox and gets everything about it, on Telegram and ntfy; Taro,
/// her husband, gets every critical alert, on Telegram.
fn family(state: &TempDir, bot: &FakeBot, ntfy: &FakeNtfy, extra: &str) -> Config {
    let token = state.path().join("token");
    std::fs::write(&token, TOKEN).unwrap();
    let yaml = format!(
        "authserv_ids: [mx.brokerwatch.test]\n\
         state_dir: {state}\n\
         accounts:\n\
         \x20 - {{name: alice, maildir: unused-a}}\n\
         \x20 - {{name: bob, maildir: unused-b}}\n\
         sinks:\n\
         \x20 desktop: {{enabled: false}}\n\
         \x20 telegram: {{token: {{file: {token}}}, api_url: '{bot}'}}\n\
         \x20 ntfy: {{url: '{ntfy}'}}\n\
         recipients:\n\
         \x20 - {{name: Hanako, telegram: {HANAKO}, ntfy: hanako, accounts: [alice], language: en}}\n\
         \x20 - {{name: Taro, telegram: {TARO}, gets: critical, language: ja}}\n\
         {extra}",
        state = state.path().join("state").display(),
        token = token.display(),
        bot = bot.url(),
        ntfy = ntfy.url(),
    );
    config::load_str(&yaml, "family.yaml", state.path()).unwrap_or_else(|p| panic!("{p}"))
}

fn published_to(ntfy: &FakeNtfy, topic: &str) -> Vec<String> {
    ntfy.published()
        .iter()
        .filter(|m| m["topic"] == topic)
        .map(|m| format!("{}\n{}", m["title"], m["message"]))
        .collect()
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixtures().join("mail").join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn count(texts: &[String], needle: &str) -> usize {
    texts.iter().filter(|t| t.contains(needle)).count()
}

/// Starts [`family`] (with `extra` configuration) on a real Dovecot, critical repeats every 8 s:
/// the state dir (first, so that it goes last), the harness, the fakes, the daemon, its database.
async fn household(extra: &str) -> (TempDir, Dovecot, FakeBot, FakeNtfy, Running, PathBuf) {
    let (dovecot, bot, ntfy, state) = (
        Dovecot::start(),
        FakeBot::start().await,
        FakeNtfy::start(None).await,
        TempDir::new().unwrap(),
    );
    let mut cfg = family(&state, &bot, &ntfy, extra);
    // The recipients name the accounts; the mailboxes behind them are the harness's.
    for a in &mut cfg.accounts {
        a.source = AccountSource::Imap(dovecot.account(&a.name, TlsMode::Implicit));
    }
    // NOTE: the config refuses repeats under a minute; the first repeat comes this soon.
    cfg.escalation.get_mut(&Severity::Critical).unwrap().repeat = Some(Duration::from_secs(8));
    let db = cfg.db_path();
    let daemon = Running::start(cfg, rules::load(true, &[]).expect("shipped rules"));
    tokio::time::sleep(Duration::from_secs(1)).await;
    (state, dovecot, bot, ntfy, daemon, db)
}

#[tokio::test(flavor = "multi_thread")]
async fn each_person_gets_their_alerts_and_an_ack_by_one_is_told_to_the_other() {
    let (_state, dovecot, bot, ntfy, daemon, db) = household("").await;

    // One broker each, so that no two steps make a takeover alert (which goes to everyone).
    dovecot
        .append("alice", "INBOX", &fixture("008-sbi-login-detected-qp.eml"))
        .await;
    dovecot
        .append("alice", "INBOX", &fixture("036-monex-withdrawal.eml"))
        .await;
    dovecot
        .append("bob", "INBOX", &rakuten_email_change())
        .await;
    let store = Store::open(&db).unwrap();
    let mut rows = Vec::new();
    wait_until("three alerts", Duration::from_secs(20), || {
        let alerts = store.unacked_alerts().unwrap();
        let row = |broker: &str| {
            alerts
                .iter()
                .find(|a| a.broker.as_deref() == Some(broker))
                .cloned()
        };
        match (row("sbi"), row("monex"), row("rakuten")) {
            (Some(l), Some(w), Some(e)) => {
                rows = vec![l, w, e];
                true
            }
            _ => false,
        }
    })
    .await;
    // Each person reads the alerts in their own language: Hanako English, Taro Japanese.
    let titles =
        |lang| -> Vec<String> { rows.iter().map(|a| a.title_in(lang).to_string()).collect() };
    let [login, withdrawal, email] = <[String; 3]>::try_from(titles(Language::En)).unwrap();
    let [login_ja, withdrawal_ja, email_ja] =
        <[String; 3]>::try_from(titles(Language::Ja)).unwrap();
    wait_until("every alert delivered", Duration::from_secs(20), || {
        let (h, t) = (sent_to(&bot, HANAKO), sent_to(&bot, TARO));
        count(&h, &login) == 1
            && count(&h, &withdrawal) == 1
            && count(&t, &withdrawal_ja) == 1
            && count(&t, &email_ja) == 1
            && published_to(&ntfy, "hanako").len() == 2
    })
    .await;
    let (h, t) = (sent_to(&bot, HANAKO), sent_to(&bot, TARO));
    assert_eq!(
        count(&h, &email),
        0,
        "bob's mailbox is not Hanako's: {h:#?}"
    );
    assert_eq!(
        count(&t, &login_ja),
        0,
        "a login is a warning; Taro gets critical only: {t:#?}"
    );
    let topic = published_to(&ntfy, "hanako");
    assert_eq!(
        (count(&topic, &login), count(&topic, &withdrawal)),
        (1, 1),
        "{topic:#?}"
    );

    let id = store
        .unacked_alerts()
        .unwrap()
        .into_iter()
        .find(|a| a.broker.as_deref() == Some("monex"))
        .expect("alice's withdrawal alert")
        .id;
    // A chat that is no recipient's is refused, and gets no answer.
    bot.inject_message(STRANGER, &format!("/ack {id}"));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(store.alert(id).unwrap().unwrap().acked_at.is_none());
    assert!(sent_to(&bot, STRANGER).is_empty());

    bot.inject_message(HANAKO, &format!("/ack {id}"));
    wait_until(
        "Taro told who acknowledged",
        Duration::from_secs(10),
        || {
            sent_to(&bot, TARO)
                .iter()
                .any(|t| t.contains("Hanakoさんが確認済み") && t.contains(&format!("#{id}")))
        },
    )
    .await;
    let acked = store.alert(id).unwrap().unwrap();
    assert_eq!(
        acked.acked_by.as_deref(),
        Some("Hanako"),
        "given in the recipient's name"
    );
    wait_until("Hanako's ntfy told too", Duration::from_secs(10), || {
        count(&published_to(&ntfy, "hanako"), "Acknowledged by Hanako") == 1
    })
    .await;
    let h = sent_to(&bot, HANAKO);
    assert_eq!(count(&h, "acknowledged by Hanako"), 1, "the reply: {h:#?}");
    assert_eq!(
        count(&h, "Acknowledged by Hanako"),
        0,
        "no notice back to her own chat: {h:#?}"
    );

    // Unacknowledged, the first repeat would come 8 s after the alert: none comes for either,
    // while bob's alert, not acknowledged, repeats.
    wait_until("bob's alert repeating", Duration::from_secs(15), || {
        count(&sent_to(&bot, TARO), &email_ja) >= 2
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        count(&sent_to(&bot, HANAKO), &withdrawal),
        1,
        "no repeat for Hanako"
    );
    assert_eq!(
        count(&sent_to(&bot, TARO), &withdrawal_ja),
        2,
        "Taro: the alert and the notice, no repeat: {:#?}",
        sent_to(&bot, TARO)
    );
    assert_eq!(
        count(&published_to(&ntfy, "hanako"), &withdrawal),
        2,
        "alert and notice"
    );
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn quiet_hours_hold_a_warning_for_the_summary_while_a_critical_goes_at_once() {
    let (bot, ntfy, state) = (
        FakeBot::start().await,
        FakeNtfy::start(None).await,
        TempDir::new().unwrap(),
    );
    // A window that started a minute ago and ends in 8 s, on the UTC clock.
    let now = chrono::Utc::now();
    let clock = |t: chrono::DateTime<chrono::Utc>| t.format("%H:%M:%S").to_string();
    let quiet = format!(
        "quiet_hours: {{from: '{}', to: '{}', utc_offset: '+00:00'}}\n",
        clock(now - chrono::Duration::seconds(60)),
        clock(now + chrono::Duration::seconds(8)),
    );
    let cfg = family(&state, &bot, &ntfy, &quiet);
    std::fs::create_dir_all(&cfg.state_dir).unwrap();
    let store = Store::open(&cfg.db_path()).unwrap();
    let wake = Arc::new(Notify::new());
    let (stop, running) = start_outbox(&cfg, &store, &wake);

    let alert = |severity, title: &str| Draft {
        actionable: true,
        account: Some("alice".into()),
        ..Draft::health(severity, title.into(), "body".into())
    };
    let warning = raise(
        &store,
        &cfg,
        &wake,
        alert(Severity::Warning, "SBI証券: ログイン"),
    )
    .unwrap();
    raise(
        &store,
        &cfg,
        &wake,
        alert(Severity::Critical, "SBI証券: 出金 ¥900,000"),
    )
    .unwrap();
    wait_until(
        "the critical alert, at once",
        Duration::from_secs(3),
        || count(&sent_to(&bot, HANAKO), "出金") == 1 && count(&sent_to(&bot, TARO), "出金") == 1,
    )
    .await;
    assert_eq!(
        count(&sent_to(&bot, HANAKO), "ログイン"),
        0,
        "held in quiet hours"
    );
    assert_eq!(
        count(&published_to(&ntfy, "hanako"), "ログイン"),
        0,
        "held on ntfy too"
    );
    let status = brokerwatch::watch::status::report(&cfg, &store).unwrap();
    assert!(
        status.contains(&format!("#{warning} [")) && status.contains("ログイン"),
        "status lists the held alert: {status}"
    );

    // A restart while alerts are held loses none of them.
    stop.cancel();
    running.await.unwrap();
    let (stop, running) = start_outbox(&cfg, &store, &wake);
    wait_until(
        "the summary after the window",
        Duration::from_secs(15),
        || {
            count(&sent_to(&bot, HANAKO), "held during quiet hours") == 1
                && count(&published_to(&ntfy, "hanako"), "held during quiet hours") == 1
        },
    )
    .await;
    let h = sent_to(&bot, HANAKO);
    let summary = h
        .iter()
        .find(|t| t.contains("held during quiet hours"))
        .unwrap();
    assert!(
        summary.contains(&format!("#{warning} ")) && summary.contains("ログイン"),
        "{summary}"
    );
    assert_eq!(
        count(&h, "ログイン"),
        1,
        "the warning only in the summary: {h:#?}"
    );
    assert!(
        sent_to(&bot, TARO).iter().all(|t| !t.contains("ログイン")),
        "Taro gets critical only, summaries included"
    );
    // The fakes have the summaries once they are sent; the outbox records each a moment later.
    wait_until(
        "no alert held after the summaries",
        Duration::from_secs(5),
        || {
            let status = brokerwatch::watch::status::report(&cfg, &store).unwrap();
            !status.contains("Held for the quiet-hours summary")
        },
    )
    .await;
    stop.cancel();
    running.await.unwrap();
}

/// A Japanese household's configuration with an English-speaking recipient (Hanako): one
/// notice reaches each person in their own language, on every channel, in its first delivery
/// and in its repeat; the alert as stored (what `status` shows) is in the configuration's.
#[tokio::test(flavor = "multi_thread")]
async fn each_person_reads_the_alert_and_its_repeat_in_their_own_language() {
    let (_state, dovecot, bot, ntfy, daemon, db) = household("language: ja\n").await;
    dovecot
        .append("alice", "INBOX", &fixture("036-monex-withdrawal.eml"))
        .await;
    let store = Store::open(&db).unwrap();
    let mut alert = None;
    wait_until("the withdrawal alert", Duration::from_secs(20), || {
        alert = store.unacked_alerts().unwrap().into_iter().next();
        alert.is_some()
    })
    .await;
    let alert = alert.unwrap();
    let (ja, en) = (alert.title_in(Language::Ja), alert.title_in(Language::En));
    assert_eq!(alert.title, ja, "stored in the configuration's language");
    assert_ne!(ja, en, "composed in each language");
    let (repeat_ja, repeat_en) = (
        format!("【再通知 1回目・未確認】{ja}"),
        format!("Reminder 1: {en}"),
    );
    wait_until(
        "the alert and its repeat to each",
        Duration::from_secs(25),
        || {
            count(&sent_to(&bot, TARO), &repeat_ja) == 1
                && count(&sent_to(&bot, HANAKO), &repeat_en) == 1
                && count(&published_to(&ntfy, "hanako"), &repeat_en) == 1
        },
    )
    .await;
    let (h, t) = (sent_to(&bot, HANAKO), sent_to(&bot, TARO));
    assert_eq!(count(&t, ja), 2, "Taro, in Japanese: {t:#?}");
    assert_eq!(count(&t, en), 0, "{t:#?}");
    assert_eq!(count(&t, "確認済みにするには /ack"), 2, "{t:#?}");
    assert_eq!(count(&h, en), 2, "Hanako, in English: {h:#?}");
    assert_eq!(count(&h, ja), 0, "{h:#?}");
    assert_eq!(count(&h, "acknowledge with /ack"), 2, "{h:#?}");
    let topic = published_to(&ntfy, "hanako");
    assert_eq!(
        (count(&topic, en), count(&topic, ja)),
        (2, 0),
        "Hanako's ntfy topic, in English: {topic:#?}"
    );
    daemon.stop().await;
}

/// The daemon's outbox on `store`, running until told to stop.
fn start_outbox(
    cfg: &Config,
    store: &Store,
    wake: &Arc<Notify>,
) -> (CancellationToken, tokio::task::JoinHandle<()>) {
    let (tx, _rx) = mpsc::channel::<Response>(1);
    let (sinks, error) = Sinks::from_config(cfg, tx);
    assert!(error.is_none());
    let mut outbox = Outbox::new(store.clone(), sinks, wake.clone());
    let rules = rules::load(true, &[]).unwrap();
    outbox.live = Some(Live::new(Arc::new(cfg.clone()), Arc::new(rules)));
    let stop = CancellationToken::new();
    let stop_rx = stop.clone();
    let running = tokio::spawn(async move { outbox.run(stop_rx).await });
    (stop, running)
}
