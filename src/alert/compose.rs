//! What to tell a person about a verdict: whether it deserves an alert at all, its kind, and
//! its text. Plain text; every URL from a mail defanged; nothing secret ever reaches here.

pub use super::wording::label;
use crate::alert::AlertKind;
use crate::alert::language::Language;
pub use crate::alert::wording::{field_ja, value_ja};
use crate::assess::Verdict;
use crate::assess::reason::Reason;
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
    let ja = lang == Language::Ja;
    let name = v
        .broker_name
        .clone()
        .unwrap_or_else(|| lang.pick("不明な差出人", "unknown sender").into());
    if v.reasons.iter().any(|r| r.is_unparseable()) {
        return Some(Composed {
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
                v.reasons
                    .iter()
                    .map(|r| r.text(lang))
                    .collect::<Vec<_>>()
                    .join("\n"),
                lang.pick(
                    "記録は残してあります。メールボックスで内容を直接確認してください。",
                    "It was recorded; check it by hand in your mailbox."
                )
            ),
            actionable: false,
        });
    }
    if v.phishing {
        return Some(Composed {
            kind: AlertKind::Phishing,
            severity: v.severity,
            title: if ja {
                format!(
                    "{name}を装ったフィッシングメールの疑い — リンクを開かず、返信しないでください"
                )
            } else {
                format!("{name}: looks like a phishing copy — do not click, do not reply")
            },
            body: phishing_body(v, &name, links, lang),
            actionable: false,
        });
    }
    if !v.unrecognised.is_empty() {
        return Some(Composed {
            kind: AlertKind::Unexpected,
            severity: v.severity,
            title: if ja {
                format!("{name}: 判別できないお知らせ — 内容を確認してください")
            } else {
                format!("{name}: a notice brokerwatch does not recognise — read it")
            },
            body: unrecognised_body(v, &name, pack, lang),
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
            title: if ja {
                format!(
                    "{name}: 予定どおりの{}を確認しました",
                    label(event, &name, lang)
                )
            } else {
                format!("{name}: expected {} seen", event.describe())
            },
            body: details(v, lang),
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
            trade_title(v, &name, lang)
        } else if ja {
            format!(
                "{name}: 予定にない{}{}",
                label(event, &name, lang),
                amount(v)
            )
        } else {
            format!(
                "{name}: {}{} — not expected",
                label(event, &name, lang),
                amount(v)
            )
        },
        body: unexpected_body(v, event, &name, pack, lang),
        actionable: true,
    })
}

/// "SBI証券: 売却 7203 トヨタ自動車 — not in your trading profile".
fn trade_title(v: &Verdict, name: &str, lang: Language) -> String {
    let ja = lang == Language::Ja || !name.is_ascii();
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
    match lang {
        Language::Ja => format!("{name}: 取引プロフィール外の{side}{what}{}", amount(v)),
        Language::En => format!(
            "{name}: {side}{what}{} — not in your trading profile",
            amount(v)
        ),
    }
}

/// The trade line a burst adds to its first alert: "+ 売却 7203 トヨタ自動車 100 @ 2,850 (executed)".
pub fn burst_line(v: &Verdict, lang: Language) -> String {
    let f = |k: &str| v.fields.get(k).map(String::as_str).unwrap_or("");
    let side = match lang {
        Language::Ja => value_ja("side", f("side")),
        Language::En => f("side"),
    };
    let mut parts: Vec<String> = [side, f("code"), f("instrument"), f("quantity")]
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
        match (lang, parts.last_mut()) {
            (Language::Ja, Some(last)) => {
                last.push_str(&format!("（{}）", value_ja("stage", f("stage"))))
            }
            (Language::Ja, None) => parts.push(format!("（{}）", value_ja("stage", f("stage")))),
            (Language::En, _) => parts.push(format!("({})", f("stage"))),
        }
    }
    let lead = lang.pick(
        "同じ時間帯に、取引プロフィール外の取引がもう1件あります",
        "Another trade outside your profile in this burst",
    );
    defang_all(&format!(
        "\n{lead}: {}",
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

fn details(v: &Verdict, lang: Language) -> String {
    let ja = lang == Language::Ja;
    let mut lines = vec![format!(
        "{}: {}",
        lang.pick("件名", "Subject"),
        truncate_chars(&defang_all(&v.subject), 200)
    )];
    if let Some(s) = &v.sender {
        lines.push(format!(
            "{}: {}",
            lang.pick("差出人", "From"),
            defang_all(s)
        ));
    }
    for (k, val) in &v.fields {
        match field_ja(k).filter(|_| ja) {
            Some(name) => lines.push(format!("{name}: {}", defang_all(value_ja(k, val)))),
            None => lines.push(format!("{}: {}", k.replace('_', " "), defang_all(val))),
        }
    }
    lines.join("\n")
}

fn unexpected_body(
    v: &Verdict,
    e: EventKind,
    name: &str,
    pack: Option<&Pack>,
    lang: Language,
) -> String {
    let mut out = match lang {
        Language::Ja => {
            let what = label(e, name, lang);
            format!(
                "{name}から{what}の通知が届きました。予定にない{what}です。\n{}",
                details(v, lang)
            )
        }
        Language::En => format!(
            "{name} reports: {} — nobody said to expect it.\n{}",
            e.describe(),
            details(v, lang)
        ),
    };
    for why in &v.off_profile {
        out.push_str(&format!(
            "\n{}: {why}",
            lang.pick("取引プロフィールと異なる点", "Outside your trading profile")
        ));
    }
    if v.generic {
        out.push_str(&match lang {
            Language::Ja => format!(
                "\n一般的な文言から判別しました。{name}用のルールには一致しなかったため、メール本文を直接確認してください。"
            ),
            Language::En => format!(
                "\nRecognised by generic wording: {name}'s own rules did not match, so read the mail itself."
            ),
        });
    }
    out.push_str(&sender_check(v, lang));
    out.push_str(lang.pick(
        "\n\nご自身の操作であれば、確認済みにしてください（「確認済みにする」ボタン、または brokerwatch ack <id>）。",
        "\n\nIf it was you: acknowledge it (\"It was me\", or brokerwatch ack <id>).",
    ));
    out.push_str(lang.pick(
        "\n心当たりがなければ、メール内のリンクは使わずに、すぐに証券会社へ連絡してください。",
        "\nIf it was NOT you: do not use any link in the mail.",
    ));
    if let Some(p) = pack {
        out.push_str(&playbook(p, lang));
    }
    out
}

/// The last resort: a mail from the broker's own domain that speaks of security in words no rule
/// knows. Never silent on a broker's own mail.
fn unrecognised_body(v: &Verdict, name: &str, pack: Option<&Pack>, lang: Language) -> String {
    let words: Vec<String> = v.unrecognised.iter().map(|w| format!("「{w}」")).collect();
    let mut out = match lang {
        Language::Ja => format!(
            "{name}から、brokerwatchが判別できないお知らせが届きました。{}に関する内容です。必ず本文を確認してください。\n{}",
            words.join("、"),
            details(v, lang)
        ),
        Language::En => format!(
            "{name} sent a notice brokerwatch does not recognise; it mentions {} — read it.\n{}",
            words.join(", "),
            details(v, lang)
        ),
    };
    out.push_str(&sender_check(v, lang));
    out.push_str(lang.pick(
        "\n\n通常のお知らせ、またはご自身の操作であれば、確認済みにしてください（「確認済みにする」ボタン、または brokerwatch ack <id>）。",
        "\n\nIf it is routine or it was you: acknowledge it (\"It was me\", or brokerwatch ack <id>).",
    ));
    out.push_str(lang.pick(
        "\n心当たりのない操作が書かれていれば、メール内のリンクは使わないでください。",
        "\nIf it reports something you did NOT do: do not use any link in the mail.",
    ));
    if let Some(p) = pack {
        out.push_str(&playbook(p, lang));
    }
    out
}

fn sender_check(v: &Verdict, lang: Language) -> String {
    let auth = match (v.authentic, lang) {
        (Some(true), Language::Ja) => "正規の送信元です（メールサーバーが確認済み）",
        (Some(false), Language::Ja) => "メールサーバーで正規の送信元と確認できませんでした",
        (None, Language::Ja) => "未確認（メールサーバーの Authentication-Results がありません）",
        (Some(true), Language::En) => "genuine: your mail server verified the sender",
        (Some(false), Language::En) => "NOT verified by your mail server",
        (None, Language::En) => "sender not verified (no Authentication-Results from your server)",
    };
    format!("\n{}: {auth}", lang.pick("送信元の確認", "Sender check"))
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

fn phishing_body(v: &Verdict, name: &str, links: &[crate::text::Link], lang: Language) -> String {
    let mut out = match lang {
        Language::Ja => format!(
            "{name}を名乗っていますが、本物のメールではありません。リンクを開かず、返信せず、添付ファイルも開かないでください。\n{}",
            details(v, lang)
        ),
        Language::En => format!(
            "This mail claims to come from {name} but is not authentic. Do not click any link, do not reply, do not open attachments.\n{}",
            details(v, lang)
        ),
    };
    out.push_str(lang.pick("\n判断の根拠:", "\nWhy:"));
    for r in v.reasons.iter().filter(|r| **r != Reason::Phishing) {
        out.push_str(&format!("\n- {}", defang_all(&r.text(lang))));
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
        out.push_str(&format!(
            "\n{}: {}",
            lang.pick("メール内のリンク先", "Links in it go to"),
            shown.join(", ")
        ));
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
                steps: crate::rules::Steps::same(vec!["ログインパスワードを変更する".into()]),
            },
            ..Pack::default()
        }
    }

    #[test]
    fn an_unrecognised_notice_is_an_actionable_warning_naming_its_words() {
        let c = compose(&verdict(), Some(&pack()), &[], Language::En).expect("an alert");
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
        let c = compose(&v, Some(&pack()), &[], Language::En).expect("an alert");
        assert_eq!(c.kind, AlertKind::Unexpected);
        assert!(c.title.contains("出金先口座の変更"), "{}", c.title);
        assert!(
            c.body.contains("Recognised by generic wording"),
            "{}",
            c.body
        );
    }
}
