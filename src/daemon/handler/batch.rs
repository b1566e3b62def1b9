//! A fetched batch: every message judged first, then all recorded in one transaction (one
//! commit per batch instead of one per mail), the outbox woken only after the commit.

use super::*;
use crate::alert::language::Language;
use crate::store::Batch;

/// A message judged and not yet recorded.
struct Judged<'m> {
    m: &'m RawMessage,
    verdict: Verdict,
    /// The alert it calls for unless it turns out to be a duplicate.
    alert: Option<NewAlert>,
}

/// What recording a judged message did.
#[derive(Debug, Clone, Copy)]
enum Outcome {
    /// No new alert (none called for, or already recorded at this position).
    Quiet,
    /// A further trade joined this burst alert.
    Joined(i64),
    /// A new alert about an unexpected notice (a takeover check follows).
    Unexpected(i64),
    /// Any other new alert.
    Alerted(i64),
}

impl Processor {
    /// Judges one message: None if it was already processed. The alert is planned as if the
    /// notice were no duplicate; recording drops it if it is one.
    fn judge_one<'m>(
        &self,
        mb: &MailboxId,
        m: &'m RawMessage,
        first_run_since: Option<i64>,
        rules: &RuleSet,
        ctx: &Context,
    ) -> Result<Option<Judged<'m>>, HandlerError> {
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
        let v = judged.verdict;
        if let Some(cb) = &self.options.on_verdict {
            cb(mb, m, &v);
        }
        let too_old =
            matches!((first_run_since, m.received_at), (Some(since), Some(at)) if at < since);
        let alert = if self.options.alerts && !too_old {
            let links = judged
                .mail
                .as_ref()
                .map(|m| m.links.as_slice())
                .unwrap_or_default();
            self.plan_alert(&v, links, &mb.account)
        } else {
            None
        };
        Ok(Some(Judged {
            m,
            verdict: v,
            alert,
        }))
    }

    /// Records judged messages in one transaction, in order, up to and including the first one
    /// whose takeover check must follow (that check reads and writes through the store, after
    /// the commit). Returns how many were recorded and what they did to the alerts.
    fn record_some(
        &self,
        b: &Batch,
        mb: &MailboxId,
        judged: &[Judged],
    ) -> Result<(usize, Vec<Outcome>), HandlerError> {
        let mut outcomes = Vec::new();
        for (i, j) in judged.iter().enumerate() {
            let outcome = self.record_one(b, mb, j)?;
            let correlate = matches!(outcome, Outcome::Joined(_) | Outcome::Unexpected(_));
            outcomes.push(outcome);
            if correlate {
                return Ok((i + 1, outcomes));
            }
        }
        Ok((judged.len(), outcomes))
    }

    /// Records one judged message in the batch's transaction.
    fn record_one(&self, b: &Batch, mb: &MailboxId, j: &Judged) -> Result<Outcome, HandlerError> {
        let v = &j.verdict;
        // The same notice in two folders (Gmail's INBOX and All Mail), or again after a
        // UIDVALIDITY change: recorded, alerted once. An earlier message of this batch counts.
        let duplicate = match &v.message_id {
            Some(id) => b.seen_message_id(&mb.account, id)?,
            None => false,
        };
        let alert = j.alert.as_ref().filter(|_| !duplicate);
        let rec = Recorded {
            mailbox: mb,
            position: &j.m.position,
            verdict: v,
            received_at: j.m.received_at,
        };
        let burst = match alert {
            Some(a) if a.kind == AlertKind::Unexpected => match self.burst_since(v) {
                Some((broker, since)) => b.open_trade_alert(broker, since)?,
                None => None,
            },
            _ => None,
        };
        if let Some(first) = burst {
            // A further fill of a burst: one alert lists them all (its repeats show the list).
            // In every language: each recipient's copy of the alert gets the line.
            let line_in = |lang| crate::alert::compose::burst_line(v, lang);
            let line = store::AlertLine {
                line: line_in(self.config().language),
                ja: line_in(Language::Ja),
                en: line_in(Language::En),
            };
            let plan = store::AlertPlan::Join {
                alert: first,
                line: &line,
            };
            b.record_plan(&rec, plan)?;
            return Ok(Outcome::Joined(first));
        }
        let plan = alert.map_or(store::AlertPlan::Nothing, store::AlertPlan::New);
        Ok(match b.record_plan(&rec, plan)? {
            Some(id) if alert.is_some_and(|a| a.kind == AlertKind::Unexpected) => {
                Outcome::Unexpected(id)
            }
            Some(id) => Outcome::Alerted(id),
            None => Outcome::Quiet,
        })
    }

    /// The broker and the start of the burst window an unexpected trade may join an open alert in.
    fn burst_since<'v>(&self, v: &'v Verdict) -> Option<(&'v str, i64)> {
        let (Some(broker), Some(crate::event::EventKind::Trade)) = (&v.broker, v.event) else {
            return None;
        };
        let window = self.config().trading_profile.as_ref()?.burst_window;
        if v.off_profile.is_empty() || window.is_zero() {
            return None;
        }
        Some((broker, store::now() - window.as_secs() as i64))
    }

    /// Judges a batch, then records it (one transaction, split only where a takeover check must
    /// run after a commit); the outbox is woken once what alerts was committed.
    pub(super) fn judge_and_record(
        &self,
        mb: &MailboxId,
        messages: &[RawMessage],
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
        let mut judged = Vec::with_capacity(messages.len());
        for m in messages {
            // None: already processed at this position (a replay after a crash or restart).
            judged.extend(self.judge_one(mb, m, first_run_since, &live.rules, &ctx)?);
        }
        let mut rest = judged.as_slice();
        let mut alerted = false;
        while !rest.is_empty() {
            let store = &self.services.store;
            let (done, outcomes) = store.in_batch(|b| self.record_some(b, mb, rest))?;
            for (j, outcome) in rest.iter().zip(outcomes) {
                alerted |= self.after_commit(mb, j, outcome);
            }
            rest = &rest[done..];
        }
        if alerted {
            self.services.outbox_wake.notify_one();
        }
        Ok(judged.len())
    }

    /// Once committed: says what was recorded, and runs the takeover check a notice calls for.
    /// Returns whether a new alert awaits delivery.
    fn after_commit(&self, mb: &MailboxId, j: &Judged, outcome: Outcome) -> bool {
        let position = &j.m.position;
        match outcome {
            Outcome::Quiet => false,
            Outcome::Joined(first) => {
                tracing::info!(alert = first, mailbox = %mb, position = %position, "trade joined the burst of alert {first}");
                self.correlate(&j.verdict);
                false
            }
            Outcome::Alerted(id) | Outcome::Unexpected(id) => {
                let severity = j.verdict.severity;
                tracing::info!(alert = id, mailbox = %mb, position = %position, severity = %severity, "alert recorded");
                if matches!(outcome, Outcome::Unexpected(_)) {
                    self.correlate(&j.verdict);
                }
                true
            }
        }
    }
}
