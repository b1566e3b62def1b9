//! The configuration and rules the daemon judges by right now. A reload (SIGHUP) swaps both at
//! once; readers take a snapshot per message, so one message is never judged half by the old
//! rules and half by the new.

use std::sync::{Arc, PoisonError, RwLock};

use crate::config::Config;
use crate::rules::RuleSet;

/// A shared, replaceable (config, rules) pair.
#[derive(Clone)]
pub struct Live(Arc<RwLock<Snapshot>>);

/// One consistent (config, rules) pair.
#[derive(Clone)]
pub struct Snapshot {
    pub config: Arc<Config>,
    pub rules: Arc<RuleSet>,
}

impl Live {
    pub fn new(config: Arc<Config>, rules: Arc<RuleSet>) -> Live {
        Live(Arc::new(RwLock::new(Snapshot { config, rules })))
    }

    /// The current pair.
    pub fn snapshot(&self) -> Snapshot {
        // A panic while holding the lock cannot leave a half-written pair: replace() assigns whole.
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub fn config(&self) -> Arc<Config> {
        self.snapshot().config
    }

    pub fn rules(&self) -> Arc<RuleSet> {
        self.snapshot().rules
    }

    /// Replaces both at once.
    pub fn replace(&self, config: Config, rules: RuleSet) {
        let next = Snapshot {
            config: Arc::new(config),
            rules: Arc::new(rules),
        };
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = next;
    }
}
