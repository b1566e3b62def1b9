//! What `check` and `run` verify on this machine before anything starts: every password and
//! token can be read (files and variables; a command is only run when it is needed), and every
//! Maildir folder exists. No network I/O. Each problem is `file:line:col: message`.

use crate::config::secret::SecretSource;
use crate::config::{AccountSource, Config, ImapAuth};
use crate::yaml::{self, Loc, Node, Problem};

/// The problems of `cfg` that only this machine can show; empty when all is there.
pub fn problems(cfg: &Config) -> Vec<Problem> {
    let Some(path) = &cfg.path else {
        return Vec::new();
    };
    let tree = std::fs::read_to_string(path)
        .ok()
        .and_then(|t| yaml::parse(&t).ok());
    let at = |keys: &[Key]| {
        tree.as_ref()
            .and_then(|t| locate(t, keys))
            .unwrap_or_default()
    };
    let file = path.display().to_string();
    let mut out = Vec::new();
    let mut push = |loc: Loc, message: String| {
        out.push(Problem {
            file: file.clone(),
            loc,
            message,
        })
    };
    for a in &cfg.accounts {
        let account = Key::Account(&a.name);
        match &a.source {
            AccountSource::Imap(i) => {
                let (path, what): (&[Key], _) = match &i.auth {
                    ImapAuth::Password(_) => {
                        (&[Key::Field("imap"), Key::Field("password")], "password")
                    }
                    ImapAuth::OAuth2(_) => (
                        &[
                            Key::Field("imap"),
                            Key::Field("auth"),
                            Key::Field("oauth2"),
                            Key::Field("client_secret"),
                        ],
                        "client secret",
                    ),
                };
                if let Some(why) = i.auth.secrets().and_then(unreadable) {
                    let loc = at(&[&[account][..], path].concat());
                    push(loc, format!("account `{}`: the {what} {why}", a.name));
                }
            }
            AccountSource::Maildir(m) if !m.path.is_dir() => {
                let loc = at(&[account, Key::Field("maildir")]);
                push(
                    loc,
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
        let loc = at(&[
            Key::Field("sinks"),
            Key::Field("telegram"),
            Key::Field("token"),
        ]);
        push(loc, format!("the Telegram token {why}"));
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

#[derive(Clone, Copy)]
enum Key<'a> {
    /// The item of `accounts` with this name.
    Account(&'a str),
    Field(&'a str),
}

/// The location of the node at `keys`, or the deepest one found on the way.
fn locate(root: &Node, keys: &[Key]) -> Option<Loc> {
    let mut node = root;
    for key in keys {
        let next = match key {
            Key::Account(name) => {
                field(node, "accounts")
                    .and_then(Node::as_seq)
                    .and_then(|items| {
                        items.iter().find(|i| {
                            field(i, "name").and_then(Node::scalar_text).as_deref() == Some(name)
                        })
                    })
            }
            Key::Field(f) => field(node, f),
        };
        match next {
            Some(n) => node = n,
            None => break,
        }
    }
    Some(node.loc)
}

fn field<'n>(node: &'n Node, name: &str) -> Option<&'n Node> {
    node.as_map()?
        .iter()
        .find(|(k, _)| k.scalar_text().as_deref() == Some(name))
        .map(|(_, v)| v)
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
