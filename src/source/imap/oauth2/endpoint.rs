//! The provider's HTTP endpoints (RFC 6749 token, RFC 8628 device authorization) and PKCE
//! (RFC 7636). Requests carry the client secret only when one is configured: a public client
//! (Microsoft's recommended kind for a desktop app) must never send one.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;

use crate::config::OAuth2Config;
use crate::config::secret::SecretError;

const HTTP_TIMEOUT: Duration = Duration::from_secs(30);

/// A successful token response. `Debug` shows no token.
#[derive(Clone, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    #[serde(default)]
    pub refresh_token: Option<String>,
    #[serde(default)]
    pub expires_in: Option<u64>,
    #[serde(default)]
    pub scope: Option<String>,
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse")
            .field("expires_in", &self.expires_in)
            .field("rotated", &self.refresh_token.is_some())
            .finish()
    }
}

/// RFC 8628 3.2, with Google's `verification_url` spelling.
#[derive(Debug, Clone, Deserialize)]
pub struct DeviceAuth {
    pub device_code: String,
    pub user_code: String,
    #[serde(alias = "verification_url")]
    pub verification_uri: String,
    pub expires_in: u64,
    #[serde(default)]
    pub interval: Option<u64>,
}

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

#[derive(Deserialize)]
struct ErrorBody {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

/// An HTTP client for the provider's endpoints (rustls, webpki roots).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(HTTP_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_else(|_| reqwest::Client::new())
}

/// POSTs a form with `client_id` (and the secret of a confidential client) and reads `T`.
async fn post<T: serde::de::DeserializeOwned>(
    http: &reqwest::Client,
    cfg: &OAuth2Config,
    url: &str,
    params: &[(&str, &str)],
) -> Result<T, EndpointError> {
    let secret = cfg
        .client_secret
        .as_ref()
        .map(|s| s.resolve())
        .transpose()?;
    let mut form: Vec<(&str, &str)> = vec![("client_id", cfg.client_id.as_str())];
    form.extend_from_slice(params);
    if let Some(s) = &secret {
        form.push(("client_secret", s.expose()));
    }
    let unavailable = |msg: String| EndpointError::Unavailable {
        url: url.to_string(),
        msg,
    };
    let resp = http
        .post(url)
        .header("Accept", "application/json")
        .form(&form)
        .send()
        .await
        // NOTE: without_url: reqwest's message would repeat the URL we already name.
        .map_err(|e| unavailable(e.without_url().to_string()))?;
    let status = resp.status();
    let body = resp
        .bytes()
        .await
        .map_err(|e| unavailable(e.without_url().to_string()))?;
    if status.is_success() {
        return serde_json::from_slice(&body)
            .map_err(|e| unavailable(format!("HTTP {status}, not the expected JSON: {e}")));
    }
    match serde_json::from_slice::<ErrorBody>(&body) {
        Ok(e) if status.is_client_error() => Err(EndpointError::OAuth {
            url: url.to_string(),
            error: e.error,
            description: e.error_description.map(|d| first_line(&d)),
        }),
        _ => Err(unavailable(format!("HTTP {status}"))),
    }
}

/// Microsoft's descriptions run over several lines (trace and correlation ids).
fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or("").trim().to_string()
}

/// `grant_type=refresh_token`.
pub async fn refresh(
    http: &reqwest::Client,
    cfg: &OAuth2Config,
    refresh_token: &str,
) -> Result<TokenResponse, EndpointError> {
    let scope = cfg.scopes.join(" ");
    post(
        http,
        cfg,
        &cfg.token_url,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("scope", &scope),
        ],
    )
    .await
}

/// Starts the device code flow.
pub async fn device_start(
    http: &reqwest::Client,
    cfg: &OAuth2Config,
    device_url: &str,
) -> Result<DeviceAuth, EndpointError> {
    let scope = cfg.scopes.join(" ");
    post(http, cfg, device_url, &[("scope", &scope)]).await
}

/// One poll of the token endpoint for a device code.
pub async fn device_poll(
    http: &reqwest::Client,
    cfg: &OAuth2Config,
    device_code: &str,
) -> Result<TokenResponse, EndpointError> {
    post(
        http,
        cfg,
        &cfg.token_url,
        &[
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("device_code", device_code),
        ],
    )
    .await
}

/// `grant_type=authorization_code` with the PKCE verifier.
pub async fn exchange_code(
    http: &reqwest::Client,
    cfg: &OAuth2Config,
    code: &str,
    redirect_uri: &str,
    verifier: &str,
) -> Result<TokenResponse, EndpointError> {
    post(
        http,
        cfg,
        &cfg.token_url,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", verifier),
        ],
    )
    .await
}

/// `n` random bytes, base64url without padding.
pub fn random_token(n: usize) -> String {
    use ring::rand::SecureRandom as _;
    let mut bytes = vec![0u8; n];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .expect("the system random source works");
    URL_SAFE_NO_PAD.encode(bytes)
}

/// RFC 7636 4.2: `BASE64URL(SHA256(verifier))`.
pub fn pkce_challenge(verifier: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes());
    URL_SAFE_NO_PAD.encode(digest.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_matches_rfc7636_appendix_b() {
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        let v = random_token(32);
        assert_eq!(v.len(), 43);
        assert_ne!(v, random_token(32));
    }

    #[test]
    fn token_response_debug_hides_tokens() {
        let t: TokenResponse = serde_json::from_str(
            r#"{"access_token":"at-secret","refresh_token":"rt-secret","expires_in":3599,"token_type":"Bearer"}"#,
        )
        .unwrap();
        let d = format!("{t:?}");
        assert!(!d.contains("secret"), "{d}");
    }
}
