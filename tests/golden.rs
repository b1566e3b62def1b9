//! Golden fixtures: tests/fixtures/mail/NNN-name.eml beside the expected NNN-name.json. A mismatch
//! writes NNN-name.failed (the actual JSON) for diffing; the test also asserts it ran cases.

use brokerwatch::assess::Context;
use brokerwatch::cli::verdict_json;
use brokerwatch::config::load_checked;
use brokerwatch::pipeline::judge;
use serde_json::{Value, json};

use crate::util::{fixture_mails, fixtures};

/// The golden config and rules (tests/fixtures/config.yaml with the shipped packs).
fn setup() -> (brokerwatch::config::Config, brokerwatch::rules::RuleSet) {
    load_checked(Some(&fixtures().join("config.yaml"))).unwrap_or_else(|p| panic!("{p}"))
}

/// The keys DESIGN.md fixes; `reasons` is free text and not compared.
const KEYS: &[&str] = &[
    "file",
    "message_id",
    "broker",
    "event",
    "authentic",
    "phishing",
    "expected",
    "severity",
    "rule",
    "fields",
];

fn pick(v: &Value) -> Value {
    let mut out = serde_json::Map::new();
    for k in KEYS {
        out.insert((*k).to_string(), v.get(*k).cloned().unwrap_or(Value::Null));
    }
    Value::Object(out)
}

#[test]
fn golden_mail_fixtures() {
    let (cfg, rules) = setup();
    let ctx = Context {
        config: &cfg,
        expectations: &[],
        now: 1_764_000_000,
    };
    let paths = fixture_mails();
    let mut ran = 0;
    let mut failed = Vec::new();
    for eml in &paths {
        let name = eml.file_name().unwrap().to_string_lossy().into_owned();
        let raw = std::fs::read(eml).unwrap();
        let j = judge(&raw, true, &rules, &ctx);
        let actual = pick(&verdict_json(&j.verdict, "file", json!(name)));
        let expected_path = eml.with_extension("json");
        let expected: Value = serde_json::from_str(
            &std::fs::read_to_string(&expected_path)
                .unwrap_or_else(|e| panic!("{}: {e}", expected_path.display())),
        )
        .unwrap_or_else(|e| panic!("{}: {e}", expected_path.display()));
        let failed_path = eml.with_extension("failed");
        if pick(&expected) == actual {
            let _ = std::fs::remove_file(&failed_path);
        } else {
            let mut out = actual.clone();
            out["reasons"] = json!(j.verdict.reasons);
            std::fs::write(&failed_path, serde_json::to_string_pretty(&out).unwrap()).unwrap();
            failed.push(name);
        }
        ran += 1;
    }
    assert!(ran > 0, "no fixtures found");
    assert!(
        failed.is_empty(),
        "{} of {ran} fixtures differ (see the .failed files beside them): {failed:#?}",
        failed.len()
    );
    eprintln!("golden: {ran} fixtures matched");
}

/// No alert carries a clickable link or a plain host name from a mail (Telegram links bare
/// domains by itself): every fixture's alert text is checked.
#[test]
fn no_alert_text_has_a_clickable_link() {
    use brokerwatch::alert::compose::compose;
    let (cfg, rules) = setup();
    let ctx = Context {
        config: &cfg,
        expectations: &[],
        now: 1_764_000_000,
    };
    let host = regex::Regex::new(r"(?i)(?:https?|ftp)://|\b(?:[a-z0-9-]+\.)+[a-z]{2,}\b").unwrap();
    let mut composed = 0;
    for p in fixture_mails() {
        let j = judge(&std::fs::read(&p).unwrap(), true, &rules, &ctx);
        let pack = j.verdict.broker.as_deref().and_then(|b| rules.pack(b));
        let links = j.mail.as_ref().map(|m| m.links.clone()).unwrap_or_default();
        if let Some(c) = compose(&j.verdict, pack, &links, cfg.language) {
            composed += 1;
            for text in [&c.title, &c.body] {
                assert!(
                    !host.is_match(text),
                    "{}: clickable text in alert: {:?}",
                    p.display(),
                    host.find(text)
                );
            }
        }
    }
    assert!(composed > 40, "only {composed} fixtures produced an alert");
}
