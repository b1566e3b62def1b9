//! The signals `brokerwatch run` answers: SIGTERM and SIGINT stop it, SIGHUP reloads.

use std::future::Future;

use futures::Stream;

/// Each SIGHUP, as a stream. The handler is installed at once, so a SIGHUP that arrives before
/// the daemon is ready is a reload, not the default "terminate".
pub fn hangups() -> std::io::Result<impl Stream<Item = ()> + Send + 'static> {
    use tokio::signal::unix::{SignalKind, signal};
    let hup = signal(SignalKind::hangup())?;
    Ok(futures::stream::unfold(hup, |mut hup| async move {
        hup.recv().await.map(|()| ((), hup))
    }))
}

/// Resolves on SIGTERM or SIGINT. The handlers are installed when this is called (inside a
/// runtime), not when the future is first polled: a SIGTERM during start-up then stops the daemon
/// cleanly once it runs, instead of killing it.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    use tokio::signal::unix::{SignalKind, signal};
    let term = signal(SignalKind::terminate());
    let int = signal(SignalKind::interrupt());
    async move {
        match (term, int) {
            (Ok(mut t), Ok(mut i)) => {
                tokio::select! {
                    _ = t.recv() => {}
                    _ = i.recv() => {}
                }
            }
            _ => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
}
