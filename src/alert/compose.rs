//! What to tell a person about a verdict: whether it deserves an alert at all, its kind, and
//! its text. Plain text; every URL from a mail defanged; nothing secret ever reaches here.

use crate::alert::AlertKind;
use crate::assess::Verdict;
use crate::config::{Config, SinkKind};
use crate::event::{EventKind, Severity};
use crate::rules::Pack;
use crate::text::{defang_all, defang_url, truncate_chars};

/// The alert a verdict calls for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Composed {
    pub kind: AlertKind,
    pub severity: Severity,
    pub title: String,
    pub body: String,
    pub actionable: bool,
}

/// Decides whether a verdict alerts, and composes the text. None: nothing to tell.
/// Every URL, host and address in the result is defanged, whatever part of the mail it came from.
pub fn compose(v: &Verdict, pack: Option<&Pack>, links: &[crate::text::Link]) -> Option<Composed> {
    compose_raw(v, pack, links).map(|mut c| {
        c.title = defang_all(&c.title);
        c.body = defang_all(&c.body);
        c
    })
}

fn compose_raw(v: &Verdict, pack: Option<&Pack>, links: &[crate::text::Link]) -> Option<Composed> {
    let name = v
        .broker_name
        .clone()
        .unwrap_or_else(|| "unknown sender".into());
    if v.reasons.iter().any(|r| r.starts_with("unparseable")) {
        return Some(Composed {
            kind: AlertKind::Health,
            severity: Severity::Info,
            title: "brokerwatch: a mail could not be read".into(),
            body: format!(
                "{}\nIt was recorded; check it by hand in your mailbox.",
                v.reasons.join("\n")
            ),
            actionable: false,
        });
    }
    if v.phishing {
        return Some(Composed {
            kind: AlertKind::Phishing,
            severity: v.severity,
            title: format!("{name}: looks like a phishing copy — do not click, do not reply"),
            body: phishing_body(v, &name, links),
            actionable: false,
        });
    }
    if !v.unrecognised.is_empty() {
        return Some(Composed {
            kind: AlertKind::Unexpected,
            severity: v.severity,
            title: format!("{name}: a notice brokerwatch does not recognise — read it"),
            body: unrecognised_body(v, &name, pack),
            actionable: true,
        });
    }
    let event = v
        .event
        .filter(|e| e.is_security() || (*e == EventKind::Trade && !v.off_profile.is_empty()))?;
    if v.expected {
        return Some(Composed {
            kind: AlertKind::Expected,
            severity: Severity::Info,
            title: format!("{name}: expected {} seen", event.describe()),
            body: details(v),
            actionable: false,
        });
    }
    if v.severity < Severity::Warning {
        return None;
    }
    Some(Composed {
        kind: AlertKind::Unexpected,
        severity: v.severity,
        title: if event == EventKind::Trade {
            trade_title(v, &name)
        } else {
            format!(
                "{name}: {}{} — not expected",
                label(event, &name),
                amount(v)
            )
        },
        body: unexpected_body(v, event, &name, pack),
        actionable: true,
    })
}

/// The event in the broker's customers' language.
fn label(e: EventKind, broker_name: &str) -> &'static str {
    if broker_name.is_ascii() {
        return e.describe();
    }
    match e {
        EventKind::Withdrawal => "出金",
        EventKind::EmailChange => "メールアドレス変更",
        EventKind::PayoutAccountChange => "出金先口座の変更",
        EventKind::Login => "ログイン",
        EventKind::PasswordChange => "パスワード変更",
        EventKind::MfaChange => "認証設定の変更",
        EventKind::ProfileChange => "登録情報の変更",
        EventKind::Trade => "取引",
        other => other.describe(),
    }
}

/// "SBI証券: 売却 7203 トヨタ自動車 — not in your trading profile".
fn trade_title(v: &Verdict, name: &str) -> String {
    let ja = !name.is_ascii();
    let side = match (v.fields.get("side").map(String::as_str), ja) {
        (Some("sell"), true) => "売却",
        (Some("buy"), true) => "買付",
        (Some("sell"), false) => "sale",
        (Some("buy"), false) => "purchase",
        (_, true) => "取引",
        (_, false) => "trade",
    };
    let what: Vec<&str> = ["code", "instrument"]
        .iter()
        .filter_map(|k| v.fields.get(*k).map(String::as_str))
        .collect();
    let what = if what.is_empty() {
        String::new()
    } else {
        format!(" {}", truncate_chars(&what.join(" "), 60))
    };
    format!(
        "{name}: {side}{what}{} — not in your trading profile",
        amount(v)
    )
}

/// The trade line a burst adds to its first alert: "+ 売却 7203 トヨタ自動車 100 @ 2,850 (executed)".
pub fn burst_line(v: &Verdict) -> String {
    let f = |k: &str| v.fields.get(k).map(String::as_str).unwrap_or("");
    let mut parts: Vec<String> = [f("side"), f("code"), f("instrument"), f("quantity")]
        .iter()
        .filter(|s| !s.is_empty())
        .map(|s| s.to_string())
        .collect();
    if !f("price").is_empty() {
        parts.push(format!("@ {}", f("price")));
    }
    if !f("amount").is_empty() {
        parts.push(format!("= {}", f("amount")));
    }
    if !f("stage").is_empty() {
        parts.push(format!("({})", f("stage")));
    }
    defang_all(&format!(
        "\nAnother trade outside your profile in this burst: {}",
        truncate_chars(&parts.join(" "), 200)
    ))
}

fn amount(v: &Verdict) -> String {
    match (v.fields.get("amount"), v.fields.get("currency")) {
        (Some(a), Some(c)) => format!(" {a} {c}"),
        (Some(a), None) => format!(" {a}"),
        _ => String::new(),
    }
}

fn details(v: &Verdict) -> String {
    let mut lines = vec![format!(
        "Subject: {}",
        truncate_chars(&defang_all(&v.subject), 200)
    )];
    if let Some(s) = &v.sender {
        lines.push(format!("From: {}", defang_all(s)));
    }
    for (k, val) in &v.fields {
        lines.push(format!("{}: {}", k.replace('_', " "), defang_all(val)));
    }
    lines.join("\n")
}

fn unexpected_body(v: &Verdict, e: EventKind, name: &str, pack: Option<&Pack>) -> String {
    let mut out = format!(
        "{name} reports: {} — nobody said to expect it.\n{}",
        e.describe(),
        details(v)
    );
    for why in &v.off_profile {
        out.push_str(&format!("\nOutside your trading profile: {why}"));
    }
    if v.generic {
        out.push_str(&format!(
            "\nRecognised by generic wording: {name}'s own rules did not match, so read the mail itself."
        ));
    }
    out.push_str(&sender_check(v));
    out.push_str("\n\nIf it was you: acknowledge it (\"It was me\", or brokerwatch ack <id>).");
    out.push_str("\nIf it was NOT you: do not use any link in the mail.");
    if let Some(p) = pack {
        out.push_str(&playbook(p));
    }
    out
}

/// The last resort: a mail from the broker's own domain that speaks of security in words no rule
/// knows. Never silent on a broker's own mail.
fn unrecognised_body(v: &Verdict, name: &str, pack: Option<&Pack>) -> String {
    let words: Vec<String> = v.unrecognised.iter().map(|w| format!("「{w}」")).collect();
    let mut out = format!(
        "{name} sent a notice brokerwatch does not recognise; it mentions {} — read it.\n{}",
        words.join(", "),
        details(v)
    );
    out.push_str(&sender_check(v));
    out.push_str("\n\nIf it is routine or it was you: acknowledge it (\"It was me\", or brokerwatch ack <id>).");
    out.push_str("\nIf it reports something you did NOT do: do not use any link in the mail.");
    if let Some(p) = pack {
        out.push_str(&playbook(p));
    }
    out
}

fn sender_check(v: &Verdict) -> String {
    let auth = match v.authentic {
        Some(true) => "genuine: your mail server verified the sender",
        Some(false) => "NOT verified by your mail server",
        None => "sender not verified (no Authentication-Results from your server)",
    };
    format!("\nSender check: {auth}")
}

/// The broker's official contact and steps, from the pack (never from a mail).
pub fn playbook(p: &Pack) -> String {
    let mut out = String::new();
    if !p.contact.phone.is_empty() {
        out.push_str(&format!(
            "\nCall {} now: {}",
            p.name,
            p.contact.phone.join(" / ")
        ));
    }
    if let Some(u) = &p.contact.url {
        out.push_str(&format!(
            "\nOfficial site (type it yourself): {}",
            defang_url(u)
        ));
    }
    for (i, s) in p.contact.steps.iter().enumerate() {
        out.push_str(&format!("\n{}. {s}", i + 1));
    }
    out
}

fn phishing_body(v: &Verdict, name: &str, links: &[crate::text::Link]) -> String {
    let mut out = format!(
        "This mail claims to come from {name} but is not authentic. Do not click any link, do not reply, do not open attachments.\n{}",
        details(v)
    );
    out.push_str("\nWhy:");
    for r in v
        .reasons
        .iter()
        .filter(|r| !r.starts_with("looks like a phishing"))
    {
        out.push_str(&format!("\n- {}", defang_all(r)));
    }
    let hosts: Vec<String> = links
        .iter()
        .filter_map(|l| crate::links::href_host(&l.href))
        .fold(Vec::new(), |mut acc, h| {
            if !acc.contains(&h) {
                acc.push(h);
            }
            acc
        });
    if !hosts.is_empty() {
        let shown: Vec<String> = hosts
            .iter()
            .take(5)
            .map(|h| h.replace('.', "[.]"))
            .collect();
        out.push_str(&format!("\nLinks in it go to: {}", shown.join(", ")));
    }
    out
}

/// Which sinks a severity goes to and how often it repeats, as the config says.
pub fn route(config: &Config, severity: Severity) -> (Vec<SinkKind>, Option<std::time::Duration>) {
    match config.escalation.get(&severity) {
        Some(p) => (p.sinks.clone(), p.repeat),
        None => (Vec::new(), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict() -> Verdict {
        Verdict {
            message_id: Some("m1@kabu.com".into()),
            broker: Some("kabucom".into()),
            event: None,
            authentic: None,
            phishing: false,
            expected: false,
            severity: Severity::Warning,
            rule: None,
            fields: Default::default(),
            reasons: vec![],
            broker_name: Some("auカブコム証券".into()),
            subject: "【auKabucom】重要なお知らせ https://kabu.com/x".into(),
            sender: Some("support@kabu.com".into()),
            unrecognised: vec!["ログインパスワード".into()],
            generic: false,
            off_profile: Vec::new(),
            date: None,
            date_offset: None,
        }
    }

    fn pack() -> Pack {
        Pack {
            id: "kabucom".into(),
            name: "auカブコム証券".into(),
            contact: crate::rules::Contact {
                phone: vec!["0120-000-000".into()],
                url: Some("https://kabu.com/".into()),
                steps: vec!["ログインパスワードを変更する".into()],
            },
            ..Pack::default()
        }
    }

    #[test]
    fn an_unrecognised_notice_is_an_actionable_warning_naming_its_words() {
        let c = compose(&verdict(), Some(&pack()), &[]).expect("an alert");
        assert_eq!(c.kind, AlertKind::Unexpected);
        assert_eq!(c.severity, Severity::Warning);
        assert!(c.actionable);
        assert!(c.title.contains("does not recognise"), "{}", c.title);
        assert!(c.body.contains("「ログインパスワード」"), "{}", c.body);
        assert!(c.body.contains("sender not verified"), "{}", c.body);
        assert!(c.body.contains("0120-000-000"), "{}", c.body);
        assert!(
            !c.body.contains("https://"),
            "links are defanged: {}",
            c.body
        );
    }

    #[test]
    fn a_generic_match_says_so() {
        let mut v = verdict();
        v.unrecognised.clear();
        v.event = Some(EventKind::PayoutAccountChange);
        v.rule = Some("generic-payout-account-change".into());
        v.severity = Severity::Critical;
        v.generic = true;
        let c = compose(&v, Some(&pack()), &[]).expect("an alert");
        assert_eq!(c.kind, AlertKind::Unexpected);
        assert!(c.title.contains("出金先口座の変更"), "{}", c.title);
        assert!(
            c.body.contains("Recognised by generic wording"),
            "{}",
            c.body
        );
    }
}
