//! `recipients:` (who gets which alerts, on which channels, for which accounts) and
//! `quiet_hours:` (when warnings and info wait for a morning summary), read and checked.
//!
//! A recipient's channels are the per-person targets of a sink: a Telegram chat id on the
//! telegram sink's bot, a topic on the ntfy sink's server. The channel keys are the sink names;
//! a new sink with per-person targets is one entry in [`CHANNELS`] and one arm in
//! [`channel_target`].

use std::collections::BTreeSet;

use chrono::{FixedOffset, NaiveTime};

use super::raw::{RawQuietHours, RawRecipient, Scalar};
use super::{Config, SinkKind};
use crate::alert::AlertKind;
use crate::alert::language::Language;
use crate::event::Severity;
use crate::yaml::{At, Collector, Loc};

/// Sinks whose targets are people, and so can be a recipient's channel.
pub const CHANNELS: &[SinkKind] = &[SinkKind::Telegram, SinkKind::Ntfy];

/// The keys of a recipient besides its channels (see `RawRecipient`).
const FIELDS: &[&str] = &["name", "gets", "accounts", "language"];

/// One person who receives alerts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    /// How the person is named in "acknowledged by" and in the audit trail.
    pub name: String,
    /// Where this person is reached: (sink, target), e.g. (telegram, "123456789").
    pub channels: Vec<(SinkKind, String)>,
    pub gets: Gets,
    /// The accounts this person watches over; None: all of them.
    pub accounts: Option<Vec<String>>,
    /// The language of the texts made for this person; None: the configuration's.
    pub language: Option<Language>,
}

/// What a recipient gets, of what the escalation sends to their channels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gets {
    Everything,
    /// Critical alerts only (a spouse who is woken only when it matters).
    Critical,
    /// Possible account takeovers only.
    Takeover,
}

impl Gets {
    const NAMES: [(&'static str, Gets); 3] = [
        ("everything", Gets::Everything),
        ("critical", Gets::Critical),
        ("takeover", Gets::Takeover),
    ];
}

impl Recipient {
    /// Whether an alert of this kind and severity, about `account` (None: about no single
    /// account), is for this person.
    pub fn wants(&self, kind: AlertKind, severity: Severity, account: Option<&str>) -> bool {
        let role = match self.gets {
            Gets::Everything => true,
            Gets::Critical => severity == Severity::Critical,
            Gets::Takeover => kind == AlertKind::Takeover,
        };
        let watched = match (&self.accounts, account) {
            (Some(list), Some(a)) => list.iter().any(|x| x == a),
            _ => true,
        };
        role && watched
    }

    /// This person's target on `sink`, if they use it.
    pub fn target_on(&self, sink: SinkKind) -> impl Iterator<Item = &str> {
        self.channels
            .iter()
            .filter(move |(k, _)| *k == sink)
            .map(|(_, t)| t.as_str())
    }
}

/// `quiet_hours: {from: "22:00", to: "07:00", utc_offset: "+09:00"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    pub from: NaiveTime,
    pub to: NaiveTime,
    /// The clock the times are read on; None: the machine's local time (`TZ`).
    pub utc_offset: Option<FixedOffset>,
}

/// A recipient's target on a sink, checked: one arm per sink with per-person targets.
pub(super) fn channel_target(sink: SinkKind, v: &Scalar) -> Result<String, String> {
    match sink {
        SinkKind::Telegram => match *v {
            Scalar::Int(id) => Ok(id.to_string()),
            Scalar::UInt(id) if i64::try_from(id).is_ok() => Ok(id.to_string()),
            _ => Err(
                "a Telegram chat id is a number, e.g. `123456789` (a group's is negative)".into(),
            ),
        },
        SinkKind::Ntfy => {
            let topic = v.text().unwrap_or_default();
            if !topic.is_empty()
                && topic
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || "-_".contains(ch))
            {
                Ok(topic)
            } else {
                Err(format!(
                    "ntfy topic `{topic}` must be letters, digits, `-` or `_` (ntfy's own rule)"
                ))
            }
        }
        _ => Err(format!("`{sink}` has no per-person targets")),
    }
}

/// Reads `recipients:` (after the sinks and accounts, whichever order the file has) and adds
/// each recipient's chat to the telegram sink's `chat_ids`: the chats commands are accepted
/// from are exactly the configured people's (and the legacy `chat_ids`).
pub(super) fn compile(c: &mut Collector, items: Vec<At<RawRecipient>>, cfg: &mut Config) {
    let mut names = BTreeSet::new();
    for item in items {
        let loc = item.loc;
        if let Some(r) = recipient(c, item, cfg) {
            if !names.insert(r.name.clone()) {
                c.error(loc, format!("recipient `{}` is named twice", r.name));
            }
            cfg.recipients.push(r);
        }
    }
    if let Some(t) = cfg.sinks.telegram.as_mut() {
        for r in &cfg.recipients {
            for id in r.target_on(SinkKind::Telegram) {
                if let Ok(id) = id.parse::<i64>()
                    && !t.chat_ids.contains(&id)
                {
                    t.chat_ids.push(id);
                }
            }
        }
    }
}

/// Checks that each sink with per-person targets has someone to reach (its own `chat_ids` or
/// `topic`, or a recipient's channel); run after [`compile`].
/// `sink_keys`: where each sink's key is written under `sinks:`.
pub(super) fn check_reachable(c: &mut Collector, sink_keys: &[(String, Loc)], cfg: &Config) {
    let loc = |sink: &str| {
        (sink_keys.iter().find(|(k, _)| k == sink)).map_or(Loc { line: 1, col: 1 }, |(_, l)| *l)
    };
    if let Some(t) = &cfg.sinks.telegram
        && t.chat_ids.is_empty()
    {
        c.error(
            loc("telegram"),
            "the telegram sink needs `chat_ids` or a recipient with `telegram:`: alerts go there and commands are accepted only from there",
        );
    }
    if let Some(n) = &cfg.sinks.ntfy {
        let someone = cfg
            .recipients
            .iter()
            .any(|r| r.target_on(SinkKind::Ntfy).next().is_some());
        if n.topic.is_empty() && !someone {
            c.error(
                loc("ntfy"),
                "the ntfy sink needs a `topic` or a recipient with `ntfy:`",
            );
        }
    }
}

fn recipient(c: &mut Collector, item: At<RawRecipient>, cfg: &Config) -> Option<Recipient> {
    let (loc, raw) = (item.loc, item.value);
    let mut r = Recipient {
        name: String::new(),
        channels: Vec::new(),
        gets: raw
            .gets
            .and_then(|g| gets(c, &g))
            .unwrap_or(Gets::Everything),
        accounts: raw.accounts.map(|a| accounts(c, a, cfg)),
        language: raw.language,
    };
    let mut tried_channel = false;
    for (key, target) in raw.channels {
        if let Some(sink) = channel(c, key.loc, &key.value, cfg) {
            match channel_target(sink, &target.value) {
                Ok(t) => r.channels.push((sink, t)),
                Err(e) => {
                    tried_channel = true;
                    c.error(target.loc, e);
                }
            }
        }
    }
    let name = raw.name.map(|n| n.trim().to_string());
    match name.filter(|n| !n.is_empty()) {
        Some(n) => r.name = n,
        None => {
            c.error(loc, "a recipient needs a `name`");
            return None;
        }
    }
    // A channel written wrong has its own error already.
    if r.channels.is_empty() && !tried_channel {
        c.error(
            loc,
            format!(
                "recipient `{}` has no channel (one of: {})",
                r.name,
                channel_names()
            ),
        );
    }
    Some(r)
}

/// The sink a recipient key names, if it is a configured sink with per-person targets.
fn channel(c: &mut Collector, loc: Loc, key: &str, cfg: &Config) -> Option<SinkKind> {
    let Some(sink) = CHANNELS.iter().copied().find(|k| k.as_str() == key) else {
        c.error(
            loc,
            format!(
                "unknown channel or field `{key}` in a recipient (expected {}, or a channel: {})",
                FIELDS
                    .iter()
                    .map(|f| format!("`{f}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                channel_names()
            ),
        );
        return None;
    };
    let configured = match sink {
        SinkKind::Telegram => cfg.sinks.telegram.is_some(),
        SinkKind::Ntfy => cfg.sinks.ntfy.is_some(),
        _ => false,
    };
    if !configured {
        c.error(
            loc,
            format!("channel `{key}` needs the `{key}` sink under `sinks:` (it is not configured)"),
        );
        return None;
    }
    Some(sink)
}

fn channel_names() -> String {
    CHANNELS
        .iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn gets(c: &mut Collector, text: &At<String>) -> Option<Gets> {
    let found = Gets::NAMES
        .iter()
        .find(|(n, _)| *n == text.value.trim())
        .map(|(_, g)| *g);
    if found.is_none() {
        c.error(
            text.loc,
            format!(
                "unknown role `{}` (expected `everything`, `critical` or `takeover`)",
                text.value
            ),
        );
    }
    found
}

fn accounts(c: &mut Collector, list: Vec<At<String>>, cfg: &Config) -> Vec<String> {
    let mut out = Vec::new();
    for a in list {
        if cfg.account(&a.value).is_some() {
            out.push(a.value);
        } else {
            let known: Vec<&str> = cfg.accounts.iter().map(|a| a.name.as_str()).collect();
            c.error(
                a.loc,
                format!(
                    "unknown account `{}` (configured: {})",
                    a.value,
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                ),
            );
        }
    }
    out
}

/// Reads `quiet_hours:`.
pub(super) fn quiet_hours(c: &mut Collector, q: At<RawQuietHours>) -> Option<QuietHours> {
    let (loc, q) = (q.loc, q.value);
    let mut ok = true;
    let mut read = |v: &Option<At<String>>, f: fn(&str) -> Result<_, String>| {
        let v = v.as_ref()?;
        f(&v.value)
            .map_err(|e| {
                c.error(v.loc, e);
                ok = false;
            })
            .ok()
    };
    let from = read(&q.from, clock);
    let to = read(&q.to, clock);
    let offset = q.utc_offset.as_ref().and_then(|v| {
        crate::profile::parse_offset(&v.value)
            .map_err(|e| {
                c.error(v.loc, e);
                ok = false;
            })
            .ok()
    });
    match (from, to) {
        (Some(from), Some(to)) if ok => {
            if from == to {
                c.error(loc, "`quiet_hours` `from` and `to` are the same time");
                return None;
            }
            Some(QuietHours {
                from,
                to,
                utc_offset: offset.and_then(FixedOffset::east_opt),
            })
        }
        (Some(_), Some(_)) => None,
        _ => {
            if ok {
                c.error(loc, "`quiet_hours` needs both `from` and `to`");
            }
            None
        }
    }
}

/// `HH:MM` (or `HH:MM:SS`), 24-hour clock.
fn clock(text: &str) -> Result<NaiveTime, String> {
    let t = text.trim();
    NaiveTime::parse_from_str(t, "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(t, "%H:%M:%S"))
        .map_err(|_| format!("`{text}` is not a time of day (expected HH:MM, e.g. 22:00)"))
}

#[cfg(test)]
mod tests;
