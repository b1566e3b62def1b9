//! A standalone fake LINE Messaging API for benchmarks and manual runs: the same server as the
//! integration tests (`tests/util/fakeline.rs`).
//!
//! `cargo run --example fakeline -- [PORT] [TOKEN]` prints `listening on http://127.0.0.1:PORT`
//! and serves until Ctrl-C. `GET /_fake/requests` lists every accepted push with its
//! `received_at_ms`.

#[allow(dead_code)]
#[path = "../tests/util/httpfault.rs"]
mod httpfault;

#[allow(dead_code)]
#[path = "../tests/util/fakeline.rs"]
mod fakeline;

use std::net::SocketAddr;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let port: u16 = match args.next().map(|p| p.parse()) {
        None => 0,
        Some(Ok(p)) => p,
        Some(Err(_)) => {
            eprintln!("usage: fakeline [PORT] [TOKEN]");
            std::process::exit(2);
        }
    };
    let token = args.next().unwrap_or_else(|| fakeline::TOKEN.to_string());
    let line = fakeline::FakeLine::start_on(SocketAddr::from(([127, 0, 0, 1], port)), &token).await;
    println!("listening on {}", line.url());
    let _ = tokio::signal::ctrl_c().await;
}
