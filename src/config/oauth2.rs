//! `auth: {oauth2: …}` of an IMAP account: the checks of what was written (`raw::oauth2`), and
//! the ready values the token code runs on (provider endpoints filled in, the tokens file placed
//! in the state dir).

use std::path::{Path, PathBuf};

// Read as enums by serde (so a wrong one is located) and used as they are once checked.
pub use super::raw::{Mechanism, Provider};

use super::raw::RawAuth;
use crate::config::secret::SecretSource;
use crate::yaml::{At, Collector, Loc};

/// Where the refresh token is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenStore {
    /// A JSON file in the state dir, mode 0600 (`oauth2/ACCOUNT.json`).
    File(PathBuf),
    /// A command: `CMD get` prints the refresh token, `CMD store` reads a new one on stdin.
    Command(String),
}

/// The checked `auth: {oauth2: …}` of one account.
#[derive(Debug, Clone, PartialEq)]
pub struct OAuth2Config {
    /// The account's name (for `brokerwatch login ACCOUNT` in messages).
    pub account: String,
    pub provider: Provider,
    pub client_id: String,
    /// None for a public client, which must never send one.
    pub client_secret: Option<SecretSource>,
    pub scopes: Vec<String>,
    /// Authorization endpoint (browser sign-in).
    pub auth_url: String,
    pub token_url: String,
    /// Device authorization endpoint (RFC 8628); None: sign in through a browser redirect.
    pub device_url: Option<String>,
    pub mechanism: Mechanism,
    pub store: TokenStore,
}

const MS_SCOPES: &[&str] = &[
    "https://outlook.office.com/IMAP.AccessAsUser.All",
    "offline_access",
];
const GOOGLE_SCOPES: &[&str] = &["https://mail.google.com/"];

/// Checks the raw keys; `account` names the tokens file, placed by [`place_tokens`] once the
/// state dir is known.
pub fn compile(
    c: &mut Collector,
    raw: At<RawAuth>,
    account: &str,
    base: &Path,
) -> Option<OAuth2Config> {
    let r = raw.value.oauth2.value;
    let loc = raw.value.oauth2.loc;
    let written = Endpoints {
        auth_url: url(c, &r.auth_url),
        token_url: url(c, &r.token_url),
        device_url: url(c, &r.device_url),
    };
    let tenant = r.tenant.as_deref().unwrap_or("common");
    let (endpoints, scopes) = endpoints(c, r.provider, written, tenant, loc)?;
    let scopes = r
        .scopes
        .unwrap_or_else(|| scopes.iter().map(|s| s.to_string()).collect());
    if scopes.is_empty() {
        c.error(loc, "`scopes` must name at least one scope");
    }
    if r.client_id.value.trim().is_empty() {
        c.error(r.client_id.loc, "`client_id` must not be empty");
    }
    let client_secret = match &r.client_secret {
        Some(s) => Some(super::values::secret(c, s, base)?),
        None => None,
    };
    let store = match r.token_command {
        Some(cmd) => TokenStore::Command(cmd),
        // Placed in the state dir by `place_tokens`.
        None => TokenStore::File(PathBuf::from(format!("{account}.json"))),
    };
    Some(OAuth2Config {
        account: account.to_string(),
        provider: r.provider,
        client_id: r.client_id.value,
        client_secret,
        scopes,
        auth_url: endpoints.auth_url.unwrap_or_default(),
        token_url: endpoints.token_url.unwrap_or_default(),
        device_url: endpoints.device_url,
        mechanism: r.mechanism.unwrap_or(Mechanism::XOAuth2),
        store,
    })
}

/// The three endpoints, as written or filled in.
struct Endpoints {
    auth_url: Option<String>,
    token_url: Option<String>,
    device_url: Option<String>,
}

/// An endpoint as written: https, or plain http to this machine only (tokens cross it).
fn url(c: &mut Collector, v: &Option<At<String>>) -> Option<String> {
    let v = v.as_ref()?;
    match reqwest::Url::parse(&v.value) {
        Ok(u) if u.scheme() == "https" || super::values::is_loopback(u.host_str()?) => {
            Some(v.value.clone())
        }
        Ok(_) => {
            c.error(
                v.loc,
                format!(
                    "`{}` must be https (plain http only to a loopback host)",
                    v.value
                ),
            );
            None
        }
        Err(e) => {
            c.error(v.loc, format!("`{}` is not a URL: {e}", v.value));
            None
        }
    }
}

/// The provider's endpoints and scopes where none are written; a custom provider has none, so
/// it must name a token endpoint and a way to sign in.
fn endpoints(
    c: &mut Collector,
    provider: Provider,
    w: Endpoints,
    tenant: &str,
    loc: Loc,
) -> Option<(Endpoints, &'static [&'static str])> {
    let ms = |what: &str| format!("https://login.microsoftonline.com/{tenant}/oauth2/v2.0/{what}");
    match provider {
        Provider::Microsoft => Some((
            Endpoints {
                auth_url: w.auth_url.or_else(|| Some(ms("authorize"))),
                token_url: w.token_url.or_else(|| Some(ms("token"))),
                device_url: w.device_url.or_else(|| Some(ms("devicecode"))),
            },
            MS_SCOPES,
        )),
        Provider::Google => Some((
            Endpoints {
                auth_url: (w.auth_url)
                    .or_else(|| Some("https://accounts.google.com/o/oauth2/v2/auth".into())),
                token_url: (w.token_url)
                    .or_else(|| Some("https://oauth2.googleapis.com/token".into())),
                device_url: w.device_url,
            },
            GOOGLE_SCOPES,
        )),
        Provider::Custom => {
            if w.token_url.is_none() {
                c.error(
                    loc,
                    "`provider: custom` needs `token_url` and `auth_url` or `device_url`",
                );
                return None;
            }
            if w.auth_url.is_none() && w.device_url.is_none() {
                c.error(loc, "`provider: custom` needs `auth_url` or `device_url`");
                return None;
            }
            Some((w, &[]))
        }
    }
}

/// Puts each OAuth2 account's tokens file under `STATE_DIR/oauth2/`.
pub fn place_tokens(cfg: &mut super::Config) {
    let dir = cfg.state_dir.join("oauth2");
    for a in &mut cfg.accounts {
        if let super::AccountSource::Imap(i) = &mut a.source
            && let super::ImapAuth::OAuth2(o) = &mut i.auth
            && let TokenStore::File(f) = &mut o.store
            && f.is_relative()
        {
            *f = dir.join(&*f);
        }
    }
}
