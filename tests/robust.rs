//! Parse + classify never panic, on broken mails and on arbitrary or mutated bytes.

use std::path::Path;
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use brokerwatch::assess::Context;
use brokerwatch::config;
use brokerwatch::pipeline::judge;
use brokerwatch::rules;
use proptest::prelude::*;

/// Compiled once for all cases: the rule packs take a moment to build.
static SETUP: LazyLock<(config::Config, rules::RuleSet)> = LazyLock::new(|| {
    let mut cfg = config::builtin();
    cfg.authserv_ids = vec!["mx.brokerwatch.test".into()];
    (cfg, rules::load(true, &[]).expect("shipped rules"))
});
static MAILS: LazyLock<Vec<Vec<u8>>> = LazyLock::new(fixture_mails);

fn setup() -> &'static (config::Config, rules::RuleSet) {
    &SETUP
}

fn fixture_mails() -> Vec<Vec<u8>> {
    crate::util::fixture_mails()
        .iter()
        .filter_map(|p| std::fs::read(p).ok())
        .collect()
}

#[test]
fn broken_mails_get_a_verdict_in_bounded_time() {
    let (cfg, rules) = setup();
    let ctx = Context {
        config: cfg,
        expectations: &[],
        now: 0,
    };
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/broken");
    let mut cases: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .expect("tests/fixtures/broken")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
        .collect();
    // Generated extremes: a 10 MB line, 1,000 nested parts, NUL bytes, an unknown charset.
    let mut long = b"From: a@sbisec.co.jp\r\nSubject: x\r\n\r\n".to_vec();
    long.extend(std::iter::repeat_n(b'A', 10 * 1024 * 1024));
    cases.push(("10 MB line".into(), long));
    let mut nested = String::from("From: a@b.example\r\nSubject: n\r\n");
    for i in 0..1000 {
        nested.push_str(&format!(
            "Content-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n--b{i}\r\n"
        ));
    }
    nested.push_str("Content-Type: text/plain\r\n\r\n出金\r\n");
    cases.push(("1000 nested parts".into(), nested.into_bytes()));
    cases.push((
        "NUL bytes".into(),
        b"From: a\0@b\r\nSubject: \0\0\r\n\r\n\0body".to_vec(),
    ));
    cases.push((
        "unknown charset".into(),
        b"From: a@b.example\r\nSubject: =?x-klingon?B?AAAA?=\r\nContent-Type: text/plain; charset=x-klingon\r\n\r\n\xff\xfe".to_vec(),
    ));
    assert!(cases.len() >= 8, "broken fixtures missing: {}", cases.len());
    for (name, raw) in &cases {
        let start = Instant::now();
        let j = judge(raw, true, rules, &ctx);
        let took = start.elapsed();
        // A generous bound: this guards against hangs, it is not a benchmark.
        assert!(took < Duration::from_secs(20), "{name} took {took:?}");
        assert!(j.verdict.event.is_none() || j.mail.is_some(), "{name}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(raw in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let (cfg, rules) = setup();
        let ctx = Context { config: cfg, expectations: &[], now: 0 };
        let _ = judge(&raw, true, rules, &ctx);
        let _ = judge(&raw, false, rules, &ctx);
    }

    #[test]
    fn mutated_real_mails_never_panic(
        pick in any::<prop::sample::Index>(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..40),
    ) {
        let mails = &*MAILS;
        prop_assume!(!mails.is_empty());
        let mut raw = mails[pick.index(mails.len())].clone();
        for (at, byte, op) in edits {
            if raw.is_empty() { break; }
            let i = at.index(raw.len());
            match op {
                0 => raw[i] = byte,
                1 => { raw.remove(i); }
                _ => raw.truncate(i),
            }
        }
        let (cfg, rules) = setup();
        let ctx = Context { config: cfg, expectations: &[], now: 0 };
        let _ = judge(&raw, true, rules, &ctx);
    }
}
