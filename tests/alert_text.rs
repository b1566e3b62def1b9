//! Golden alert texts in both languages: what a person reads (title, then body with the
//! acknowledgement line, as every sink gets it) for a representative set of alerts, compared to
//! tests/golden/alerts/NAME.LANG.txt. A mismatch writes NAME.LANG.failed beside it for diffing.
//!
//! After a deliberate wording change, regenerate the files and read the diff:
//! `BLESS=1 cargo test --release --test tests alert_text`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use brokerwatch::alert::compose::{burst_line, compose};
use brokerwatch::alert::language::Language;
use brokerwatch::alert::outbox::message;
use brokerwatch::alert::raise::Draft;
use brokerwatch::alert::{AlertKind, AlertMessage};
use brokerwatch::assess::{Context, Verdict};
use brokerwatch::config::Config;
use brokerwatch::event::Severity;
use brokerwatch::pipeline::judge;
use brokerwatch::rules::RuleSet;
use brokerwatch::source::imap::presence::Presence;
use brokerwatch::source::{MailboxId, Position, SourceEvent};
use brokerwatch::store::{AlertRow, Recorded, Store, now};
use brokerwatch::watch::Services;

use crate::util::fixtures;

/// The id every rendered alert gets, so that `/ack 42` reads the same in every file.
const ID: i64 = 42;

/// "Monthly fund 積立 only" (as in tests/trades.rs): a NISA sale and a Hong Kong buy depart.
const TSUMITATE_ONLY: &str = "trading_profile:\n  sides: [buy]\n  instruments: ['eMAXIS Slim']\n  account_types: [nisa_tsumitate]\n";

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/alerts")
}

/// The golden config (tests/fixtures/config.yaml) with the trading profile, in `lang`.
fn setup(lang: Language) -> (Config, RuleSet) {
    let (mut cfg, rules) = brokerwatch::config::load_checked(Some(&fixtures().join("config.yaml")))
        .unwrap_or_else(|p| panic!("{p}"));
    let profile = brokerwatch::config::load_str(TSUMITATE_ONLY, "p.yaml", Path::new("/"))
        .unwrap_or_else(|p| panic!("{p}"));
    cfg.trading_profile = profile.trading_profile;
    cfg.language = lang;
    (cfg, rules)
}

fn verdict(name: &str, cfg: &Config, rules: &RuleSet) -> (Verdict, Vec<brokerwatch::text::Link>) {
    let raw =
        std::fs::read(fixtures().join("mail").join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    let ctx = Context {
        config: cfg,
        expectations: &[],
        now: 1_764_000_000,
    };
    let j = judge(&raw, true, rules, &ctx);
    let links = j.mail.map(|m| m.links).unwrap_or_default();
    (j.verdict, links)
}

/// An alert row as the store hands it to the outbox.
fn row(
    kind: AlertKind,
    severity: Severity,
    title: String,
    body: String,
    actionable: bool,
) -> AlertRow {
    AlertRow {
        id: ID,
        created_at: 0,
        kind,
        severity,
        broker: None,
        event: None,
        title,
        body,
        texts: Default::default(),
        actionable,
        round: 0,
        acked_at: None,
        acked_by: None,
        snoozed_until: None,
        not_me_at: None,
    }
}

fn draft_row(d: Draft) -> AlertRow {
    row(d.kind, d.severity, d.title, d.body, d.actionable)
}

fn text(m: &AlertMessage) -> String {
    format!(
        "[{} {}{}]\n{}\n\n{}\n",
        m.kind,
        m.severity,
        if m.actionable { ", actionable" } else { "" },
        m.title,
        m.body
    )
}

/// The alert a fixture mail raises, as delivered in its first round.
fn mail_alert(name: &str, cfg: &Config, rules: &RuleSet) -> AlertRow {
    let (v, links) = verdict(name, cfg, rules);
    let pack = v.broker.as_deref().and_then(|b| rules.pack(b));
    let c = compose(&v, pack, &links, cfg.language).unwrap_or_else(|| panic!("{name}: no alert"));
    row(c.kind, c.severity, c.title, c.body, c.actionable)
}

/// Every case in `lang`: (name, text).
fn cases(lang: Language) -> Vec<(&'static str, String)> {
    let (cfg, rules) = setup(lang);
    let mut out = Vec::new();
    let mails = [
        ("withdrawal-unexpected", "001-sbi-withdrawal-iso2022jp.eml"),
        (
            "payout-account-change",
            "007-sbi-payout-change-unlabelled-iso2022jp.eml",
        ),
        (
            "login-new-device",
            "316-heldout-sbineotrade-new-device-login.eml",
        ),
        ("login-new-device-schwab", "056-schwab-login-new-device.eml"),
        ("phishing-lookalike", "082-phish-sbi-lookalike-domain.eml"),
        (
            "phishing-link-mismatch",
            "088-phish-monex-link-text-mismatch.eml",
        ),
        ("phishing-forged", "084-phish-forged-ar-below-received.eml"),
        ("phishing-schwab", "083-phish-schwab-lookalike-ach.eml"),
        (
            "unrecognised-notice",
            "115-lastresort-kabucom-password-expiry.eml",
        ),
        ("trade-off-profile", "602-sbi-executed-nisa-sell.eml"),
    ];
    for (case, mail) in mails {
        out.push((
            case,
            text(&message(&mail_alert(mail, &cfg, &rules), 0, lang)),
        ));
    }

    // A repeat of the withdrawal alert, still unacknowledged.
    let first = mail_alert("001-sbi-withdrawal-iso2022jp.eml", &cfg, &rules);
    out.push(("repeat", text(&message(&first, 2, lang))));

    // A second off-profile trade joins the first one's alert as a burst line.
    let (hk, _) = verdict("604-sbi-hk-stock-executed.eml", &cfg, &rules);
    let mut burst = mail_alert("602-sbi-executed-nisa-sell.eml", &cfg, &rules);
    burst.body.push_str(&burst_line(&hk, lang));
    out.push(("trade-burst", text(&message(&burst, 0, lang))));

    // The 2025 takeover: a login, a NISA sale, a Hong Kong buy at one broker.
    let store = Store::open_memory().unwrap();
    let mb = MailboxId {
        account: "alice".into(),
        mailbox: "INBOX".into(),
    };
    let steps = [
        "008-sbi-login-detected-qp.eml",
        "602-sbi-executed-nisa-sell.eml",
        "604-sbi-hk-stock-executed.eml",
    ];
    for (uid, mail) in steps.iter().enumerate() {
        let (v, _) = verdict(mail, &cfg, &rules);
        let position = Position::Imap {
            uidvalidity: 1,
            uid: uid as u32 + 1,
        };
        let rec = Recorded {
            mailbox: &mb,
            position: &position,
            verdict: &v,
            received_at: Some(now()),
        };
        store.record(&rec, None).unwrap();
    }
    let sbi = rules.pack("sbi").unwrap();
    let takeover = brokerwatch::watch::takeover::check(&store, &cfg, sbi)
        .unwrap()
        .expect("a takeover alert");
    out.push((
        "takeover-trading",
        text(&message(&draft_row(takeover), 0, lang)),
    ));

    // A mailbox whose login is refused.
    let refused =
        SourceEvent::LoginFailed("NO [AUTHENTICATIONFAILED] Authentication failed.".into());
    let health =
        brokerwatch::watch::health::on_event(&Store::open_memory().unwrap(), &cfg, &mb, &refused)
            .unwrap()
            .expect("a cannot-watch alert");
    out.push((
        "cannot-watch-login",
        text(&message(&draft_row(health), 0, lang)),
    ));

    // A notice deleted from the mailbox before anyone acknowledged it.
    let p = Services {
        store: Store::open_memory().unwrap(),
        live: brokerwatch::config::live::Live::new(Arc::new(cfg.clone()), Arc::new(rules.clone())),
        outbox_wake: Arc::default(),
    };
    let tamper = brokerwatch::watch::tamper::tampered(
        &p,
        Some(Presence::Gone),
        7,
        Some("sbi"),
        "alice",
        "INBOX",
        lang,
    )
    .expect("a tamper alert");
    out.push((
        "tamper-deleted",
        text(&message(&draft_row(tamper), 0, lang)),
    ));
    out
}

#[test]
fn alert_texts_match_their_golden_files_in_both_languages() {
    let bless = std::env::var_os("BLESS").is_some();
    let dir = golden_dir();
    let mut ran = 0;
    let mut failed = Vec::new();
    for (lang, tag) in [(Language::Ja, "ja"), (Language::En, "en")] {
        for (case, actual) in cases(lang) {
            let path = dir.join(format!("{case}.{tag}.txt"));
            let failed_path = path.with_extension("failed");
            ran += 1;
            if bless {
                std::fs::write(&path, &actual).unwrap();
                let _ = std::fs::remove_file(&failed_path);
                continue;
            }
            let expected = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e} (bless with BLESS=1)", path.display()));
            if expected == actual {
                let _ = std::fs::remove_file(&failed_path);
            } else {
                std::fs::write(&failed_path, &actual).unwrap();
                failed.push(path.display().to_string());
            }
        }
    }
    assert!(ran >= 20, "only {ran} cases");
    assert!(
        failed.is_empty(),
        "{} of {ran} alert texts differ (see the .failed files beside them): {failed:#?}",
        failed.len()
    );
}

/// The Japanese texts are Japanese: no English sentence framing the broker's facts, in the
/// alert's own lines, in its reasons (`- …`) and in the pack's steps (`1. …`, written in both
/// languages, so a US broker's steps are Japanese here too).
#[test]
fn japanese_alerts_carry_no_english_framing() {
    for (case, t) in cases(Language::Ja) {
        for english in [
            "reports:",
            "not expected",
            "nobody said",
            "If it was",
            "acknowledge",
            "Reminder",
            "Call ",
            "Sender check",
            "trading profile",
            "someone else",
            "the sender",
            "a link",
            "imitat",
            "authentic",
            "look-alike",
            "login or personal",
            "phishing copy",
            "display name",
            "presents itself",
            "forgery",
            "(its ",
            "Do not",
            " you",
        ] {
            assert!(!t.contains(english), "{case}: `{english}` in\n{t}");
        }
    }
}
