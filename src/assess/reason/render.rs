//! The wording of an assessment's reasons ([`Reason`]) in both languages. English is the `--json`
//! contract and stays as it always read; Japanese is written for the alert's 「判断の根拠」.
//! Hosts are shown as the mail has them; the alert defangs its whole text.

use super::{Reason, Vouch};
use crate::alert::language::Language;
use crate::alert::wording::label;
use crate::rules::Claim;

/// `r` in `lang`.
pub fn render(r: &Reason, lang: Language) -> String {
    match lang {
        Language::En => en(r),
        Language::Ja => ja(r),
    }
}

fn en(r: &Reason) -> String {
    match r {
        Reason::Unparseable(why) => format!("unparseable: {why}"),
        Reason::Forwarded(by) => format!(
            "forwarded by {}: a forwarded or quoted notice is not a new event",
            by.as_deref().unwrap_or("an unknown sender")
        ),
        Reason::Claim(c) => match c {
            Claim::Domain(d) => format!("sent from the broker's domain `{d}`"),
            Claim::DisplayName(n) => format!("the sender's display name says `{n}`"),
            Claim::Wording(w) => format!("the mail presents itself as the broker: `{w}`"),
            Claim::LookAlike(l) => format!("look-alike: {}", l.why),
        },
        Reason::ForeignSender {
            domain,
            broker,
            domains,
        } => format!(
            "the sender's domain `{domain}` is not one of {broker}'s domains ({})",
            domains.join(", ")
        ),
        Reason::Imitation { host, broker, look } => format!(
            "a link goes to `{host}`, an imitation of {broker}'s domain: {}",
            look.why
        ),
        Reason::LoginLink { host, matched } => format!(
            "links to a login or personal-details page (`{matched}` at `{host}`): since 2025-10-15 Japanese brokers must not put such links in mail"
        ),
        Reason::SenderLookAlike(l) => format!("the sender's domain imitates a broker: {}", l.why),
        Reason::LinkLookAlike(l) => format!("a link imitates a broker: {}", l.why),
        Reason::LinkMismatch(m) => crate::links::describe(m),
        Reason::NoAuthservIds => {
            "authenticity unknown: no trusted `authserv_ids` configured".into()
        }
        Reason::Forged => "an Authentication-Results header naming our server stands below its own Received line: the sender wrote it (forgery)".into(),
        Reason::NoAuthResults => {
            "authenticity unknown: no Authentication-Results from our server".into()
        }
        Reason::Authentic { id, vouch } => match vouch {
            Vouch::Dkim(d) => format!("authentic: {id} says dkim=pass for `{d}`"),
            Vouch::Dmarc(d) => format!("authentic: {id} says dmarc=pass for `{d}`"),
        },
        Reason::NotAuthentic { id, broker, said } => format!(
            "not authentic: {id} did not vouch for a {broker} domain ({})",
            if said.is_empty() {
                "no results".to_string()
            } else {
                said.join(", ")
            }
        ),
        Reason::Generic { rule, broker } => format!(
            "recognised by generic wording (rule `{rule}`): {broker}'s own rules did not match; read the mail itself"
        ),
        Reason::OffProfile(d) => format!(
            "outside your trading profile ({}): {}",
            d.kind,
            d.text(Language::En)
        ),
        Reason::Declared {
            event,
            broker,
            id,
            note,
        } => format!(
            "expected: declared {event} at {broker} (expectation #{id}{})",
            note.as_ref().map(|n| format!(": {n}")).unwrap_or_default()
        ),
        Reason::Allowance {
            event,
            max_amount,
            account_suffix,
        } => format!(
            "expected: standing allowance for {event}{}{}",
            max_amount.map(|m| format!(" up to {m}")).unwrap_or_default(),
            account_suffix
                .as_ref()
                .map(|s| format!(" to account ****{s}"))
                .unwrap_or_default()
        ),
        Reason::OffHours { at, from, to } => format!(
            "a login at {}, outside your usual hours ({}-{})",
            hhmm(*at),
            hhmm(i64::from(*from)),
            hhmm(i64::from(*to))
        ),
        Reason::Phishing => "looks like a phishing copy: do not click, do not reply".into(),
        Reason::Unrecognised { broker, words } => format!(
            "{} sent a notice brokerwatch does not recognise; it mentions {} — read it",
            broker.as_deref().unwrap_or("the broker"),
            quoted(words, ", ")
        ),
    }
}

fn ja(r: &Reason) -> String {
    match r {
        Reason::Unparseable(why) => format!("メールを読み取れませんでした（{why}）"),
        Reason::Forwarded(by) => format!(
            "{}転送されたメールです。転送・引用されたお知らせは、新しい操作の通知ではありません",
            by.as_ref().map_or("差出人不明のアドレスから".to_string(), |b| format!("{b} から"))
        ),
        Reason::Claim(c) => match c {
            Claim::Domain(d) => format!("証券会社のドメイン {d} から送信されています"),
            Claim::DisplayName(n) => format!("差出人名に「{n}」とあります"),
            Claim::Wording(w) => format!("本文で証券会社を名乗っています（「{w}」）"),
            Claim::LookAlike(l) => format!(
                "{} は、証券会社のドメイン {} に似せたドメインです",
                l.shown, l.imitates
            ),
        },
        Reason::ForeignSender {
            domain,
            broker,
            domains,
        } => format!(
            "送信元のドメイン {domain} は {broker} のドメイン（{}）ではありません",
            domains.join("、")
        ),
        Reason::Imitation { host, broker, look } => format!(
            "リンク先 {host} は {broker} のドメインではありません（{} に似せた偽のドメインです）",
            look.imitates
        ),
        Reason::LoginLink { host, matched } => format!(
            "ログインや個人情報の入力ページへのリンクがあります（{host} の「{matched}」）。2025年10月15日以降、国内の証券会社はこうしたリンクをメールに載せないことになっています"
        ),
        Reason::SenderLookAlike(l) => format!(
            "送信元のドメイン {} は、証券会社のドメイン {} に似せてあります",
            l.shown, l.imitates
        ),
        Reason::LinkLookAlike(l) => format!(
            "リンク先 {} は、証券会社のドメイン {} に似せてあります",
            l.shown, l.imitates
        ),
        Reason::LinkMismatch(m) => format!(
            "リンクの表示は {} ですが、実際の移動先は {} です",
            m.shown.replace('.', "[.]"),
            m.actual.replace('.', "[.]")
        ),
        Reason::NoAuthservIds => {
            "送信元を確認できません（信頼するメールサーバー authserv_ids が設定されていません）".into()
        }
        Reason::Forged => "このサーバーの名前で書かれた Authentication-Results が、サーバー自身の Received 行より下にあります。送信者が書き込んだ偽の結果です".into(),
        Reason::NoAuthResults => {
            "送信元を確認できません（このサーバーの Authentication-Results がありません）".into()
        }
        Reason::Authentic { id, vouch } => match vouch {
            Vouch::Dkim(d) => format!("正規の送信元です（{id} が {d} の DKIM 署名を確認しました）"),
            Vouch::Dmarc(d) => format!("正規の送信元です（{id} が {d} の DMARC を確認しました）"),
        },
        Reason::NotAuthentic { id, broker, said } => format!(
            "正規の送信元と確認できません（{id} は {broker} のドメインからの送信と認めていません。結果: {}）",
            if said.is_empty() {
                "なし".to_string()
            } else {
                said.join("、")
            }
        ),
        Reason::Generic { rule, broker } => format!(
            "一般的な文言から判別しました（ルール {rule}）。{broker}用のルールには一致しなかったため、メール本文を直接確認してください"
        ),
        Reason::OffProfile(d) => format!("取引プロフィールと異なります: {}", d.text(Language::Ja)),
        Reason::Declared {
            event,
            broker,
            id,
            note,
        } => format!(
            "予定どおりです（{broker}の{}として登録された予定 #{id}{}）",
            label(*event, broker, Language::Ja),
            note.as_ref().map(|n| format!("：{n}")).unwrap_or_default()
        ),
        Reason::Allowance {
            event,
            max_amount,
            account_suffix,
        } => format!(
            "予定どおりです（{}の常時許可の範囲内{}{}）",
            label(*event, "", Language::Ja),
            max_amount.map(|m| format!("、上限 {m}")).unwrap_or_default(),
            account_suffix
                .as_ref()
                .map(|s| format!("、口座 ****{s} 宛て"))
                .unwrap_or_default()
        ),
        Reason::OffHours { at, from, to } => format!(
            "{} のログインです。普段の時間帯（{}〜{}）から外れています",
            hhmm(*at),
            hhmm(i64::from(*from)),
            hhmm(i64::from(*to))
        ),
        Reason::Phishing => {
            "フィッシングメールの疑いがあります。リンクを開かず、返信しないでください".into()
        }
        Reason::Unrecognised { broker, words } => format!(
            "{}から、brokerwatchが判別できないお知らせが届きました（{}）。本文を確認してください",
            broker.as_deref().unwrap_or("証券会社"),
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
