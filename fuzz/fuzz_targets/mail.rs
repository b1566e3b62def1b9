//! Arbitrary bytes through the whole pure pipeline (parse → classify → assess), as a full message
//! and as a header block: `judge` must return a verdict, never panic or hang.
#![no_main]

use std::sync::LazyLock;

use brokerwatch::assess::Context;
use brokerwatch::config::{self, Config};
use brokerwatch::pipeline::judge;
use brokerwatch::rules::{self, RuleSet};
use libfuzzer_sys::fuzz_target;

/// Built once: compiling the shipped packs per input would drown the signal.
static SETUP: LazyLock<(Config, RuleSet)> = LazyLock::new(|| {
    let mut cfg = config::builtin();
    cfg.authserv_ids = vec!["mx.brokerwatch.test".into()];
    (cfg, rules::load(true, &[]).expect("shipped rules compile"))
});

fuzz_target!(|data: &[u8]| {
    let (cfg, rules) = &*SETUP;
    let ctx = Context {
        config: cfg,
        expectations: &[],
        now: 0,
    };
    let _ = judge(data, true, rules, &ctx);
    let _ = judge(data, false, rules, &ctx);
});
