//! The two SASL mechanisms IMAP servers take an OAuth2 bearer token with: Google's and
//! Microsoft's XOAUTH2, and RFC 7628 OAUTHBEARER.

use std::sync::{Arc, Mutex};

use crate::config::oauth2::Mechanism;

/// Answers the server's challenges. The first (empty) challenge gets the token; a second one
/// is the server's JSON error, which is kept (it names no token) and acknowledged as the
/// mechanism requires, so that the server ends the exchange with NO.
pub struct Bearer {
    first: Option<Vec<u8>>,
    mechanism: Mechanism,
    /// The server's error challenge, decoded, if it sent one.
    pub error: Arc<Mutex<Option<String>>>,
}

impl Bearer {
    pub fn new(mechanism: Mechanism, user: &str, host: &str, port: u16, token: &str) -> Bearer {
        let first = match mechanism {
            Mechanism::XOAuth2 => format!("user={user}\x01auth=Bearer {token}\x01\x01"),
            // RFC 7628 3.1; a `,` or `=` in the name is escaped as RFC 5801 says.
            Mechanism::OAuthBearer => format!(
                "n,a={},\x01host={host}\x01port={port}\x01auth=Bearer {token}\x01\x01",
                user.replace('=', "=3D").replace(',', "=2C")
            ),
        };
        Bearer {
            first: Some(first.into_bytes()),
            mechanism,
            error: Arc::new(Mutex::new(None)),
        }
    }
}

impl async_imap::Authenticator for Bearer {
    type Response = Vec<u8>;

    fn process(&mut self, challenge: &[u8]) -> Vec<u8> {
        if let Some(first) = self.first.take() {
            return first;
        }
        if let Ok(mut e) = self.error.lock() {
            *e = Some(String::from_utf8_lossy(challenge).into_owned());
        }
        match self.mechanism {
            // NOTE: XOAUTH2 wants an empty line after the error; RFC 7628 3.2.3 a single ^A.
            Mechanism::XOAuth2 => Vec::new(),
            Mechanism::OAuthBearer => vec![0x01],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_imap::Authenticator as _;

    #[test]
    fn initial_responses_have_the_documented_shape() {
        let mut x = Bearer::new(Mechanism::XOAuth2, "a@b.jp", "h", 993, "tok");
        assert_eq!(x.process(b""), b"user=a@b.jp\x01auth=Bearer tok\x01\x01");
        assert_eq!(x.process(br#"{"status":"401"}"#), b"");
        assert_eq!(
            x.error.lock().unwrap().as_deref(),
            Some(r#"{"status":"401"}"#)
        );
        let mut o = Bearer::new(Mechanism::OAuthBearer, "u,=x", "imap.h", 143, "tok");
        assert_eq!(
            o.process(b""),
            b"n,a=u=2C=3Dx,\x01host=imap.h\x01port=143\x01auth=Bearer tok\x01\x01"
        );
        assert_eq!(o.process(b"{}"), b"\x01");
    }
}
