//! Checking one trade notice's canonical fields against the profile: one function per fact
//! (side, market, account type, instrument, amount), each adding its departures.

use std::collections::BTreeMap;

use super::{Departure, Deviation, TradingProfile, trade_amount};
use crate::alert::wording::value_ja;
use crate::text::normalize;

/// The trade's canonical fields, trimmed, with empty values taken as unstated.
struct Facts<'a>(&'a BTreeMap<String, String>);

impl<'a> Facts<'a> {
    fn get(&self, k: &str) -> Option<&'a str> {
        self.0.get(k).map(|v| v.trim()).filter(|v| !v.is_empty())
    }
}

fn departure(kind: Deviation, why: String, why_ja: String) -> Departure {
    Departure { kind, why, why_ja }
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
                format!("a sale; your profile only {}", self.sides.join("/")),
                format!(
                    "売却です（取引プロフィールは{}のみ）",
                    ja_list("side", &self.sides)
                ),
            )),
            Some(s) => Some(departure(
                Deviation::Buy,
                format!("side `{s}`; your profile only {}s", self.sides.join("/")),
                format!(
                    "売買区分 `{s}`（取引プロフィールは{}のみ）",
                    ja_list("side", &self.sides)
                ),
            )),
            None => Some(departure(
                Deviation::Unstated,
                "the mail does not say whether it is a buy or a sale".into(),
                "メールに買付か売却かの記載がありません".into(),
            )),
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
            format!(
                "market {m}; your profile trades {}",
                self.markets.join(", ")
            ),
            format!(
                "市場 {m}（取引プロフィールの市場は {}）",
                self.markets.join(", ")
            ),
        ))
    }

    fn account_departure(&self, facts: &Facts) -> Option<Departure> {
        match facts.get("account_type") {
            Some("margin") if !self.account_types.iter().any(|a| a == "margin") => Some(departure(
                Deviation::Margin,
                "a margin (信用) trade; your profile has none".into(),
                "信用取引です（取引プロフィールに信用取引はありません）".into(),
            )),
            Some(a)
                if !self.account_types.is_empty() && !self.account_types.iter().any(|x| x == a) =>
            {
                Some(departure(
                    Deviation::Account,
                    format!(
                        "account `{a}`; your profile uses {}",
                        self.account_types.join(", ")
                    ),
                    format!(
                        "口座区分が{}です（取引プロフィールの口座区分は{}）",
                        value_ja("account_type", a),
                        ja_list("account_type", &self.account_types)
                    ),
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
            return Some(departure(
                Deviation::Unstated,
                "the mail does not name the instrument".into(),
                "メールに銘柄の記載がありません".into(),
            ));
        }
        if self.instrument_listed(name, code) {
            return None;
        }
        let shown = [code, name]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        Some(departure(
            Deviation::Instrument,
            format!("{shown} is not among your instruments"),
            format!("{shown} は取引プロフィールの銘柄にありません"),
        ))
    }

    fn amount_departure(&self, fields: &BTreeMap<String, String>) -> Option<Departure> {
        let max = self.max_amount?;
        let amount = trade_amount(fields).filter(|a| *a > max)?;
        Some(departure(
            Deviation::Amount,
            format!("amount {amount} over your limit of {max}"),
            format!("金額 {amount} が上限 {max} を超えています"),
        ))
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

/// Canonical values as the Japanese alert names them, joined with 「・」.
fn ja_list(field: &str, values: &[String]) -> String {
    values
        .iter()
        .map(|v| value_ja(field, v))
        .collect::<Vec<_>>()
        .join("・")
}
