//! Getting from a host name to a logged-in IMAP session: TCP, TLS (implicit or STARTTLS), the
//! greeting, LOGIN. Also the client's own refusal of plaintext to anything but loopback.

use std::fmt;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use async_imap::imap_proto::{Response, Status};
use async_imap::{Client, Session};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::pki_types::ServerName;

use super::{ImapError, Timeouts, server_text, with_timeout};
use crate::config::{ImapAccount, ImapAuth, TlsMode};

/// The byte stream under an IMAP session: TLS, or plaintext on loopback only.
pub(crate) enum ImapStream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

/// A logged-in session over either kind of stream.
pub(crate) type ImapSession = Session<ImapStream>;

impl fmt::Debug for ImapStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImapStream::Plain(_) => f.write_str("ImapStream::Plain"),
            ImapStream::Tls(_) => f.write_str("ImapStream::Tls"),
        }
    }
}

impl AsyncRead for ImapStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ImapStream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            ImapStream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for ImapStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            ImapStream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            ImapStream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ImapStream::Plain(s) => Pin::new(s).poll_flush(cx),
            ImapStream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ImapStream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            ImapStream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// True for 127.0.0.0/8, ::1 and `localhost`: the only hosts plaintext IMAP may go to.
pub fn is_loopback_host(host: &str) -> bool {
    crate::config::is_loopback(host)
}

/// Refuses `tls: none` to a non-loopback host, before any packet is sent.
pub(crate) fn check_plaintext(cfg: &ImapAccount) -> Result<(), ImapError> {
    if cfg.tls == TlsMode::None && !is_loopback_host(&cfg.host) {
        return Err(ImapError::PlaintextRefused(cfg.host.clone()));
    }
    Ok(())
}

/// Connects, secures the stream as configured, reads the greeting and logs in.
pub(crate) async fn connect(
    cfg: &ImapAccount,
    tls: &TlsConnector,
    t: &Timeouts,
) -> Result<ImapSession, ImapError> {
    check_plaintext(cfg)?;
    let password = match &cfg.auth {
        ImapAuth::Password(p) => Some(p.resolve()?),
        ImapAuth::OAuth2(_) => None,
    };
    let addr = format!("{}:{}", cfg.host, cfg.port);
    let tcp = with_timeout(
        t.connect,
        "connect",
        TcpStream::connect((cfg.host.as_str(), cfg.port)),
    )
    .await?
    .map_err(|source| ImapError::Connect { addr, source })?;
    // Best effort: a small command/response protocol.
    let _ = tcp.set_nodelay(true);
    let client = match cfg.tls {
        TlsMode::Implicit => {
            let tls = handshake(tls, &cfg.host, tcp, t).await?;
            greeted(Client::new(ImapStream::Tls(Box::new(tls))), t).await?
        }
        TlsMode::StartTls => {
            let plain = greeted(Client::new(tcp), t).await?;
            let tcp = starttls(plain, t).await?;
            // NOTE: after STARTTLS the server sends no second greeting (RFC 3501 6.2.1).
            Client::new(ImapStream::Tls(Box::new(
                handshake(tls, &cfg.host, tcp, t).await?,
            )))
        }
        TlsMode::None => greeted(Client::new(ImapStream::Plain(tcp)), t).await?,
    };
    let password = match (&cfg.auth, password) {
        (ImapAuth::OAuth2(o), _) => return super::oauth2::authenticate(client, cfg, o, t).await,
        (_, Some(p)) => p,
        (ImapAuth::Password(p), None) => p.resolve()?,
    };
    let login = with_timeout(
        t.command,
        "LOGIN",
        client.login(&cfg.username, password.expose()),
    );
    match login.await? {
        Ok(session) => Ok(session),
        Err((async_imap::error::Error::No(msg), _)) => Err(ImapError::LoginRejected {
            user: cfg.username.clone(),
            msg: server_text(&msg),
        }),
        Err((source, _)) => Err(ImapError::Protocol {
            what: "LOGIN",
            source,
        }),
    }
}

async fn handshake(
    tls: &TlsConnector,
    host: &str,
    tcp: TcpStream,
    t: &Timeouts,
) -> Result<TlsStream<TcpStream>, ImapError> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let name = ServerName::try_from(host.to_string())
        .map_err(|_| ImapError::BadHostName(host.to_string()))?;
    with_timeout(t.connect, "TLS handshake", tls.connect(name, tcp))
        .await?
        .map_err(|source| ImapError::Tls {
            host: host.to_string(),
            source,
        })
}

/// Reads the server greeting, which async-imap leaves to the caller.
async fn greeted<T>(mut client: Client<T>, t: &Timeouts) -> Result<Client<T>, ImapError>
where
    T: AsyncRead + AsyncWrite + Unpin + fmt::Debug + Send,
{
    let greeting = with_timeout(t.command, "greeting", client.read_response())
        .await?
        .map_err(|e| ImapError::Protocol {
            what: "greeting",
            source: e.into(),
        })?
        .ok_or(ImapError::Greeting("connection closed".into()))?;
    match greeting.parsed() {
        Response::Data {
            status: Status::Ok, ..
        } => Ok(client),
        other => Err(ImapError::Greeting(format!("{other:?}"))),
    }
}

async fn starttls(mut client: Client<TcpStream>, t: &Timeouts) -> Result<TcpStream, ImapError> {
    with_timeout(
        t.command,
        "STARTTLS",
        client.run_command_and_check_ok("STARTTLS", None),
    )
    .await?
    .map_err(|source| ImapError::Protocol {
        what: "STARTTLS",
        source,
    })?;
    // NOTE: into_inner drops anything the server sent after its OK; accepting such bytes as if
    // they came over TLS is the classic STARTTLS injection bug.
    Ok(client.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_refusal_text_is_the_servers() {
        let raw = r#"code: None, info: Some("[AUTHENTICATIONFAILED] Authentication failed.")"#;
        assert_eq!(
            server_text(raw),
            "[AUTHENTICATIONFAILED] Authentication failed."
        );
        assert_eq!(server_text("odd"), "odd");
        let examine = r#"outcome: Outcome { code: None, information: Some("Mailbox doesn't exist: Junk (0.001 + 0.000 secs).") }"#;
        assert_eq!(server_text(examine), "Mailbox doesn't exist: Junk");
    }

    #[test]
    fn loopback_hosts() {
        for h in [
            "127.0.0.1",
            "127.3.4.5",
            "::1",
            "[::1]",
            "localhost",
            "LocalHost",
        ] {
            assert!(is_loopback_host(h), "{h}");
        }
        for h in [
            "10.0.0.1",
            "192.0.2.1",
            "example.com",
            "localhost.evil.com",
            "::2",
            "",
        ] {
            assert!(!is_loopback_host(h), "{h}");
        }
    }
}
