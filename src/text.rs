//! Text helpers shared by the stages: NFKC normalisation for matching, URL defanging for alerts,
//! and link extraction from HTML (in `html`).

mod html;

pub use html::{Link, html_links};

use std::sync::LazyLock;

use regex::Regex;
use unicode_normalization::UnicodeNormalization;

/// The form rules match on: NFKC (full-width digits, letters and spaces become ASCII, half-width
/// katakana full-width), CRLF as LF, NUL and other control characters (but tab and newline) removed.
pub fn normalize(s: &str) -> String {
    if already_normal(s) {
        // Most subjects, names and bodies are NFKC already: one scan instead of decomposing and
        // recomposing every character into a new string (NFKC was ≈ 6 % of a scan's CPU).
        return s.replace("\r\n", "\n");
    }
    s.replace("\r\n", "\n")
        .nfkc()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .collect()
}

/// Is `normalize(s)` just `s` with CRLF as LF? True when the quick check proves `s` NFKC and its
/// only control characters are tab, LF and CR before LF. Dropping such a CR leaves the text NFKC:
/// the LF after it is a starter that composes with nothing.
fn already_normal(s: &str) -> bool {
    let b = s.as_bytes();
    let controls_ok = b.iter().enumerate().all(|(i, &c)| match c {
        b'\n' | b'\t' => true,
        b'\r' => b.get(i + 1) == Some(&b'\n'),
        0..=0x1f | 0x7f => false,
        _ => true,
    });
    // C1 controls (U+0080..U+009F) are two bytes in UTF-8, 0xC2 0x80..0x9F.
    let no_c1 = !b
        .windows(2)
        .any(|w| w[0] == 0xc2 && (0x80..=0x9f).contains(&w[1]));
    controls_ok
        && no_c1
        && (s.is_ascii()
            || unicode_normalization::is_nfkc_quick(s.chars())
                == unicode_normalization::IsNormalized::Yes)
}

static URL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)\b(?:https?|ftp)://[^\s<>"'「」【】（）()]+"#).expect("static regex")
});

/// `https://evil.example/login` → `hxxps://evil[.]example/login`: readable, not clickable.
pub fn defang_url(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "http" => "hxxp".to_string(),
        "https" => "hxxps".to_string(),
        "ftp" => "fxp".to_string(),
        "" => String::new(),
        other => other.replace('t', "x"),
    };
    let (authority, path) = match rest.find(['/', '?', '#']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let authority = authority.replace('.', "[.]");
    let path = path.replace("://", "[:]//");
    if scheme.is_empty() {
        format!("{authority}{path}")
    } else {
        format!("{scheme}://{authority}{path}")
    }
}

static BARE_HOST: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:[a-z0-9_%+-]+(?:\.[a-z0-9_%+-]+)*@)?(?:[a-z0-9-]+\.)+[a-z]{2,}\b")
        .expect("static regex")
});

/// Replaces every URL, host name and address in a text by a defanged form, so that no sink
/// (Telegram links bare domains by itself) turns text from a mail into something clickable.
pub fn defang_all(text: &str) -> String {
    let urls = URL.replace_all(text, |c: &regex::Captures| defang_url(&c[0]));
    BARE_HOST
        .replace_all(&urls, |c: &regex::Captures| c[0].replace('.', "[.]"))
        .into_owned()
}

/// Every URL written in plain text.
pub fn urls_in(text: &str) -> Vec<String> {
    URL.find_iter(text)
        .map(|m| {
            m.as_str()
                .trim_end_matches(['.', ',', ')', ';'])
                .to_string()
        })
        .collect()
}

/// Cuts a text to at most `max` characters, marking the cut.
pub fn truncate_chars(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nfkc_makes_full_width_ascii() {
        assert_eq!(
            normalize("出金金額：１，２００，０００円"),
            "出金金額:1,200,000円"
        );
        assert_eq!(normalize("ｶﾀｶﾅ\u{3000}（税込）\r\n"), "カタカナ (税込)\n");
        assert_eq!(normalize("【SBI証券】"), "【SBI証券】");
        assert_eq!(normalize("a\u{0}b"), "ab");
    }

    #[test]
    fn the_fast_path_says_what_full_normalisation_says() {
        let slow = |s: &str| -> String {
            s.replace("\r\n", "\n")
                .nfkc()
                .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
                .collect()
        };
        for s in [
            "",
            "Sign-in alert\r\n",
            "【SBI証券】ログイン通知のお知らせ\r\n本文\tです",
            "e\r\u{301}",
            "e\u{301}\r\n",
            "a\rb\r",
            "x\u{85}y\u{9f}",
            "\u{7f}del",
            "ｶﾀｶﾅ１２３",
            "Ａ\r\n",
            "ﬁle ㈱ ①",
            "\r\n\r\n",
            "trailing\r",
        ] {
            assert_eq!(normalize(s), slow(s), "{s:?}");
        }
        assert!(already_normal("【SBI証券】ログイン\r\n") && !already_normal("ｶﾀｶﾅ"));
    }

    #[test]
    fn urls_are_defanged_and_hosts_found() {
        assert_eq!(
            defang_url("https://www.sbisec.co.jp/ETGate?x=1"),
            "hxxps://www[.]sbisec[.]co[.]jp/ETGate?x=1"
        );
        assert_eq!(
            defang_all("go to http://evil.example/a now"),
            "go to hxxp://evil[.]example/a now"
        );
        assert_eq!(
            defang_all("from support@sbisec-co-jp.com, see www.evil.example."),
            "from support@sbisec-co-jp[.]com, see www[.]evil[.]example."
        );
        let once = defang_all("https://a.example/x");
        assert_eq!(defang_all(&once), once, "defanging twice changes nothing");
    }
}
