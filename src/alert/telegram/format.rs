//! Rendering an alert as Telegram message text: escaping for the configured parse mode and
//! splitting at Telegram's length cap without ever cutting an escape sequence in half.

use crate::alert::AlertMessage;
use crate::alert::language::Language;
use crate::config::TelegramFormat;

/// Telegram's cap on a message text.
pub const MAX_MESSAGE_LEN: usize = 4096;

/// At most this many messages per alert; the rest of an overlong body is cut with a marker.
pub const MAX_PARTS: usize = 4;

/// Room kept free in every part for the continuation marker ("(cont. 2/4)\n").
const MARKER_RESERVE: usize = 24;

/// What is appended to a body that did not fit in [`MAX_PARTS`] messages.
fn truncated(lang: Language) -> &'static str {
    lang.pick("\n…（以下省略）", "\n… (truncated)")
}

/// One message to send: the formatted text and the same words as plain text, for the fallback
/// when the API rejects the formatting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub formatted: String,
    pub plain: String,
}

/// The length Telegram counts: UTF-16 code units (an emoji outside the BMP counts 2).
///
/// NOTE: Telegram measures the text *after* entity parsing; measuring the escaped source is
/// conservative (an escape adds units, never removes them).
pub fn utf16_len(s: &str) -> usize {
    s.encode_utf16().count()
}

/// Escapes `text` so that the API shows it verbatim in `format`.
pub fn escape(text: &str, format: TelegramFormat) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        push_escaped(&mut out, c, format);
    }
    out
}

fn push_escaped(out: &mut String, c: char, format: TelegramFormat) {
    match format {
        TelegramFormat::Plain => out.push(c),
        TelegramFormat::MarkdownV2 => {
            // NOTE: MarkdownV2 reserves these everywhere outside code spans, and `\` itself.
            if "_*[]()~`>#+-=|{}.!\\".contains(c) {
                out.push('\\');
            }
            out.push(c);
        }
        TelegramFormat::Html => match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        },
    }
}

/// The escaped length of one character, in UTF-16 units.
fn escaped_len(c: char, format: TelegramFormat) -> usize {
    let mut s = String::new();
    push_escaped(&mut s, c, format);
    utf16_len(&s)
}

/// The title as a bold heading in `format` (plain: the title as is).
fn heading(title: &str, format: TelegramFormat) -> String {
    let t = escape(title, format);
    match format {
        TelegramFormat::Plain => t,
        TelegramFormat::MarkdownV2 => format!("*{t}*"),
        TelegramFormat::Html => format!("<b>{t}</b>"),
    }
}

/// Renders `msg` into one or more parts, each at most [`MAX_MESSAGE_LEN`] UTF-16 units.
/// Continuation markers and the truncation note are in `lang`.
pub fn render(msg: &AlertMessage, format: TelegramFormat, lang: Language) -> Vec<Part> {
    let head_fmt = format!("{}\n\n", heading(&msg.title, format));
    let head_plain = format!("{}\n\n", msg.title);
    // A title longer than a message is itself cut (it is one line; this is defensive).
    let title_budget = MAX_MESSAGE_LEN / 2;
    let (head_fmt, head_plain) = if utf16_len(&head_fmt) > title_budget {
        let cut = take_fitting(&msg.title, title_budget - 16, format);
        let t = format!("{}…", &msg.title[..cut]);
        (format!("{}\n\n", heading(&t, format)), format!("{t}\n\n"))
    } else {
        (head_fmt, head_plain)
    };
    let first_budget = MAX_MESSAGE_LEN - utf16_len(&head_fmt) - MARKER_RESERVE;
    let chunks = split_body(&msg.body, first_budget, format, lang);
    let n = chunks.len();
    chunks
        .into_iter()
        .enumerate()
        .map(|(i, chunk)| {
            let body_fmt = escape(&chunk, format);
            if i == 0 {
                Part {
                    formatted: format!("{head_fmt}{body_fmt}"),
                    plain: format!("{head_plain}{chunk}"),
                }
            } else {
                let marker = match lang {
                    Language::Ja => format!("（続き {}/{n}）\n", i + 1),
                    Language::En => format!("(cont. {}/{n})\n", i + 1),
                };
                Part {
                    formatted: format!("{}{body_fmt}", escape(&marker, format)),
                    plain: format!("{marker}{chunk}"),
                }
            }
        })
        .collect()
}

/// Renders a plain reply (command answers), split the same way.
pub fn render_plain(text: &str, lang: Language) -> Vec<String> {
    split_body(
        text,
        MAX_MESSAGE_LEN - MARKER_RESERVE,
        TelegramFormat::Plain,
        lang,
    )
}

/// Splits plain `body` into chunks whose *escaped* form fits: the first in `first_budget`, the
/// others in a full message minus the marker. Cuts prefer a line break, then a space.
fn split_body(
    body: &str,
    first_budget: usize,
    format: TelegramFormat,
    lang: Language,
) -> Vec<String> {
    let truncated = truncated(lang);
    let mut chunks = Vec::new();
    let mut rest = body;
    let mut budget = first_budget;
    loop {
        if chunks.len() + 1 == MAX_PARTS {
            budget = budget.saturating_sub(utf16_len(&escape(truncated, format)));
        }
        let fit = take_fitting(rest, budget, format);
        if fit == rest.len() {
            chunks.push(rest.to_string());
            return chunks;
        }
        let cut = nice_cut(rest, fit);
        if chunks.len() + 1 == MAX_PARTS {
            chunks.push(format!("{}{truncated}", rest[..cut].trim_end()));
            return chunks;
        }
        chunks.push(rest[..cut].trim_end().to_string());
        rest = rest[cut..].trim_start_matches(['\n', ' ']);
        budget = MAX_MESSAGE_LEN - MARKER_RESERVE;
    }
}

/// The byte length of the longest prefix of `s` whose escaped form fits in `budget` units.
fn take_fitting(s: &str, budget: usize, format: TelegramFormat) -> usize {
    let mut used = 0;
    for (i, c) in s.char_indices() {
        used += escaped_len(c, format);
        if used > budget {
            return i;
        }
    }
    s.len()
}

/// A cut point at or before `fit` at a line break or space, unless that would waste more than a
/// quarter of the chunk; then `fit` itself (a char boundary).
fn nice_cut(s: &str, fit: usize) -> usize {
    let window = &s[..fit];
    let min = fit - fit / 4;
    for sep in ['\n', ' '] {
        if let Some(pos) = window.rfind(sep).filter(|&p| p >= min && p > 0) {
            return pos + 1;
        }
    }
    fit.max(s.chars().next().map_or(0, char::len_utf8))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::AlertKind;
    use crate::event::Severity;

    fn alert(title: &str, body: &str) -> AlertMessage {
        AlertMessage {
            id: 7,
            kind: AlertKind::Unexpected,
            severity: Severity::Critical,
            title: title.into(),
            body: body.into(),
            actionable: true,
        }
    }

    #[test]
    fn markdown_v2_escapes_every_reserved_character() {
        let all = "_*[]()~`>#+-=|{}.!\\";
        let esc = escape(all, TelegramFormat::MarkdownV2);
        assert_eq!(esc.len(), all.len() * 2);
        for pair in esc.as_bytes().chunks(2) {
            assert_eq!(pair[0], b'\\');
        }
        assert_eq!(
            escape("¥1,200,000", TelegramFormat::MarkdownV2),
            "¥1,200,000"
        );
    }

    #[test]
    fn html_escapes_markup() {
        assert_eq!(
            escape("a<b>&\"c\"", TelegramFormat::Html),
            "a&lt;b&gt;&amp;&quot;c&quot;"
        );
    }

    #[test]
    fn short_alert_is_one_part_with_bold_title() {
        let parts = render(
            &alert("SBI: withdrawal", "1.2M yen!"),
            TelegramFormat::MarkdownV2,
            Language::En,
        );
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0].formatted, "*SBI: withdrawal*\n\n1\\.2M yen\\!");
        assert_eq!(parts[0].plain, "SBI: withdrawal\n\n1.2M yen!");
    }

    #[test]
    fn long_body_splits_under_the_cap_and_never_inside_an_escape() {
        for format in [
            TelegramFormat::Plain,
            TelegramFormat::MarkdownV2,
            TelegramFormat::Html,
        ] {
            let body = "a.b-c! 🚨 <x> ".repeat(600);
            let parts = render(&alert("t", &body), format, Language::En);
            assert!(parts.len() >= 2, "{format:?}");
            for p in &parts {
                assert!(utf16_len(&p.formatted) <= MAX_MESSAGE_LEN, "{format:?}");
                assert!(!p.formatted.ends_with('\\') || p.formatted.ends_with("\\\\"));
                assert!(utf16_len(&p.plain) <= MAX_MESSAGE_LEN);
            }
            let words: usize = parts.iter().map(|p| p.plain.matches("🚨").count()).sum();
            assert_eq!(words, 600, "{format:?}: no text lost");
        }
    }

    #[test]
    fn giant_body_is_truncated_at_max_parts() {
        let body = "x".repeat(MAX_MESSAGE_LEN * (MAX_PARTS + 2));
        let parts = render(&alert("t", &body), TelegramFormat::Plain, Language::En);
        assert_eq!(parts.len(), MAX_PARTS);
        assert!(parts[MAX_PARTS - 1].plain.ends_with("(truncated)"));
        assert!(
            parts
                .iter()
                .all(|p| utf16_len(&p.formatted) <= MAX_MESSAGE_LEN)
        );
    }
}
