//! One mail through the pure stages: parse → classify → assess. Shared by `test`, `scan` and the
//! daemon, so all three judge a mail the same way.

use crate::assess::{Context, Verdict, assess};
use crate::event::Severity;
use crate::mail::{self, Mail};
use crate::rules::{Classification, Cue, RuleSet, classify};

/// A verdict with what explains it.
#[derive(Debug, Clone)]
pub struct Judged {
    pub verdict: Verdict,
    /// The matched rule's conditions and the words they matched.
    pub cues: Vec<Cue>,
    /// `file:line` of the matched rule.
    pub rule_origin: Option<String>,
    /// The parsed mail; None when it could not be parsed.
    pub mail: Option<Mail>,
}

/// Judges raw message bytes (`complete = false` for a header block only).
pub fn judge(raw: &[u8], complete: bool, rules: &RuleSet, ctx: &Context) -> Judged {
    match mail::parse(raw, complete) {
        Ok(m) => {
            let class = classify(rules, &m);
            judge_classified(m, &class, ctx)
        }
        Err(e) => Judged {
            verdict: unparseable(&e.0),
            cues: Vec::new(),
            rule_origin: None,
            mail: None,
        },
    }
}

/// Judges a mail already parsed and classified (by `classify` with the rules to judge by).
pub fn judge_classified(mail: Mail, class: &Classification, ctx: &Context) -> Judged {
    Judged {
        verdict: assess(&mail, class, ctx),
        cues: class.cues.clone(),
        rule_origin: class.rule.map(|r| r.origin.clone()),
        mail: Some(mail),
    }
}

/// The verdict for a mail that could not be read: recorded and reported, never dropped.
fn unparseable(why: &str) -> Verdict {
    Verdict {
        severity: Severity::Info,
        reasons: vec![crate::assess::reason::Reason::Unparseable(why.to_string())],
        ..Verdict::default()
    }
}
