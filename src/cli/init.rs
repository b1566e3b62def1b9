//! `brokerwatch init`: writes a commented starter config (asks nothing) where brokerwatch looks
//! for it, readable by you only, and never over an existing file. The starter passes
//! `brokerwatch check` as written and once its example account is uncommented and filled in.

use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use super::Outcome;
use crate::config;

/// The starter config. Lines of the example account start with `#  ` so that removing the first
/// `#` of each turns them into YAML (tests do exactly that).
pub const STARTER: &str = r##"# brokerwatch configuration, written by `brokerwatch init`. YAML; unknown keys are errors;
# relative paths are relative to this file's folder; `~/` is your home. `brokerwatch check`
# validates it, `brokerwatch doctor` tries it out. Full reference: README, "Configuration".

# Your receiving server's authserv-id: only its Authentication-Results headers are trusted.
# `auto`: brokerwatch learns it from the recent mail of your mailboxes (`brokerwatch doctor` shows
# what it finds). Or name it: the first word of the topmost Authentication-Results header of a
# mail you received (Gmail: mx.google.com). `[]`: authenticity is "unknown" and genuine and
# forged notices look alike.
authserv_ids: auto

# The language of alerts, buttons, chat replies and `status`: ja | en. Default: your locale.
# language: ja

# Mailboxes to watch. Uncomment the example (remove the first `#` of each line) and fill it in.
# The password is never written here: `file` (chmod 600 it), `env` or `command`.
accounts:
#  - name: gmail
#    imap:
#      host: imap.gmail.com          # Outlook: outlook.office365.com
#      port: 993
#      tls: implicit                 # implicit | starttls
#      username: you@gmail.com
#      password: {file: ~/.config/brokerwatch/imap-password}   # an app password
#      mailboxes: [INBOX, "[Gmail]/Spam"]   # a notice filtered to spam still counts
#  - name: local                     # or a local Maildir (mbsync, offlineimap)
#    maildir: ~/Mail/broker

# Where alerts go. A security notice you did not expect is repeated until acknowledged.
sinks:
  console: true
  desktop: {app_name: brokerwatch}   # on a server without a desktop: {enabled: false}
#  telegram:                         # see README, "Telegram bot setup"
#    token: {file: ~/.config/brokerwatch/telegram-token}
#    chat_ids: [123456789]

# Standing "this is fine" for genuine notices, e.g. your monthly transfer:
allowances:
#  - {broker: sbi, event: withdrawal, max_amount: 100000, account_suffix: "1234", note: monthly transfer}
"##;

/// `brokerwatch init --imap HOST --user U --password-file F` or `--maildir DIR`: the first
/// account, written into the starter, and whose recent mail shows the authserv-id to trust.
#[derive(Debug, Default, clap::Args)]
pub struct FirstAccount {
    /// IMAP server of your first account (then --user and --password-file).
    #[arg(long, value_name = "HOST", requires_all = ["user", "password_file"])]
    pub imap: Option<String>,
    /// IMAP port (default 993, or 143 with --tls starttls).
    #[arg(long, requires = "imap")]
    pub port: Option<u16>,
    /// implicit, starttls, or none (loopback only).
    #[arg(long, value_name = "MODE", requires = "imap")]
    pub tls: Option<String>,
    /// IMAP user name.
    #[arg(long, value_name = "USER", requires = "imap")]
    pub user: Option<String>,
    /// A file holding the IMAP (app) password; `chmod 600` it.
    #[arg(long, value_name = "FILE", requires = "imap")]
    pub password_file: Option<PathBuf>,
    /// Extra CA certificates (PEM) to trust for the IMAP server.
    #[arg(long, value_name = "FILE", requires = "imap")]
    pub ca_file: Option<PathBuf>,
    /// A mailbox to watch (repeat it; default INBOX).
    #[arg(long = "mailbox", value_name = "NAME", requires = "imap")]
    pub mailboxes: Vec<String>,
    /// A local Maildir instead of IMAP.
    #[arg(long, value_name = "DIR", conflicts_with = "imap")]
    pub maildir: Option<PathBuf>,
}

impl FirstAccount {
    /// The account as YAML lines for `accounts:`, or None without one.
    fn yaml(&self) -> Option<String> {
        let q = |s: &str| serde_json::Value::String(s.to_string()).to_string();
        let p = |p: &Path| {
            q(&std::path::absolute(p)
                .unwrap_or_else(|_| p.to_path_buf())
                .display()
                .to_string())
        };
        if let Some(dir) = &self.maildir {
            return Some(format!("  - name: mail\n    maildir: {}\n", p(dir)));
        }
        let host = self.imap.as_deref()?;
        let mut y = format!("  - name: mail\n    imap:\n      host: {}\n", q(host));
        if let Some(port) = self.port {
            y += &format!("      port: {port}\n");
        }
        if let Some(tls) = &self.tls {
            y += &format!("      tls: {}\n", q(tls));
        }
        y += &format!(
            "      username: {}\n",
            q(self.user.as_deref().unwrap_or_default())
        );
        if let Some(f) = &self.password_file {
            y += &format!("      password: {{file: {}}}\n", p(f));
        }
        if let Some(f) = &self.ca_file {
            y += &format!("      ca_file: {}\n", p(f));
        }
        if !self.mailboxes.is_empty() {
            let list: Vec<String> = self.mailboxes.iter().map(|m| q(m)).collect();
            y += &format!("      mailboxes: [{}]\n", list.join(", "));
        }
        Some(y)
    }
}

/// The starter with the first account, and the authserv-id its recent mail shows (else `auto`).
fn starter_for(first: &FirstAccount, target: &Path) -> anyhow::Result<String> {
    let Some(account) = first.yaml() else {
        return Ok(STARTER.to_string());
    };
    let text = STARTER.replacen("accounts:\n", &format!("accounts:\n{account}"), 1);
    let base = target.parent().unwrap_or(Path::new("."));
    let cfg = config::load_str(&text, &target.display().to_string(), base)
        .map_err(|p| anyhow::anyhow!("the account given does not make a valid config:\n{p}"))?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    match rt.block_on(crate::daemon::authserv::learn(&cfg)) {
        Ok(l) => {
            println!(
                "sender checks on: your server writes Authentication-Results as `{}` ({} of {} recent mails); trusting it",
                l.id, l.seen, l.of
            );
            println!(
                "送信元の確認を有効にしました: 受信サーバーの authserv-id `{}` を信頼します (最近のメール {} 通中 {} 通)",
                l.id, l.of, l.seen
            );
            Ok(text.replacen(
                "authserv_ids: auto\n",
                &format!(
                    "authserv_ids: [{}]   # found by `brokerwatch init` in {} of {} recent mails\n",
                    l.id, l.seen, l.of
                ),
                1,
            ))
        }
        Err(why) => {
            println!(
                "no authserv-id found now ({why}); `authserv_ids: auto` lets the daemon learn it from new mail"
            );
            println!(
                "authserv-id は今は見つかりませんでした。`authserv_ids: auto` により、デーモンが新しいメールから学習します"
            );
            Ok(text)
        }
    }
}

/// `brokerwatch init [--path P] [first account]`.
pub fn run(
    cfg_path: Option<&Path>,
    path: Option<&Path>,
    first: &FirstAccount,
) -> anyhow::Result<Outcome> {
    let target: PathBuf = match path
        .map(Path::to_path_buf)
        .or_else(|| config::locate(cfg_path))
    {
        Some(p) => p,
        None => anyhow::bail!("cannot tell where the config goes: pass --path FILE"),
    };
    if target.exists() {
        eprintln!(
            "brokerwatch: {} already exists; not overwriting it (edit it, or move it away and run `brokerwatch init` again)",
            target.display()
        );
        return Ok(Outcome::Usage);
    }
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        make_private_dir(dir)?;
    }
    let text = starter_for(first, &target)?;
    write_new(&target, &text)?;
    let cfg = config::load(&target).map_err(|p| {
        anyhow::anyhow!("the starter config does not load (a bug, please report it):\n{p}")
    })?;
    make_private_dir(&cfg.state_dir)?;
    print_next_steps(
        &target,
        &cfg.state_dir,
        path.is_some() || cfg_path.is_some(),
    );
    Ok(Outcome::Ok)
}

/// Creates `dir` and missing parents, each new one 0700.
fn make_private_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("cannot create {}", dir.display()))
}

/// Writes a new 0600 file; fails if it appeared in the meantime.
fn write_new(path: &Path, text: &str) -> anyhow::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    f.write_all(text.as_bytes())
        .and_then(|()| f.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))
}

fn print_next_steps(path: &Path, state_dir: &Path, explicit: bool) {
    let p = path.display();
    let flag = if explicit {
        format!(" --config {p}")
    } else {
        String::new()
    };
    println!(
        "wrote {p} (readable by you only); state goes to {}",
        state_dir.display()
    );
    println!();
    println!("Next steps:");
    println!("  1. edit {p}: uncomment the example account and fill it in;");
    println!("     put the IMAP app password in a file and `chmod 600` it");
    println!("  2. brokerwatch{flag} check          # validates config and rules");
    println!("  3. brokerwatch{flag} doctor         # logs in, finds the desktop and the bot");
    println!("  4. brokerwatch{flag} alert-test     # one test alert through every sink");
    println!(
        "  5. systemctl --user enable --now brokerwatch   # after copying systemd/brokerwatch.service"
    );
    println!("     to ~/.config/systemd/user/ (see README, Install)");
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example account uncommented: what a user gets after filling in the placeholders.
    pub(crate) fn uncommented(text: &str) -> String {
        text.lines()
            .map(|l| {
                l.strip_prefix('#')
                    .filter(|r| r.starts_with("  "))
                    .unwrap_or(l)
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn starter_loads_as_written_and_uncommented() {
        let cfg = config::load_str(STARTER, "starter", Path::new("/home/u/.config/brokerwatch"))
            .expect("starter as written");
        assert!(cfg.accounts.is_empty());
        let filled = uncommented(STARTER);
        let cfg = config::load_str(&filled, "filled", Path::new("/home/u/.config/brokerwatch"))
            .unwrap_or_else(|p| panic!("{p}\n{filled}"));
        assert_eq!(cfg.accounts.len(), 2);
        assert!(cfg.sinks.telegram.is_some());
        assert_eq!(cfg.allowances.len(), 1);
    }
}
