//! Reasons about where a mail comes from and where its links go: how it claims the broker, a
//! foreign sender, look-alike domains, login links, a link that shows one domain and goes to
//! another. Each in English and Japanese.

use super::disguise::{detail, en_why};
use crate::alert::language::Language;
use crate::links::Mismatch;
use crate::rules::Claim;
use crate::rules::lookalike::LookAlike;

pub(super) fn claim(c: &Claim, lang: Language) -> String {
    match (c, lang) {
        (Claim::Domain(d), Language::En) => format!("sent from the broker's domain `{d}`"),
        (Claim::Domain(d), Language::Ja) => format!("証券会社のドメイン {d} から送信されています"),
        (Claim::DisplayName(n), Language::En) => format!("the sender's display name says `{n}`"),
        (Claim::DisplayName(n), Language::Ja) => format!("差出人名に「{n}」とあります"),
        (Claim::Wording(w), Language::En) => {
            format!("the mail presents itself as the broker: `{w}`")
        }
        (Claim::Wording(w), Language::Ja) => format!("本文で証券会社を名乗っています（「{w}」）"),
        (Claim::LookAlike(l), Language::En) => format!("look-alike: {}", en_why(l)),
        (Claim::LookAlike(l), Language::Ja) => format!(
            "{} は、証券会社のドメイン {} に似せたドメインです（{}）",
            l.shown,
            l.imitates,
            detail(l, lang)
        ),
    }
}

pub(super) fn foreign_sender(
    domain: &str,
    broker: &str,
    domains: &[String],
    lang: Language,
) -> String {
    match lang {
        Language::En => format!(
            "the sender's domain `{domain}` is not one of {broker}'s domains ({})",
            domains.join(", ")
        ),
        Language::Ja => format!(
            "送信元のドメイン {domain} は {broker} のドメイン（{}）ではありません",
            domains.join("、")
        ),
    }
}

/// A link to a look-alike of the claimed broker's own domain.
pub(super) fn imitation(host: &str, broker: &str, look: &LookAlike, lang: Language) -> String {
    match lang {
        Language::En => format!(
            "a link goes to `{host}`, an imitation of {broker}'s domain: {}",
            en_why(look)
        ),
        Language::Ja => format!(
            "リンク先 {host} は {broker} のドメインではありません（{} に似せた偽のドメインで、{}）",
            look.imitates,
            detail(look, lang)
        ),
    }
}

pub(super) fn login_link(host: &str, matched: &str, lang: Language) -> String {
    match lang {
        Language::En => format!(
            "links to a login or personal-details page (`{matched}` at `{host}`): since 2025-10-15 Japanese brokers must not put such links in mail"
        ),
        Language::Ja => format!(
            "ログインや個人情報の入力ページへのリンクがあります（{host} の「{matched}」）。2025年10月15日以降、国内の証券会社はこうしたリンクをメールに載せないことになっています"
        ),
    }
}

/// The sender's domain (`sender`) or a link imitates some broker.
pub(super) fn lookalike(l: &LookAlike, sender: bool, lang: Language) -> String {
    match (lang, sender) {
        (Language::En, true) => format!("the sender's domain imitates a broker: {}", en_why(l)),
        (Language::En, false) => format!("a link imitates a broker: {}", en_why(l)),
        (Language::Ja, _) => format!(
            "{} {} は、証券会社のドメイン {} に似せてあります（{}）",
            if sender {
                "送信元のドメイン"
            } else {
                "リンク先"
            },
            l.shown,
            l.imitates,
            detail(l, lang)
        ),
    }
}

pub(super) fn link_mismatch(m: &Mismatch, lang: Language) -> String {
    match lang {
        Language::En => crate::links::describe(m),
        Language::Ja => format!(
            "リンクの表示は {} ですが、実際の移動先は {} です",
            m.shown.replace('.', "[.]"),
            m.actual.replace('.', "[.]")
        ),
    }
}
