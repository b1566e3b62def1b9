//! Paused sink targets: when a target (a Telegram chat, a LINE user, an ntfy topic) fails
//! transiently, the target as a whole waits out a capped, jittered backoff; then one delivery
//! probes it, and when the probe goes through everything queued for it goes at once.
//!
//! NOTE: per target, not per alert: with a backoff per alert, 30 s of refused connections made
//! 197 sendMessage calls (each queued alert retried on its own clock) and draining the queue
//! afterwards took 32 s. Pauses live in memory: after a restart each target gets one probe.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::backoff::Backoff;
use crate::config::SinkKind;

/// A sink and one of its targets.
pub type Target = (SinkKind, String);

/// First pause of a failing target; doubles (±25 %) up to [`MAX_PAUSE`].
pub const FIRST_PAUSE: Duration = Duration::from_secs(2);
/// Longest pause: a target that comes back gets its queue within this.
pub const MAX_PAUSE: Duration = Duration::from_secs(10);

struct Paused {
    until: Instant,
    backoff: Backoff,
}

/// The paused targets of one outbox.
pub struct Pauses {
    paused: Mutex<HashMap<Target, Paused>>,
    first: Duration,
    max: Duration,
}

impl Default for Pauses {
    fn default() -> Self {
        Pauses::new(FIRST_PAUSE, MAX_PAUSE)
    }
}

impl Pauses {
    pub fn new(first: Duration, max: Duration) -> Self {
        Pauses {
            paused: Mutex::default(),
            first,
            max,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Target, Paused>> {
        // Plain data: a panic elsewhere cannot leave it inconsistent.
        self.paused.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether a due row for `target` may go in this pass: yes when the target is not paused;
    /// when its pause is over, only the first row (the probe; `probes` remembers it was taken).
    pub fn admit(&self, target: &Target, probes: &mut HashSet<Target>) -> bool {
        match self.lock().get(target) {
            None => true,
            Some(p) if p.until > Instant::now() => false,
            Some(_) => probes.insert(target.clone()),
        }
    }

    /// A delivery to `target` failed transiently: pauses it for `after` (the server's own
    /// wish, e.g. a 429's retry-after) or the next backoff step; returns the pause.
    pub fn failed(&self, target: &Target, after: Option<Duration>) -> Duration {
        let mut map = self.lock();
        let p = map.entry(target.clone()).or_insert_with(|| Paused {
            until: Instant::now(),
            backoff: Backoff::new(self.first, self.max),
        });
        let step = p.backoff.next_delay();
        let wait = after.unwrap_or(step);
        p.until = Instant::now() + wait;
        wait
    }

    /// A delivery to `target` went through; true if it had been paused (its queue may drain).
    pub fn succeeded(&self, target: &Target) -> bool {
        self.lock().remove(target).is_some()
    }

    /// How long `target` stays paused (zero when not paused or the pause is over).
    pub fn remaining(&self, target: &Target) -> Duration {
        self.lock()
            .get(target)
            .map(|p| p.until.saturating_duration_since(Instant::now()))
            .unwrap_or_default()
    }

    /// Targets paused now, with the time left (for `status`).
    pub fn snapshot(&self) -> Vec<(Target, Duration)> {
        let now = Instant::now();
        let mut v: Vec<_> = self
            .lock()
            .iter()
            .filter(|(_, p)| p.until > now)
            .map(|(t, p)| (t.clone(), p.until - now))
            .collect();
        v.sort();
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chat(id: &str) -> Target {
        (SinkKind::Telegram, id.to_string())
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_target_is_paused_then_probed_once_then_drained() {
        let p = Pauses::new(Duration::from_millis(40), Duration::from_millis(80));
        let (a, b) = (chat("1"), chat("2"));
        let mut probes = HashSet::new();
        assert!(p.admit(&a, &mut probes));
        assert!(p.failed(&a, None) <= Duration::from_millis(80));
        assert!(!p.admit(&a, &mut probes), "paused");
        assert!(p.admit(&b, &mut probes), "other targets go on");
        tokio::time::advance(Duration::from_millis(90)).await;
        assert!(p.admit(&a, &mut probes), "the probe");
        assert!(!p.admit(&a, &mut probes), "one probe per pass");
        assert!(p.succeeded(&a));
        let mut next_pass = HashSet::new();
        assert!(
            p.admit(&a, &mut next_pass) && p.admit(&a, &mut next_pass),
            "drained at once"
        );
        assert!(!p.succeeded(&a));
    }

    #[test]
    fn pauses_grow_capped_and_a_server_wish_wins() {
        let p = Pauses::new(Duration::from_secs(2), Duration::from_secs(10));
        let t = chat("1");
        let waits: Vec<Duration> = (0..6).map(|_| p.failed(&t, None)).collect();
        assert!(waits[0] <= Duration::from_millis(2500));
        assert!(waits.iter().all(|w| *w <= Duration::from_secs(10)));
        assert!(waits[5] >= Duration::from_millis(7500));
        assert_eq!(
            p.failed(&t, Some(Duration::from_secs(42))),
            Duration::from_secs(42)
        );
        assert!(p.remaining(&t) > Duration::from_secs(40));
    }

    /// The fault test's promise on the clock alone: a target that refuses for 30 s is probed
    /// at most a few times (each failure doubles its pause up to the cap), not once per alert.
    #[tokio::test(start_paused = true)]
    async fn thirty_seconds_of_refusals_cost_a_few_probes() {
        let p = Pauses::default();
        let t = chat("1");
        let start = Instant::now();
        let mut attempts = 0;
        while start.elapsed() < Duration::from_secs(30) {
            if p.admit(&t, &mut HashSet::new()) {
                attempts += 1;
                p.failed(&t, None);
            }
            tokio::time::advance(Duration::from_millis(100)).await;
        }
        assert!((3..=8).contains(&attempts), "{attempts} probes in 30 s");
        assert!(p.succeeded(&t), "the probe after the outage drains");
        assert!(p.admit(&t, &mut HashSet::new()));
    }
}
