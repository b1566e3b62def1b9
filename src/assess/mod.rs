//! Judgement: is a classified mail authentic, a phishing copy, expected? And so how loud is it?
//!
//! Authentic means our own receiving server (a trusted authserv-id from the config) vouched for
//! it: only its topmost Authentication-Results, above its own Received line, counts. Anything
//! written lower down came from the sender and proves nothing (or worse: it is a forgery).

pub mod authserv;
pub mod reason;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::config::{Allowance, Config};
use crate::event::{EventKind, Severity};
use crate::mail::{Mail, Trace};
use crate::rules::{Classification, Pack};
use crate::units::parse_amount;
use reason::{Reason, Vouch};

/// A declared window in which a notice is expected (`brokerwatch expect`, `/expect`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Expectation {
    pub id: i64,
    pub broker: String,
    pub event: EventKind,
    /// Epoch seconds.
    pub from: i64,
    pub until: i64,
    pub note: Option<String>,
}

/// What brokerwatch concluded about one mail. Serialises to the DESIGN.md JSON shape (the
/// caller adds `file` or `uid`/`mailbox`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub message_id: Option<String>,
    pub broker: Option<String>,
    pub event: Option<EventKind>,
    pub authentic: Option<bool>,
    pub phishing: bool,
    pub expected: bool,
    pub severity: Severity,
    pub rule: Option<String>,
    pub fields: BTreeMap<String, String>,
    /// Why, in the order it was found (English strings in JSON).
    pub reasons: Vec<Reason>,
    #[serde(skip)]
    pub broker_name: Option<String>,
    #[serde(skip)]
    pub subject: String,
    #[serde(skip)]
    pub sender: Option<String>,
    /// The security words of a broker's own mail that no rule recognised (the last resort).
    #[serde(skip)]
    pub unrecognised: Vec<String>,
    /// The matched rule is a generic one, not the broker's own.
    #[serde(skip)]
    pub generic: bool,
    /// How a trade departs from the trading profile (empty: it fits, or no profile); worded
    /// in the language of each alert that tells it.
    #[serde(skip)]
    pub off_profile: Vec<crate::profile::Departure>,
    /// The Date header (epoch seconds) and its own UTC offset.
    #[serde(skip)]
    pub date: Option<i64>,
    #[serde(skip)]
    pub date_offset: Option<i32>,
}

/// The facts assess needs besides the mail: config, active expectations, and the time.
pub struct Context<'a> {
    pub config: &'a Config,
    pub expectations: &'a [Expectation],
    /// Epoch seconds (expectations are checked against it).
    pub now: i64,
}

/// Judges a classified mail.
pub fn assess(mail: &Mail, class: &Classification, ctx: &Context) -> Verdict {
    let mut reasons: Vec<Reason> = class.notes.clone();
    let pack = class.pack;
    if let Some(claim) = &class.claim {
        reasons.push(Reason::Claim(claim.clone()));
    }
    let authentic =
        pack.and_then(|p| authenticity(mail, p, &ctx.config.authserv_ids, &mut reasons));
    let from_domain = mail.from.as_ref().map_or("", |f| f.domain());
    let foreign_sender = pack.is_some_and(|p| !p.owns_domain(from_domain));
    if let (Some(p), true) = (pack, foreign_sender) {
        reasons.push(Reason::ForeignSender {
            domain: from_domain.to_string(),
            broker: p.name.clone(),
            domains: p.domains.clone(),
        });
    }
    reasons.extend(class.imitations.iter().cloned());
    // A login link to a host that is not the broker's own, in a mail not vouched for, is how the
    // 2025 relays worked; one to the broker's own site is told, not judged (older genuine mail).
    let foreign_login_link = pack.is_some_and(|p| {
        class
            .login_links
            .iter()
            .any(|(host, _)| !p.owns_domain(host))
    });
    for (host, why) in &class.login_links {
        reasons.push(Reason::LoginLink {
            host: host.clone(),
            matched: why.clone(),
        });
    }
    let phishing = pack.is_some()
        && (authentic == Some(false)
            || foreign_sender
            || !class.imitations.is_empty()
            || (authentic != Some(true) && foreign_login_link));
    if authentic != Some(true) {
        reasons.extend(class.suspicious.iter().cloned());
    }
    let event = class.rule.map(|r| r.event);
    if let (Some(p), Some(r), true) = (pack, class.rule, class.generic) {
        reasons.push(Reason::Generic {
            rule: r.id.clone(),
            broker: p.name.clone(),
        });
    }
    let off_profile = match (pack, event, phishing, &ctx.config.trading_profile) {
        (Some(p), Some(EventKind::Trade), false, Some(profile)) if profile.applies_to(&p.id) => {
            profile.check(&class.fields)
        }
        _ => Vec::new(),
    };
    reasons.extend(off_profile.iter().cloned().map(Reason::OffProfile));
    let mut expected = false;
    if let (Some(p), Some(ev), false) = (pack, event, phishing)
        && (ev.is_security() || !off_profile.is_empty())
    {
        expected = expectation_reason(p, ev, &class.fields, ctx)
            .map(|r| reasons.push(r))
            .is_some();
    }
    let off_hours = !phishing
        && !expected
        && event == Some(EventKind::Login)
        && login_off_hours(mail, pack, ctx, &mut reasons);
    let unrecognised = !phishing && event.is_none() && !class.unrecognised.is_empty();
    let severity = if phishing {
        reasons.push(Reason::Phishing);
        ctx.config.phishing_severity
    } else if expected {
        Severity::Info
    } else if unrecognised {
        reasons.push(Reason::Unrecognised {
            broker: pack.map(|p| p.name.clone()),
            words: class.unrecognised.clone(),
        });
        Severity::Warning
    } else if !off_profile.is_empty() {
        ctx.config
            .trading_profile
            .as_ref()
            .map_or(Severity::Warning, |p| p.severity(&off_profile))
    } else if off_hours {
        Severity::Critical
    } else {
        event.map_or(Severity::None, |e| {
            ctx.config.severity.get(&e).copied().unwrap_or_default()
        })
    };
    Verdict {
        message_id: mail.message_id.clone(),
        broker: pack.map(|p| p.id.clone()),
        event,
        authentic,
        phishing,
        expected,
        severity,
        rule: class.rule.map(|r| r.id.clone()),
        fields: class.fields.clone(),
        reasons,
        broker_name: pack.map(|p| p.name.clone()),
        subject: mail.subject.clone(),
        sender: mail.from.as_ref().map(|f| f.address.clone()),
        unrecognised: if unrecognised {
            class.unrecognised.clone()
        } else {
            Vec::new()
        },
        generic: class.generic,
        off_profile,
        date: mail.date,
        date_offset: mail.date_offset,
    }
}

/// A login notice outside the profile's `login_hours` (the 2025 takeovers came at night).
fn login_off_hours(
    mail: &Mail,
    pack: Option<&Pack>,
    ctx: &Context,
    reasons: &mut Vec<Reason>,
) -> bool {
    let (Some(p), Some(profile)) = (pack, ctx.config.trading_profile.as_ref()) else {
        return false;
    };
    let (Some(hours), true) = (profile.login_hours, profile.applies_to(&p.id)) else {
        return false;
    };
    let at = mail.date.unwrap_or(ctx.now);
    if hours.contains(at, mail.date_offset) {
        return false;
    }
    let offset = hours.utc_offset.or(mail.date_offset).unwrap_or(0);
    let minute = (at + i64::from(offset)).rem_euclid(86_400) / 60;
    reasons.push(Reason::OffHours {
        at: minute,
        from: hours.from,
        to: hours.to,
    });
    true
}

/// One `method=result` of an Authentication-Results header with its properties.
#[derive(Debug, PartialEq, Eq)]
struct AuthResult {
    method: String,
    result: String,
    props: Vec<(String, String)>,
}

/// Splits `id; dkim=pass header.d=x; dmarc=fail header.from=y` (comments removed).
fn parse_auth_results(value: &str) -> (String, Vec<AuthResult>) {
    let clean = strip_comments(value);
    let mut parts = clean.split(';');
    let id = parts
        .next()
        .unwrap_or("")
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    let results = parts
        .filter_map(|p| {
            let mut words = p.split_whitespace();
            let (method, result) = words.next()?.split_once('=')?;
            let props = words
                .filter_map(|w| w.split_once('='))
                .map(|(k, v)| {
                    (
                        k.to_ascii_lowercase(),
                        v.trim_matches('"').to_ascii_lowercase(),
                    )
                })
                .collect();
            Some(AuthResult {
                method: method.to_ascii_lowercase(),
                result: result.to_ascii_lowercase(),
                props,
            })
        })
        .collect();
    (id, results)
}

fn strip_comments(s: &str) -> String {
    let mut depth = 0usize;
    s.chars()
        .filter(|&c| match c {
            '(' => {
                depth += 1;
                false
            }
            ')' => {
                depth = depth.saturating_sub(1);
                false
            }
            _ => depth == 0,
        })
        .collect()
}

/// The host after `by` in a Received header.
fn received_by(value: &str) -> Option<String> {
    let clean = strip_comments(value);
    let mut words = clean.split_whitespace();
    while let Some(w) = words.next() {
        if w.eq_ignore_ascii_case("by") {
            return words
                .next()
                .map(|h| h.trim_end_matches(';').to_ascii_lowercase());
        }
    }
    None
}

/// true/false when our server vouched either way (or a forgery was found); None if it said nothing.
fn authenticity(
    mail: &Mail,
    pack: &Pack,
    ids: &[String],
    reasons: &mut Vec<Reason>,
) -> Option<bool> {
    if ids.is_empty() {
        reasons.push(Reason::NoAuthservIds);
        return None;
    }
    let ours = |id: &str| ids.iter().any(|t| t.eq_ignore_ascii_case(id));
    let boundary = mail.trace.iter().position(|t| match t {
        Trace::Received(v) => received_by(v).is_some_and(|h| ours(&h)),
        Trace::AuthResults(_) => false,
    });
    let mut trusted = None;
    let mut forged = false;
    for (i, t) in mail.trace.iter().enumerate() {
        let Trace::AuthResults(v) = t else { continue };
        let (id, results) = parse_auth_results(v);
        if !ours(&id) {
            continue;
        }
        if boundary.is_some_and(|b| i > b) {
            forged = true;
        } else if trusted.is_none() {
            trusted = Some((id, results));
        }
    }
    if forged {
        reasons.push(Reason::Forged);
        return Some(false);
    }
    let Some((id, results)) = trusted else {
        reasons.push(Reason::NoAuthResults);
        return None;
    };
    let from_domain = mail.from.as_ref().map_or("", |f| f.domain());
    let prop = |r: &AuthResult, k: &str| {
        r.props
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    let vouched = results
        .iter()
        .find_map(|r| match (r.method.as_str(), r.result.as_str()) {
            ("dkim", "pass") => prop(r, "header.d")
                .filter(|d| pack.owns_domain(d))
                .map(Vouch::Dkim),
            ("dmarc", "pass") => prop(r, "header.from")
                .filter(|d| pack.owns_domain(d))
                .map(Vouch::Dmarc),
            _ => None,
        });
    match vouched {
        Some(vouch) if pack.owns_domain(from_domain) => {
            reasons.push(Reason::Authentic { id, vouch });
            Some(true)
        }
        _ => {
            let said: Vec<String> = results
                .iter()
                .map(|r| format!("{}={}", r.method, r.result))
                .collect();
            reasons.push(Reason::NotAuthentic {
                id,
                broker: pack.name.clone(),
                said,
            });
            Some(false)
        }
    }
}

/// Why a genuine notice is expected (an allowance or a declared window), or None.
fn expectation_reason(
    pack: &Pack,
    event: EventKind,
    fields: &BTreeMap<String, String>,
    ctx: &Context,
) -> Option<Reason> {
    if let Some(e) = ctx
        .expectations
        .iter()
        .find(|e| e.broker == pack.id && e.event == event && e.from <= ctx.now && ctx.now < e.until)
    {
        return Some(Reason::Declared {
            event,
            broker: pack.name.clone(),
            id: e.id,
            note: e.note.clone(),
        });
    }
    ctx.config
        .allowances
        .iter()
        .find(|a| a.broker == pack.id && a.event == event && allowance_fits(a, fields))
        .map(|a| Reason::Allowance {
            event,
            max_amount: a.max_amount,
            account_suffix: a.account_suffix.clone(),
        })
}

/// Every condition the allowance sets must be shown by the mail; a missing field never fits.
fn allowance_fits(a: &Allowance, fields: &BTreeMap<String, String>) -> bool {
    let amount_ok = a.max_amount.is_none_or(|max| {
        fields
            .get("amount")
            .and_then(|v| parse_amount(v))
            .is_some_and(|v| v <= max)
    });
    let account_ok = a.account_suffix.as_ref().is_none_or(|suffix| {
        fields
            .get("account_last_digits")
            .is_some_and(|d| d.trim_start_matches(['*', '＊']).ends_with(suffix.as_str()))
    });
    amount_ok && account_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_results_are_parsed_without_comments() {
        let (id, r) = parse_auth_results(
            "mx.google.com; dkim=pass (2048-bit) header.d=SBISEC.co.jp header.s=s1; dmarc=pass (p=REJECT sp=REJECT) header.from=sbisec.co.jp",
        );
        assert_eq!(id, "mx.google.com");
        assert_eq!(r[0].method, "dkim");
        assert_eq!(r[0].props[0], ("header.d".into(), "sbisec.co.jp".into()));
        assert_eq!(r[1].result, "pass");
    }

    #[test]
    fn received_by_host() {
        assert_eq!(
            received_by(
                "from a.example (a.example [192.0.2.1]) by MX.Google.com with ESMTPS id x; Tue"
            ),
            Some("mx.google.com".into())
        );
        assert_eq!(received_by("from a (comment by evil) with x"), None);
    }

    #[test]
    fn allowance_needs_every_condition_shown() {
        let a = Allowance {
            broker: "sbi".into(),
            event: EventKind::Withdrawal,
            max_amount: Some(100_000),
            account_suffix: Some("1234".into()),
            note: None,
            loc: Default::default(),
        };
        let f = |amount: &str, acct: &str| {
            let mut m = BTreeMap::new();
            if !amount.is_empty() {
                m.insert("amount".to_string(), amount.to_string());
            }
            if !acct.is_empty() {
                m.insert("account_last_digits".to_string(), acct.to_string());
            }
            m
        };
        assert!(allowance_fits(&a, &f("50,000", "1234")));
        assert!(!allowance_fits(&a, &f("150,000", "1234")));
        assert!(!allowance_fits(&a, &f("50,000", "9999")));
        assert!(!allowance_fits(&a, &f("", "1234")));
    }
}
