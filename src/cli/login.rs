//! `brokerwatch login ACCOUNT`: the first OAuth2 tokens of an account. The device code flow
//! where the provider offers it (Microsoft), else the browser redirect to 127.0.0.1 with PKCE
//! (Google). Both work on a headless server: the device code is entered on any other device,
//! and the redirect URL can be pasted back here when the browser runs elsewhere.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context as _, bail};
use oauth2::TokenResponse as _;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;

use super::Outcome;
use crate::config::oauth2::Provider;
use crate::config::{AccountSource, ImapAuth, OAuth2Config};
use crate::source::imap::oauth2::endpoint::{self, Http, TokenResponse};
use crate::source::imap::oauth2::{renewed, store};

/// `brokerwatch login ACCOUNT`.
pub fn run(cfg_path: Option<&Path>, account: &str) -> anyhow::Result<Outcome> {
    let Some((cfg, _)) = super::load(cfg_path) else {
        return Ok(Outcome::Usage);
    };
    let o = match cfg.account(account).map(|a| &a.source) {
        Some(AccountSource::Imap(i)) => match &i.auth {
            ImapAuth::OAuth2(o) => o.as_ref().clone(),
            ImapAuth::Password(_) => {
                eprintln!(
                    "brokerwatch: account `{account}` signs in with a password; `login` is for `auth: {{oauth2: …}}` accounts\n\
                     brokerwatch: アカウント `{account}` はパスワードでログインします。`login` は OAuth2 のアカウント用です"
                );
                return Ok(Outcome::Usage);
            }
        },
        _ => {
            let names: Vec<&str> = cfg.accounts.iter().map(|a| a.name.as_str()).collect();
            eprintln!(
                "brokerwatch: no IMAP account `{account}` in the config (accounts: {})",
                names.join(", ")
            );
            return Ok(Outcome::Usage);
        }
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let resp = rt.block_on(sign_in(&o))?;
    let Some(_) = resp.refresh_token().filter(|t| !t.secret().is_empty()) else {
        bail!(
            "the provider gave no refresh token, so brokerwatch could not renew the sign-in \
             (Microsoft: include the `offline_access` scope; Google: sign in again, consent is asked each time)"
        );
    };
    let tokens = renewed(&store::Stored::default(), resp, crate::store::now());
    store::save(&o.store, &o.account, &tokens)?;
    let place = match &o.store {
        crate::config::oauth2::TokenStore::File(p) => p.display().to_string(),
        crate::config::oauth2::TokenStore::Command(_) => "your token command".into(),
    };
    println!("Signed in: tokens for `{account}` saved in {place}.");
    println!("サインインしました。`{account}` のトークンを {place} に保存しました。");
    println!("A running `brokerwatch run` picks them up at its next connection attempt.");
    println!("実行中の `brokerwatch run` は次の接続で新しいトークンを使います。");
    Ok(Outcome::Ok)
}

async fn sign_in(o: &OAuth2Config) -> anyhow::Result<TokenResponse> {
    let http = endpoint::client();
    match (&o.device_url, o.provider) {
        (Some(url), _) if o.provider != Provider::Google || o.auth_url.is_empty() => {
            device_flow(&http, o, url).await
        }
        _ => redirect_flow(&http, o).await,
    }
}

/// RFC 8628: show the code, wait until the user has entered it (or the code expires).
async fn device_flow(http: &Http, o: &OAuth2Config, url: &str) -> anyhow::Result<TokenResponse> {
    let dev = endpoint::device_start(http, o, url).await?;
    let (uri, code) = (dev.verification_uri(), dev.user_code().secret());
    println!("To sign in `{}`: on any device, open {uri}", o.account);
    println!("and enter the code {code}");
    println!(
        "`{}` にサインインするには、任意の端末のブラウザで {uri} を開き、コード {code} を入力してください。",
        o.account
    );
    println!("Waiting for the sign-in… / サインインを待っています…");
    let e = match endpoint::device_wait(http, o, &dev).await {
        Ok(t) => return Ok(t),
        Err(e) => e,
    };
    match e.code() {
        Some("authorization_declined" | "access_denied") => {
            bail!("the sign-in was declined / サインインが拒否されました")
        }
        Some("expired_token") => bail!(
            "the code expired before the sign-in was finished; run `brokerwatch login {}` again",
            o.account
        ),
        Some("bad_verification_code") => {
            bail!("{e}; run `brokerwatch login {}` again", o.account)
        }
        _ => Err(e.into()),
    }
}

/// RFC 8252 loopback redirect with PKCE: a browser here reaches 127.0.0.1 by itself; a browser
/// elsewhere shows an error page whose address the user pastes back here.
async fn redirect_flow(http: &Http, o: &OAuth2Config) -> anyhow::Result<TokenResponse> {
    if o.auth_url.is_empty() {
        bail!("no `auth_url` for account `{}`", o.account);
    }
    let listener = TcpListener::bind(("127.0.0.1", 0))
        .await
        .context("cannot listen on 127.0.0.1 for the sign-in redirect")?;
    let redirect = format!("http://127.0.0.1:{}/", listener.local_addr()?.port());
    let auth = endpoint::authorization(o, &redirect)?;
    print_sign_in_steps(&o.account, &auth.url);
    let back = tokio::select! {
        r = from_browser(&listener) => r?,
        r = from_stdin() => r?,
    };
    let code = code_of(&back, &redirect, auth.state.secret(), &o.account)?;
    Ok(endpoint::exchange_code(http, o, &code, auth).await?)
}

fn print_sign_in_steps(account: &str, url: &reqwest::Url) {
    println!("To sign in `{account}`, open this address in a browser:");
    println!("`{account}` にサインインするには、ブラウザで次のアドレスを開いてください:");
    println!();
    println!("{url}");
    println!();
    println!(
        "If the browser runs on another machine, it ends on a page that cannot be shown (127.0.0.1): \
         copy that page's address and paste it here, then press Enter."
    );
    println!(
        "別の端末のブラウザを使う場合は、最後に表示できないページ (127.0.0.1) になります。\
         そのページのアドレスをここに貼り付けて Enter を押してください。"
    );
}

/// The authorization code from the redirect address (as the browser sent it, or pasted, whole or
/// as its path), after checking that it answers this sign-in.
fn code_of(back: &str, redirect: &str, state: &str, account: &str) -> anyhow::Result<String> {
    let back = reqwest::Url::parse(back)
        .or_else(|_| reqwest::Url::parse(redirect).and_then(|b| b.join(back)))
        .context("the pasted text is not the redirect address")?;
    let param = |k: &str| {
        back.query_pairs()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.into_owned())
    };
    if let Some(err) = param("error") {
        bail!(
            "the provider refused the sign-in: {err}{}",
            param("error_description")
                .map(|d| format!(" ({d})"))
                .unwrap_or_default()
        );
    }
    if param("state").as_deref() != Some(state) {
        bail!(
            "the redirect does not belong to this sign-in (state mismatch); run `brokerwatch login {account}` again"
        );
    }
    param("code").context("the redirect carries no `code`")
}

/// The request target of the first request that carries a `code` or an `error`.
async fn from_browser(listener: &TcpListener) -> anyhow::Result<String> {
    loop {
        let (mut conn, _) = listener.accept().await?;
        let mut buf = vec![0u8; 8192];
        let n = tokio::time::timeout(Duration::from_secs(10), conn.read(&mut buf))
            .await
            .unwrap_or(Ok(0))
            .unwrap_or(0);
        let head = String::from_utf8_lossy(&buf[..n]).into_owned();
        let target = head
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("GET "))
            .and_then(|l| l.split_whitespace().next())
            .unwrap_or("")
            .to_string();
        let ours = target.contains("code=") || target.contains("error=");
        let body = if ours {
            "brokerwatch: sign-in received; you can close this window. / サインインを受け取りました。このウィンドウは閉じてかまいません。"
        } else {
            "brokerwatch: waiting for the sign-in redirect"
        };
        let reply = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = conn.write_all(reply.as_bytes()).await;
        if ours {
            return Ok(target);
        }
    }
}

/// A pasted redirect address; waits forever when stdin is closed (the browser may still come).
async fn from_stdin() -> anyhow::Result<String> {
    // NOTE: a blocking read on its own thread (tokio's stdin feature is not built); the process
    // ends after the sign-in either way.
    let pasted = tokio::task::spawn_blocking(|| {
        std::io::stdin()
            .lines()
            .map_while(Result::ok)
            .map(|l| l.trim().to_string())
            .find(|l| !l.is_empty())
    })
    .await?;
    match pasted {
        Some(line) => Ok(line),
        None => std::future::pending().await,
    }
}
