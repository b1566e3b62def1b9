//! The kinds of departure from the trading profile, each with its own default severity.

use std::fmt;
use std::str::FromStr;

use crate::event::Severity;

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
