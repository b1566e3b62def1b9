//! Trades against the trading profile, end to end: the 2025 takeover (a login, a sale of a NISA
//! holding, a buy of a Hong Kong stock) through a real Dovecot to the fake Telegram, and
//! `brokerwatch profile` learning the profile that a year of trade mails was generated from.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use brokerwatch::rules;
use brokerwatch::store::Store;
use tempfile::TempDir;

use crate::daemon::{CHAT, Running, config, sent_to, wait_until};
use crate::util::dovecot::Dovecot;
use crate::util::fakebot::FakeBot;
use crate::util::fixtures;
use crate::util::proc::command;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixtures().join("mail").join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// "Monthly fund 積立 only": buys of one fund in the つみたて投資枠.
const TSUMITATE_ONLY: &str = "trading_profile:\n  sides: [buy]\n  instruments: ['eMAXIS Slim']\n  account_types: [nisa_tsumitate]\n";

#[tokio::test(flavor = "multi_thread")]
async fn the_2025_takeover_raises_one_takeover_alert_and_the_accumulation_stays_quiet() {
    let (dovecot, bot, state) = (
        Dovecot::start(),
        FakeBot::start().await,
        TempDir::new().unwrap(),
    );
    let mut cfg = config(&state, &dovecot, &bot, "alice", false);
    let profile = brokerwatch::config::load_str(TSUMITATE_ONLY, "p.yaml", state.path())
        .unwrap_or_else(|p| panic!("{p}"));
    cfg.trading_profile = profile.trading_profile;
    let db = cfg.db_path();
    let daemon = Running::start(cfg, rules::load(true, &[]).expect("shipped rules"));
    tokio::time::sleep(Duration::from_secs(1)).await;

    // The matching 積立 execution first: it must raise nothing.
    dovecot
        .append(
            "alice",
            "INBOX",
            &fixture("607-sbi-fund-accumulation-executed.eml"),
        )
        .await;
    dovecot
        .append("alice", "INBOX", &fixture("008-sbi-login-detected-qp.eml"))
        .await;
    wait_until("the login alert", Duration::from_secs(15), || {
        sent_to(&bot, CHAT).iter().any(|t| t.contains("ログイン"))
    })
    .await;
    dovecot
        .append("alice", "INBOX", &fixture("602-sbi-executed-nisa-sell.eml"))
        .await;
    wait_until("the takeover alert", Duration::from_secs(15), || {
        sent_to(&bot, CHAT)
            .iter()
            .any(|t| t.contains("being traded by someone else"))
    })
    .await;
    dovecot
        .append("alice", "INBOX", &fixture("604-sbi-hk-stock-executed.eml"))
        .await;
    // The HK buy joins the open trade alert (one alert per burst, not per fill).
    let store = Store::open(&db).unwrap();
    wait_until(
        "the HK buy joining the sale's alert",
        Duration::from_secs(15),
        || {
            store
                .unacked_alerts()
                .unwrap()
                .iter()
                .any(|a| a.event.as_deref() == Some("trade") && a.body.contains("00700"))
        },
    )
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let texts = sent_to(&bot, CHAT);
    let takeover: Vec<&String> = texts
        .iter()
        .filter(|t| t.contains("being traded by someone else"))
        .collect();
    assert_eq!(takeover.len(), 1, "one takeover alert: {texts:#?}");
    let t = takeover[0];
    let (login, sale) = (
        t.find("1. login").expect("the login step"),
        t.find("2. trade").expect("the sale step"),
    );
    assert!(login < sale, "steps in order: {t}");
    assert!(
        t.contains("0120-104-214"),
        "the lock-the-account number: {t}"
    );
    let trades: Vec<&String> = texts
        .iter()
        .filter(|t| t.contains("not in your trading profile"))
        .collect();
    assert_eq!(trades.len(), 1, "one trade alert for the burst: {texts:#?}");
    assert!(
        trades[0].contains("売却") && trades[0].contains("7974"),
        "{}",
        trades[0]
    );
    assert!(
        !texts.iter().any(|t| t.contains("eMAXIS")),
        "the matching 積立 execution raised something: {texts:#?}"
    );
    let alerts = store.unacked_alerts().unwrap();
    assert_eq!(
        alerts
            .iter()
            .filter(|a| a.event.as_deref() == Some("trade"))
            .count(),
        1,
        "{alerts:#?}"
    );
    daemon.stop().await;
}

/// An SBI 約定通知 as the shipped pack reads it (the fixtures' layout), sent at `at`.
fn sbi_trade(
    n: usize,
    at: i64,
    instrument: &str,
    code: &str,
    deal: &str,
    account: &str,
    amount: &str,
) -> String {
    let date = rfc2822_jst(at);
    format!(
        "Authentication-Results: mx.brokerwatch.test; dkim=pass header.d=sbisec.co.jp; dmarc=pass header.from=sbisec.co.jp\r\n\
         Received: from psmtp01.sbisec.co.jp (psmtp01.sbisec.co.jp [203.0.113.5]) by mx.brokerwatch.test with ESMTPS id p{n}; {date}\r\n\
         From: alert_master@sbisec.co.jp\r\n\
         To: user@example.jp\r\n\
         Subject: [SBI証券]約定通知／注文番号：{n}\r\n\
         Date: {date}\r\n\
         Message-ID: <profile-{n}@sbisec.co.jp>\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=UTF-8\r\n\
         Content-Transfer-Encoding: 8bit\r\n\r\n\
         ご注文が約定しました。\r\n\r\n注文番号：{n}\r\n銘柄：{instrument}（{code}）\r\n市場：東証\r\n取引：{deal}\r\n預り区分：{account}\r\n約定数量：1口\r\n約定金額：{amount}円\r\n"
    )
}

/// RFC 5322 date in JST for epoch seconds.
fn rfc2822_jst(at: i64) -> String {
    let jst = chrono::FixedOffset::east_opt(9 * 3600).unwrap();
    chrono::DateTime::from_timestamp(at, 0)
        .unwrap()
        .with_timezone(&jst)
        .to_rfc2822()
}

fn write_mail(dir: &Path, n: usize, at: i64, raw: &str) -> PathBuf {
    let p = dir.join(format!("{at}.M{n}P1.profile:2,S"));
    std::fs::write(&p, raw).unwrap();
    let f = std::fs::File::options().write(true).open(&p).unwrap();
    f.set_modified(UNIX_EPOCH + Duration::from_secs(at as u64))
        .unwrap();
    p
}

#[test]
fn profile_proposes_the_profile_a_year_of_trade_mails_was_made_from() {
    let dir = TempDir::new().unwrap();
    let maildir = dir.path().join("mail");
    for sub in ["new", "cur", "tmp"] {
        std::fs::create_dir_all(maildir.join(sub)).unwrap();
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    // A year of it: the 積立 fund on the 1st of each month (つみたて投資枠), and an ETF bought
    // every quarter (特定預り). Generated from this profile; nothing else.
    let mut mails = Vec::new();
    for month in 0..12 {
        let at = now - (month * 30 + 3) * 86_400;
        let raw = sbi_trade(
            mails.len(),
            at,
            "eMAXIS Slim 全世界株式",
            "0331418A",
            "積立買付",
            "NISA預り（つみたて投資枠）",
            "33,333",
        );
        mails.push(write_mail(&maildir.join("cur"), mails.len(), at, &raw));
        if month % 3 == 0 {
            let at = at + 3600;
            let raw = sbi_trade(
                mails.len(),
                at,
                "TOPIX連動型上場投資信託",
                "1306",
                "現物買",
                "特定預り",
                "280,000",
            );
            mails.push(write_mail(&maildir.join("cur"), mails.len(), at, &raw));
        }
    }
    let cfg = dir.path().join("config.yaml");
    let base = format!(
        "authserv_ids: [mx.brokerwatch.test]\nstate_dir: {}\naccounts:\n  - name: home\n    maildir: {}\n",
        dir.path().join("state").display(),
        maildir.display()
    );
    std::fs::write(&cfg, &base).unwrap();
    let out = command(dir.path())
        .arg("--config")
        .arg(&cfg)
        .args(["profile", "--since", "1y"])
        .output()
        .unwrap();
    let yaml = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{yaml}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(yaml.contains("from 16 trade notice(s)"), "{yaml}");
    assert!(yaml.contains("sides: [buy]"), "{yaml}");
    assert!(yaml.contains("markets: [JP]"), "{yaml}");
    assert!(
        yaml.contains("- 'eMAXIS Slim 全世界株式'") && yaml.contains("- '1306'"),
        "{yaml}"
    );
    assert!(
        yaml.contains("account_types: [nisa_tsumitate, specific]"),
        "{yaml}"
    );
    assert!(yaml.contains("max_amount: 340000"), "{yaml}");
    assert!(
        !dir.path().join("state").exists(),
        "profile touched the daemon's state"
    );

    // The proposal, pasted into the config, accepts every mail it was learned from and flags
    // a sale.
    std::fs::write(&cfg, format!("{base}{yaml}")).unwrap();
    let check = command(dir.path())
        .arg("--config")
        .arg(&cfg)
        .arg("check")
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    let sale = write_mail(
        dir.path(),
        99,
        now,
        &sbi_trade(
            99,
            now,
            "任天堂",
            "7974",
            "現物売",
            "NISA預り（成長投資枠）",
            "912,000",
        ),
    );
    let out = command(dir.path())
        .arg("--config")
        .arg(&cfg)
        .args(["test", "--json"])
        .args(&mails)
        .arg(&sale)
        .output()
        .unwrap();
    let verdicts: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(verdicts.len(), mails.len() + 1);
    for v in &verdicts[..mails.len()] {
        assert_eq!(v["event"], "trade", "{v}");
        assert_eq!(v["severity"], "none", "{v}");
    }
    let last = &verdicts[mails.len()];
    assert_eq!(last["severity"], "critical", "{last}");
    assert_eq!(last["fields"]["side"], "sell", "{last}");
}

/// `login_hours`: a login notice outside them is critical, inside them the usual warning.
#[test]
fn a_login_outside_the_usual_hours_is_critical() {
    let dir = TempDir::new().unwrap();
    // Fixture 008 is dated 13:56 JST.
    let login = fixtures()
        .join("mail")
        .join("008-sbi-login-detected-qp.eml");
    let severity = |hours: &str| {
        let cfg = dir.path().join("config.yaml");
        std::fs::write(
            &cfg,
            format!(
                "authserv_ids: [mx.brokerwatch.test]\ntrading_profile:\n  login_hours: '{hours}'\n"
            ),
        )
        .unwrap();
        let out = command(dir.path())
            .arg("--config")
            .arg(&cfg)
            .args(["test", "--json"])
            .arg(&login)
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
        assert_eq!(v["event"], "login", "{v}");
        v["severity"].as_str().unwrap().to_string()
    };
    assert_eq!(severity("07:00-23:00"), "warning");
    assert_eq!(severity("18:00-23:30"), "critical");
    assert_eq!(severity("22:00-14:00"), "warning");
}
