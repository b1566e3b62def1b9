//! A standalone fake ntfy server for benchmarks and manual runs: the same server as the
//! integration tests (`tests/util/fakentfy.rs`), on a free port.
//!
//! `cargo run --example fakentfy -- [TOKEN]` prints `listening on http://127.0.0.1:PORT` and
//! serves until Ctrl-C (with TOKEN, publishing needs `Authorization: Bearer TOKEN`).
//! `GET /_fake/requests` lists every accepted publish with its `received_at_ms`.

#[allow(dead_code)]
#[path = "../tests/util/httpfault.rs"]
mod httpfault;

#[allow(dead_code)]
#[path = "../tests/util/fakentfy.rs"]
mod fakentfy;

#[tokio::main]
async fn main() {
    let token = std::env::args().nth(1);
    let ntfy = fakentfy::FakeNtfy::start(token.as_deref()).await;
    println!("listening on {}", ntfy.url());
    let _ = tokio::signal::ctrl_c().await;
}
