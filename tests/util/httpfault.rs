//! A TCP listener for fake HTTP APIs that can drop the next connections unanswered (a network
//! failure mid-request). The fakes answer with `Connection: close`, so each request comes on a
//! connection of its own and a scripted drop hits exactly one request.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};

/// Wraps a bound listener; `drops` counts connections still to be dropped.
pub struct DroppingListener {
    pub inner: TcpListener,
    pub drops: Arc<AtomicUsize>,
}

impl axum::serve::Listener for DroppingListener {
    type Io = TcpStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (TcpStream, SocketAddr) {
        loop {
            let Ok((mut stream, addr)) = self.inner.accept().await else {
                continue;
            };
            let take = self
                .drops
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
            if take.is_err() {
                return (stream, addr);
            }
            // Read the request, then hang up without a byte of answer.
            let mut buf = [0u8; 4096];
            let _ =
                tokio::time::timeout(std::time::Duration::from_millis(200), stream.read(&mut buf))
                    .await;
            drop(stream);
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

/// Adds `Connection: close` to every answer.
pub async fn close_connection(mut resp: axum::response::Response) -> axum::response::Response {
    resp.headers_mut().insert(
        axum::http::header::CONNECTION,
        axum::http::HeaderValue::from_static("close"),
    );
    resp
}

/// Milliseconds since the epoch, as the benchmarks compare them.
pub fn now_ms() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
}
