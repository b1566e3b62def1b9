//! Turning a configured mailbox name into the one the server knows, and opening it read-only:
//! modified UTF-7 on the wire, `\Junk` resolved through LIST (RFC 6154 SPECIAL-USE), and a
//! refused EXAMINE reported with the server's own words.

use async_imap::imap_proto::NameAttribute;
use async_imap::types::Mailbox;
use futures::StreamExt;

use super::connect::ImapSession;
use super::server_text;
use super::{ImapError, Timeouts, mutf7, proto, with_timeout};

/// The SPECIAL-USE attributes a configured name may stand for (`"\\Junk"`): only the spam
/// folder makes sense to watch for broker notices that a filter misfiled.
pub const SPECIAL_USE: &[&str] = &["\\Junk"];

/// One mailbox as LIST reports it, its name decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub name: String,
    /// Its SPECIAL-USE attribute, e.g. `\Junk`, if any.
    pub special_use: Option<&'static str>,
    pub selectable: bool,
}

/// Every mailbox of the account (`LIST "" "*"`), names decoded from modified UTF-7.
pub(crate) async fn list(
    session: &mut ImapSession,
    t: &Timeouts,
) -> Result<Vec<Listed>, ImapError> {
    let names: Vec<_> = with_timeout(t.command, "LIST", async {
        let stream = session.list(Some(""), Some("*")).await?;
        Ok::<_, async_imap::error::Error>(stream.collect::<Vec<_>>().await)
    })
    .await?
    .map_err(proto("LIST"))?;
    let mut out = Vec::with_capacity(names.len());
    for n in names {
        let n = n.map_err(proto("LIST"))?;
        // NOTE: a name that is not valid mUTF-7 is shown as the server sent it.
        let name = mutf7::decode(n.name()).unwrap_or_else(|e| e.0);
        let attrs = n.attributes();
        out.push(Listed {
            name,
            special_use: attrs
                .iter()
                .any(|a| matches!(a, NameAttribute::Junk))
                .then_some("\\Junk"),
            selectable: !attrs.iter().any(|a| matches!(a, NameAttribute::NoSelect)),
        });
    }
    Ok(out)
}

/// The wire name for a configured one: a SPECIAL-USE attribute is looked up with LIST.
pub(crate) async fn wire_name(
    session: &mut ImapSession,
    name: &str,
    t: &Timeouts,
) -> Result<String, ImapError> {
    let Some(attr) = SPECIAL_USE.iter().find(|a| a.eq_ignore_ascii_case(name)) else {
        return Ok(mutf7::encode(name));
    };
    list(session, t)
        .await?
        .into_iter()
        .find(|l| l.special_use == Some(attr) && l.selectable)
        .map(|l| mutf7::encode(&l.name))
        .ok_or_else(|| ImapError::MailboxRefused {
            mailbox: name.to_string(),
            msg: format!("the server marks no mailbox as {attr} (RFC 6154 SPECIAL-USE)"),
        })
}

/// EXAMINEs a configured mailbox; a NO from the server is [`ImapError::MailboxRefused`].
pub(crate) async fn examine(
    session: &mut ImapSession,
    name: &str,
    t: &Timeouts,
) -> Result<Mailbox, ImapError> {
    let wire = wire_name(session, name, t).await?;
    match with_timeout(t.command, "EXAMINE", session.examine(&wire)).await? {
        Ok(mb) => Ok(mb),
        Err(async_imap::error::Error::No(msg)) => Err(ImapError::MailboxRefused {
            mailbox: name.to_string(),
            msg: server_text(&msg),
        }),
        Err(e) => Err(proto("EXAMINE")(e)),
    }
}

/// The listed name closest to `wanted` (for "no such mailbox; did you mean …?").
pub fn closest<'a>(wanted: &str, listed: &'a [Listed]) -> Option<&'a str> {
    let wanted = wanted.to_lowercase();
    listed
        .iter()
        .map(|l| {
            (
                strsim::jaro_winkler(&wanted, &l.name.to_lowercase()),
                l.name.as_str(),
            )
        })
        .filter(|(score, _)| *score > 0.7)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, n)| n)
}

/// Whether a configured name exists among the listed ones (INBOX is case-insensitive).
pub fn exists(wanted: &str, listed: &[Listed]) -> bool {
    if let Some(attr) = SPECIAL_USE.iter().find(|a| a.eq_ignore_ascii_case(wanted)) {
        return listed.iter().any(|l| l.special_use == Some(attr));
    }
    listed.iter().any(|l| {
        l.name == wanted
            || (wanted.eq_ignore_ascii_case("INBOX") && l.name.eq_ignore_ascii_case("INBOX"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(names: &[&str]) -> Vec<Listed> {
        names
            .iter()
            .map(|n| Listed {
                name: n.to_string(),
                special_use: (*n == "Junk").then_some("\\Junk"),
                selectable: true,
            })
            .collect()
    }

    #[test]
    fn closest_match_names_the_likely_typo() {
        let l = listed(&["INBOX", "Junk", "Überweisungen-出金", "Sent"]);
        assert_eq!(
            closest("Uberweisungen-出金", &l),
            Some("Überweisungen-出金")
        );
        assert_eq!(closest("inbx", &l), Some("INBOX"));
        assert_eq!(closest("zzzzzzzz", &l), None);
    }

    #[test]
    fn existence_knows_inbox_and_special_use() {
        let l = listed(&["INBOX", "Junk"]);
        assert!(exists("inbox", &l));
        assert!(exists("\\Junk", &l));
        assert!(exists("\\junk", &l));
        assert!(!exists("Spam", &l));
        assert!(!exists("\\Junk", &listed(&["INBOX"])));
    }
}
