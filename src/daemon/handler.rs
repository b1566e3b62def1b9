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
use crate::rules::{Classification, RuleSet, classify};
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

    /// Judges and records one message: None if it was already processed, else whether it alerted.
    fn process_one(
        &self,
        mb: &MailboxId,
        m: &RawMessage,
        first_run_since: Option<i64>,
        rules: &RuleSet,
        ctx: &Context,
    ) -> Result<Option<bool>, HandlerError> {
        // Taken first: a replayed message's entry must not linger in the memo.
        let memo = if m.complete {
            None
        } else {
            self.unclaimed
                .lock()
                .remove(&m.bytes)
                .filter(|u| std::ptr::eq(Arc::as_ptr(&u.rules), rules))
        };
        if self.services.store.seen_position(mb, &m.position)? {
            return Ok(None);
        }
        let judged = match memo {
            Some(u) => judge_classified(u.mail, &u.class, ctx),
            None => judge(&m.bytes, m.complete, rules, ctx),
        };
        let v = &judged.verdict;
        if let Some(cb) = &self.options.on_verdict {
            cb(mb, m, v);
        }
        // The same notice in two folders (Gmail's INBOX and All Mail), or again after a
        // UIDVALIDITY change: recorded, alerted once.
        let duplicate = match &v.message_id {
            Some(id) => self.services.store.seen_message_id(&mb.account, id)?,
            None => false,
        };
        let too_old =
            matches!((first_run_since, m.received_at), (Some(since), Some(at)) if at < since);
        let alert = if self.options.alerts && !duplicate && !too_old {
            let links = judged
                .mail
                .as_ref()
                .map(|m| m.links.as_slice())
                .unwrap_or_default();
            self.plan_alert(v, links, &mb.account)
        } else {
            None
        };
        let rec = Recorded {
            mailbox: mb,
            position: &m.position,
            verdict: v,
            received_at: m.received_at,
        };
        let burst = match &alert {
            Some(a) if a.kind == AlertKind::Unexpected => self.burst_of(v)?,
            _ => None,
        };
        if let Some(first) = burst {
            // A further fill of a burst: one alert lists them all (its repeats show the list).
            let line_in = |lang| crate::alert::compose::burst_line(v, lang);
            use crate::alert::language::Language;
            let line = store::AlertLine {
                line: line_in(self.config().language),
                ja: line_in(Language::Ja),
                en: line_in(Language::En),
            };
            let plan = store::AlertPlan::Join {
                alert: first,
                line: &line,
            };
            self.services.store.record_plan(&rec, plan)?;
            tracing::info!(alert = first, mailbox = %mb, position = %m.position, "trade joined the burst of alert {first}");
            self.correlate(v);
            return Ok(Some(false));
        }
        let id = self.services.store.record(&rec, alert.as_ref())?;
        if let Some(id) = id {
            tracing::info!(alert = id, mailbox = %mb, position = %m.position, severity = %v.severity, "alert recorded");
            if alert
                .as_ref()
                .is_some_and(|a| a.kind == AlertKind::Unexpected)
            {
                self.correlate(v);
            }
        }
        Ok(Some(id.is_some()))
    }

    /// The open alert an unexpected trade joins: one at the same broker within the burst window.
    fn burst_of(&self, v: &Verdict) -> Result<Option<i64>, HandlerError> {
        let (Some(broker), Some(crate::event::EventKind::Trade)) = (&v.broker, v.event) else {
            return Ok(None);
        };
        let Some(window) = self
            .config()
            .trading_profile
            .as_ref()
            .map(|p| p.burst_window)
        else {
            return Ok(None);
        };
        if v.off_profile.is_empty() || window.is_zero() {
            return Ok(None);
        }
        let since = store::now() - window.as_secs() as i64;
        Ok(self.services.store.open_trade_alert(broker, since)?)
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
        let Some(class) = classify(&rules, &m).unclaimed() else {
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
        let now = store::now();
        let expectations = self.services.store.active_expectations(now)?;
        // One snapshot for the whole batch: a reload never splits a message's judgement.
        let live = self.services.live.snapshot();
        let ctx = Context {
            config: &live.config,
            expectations: &expectations,
            now,
        };
        let mut new = 0;
        let mut alerted = false;
        for m in &messages {
            // None: already processed at this position (a replay after a crash or restart).
            if let Some(alert) = self.process_one(mb, m, first_run_since, &live.rules, &ctx)? {
                new += 1;
                alerted |= alert;
            }
        }
        if alerted {
            self.services.outbox_wake.notify_one();
        }
        Ok(new)
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
            crate::watch::health::on_event(&self.services.store, &self.config(), mb, &event)
        });
        match alert {
            Ok(Some(d)) if self.options.alerts => {
                if let Err(e) = self.services.raise(d) {
                    tracing::error!("cannot record a health alert: {e}")
                }
            }
            Ok(_) => {}
            Err(e) => tracing::error!("cannot record source health: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Mutex;

    use super::*;
    use crate::config::live::Live;
    use crate::source::Position;
    use crate::store::Store;
    use tokio::sync::Notify;

    const SHOP: &str = "broker: shop\nname: Shop\ndomains: [shop.example]\nrules:\n  - id: shop-deals\n    event: login\n    subject: ['deals']\n";
    /// One header a test: the memo is shared by the tests running in parallel.
    fn header(n: u32) -> Vec<u8> {
        format!("From: News <news@shop.example>\r\nSubject: Weekly deals\r\nMessage-ID: <w{n}@shop.example>\r\n\r\n").into_bytes()
    }

    fn load(dir: &Path, pack: Option<&str>) -> (Config, RuleSet) {
        let rules = dir.join("rules");
        std::fs::create_dir_all(&rules).unwrap();
        let file = rules.join("shop.yaml");
        match pack {
            Some(p) => std::fs::write(&file, p).unwrap(),
            None => _ = std::fs::remove_file(&file),
        }
        std::fs::write(
            dir.join("config.yaml"),
            "state_dir: state\nrules_dirs: [rules]\naccounts:\n  - {name: a, maildir: mail}\n",
        )
        .unwrap();
        crate::config::load_checked(Some(&dir.join("config.yaml"))).unwrap()
    }

    /// A processor over `dir`'s config, and the verdicts it hands to `scan`.
    fn processor(dir: &Path) -> (Processor, Arc<Mutex<Vec<Verdict>>>) {
        let (cfg, rules) = load(dir, None);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        let services = Services {
            store: Store::open_memory().unwrap(),
            live: Live::new(Arc::new(cfg), Arc::new(rules)),
            outbox_wake: Arc::new(Notify::new()),
        };
        let options = HandlerOptions {
            alerts: false,
            on_verdict: Some(Box::new(move |_, _, v| {
                sink.lock().unwrap().push(v.clone())
            })),
        };
        let p = Processor::new(services, options);
        (p, seen)
    }

    fn header_only(uid: u32) -> RawMessage {
        RawMessage {
            position: Position::Imap {
                uidvalidity: 1,
                uid,
            },
            bytes: header(uid),
            complete: false,
            received_at: None,
        }
    }

    fn mb() -> MailboxId {
        MailboxId {
            account: "a".into(),
            mailbox: "INBOX".into(),
        }
    }

    #[test]
    fn a_non_candidate_is_judged_as_from_scratch() {
        let dir = tempfile::tempdir().unwrap();
        let (p, seen) = processor(dir.path());
        assert!(!p.is_candidate(&header(1)));
        p.process(&mb(), vec![header_only(1)], None).unwrap();
        let live = p.services.live.snapshot();
        let ctx = Context {
            config: &live.config,
            expectations: &[],
            now: store::now(),
        };
        let fresh = judge(&header(1), false, &live.rules, &ctx).verdict;
        assert_eq!(seen.lock().unwrap().as_slice(), [fresh]);
        assert!(
            !p.unclaimed.lock().contains_key(&header(1)),
            "the memo entry is used up"
        );
    }

    #[test]
    fn a_reload_between_candidate_test_and_judgement_judges_by_the_new_rules() {
        let dir = tempfile::tempdir().unwrap();
        let (p, seen) = processor(dir.path());
        assert!(!p.is_candidate(&header(2)));
        let (cfg, rules) = load(dir.path(), Some(SHOP));
        p.services.live.replace(cfg, rules);
        p.process(&mb(), vec![header_only(2)], None).unwrap();
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].broker.as_deref(), Some("shop"));
    }
}
