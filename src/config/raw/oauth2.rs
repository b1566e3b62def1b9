//! `auth: {oauth2: …}` as written, with the provider and mechanism read as enums (checked by
//! serde, so a wrong one is reported where it was written). `config::oauth2` compiles it.

use serde::Deserialize;

use super::RawSecret;
use crate::yaml::At;

/// `auth:` of an IMAP account.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAuth {
    pub oauth2: At<RawOAuth2>,
}

/// `auth: {oauth2: {…}}` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOAuth2 {
    pub provider: Provider,
    pub client_id: At<String>,
    pub client_secret: Option<At<RawSecret>>,
    pub tenant: Option<String>,
    pub scopes: Option<Vec<String>>,
    pub auth_url: Option<At<String>>,
    pub token_url: Option<At<String>>,
    pub device_url: Option<At<String>>,
    pub mechanism: Option<Mechanism>,
    pub token_command: Option<String>,
}

/// Who issues the tokens; decides the default endpoints, scopes and sign-in flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(try_from = "String")]
pub enum Provider {
    /// Microsoft identity platform (Outlook.com, Hotmail, Microsoft 365): device code.
    Microsoft,
    /// Google (Gmail, Workspace): loopback redirect with PKCE (Google's device flow does not
    /// allow the mail scope).
    Google,
    /// Any RFC 6749 server; endpoints from the config.
    Custom,
}

/// The SASL mechanism sent in `AUTHENTICATE` (`mechanism:`; default `xoauth2`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(try_from = "String")]
pub enum Mechanism {
    /// Google's and Microsoft's documented one (`user=…^Aauth=Bearer …^A^A`).
    XOAuth2,
    /// RFC 7628.
    OAuthBearer,
}

// NOTE: by hand rather than `rename_all`, so that the message names every accepted value the
// way the other config errors do.
impl TryFrom<String> for Provider {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        match s.as_str() {
            "microsoft" => Ok(Provider::Microsoft),
            "google" => Ok(Provider::Google),
            "custom" => Ok(Provider::Custom),
            other => Err(format!(
                "unknown oauth2 provider `{other}` (expected `microsoft`, `google` or `custom`)"
            )),
        }
    }
}

impl TryFrom<String> for Mechanism {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        match s.as_str() {
            "xoauth2" => Ok(Mechanism::XOAuth2),
            "oauthbearer" => Ok(Mechanism::OAuthBearer),
            other => Err(format!(
                "unknown mechanism `{other}` (expected `xoauth2` or `oauthbearer`)"
            )),
        }
    }
}

impl Mechanism {
    /// The name in `AUTHENTICATE NAME`.
    pub fn as_str(self) -> &'static str {
        match self {
            Mechanism::XOAuth2 => "XOAUTH2",
            Mechanism::OAuthBearer => "OAUTHBEARER",
        }
    }
}
