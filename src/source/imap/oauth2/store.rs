//! Where the refresh token lives between runs: a JSON file in the state dir (mode 0600, replaced
//! atomically), or a command of the user's (`CMD get` prints it, `CMD store` reads it on stdin).
//! The access token is kept in the file too, so a restart does not spend a refresh.

use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::Path;
use std::process::{Command, Stdio};

use serde::{Deserialize, Serialize};

use crate::config::oauth2::TokenStore;

/// What is kept for one account. `Debug` shows no token.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stored {
    pub refresh_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token: Option<String>,
    /// Epoch seconds the access token was issued and expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub obtained_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// The scopes granted, as the provider said (for diagnosis).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

impl std::fmt::Debug for Stored {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stored")
            .field("refresh_token", &"<redacted>")
            .field(
                "access_token",
                &self.access_token.as_ref().map(|_| "<redacted>"),
            )
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Why the tokens cannot be read or kept. Never carries a token.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not a brokerwatch tokens file: {msg}")]
    Corrupt { path: String, msg: String },
    #[error("cannot save the tokens in {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("the token command (`… {verb}`) failed: {msg}")]
    Command { verb: &'static str, msg: String },
}

/// Reads what is stored; `Ok(None)`: nothing yet (never signed in).
pub fn load(store: &TokenStore, account: &str) -> Result<Option<Stored>, StoreError> {
    match store {
        TokenStore::File(path) => load_file(path),
        TokenStore::Command(cmd) => {
            let out = run(cmd, "get", account, None)?;
            let token = out.lines().next().unwrap_or("").trim().to_string();
            Ok((!token.is_empty()).then(|| Stored {
                refresh_token: token,
                ..Stored::default()
            }))
        }
    }
}

/// Saves, atomically: a crash leaves the old tokens or the new ones, never half of either.
pub fn save(store: &TokenStore, account: &str, tokens: &Stored) -> Result<(), StoreError> {
    match store {
        TokenStore::File(path) => save_file(path, tokens),
        TokenStore::Command(cmd) => {
            run(cmd, "store", account, Some(&tokens.refresh_token))?;
            Ok(())
        }
    }
}

fn load_file(path: &Path) -> Result<Option<Stored>, StoreError> {
    let shown = path.display().to_string();
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(StoreError::Read {
                path: shown,
                source,
            });
        }
    };
    // NOTE: serde_json's message names a position and the expected type, never the text.
    let stored: Stored = serde_json::from_str(&text).map_err(|e| StoreError::Corrupt {
        path: shown.clone(),
        msg: e.to_string(),
    })?;
    if stored.refresh_token.is_empty() {
        return Err(StoreError::Corrupt {
            path: shown,
            msg: "no refresh token".into(),
        });
    }
    Ok(Some(stored))
}

fn save_file(path: &Path, tokens: &Stored) -> Result<(), StoreError> {
    let err = |source| StoreError::Write {
        path: path.display().to_string(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(err)?;
    }
    let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    let text = serde_json::to_string_pretty(tokens).map_err(|e| err(e.into()))?;
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .and_then(|mut f| {
            f.write_all(text.as_bytes())?;
            f.sync_all()
        })
        .and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(err(e));
    }
    // The rename is durable only once the folder is synced.
    if let Some(dir) = path.parent()
        && let Ok(d) = std::fs::File::open(dir)
    {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Runs `sh -c 'CMD "$1"' VERB` with `BROKERWATCH_ACCOUNT` set; `input` goes to stdin.
fn run(
    cmd: &str,
    verb: &'static str,
    account: &str,
    input: Option<&str>,
) -> Result<String, StoreError> {
    let fail = |msg: String| StoreError::Command { verb, msg };
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!("{cmd} \"$1\""))
        .arg("sh")
        .arg(verb)
        .env("BROKERWATCH_ACCOUNT", account)
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| fail(format!("cannot start it: {e}")))?;
    if let (Some(text), Some(mut stdin)) = (input, child.stdin.take()) {
        stdin
            .write_all(format!("{text}\n").as_bytes())
            .map_err(|e| fail(format!("cannot write to it: {e}")))?;
    }
    let out = child.wait_with_output().map_err(|e| fail(format!("{e}")))?;
    if !out.status.success() {
        return Err(fail(format!("exited with {}", out.status)));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    #[test]
    fn file_round_trip_is_private_and_atomic() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("oauth2/acct.json");
        let store = TokenStore::File(path.clone());
        assert_eq!(load(&store, "acct").unwrap(), None);
        let t = Stored {
            refresh_token: "rt-1".into(),
            access_token: Some("at-1".into()),
            obtained_at: Some(10),
            expires_at: Some(3610),
            scope: None,
        };
        save(&store, "acct", &t).unwrap();
        assert_eq!(load(&store, "acct").unwrap(), Some(t.clone()));
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let leftovers = std::fs::read_dir(path.parent().unwrap()).unwrap().count();
        assert_eq!(leftovers, 1, "no temporary file is left behind");
        assert!(!format!("{t:?}").contains("rt-1") && !format!("{t:?}").contains("at-1"));
    }

    #[test]
    fn command_store_gets_and_stores() {
        let dir = tempfile::tempdir().unwrap();
        let kept = dir.path().join("kept");
        let cmd = format!(
            "f() {{ if [ \"$1\" = store ]; then cat > {k}; else cat {k}; fi; }}; f",
            k = kept.display()
        );
        let store = TokenStore::Command(cmd);
        let t = Stored {
            refresh_token: "rt-cmd".into(),
            ..Stored::default()
        };
        save(&store, "a", &t).unwrap();
        assert_eq!(load(&store, "a").unwrap().unwrap().refresh_token, "rt-cmd");
    }
}
