//! Telegram faults against the whole daemon (in-process, real Dovecot, fake Bot API): an API that
//! accepts connections and never answers, and a long outage. 500 and 429 are in tests/daemon.rs
//! and tests/telegram.rs.
//!
//! `BW_OUTAGE_SECS` (default 30) sets the outage.

use std::path::Path;
use std::time::{Duration, Instant};

use brokerwatch::rules::{self, RuleSet};
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use tempfile::TempDir;

use crate::daemon::{Running, config, rakuten_email_change, sbi_withdrawal};
use crate::util::dovecot::Dovecot;
use crate::util::fakebot::FakeBot;
use crate::util::wait::eventually;

fn rules() -> RuleSet {
    rules::load(true, &[]).expect("shipped rules")
}

fn open_ro(db: &Path) -> Option<Connection> {
    Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY).ok()
}

/// The id of the alert about `broker`, once recorded.
fn alert_of(db: &Path, broker: &str) -> Option<i64> {
    open_ro(db)?
        .query_row(
            "SELECT id FROM alerts WHERE broker=?1 AND kind='unexpected'",
            [broker],
            |r| r.get(0),
        )
        .optional()
        .ok()
        .flatten()
}

/// (state, attempts, last_error) of an alert's delivery to `sink`.
fn delivery(db: &Path, alert: i64, sink: &str) -> Option<(String, i64, Option<String>)> {
    open_ro(db)?
        .query_row(
            "SELECT state, attempts, last_error FROM deliveries WHERE alert=?1 AND sink=?2 AND round=0",
            rusqlite::params![alert, sink],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()
        .ok()
        .flatten()
}

/// Accepted messages carrying alert `id`'s buttons.
fn sent_for(bot: &FakeBot, id: i64) -> Vec<crate::util::fakebot::Recorded> {
    let ack = format!("ack:{id}");
    bot.delivered()
        .into_iter()
        .filter(|r| {
            r.reply_markup
                .as_ref()
                .is_some_and(|m| m.to_string().contains(&format!("\"{ack}\"")))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hanging_bot_api_times_out_is_retried_and_holds_up_nothing_else() {
    let (dovecot, bot, state) = (
        Dovecot::start(),
        FakeBot::start().await,
        TempDir::new().unwrap(),
    );
    let cfg = config(&state, &dovecot, &bot, "alice", false);
    let db = cfg.db_path();
    bot.hang(Some("sendMessage"));
    let daemon = Running::start(cfg, rules());
    tokio::time::sleep(Duration::from_secs(1)).await;
    dovecot
        .append("alice", "INBOX", &sbi_withdrawal("800,000", "8080"))
        .await;
    let sbi = eventually("the SBI alert", Duration::from_secs(15), || {
        alert_of(&db, "sbi")
    })
    .await;
    eventually("a hung sendMessage", Duration::from_secs(15), || {
        (!bot.hung("sendMessage").is_empty()).then_some(())
    })
    .await;

    // While that request hangs, mail is still read and the other sinks still deliver.
    dovecot
        .append("alice", "INBOX", &rakuten_email_change())
        .await;
    let rakuten = eventually("the Rakuten alert", Duration::from_secs(15), || {
        alert_of(&db, "rakuten")
    })
    .await;
    eventually(
        "the Rakuten alert on the console",
        Duration::from_secs(15),
        || delivery(&db, rakuten, "console").filter(|d| d.0 == "sent"),
    )
    .await;
    assert_eq!(
        (bot.hung("sendMessage").len(), bot.delivered().len()),
        (1, 0),
        "the console delivery of a new alert waited for the hung Telegram request"
    );

    // The hung request is given up (the client timeout), recorded as such, and retried.
    let (_, attempts, error) = eventually(
        "the first attempt to time out",
        Duration::from_secs(40),
        || delivery(&db, sbi, "telegram").filter(|d| d.1 >= 1),
    )
    .await;
    let error = error.unwrap_or_default();
    assert!(error.contains("did not answer"), "{attempts}: {error}");
    eventually("a retry after the timeout", Duration::from_secs(40), || {
        (bot.hung("sendMessage").len() >= 2).then_some(())
    })
    .await;

    bot.stop_hanging();
    let answered = Instant::now();
    for id in [sbi, rakuten] {
        eventually(
            "delivery once the API answers",
            Duration::from_secs(90),
            || (!sent_for(&bot, id).is_empty()).then_some(()),
        )
        .await;
    }
    let delay = answered.elapsed();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let hung = bot.hung("sendMessage").len();
    let (sbi_sent, rakuten_sent) = (sent_for(&bot, sbi).len(), sent_for(&bot, rakuten).len());
    eprintln!(
        "hang: {hung} sendMessage request(s) hung, then both alerts delivered {delay:?} after the API answered again ({sbi_sent} + {rakuten_sent} accepted)"
    );
    assert_eq!(
        (sbi_sent, rakuten_sent),
        (1, 1),
        "each alert delivered exactly once"
    );
    let (state_, attempts, _) = delivery(&db, sbi, "telegram").expect("delivery row");
    assert_eq!(state_, "sent");
    assert!(attempts >= 2, "delivered on a retry: {attempts} attempt(s)");
    daemon.stop().await;
}

/// How many attempts fit in `window` seconds if attempt `k` (from 0) is followed by `delay(k)`.
fn attempts_within(window: f64, delay: impl Fn(u32) -> f64) -> u32 {
    let (mut at, mut n) = (0.0, 1);
    loop {
        at += delay(n - 1);
        if at > window {
            return n;
        }
        n += 1;
    }
}

/// (sum of attempts, rows) of the first-round Telegram deliveries still pending.
fn telegram_attempts(db: &Path) -> (i64, i64) {
    open_ro(db)
        .and_then(|c| {
            c.query_row(
                "SELECT COALESCE(SUM(attempts), 0), COUNT(*) FROM deliveries
                 WHERE sink='telegram' AND round=0 AND state='pending'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .ok()
        })
        .unwrap_or((0, 0))
}

/// Regression (issue 15): with a backoff per alert, 30 s of refused connections made 197
/// sendMessage calls and draining afterwards took 32 s. The chat is now paused as a whole,
/// probed by one delivery at a time, and drained at once when a probe goes through.
#[tokio::test(flavor = "multi_thread")]
async fn a_long_telegram_outage_is_probed_a_few_times_and_drained_at_once_after_it() {
    let outage = Duration::from_secs(
        std::env::var("BW_OUTAGE_SECS")
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(30),
    );
    let (dovecot, bot, state) = (
        Dovecot::start(),
        FakeBot::start().await,
        TempDir::new().unwrap(),
    );
    let cfg = config(&state, &dovecot, &bot, "bob", false);
    let db = cfg.db_path();
    bot.down().await;
    let down_at = Instant::now();
    let daemon = Running::start(cfg, rules());
    tokio::time::sleep(Duration::from_secs(1)).await;
    dovecot
        .append("bob", "INBOX", &sbi_withdrawal("450,000", "4545"))
        .await;
    let sbi = eventually("the SBI alert", Duration::from_secs(15), || {
        alert_of(&db, "sbi")
    })
    .await;
    let first_alert_at = Instant::now();
    tokio::time::sleep(outage / 2).await;
    dovecot
        .append("bob", "INBOX", &rakuten_email_change())
        .await;
    let rakuten = eventually("the Rakuten alert", Duration::from_secs(15), || {
        alert_of(&db, "rakuten")
    })
    .await;
    tokio::time::sleep(outage.saturating_sub(down_at.elapsed())).await;

    let (probes, queued) = telegram_attempts(&db);
    let (_, _, last_error) = delivery(&db, sbi, "telegram").expect("row");
    let window = first_alert_at.elapsed().as_secs_f64();
    bot.up().await;
    let up_at = Instant::now();
    // Pauses start at 2 s and double up to 10 s, each within ±25 %; one probe per pause for
    // the chat, however many alerts wait for it.
    let at_most = attempts_within(window + 1.0, |k| (1.5 * 2f64.powi(k as i32)).min(7.5));
    eprintln!(
        "outage: {outage:?} down; {queued} alert(s) queued for the chat, {probes} probe(s) in \
         {window:.0} s (allowed 1..={at_most}); last error: {}",
        last_error.as_deref().unwrap_or("-")
    );
    assert_eq!(queued, 2, "both alerts wait, none given up");
    assert!(
        (1..=at_most as i64).contains(&probes),
        "{probes} attempts in {window:.0} s for one chat: expected at most {at_most}"
    );

    let mut arrived = Vec::new();
    for id in [sbi, rakuten] {
        let first = eventually("delivery after the outage", Duration::from_secs(30), || {
            sent_for(&bot, id).first().map(|r| r.at)
        })
        .await;
        arrived.push(first.saturating_duration_since(up_at));
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let counts = (sent_for(&bot, sbi).len(), sent_for(&bot, rakuten).len());
    eprintln!(
        "outage: delivered {:?} / {:?} after the API returned; accepted {} + {}",
        arrived[0], arrived[1], counts.0, counts.1,
    );
    assert_eq!(counts, (1, 1), "each alert delivered exactly once");
    let last = arrived.iter().max().copied().unwrap_or_default();
    assert!(
        last <= Duration::from_secs(12),
        "the queue drained {last:?} after the API returned (longest pause is 10 s)"
    );
    let spread = last.saturating_sub(arrived.iter().min().copied().unwrap_or_default());
    assert!(
        spread <= Duration::from_secs(2),
        "drained at once after the probe, not one alert per pause: {spread:?}"
    );
    daemon.stop().await;
}
