//! The `brokerwatch` binary: parse the command line, run, print errors, exit 0/1/2.

use std::process::ExitCode;

fn main() -> ExitCode {
    brokerwatch::cli::main()
}
