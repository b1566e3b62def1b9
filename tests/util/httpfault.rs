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

/// Serves `app` on 127.0.0.1 (a free port) in the background; returns its address.
pub async fn serve(app: axum::Router) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind fake");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    addr
}

/// Serves `app` on `addr` (port 0: a free one) with `Connection: close` on every answer; the
/// returned counter says how many of the next connections are dropped unanswered.
pub async fn serve_dropping(addr: SocketAddr, app: axum::Router) -> (SocketAddr, Arc<AtomicUsize>) {
    let app = app.layer(axum::middleware::map_response(close_connection));
    let inner = TcpListener::bind(addr).await.expect("bind fake");
    let addr = inner.local_addr().expect("local addr");
    let drops = Arc::new(AtomicUsize::new(0));
    let listener = DroppingListener {
        inner,
        drops: Arc::clone(&drops),
    };
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (addr, drops)
}

/// Milliseconds since the epoch, as the benchmarks compare them.
pub fn now_ms() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
}
