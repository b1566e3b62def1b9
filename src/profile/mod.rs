//! The investor's trading profile: what they normally do, so that a trade outside it is an
//! unexpected security event. The 2025 takeovers withdrew nothing: they sold the victims'
//! holdings (NISA too) and bought thinly traded foreign and domestic small caps, at night.
//!
//! Matching works on the canonical trade fields the rules extract (`side`, `market`,
//! `account_type`, `stage`; see rules/_generic.yaml `values`). A fact the mail does not state is
//! never taken as proof that the trade fits.

mod check;
mod departure;
mod deviation;
mod learn;

pub use departure::{Departure, Fact};
pub use deviation::Deviation;
pub use learn::Learner;

use std::collections::BTreeMap;

use crate::event::Severity;
use crate::units::parse_amount;

/// Hours of the day (local to `utc_offset`) in which the investor logs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginHours {
    /// Minutes after midnight; `from > to` wraps past midnight (22:00-02:00).
    pub from: u32,
    pub to: u32,
    /// Seconds east of UTC; None: the offset of the notice's own Date header.
    pub utc_offset: Option<i32>,
}

impl LoginHours {
    /// Is the moment `at` (epoch seconds; `mail_offset` from its Date header) inside the hours?
    pub fn contains(&self, at: i64, mail_offset: Option<i32>) -> bool {
        let offset = self.utc_offset.or(mail_offset).unwrap_or(0);
        let minute = ((at + i64::from(offset)).rem_euclid(86_400) / 60) as u32;
        if self.from <= self.to {
            self.from <= minute && minute < self.to
        } else {
            minute >= self.from || minute < self.to
        }
    }
}

/// What this investor normally does. Empty lists allow anything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TradingProfile {
    /// Brokers it applies to (empty: all).
    pub brokers: Vec<String>,
    /// `buy`, `sell`.
    pub sides: Vec<String>,
    /// Canonical markets: JP, US, HK, CN, …
    pub markets: Vec<String>,
    /// Codes (exact, any case) or parts of instrument names (NFKC, any case).
    pub instruments: Vec<String>,
    /// Canonical account types; `margin` must be listed to allow margin trades.
    pub account_types: Vec<String>,
    /// Largest amount of one trade, in the mail's currency unit.
    pub max_amount: Option<u64>,
    pub login_hours: Option<LoginHours>,
    /// Severity per deviation kind (defaults from [`Deviation::default_severity`]).
    pub severity: BTreeMap<Deviation, Severity>,
    /// Further unexpected trades at one broker within this window join the first one's alert.
    pub burst_window: std::time::Duration,
}

impl TradingProfile {
    pub fn applies_to(&self, broker: &str) -> bool {
        self.brokers.is_empty() || self.brokers.iter().any(|b| b == broker)
    }

    pub fn severity_of(&self, kind: Deviation) -> Severity {
        self.severity
            .get(&kind)
            .copied()
            .unwrap_or_else(|| kind.default_severity())
    }

    /// The severity of a set of departures: the loudest one's.
    pub fn severity(&self, departures: &[Departure]) -> Severity {
        departures
            .iter()
            .map(|d| self.severity_of(d.kind))
            .max()
            .unwrap_or(Severity::None)
    }
}

/// The trade's amount as stated, else quantity × price.
pub fn trade_amount(fields: &BTreeMap<String, String>) -> Option<u64> {
    if let Some(a) = fields.get("amount").and_then(|a| parse_amount(a)) {
        return Some(a);
    }
    let q = fields.get("quantity").and_then(|q| parse_amount(q))?;
    let p = fields.get("price").and_then(|p| parse_amount(p))?;
    q.checked_mul(p)
}

/// `HH:MM` → minutes after midnight.
pub fn parse_clock(text: &str) -> Result<u32, String> {
    let bad = || format!("`{text}` is not a time of day (expected HH:MM, e.g. 07:30)");
    let (h, m) = text.trim().split_once(':').ok_or_else(bad)?;
    let (h, m): (u32, u32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if h > 24 || m > 59 || (h == 24 && m > 0) {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

/// `+09:00` / `-05:00` / `Z` → seconds east of UTC.
pub fn parse_offset(text: &str) -> Result<i32, String> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("z") || t == "+00:00" || t == "-00:00" {
        return Ok(0);
    }
    let bad = || format!("`{text}` is not a UTC offset (expected e.g. +09:00 or -05:00)");
    let (sign, rest) = match t.chars().next() {
        Some('+') => (1, &t[1..]),
        Some('-') => (-1, &t[1..]),
        _ => return Err(bad()),
    };
    let mins = parse_clock(rest).map_err(|_| bad())?;
    if mins > 14 * 60 {
        return Err(bad());
    }
    Ok(sign * mins as i32 * 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// "Monthly fund 積立 only": buys of two funds, in the tsumitate NISA or a specific account.
    fn tsumitate_only() -> TradingProfile {
        TradingProfile {
            sides: vec!["buy".into()],
            markets: vec!["JP".into()],
            instruments: vec!["eMAXIS Slim".into(), "1306".into()],
            account_types: vec!["nisa_tsumitate".into(), "specific".into()],
            max_amount: Some(100_000),
            ..TradingProfile::default()
        }
    }

    fn kinds(d: &[Departure]) -> Vec<Deviation> {
        d.iter().map(|d| d.kind).collect()
    }

    #[test]
    fn a_matching_accumulation_buy_fits() {
        let p = tsumitate_only();
        let f = fields(&[
            ("stage", "executed"),
            ("side", "buy"),
            (
                "instrument",
                "ｅＭＡＸＩＳ　Ｓｌｉｍ 全世界株式(オール・カントリー)",
            ),
            ("account_type", "nisa_tsumitate"),
            ("amount", "33,333"),
        ]);
        assert_eq!(p.check(&f), []);
    }

    #[test]
    fn the_2025_pattern_departs_loudly() {
        let p = tsumitate_only();
        let sell = fields(&[
            ("stage", "executed"),
            ("side", "sell"),
            ("instrument", "トヨタ自動車"),
            ("code", "7203"),
            ("market", "JP"),
            ("account_type", "nisa_growth"),
            ("quantity", "300"),
            ("price", "2,850"),
        ]);
        let d = p.check(&sell);
        assert_eq!(
            kinds(&d),
            [
                Deviation::Sell,
                Deviation::Account,
                Deviation::Instrument,
                Deviation::Amount
            ]
        );
        assert_eq!(p.severity(&d), Severity::Critical);
        let hk = fields(&[
            ("side", "buy"),
            ("code", "08123"),
            ("market", "HK"),
            ("account_type", "specific"),
        ]);
        let d = p.check(&hk);
        assert_eq!(kinds(&d), [Deviation::Foreign, Deviation::Instrument]);
        assert_eq!(p.severity(&d), Severity::Critical);
        let margin = fields(&[
            ("side", "buy"),
            ("code", "1306"),
            ("market", "JP"),
            ("account_type", "margin"),
        ]);
        assert_eq!(kinds(&p.check(&margin)), [Deviation::Margin]);
    }

    #[test]
    fn unstated_facts_never_prove_a_fit_and_cancellations_never_alarm() {
        let p = tsumitate_only();
        assert_eq!(
            kinds(&p.check(&fields(&[("stage", "executed")]))),
            [Deviation::Unstated, Deviation::Unstated]
        );
        assert_eq!(p.severity(&p.check(&fields(&[]))), Severity::Warning);
        assert_eq!(
            p.check(&fields(&[("stage", "cancelled"), ("side", "sell")])),
            []
        );
    }

    #[test]
    fn severities_are_the_users_to_set() {
        let mut p = tsumitate_only();
        p.severity.insert(Deviation::Sell, Severity::Warning);
        let d = p.check(&fields(&[("side", "sell"), ("code", "1306")]));
        assert_eq!(p.severity(&d), Severity::Warning);
    }

    #[test]
    fn login_hours_wrap_and_use_the_notice_offset() {
        let h = LoginHours {
            from: 7 * 60,
            to: 23 * 60,
            utc_offset: None,
        };
        // 2026-11-24 02:30 JST = 2026-11-23 17:30 UTC.
        let at = 1_795_455_000;
        assert!(!h.contains(at, Some(9 * 3600)));
        assert!(h.contains(at, Some(0)));
        let night = LoginHours {
            from: 22 * 60,
            to: 2 * 60,
            utc_offset: Some(9 * 3600),
        };
        assert!(!night.contains(at, None));
        assert!(night.contains(at - 3600, None));
    }

    #[test]
    fn clock_and_offset_parsing() {
        assert_eq!(parse_clock("07:30"), Ok(450));
        assert!(parse_clock("25:00").is_err() && parse_clock("7").is_err());
        assert_eq!(parse_offset("+09:00"), Ok(32_400));
        assert_eq!(parse_offset("-05:00"), Ok(-18_000));
        assert!(parse_offset("09:00").is_err());
    }
}
