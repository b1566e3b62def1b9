//! Checking one trade notice's canonical fields against the profile: one function per fact
//! (side, market, account type, instrument, amount), each adding its departures.

use std::collections::BTreeMap;

use super::departure::Fact;
use super::{Departure, Deviation, TradingProfile, trade_amount};
use crate::text::normalize;

/// The trade's canonical fields, trimmed, with empty values taken as unstated.
struct Facts<'a>(&'a BTreeMap<String, String>);

impl<'a> Facts<'a> {
    fn get(&self, k: &str) -> Option<&'a str> {
        self.0.get(k).map(|v| v.trim()).filter(|v| !v.is_empty())
    }
}

fn departure(kind: Deviation, fact: Fact) -> Departure {
    Departure { kind, fact }
}

impl TradingProfile {
    /// How a trade with these (canonical) fields departs from the profile; empty: it fits.
    /// A cancelled or expired order moves nothing and is never a departure.
    pub fn check(&self, fields: &BTreeMap<String, String>) -> Vec<Departure> {
        let facts = Facts(fields);
        if matches!(facts.get("stage"), Some("cancelled" | "expired")) {
            return Vec::new();
        }
        [
            self.side_departure(&facts),
            self.market_departure(&facts),
            self.account_departure(&facts),
            self.instrument_departure(&facts),
            self.amount_departure(fields),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    fn side_departure(&self, facts: &Facts) -> Option<Departure> {
        if self.sides.is_empty() {
            return None;
        }
        match facts.get("side") {
            Some(s) if self.sides.iter().any(|x| x == s) => None,
            Some("sell") => Some(departure(
                Deviation::Sell,
                Fact::Sale {
                    sides: self.sides.clone(),
                },
            )),
            Some(s) => Some(departure(
                Deviation::Buy,
                Fact::Side {
                    side: s.to_string(),
                    sides: self.sides.clone(),
                },
            )),
            None => Some(departure(Deviation::Unstated, Fact::NoSide)),
        }
    }

    fn market_departure(&self, facts: &Facts) -> Option<Departure> {
        let m = facts.get("market")?;
        if self.markets.is_empty() || self.markets.iter().any(|x| x.eq_ignore_ascii_case(m)) {
            return None;
        }
        let kind = if m.eq_ignore_ascii_case("JP") {
            Deviation::Market
        } else {
            Deviation::Foreign
        };
        Some(departure(
            kind,
            Fact::Market {
                market: m.to_string(),
                markets: self.markets.clone(),
            },
        ))
    }

    fn account_departure(&self, facts: &Facts) -> Option<Departure> {
        match facts.get("account_type") {
            Some("margin") if !self.account_types.iter().any(|a| a == "margin") => {
                Some(departure(Deviation::Margin, Fact::Margin))
            }
            Some(a)
                if !self.account_types.is_empty() && !self.account_types.iter().any(|x| x == a) =>
            {
                Some(departure(
                    Deviation::Account,
                    Fact::Account {
                        account: a.to_string(),
                        accounts: self.account_types.clone(),
                    },
                ))
            }
            _ => None,
        }
    }

    fn instrument_departure(&self, facts: &Facts) -> Option<Departure> {
        if self.instruments.is_empty() {
            return None;
        }
        let (name, code) = (facts.get("instrument"), facts.get("code"));
        if name.is_none() && code.is_none() {
            return Some(departure(Deviation::Unstated, Fact::NoInstrument));
        }
        if self.instrument_listed(name, code) {
            return None;
        }
        let shown = [code, name]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        Some(departure(Deviation::Instrument, Fact::Instrument { shown }))
    }

    fn amount_departure(&self, fields: &BTreeMap<String, String>) -> Option<Departure> {
        let max = self.max_amount?;
        let amount = trade_amount(fields).filter(|a| *a > max)?;
        Some(departure(Deviation::Amount, Fact::Amount { amount, max }))
    }

    fn instrument_listed(&self, name: Option<&str>, code: Option<&str>) -> bool {
        let name = name.map(|n| normalize(n).to_lowercase());
        self.instruments.iter().any(|want| {
            let w = normalize(want).to_lowercase();
            code.is_some_and(|c| c.eq_ignore_ascii_case(&w))
                || name.as_deref().is_some_and(|n| n.contains(&w))
        })
    }
}
