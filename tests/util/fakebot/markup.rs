//! Telegram's own parsers of formatted text, strict: a MarkdownV2 or HTML text that Telegram
//! would refuse with 400 "can't parse entities" is refused here too.

/// Telegram's MarkdownV2 rules, strictly: what the real API rejects, with its wording.
pub fn markdown_v2_problem(text: &str) -> Option<String> {
    let mut open: Vec<&str> = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let marker = match c {
            '\\' => match chars.next() {
                Some(_) => continue,
                None => {
                    return Some(format!(
                        "Can't parse entities: unexpected end of text at byte offset {i}"
                    ));
                }
            },
            '*' => "Bold",
            '_' => "Italic",
            '~' => "Strikethrough",
            '`' => "Code",
            '|' if chars.peek().is_some_and(|&(_, n)| n == '|') => {
                chars.next();
                "Spoiler"
            }
            '[' | ']' | '(' | ')' | '>' | '#' | '+' | '-' | '=' | '|' | '{' | '}' | '.' | '!' => {
                return Some(format!(
                    "Character '{c}' is reserved and must be escaped with the preceding '\\'"
                ));
            }
            _ => continue,
        };
        if open.last() == Some(&marker) {
            open.pop();
        } else {
            open.push(marker);
        }
    }
    open.last()
        .map(|e| format!("Can't find end of {e} entity at byte offset {}", text.len()))
}

/// Telegram's HTML rules: only its tags, and `<`, `>`, `&` escaped elsewhere.
pub fn html_problem(text: &str) -> Option<String> {
    const TAGS: [&str; 14] = [
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "code",
        "pre",
        "a",
        "tg-spoiler",
        "blockquote",
    ];
    let mut stack: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(pos) = rest.find(['<', '>', '&']) {
        let tail = &rest[pos..];
        if tail.starts_with('>') {
            return Some("Unexpected end tag".into());
        }
        if let Some(after) = tail.strip_prefix('&') {
            let end = after.find(';').filter(|&e| e <= 9);
            let ent = end.map(|e| &after[..e]);
            if !matches!(ent, Some("lt" | "gt" | "amp" | "quot"))
                && !ent.is_some_and(|e| e.starts_with('#'))
            {
                return Some(format!(
                    "Unsupported entity at byte offset {}",
                    text.len() - tail.len()
                ));
            }
            rest = after;
            continue;
        }
        let Some(close) = tail.find('>') else {
            return Some("Unclosed start tag".into());
        };
        let tag = &tail[1..close];
        let (closing, name) = tag.strip_prefix('/').map_or((false, tag), |n| (true, n));
        let name = name
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        if !TAGS.contains(&name.as_str()) {
            return Some(format!(
                "Unsupported start tag \"{name}\" at byte offset {}",
                text.len() - tail.len()
            ));
        }
        if closing {
            if stack.pop().as_deref() != Some(name.as_str()) {
                return Some(format!("Unmatched end tag \"{name}\""));
            }
        } else {
            stack.push(name);
        }
        rest = &tail[close + 1..];
    }
    stack
        .last()
        .map(|t| format!("Can't find end tag corresponding to start tag \"{t}\""))
}
