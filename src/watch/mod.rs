//! Second-order checks: what one mail cannot show. A chain of unexpected steps at one broker
//! (takeover), a notice deleted or read by someone else (tamper), a broker gone quiet or the
//! heartbeat (liveness), a mailbox that cannot be watched (health), and the status report.

pub mod health;
pub mod liveness;
pub mod status;
pub mod takeover;
pub mod tamper;

use std::sync::Arc;

use tokio::sync::Notify;

use crate::alert::raise::{self, Draft};
use crate::config::Config;
use crate::config::live::Live;
use crate::rules::RuleSet;
use crate::store::{Store, StoreError};

/// What a check needs and nothing more: the state, the configuration and rules in force, and a
/// way to raise an alert that the outbox delivers at once.
#[derive(Clone)]
pub struct Services {
    pub store: Store,
    /// The configuration and rules to judge by (replaced on reload).
    pub live: Live,
    /// Woken after an alert is written, so the outbox delivers at once.
    pub outbox_wake: Arc<Notify>,
}

impl Services {
    /// The current configuration.
    pub fn config(&self) -> Arc<Config> {
        self.live.config()
    }

    /// The current rules.
    pub fn rules(&self) -> Arc<RuleSet> {
        self.live.rules()
    }

    /// Raises an alert that has no message behind it (takeover, tampering, health, liveness).
    pub fn raise(&self, d: Draft) -> Result<i64, StoreError> {
        raise::raise(&self.store, &self.config(), &self.outbox_wake, d)
    }

    /// Records an alert worded in each language (None from `draft`: not in that language).
    pub fn raise_each(
        &self,
        draft: impl Fn(crate::alert::language::Language) -> Option<Draft>,
    ) -> Result<Option<i64>, StoreError> {
        raise::raise_each(&self.store, &self.config(), &self.outbox_wake, draft)
    }
}
