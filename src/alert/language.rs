//! The language of every text a person reads: alerts, repeats, command replies, buttons and
//! `status` lines. Each text is written in both languages where it is produced; this type only
//! says which one a person gets.

use serde::Deserialize;

/// `language: ja | en` in the config. `Default` (English) is for values built in code; the
/// config's own default is the locale ([`Language::from_locale`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Ja,
    #[default]
    En,
}

impl Language {
    /// The language of the locale (`LC_ALL`, then `LC_MESSAGES`, then `LANG`, as POSIX orders
    /// them): Japanese for a `ja` locale, English for any other or none.
    pub fn from_locale() -> Self {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let locale = var("LC_ALL")
            .or_else(|| var("LC_MESSAGES"))
            .or_else(|| var("LANG"));
        Self::of_locale(locale.as_deref())
    }

    fn of_locale(locale: Option<&str>) -> Self {
        match locale {
            Some(l) if l.to_ascii_lowercase().starts_with("ja") => Self::Ja,
            _ => Self::En,
        }
    }

    /// The text of this language out of a pair written side by side where it is used.
    pub fn pick<'a>(self, ja: &'a str, en: &'a str) -> &'a str {
        match self {
            Self::Ja => ja,
            Self::En => en,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Language;

    #[test]
    fn the_locale_decides() {
        assert_eq!(Language::of_locale(Some("ja_JP.UTF-8")), Language::Ja);
        assert_eq!(Language::of_locale(Some("JA_jp")), Language::Ja);
        assert_eq!(Language::of_locale(Some("en_US.UTF-8")), Language::En);
        assert_eq!(Language::of_locale(Some("C.UTF-8")), Language::En);
        assert_eq!(Language::of_locale(None), Language::En);
        assert_eq!(Language::Ja.pick("出金", "withdrawal"), "出金");
        assert_eq!(Language::En.pick("出金", "withdrawal"), "withdrawal");
    }
}
