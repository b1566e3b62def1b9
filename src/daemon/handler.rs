//! The daemon's [`MailHandler`]: judges what sources hand over and records, per message, the
//! verdict, any alert with its deliveries, and the advanced checkpoint in one transaction.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::alert::AlertKind;
use crate::alert::compose::compose;
use crate::alert::raise::{self, Draft};
use crate::assess::{Context, Verdict};
use crate::config::{Config, SinkKind};
use crate::mail::{self, Mail};
use crate::pipeline::{judge, judge_classified};
use crate::rules::{Classification, RuleSet, unclaimed};
use crate::source::{Checkpoint, HandlerError, MailHandler, MailboxId, RawMessage, SourceEvent};
use crate::store::{self, NewAlert, NewDelivery, Recorded};
use crate::text::normalize;
use crate::watch::Services;

/// A header block the candidate test parsed and found to claim no broker.
struct Unclaimed {
    /// The rules it was classified by (held, so the pointer comparison stays meaningful).
    rules: Arc<RuleSet>,
    mail: Mail,
    class: Classification<'static>,
}

/// Non-candidates by their exact header bytes: `process` is then handed the same header block,
/// and judges it from here instead of parsing and classifying it a second time (that was a third
/// of `brokerwatch scan`'s CPU). Keyed by content and checked against the rules in force, so a
/// miss (another source, a reload in between) only costs the parse it would have cost anyway.
#[derive(Default)]
struct Memo(Mutex<HashMap<Vec<u8>, Unclaimed>>);

impl Memo {
    fn lock(&self) -> MutexGuard<'_, HashMap<Vec<u8>, Unclaimed>> {
        // Plain data: a panic elsewhere cannot leave it inconsistent.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Bounds the memo (a header batch is 500); entries a failed fetch left behind are dropped when full.
const UNCLAIMED_MAX: usize = 4096;

/// Called per processed message with its verdict (`scan` prints from it).
pub type VerdictHook = Box<dyn Fn(&MailboxId, &RawMessage, &Verdict) + Send + Sync>;

/// How the handler treats what it judges: the daemon records alerts, `scan` may only report.
pub struct HandlerOptions {
    /// `scan` without `--alert`: record verdicts, create no alert.
    pub alerts: bool,
    /// Called per processed message with its verdict (for `scan` output).
    pub on_verdict: Option<VerdictHook>,
}

impl HandlerOptions {
    /// The daemon's: every verdict may alert; nothing else is told.
    pub fn daemon() -> Self {
        Self {
            alerts: true,
            on_verdict: None,
        }
    }
}

/// Shared by all source tasks.
pub struct Processor {
    pub services: Services,
    pub options: HandlerOptions,
    unclaimed: Memo,
}

impl Processor {
    pub fn new(services: Services, options: HandlerOptions) -> Self {
        Self {
            services,
            options,
            unclaimed: Memo::default(),
        }
    }

    /// The current configuration.
    pub fn config(&self) -> Arc<Config> {
        self.services.config()
    }

    /// The current rules.
    pub fn rules(&self) -> Arc<RuleSet> {
        self.services.rules()
    }

    /// The delivery rows for these sinks (one per Telegram chat).
    pub fn deliveries(&self, sinks: &[SinkKind]) -> Vec<NewDelivery> {
        crate::alert::recipients::targets(&self.config(), sinks)
    }

    /// The alert row a verdict calls for (None: nothing to tell).
    pub fn plan_alert(
        &self,
        v: &Verdict,
        links: &[crate::text::Link],
        account: &str,
    ) -> Option<NewAlert> {
        let rules = self.rules();
        let pack = v.broker.as_deref().and_then(|b| rules.pack(b));
        // Composed in each language: each recipient gets it in their own.
        raise::plan_each(&self.config(), |lang| {
            let c = compose(v, pack, links, lang)?;
            Some(Draft {
                kind: c.kind,
                severity: c.severity,
                broker: v.broker.clone(),
                event: v.event.map(|e| e.as_str().to_string()),
                title: c.title,
                body: c.body,
                actionable: c.actionable,
                only: None,
                account: Some(account.to_string()),
            })
        })
    }

    /// After an unexpected security notice: does it complete a takeover chain?
    fn correlate(&self, v: &Verdict) {
        let rules = self.rules();
        if let Some(pack) = v.broker.as_deref().and_then(|b| rules.pack(b)) {
            self.correlate_pack(pack);
        }
    }

    /// At start: the takeover check for every broker. Its alert is written after the notice's
    /// own transaction, so a crash between the two must not lose it (the check is idempotent).
    pub fn correlate_all(&self) {
        for pack in &self.rules().packs {
            self.correlate_pack(pack);
        }
    }

    fn correlate_pack(&self, pack: &crate::rules::Pack) {
        let (store, cfg) = (&self.services.store, self.config());
        match crate::watch::takeover::check(store, &cfg, pack) {
            Ok(Some(d)) => {
                // Told in each language, as the check words it for a config in that language.
                let draft = |lang| match lang == cfg.language {
                    true => Some(d.clone()),
                    false => {
                        crate::watch::takeover::check(store, &raise::in_language(&cfg, lang), pack)
                            .ok()
                            .flatten()
                    }
                };
                let wake = &self.services.outbox_wake;
                if let Err(e) = raise::raise_each(store, &cfg, wake, draft) {
                    tracing::error!("cannot record the takeover alert: {e}")
                }
            }
            Ok(None) => {}
            Err(e) => tracing::error!("takeover check failed: {e}"),
        }
    }
}

impl MailHandler for Processor {
    fn checkpoint(&self, mb: &MailboxId) -> Result<Option<Checkpoint>, HandlerError> {
        Ok(self.services.store.checkpoint(mb)?)
    }

    fn set_baseline(&self, mb: &MailboxId, cp: Checkpoint) -> Result<(), HandlerError> {
        Ok(self.services.store.set_checkpoint(mb, &cp)?)
    }

    fn is_candidate(&self, header: &[u8]) -> bool {
        let Ok(m) = mail::parse(header, false) else {
            // Unreadable headers: fetch the whole thing and let the pipeline record it.
            return true;
        };
        let rules = self.rules();
        let Some(class) = unclaimed(&rules, &m) else {
            return true;
        };
        let name = m
            .from
            .as_ref()
            .and_then(|f| f.name.clone())
            .unwrap_or_default();
        // Phishing copies often hide the broker's name in the body: lure wording earns a body fetch.
        if rules
            .generic
            .lures(&normalize(&format!("{} {name}", m.subject)))
        {
            return true;
        }
        let mut memo = self.unclaimed.lock();
        if memo.len() >= UNCLAIMED_MAX {
            memo.clear();
        }
        memo.insert(
            header.to_vec(),
            Unclaimed {
                rules,
                mail: m,
                class,
            },
        );
        false
    }

    fn process(
        &self,
        mb: &MailboxId,
        messages: Vec<RawMessage>,
        first_run_since: Option<i64>,
    ) -> Result<usize, HandlerError> {
        self.judge_and_record(mb, &messages, first_run_since)
    }

    fn reset(&self, mb: &MailboxId, uidvalidity: u32) -> Result<(), HandlerError> {
        tracing::warn!(mailbox = %mb, uidvalidity, "UIDVALIDITY changed: rescanning, de-duplicating by Message-ID");
        Ok(self.services.store.reset_imap(mb, uidvalidity)?)
    }

    fn source_event(&self, mb: &MailboxId, event: SourceEvent) {
        let r = match &event {
            SourceEvent::Ok => self.services.store.source_ok(mb),
            SourceEvent::LoginFailed(e) => {
                tracing::error!(mailbox = %mb, "login failed: {e}");
                self.services
                    .store
                    .source_error(mb, &format!("login failed: {e}"))
            }
            SourceEvent::MailboxRefused(e) | SourceEvent::SignInNeeded(e) => {
                tracing::error!(mailbox = %mb, "cannot watch: {e}");
                self.services
                    .store
                    .source_error(mb, &format!("cannot watch: {e}"))
            }
            SourceEvent::Unreachable(e) => {
                tracing::warn!(mailbox = %mb, "unreachable: {e}");
                self.services
                    .store
                    .source_error(mb, &format!("unreachable: {e}"))
            }
            SourceEvent::SecretUnreadable(e) | SourceEvent::Folder(e) => {
                tracing::error!(mailbox = %mb, "{e}");
                self.services.store.source_error(mb, e)
            }
        };
        let alert = r.and_then(|_| {
            crate::watch::health::told(&self.services.store, &self.config(), mb, &event)
        });
        match alert {
            Ok(Some(t)) if self.options.alerts => {
                let draft = |lang| Some(t.draft(lang));
                let (store, wake) = (&self.services.store, &self.services.outbox_wake);
                if let Err(e) = raise::raise_each(store, &self.config(), wake, draft) {
                    tracing::error!("cannot record a health alert: {e}")
                }
            }
            Ok(_) => {}
            Err(e) => tracing::error!("cannot record source health: {e}"),
        }
    }
}

mod batch;
#[cfg(test)]
mod tests;
