//! The wording of an assessment's reasons ([`Reason`]) in both languages. English is the `--json`
//! contract and stays as it always read; Japanese is written for the alert's 「判断の根拠」.
//! Hosts are shown as the mail has them; the alert defangs its whole text. Reasons about senders,
//! links and look-alikes are worded in `origin` (the look-alike detail in `disguise`); the
//! authentication, expectation and other reasons here.

mod disguise;
mod origin;

use super::{Reason, Vouch};
use crate::alert::language::Language;
use crate::alert::wording::label;
use crate::event::EventKind;

/// `r` in `lang`.
pub fn render(r: &Reason, lang: Language) -> String {
    match r {
        Reason::Unparseable(why) => unparseable(why, lang),
        Reason::Forwarded(by) => forwarded(by.as_deref(), lang),
        Reason::Claim(c) => origin::claim(c, lang),
        Reason::ForeignSender {
            domain,
            broker,
            domains,
        } => origin::foreign_sender(domain, broker, domains, lang),
        Reason::Imitation { host, broker, look } => origin::imitation(host, broker, look, lang),
        Reason::LoginLink { host, matched } => origin::login_link(host, matched, lang),
        Reason::SenderLookAlike(l) => origin::lookalike(l, true, lang),
        Reason::LinkLookAlike(l) => origin::lookalike(l, false, lang),
        Reason::LinkMismatch(m) => origin::link_mismatch(m, lang),
        Reason::NoAuthservIds => pick(lang, NO_AUTHSERV_IDS),
        Reason::Forged => pick(lang, FORGED),
        Reason::NoAuthResults => pick(lang, NO_AUTH_RESULTS),
        Reason::Authentic { id, vouch } => authentic(id, vouch, lang),
        Reason::NotAuthentic { id, broker, said } => not_authentic(id, broker, said, lang),
        Reason::Generic { rule, broker } => generic(rule, broker, lang),
        Reason::OffProfile(d) => match lang {
            Language::En => format!(
                "outside your trading profile ({}): {}",
                d.kind,
                d.text(Language::En)
            ),
            Language::Ja => format!("取引プロフィールと異なります: {}", d.text(Language::Ja)),
        },
        Reason::Declared {
            event,
            broker,
            id,
            note,
        } => declared(*event, broker, *id, note.as_deref(), lang),
        Reason::Allowance {
            event,
            max_amount,
            account_suffix,
        } => allowance(*event, *max_amount, account_suffix.as_deref(), lang),
        Reason::OffHours { at, from, to } => off_hours(*at, *from, *to, lang),
        Reason::Phishing => pick(lang, PHISHING),
        Reason::Unrecognised { broker, words } => unrecognised(broker.as_deref(), words, lang),
    }
}

/// (Japanese, English) of the reasons that carry no facts.
type Pair = (&'static str, &'static str);

const NO_AUTHSERV_IDS: Pair = (
    "送信元を確認できません（信頼するメールサーバー authserv_ids が設定されていません）",
    "authenticity unknown: no trusted `authserv_ids` configured",
);
const FORGED: Pair = (
    "このサーバーの名前で書かれた Authentication-Results が、サーバー自身の Received 行より下にあります。送信者が書き込んだ偽の結果です",
    "an Authentication-Results header naming our server stands below its own Received line: the sender wrote it (forgery)",
);
const NO_AUTH_RESULTS: Pair = (
    "送信元を確認できません（このサーバーの Authentication-Results がありません）",
    "authenticity unknown: no Authentication-Results from our server",
);
const PHISHING: Pair = (
    "フィッシングメールの疑いがあります。リンクを開かず、返信しないでください",
    "looks like a phishing copy: do not click, do not reply",
);

fn pick(lang: Language, (ja, en): Pair) -> String {
    lang.pick(ja, en).to_string()
}

fn unparseable(why: &str, lang: Language) -> String {
    match lang {
        Language::En => format!("unparseable: {why}"),
        Language::Ja => format!("メールを読み取れませんでした（{why}）"),
    }
}

fn forwarded(by: Option<&str>, lang: Language) -> String {
    match lang {
        Language::En => format!(
            "forwarded by {}: a forwarded or quoted notice is not a new event",
            by.unwrap_or("an unknown sender")
        ),
        Language::Ja => format!(
            "{}転送されたメールです。転送・引用されたお知らせは、新しい操作の通知ではありません",
            by.map_or("差出人不明のアドレスから".to_string(), |b| format!(
                "{b} から"
            ))
        ),
    }
}

fn authentic(id: &str, vouch: &Vouch, lang: Language) -> String {
    match (vouch, lang) {
        (Vouch::Dkim(d), Language::En) => format!("authentic: {id} says dkim=pass for `{d}`"),
        (Vouch::Dmarc(d), Language::En) => format!("authentic: {id} says dmarc=pass for `{d}`"),
        (Vouch::Dkim(d), Language::Ja) => {
            format!("正規の送信元です（{id} が {d} の DKIM 署名を確認しました）")
        }
        (Vouch::Dmarc(d), Language::Ja) => {
            format!("正規の送信元です（{id} が {d} の DMARC を確認しました）")
        }
    }
}

fn not_authentic(id: &str, broker: &str, said: &[String], lang: Language) -> String {
    let results = |none: &str, sep| {
        if said.is_empty() {
            none.to_string()
        } else {
            said.join(sep)
        }
    };
    match lang {
        Language::En => format!(
            "not authentic: {id} did not vouch for a {broker} domain ({})",
            results("no results", ", ")
        ),
        Language::Ja => format!(
            "正規の送信元と確認できません（{id} は {broker} のドメインからの送信と認めていません。結果: {}）",
            results("なし", "、")
        ),
    }
}

fn generic(rule: &str, broker: &str, lang: Language) -> String {
    match lang {
        Language::En => format!(
            "recognised by generic wording (rule `{rule}`): {broker}'s own rules did not match; read the mail itself"
        ),
        Language::Ja => format!(
            "一般的な文言から判別しました（ルール {rule}）。{broker}用のルールには一致しなかったため、メール本文を直接確認してください"
        ),
    }
}

fn declared(event: EventKind, broker: &str, id: i64, note: Option<&str>, lang: Language) -> String {
    match lang {
        Language::En => format!(
            "expected: declared {event} at {broker} (expectation #{id}{})",
            note.map(|n| format!(": {n}")).unwrap_or_default()
        ),
        Language::Ja => format!(
            "予定どおりです（{broker}の{}として登録された予定 #{id}{}）",
            label(event, broker, Language::Ja),
            note.map(|n| format!("：{n}")).unwrap_or_default()
        ),
    }
}

fn allowance(
    event: EventKind,
    max_amount: Option<u64>,
    account_suffix: Option<&str>,
    lang: Language,
) -> String {
    match lang {
        Language::En => format!(
            "expected: standing allowance for {event}{}{}",
            max_amount
                .map(|m| format!(" up to {m}"))
                .unwrap_or_default(),
            account_suffix
                .map(|s| format!(" to account ****{s}"))
                .unwrap_or_default()
        ),
        Language::Ja => format!(
            "予定どおりです（{}の常時許可の範囲内{}{}）",
            label(event, "", Language::Ja),
            max_amount
                .map(|m| format!("、上限 {m}"))
                .unwrap_or_default(),
            account_suffix
                .map(|s| format!("、口座 ****{s} 宛て"))
                .unwrap_or_default()
        ),
    }
}

fn off_hours(at: i64, from: u32, to: u32, lang: Language) -> String {
    let (at, from, to) = (hhmm(at), hhmm(i64::from(from)), hhmm(i64::from(to)));
    match lang {
        Language::En => format!("a login at {at}, outside your usual hours ({from}-{to})"),
        Language::Ja => {
            format!("{at} のログインです。普段の時間帯（{from}〜{to}）から外れています")
        }
    }
}

fn unrecognised(broker: Option<&str>, words: &[String], lang: Language) -> String {
    match lang {
        Language::En => format!(
            "{} sent a notice brokerwatch does not recognise; it mentions {} — read it",
            broker.unwrap_or("the broker"),
            quoted(words, ", ")
        ),
        Language::Ja => format!(
            "{}から、brokerwatchが判別できないお知らせが届きました（{}）。本文を確認してください",
            broker.unwrap_or("証券会社"),
            quoted(words, "、")
        ),
    }
}

/// Minutes of the day as `HH:MM`.
fn hhmm(minute: i64) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

fn quoted(words: &[String], sep: &str) -> String {
    words
        .iter()
        .map(|w| format!("「{w}」"))
        .collect::<Vec<_>>()
        .join(sep)
}

#[cfg(test)]
mod tests;
