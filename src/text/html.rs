//! The links of an HTML body, read the way a browser reads them: html5gum's WHATWG tokenizer
//! decodes every character reference, skips comments, and does not see tags inside `<script>`,
//! `<style>` or `<title>`. A lure that hides an anchor in a comment, writes `>` inside a quoted
//! attribute, or spells its host's dots as `&#46;` gets the link a reader would click.

use html5gum::{DefaultEmitter, Token, Tokenizer};

/// A link in a mail: the text a reader sees and where it really goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub text: String,
    pub href: String,
}

/// An anchor whose end tag has not been read yet.
struct Open {
    href: Option<String>,
    text: String,
}

/// Anchors of an HTML body that have an `href`, with their visible text (tags dropped,
/// references decoded, no-break spaces read as spaces).
pub fn html_links(html: &str) -> Vec<Link> {
    let mut emitter = DefaultEmitter::default();
    // NOTE: without this, the tokenizer reads `<a href>` inside a script or style as a tag.
    emitter.naively_switch_states(true);
    let tokenizer = Tokenizer::new_with_emitter(html, emitter);
    let mut links = Vec::new();
    let mut open: Option<Open> = None;
    for token in tokenizer.flatten() {
        match token {
            Token::StartTag(tag) if tag.name == b"a" => {
                // A new anchor ends the one before it, as a browser's tree builder does.
                close(&mut open, &mut links);
                let href = tag
                    .attributes
                    .get(b"href".as_slice())
                    .map(|v| lossy(&v.value));
                open = Some(Open {
                    href,
                    text: String::new(),
                });
            }
            Token::EndTag(tag) if tag.name == b"a" => close(&mut open, &mut links),
            Token::String(s) => {
                if let Some(o) = open.as_mut() {
                    o.text.push_str(&lossy(&s.value));
                }
            }
            _ => {}
        }
    }
    // An anchor left open at the end is still a link a reader can click.
    close(&mut open, &mut links);
    links
}

fn close(open: &mut Option<Open>, links: &mut Vec<Link>) {
    if let Some(Open {
        href: Some(href),
        text,
    }) = open.take()
    {
        links.push(Link {
            text: text.replace('\u{a0}', " ").trim().to_string(),
            href: href.replace('\u{a0}', " ").trim().to_string(),
        });
    }
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_keep_text_and_target_apart() {
        let links = html_links(
            r#"<p><A class=x HREF="https://evil.example/l?a=1&amp;b=2"><b>https://www.sbisec.co.jp/</b></a></p>"#,
        );
        assert_eq!(
            links,
            vec![Link {
                text: "https://www.sbisec.co.jp/".into(),
                href: "https://evil.example/l?a=1&b=2".into()
            }]
        );
    }

    #[test]
    fn character_references_in_an_href_are_read_as_the_browser_reads_them() {
        // A lure hides its host from a partial decoder: `&#46;` is a dot, `&#x2F;` a slash.
        let links = html_links(
            "<a href=\"https://www&#46;sbisec&period;co&#x2e;jp&#46;evil&#46;example&#x2F;login\">\
             SBI&#35388;&#21048;&nbsp;&#12525;&#12464;&#12452;&#12531;</a>",
        );
        assert_eq!(
            links,
            vec![Link {
                text: "SBI証券 ログイン".into(),
                href: "https://www.sbisec.co.jp.evil.example/login".into()
            }]
        );
        assert_eq!(
            crate::domain::href_host(&links[0].href).as_deref(),
            Some("www.sbisec.co.jp.evil.example")
        );
    }

    #[test]
    fn what_a_browser_does_not_show_as_a_link_is_not_one() {
        let links = html_links(
            "<!-- <a href=\"https://hidden.example/\">old</a> -->\
             <script>var s = '<a href=\"https://script.example/\">x</a>';</script>\
             <a name=top>no target</a>\
             <a title=\"a > b\" href='https://real.example/x'>real</a>",
        );
        assert_eq!(
            links,
            vec![Link {
                text: "real".into(),
                href: "https://real.example/x".into()
            }]
        );
    }

    #[test]
    fn an_anchor_ends_at_the_next_one_or_at_the_end() {
        let links =
            html_links("<a href=https://one.example/>one<a href=https://two.example/>two <b>here");
        let got: Vec<(&str, &str)> = links
            .iter()
            .map(|l| (l.text.as_str(), l.href.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("one", "https://one.example/"),
                ("two here", "https://two.example/")
            ]
        );
    }
}
