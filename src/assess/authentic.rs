//! Is a mail authentic? Only our own receiving server's word counts: its topmost
//! Authentication-Results, above its own Received line. The same id written lower down came
//! from the sender, and is a forgery.

use super::reason::{Reason, Vouch};
use crate::mail::{Mail, Trace};
use crate::rules::Pack;

/// One `method=result` of an Authentication-Results header with its properties.
#[derive(Debug, PartialEq, Eq)]
struct AuthResult {
    method: String,
    result: String,
    props: Vec<(String, String)>,
}

/// Splits `id; dkim=pass header.d=x; dmarc=fail header.from=y` (comments removed).
fn parse_auth_results(value: &str) -> (String, Vec<AuthResult>) {
    let clean = strip_comments(value);
    let mut parts = clean.split(';');
    let id = parts
        .next()
        .unwrap_or("")
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    let results = parts
        .filter_map(|p| {
            let mut words = p.split_whitespace();
            let (method, result) = words.next()?.split_once('=')?;
            let props = words
                .filter_map(|w| w.split_once('='))
                .map(|(k, v)| {
                    (
                        k.to_ascii_lowercase(),
                        v.trim_matches('"').to_ascii_lowercase(),
                    )
                })
                .collect();
            Some(AuthResult {
                method: method.to_ascii_lowercase(),
                result: result.to_ascii_lowercase(),
                props,
            })
        })
        .collect();
    (id, results)
}

fn strip_comments(s: &str) -> String {
    let mut depth = 0usize;
    s.chars()
        .filter(|&c| match c {
            '(' => {
                depth += 1;
                false
            }
            ')' => {
                depth = depth.saturating_sub(1);
                false
            }
            _ => depth == 0,
        })
        .collect()
}

/// The host after `by` in a Received header.
fn received_by(value: &str) -> Option<String> {
    let clean = strip_comments(value);
    let mut words = clean.split_whitespace();
    while let Some(w) = words.next() {
        if w.eq_ignore_ascii_case("by") {
            return words
                .next()
                .map(|h| h.trim_end_matches(';').to_ascii_lowercase());
        }
    }
    None
}

/// true/false when our server vouched either way (or a forgery was found); None if it said nothing.
pub(super) fn authenticity(
    mail: &Mail,
    pack: &Pack,
    ids: &[String],
    reasons: &mut Vec<Reason>,
) -> Option<bool> {
    if ids.is_empty() {
        reasons.push(Reason::NoAuthservIds);
        return None;
    }
    let (id, results) = match ours(mail, ids) {
        Ours::Forged => {
            reasons.push(Reason::Forged);
            return Some(false);
        }
        Ours::Silent => {
            reasons.push(Reason::NoAuthResults);
            return None;
        }
        Ours::Said(id, results) => (id, results),
    };
    let from_domain = mail.from.as_ref().map_or("", |f| f.domain());
    match vouch(pack, &results) {
        Some(vouch) if pack.owns_domain(from_domain) => {
            reasons.push(Reason::Authentic { id, vouch });
            Some(true)
        }
        _ => {
            let said: Vec<String> = results
                .iter()
                .map(|r| format!("{}={}", r.method, r.result))
                .collect();
            reasons.push(Reason::NotAuthentic {
                id,
                broker: pack.name.clone(),
                said,
            });
            Some(false)
        }
    }
}

/// What our own server wrote in the trace.
enum Ours {
    /// Its Authentication-Results, topmost (the id as written, and the results).
    Said(String, Vec<AuthResult>),
    /// One of its ids below its own Received line: the sender wrote it.
    Forged,
    /// Nothing.
    Silent,
}

fn ours(mail: &Mail, ids: &[String]) -> Ours {
    let is_ours = |id: &str| ids.iter().any(|t| t.eq_ignore_ascii_case(id));
    let boundary = mail.trace.iter().position(|t| match t {
        Trace::Received(v) => received_by(v).is_some_and(|h| is_ours(&h)),
        Trace::AuthResults(_) => false,
    });
    let mut trusted = None;
    let mut forged = false;
    for (i, t) in mail.trace.iter().enumerate() {
        let Trace::AuthResults(v) = t else { continue };
        let (id, results) = parse_auth_results(v);
        if !is_ours(&id) {
            continue;
        }
        if boundary.is_some_and(|b| i > b) {
            forged = true;
        } else if trusted.is_none() {
            trusted = Some((id, results));
        }
    }
    match (forged, trusted) {
        (true, _) => Ours::Forged,
        (false, Some((id, results))) => Ours::Said(id, results),
        (false, None) => Ours::Silent,
    }
}

/// The first DKIM or DMARC pass for one of the broker's own domains.
fn vouch(pack: &Pack, results: &[AuthResult]) -> Option<Vouch> {
    let prop = |r: &AuthResult, k: &str| {
        r.props
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    results
        .iter()
        .find_map(|r| match (r.method.as_str(), r.result.as_str()) {
            ("dkim", "pass") => prop(r, "header.d")
                .filter(|d| pack.owns_domain(d))
                .map(Vouch::Dkim),
            ("dmarc", "pass") => prop(r, "header.from")
                .filter(|d| pack.owns_domain(d))
                .map(Vouch::Dmarc),
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_results_are_parsed_without_comments() {
        let (id, r) = parse_auth_results(
            "mx.google.com; dkim=pass (2048-bit) header.d=SBISEC.co.jp header.s=s1; dmarc=pass (p=REJECT sp=REJECT) header.from=sbisec.co.jp",
        );
        assert_eq!(id, "mx.google.com");
        assert_eq!(r[0].method, "dkim");
        assert_eq!(r[0].props[0], ("header.d".into(), "sbisec.co.jp".into()));
        assert_eq!(r[1].result, "pass");
    }

    #[test]
    fn received_by_host() {
        assert_eq!(
            received_by(
                "from a.example (a.example [192.0.2.1]) by MX.Google.com with ESMTPS id x; Tue"
            ),
            Some("mx.google.com".into())
        );
        assert_eq!(received_by("from a (comment by evil) with x"), None);
    }
}
