//! The integration tests' servers for benchmarks and manual runs: a real Dovecot on 127.0.0.1
//! (test CA, TLS) and, with `--desktop`, a private session bus with dunst under Xvfb.
//!
//! `cargo run --release --example benchenv [-- --desktop]` prints one JSON line describing the
//! environment (ports, CA file, users and passwords, Dovecot's directory, bus address) and keeps
//! everything running until SIGINT/SIGTERM, then stops it by PID.

#[allow(dead_code)]
#[path = "../tests/util/desktop.rs"]
mod desktop;
#[allow(dead_code)]
#[path = "../tests/util/dovecot.rs"]
mod dovecot;

use serde_json::json;
use tokio::signal::unix::{SignalKind, signal};

#[tokio::main]
async fn main() {
    let desktop_wanted = std::env::args().skip(1).any(|a| a == "--desktop");
    let server = dovecot::Dovecot::start();
    let desktop = desktop_wanted.then(desktop::DesktopEnv::start);
    let users: Vec<_> = dovecot::USERS
        .iter()
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
