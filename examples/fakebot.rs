//! A standalone fake Telegram Bot API for benchmarks and manual runs: the same server as the
//! integration tests (`tests/util/fakebot.rs`), driven through its `/_fake/*` routes.
//!
//! `cargo run --example fakebot -- [PORT] [TOKEN]` prints `listening on http://127.0.0.1:PORT`
//! and serves until Ctrl-C. Control: `GET /_fake/requests`, `POST /_fake/message
//! {"chat_id":1,"text":"/ack 5"}` (or `"callback_data"`), `POST /_fake/fault {"kind":"429","secs":3}`.

#[allow(dead_code)]
#[path = "../tests/util/fakebot/mod.rs"]
mod fakebot;

use std::net::SocketAddr;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let port: u16 = match args.next().map(|p| p.parse()) {
        None => 0,
        Some(Ok(p)) => p,
        Some(Err(_)) => {
            eprintln!("usage: fakebot [PORT] [TOKEN]");
            std::process::exit(2);
        }
    };
    let token = args.next().unwrap_or_else(|| fakebot::TOKEN.to_string());
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let bot = fakebot::FakeBot::start_on(addr, &token).await;
    println!("listening on {}", bot.url());
    let _ = tokio::signal::ctrl_c().await;
}
