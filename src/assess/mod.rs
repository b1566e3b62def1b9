//! Judgement: is a classified mail authentic, a phishing copy, expected? And so how loud is it?
//!
//! Authentic means our own receiving server (a trusted authserv-id from the config) vouched for
//! it: only its topmost Authentication-Results, above its own Received line, counts. Anything
//! written lower down came from the sender and proves nothing (or worse: it is a forgery).

mod authentic;
pub mod authserv;
mod expected;
pub mod reason;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::config::Config;
use crate::event::{EventKind, Severity};
use crate::mail::Mail;
use crate::profile::Departure;
use crate::rules::{Classification, Pack};
use reason::Reason;

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
/// caller adds `file` or `uid`/`mailbox`). The default knows nothing: no broker, no event,
/// severity none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
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

/// What assess found before deciding how loud the mail is.
struct Findings {
    authentic: Option<bool>,
    phishing: bool,
    event: Option<EventKind>,
    /// How a trade departs from the trading profile.
    off_profile: Vec<Departure>,
    expected: bool,
    off_hours: bool,
    /// A broker's own mail with security words no rule recognised.
    unrecognised: bool,
    reasons: Vec<Reason>,
}

/// Judges a classified mail.
pub fn assess(mail: &Mail, class: &Classification, ctx: &Context) -> Verdict {
    let mut reasons: Vec<Reason> = class.notes.clone();
    let pack = class.pack;
    if let Some(claim) = &class.claim {
        reasons.push(Reason::Claim(claim.clone()));
    }
    let authentic =
        pack.and_then(|p| authentic::authenticity(mail, p, &ctx.config.authserv_ids, &mut reasons));
    let phishing = phishing(mail, class, authentic, &mut reasons);
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
        expected = expected::expectation_reason(p, ev, &class.fields, ctx)
            .map(|r| reasons.push(r))
            .is_some();
    }
    let off_hours = !phishing
        && !expected
        && event == Some(EventKind::Login)
        && login_off_hours(mail, pack, ctx, &mut reasons);
    let mut f = Findings {
        unrecognised: !phishing && event.is_none() && !class.unrecognised.is_empty(),
        authentic,
        phishing,
        event,
        off_profile,
        expected,
        off_hours,
        reasons,
    };
    let severity = severity(&mut f, class, ctx);
    verdict(mail, class, f, severity)
}

/// Whether a broker's mail is a phishing copy: our server said it is not genuine, or it comes
/// from a foreign domain, imitates the broker, or (not vouched for) sends you to log in elsewhere.
fn phishing(
    mail: &Mail,
    class: &Classification,
    authentic: Option<bool>,
    reasons: &mut Vec<Reason>,
) -> bool {
    let pack = class.pack;
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
    pack.is_some()
        && (authentic == Some(false)
            || foreign_sender
            || !class.imitations.is_empty()
            || (authentic != Some(true) && foreign_login_link))
}

/// How loud: a phishing copy and an expected notice have their own; then what no rule
/// recognised, a trade off the profile, a login off hours, and the event's configured severity.
fn severity(f: &mut Findings, class: &Classification, ctx: &Context) -> Severity {
    if f.phishing {
        f.reasons.push(Reason::Phishing);
        ctx.config.phishing_severity
    } else if f.expected {
        Severity::Info
    } else if f.unrecognised {
        f.reasons.push(Reason::Unrecognised {
            broker: class.pack.map(|p| p.name.clone()),
            words: class.unrecognised.clone(),
        });
        Severity::Warning
    } else if !f.off_profile.is_empty() {
        ctx.config
            .trading_profile
            .as_ref()
            .map_or(Severity::Warning, |p| p.severity(&f.off_profile))
    } else if f.off_hours {
        Severity::Critical
    } else {
        f.event.map_or(Severity::None, |e| {
            ctx.config.severity.get(&e).copied().unwrap_or_default()
        })
    }
}

fn verdict(mail: &Mail, class: &Classification, f: Findings, severity: Severity) -> Verdict {
    let pack = class.pack;
    Verdict {
        message_id: mail.message_id.clone(),
        broker: pack.map(|p| p.id.clone()),
        event: f.event,
        authentic: f.authentic,
        phishing: f.phishing,
        expected: f.expected,
        severity,
        rule: class.rule.map(|r| r.id.clone()),
        fields: class.fields.clone(),
        reasons: f.reasons,
        broker_name: pack.map(|p| p.name.clone()),
        subject: mail.subject.clone(),
        sender: mail.from.as_ref().map(|f| f.address.clone()),
        unrecognised: if f.unrecognised {
            class.unrecognised.clone()
        } else {
            Vec::new()
        },
        generic: class.generic,
        off_profile: f.off_profile,
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
