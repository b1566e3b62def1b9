//! How a look-alike copies the genuine domain ([`Disguise`]), in each language: the detail in
//! brackets after "imitates" / 「…に似せてあります」.

use crate::alert::language::Language;
use crate::rules::lookalike::{Disguise, LookAlike, Swap};

/// The look-alike with its detail, as English has always read: `` `x` imitates `y` (detail) ``.
pub(super) fn en_why(l: &LookAlike) -> String {
    let read_as = (l.read_as.as_ref()).map_or_else(String::new, |r| format!(" read as `{r}`"));
    format!(
        "`{}`{read_as} imitates `{}` ({})",
        l.shown,
        l.imitates,
        detail(l, Language::En)
    )
}

/// The detail alone, for the bracket after the reason's own words.
pub(super) fn detail(l: &LookAlike, lang: Language) -> String {
    match lang {
        Language::En => en(&l.how),
        Language::Ja => {
            let read = (l.read_as.as_ref()).map(|r| format!("{r} と表示されます。"));
            format!("{}{}", read.unwrap_or_default(), ja(&l.how))
        }
    }
}

fn en(d: &Disguise) -> String {
    match d {
        Disguise::GenuineAsSubdomain { parent } => {
            format!("the genuine domain used as a subdomain of `{parent}`")
        }
        Disguise::DotsToHyphens => "its dots replaced by hyphens".into(),
        Disguise::DotsRemoved => "its dots removed".into(),
        Disguise::Letters { unicode, swap } => {
            let kind = if *unicode {
                "Unicode letters that look like Latin ones"
            } else {
                "look-alike characters"
            };
            match swap {
                Swap::Whole { raw, genuine } => format!("{kind}: `{raw}` reads as `{genuine}`"),
                Swap::Pairs(pairs) => {
                    let each = pairs.iter().map(|(x, y)| format!("`{x}` for `{y}`"));
                    format!("{kind}: {}", each.collect::<Vec<_>>().join(", "))
                }
            }
        }
        Disguise::HyphensMoved { name } => format!("the name `{name}` with hyphens moved"),
        Disguise::WordsAdded { name, words } => {
            let words = if words.is_empty() {
                "nothing".into()
            } else {
                ticked(words)
            };
            format!("the name `{name}` with {words} added")
        }
        Disguise::Swapped { name, a, b } => {
            format!("the name `{name}` split into `{a}` and `{b}`, swapped")
        }
        Disguise::OtherSuffix { suffix, genuine } => {
            format!("the same name under `.{suffix}` instead of `.{genuine}`")
        }
        Disguise::NameInSubdomain { name, parent } => {
            format!("the name `{name}` used in a subdomain of `{parent}`")
        }
        Disguise::Misspelt {
            name,
            letters,
            added,
        } => {
            let unit = if *letters == 1 { "letter" } else { "letters" };
            let plus = if added.is_empty() {
                String::new()
            } else {
                format!(", with {} added", ticked(added))
            };
            format!("the name `{name}` misspelt by {letters} {unit}{plus}")
        }
    }
}

fn ja(d: &Disguise) -> String {
    match d {
        Disguise::GenuineAsSubdomain { parent } => {
            format!("本物のドメインを {parent} のサブドメインとして使っています")
        }
        Disguise::DotsToHyphens => "本物のドメインの「.」を「-」に置き換えています".into(),
        Disguise::DotsRemoved => "本物のドメインから「.」を取り除いています".into(),
        Disguise::Letters { unicode, swap } => {
            let kind = if *unicode {
                "ラテン文字に似た別の文字で"
            } else {
                "見た目の似た文字で"
            };
            match swap {
                Swap::Whole { raw, genuine } => {
                    format!("{kind}「{raw}」と書き、「{genuine}」に見せかけています")
                }
                Swap::Pairs(pairs) => {
                    let each = pairs.iter().map(|(x, y)| format!("「{y}」を「{x}」に"));
                    format!(
                        "{kind}、{}置き換えています",
                        each.collect::<Vec<_>>().join("、")
                    )
                }
            }
        }
        Disguise::HyphensMoved { name } => format!("「{name}」の「-」の位置を変えています"),
        Disguise::WordsAdded { name, words } if words.is_empty() => {
            format!("「{name}」をそのまま使っています")
        }
        Disguise::WordsAdded { name, words } => {
            format!("「{name}」に{}を付け加えています", bracketed(words))
        }
        Disguise::Swapped { name, a, b } => {
            format!("「{name}」を「{a}」と「{b}」に分けて、前後を入れ替えています")
        }
        Disguise::OtherSuffix { suffix, genuine } => {
            format!("同じ名前で、末尾を「.{genuine}」ではなく「.{suffix}」にしています")
        }
        Disguise::NameInSubdomain { name, parent } => {
            format!("「{name}」という名前を {parent} のサブドメインに使っています")
        }
        Disguise::Misspelt {
            name,
            letters,
            added,
        } => {
            let plus = if added.is_empty() {
                String::new()
            } else {
                format!("、さらに{}を付け加えています", bracketed(added))
            };
            let changed = if added.is_empty() { "います" } else { "" };
            format!("「{name}」を{letters}文字だけ違う綴りにして{changed}{plus}")
        }
    }
}

fn ticked(words: &[String]) -> String {
    let each: Vec<String> = words.iter().map(|w| format!("`{w}`")).collect();
    each.join(", ")
}

fn bracketed(words: &[String]) -> String {
    let each: Vec<String> = words.iter().map(|w| format!("「{w}」")).collect();
    each.join("、")
}
