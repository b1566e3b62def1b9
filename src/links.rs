//! Links that show one domain and go to another: the phishing trick of writing the broker's real
//! login URL as the link text over a different target. Owns finding the domains a link's text
//! shows; which host an href really opens is `domain::href_host`.

use std::sync::LazyLock;

use regex::Regex;

pub use crate::domain::href_host;
use crate::domain::{plain_host, registrable_domain};
use crate::text::{Link, normalize, urls_in};

/// A link whose visible text names a domain other than the one it opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// The domain the reader sees in the link text.
    pub shown: String,
    /// The domain the href really goes to.
    pub actual: String,
}

/// Links whose text shows a URL or domain of another registrable domain than the href's, each
/// pair once. `www.sbisec.co.jp` over `https://sbisec.co.jp/` is fine; a tracking redirect is
/// reported, since where it ends up cannot be known from the mail.
pub fn mismatches(links: &[Link]) -> Vec<Mismatch> {
    let mut out: Vec<Mismatch> = Vec::new();
    for link in links {
        let Some(actual) = href_host(&link.href) else {
            continue;
        };
        let shown = shown_hosts(&link.text);
        let target = registrable_domain(&actual);
        if shown.iter().any(|s| registrable_domain(s) == target) {
            continue;
        }
        if let Some(shown) = shown.into_iter().next() {
            let m = Mismatch { shown, actual };
            if !out.contains(&m) {
                out.push(m);
            }
        }
    }
    out
}

/// One line for explanations, with both domains defanged: "a link shows `www[.]sbisec[.]co[.]jp`
/// but goes to `evil[.]example`".
pub fn describe(m: &Mismatch) -> String {
    format!(
        "a link shows `{}` but goes to `{}`",
        m.shown.replace('.', "[.]"),
        m.actual.replace('.', "[.]")
    )
}

/// Dotted names in plain text. Letters of the scripts domains are imitated in, not Japanese:
/// `sbisec.co.jpへ` must end at `jp`.
static BARE_DOMAIN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:[\p{Latin}\p{Cyrillic}\p{Greek}0-9-]+\.)+[\p{Latin}\p{Cyrillic}\p{Greek}0-9-]+")
        .expect("static regex")
});

/// File extensions that look like top-level domains in text (`report.pdf`).
const NOT_TLDS: &str = "\
    htm html php asp aspx jsp cgi pdf doc docx xls xlsx ppt pptx txt csv zip gz exe png jpg \
    jpeg gif svg webp js css json xml eml msg mp3 mp4 mov ics";

/// The hosts a link's text shows: of URLs written in it, then of bare domains.
fn shown_hosts(text: &str) -> Vec<String> {
    let mut text = normalize(text);
    let urls = urls_in(&text);
    let mut hosts: Vec<String> = urls.iter().filter_map(|u| href_host(u)).collect();
    for u in &urls {
        text = text.replace(u.as_str(), " ");
    }
    for m in BARE_DOMAIN.find_iter(&text) {
        let name = m.as_str().to_lowercase();
        let tld = name.rsplit('.').next().unwrap_or("");
        let tld_ok = (tld.len() >= 2 && tld.bytes().all(|b| b.is_ascii_alphabetic()))
            || tld.starts_with("xn--");
        let labels_ok = name
            .split('.')
            .all(|l| !l.is_empty() && !l.starts_with('-') && !l.ends_with('-'));
        if tld_ok && labels_ok && !NOT_TLDS.split_whitespace().any(|t| t == tld) {
            hosts.push(plain_host(&name));
        }
    }
    hosts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(text: &str, href: &str) -> Link {
        Link {
            text: text.into(),
            href: href.into(),
        }
    }

    fn pairs(links: &[Link]) -> Vec<(String, String)> {
        mismatches(links)
            .into_iter()
            .map(|m| (m.shown, m.actual))
            .collect()
    }

    /// Link text | href | the (shown, actual) domains reported, or `-` when the link goes where
    /// it says (or shows no domain, or is not a web link). `EVIL` is `https://evil.example/login`.
    const CASES: &str = r#"
https://www.sbisec.co.jp/          | EVIL                                | www.sbisec.co.jp evil.example
www.sbisec.co.jp                   | https://sbisec.co.jp/ETGate         | -
WWW.SBISEC.CO.JP                   | https://www.sbisec.co.jp            | -
ｗｗｗ．ｓｂｉｓｅｃ．ｃｏ．ｊｐ   | https://site1.sbisec.co.jp/         | -
sbisec.co.jp                       | https://sbisec.co.jp.evil.example/  | sbisec.co.jp sbisec.co.jp.evil.example
公式サイト sbisec.co.jpへ          | EVIL                                | sbisec.co.jp evil.example
ログインはこちら                   | EVIL                                | -
info@sbisec.co.jp                  | mailto:info@sbisec.co.jp            | -
0120-104-214                       | tel:0120104214                      | -
www.sbisec.co.jp                   | #top                                | -
www.sbisec.co.jp                   | /login                              | -
www.sbisec.co.jp                   | javascript:void(0)                  | -
https://www.schwab.com/            | https://click.mailer.example/?u=abc | www.schwab.com click.mailer.example
https://www.sbisec.co.jp/          | https://evil.example\@www.sbisec.co.jp/ | www.sbisec.co.jp evil.example
https://www.sbisec.co.jp/          | https://www.sbisec.co.jp@evil.example/  | www.sbisec.co.jp evil.example
https://www.sbisec.co.jp/          | //evil.example/x                    | www.sbisec.co.jp evil.example
https://www.sbisec.co.jp/          | HTTPS:\\evil%2Eexample:443          | www.sbisec.co.jp evil.example
https://sbisес.co.jp/              | https://xn--sbis-y4d6e.co.jp/       | -
https://10.0.0.1/                  | https://192.168.0.1/                | 10.0.0.1 192.168.0.1
mine.github.io                     | https://phish.github.io/            | mine.github.io phish.github.io
statement.pdf                      | EVIL                                | -
e.g. version 1.2                   | EVIL                                | -
Visit www.sbisec.co.jp or sbisec.co.jp. | https://www.sbisec.co.jp/      | -
"#;

    #[test]
    fn shown_and_actual_domains() {
        let mut n = 0;
        for row in CASES.lines().filter(|l| !l.trim().is_empty()) {
            let cols: Vec<&str> = row.split(" | ").map(str::trim).collect();
            let [text, href, want] = cols[..] else {
                panic!("bad row {row:?}")
            };
            let href = href.replace("EVIL", "https://evil.example/login");
            let want: Vec<(String, String)> = match want.split_once(' ') {
                Some((s, a)) => vec![(s.to_string(), a.to_string())],
                None => Vec::new(),
            };
            assert_eq!(
                pairs(&[link(text, &href)]),
                want,
                "text {text:?} href {href:?}"
            );
            n += 1;
        }
        assert!(n >= 10);
        // NOTE: browsers drop newlines and tabs inside a URL.
        let split = link(
            "https://www.sbisec.co.jp/",
            "ht\ntps://www.sbisec.co.jp/x\t",
        );
        assert_eq!(pairs(&[split]), []);
    }

    #[test]
    fn a_repeated_link_is_reported_once() {
        let l = link("https://www.sbisec.co.jp/", "https://evil.example/");
        let other = link("www.rakuten-sec.co.jp", "https://evil.example/");
        assert_eq!(mismatches(&[l.clone(), l, other]).len(), 2);
    }

    #[test]
    fn description_is_defanged() {
        let m = Mismatch {
            shown: "www.sbisec.co.jp".into(),
            actual: "evil.example".into(),
        };
        assert_eq!(
            describe(&m),
            "a link shows `www[.]sbisec[.]co[.]jp` but goes to `evil[.]example`"
        );
    }

    #[test]
    fn odd_links_never_panic() {
        let long = format!("https://{}.example/", "a".repeat(10_000));
        let odd = [
            "",
            ":",
            "://",
            "http://",
            "https://@",
            "https://[",
            "https://[::1]:8080/",
            "%",
            "%e",
            "%zz",
            "%ff%fe",
            "//",
            "\\\\",
            "..",
            "xn--",
            "https://xn--/",
            "é://x",
            "https://é.",
            "\u{0}",
            long.as_str(),
            "https://a%2",
        ];
        for a in odd {
            for b in odd {
                let _ = mismatches(&[link(a, b)]);
            }
            let _ = href_host(a);
        }
    }
}
