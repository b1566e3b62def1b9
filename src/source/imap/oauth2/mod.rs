//! OAuth2 sign-in for IMAP: the tokens of each account (one holder per account, shared by its
//! mailbox connections), refreshed ahead of expiry and once more after a refused AUTHENTICATE;
//! a rotated refresh token is saved before the access token that came with it is used.
//!
//! A refresh the provider refuses (`invalid_grant`: revoked, expired, password changed) needs
//! the user: it is [`OAuthError::SignIn`], which becomes "cannot watch ACCOUNT: sign in again
//! with `brokerwatch login ACCOUNT`" at once. The tokens file is kept for diagnosis, and read
//! again before each later attempt, so a `brokerwatch login` meanwhile is picked up without a
//! restart. No answer from the provider is an outage, retried with backoff.

pub mod endpoint;
pub mod sasl;
pub mod store;

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use crate::config::OAuth2Config;
use crate::config::secret::Secret;
use endpoint::{EndpointError, TokenResponse};
use store::{StoreError, Stored};

/// Refresh this long before the provider's expiry at the most (half the lifetime at the least).
const AHEAD: i64 = 300;

/// Why no access token could be had.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    /// The user must sign in (again): never signed in, or the provider refused the refresh.
    #[error("{why}: sign in again with `brokerwatch login {account}`")]
    SignIn { account: String, why: String },
    /// The provider could not be asked: retried with backoff.
    #[error("cannot refresh the OAuth2 token: {0}")]
    Unavailable(EndpointError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot read the OAuth2 client secret: {0}")]
    Secret(crate::config::secret::SecretError),
}

impl OAuthError {
    /// The user must act (sign in, fix the client secret or the tokens store).
    pub fn needs_user(&self) -> bool {
        !matches!(self, OAuthError::Unavailable(_))
    }
}

/// The tokens of one account.
pub struct Tokens {
    cfg: OAuth2Config,
    http: endpoint::Http,
    state: tokio::sync::Mutex<State>,
}

#[derive(Default)]
struct State {
    current: Option<Stored>,
    /// The refresh token the provider refused, and its words; not tried again.
    refused: Option<(String, String)>,
}

static HOLDERS: LazyLock<Mutex<HashMap<String, Arc<Tokens>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// The one holder for this account's tokens in this process (a new one if its settings changed).
pub fn tokens(cfg: &OAuth2Config) -> Arc<Tokens> {
    let key = format!("{}\0{:?}", cfg.account, cfg.store);
    let mut map = HOLDERS.lock().unwrap_or_else(|e| e.into_inner());
    match map.get(&key) {
        Some(t) if t.cfg == *cfg => t.clone(),
        _ => {
            let t = Arc::new(Tokens {
                cfg: cfg.clone(),
                http: endpoint::client(),
                state: tokio::sync::Mutex::new(State::default()),
            });
            map.insert(key, t.clone());
            t
        }
    }
}

impl Tokens {
    /// A usable access token: the cached one while it is not about to expire, else a refreshed
    /// one. `stale`: the server refused this token, refresh whatever its expiry says.
    pub async fn access_token(&self, stale: Option<&Secret>) -> Result<Secret, OAuthError> {
        let mut st = self.state.lock().await;
        let account = &self.cfg.account;
        if st.current.is_none() || st.refused.is_some() {
            st.current = store::load(&self.cfg.store, account)?;
        }
        let Some(cur) = st.current.clone() else {
            return Err(OAuthError::SignIn {
                account: account.clone(),
                why: format!("account `{account}` is not signed in"),
            });
        };
        if let Some((rt, why)) = &st.refused
            && *rt == cur.refresh_token
        {
            return Err(OAuthError::SignIn {
                account: account.clone(),
                why: why.clone(),
            });
        }
        st.refused = None;
        let now = crate::store::now();
        if let (Some(at), Some(exp)) = (&cur.access_token, cur.expires_at) {
            let life = exp - cur.obtained_at.unwrap_or(exp);
            let fresh = now < exp - AHEAD.min(life / 2);
            if fresh && stale.is_none_or(|s| s.expose() != at) {
                return Ok(Secret::new(at.clone()));
            }
        }
        tracing::debug!(%account, "refreshing the OAuth2 access token");
        match endpoint::refresh(&self.http, &self.cfg, &cur.refresh_token).await {
            Ok(resp) => {
                let next = renewed(&cur, resp, now);
                // A rotated refresh token replaces the old one at the provider: keep it first.
                store::save(&self.cfg.store, account, &next)?;
                if next.refresh_token != cur.refresh_token {
                    tracing::info!(%account, "OAuth2 refresh token rotated and saved");
                }
                let token = next.access_token.clone().unwrap_or_default();
                st.current = Some(next);
                Ok(Secret::new(token))
            }
            Err(EndpointError::OAuth {
                error, description, ..
            }) => {
                let why = format!(
                    "the provider refused the refresh token ({error}{})",
                    description.map(|d| format!(": {d}")).unwrap_or_default()
                );
                st.refused = Some((cur.refresh_token.clone(), why.clone()));
                Err(OAuthError::SignIn {
                    account: account.clone(),
                    why,
                })
            }
            Err(EndpointError::Secret(e)) => Err(OAuthError::Secret(e)),
            Err(e) => Err(OAuthError::Unavailable(e)),
        }
    }
}

/// The stored tokens after a token response; keeps the old refresh token unless rotated.
pub fn renewed(old: &Stored, resp: TokenResponse, now: i64) -> Stored {
    use oauth2::TokenResponse as _;
    Stored {
        refresh_token: resp
            .refresh_token()
            .map(|t| t.secret().clone())
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| old.refresh_token.clone()),
        access_token: Some(resp.access_token().secret().clone()),
        obtained_at: Some(now),
        // NOTE: providers omit expires_in rarely; an hour is what both big ones issue.
        expires_at: Some(now + resp.expires_in().map_or(3600, |d| d.as_secs()) as i64),
        scope: resp
            .scopes()
            .map(|s| s.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" "))
            .or_else(|| old.scope.clone()),
    }
}

/// AUTHENTICATE with the account's token; a NO gets one more try with a refreshed token (the
/// server may have revoked a token that had not expired yet).
pub(crate) async fn authenticate<T>(
    mut client: async_imap::Client<T>,
    cfg: &crate::config::ImapAccount,
    o: &OAuth2Config,
    t: &super::Timeouts,
) -> Result<async_imap::Session<T>, super::ImapError>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + std::fmt::Debug + Send,
{
    use super::{ImapError, with_timeout};
    let holder = tokens(o);
    let mut token = holder.access_token(None).await?;
    let mut retried = false;
    loop {
        let bearer = sasl::Bearer::new(
            o.mechanism,
            &cfg.username,
            &cfg.host,
            cfg.port,
            token.expose(),
        );
        let said = bearer.error.clone();
        let what = "AUTHENTICATE";
        match with_timeout(
            t.command,
            what,
            client.authenticate(o.mechanism.as_str(), bearer),
        )
        .await?
        {
            Ok(session) => return Ok(session),
            Err((async_imap::error::Error::No(msg), c)) if !retried => {
                tracing::info!(
                    account = %o.account,
                    "{} refused ({}); refreshing the token and trying once more",
                    o.mechanism.as_str(),
                    super::server_text(&msg)
                );
                client = c;
                retried = true;
                token = holder.access_token(Some(&token)).await?;
            }
            Err((async_imap::error::Error::No(msg), _)) => {
                let detail = said.lock().ok().and_then(|e| e.clone());
                return Err(ImapError::LoginRejected {
                    user: cfg.username.clone(),
                    msg: match detail {
                        Some(d) => format!("{} {d}", super::server_text(&msg)),
                        None => super::server_text(&msg),
                    },
                });
            }
            Err((source, _)) => return Err(ImapError::Protocol { what, source }),
        }
    }
}

/// What a token failure means for the mailbox's health.
pub(crate) fn source_event(e: &OAuthError) -> crate::source::SourceEvent {
    use crate::source::SourceEvent;
    match e {
        OAuthError::SignIn { .. } => SourceEvent::SignInNeeded(e.to_string()),
        OAuthError::Unavailable(_) => SourceEvent::Unreachable(e.to_string()),
        OAuthError::Store(_) | OAuthError::Secret(_) => {
            SourceEvent::SecretUnreadable(e.to_string())
        }
    }
}
