//! The investor's trading profile: what they normally do, so that a trade outside it is an
//! unexpected security event. The 2025 takeovers withdrew nothing: they sold the victims'
//! holdings (NISA too) and bought thinly traded foreign and domestic small caps, at night.
//!
//! Matching works on the canonical trade fields the rules extract (`side`, `market`,
//! `account_type`, `stage`; see rules/_generic.yaml `values`). A fact the mail does not state is
//! never taken as proof that the trade fits.

mod learn;

pub use learn::Learner;

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use crate::alert::wording::value_ja;
use crate::event::Severity;
use crate::text::normalize;
use crate::units::parse_amount;

/// How a trade departs from the profile. Each kind has its own severity (the user's to set).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Deviation {
    /// A sale when the profile only buys: selling the holdings was the 2025 pattern.
    Sell,
    /// A buy when the profile only sells.
    Buy,
    /// A market the profile does not list, other than JP (a foreign individual stock).
    Foreign,
    /// A domestic (JP) trade when the profile lists only foreign markets.
    Market,
    /// A margin (信用) trade when the profile does not list `margin`.
    Margin,
    /// An instrument the profile does not list.
    Instrument,
    /// An account type the profile does not list.
    Account,
    /// Over `max_amount`.
    Amount,
    /// The mail does not state what the profile needs to judge the trade.
    Unstated,
}

impl Deviation {
    pub const ALL: [Deviation; 9] = [
        Deviation::Sell,
        Deviation::Buy,
        Deviation::Foreign,
        Deviation::Market,
        Deviation::Margin,
        Deviation::Instrument,
        Deviation::Account,
        Deviation::Amount,
        Deviation::Unstated,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Deviation::Sell => "sell",
            Deviation::Buy => "buy",
            Deviation::Foreign => "foreign",
            Deviation::Market => "market",
            Deviation::Margin => "margin",
            Deviation::Instrument => "instrument",
            Deviation::Account => "account",
            Deviation::Amount => "amount",
            Deviation::Unstated => "unstated",
        }
    }

    /// The default severity: the 2025 pattern (selling, foreign stocks, margin) is critical.
    pub fn default_severity(self) -> Severity {
        match self {
            Deviation::Sell | Deviation::Foreign | Deviation::Margin => Severity::Critical,
            _ => Severity::Warning,
        }
    }
}

impl fmt::Display for Deviation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Deviation {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Deviation::ALL
            .into_iter()
            .find(|d| d.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown kind `{s}` (expected one of: {})",
                    Deviation::ALL.map(|d| d.as_str()).join(", ")
                )
            })
    }
}

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

/// One way a trade departs from the profile, for the alert's reasons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Departure {
    pub kind: Deviation,
    pub why: String,
    /// `why` in Japanese, for alerts in `language: ja`.
    pub why_ja: String,
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

    /// How a trade with these (canonical) fields departs from the profile; empty: it fits.
    /// A cancelled or expired order moves nothing and is never a departure.
    pub fn check(&self, fields: &BTreeMap<String, String>) -> Vec<Departure> {
        let get = |k: &str| fields.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
        if matches!(get("stage"), Some("cancelled" | "expired")) {
            return Vec::new();
        }
        let mut out = Vec::new();
        let mut push =
            |kind, why: String, why_ja: String| out.push(Departure { kind, why, why_ja });
        if !self.sides.is_empty() {
            match get("side") {
                Some(s) if self.sides.iter().any(|x| x == s) => {}
                Some("sell") => push(
                    Deviation::Sell,
                    format!("a sale; your profile only {}", self.sides.join("/")),
                    format!(
                        "売却です（取引プロフィールは{}のみ）",
                        ja_list("side", &self.sides)
                    ),
                ),
                Some(s) => push(
                    Deviation::Buy,
                    format!("side `{s}`; your profile only {}s", self.sides.join("/")),
                    format!(
                        "売買区分 `{s}`（取引プロフィールは{}のみ）",
                        ja_list("side", &self.sides)
                    ),
                ),
                None => push(
                    Deviation::Unstated,
                    "the mail does not say whether it is a buy or a sale".into(),
                    "メールに買付か売却かの記載がありません".into(),
                ),
            }
        }
        if let Some(m) = get("market")
            && !self.markets.is_empty()
            && !self.markets.iter().any(|x| x.eq_ignore_ascii_case(m))
        {
            let kind = if m.eq_ignore_ascii_case("JP") {
                Deviation::Market
            } else {
                Deviation::Foreign
            };
            push(
                kind,
                format!(
                    "market {m}; your profile trades {}",
                    self.markets.join(", ")
                ),
                format!(
                    "市場 {m}（取引プロフィールの市場は {}）",
                    self.markets.join(", ")
                ),
            );
        }
        match get("account_type") {
            Some("margin") if !self.account_types.iter().any(|a| a == "margin") => push(
                Deviation::Margin,
                "a margin (信用) trade; your profile has none".into(),
                "信用取引です（取引プロフィールに信用取引はありません）".into(),
            ),
            Some(a)
                if !self.account_types.is_empty() && !self.account_types.iter().any(|x| x == a) =>
            {
                push(
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
                )
            }
            _ => {}
        }
        if !self.instruments.is_empty() {
            let (name, code) = (get("instrument"), get("code"));
            if name.is_none() && code.is_none() {
                push(
                    Deviation::Unstated,
                    "the mail does not name the instrument".into(),
                    "メールに銘柄の記載がありません".into(),
                );
            } else if !self.instrument_listed(name, code) {
                let shown = [code, name]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" ");
                push(
                    Deviation::Instrument,
                    format!("{shown} is not among your instruments"),
                    format!("{shown} は取引プロフィールの銘柄にありません"),
                );
            }
        }
        if let Some(max) = self.max_amount
            && let Some(amount) = trade_amount(fields)
            && amount > max
        {
            push(
                Deviation::Amount,
                format!("amount {amount} over your limit of {max}"),
                format!("金額 {amount} が上限 {max} を超えています"),
            );
        }
        out
    }

    fn instrument_listed(&self, name: Option<&str>, code: Option<&str>) -> bool {
        let name = name.map(|n| normalize(n).to_lowercase());
        self.instruments.iter().any(|want| {
            let w = normalize(want).to_lowercase();
            code.is_some_and(|c| c.eq_ignore_ascii_case(&w))
                || name.as_deref().is_some_and(|n| n.contains(&w))
        })
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

/// Canonical values as the Japanese alert names them, joined with 「・」.
fn ja_list(field: &str, values: &[String]) -> String {
    values
        .iter()
        .map(|v| value_ja(field, v))
        .collect::<Vec<_>>()
        .join("・")
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
