//! What `check` and `run` verify on this machine before anything starts: every password and
//! token can be read (files and variables; a command is only run when it is needed), and every
//! Maildir folder exists. No network I/O. Each problem is `file:line:col: message`.

use crate::config::secret::SecretSource;
use crate::config::{AccountSource, Config, ImapAuth};
use serde::Deserialize;
use serde::de::IgnoredAny;

use crate::yaml::{At, Loc, Problem};

/// The problems of `cfg` that only this machine can show; empty when all is there.
pub fn problems(cfg: &Config) -> Vec<Problem> {
    let Some(path) = &cfg.path else {
        return Vec::new();
    };
    // The config compiled, so it reads; its accounts are in the file's order.
    let places: Places = std::fs::read_to_string(path)
        .ok()
        .and_then(|t| serde_saphyr::from_str(&t).ok())
        .unwrap_or_default();
    let file = path.display().to_string();
    let mut out = Vec::new();
    let mut push = |loc: Loc, message: String| {
        out.push(Problem {
            file: file.clone(),
            loc,
            message,
        })
    };
    for (i, a) in cfg.accounts.iter().enumerate() {
        let entry = places.accounts.get(i);
        match &a.source {
            AccountSource::Imap(i) => {
                let (loc, what) = match &i.auth {
                    ImapAuth::Password(_) => (entry.map(AccountPlaces::password), "password"),
                    ImapAuth::OAuth2(_) => {
                        (entry.map(AccountPlaces::client_secret), "client secret")
                    }
                };
                if let Some(why) = i.auth.secrets().and_then(unreadable) {
                    push(
                        loc.unwrap_or_default(),
                        format!("account `{}`: the {what} {why}", a.name),
                    );
                }
            }
            AccountSource::Maildir(m) if !m.path.is_dir() => {
                let loc = entry.map(|e| loc_or(&e.value.maildir, e.loc));
                push(
                    loc.unwrap_or_default(),
                    format!(
                        "account `{}`: cannot watch `{}`: no such folder",
                        a.name,
                        m.path.display()
                    ),
                );
            }
            AccountSource::Maildir(_) => {}
        }
    }
    if let Some(t) = &cfg.sinks.telegram
        && let Some(why) = unreadable(&t.token)
    {
        push(places.telegram_token(), format!("the Telegram token {why}"));
    }
    out
}

/// Why a secret cannot be read here; None when it can (or is a command, run only when needed).
fn unreadable(s: &SecretSource) -> Option<String> {
    match s {
        SecretSource::Command(_) => None,
        SecretSource::File(p) => match std::fs::metadata(p) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Some(format!("file `{}` does not exist", p.display()))
            }
            _ => s.resolve().err().map(|e| format!("cannot be read: {e}")),
        },
        SecretSource::Env(v) => s
            .resolve()
            .err()
            .map(|_| format!("variable `{v}` is not set (or empty)")),
    }
}

/// Where the secrets and folders of a config are written, to point at them: the nearest
/// written place when the exact one is not (e.g. the account when its `password` is left out).
#[derive(Default, Deserialize)]
struct Places {
    #[serde(default)]
    accounts: Vec<At<AccountPlaces>>,
    sinks: Option<At<SinkPlaces>>,
}

#[derive(Deserialize)]
struct AccountPlaces {
    maildir: Option<At<IgnoredAny>>,
    imap: Option<At<ImapPlaces>>,
}

#[derive(Deserialize)]
struct ImapPlaces {
    password: Option<At<IgnoredAny>>,
    auth: Option<At<AuthPlaces>>,
}

#[derive(Deserialize)]
struct AuthPlaces {
    oauth2: Option<At<OAuthPlaces>>,
}

#[derive(Deserialize)]
struct OAuthPlaces {
    client_secret: Option<At<IgnoredAny>>,
}

#[derive(Deserialize)]
struct SinkPlaces {
    telegram: Option<At<TelegramPlaces>>,
}

#[derive(Deserialize)]
struct TelegramPlaces {
    token: Option<At<IgnoredAny>>,
}

/// Where `inner` is written, or else `outer`.
fn loc_or<U>(inner: &Option<At<U>>, outer: Loc) -> Loc {
    inner.as_ref().map_or(outer, |i| i.loc)
}

impl AccountPlaces {
    fn password(e: &At<AccountPlaces>) -> Loc {
        let Some(imap) = &e.value.imap else {
            return e.loc;
        };
        loc_or(&imap.value.password, imap.loc)
    }

    fn client_secret(e: &At<AccountPlaces>) -> Loc {
        let Some(imap) = &e.value.imap else {
            return e.loc;
        };
        let Some(auth) = &imap.value.auth else {
            return imap.loc;
        };
        let Some(oauth2) = &auth.value.oauth2 else {
            return auth.loc;
        };
        loc_or(&oauth2.value.client_secret, oauth2.loc)
    }
}

impl Places {
    fn telegram_token(&self) -> Loc {
        let Some(sinks) = &self.sinks else {
            return Loc::default();
        };
        let Some(t) = &sinks.value.telegram else {
            return sinks.loc;
        };
        loc_or(&t.value.token, t.loc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_password_file_a_missing_variable_and_a_missing_folder_are_located() {
        let dir = tempfile::tempdir().unwrap();
        let cfg_path = dir.path().join("config.yaml");
        std::fs::write(
            &cfg_path,
            "accounts:\n  - name: mail\n    imap: {host: imap.example.com, username: u, password: {file: nope}}\n  \
             - name: local\n    maildir: gone\n\
             sinks:\n  telegram:\n    token: {env: BW_SURELY_UNSET_TOKEN_VAR}\n    chat_ids: [1]\n",
        )
        .unwrap();
        let cfg = crate::config::load(&cfg_path).expect("config");
        let got: Vec<String> = problems(&cfg).iter().map(|p| p.to_string()).collect();
        let f = cfg_path.display();
        let nope = dir.path().join("nope");
        let gone = dir.path().join("gone");
        assert_eq!(
            got,
            [
                format!(
                    "{f}:3:59: account `mail`: the password file `{}` does not exist",
                    nope.display()
                ),
                format!(
                    "{f}:5:14: account `local`: cannot watch `{}`: no such folder",
                    gone.display()
                ),
                format!(
                    "{f}:8:12: the Telegram token variable `BW_SURELY_UNSET_TOKEN_VAR` is not set (or empty)"
                ),
            ]
        );
    }
}
