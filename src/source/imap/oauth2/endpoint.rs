//! The provider's endpoints through the `oauth2` crate: RFC 6749 token and refresh requests,
//! RFC 8628 device authorization and its polling, RFC 7636 PKCE. Ours are the rules the crate
//! leaves to its user: the client secret goes in the form body and only when one is configured
//! (a public client, Microsoft's recommended kind for a desktop app, must never send one), and
//! a failure is either the provider's refusal (an RFC 6749 5.2 error code) or an outage.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use oauth2::basic::{BasicClient, BasicTokenResponse};
use oauth2::{
    AsyncHttpClient, AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    DeviceAuthorizationUrl, EndpointNotSet, EndpointSet, ErrorResponseType, HttpRequest,
    HttpResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken,
    RequestTokenError, Scope, StandardDeviceAuthorizationResponse, StandardErrorResponse, TokenUrl,
};
use serde::Deserialize;

use crate::config::OAuth2Config;
use crate::config::oauth2::Provider;
use crate::config::secret::SecretError;

const HTTP_TIMEOUT: Duration = Duration::from_secs(30);

/// A successful token response; its `Debug` shows no token (the crate redacts them).
pub type TokenResponse = BasicTokenResponse;

/// RFC 8628 3.2; the crate also reads Google's `verification_url` spelling.
pub type DeviceAuth = StandardDeviceAuthorizationResponse;

/// The crate's client with the token endpoint set.
type TokenClient =
    BasicClient<EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// Why a request to the provider failed.
#[derive(Debug, thiserror::Error)]
pub enum EndpointError {
    /// An RFC 6749 5.2 error answer (`invalid_grant`, `authorization_pending`, …).
    #[error("{url} refused: {error}{}", description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    OAuth {
        url: String,
        error: String,
        description: Option<String>,
    },
    /// No answer, or not one in the protocol's shape (a proxy's page, a 5xx): an outage.
    #[error("cannot get an answer from {url}: {msg}")]
    Unavailable { url: String, msg: String },
    #[error("cannot read the OAuth2 client secret: {0}")]
    Secret(#[from] SecretError),
}

impl EndpointError {
    /// The provider's error code, if it answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            EndpointError::OAuth { error, .. } => Some(error),
            _ => None,
        }
    }
}

/// The HTTP client under the crate: reqwest (rustls, webpki roots) with a timeout and no
/// redirects.
#[derive(Clone)]
pub struct Http(reqwest::Client);

/// No answer in the protocol's shape; the crate reports it as `RequestTokenError::Request`.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HttpError(String);

/// An HTTP client for the provider's endpoints.
pub fn client() -> Http {
    Http(
        reqwest::Client::builder()
            .timeout(HTTP_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_else(|_| reqwest::Client::new()),
    )
}

impl<'c> AsyncHttpClient<'c> for Http {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            // NOTE: without_url: reqwest's message would repeat the URL we already name.
            let fail = |e: reqwest::Error| HttpError(e.without_url().to_string());
            let resp = self
                .0
                .execute(request.try_into().map_err(fail)?)
                .await
                .map_err(fail)?;
            let (status, headers) = (resp.status(), resp.headers().clone());
            let body = resp.bytes().await.map_err(fail)?.to_vec();
            answer(status, headers, body)
        })
    }
}

#[derive(Deserialize)]
struct ErrorBody {
    #[allow(dead_code)]
    error: String,
}

/// Only a 200 or a 4xx carrying an RFC 6749 error object is the provider's word. The crate
/// would read an error object in a 5xx as a refusal too (and a refused refresh token is not
/// tried again), but a 5xx is an outage, to be retried.
fn answer(
    status: reqwest::StatusCode,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
) -> Result<HttpResponse, HttpError> {
    let refusal = status.is_client_error() && serde_json::from_slice::<ErrorBody>(&body).is_ok();
    if status != reqwest::StatusCode::OK && !refusal {
        return Err(HttpError(format!("HTTP {status}")));
    }
    let mut resp = HttpResponse::new(body);
    *resp.status_mut() = status;
    *resp.headers_mut() = headers;
    Ok(resp)
}

/// The crate's error, sorted into a refusal (with the provider's code) or an outage.
fn endpoint_error<T>(
    url: &str,
    e: RequestTokenError<HttpError, StandardErrorResponse<T>>,
) -> EndpointError
where
    T: ErrorResponseType + std::fmt::Display + 'static,
{
    let unavailable = |msg: String| EndpointError::Unavailable {
        url: url.to_string(),
        msg,
    };
    match e {
        RequestTokenError::ServerResponse(r) => EndpointError::OAuth {
            url: url.to_string(),
            error: r.error().to_string(),
            description: r.error_description().map(|d| first_line(d)),
        },
        RequestTokenError::Request(HttpError(msg)) | RequestTokenError::Other(msg) => {
            unavailable(msg)
        }
        // `answer` lets only a 200 and error objects through, and any error object parses.
        RequestTokenError::Parse(e, _) => {
            unavailable(format!("HTTP 200 OK, not the expected JSON: {e}"))
        }
    }
}

/// Microsoft's descriptions run over several lines (trace and correlation ids).
fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or("").trim().to_string()
}

fn bad_url(url: &str, e: url::ParseError) -> EndpointError {
    EndpointError::Unavailable {
        url: url.to_string(),
        msg: format!("not a URL: {e}"),
    }
}

/// The crate's client for this account: `client_id` (and the secret of a confidential client,
/// read afresh for each request) in the form body.
fn oauth_client(cfg: &OAuth2Config) -> Result<TokenClient, EndpointError> {
    let token_url = TokenUrl::new(cfg.token_url.clone()).map_err(|e| bad_url(&cfg.token_url, e))?;
    let mut client = BasicClient::new(ClientId::new(cfg.client_id.clone()))
        .set_auth_type(AuthType::RequestBody)
        .set_token_uri(token_url);
    if let Some(s) = &cfg.client_secret {
        client = client.set_client_secret(ClientSecret::new(s.resolve()?.expose().to_string()));
    }
    Ok(client)
}

fn scopes(cfg: &OAuth2Config) -> impl Iterator<Item = Scope> + '_ {
    cfg.scopes.iter().map(|s| Scope::new(s.clone()))
}

/// `grant_type=refresh_token`.
pub async fn refresh(
    http: &Http,
    cfg: &OAuth2Config,
    refresh_token: &str,
) -> Result<TokenResponse, EndpointError> {
    let token = RefreshToken::new(refresh_token.to_string());
    oauth_client(cfg)?
        .exchange_refresh_token(&token)
        .add_scopes(scopes(cfg))
        .request_async(http)
        .await
        .map_err(|e| endpoint_error(&cfg.token_url, e))
}

/// Starts the device code flow.
pub async fn device_start(
    http: &Http,
    cfg: &OAuth2Config,
    device_url: &str,
) -> Result<DeviceAuth, EndpointError> {
    let url =
        DeviceAuthorizationUrl::new(device_url.to_string()).map_err(|e| bad_url(device_url, e))?;
    oauth_client(cfg)?
        .set_device_authorization_url(url)
        .exchange_device_code()
        .add_scopes(scopes(cfg))
        .request_async(http)
        .await
        .map_err(|e| endpoint_error(device_url, e))
}

/// Polls the token endpoint until the user has entered the code: the crate waits out
/// `authorization_pending`, adds 5 s on `slow_down` (RFC 8628 3.5), backs off while the
/// provider cannot be reached (each time logged), and ends with `expired_token` when the
/// code's lifetime is over.
pub async fn device_wait(
    http: &Http,
    cfg: &OAuth2Config,
    dev: &DeviceAuth,
) -> Result<TokenResponse, EndpointError> {
    let logged = |req: HttpRequest| async move {
        let r = http.call(req).await;
        if let Err(e) = &r {
            tracing::warn!(
                "cannot get an answer from {}: {e}; trying again",
                cfg.token_url
            );
        }
        r
    };
    // NOTE: at least a second between polls, whatever interval the provider gave.
    let sleep = |d: Duration| tokio::time::sleep(d.max(Duration::from_secs(1)));
    oauth_client(cfg)?
        .exchange_device_access_token(dev)
        .request_async(&logged, sleep, None)
        .await
        .map_err(|e| endpoint_error(&cfg.token_url, e))
}

/// A browser sign-in (RFC 6749 4.1 with PKCE): the address to open, and what the answer must
/// match.
pub struct Authorization {
    pub url: url::Url,
    pub state: CsrfToken,
    redirect: RedirectUrl,
    verifier: PkceCodeVerifier,
}

/// The provider's sign-in address for this client and redirect, with a new PKCE challenge
/// (S256) and random state.
pub fn authorization(cfg: &OAuth2Config, redirect: &str) -> Result<Authorization, EndpointError> {
    let auth_url = AuthUrl::new(cfg.auth_url.clone()).map_err(|e| bad_url(&cfg.auth_url, e))?;
    let redirect_url = RedirectUrl::new(redirect.to_string()).map_err(|e| bad_url(redirect, e))?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let client = oauth_client(cfg)?.set_auth_uri(auth_url);
    let mut req = client
        .authorize_url(CsrfToken::new_random)
        .set_redirect_uri(std::borrow::Cow::Borrowed(&redirect_url))
        .add_scopes(scopes(cfg))
        .set_pkce_challenge(challenge);
    if cfg.provider == Provider::Google {
        // NOTE: without these Google returns no refresh token (or none on a second sign-in).
        req = req
            .add_extra_param("access_type", "offline")
            .add_extra_param("prompt", "consent");
    }
    let (url, state) = req.url();
    Ok(Authorization {
        url,
        state,
        redirect: redirect_url,
        verifier,
    })
}

/// `grant_type=authorization_code` with the PKCE verifier of `auth`.
pub async fn exchange_code(
    http: &Http,
    cfg: &OAuth2Config,
    code: &str,
    auth: Authorization,
) -> Result<TokenResponse, EndpointError> {
    oauth_client(cfg)?
        .set_redirect_uri(auth.redirect)
        .exchange_code(AuthorizationCode::new(code.to_string()))
        .set_pkce_verifier(auth.verifier)
        .request_async(http)
        .await
        .map_err(|e| endpoint_error(&cfg.token_url, e))
}

#[cfg(test)]
mod tests;
