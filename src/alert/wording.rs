//! Small pieces of wording several texts share, in both languages: durations and "how long ago"
//! as a person says them.

use std::time::Duration;

use super::language::Language;
use crate::event::EventKind;
use crate::units::format_duration;

/// A duration as a command reply says it: `1h30m` in English (as it is typed), 「1時間30分」 in
/// Japanese.
pub fn duration(lang: Language, d: Duration) -> String {
    match lang {
        Language::En => format_duration(d),
        Language::Ja => {
            let mut s = d.as_secs();
            if s == 0 {
                return "0秒".into();
            }
            let mut out = String::new();
            for (unit, len) in [("日", 86_400), ("時間", 3600), ("分", 60), ("秒", 1)] {
                if s >= len {
                    out.push_str(&format!("{}{unit}", s / len));
                    s %= len;
                }
            }
            out
        }
    }
}

/// A window as a person says it: "30 minutes", "6 hours", "7 days" / 「30分」「6時間」「7日」.
pub fn window(lang: Language, w: Duration) -> String {
    let s = w.as_secs();
    match (lang, s) {
        (Language::En, s) if s < 120 => format!("{s} seconds"),
        (Language::En, s) if s < 2 * 3600 => format!("{} minutes", s / 60),
        (Language::En, s) if s < 2 * 86_400 => format!("{} hours", s / 3600),
        (Language::En, s) => format!("{} days", s / 86_400),
        (Language::Ja, s) if s < 120 => format!("{s}秒"),
        (Language::Ja, s) if s < 2 * 3600 => format!("{}分", s / 60),
        (Language::Ja, s) if s < 2 * 86_400 => format!("{}時間", s / 3600),
        (Language::Ja, s) => format!("{}日", s / 86_400),
    }
}

/// How long ago, from minutes: "just now", "5 min ago", "3 h ago" / 「たった今」「5分前」.
pub fn ago(lang: Language, mins: i64) -> String {
    match (lang, mins) {
        (Language::En, 0) => "just now".into(),
        (Language::En, m) if m < 120 => format!("{m} min ago"),
        (Language::En, m) if m < 48 * 60 => format!("{} h ago", m / 60),
        (Language::En, m) => format!("{} days ago", m / 1440),
        (Language::Ja, 0) => "たった今".into(),
        (Language::Ja, m) if m < 120 => format!("{m}分前"),
        (Language::Ja, m) if m < 48 * 60 => format!("{}時間前", m / 60),
        (Language::Ja, m) => format!("{}日前", m / 1440),
    }
}

/// A field's name as a Japanese reader knows it; unknown names stay as written.
pub fn field_ja(k: &str) -> Option<&'static str> {
    Some(match k {
        "amount" => "金額",
        "currency" => "通貨",
        "bank" => "金融機関",
        "account_last_digits" => "口座番号（下桁）",
        "new_email_masked" => "新しいメールアドレス",
        "ip" => "IPアドレス",
        "device" => "端末",
        "side" => "売買",
        "instrument" => "銘柄",
        "code" => "銘柄コード",
        "market" => "市場",
        "quantity" => "数量",
        "price" => "単価",
        "account_type" => "口座区分",
        "stage" => "状況",
        _ => return None,
    })
}

/// The canonical values of the trade fields in Japanese; any other value as written.
pub fn value_ja<'a>(k: &str, v: &'a str) -> &'a str {
    match (k, v) {
        ("side", "sell") => "売却",
        ("side", "buy") => "買付",
        ("stage", "executed") => "約定",
        ("stage", "accepted") => "受付",
        ("stage", "cancelled") => "取消",
        ("stage", "expired") => "失効",
        ("account_type", "nisa_tsumitate") => "NISA つみたて投資枠",
        ("account_type", "nisa_growth") => "NISA 成長投資枠",
        ("account_type", "nisa") => "NISA",
        ("account_type", "margin") => "信用",
        ("account_type", "specific") => "特定口座",
        ("account_type", "general") => "一般口座",
        _ => v,
    }
}

/// The event in the reader's language; in English, a Japanese broker's events keep the words
/// its customers know from its mails.
pub fn label(e: EventKind, broker_name: &str, lang: Language) -> &'static str {
    if lang == Language::En && broker_name.is_ascii() {
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
        EventKind::Deposit if lang == Language::Ja => "入金",
        EventKind::Statement if lang == Language::Ja => "取引報告書",
        EventKind::Dividend if lang == Language::Ja => "配当金",
        EventKind::Marketing if lang == Language::Ja => "お知らせ",
        other => other.describe(),
    }
}

/// The event as an English alert's title names it: `label`, and for a Japanese broker the
/// English word first, so a reader who knows no Japanese still sees what happened on a phone's
/// lock screen, where only the title shows ("withdrawal (出金)").
pub fn title_event_en(e: EventKind, broker_name: &str) -> String {
    let kept = label(e, broker_name, Language::En);
    if kept == e.describe() {
        kept.to_string()
    } else {
        format!("{} ({kept})", e.describe())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_titles_name_the_event_in_english_first() {
        assert_eq!(
            title_event_en(EventKind::Withdrawal, "SBI証券"),
            "withdrawal (出金)"
        );
        assert_eq!(title_event_en(EventKind::Login, "Charles Schwab"), "login");
    }

    #[test]
    fn durations_read_naturally_in_both_languages() {
        let d = Duration::from_secs(90 * 60);
        assert_eq!(duration(Language::En, d), "1h30m");
        assert_eq!(duration(Language::Ja, d), "1時間30分");
        assert_eq!(window(Language::Ja, Duration::from_secs(7 * 86_400)), "7日");
        assert_eq!(
            window(Language::En, Duration::from_secs(1800)),
            "30 minutes"
        );
        assert_eq!(ago(Language::Ja, 0), "たった今");
        assert_eq!(ago(Language::En, 180), "3 h ago");
    }
}
