//! Secrets (IMAP passwords, bot tokens): where they come from, and keeping them out of logs.

use std::fmt;
use std::path::PathBuf;
use std::process::Command;

/// Where a secret is read from. Never the value itself: a config file is shared, copied and pasted.
#[derive(Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// The first line of a file (trailing newline removed).
    File(PathBuf),
    /// An environment variable.
    Env(String),
    /// The first line a shell command prints (e.g. `pass show mail/imap`).
    Command(String),
}

impl fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The source is not secret, only the value; still, a command line may embed a token.
        match self {
            SecretSource::File(p) => write!(f, "File({})", p.display()),
            SecretSource::Env(v) => write!(f, "Env({v})"),
            SecretSource::Command(_) => f.write_str("Command(<redacted>)"),
        }
    }
}

/// A resolved secret value. Its `Debug` and `Display` never show the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value; used by tests and by [`SecretSource::resolve`].
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value, for the one place that must send it (IMAP LOGIN, the bot API URL).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Why a secret could not be read. Names the source, never a value.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("cannot read secret file {path}: {source}")]
    File {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("environment variable `{0}` is not set")]
    Env(String),
    #[error("secret command failed to start: {0}")]
    CommandStart(std::io::Error),
    #[error("secret command exited with {0}")]
    CommandFailed(std::process::ExitStatus),
    #[error("secret from {0} is empty")]
    Empty(&'static str),
}

impl SecretSource {
    /// Reads the secret now. Called at connect time, so a rotated password is picked up on reconnect.
    pub fn resolve(&self) -> Result<Secret, SecretError> {
        let (raw, what) = match self {
            SecretSource::File(path) => (
                std::fs::read_to_string(path).map_err(|source| SecretError::File {
                    path: path.clone(),
                    source,
                })?,
                "file",
            ),
            SecretSource::Env(var) => (
                std::env::var(var).map_err(|_| SecretError::Env(var.clone()))?,
                "environment",
            ),
            SecretSource::Command(cmd) => {
                let out = Command::new("sh")
                    .arg("-c")
                    .arg(cmd)
                    .stderr(std::process::Stdio::inherit())
                    .output()
                    .map_err(SecretError::CommandStart)?;
                if !out.status.success() {
                    return Err(SecretError::CommandFailed(out.status));
                }
                (String::from_utf8_lossy(&out.stdout).into_owned(), "command")
            }
        };
        let value = raw.lines().next().unwrap_or("").trim_end().to_string();
        if value.is_empty() {
            return Err(SecretError::Empty(what));
        }
        Ok(Secret(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_hide_the_value() {
        let s = Secret::new("hunter2-very-secret");
        assert!(!format!("{s:?}").contains("hunter2"));
        assert!(!format!("{s}").contains("hunter2"));
        let c = SecretSource::Command("echo hunter2".into());
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    #[test]
    fn resolves_file_env_and_command() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("pw");
        std::fs::write(&f, "s3cret\n").unwrap();
        assert_eq!(SecretSource::File(f).resolve().unwrap().expose(), "s3cret");
        assert_eq!(
            SecretSource::Command("printf 'tok\\nrest'".into())
                .resolve()
                .unwrap()
                .expose(),
            "tok"
        );
        assert!(matches!(
            SecretSource::Env("BROKERWATCH_SURELY_UNSET_VAR".into()).resolve(),
            Err(SecretError::Env(_))
        ));
        assert!(matches!(
            SecretSource::Command("exit 3".into()).resolve(),
            Err(SecretError::CommandFailed(_))
        ));
    }
}
