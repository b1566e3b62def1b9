//! The one backoff of the code base: a doubling delay with ±25 % jitter, capped, reset after a
//! success. IMAP reconnects, the Telegram long poll and the outbox's paused targets all use it,
//! so "how long until we try again" means the same thing everywhere.
//!
//! A small type rather than the `backoff` or `backon` crate: `backoff` is unmaintained
//! (RUSTSEC-2025-0012), and `backon` retries a future it owns, while the outbox keeps one
//! backoff per sink target across passes and asks it only for the next delay.

use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

/// Doubling delay with jitter.
#[derive(Debug, Clone)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    current: Duration,
}

impl Backoff {
    pub fn new(initial: Duration, max: Duration) -> Self {
        Backoff {
            initial,
            max,
            current: initial,
        }
    }

    /// Back to the first step (after a success).
    pub fn reset(&mut self) {
        self.current = self.initial;
    }

    /// The next delay: the current step ±25 %, never above `max`; then the step doubles.
    pub fn next_delay(&mut self) -> Duration {
        let base = self.current.min(self.max);
        self.current = (self.current * 2).min(self.max);
        let factor = 0.75 + 0.5 * random_unit();
        base.mul_f64(factor).min(self.max)
    }
}

/// A number in [0, 1) good enough for jitter (no rand crate: std's per-instance hash keys are random).
fn random_unit() -> f64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0);
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_caps_and_resets() {
        let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(60));
        let delays: Vec<Duration> = (0..10).map(|_| b.next_delay()).collect();
        assert!(
            delays[0] >= Duration::from_millis(750) && delays[0] <= Duration::from_millis(1250)
        );
        assert!(
            delays[1] >= Duration::from_millis(1500) && delays[1] <= Duration::from_millis(2500)
        );
        assert!(delays.iter().all(|d| *d <= Duration::from_secs(60)));
        assert!(delays[9] >= Duration::from_secs(45));
        b.reset();
        assert!(b.next_delay() <= Duration::from_millis(1250));
    }

    #[test]
    fn jitter_is_in_range() {
        for _ in 0..100 {
            let r = random_unit();
            assert!((0.0..1.0).contains(&r));
        }
    }
}
