//! What to tell a person about a verdict: whether it deserves an alert at all, its kind, and
//! its text. Plain text; every URL from a mail defanged; nothing secret ever reaches here.
//!
//! The text is composed in the language asked for; an alert is composed once per language when
//! it is raised, so that each recipient reads it in theirs.

mod body;
#[cfg(test)]
mod tests;
mod trade;

pub use super::wording::label;
use super::wording::title_event_en;
use crate::alert::AlertKind;
use crate::alert::language::Language;
pub use crate::alert::wording::{field_ja, value_ja};
use crate::assess::Verdict;
use crate::config::{Config, SinkKind};
use crate::event::{EventKind, Severity};
use crate::rules::Pack;
use crate::text::{defang_all, defang_url};
use body::{details, phishing_body, unexpected_body, unrecognised_body};
pub use trade::burst_line;
use trade::{amount, trade_title};

/// The alert a verdict calls for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Composed {
    pub kind: AlertKind,
    pub severity: Severity,
    pub title: String,
    pub body: String,
    pub actionable: bool,
}

/// Decides whether a verdict alerts, and composes the text in `lang`. None: nothing to tell.
/// Every URL, host and address in the result is defanged, whatever part of the mail it came from.
pub fn compose(
    v: &Verdict,
    pack: Option<&Pack>,
    links: &[crate::text::Link],
    lang: Language,
) -> Option<Composed> {
    compose_raw(v, pack, links, lang).map(|mut c| {
        c.title = defang_all(&c.title);
        c.body = defang_all(&c.body);
        c
    })
}

fn compose_raw(
    v: &Verdict,
    pack: Option<&Pack>,
    links: &[crate::text::Link],
    lang: Language,
) -> Option<Composed> {
    let name = v
        .broker_name
        .clone()
        .unwrap_or_else(|| lang.pick("不明な差出人", "unknown sender").into());
    if v.reasons.iter().any(|r| r.is_unparseable()) {
        return Some(unreadable(v, lang));
    }
    if v.phishing {
        return Some(Composed {
            kind: AlertKind::Phishing,
            severity: v.severity,
            title: match lang {
                Language::Ja => format!(
                    "{name}を装ったフィッシングメールの疑い — リンクを開かず、返信しないでください"
                ),
                Language::En => {
                    format!("{name}: looks like a phishing copy — do not click, do not reply")
                }
            },
            body: phishing_body(v, &name, links, lang),
            actionable: false,
        });
    }
    if !v.unrecognised.is_empty() {
        return Some(Composed {
            kind: AlertKind::Unexpected,
            severity: v.severity,
            title: match lang {
                Language::Ja => format!("{name}: 判別できないお知らせ — 内容を確認してください"),
                Language::En => {
                    format!("{name}: a notice brokerwatch does not recognise — read it")
                }
            },
            body: unrecognised_body(v, &name, pack, lang),
            actionable: true,
        });
    }
    let event = v
        .event
        .filter(|e| e.is_security() || (*e == EventKind::Trade && !v.off_profile.is_empty()))?;
    if v.expected {
        return Some(expected(v, event, &name, lang));
    }
    (v.severity >= Severity::Warning).then(|| unexpected(v, event, &name, pack, lang))
}

/// A mail that could not be read: brokerwatch's own health, told so that nothing goes unseen.
fn unreadable(v: &Verdict, lang: Language) -> Composed {
    let reasons: Vec<String> = v.reasons.iter().map(|r| r.text(lang)).collect();
    Composed {
        kind: AlertKind::Health,
        severity: Severity::Info,
        title: lang
            .pick(
                "brokerwatch: 読み取れないメールがありました",
                "brokerwatch: a mail could not be read",
            )
            .into(),
        body: format!(
            "{}\n{}",
            reasons.join("\n"),
            lang.pick(
                "記録は残してあります。メールボックスで内容を直接確認してください。",
                "It was recorded; check it by hand in your mailbox."
            )
        ),
        actionable: false,
    }
}

/// A notice someone said to expect: a quiet confirmation.
fn expected(v: &Verdict, event: EventKind, name: &str, lang: Language) -> Composed {
    Composed {
        kind: AlertKind::Expected,
        severity: Severity::Info,
        title: match lang {
            Language::Ja => format!(
                "{name}: 予定どおりの{}を確認しました",
                label(event, name, lang)
            ),
            Language::En => format!("{name}: expected {} seen", event.describe()),
        },
        body: details(v, lang),
        actionable: false,
    }
}

/// A security notice (or a trade outside the profile) nobody said to expect.
fn unexpected(
    v: &Verdict,
    event: EventKind,
    name: &str,
    pack: Option<&Pack>,
    lang: Language,
) -> Composed {
    Composed {
        kind: AlertKind::Unexpected,
        severity: v.severity,
        title: match lang {
            _ if event == EventKind::Trade => trade_title(v, name, lang),
            Language::Ja => format!(
                "{name}: 予定にない{}{}",
                label(event, name, lang),
                amount(v)
            ),
            Language::En => format!(
                "{name}: {}{} — not expected",
                title_event_en(event, name),
                amount(v)
            ),
        },
        body: unexpected_body(v, event, name, pack, lang),
        actionable: true,
    }
}

/// The broker's official contact and steps, from the pack (never from a mail).
pub fn playbook(p: &Pack, lang: Language) -> String {
    let mut out = String::new();
    if !p.contact.phone.is_empty() {
        let phones = p.contact.phone.join(" / ");
        out.push_str(&match lang {
            Language::Ja => format!("\n今すぐ{}へ電話してください: {phones}", p.name),
            Language::En => format!("\nCall {} now: {phones}", p.name),
        });
    }
    if let Some(u) = &p.contact.url {
        out.push_str(&format!(
            "\n{}: {}",
            lang.pick(
                "公式サイト（アドレスはご自身で入力してください）",
                "Official site (type it yourself)"
            ),
            defang_url(u)
        ));
    }
    for (i, s) in p.contact.steps.get(lang).iter().enumerate() {
        out.push_str(&format!("\n{}. {s}", i + 1));
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
