//! `doctor` for the LINE and Pushover sinks: the token answers, LINE's own count of this
//! month's messages beside brokerwatch's budget, and each Pushover user key is valid.
//! Sends nothing to a person.

use super::Report;
use crate::alert::line::{LineSink, status_line};
use crate::alert::pushover::PushoverSink;
use crate::alert::sink::Sink;
use crate::config::Config;
use crate::store::Store;

pub(super) async fn check_line(cfg: &Config, r: &mut Report) {
    let Some(l) = &cfg.sinks.line else {
        return;
    };
    let sink = match LineSink::new(l) {
        Ok(s) => s,
        Err(e) => return r.fail("line", format!("cannot read the channel access token: {e}")),
    };
    // The budget as `status` shows it, when the daemon has a state database already.
    let budget = match Store::open_existing(&cfg.db_path()) {
        Ok(Some(store)) => status_line(l, &store, crate::alert::language::Language::En)
            .map(|s| format!("; brokerwatch's budget: {}", s.trim_end()))
            .unwrap_or_default(),
        _ => String::new(),
    };
    match sink.check().await {
        Ok(line) => r.ok("line", format!("{line}{budget}")),
        Err(e) => r.fail("line", e.to_string()),
    }
}

pub(super) async fn check_pushover(cfg: &Config, r: &mut Report) {
    let Some(p) = &cfg.sinks.pushover else {
        return;
    };
    let sink = match PushoverSink::new(p) {
        Ok(s) => s,
        Err(e) => {
            return r.fail(
                "pushover",
                format!("cannot read the token or a user key: {e}"),
            );
        }
    };
    match sink.check().await {
        Ok(line) => r.ok("pushover", line),
        Err(e) => r.fail("pushover", e.to_string()),
    }
}
