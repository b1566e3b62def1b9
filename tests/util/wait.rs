//! The one way tests wait for what the system under test does in its own time: poll a condition
//! until it holds (or gives a value), and fail naming what was awaited when it does not in time.

use std::time::{Duration, Instant};

/// How often a condition is polled.
const EVERY: Duration = Duration::from_millis(20);

/// What a polled condition gives: `true` or `Some(value)` when it holds.
pub trait Holds<T> {
    fn holds(self) -> Option<T>;
}

impl Holds<()> for bool {
    fn holds(self) -> Option<()> {
        self.then_some(())
    }
}

impl<T> Holds<T> for Option<T> {
    fn holds(self) -> Option<T> {
        self
    }
}

/// Polls `f` until it holds and returns its value; panics naming `what` after `within`.
pub async fn eventually<T, R: Holds<T>>(
    what: &str,
    within: Duration,
    mut f: impl FnMut() -> R,
) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = f().holds() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {within:?} waiting for {what}"
        );
        tokio::time::sleep(EVERY).await;
    }
}

/// [`eventually`] for tests without a runtime (a daemon run as a child process).
pub fn eventually_blocking<T, R: Holds<T>>(
    what: &str,
    within: Duration,
    mut f: impl FnMut() -> R,
) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = f().holds() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {within:?} waiting for {what}"
        );
        std::thread::sleep(EVERY);
    }
}
