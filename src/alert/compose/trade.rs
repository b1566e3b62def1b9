//! The texts of a trade outside the trading profile: its title, and the line a further trade
//! of the same burst adds to the first one's alert.

use crate::alert::language::Language;
use crate::alert::wording::value_ja;
use crate::assess::Verdict;
use crate::text::{defang_all, truncate_chars};

/// "SBI証券: 売却 7203 トヨタ自動車 — not in your trading profile".
pub(super) fn trade_title(v: &Verdict, name: &str, lang: Language) -> String {
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

pub(super) fn amount(v: &Verdict) -> String {
    match (v.fields.get("amount"), v.fields.get("currency")) {
        (Some(a), Some(c)) => format!(" {a} {c}"),
        (Some(a), None) => format!(" {a}"),
        _ => String::new(),
    }
}
