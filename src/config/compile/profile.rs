//! What this investor normally does: standing `allowances:` and the `trading_profile:`.

use std::collections::BTreeMap;
use std::time::Duration;

use super::duration;
use crate::config::raw::{self, Parsed};
use crate::config::{Allowance, Severity};
use crate::profile::{Deviation, LoginHours, TradingProfile, parse_clock, parse_offset};
use crate::yaml::{At, Collector, Loc};

/// The account types the rules' `values` table produces.
const ACCOUNT_TYPES: &[&str] = &[
    "nisa_growth",
    "nisa_tsumitate",
    "nisa",
    "specific",
    "general",
    "margin",
    "ira",
];

/// `trading_profile:`; at least one of the things a trade is compared with must be given.
pub(super) fn trading_profile(c: &mut Collector, r: raw::RawProfile, loc: Loc) -> TradingProfile {
    let given = !(r.sides.is_empty()
        && r.markets.is_empty()
        && r.instruments.is_empty()
        && r.account_types.is_empty()
        && r.max_amount.is_none()
        && r.login_hours.is_none());
    let mut p = TradingProfile {
        brokers: r.brokers,
        markets: r
            .markets
            .iter()
            .map(|m| m.trim().to_ascii_uppercase())
            .collect(),
        instruments: r.instruments,
        max_amount: r.max_amount,
        burst_window: duration(c, r.burst_window.as_ref()).unwrap_or(Duration::from_secs(600)),
        ..TradingProfile::default()
    };
    p.sides = sides(c, r.sides);
    p.account_types = account_types(c, r.account_types);
    p.login_hours = login_hours(c, r.login_hours.as_ref(), r.utc_offset.as_ref());
    p.severity = severities(c, r.severity);
    if !given {
        c.error(loc, "a `trading_profile` needs at least one of `sides`, `markets`, `instruments`, `account_types`, `max_amount` or `login_hours`");
    }
    p
}

fn sides(c: &mut Collector, written: Vec<At<String>>) -> Vec<String> {
    let mut sides = Vec::new();
    for s in written {
        match s.value.to_ascii_lowercase().as_str() {
            v @ ("buy" | "sell") => sides.push(v.to_string()),
            other => c.error(
                s.loc,
                format!("unknown side `{other}` (expected `buy` or `sell`)"),
            ),
        }
    }
    sides
}

fn account_types(c: &mut Collector, written: Vec<At<String>>) -> Vec<String> {
    let mut types = Vec::new();
    for a in written {
        let v = a.value.to_ascii_lowercase();
        if ACCOUNT_TYPES.contains(&v.as_str()) {
            types.push(v);
        } else {
            c.error(
                a.loc,
                format!(
                    "unknown account type `{}` (expected one of: {})",
                    a.value,
                    ACCOUNT_TYPES.join(", ")
                ),
            );
        }
    }
    types
}

/// `login_hours: HH:MM-HH:MM`, read on `utc_offset` (which means nothing without it).
fn login_hours(
    c: &mut Collector,
    hours: Option<&At<String>>,
    utc_offset: Option<&At<String>>,
) -> Option<LoginHours> {
    let offset =
        utc_offset.and_then(|o| parse_offset(&o.value).map_err(|e| c.error(o.loc, e)).ok());
    let Some(h) = hours else {
        if let Some(o) = utc_offset {
            c.error(o.loc, "`utc_offset` goes with `login_hours`");
        }
        return None;
    };
    let parsed = h
        .value
        .split_once('-')
        .ok_or_else(|| {
            format!(
                "`{}` is not a range of hours (expected e.g. 07:00-23:30)",
                h.value
            )
        })
        .and_then(|(a, b)| Ok((parse_clock(a)?, parse_clock(b)?)));
    match parsed {
        Ok((from, to)) => Some(LoginHours {
            from,
            to,
            utc_offset: offset,
        }),
        Err(e) => {
            c.error(h.loc, e);
            None
        }
    }
}

/// `severity:` of a profile: a severity per kind of departure.
fn severities(
    c: &mut Collector,
    written: BTreeMap<String, At<String>>,
) -> BTreeMap<Deviation, Severity> {
    let mut out = BTreeMap::new();
    for (kind, sev) in written {
        match (kind.parse::<Deviation>(), sev.value.parse::<Severity>()) {
            (Ok(k), Ok(s)) => {
                out.insert(k, s);
            }
            (Err(e), _) => c.error(sev.loc, e),
            (_, Err(e)) => c.error(sev.loc, e.to_string()),
        }
    }
    out
}

/// An allowance with at least one condition a notice must show.
pub(super) fn allowance(c: &mut Collector, loc: Loc, a: raw::RawAllowance) -> Option<Allowance> {
    let Parsed(event) = a.event;
    if a.max_amount.is_none() && a.account_suffix.is_none() {
        c.error(
            loc,
            "an allowance needs `max_amount` or `account_suffix` (or both): an unconditional allowance would silence every notice of that kind",
        );
        return None;
    }
    Some(Allowance {
        broker: a.broker.value,
        event,
        max_amount: a.max_amount,
        account_suffix: a.account_suffix,
        note: a.note,
        loc: a.broker.loc,
    })
}
