//! `brokerwatch profile [--since 1y]`: one pass over the configured mailboxes (as `scan` makes,
//! with a throwaway state: the daemon's is never touched) that proposes a trading profile from
//! the user's own past trade notices, printed as YAML to paste into the config.

use std::path::Path;
use std::sync::{Arc, Mutex};

use super::Outcome;
use crate::alert::language::Language;
use crate::daemon::handler::VerdictHook;
use crate::event::EventKind;
use crate::profile::Learner;
use crate::store::{Store, now};

pub fn run(cfg_path: Option<&Path>, since: &str) -> anyhow::Result<Outcome> {
    let Some((cfg, rules)) = super::load(cfg_path) else {
        return Ok(Outcome::Usage);
    };
    let lang = cfg.language;
    let from = match since_epoch(since) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{}", bad_since(since, &e, lang));
            return Ok(Outcome::Usage);
        }
    };
    if cfg.accounts.is_empty() {
        eprintln!(
            "{}",
            lang.pick(
                "brokerwatch: 設定ファイルにアカウントがないため、学習できる通知がありません",
                "brokerwatch: no accounts in the config: nothing to learn from",
            )
        );
        return Ok(Outcome::Usage);
    }
    let learner = Arc::new(Mutex::new(Learner::default()));
    let failures = super::scan::pass(
        Arc::new(cfg),
        rules,
        Store::open_memory()?,
        false,
        learn_from(learner.clone()),
        Some(from),
    )?;
    let l = learner.lock().unwrap_or_else(|p| p.into_inner());
    if l.is_empty() {
        eprintln!("{}", no_notices(since, lang));
        if failures > 0 {
            anyhow::bail!(unread(failures, lang, false));
        }
        return Ok(Outcome::Ok);
    }
    print!("{}", l.propose(since, lang));
    if failures > 0 {
        anyhow::bail!(unread(failures, lang, true));
    }
    Ok(Outcome::Ok)
}

/// `--since` that is neither a span nor a date.
fn bad_since(since: &str, e: &str, lang: Language) -> String {
    match lang {
        Language::Ja => format!(
            "brokerwatch: --since: `{since}` は期間（1y、90d など）としても日付としても読めません: {e}"
        ),
        Language::En => {
            format!("brokerwatch: --since: `{since}` is neither a span (1y, 90d) nor a date: {e}")
        }
    }
}

/// Nothing to learn from: no trade notice in the mailboxes since `since`.
fn no_notices(since: &str, lang: Language) -> String {
    match lang {
        Language::Ja => format!(
            "brokerwatch: 設定したメールボックスに {since} 以降の取引通知がないため、取引プロフィールを提案できません"
        ),
        Language::En => format!(
            "brokerwatch: no trade notices since {since} in the configured mailboxes: nothing to propose"
        ),
    }
}

/// The error when some mailboxes could not be read (`proposed`: from the others).
fn unread(failures: usize, lang: Language, proposed: bool) -> String {
    match (lang, proposed) {
        (Language::Ja, false) => format!("{failures}件のメールボックスを読めませんでした"),
        (Language::Ja, true) => format!(
            "{failures}件のメールボックスを読めませんでした。提案は、読めたメールボックスの通知だけにもとづいています"
        ),
        (Language::En, false) => format!("{failures} mailbox(es) could not be read"),
        (Language::En, true) => {
            format!("{failures} mailbox(es) could not be read: the proposal is based on the others")
        }
    }
}

/// `--since`: `1y`, `90d` (a span back from now) or `2025-01-01`, as epoch seconds. `1y` reads
/// as 365 days (the duration parser stops at weeks).
fn since_epoch(since: &str) -> Result<i64, String> {
    let span = match since.strip_suffix('y').map(str::parse::<u64>) {
        Some(Ok(years)) => Ok(std::time::Duration::from_secs(years * 365 * 86_400)),
        _ => crate::units::parse_duration(since),
    };
    match span {
        Ok(d) => Ok(now() - d.as_secs() as i64),
        Err(_) => crate::units::parse_date(since),
    }
}

/// The scan's verdict hook: only genuine trade notices teach; a phishing copy or a mail our
/// server disowned never does.
fn learn_from(learner: Arc<Mutex<Learner>>) -> VerdictHook {
    Box::new(move |_, m, v| {
        if v.event == Some(EventKind::Trade) && !v.phishing && v.authentic != Some(false) {
            let mut l = learner.lock().unwrap_or_else(|p| p.into_inner());
            l.add(
                v.broker.as_deref().unwrap_or("-"),
                &v.fields,
                v.date.or(m.received_at),
                v.date_offset,
            );
        }
    })
}
