//! `brokerwatch completions SHELL`: the shell completion script, on stdout.

use clap::CommandFactory as _;
use clap_complete::Shell;

use super::{Cli, Outcome};

/// Prints the completion script for `shell`.
pub fn run(shell: Shell) -> anyhow::Result<Outcome> {
    let mut cmd = Cli::command();
    let name = cmd.get_name().to_string();
    clap_complete::generate(shell, &mut cmd, name, &mut std::io::stdout());
    Ok(Outcome::Ok)
}
