//! Parsing: raw RFC 5322 bytes → owned [`Mail`] facts, once, at the boundary.
//!
//! mail-parser does the MIME and charset work (with `full_encoding` for the Japanese charsets);
//! this module fixes what real Japanese mail gets wrong (ISO-2022-JP without a charset label,
//! unlabelled Shift_JIS/EUC-JP), keeps the trace headers in order for the authenticity check, and
//! separates a mail's own words from what it quotes or forwards. It never panics.

use std::sync::LazyLock;

use mail_parser::decoders::charsets::map::charset_decoder;
use mail_parser::{Encoding, MessageParser, MimeHeaders, PartType};
use regex::Regex;

use crate::text::{self, Link};

/// Bodies longer than this are cut before matching: notices are short, and matching stays bounded.
const MAX_TEXT: usize = 512 * 1024;

/// The sender as the From header gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sender {
    /// Lowercase address.
    pub address: String,
    /// The display name, decoded.
    pub name: Option<String>,
}

impl Sender {
    /// The address's domain (lowercase), or "" if it has none.
    pub fn domain(&self) -> &str {
        self.address.rsplit_once('@').map_or("", |(_, d)| d)
    }
}

/// A trace header, kept in the order they stand (topmost first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trace {
    AuthResults(String),
    Received(String),
}

/// What the rest of the pipeline needs to know about one mail.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mail {
    /// Without angle brackets.
    pub message_id: Option<String>,
    /// Decoded subject (not normalised).
    pub subject: String,
    pub from: Option<Sender>,
    /// Seconds since the epoch, from the Date header.
    pub date: Option<i64>,
    /// The Date header's own UTC offset in seconds (+09:00 → 32400): the sender's local time.
    pub date_offset: Option<i32>,
    /// The whole decoded text body (HTML converted to text when there is no text part).
    pub body: String,
    /// The body without quoted (`>`) lines and without any forwarded block.
    pub own_text: String,
    /// Anchors from HTML parts and URLs written in the text.
    pub links: Vec<Link>,
    pub trace: Vec<Trace>,
    /// Forwards another mail: a `Fwd:` subject, a forwarded block, or a message/rfc822 part.
    pub forwarded: bool,
    /// False when only the header block was fetched.
    pub complete: bool,
}

/// A mail that cannot be read at all; it is recorded and reported, not dropped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unparseable mail: {0}")]
pub struct Unparseable(pub String);

/// Parses a raw message (or a header block, with `complete = false`).
pub fn parse(raw: &[u8], complete: bool) -> Result<Mail, Unparseable> {
    if raw.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(Unparseable("empty message".into()));
    }
    // NOTE: mail-parser promises best effort but has panicked on malformed MIME (a debug
    // assertion on a message/rfc822 part tree, found by fuzzing); one hostile mail must not take
    // the daemon down, so a panic becomes an "unparseable" record.
    let msg = std::panic::catch_unwind(|| MessageParser::default().parse(raw))
        .map_err(|_| Unparseable("the MIME parser failed on this mail".into()))?
        .ok_or_else(|| Unparseable("no RFC 5322 structure found".into()))?;
    if msg.headers().is_empty() {
        return Err(Unparseable("no header fields".into()));
    }
    let subject = fix_iso2022(msg.subject().unwrap_or_default());
    let from = msg.from().and_then(|a| a.first()).map(|a| Sender {
        address: a.address().unwrap_or_default().trim().to_ascii_lowercase(),
        name: a
            .name()
            .map(|n| fix_iso2022(n).trim().to_string())
            .filter(|n| !n.is_empty()),
    });
    let (body, html) = if complete {
        bodies(&msg)
    } else {
        (String::new(), String::new())
    };
    let mut links = text::html_links(&html);
    links.extend(text::urls_in(&body).into_iter().map(|u| Link {
        text: u.clone(),
        href: u,
    }));
    let has_rfc822 = msg
        .attachments()
        .any(|p| matches!(p.body, PartType::Message(_)) || is_rfc822(p));
    let (own_text, forwarded_block) = own_words(&body);
    Ok(Mail {
        message_id: msg
            .message_id()
            .map(|m| m.trim_matches(['<', '>']).to_string()),
        forwarded: has_rfc822 || forwarded_block || FWD_SUBJECT.is_match(&subject),
        subject,
        from,
        date: msg.date().map(|d| d.to_timestamp()),
        date_offset: msg.date().map(|d| {
            let secs = i32::from(d.tz_hour) * 3600 + i32::from(d.tz_minute) * 60;
            if d.tz_before_gmt { -secs } else { secs }
        }),
        body,
        own_text,
        links,
        trace: trace_headers(&msg),
        complete,
    })
}

fn is_rfc822(p: &mail_parser::MessagePart) -> bool {
    p.content_type().is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case("message")
            && ct
                .subtype()
                .is_some_and(|s| s.eq_ignore_ascii_case("rfc822"))
    })
}

fn trace_headers(msg: &mail_parser::Message) -> Vec<Trace> {
    msg.headers_raw()
        .filter_map(|(name, value)| {
            let v = unfold(value);
            if name.eq_ignore_ascii_case("Authentication-Results") {
                Some(Trace::AuthResults(v))
            } else if name.eq_ignore_ascii_case("Received") {
                Some(Trace::Received(v))
            } else {
                None
            }
        })
        .collect()
}

fn unfold(v: &str) -> String {
    v.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The text body (all text parts joined) and the raw HTML (for links).
fn bodies(msg: &mail_parser::Message) -> (String, String) {
    let mut body = String::new();
    for i in 0..msg.text_body_count() {
        let Some(part) = msg.text_part(i as u32) else {
            continue;
        };
        let text = match &part.body {
            PartType::Text(t) => repair_text(msg, part, t),
            PartType::Html(h) => {
                mail_parser::decoders::html::html_to_text(&repair_text(msg, part, h))
            }
            _ => continue,
        };
        if !body.is_empty() {
            body.push('\n');
        }
        body.push_str(&text);
        if body.len() > MAX_TEXT {
            break;
        }
    }
    let mut html = String::new();
    for i in 0..msg.html_body_count() {
        if let Some(part) = msg.html_part(i as u32)
            && let PartType::Html(h) = &part.body
        {
            html.push_str(&repair_text(msg, part, h));
        }
    }
    (cut(body), cut(html))
}

fn cut(mut s: String) -> String {
    if s.len() > MAX_TEXT {
        let mut end = MAX_TEXT;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

/// Fixes a decoded text part whose charset label was missing or wrong.
fn repair_text(msg: &mail_parser::Message, part: &mail_parser::MessagePart, text: &str) -> String {
    if looks_iso2022(text) {
        return fix_iso2022(text);
    }
    let label = part
        .content_type()
        .and_then(|ct| ct.attribute("charset"))
        .map(|c| c.trim().to_ascii_lowercase());
    // NOTE: mail-parser does not know every alias Japanese mailers write (`cp932`, `x-sjis`);
    // an unknown label decodes like no label at all: as UTF-8, with U+FFFD for every SJIS byte.
    let known = label
        .as_deref()
        .is_some_and(|l| charset_decoder(l.as_bytes()).is_some());
    if known || !text.contains('\u{FFFD}') {
        return text.to_string();
    }
    let Some(raw) = raw_body(msg, part) else {
        return text.to_string();
    };
    let alias = label.as_deref().and_then(japanese_alias);
    let candidates: Vec<&[u8]> = match alias {
        Some(a) => vec![a],
        None => vec![b"shift_jis", b"euc-jp"],
    };
    for cs in candidates {
        if let Some(dec) = charset_decoder(cs) {
            let t = dec(&raw);
            if !t.contains('\u{FFFD}') || alias.is_some() {
                return t;
            }
        }
    }
    text.to_string()
}

/// Aliases of Japanese charsets that mailers write but mail-parser does not map.
fn japanese_alias(label: &str) -> Option<&'static [u8]> {
    match label {
        "cp932" | "x-sjis" | "sjis" | "ms_kanji" | "csshiftjis" | "x-ms-cp932" | "ibm-943" => {
            Some(b"windows-31j")
        }
        "eucjp" | "x-euc-jp" | "cseucpkdfmtjapanese" => Some(b"euc-jp"),
        _ => None,
    }
}

/// The part's body bytes after transfer decoding, straight from the raw message.
fn raw_body(msg: &mail_parser::Message, part: &mail_parser::MessagePart) -> Option<Vec<u8>> {
    let raw = msg
        .raw_message()
        .get(part.offset_body as usize..part.offset_end as usize)?;
    match part.encoding {
        Encoding::None => Some(raw.to_vec()),
        Encoding::Base64 => mail_parser::decoders::base64::base64_decode(raw),
        Encoding::QuotedPrintable => {
            mail_parser::decoders::quoted_printable::quoted_printable_decode(raw)
        }
    }
}

fn looks_iso2022(s: &str) -> bool {
    s.contains("\u{1b}$B")
        || s.contains("\u{1b}$@")
        || s.contains("\u{1b}(J")
        || s.contains("\u{1b}$(D")
}

/// ISO-2022-JP is 7-bit, so an unlabelled part decodes as ASCII with escape sequences left in.
fn fix_iso2022(s: &str) -> String {
    if !looks_iso2022(s) {
        return s.to_string();
    }
    match charset_decoder(b"iso-2022-jp") {
        Some(dec) => dec(s.as_bytes()),
        None => s.to_string(),
    }
}

static FWD_SUBJECT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^\s*(?:\[[^\]]*\]\s*)?(?:fwd?|fw|転送|tr|wg)\s*[:：]").expect("static regex")
});

static FWD_MARKER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?im)^[\s>]*(?:-{2,}\s*(?:forwarded message|original message|転送(?:された)?メッセージ|元のメッセージ|転送メール)\s*-*|begin forwarded message:|転送元\s*[:：])",
    )
    .expect("static regex")
});

/// The mail's own words: up to a forwarded block, without `>` quoted lines.
/// Also says whether a forwarded block was found.
fn own_words(body: &str) -> (String, bool) {
    let (head, forwarded) = match FWD_MARKER.find(body) {
        Some(m) => (&body[..m.start()], true),
        None => (body, false),
    };
    let own = head
        .lines()
        .filter(|l| !l.trim_start().starts_with('>'))
        .collect::<Vec<_>>()
        .join("\n");
    (own, forwarded)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail(s: &str) -> Mail {
        parse(s.replace('\n', "\r\n").as_bytes(), true).unwrap()
    }

    #[test]
    fn iso2022_body_without_charset_label_is_decoded() {
        let body = "\u{1b}$B=P6b\u{1b}(B"; // 出金 in ISO-2022-JP
        let m = mail(&format!(
            "From: a@b.example\nSubject: x\nContent-Type: text/plain\n\n{body}\n"
        ));
        assert!(m.body.contains("出金"), "{:?}", m.body);
    }

    #[test]
    fn forwarded_and_quoted_text_is_not_own_text() {
        let m = mail(
            "From: me@example.jp\nSubject: Fwd: 出金指示受付\n\nFYI\n> 出金指示を受け付けました\n---------- Forwarded message ---------\n出金指示を受け付けました\n",
        );
        assert!(m.forwarded);
        assert_eq!(m.own_text.trim(), "FYI");
    }

    #[test]
    fn trace_headers_keep_their_order() {
        let m = mail(
            "Authentication-Results: mx.a; dkim=pass\n header.d=x.example\nReceived: from x by mx.a\nAuthentication-Results: mx.a; dkim=fail\nFrom: \"SBI証券\" <Info@SBISEC.co.jp>\nSubject: s\n\nbody\n",
        );
        assert_eq!(
            m.trace,
            vec![
                Trace::AuthResults("mx.a; dkim=pass header.d=x.example".into()),
                Trace::Received("from x by mx.a".into()),
                Trace::AuthResults("mx.a; dkim=fail".into()),
            ]
        );
        let from = m.from.unwrap();
        assert_eq!(
            (from.address.as_str(), from.domain()),
            ("info@sbisec.co.jp", "sbisec.co.jp")
        );
        assert_eq!(from.name.as_deref(), Some("SBI証券"));
    }

    #[test]
    fn garbage_is_unparseable_not_a_panic() {
        assert!(parse(b"", true).is_err());
        assert!(parse(b"   \r\n", true).is_err());
        let _ = parse(&[0xff, 0xfe, 0, 1, 2, b':', b'\n'], true);
    }
}
