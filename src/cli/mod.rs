//! The command line (DESIGN.md's contract): one file a subcommand; this file holds the parser,
//! the shared loading of config + rules, and the exit codes.
//!
//! Exit codes: 0 ok, 1 runtime failure, 2 usage or configuration error.

mod ack;
mod alert_test;
mod check;
mod completions;
mod doctor;
mod expect;
pub mod health;
mod init;
mod local;
pub mod logging;
mod login;
mod profile;
mod run;
mod scan;
mod status;
pub mod test;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Parser, Subcommand};

use crate::config::{self, Config};
use crate::rules::RuleSet;
use crate::yaml::Problems;
use logging::LogFormat;

#[derive(Debug, Parser)]
#[command(
    name = "brokerwatch",
    version,
    about = "Makes sure nobody overlooks the e-mail a broker sends when money or account control moves.",
    after_help = "Examples:\n  brokerwatch check\n  brokerwatch test --json demo/maildir/cur/*\n  brokerwatch expect sbi withdrawal --for 48h --note 'moving savings'\n  brokerwatch run\n\nExit codes: 0 ok, 1 runtime failure, 2 usage or configuration error."
)]
pub struct Cli {
    /// Config file (default: $BROKERWATCH_CONFIG, then $XDG_CONFIG_HOME/brokerwatch/config.yaml).
    #[arg(long, short = 'c', global = true, env = "BROKERWATCH_CONFIG")]
    pub config: Option<PathBuf>,
    /// Log format on stderr (journald is used automatically under systemd).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate the config and the rule packs; every error as file:line:col.
    Check,
    /// Dry run: what each mail file is, and what would happen.
    Test {
        /// One JSON object per mail: file, message_id, broker, event, authentic, phishing,
        /// expected, severity, rule, fields, reasons (README, "Commands").
        #[arg(long)]
        json: bool,
        /// .eml files (or Maildir message files).
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// The daemon: watch every configured mailbox and alert until acknowledged.
    Run,
    /// One pass over the configured mailboxes, printing what matched.
    Scan {
        /// Look at mail received since this day (YYYY-MM-DD); default: `first_run_lookback`.
        #[arg(long)]
        since: Option<String>,
        /// One JSON object per matching mail, as `test --json` with `mailbox`, and `uid` (IMAP)
        /// or `file` (Maildir) for where it is.
        #[arg(long)]
        json: bool,
        /// Raise and deliver alerts (uses and advances the daemon's state).
        #[arg(long)]
        alert: bool,
    },
    /// Declare a notice as expected for a while (e.g. your own withdrawal).
    Expect {
        /// Broker id: sbi, rakuten, monex, matsui, kabucom, schwab, fidelity, vanguard, ibkr, …
        broker: String,
        /// Event: withdrawal, email_change, payout_account_change, login, password_change, mfa_change, profile_change, …
        event: String,
        /// How long the window stays open (e.g. 30m, 24h, 7d).
        #[arg(long = "for", value_parser = parse_duration_arg)]
        for_: Option<Duration>,
        /// A note for the record.
        #[arg(long)]
        note: Option<String>,
    },
    /// Acknowledge an alert: its repeats stop.
    Ack {
        /// The alert id (shown in every alert).
        id: i64,
    },
    /// Accounts and their last successful check, unacknowledged alerts, expectations.
    Status,
    /// Send one test alert through every configured sink and report each result.
    AlertTest,
    /// Is the daemon keeping up? Exit 0, or one line per stale mailbox and exit 1 (no network).
    #[command(
        after_help = "Unhealthy: a mailbox whose last successful check is older than 3 x max(poll_interval, idle_refresh) (IMAP)\nor 3 x max(poll_interval, 60s) (Maildir), counted from the daemon's start at the earliest;\na missing or corrupt state database.\n\nExamples:\n  brokerwatch health\n  docker inspect --format '{{json .State.Health}}' brokerwatch"
    )]
    Health,
    /// Write a commented starter config (never overwrites an existing file).
    #[command(
        after_help = "With a first account, its recent mail shows which authserv-id to trust (sender checks on);\nwithout one, `authserv_ids: auto` lets the daemon learn it.\n\nExamples:\n  brokerwatch init\n  brokerwatch init --imap imap.gmail.com --user you@gmail.com --password-file ~/.config/brokerwatch/imap-password\n  brokerwatch init --path /srv/brokerwatch/config.yaml\n\nExit 2 if the file already exists."
    )]
    Init {
        /// Where to write it (default: --config, else $BROKERWATCH_CONFIG, else the XDG config dir).
        #[arg(long)]
        path: Option<PathBuf>,
        #[command(flatten)]
        first: init::FirstAccount,
    },
    /// Check config, rules, state dir, IMAP logins, desktop and Telegram; one ✔/✘ line each.
    #[command(
        after_help = "Processes no mail and shows no toast. Exit 1 if any check fails.\n\nExamples:\n  brokerwatch doctor\n  brokerwatch --config /config/config.yaml doctor"
    )]
    Doctor,
    /// OAuth2: sign an account in and keep its tokens (device code, or a browser redirect).
    #[command(
        after_help = "Microsoft accounts get a code to enter at a web page on any device; Google accounts\nget an address to open in a browser (on another machine: paste the final address back here).\nThe refresh token goes to STATE_DIR/oauth2/ACCOUNT.json (mode 0600) or your `token_command`.\n\nExamples:\n  brokerwatch login outlook\n  brokerwatch --config /config/config.yaml login gmail"
    )]
    Login {
        /// The account's `name` in the config.
        account: String,
    },
    /// Propose a trading profile from your own past trade mails (YAML to paste into the config).
    #[command(
        after_help = "Makes one pass over the configured mailboxes with a throwaway state (the daemon's is not\ntouched) and prints a `trading_profile:` that fits the genuine trade notices found, with the\ncounts it is based on.\n\nExamples:\n  brokerwatch profile\n  brokerwatch profile --since 2025-01-01 >> ~/.config/brokerwatch/config.yaml"
    )]
    Profile {
        /// How far back: a span (1y, 180d) or a day (YYYY-MM-DD).
        #[arg(long, default_value = "1y")]
        since: String,
    },
    /// Print a shell completion script to stdout.
    #[command(
        after_help = "Examples:\n  brokerwatch completions bash > ~/.local/share/bash-completion/completions/brokerwatch\n  brokerwatch completions zsh > ~/.zfunc/_brokerwatch\n  brokerwatch completions fish > ~/.config/fish/completions/brokerwatch.fish"
    )]
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

fn parse_duration_arg(s: &str) -> Result<Duration, String> {
    crate::units::parse_duration(s)
}

/// Who is at the keyboard, for the record of an acknowledgement.
pub(crate) fn user() -> String {
    std::env::var("USER").unwrap_or_else(|_| "unknown".into())
}

/// Outcome of a command: 0, or a runtime/config failure already printed.
pub enum Outcome {
    Ok,
    /// Configuration or usage error (exit 2).
    Usage,
}

/// Entry point used by `main.rs`.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match dispatch(cli) {
        Ok(Outcome::Ok) => ExitCode::SUCCESS,
        Ok(Outcome::Usage) => ExitCode::from(2),
        Err(e) => {
            eprintln!("brokerwatch: error: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn dispatch(cli: Cli) -> anyhow::Result<Outcome> {
    let cfg_path = cli.config.as_deref();
    logging::init(cli.log_format);
    match cli.command {
        Command::Check => check::run(cfg_path),
        Command::Test { json, files } => test::run(cfg_path, json, &files),
        Command::Run => run::run(cfg_path),
        Command::Scan { since, json, alert } => scan::run(cfg_path, since.as_deref(), json, alert),
        Command::Expect {
            broker,
            event,
            for_,
            note,
        } => expect::run(cfg_path, &broker, &event, for_, note.as_deref()),
        Command::Ack { id } => ack::run(cfg_path, id),
        Command::Status => status::run(cfg_path),
        Command::AlertTest => alert_test::run(cfg_path),
        Command::Health => health::run(cfg_path),
        Command::Init { path, first } => init::run(cfg_path, path.as_deref(), &first),
        Command::Doctor => doctor::run(cfg_path),
        Command::Login { account } => login::run(cfg_path, &account),
        Command::Profile { since } => profile::run(cfg_path, &since),
        Command::Completions { shell } => completions::run(shell),
    }
}

/// Loads config and rules; on problems prints all of them and returns None (exit 2).
/// Without an explicit config, a missing default file means the built-in defaults.
pub(crate) fn load(cfg_path: Option<&Path>) -> Option<(Config, RuleSet)> {
    match config::load_checked(cfg_path) {
        Ok(v) => {
            for w in &v.0.warnings {
                eprintln!("brokerwatch: warning: {w}");
            }
            Some(v)
        }
        Err(p) => {
            print_problems(&p);
            None
        }
    }
}

/// [`load`], then what only this machine can show: unreadable secrets, missing Maildir folders.
/// For `check` and `run`: a configuration problem stops both with exit 2, stated once.
pub(crate) fn load_here(cfg_path: Option<&Path>) -> Option<(Config, RuleSet)> {
    let (cfg, rules) = load(cfg_path)?;
    let problems = local::problems(&cfg);
    if problems.is_empty() {
        return Some((cfg, rules));
    }
    print_problems(&Problems(problems));
    None
}

fn print_problems(p: &Problems) {
    eprintln!("{p}");
    eprintln!("brokerwatch: {} problem(s) found", p.0.len());
}

/// Reads a mail file with a readable error.
pub(crate) fn read_mail(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}
pub use test::verdict_json;
