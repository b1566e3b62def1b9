//! The bodies of the alerts a notice raises: what happened, the cues, and what to do.

use super::{label, playbook};
use crate::alert::language::Language;
use crate::alert::wording::{field_ja, value_ja};
use crate::assess::Verdict;
use crate::assess::reason::Reason;
use crate::event::EventKind;
use crate::rules::Pack;
use crate::text::{defang_all, truncate_chars};

pub(super) fn details(v: &Verdict, lang: Language) -> String {
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

pub(super) fn unexpected_body(
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
    for d in &v.off_profile {
        out.push_str(&format!(
            "\n{}: {}",
            lang.pick("取引プロフィールと異なる点", "Outside your trading profile"),
            d.text(lang)
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
pub(super) fn unrecognised_body(
    v: &Verdict,
    name: &str,
    pack: Option<&Pack>,
    lang: Language,
) -> String {
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

pub(super) fn phishing_body(
    v: &Verdict,
    name: &str,
    links: &[crate::text::Link],
    lang: Language,
) -> String {
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
