//! The integration tests' servers for benchmarks and manual runs: a real Dovecot on 127.0.0.1
//! (test CA, TLS) and, with `--desktop`, a private session bus with dunst under Xvfb.
//!
//! `cargo run --release --example benchenv [-- --desktop] [--users N] [--idle-notify SECS]`
//! prints one JSON line describing the environment (ports, CA file, users and passwords,
//! Dovecot's directory, bus address) and keeps everything running until SIGINT/SIGTERM, then
//! stops it by PID. `--users N` adds users `user001`…`userN` (with raised process limits) for
//! many-account benchmarks; `--idle-notify SECS` sets how often Dovecot sends "* OK Still here"
//! to an IDLE connection (default 2 min).

#[allow(dead_code)]
#[path = "../tests/util/desktop.rs"]
mod desktop;
#[allow(dead_code)]
#[path = "../tests/util/dovecot/mod.rs"]
mod dovecot;

use std::time::Duration;

use serde_json::json;
use tokio::signal::unix::{SignalKind, signal};

#[tokio::main]
async fn main() {
    let (desktop_wanted, scale) = match parse_args(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            eprintln!(
                "benchenv: {e}\nusage: benchenv [--desktop] [--users N] [--idle-notify SECS]"
            );
            std::process::exit(2);
        }
    };
    let server = dovecot::Dovecot::start_scaled(dovecot::Options::default(), scale);
    let desktop = desktop_wanted.then(desktop::DesktopEnv::start);
    let users: Vec<_> = server
        .users()
        .into_iter()
        .map(|(user, password)| json!({ "user": user, "password": password }))
        .collect();
    let info = json!({
        "imap_port": server.imap_port,
        "imaps_port": server.imaps_port,
        "ca_file": server.ca_path,
        "dir": server.dir(),
        "users": users,
        "dbus_address": desktop.as_ref().map(|d| d.address.clone()),
        "pid": std::process::id(),
    });
    println!("{info}");
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    drop(desktop);
    drop(server);
}

fn parse_args(args: impl Iterator<Item = String>) -> Result<(bool, dovecot::Scale), String> {
    let mut desktop = false;
    let mut scale = dovecot::Scale::default();
    let mut args = args.peekable();
    while let Some(a) = args.next() {
        let mut number = |name: &str| -> Result<u64, String> {
            args.next()
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| format!("{name} needs a number"))
        };
        match a.as_str() {
            "--desktop" => desktop = true,
            "--users" => scale.extra_users = number("--users")? as usize,
            "--idle-notify" => {
                scale.idle_notify = Some(Duration::from_secs(number("--idle-notify")?));
            }
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok((desktop, scale))
}
