//! Learning the user's own receiving server's authserv-id from the mail it delivered, so that
//! sender checks work without the user reading raw headers.
//!
//! The server that delivers the mail writes its Authentication-Results on top of everything
//! the sender brought, above its own Received line. A forged header sits below the server's
//! own lines, and a sender cannot make its forgery topmost across mail from many senders: an
//! id that is topmost, followed by a Received line `by` that same server, in (nearly) every
//! recent mail is the server's own.

/// What the recent mail says about the receiving server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Learned {
    /// The authserv-id to trust.
    pub id: String,
    /// In how many of the mails it was the topmost one, above that server's own Received.
    pub seen: usize,
    /// How many of the mails read carry any Authentication-Results (mail without one, e.g.
    /// the user's own, says nothing either way).
    pub of: usize,
}

/// Fewest mails that must agree before an id is proposed.
pub const MIN_AGREEING: usize = 2;

/// The id topmost in at least [`MIN_AGREEING`] mails and in ≥ 80 % of the mails that carry
/// Authentication-Results.
pub fn learn<'a>(headers: impl IntoIterator<Item = &'a [u8]>) -> Option<Learned> {
    let mut counts: Vec<(String, usize)> = Vec::new();
    let mut of = 0;
    for h in headers {
        if !has_results(h) {
            continue;
        }
        of += 1;
        if let Some(id) = own_id(h) {
            match counts.iter_mut().find(|(k, _)| *k == id) {
                Some((_, n)) => *n += 1,
                None => counts.push((id, 1)),
            }
        }
    }
    let (id, seen) = counts.into_iter().max_by_key(|(_, n)| *n)?;
    (seen >= MIN_AGREEING && seen * 5 >= of * 4).then_some(Learned { id, seen, of })
}

/// The authserv-id of the topmost Authentication-Results, if a Received line below it names
/// the same server (`by` the id itself or a host in the id's parent domain).
pub fn own_id(header: &[u8]) -> Option<String> {
    let fields = unfold(&String::from_utf8_lossy(header));
    let top = fields
        .iter()
        .position(|(name, _)| name.eq_ignore_ascii_case("Authentication-Results"))?;
    let id = authserv_id(&fields[top].1)?;
    let parent = id
        .split_once('.')
        .map(|(_, p)| p)
        .filter(|p| p.contains('.'));
    let ours = fields[top + 1..].iter().any(|(name, value)| {
        name.eq_ignore_ascii_case("Received")
            && received_by(value).is_some_and(|by| {
                by == id || parent.is_some_and(|p| by.ends_with(&format!(".{p}")))
            })
    });
    ours.then_some(id)
}

fn has_results(header: &[u8]) -> bool {
    unfold(&String::from_utf8_lossy(header))
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("Authentication-Results"))
}

/// The id before the first `;` (RFC 8601 2.2), without a version number or comment; None for
/// headers that carry none (`spf=pass …`, as some providers write).
fn authserv_id(value: &str) -> Option<String> {
    let first = value.split(';').next()?;
    let first = first.split('(').next()?.trim();
    let id = first.split_whitespace().next()?.to_ascii_lowercase();
    (!id.is_empty() && !id.contains('=') && id.contains('.')).then_some(id)
}

/// The host after `by` in a Received value.
fn received_by(value: &str) -> Option<String> {
    let mut words = value.split_whitespace();
    words.find(|w| w.eq_ignore_ascii_case("by"))?;
    words
        .next()
        .map(|h| h.trim_end_matches(';').to_ascii_lowercase())
}

/// Header fields in order, continuation lines joined.
fn unfold(header: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in header.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some((_, v)) = out.last_mut() {
                v.push(' ');
                v.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            out.push((name.trim().to_string(), value.trim().to_string()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const GMAIL: &str = "Received: by 2002:a05:6400:1234 with SMTP id x;\r\n        Mon, 1 Jan 2024 00:00:01 -0800 (PST)\r\n\
Authentication-Results: mx.google.com;\r\n       dkim=pass header.i=@sbisec.co.jp;\r\n       dmarc=pass header.from=sbisec.co.jp\r\n\
Received: from mail.sbisec.co.jp (mail.sbisec.co.jp. [203.0.113.5])\r\n        by mx.google.com with ESMTPS id y;\r\n        Mon, 1 Jan 2024 00:00:00 -0800 (PST)\r\n";

    #[test]
    fn gmail_writes_its_id_above_its_own_received() {
        assert_eq!(own_id(GMAIL.as_bytes()).as_deref(), Some("mx.google.com"));
    }

    #[test]
    fn a_forged_header_with_no_server_received_below_is_not_learned() {
        let forged = "Authentication-Results: evil.example; dkim=pass\r\nReceived: from x by mx.other.example; now\r\n";
        assert_eq!(own_id(forged.as_bytes()), None);
        let no_id = "Authentication-Results: spf=pass (sender IP is 1.2.3.4) smtp.mailfrom=a.example\r\nReceived: from x by a.example\r\n";
        assert_eq!(own_id(no_id.as_bytes()), None);
    }

    #[test]
    fn a_host_of_the_same_domain_counts_as_the_server() {
        let h = "Authentication-Results: mx.example.net 1; dkim=pass\r\nReceived: from a by in3.example.net with ESMTP\r\n";
        assert_eq!(own_id(h.as_bytes()).as_deref(), Some("mx.example.net"));
    }

    #[test]
    fn learning_needs_agreement() {
        let g = GMAIL.as_bytes();
        let silent = b"Subject: no results\r\n".as_slice();
        let other = b"Authentication-Results: mx.other.example; dkim=pass\r\nReceived: from a by mx.other.example\r\n".as_slice();
        assert_eq!(learn([g]), None, "one mail is not enough");
        assert_eq!(
            learn([g, g, g, g, other, silent]),
            Some(Learned {
                id: "mx.google.com".into(),
                seen: 4,
                of: 5
            })
        );
        assert_eq!(learn([g, g, other, silent]), None, "not consistent");
    }
}
