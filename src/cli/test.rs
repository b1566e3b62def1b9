//! `brokerwatch test FILE...`: a dry run. Per mail, the DESIGN.md JSON object (`--json`) or an
//! explanation: which rule matched on which cue, why authentic or not, what would be sent.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::Outcome;
use crate::alert::compose::{compose, route};
use crate::assess::{Context, Verdict};
use crate::config::Config;
use crate::pipeline::{Judged, judge};
use crate::rules::RuleSet;
use crate::store::{self, Store};
use crate::units::format_duration;

pub fn run(cfg_path: Option<&Path>, as_json: bool, files: &[PathBuf]) -> anyhow::Result<Outcome> {
    let Some((cfg, rules)) = super::load(cfg_path) else {
        return Ok(Outcome::Usage);
    };
    let now = store::now();
    // Declared expectations count in a dry run too, if the daemon's state exists.
    let expectations = match Store::open_existing(&cfg.db_path()) {
        Ok(Some(s)) => s.active_expectations(now)?,
        _ => Vec::new(),
    };
    let ctx = Context {
        config: &cfg,
        expectations: &expectations,
        now,
    };
    let mut failed = 0;
    for f in files {
        let raw = match super::read_mail(f) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("brokerwatch: {e:#}");
                failed += 1;
                continue;
            }
        };
        let judged = judge(&raw, true, &rules, &ctx);
        if as_json {
            println!(
                "{}",
                verdict_json(&judged.verdict, "file", json!(f.display().to_string()))
            );
        } else {
            explain(f, &judged, &cfg, &rules);
        }
    }
    if failed > 0 {
        anyhow::bail!("{failed} file(s) could not be read");
    }
    Ok(Outcome::Ok)
}

/// The DESIGN.md JSON object, with the mail's key first (`file`, or `uid` + `mailbox`).
pub fn verdict_json(v: &Verdict, key: &str, value: Value) -> Value {
    let mut obj = serde_json::Map::new();
    obj.insert(key.to_string(), value);
    if let Ok(Value::Object(rest)) = serde_json::to_value(v) {
        obj.extend(rest);
    }
    Value::Object(obj)
}

fn explain(file: &Path, j: &Judged, cfg: &Config, rules: &RuleSet) {
    let v = &j.verdict;
    println!("{}", file.display());
    println!("  {}  severity: {}", what_it_is(v), v.severity);
    if let Some(m) = &j.mail {
        println!(
            "  from: {}  subject: {}",
            v.sender.as_deref().unwrap_or("-"),
            m.subject
        );
    }
    if let (Some(rule), Some(origin)) = (&v.rule, &j.rule_origin) {
        println!("  rule: {rule} ({origin})");
        for c in &j.cues {
            println!("    {} matched /{}/ on {:?}", c.on, c.pattern, c.matched);
        }
    }
    if !v.fields.is_empty() {
        let f: Vec<String> = v
            .fields
            .iter()
            .map(|(k, val)| format!("{k}={val}"))
            .collect();
        println!("  fields: {}", f.join(", "));
    }
    for r in &v.reasons {
        println!("  why: {r}");
    }
    println!("  would send: {}", would_send(j, cfg, rules));
    println!();
}

/// `SBI証券: withdrawal [PHISHING, expected]`, `… no rule matched` or `not a broker notice`.
fn what_it_is(v: &Verdict) -> String {
    let what = match (&v.broker_name, v.event) {
        (Some(b), Some(e)) => format!("{b}: {e}"),
        (Some(b), None) => format!("{b}: no rule matched"),
        (None, _) => "not a broker notice".to_string(),
    };
    let tags = [(v.phishing, "PHISHING"), (v.expected, "expected")]
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, t)| *t)
        .collect::<Vec<_>>()
        .join(", ");
    if tags.is_empty() {
        what
    } else {
        format!("{what} [{tags}]")
    }
}

/// The alert the daemon would raise for this mail, and to which sinks, or `nothing`.
fn would_send(j: &Judged, cfg: &Config, rules: &RuleSet) -> String {
    let v = &j.verdict;
    let pack = v.broker.as_deref().and_then(|b| rules.pack(b));
    let links = j
        .mail
        .as_ref()
        .map(|m| m.links.as_slice())
        .unwrap_or_default();
    let Some(c) = compose(v, pack, links, cfg.language) else {
        return "nothing".into();
    };
    let (sinks, repeat) = route(cfg, c.severity);
    let names: Vec<&str> = sinks.iter().map(|s| s.as_str()).collect();
    format!(
        "{:?} alert \"{}\" to {}{}",
        c.kind,
        c.title,
        if names.is_empty() {
            "no sink".to_string()
        } else {
            names.join(", ")
        },
        match (repeat, c.actionable) {
            (Some(r), true) =>
                format!(", repeated every {} until acknowledged", format_duration(r)),
            _ => String::new(),
        }
    )
}
