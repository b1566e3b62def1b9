//! Reading host names the way a browser and the DNS do: the host a link really opens (WHATWG URL
//! parsing, `url`), the Unicode of `xn--` labels (`idna`), and the registrable domain by the
//! Public Suffix List (`psl`). Links and look-alike judgement both read hosts through here.

use unicode_normalization::UnicodeNormalization;
use url::{Host, Url};

/// The host a browser opens for `href`, if it is an absolute or protocol-relative web link;
/// `None` for mailto:, tel:, javascript:, fragments and relative links. IDN hosts come back in
/// their ASCII (`xn--`) form, the one a browser connects to.
pub fn href_host(href: &str) -> Option<String> {
    // NOTE: browsers drop tabs and newlines anywhere in a URL; `url` does too, but the
    // protocol-relative test below must see the URL without them.
    let href: String = href
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    let href = href.trim_matches(|c: char| c <= ' ');
    let mut start = href.chars();
    let relative_scheme = start.next().is_some_and(|c| matches!(c, '/' | '\\'))
        && start.next().is_some_and(|c| matches!(c, '/' | '\\'));
    // NOTE: `//evil.example/` opens on the page's own scheme; a mail is no page, so assume https.
    let url = if relative_scheme {
        Url::parse(&format!("https:{href}"))
    } else {
        Url::parse(href)
    }
    .ok()?;
    if !matches!(url.scheme(), "http" | "https" | "ftp" | "ws" | "wss") {
        return None;
    }
    let host = match url.host()? {
        Host::Domain(d) => plain_host(d),
        Host::Ipv4(a) => a.to_string(),
        Host::Ipv6(a) => a.to_string(),
    };
    (!host.is_empty()).then_some(host)
}

/// A host the way a browser resolves it: NFKC (full-width letters and dots become ASCII),
/// lowercase, ideographic full stops as dots, no userinfo, no whitespace, no outer dots.
pub fn plain_host(domain: &str) -> String {
    let d = domain.rsplit('@').next().unwrap_or(domain);
    let d: String = d
        .nfkc()
        .flat_map(char::to_lowercase)
        .map(|c| if c == '\u{3002}' { '.' } else { c })
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .collect();
    d.trim_matches('.').to_string()
}

/// `xn--…` to Unicode (lowercase NFKC); a label that does not decode stays as written.
pub fn decode_label(label: &str) -> String {
    match label
        .strip_prefix("xn--")
        .and_then(idna::punycode::decode_to_string)
    {
        Some(u) => u.nfkc().flat_map(char::to_lowercase).collect(),
        None => label.to_string(),
    }
}

/// How many trailing labels of a plain host (see [`plain_host`]) make its public suffix; an
/// unlisted top-level domain is a suffix of one label.
pub fn suffix_labels(plain: &str) -> usize {
    psl::suffix(plain.as_bytes()).map_or(1, |s| {
        s.as_bytes().iter().filter(|b| **b == b'.').count() + 1
    })
}

/// The registrable domain of a host (public suffix plus one label), lowercase with `xn--` labels
/// decoded, so that `www.sbisec.co.jp` and `sbisec.co.jp` give the same. IP addresses stay whole.
pub fn registrable_domain(host: &str) -> String {
    let plain = plain_host(host);
    if plain.is_empty() {
        return String::new();
    }
    let labels: Vec<String> = plain.split('.').map(decode_label).collect();
    let ip = plain.contains(':') || labels.iter().all(|l| l.bytes().all(|b| b.is_ascii_digit()));
    let from = if ip {
        0
    } else {
        labels.len().saturating_sub(suffix_labels(&plain) + 1)
    };
    labels[from..].join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn punycode_matches_rfc_3492() {
        for (unicode, ascii) in [
            ("bücher", "bcher-kva"),
            ("3年b組金八先生", "3b-ww4c5e180e575a65lsy2b"),
            ("sbisес", "sbis-y4d6e"),
        ] {
            assert_eq!(idna::punycode::encode_str(unicode).as_deref(), Some(ascii));
            assert_eq!(decode_label(&format!("xn--{ascii}")), unicode);
        }
        assert_eq!(
            idna::punycode::decode_to_string("3B-ww4c5e180e575a65lsy2b").as_deref(),
            Some("3年B組金八先生")
        );
        assert_eq!(decode_label("xn--abc-!!"), "xn--abc-!!");
        assert_eq!(
            decode_label("xn--99999999999"),
            "xn--99999999999",
            "overflow is refused"
        );
    }

    #[test]
    fn registrable_domains() {
        for (host, want) in [
            ("www.sbisec.co.jp", "sbisec.co.jp"),
            ("sbisec.co.jp.evil.example", "evil.example"),
            ("A.B.Example.COM.", "example.com"),
            ("xn--sbis-y4d6e.co.jp", "sbisес.co.jp"),
            ("phish.github.io", "phish.github.io"),
            ("co.jp", "co.jp"),
            ("192.168.0.1", "192.168.0.1"),
            ("", ""),
        ] {
            assert_eq!(registrable_domain(host), want, "{host}");
        }
    }
}
