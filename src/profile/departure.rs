//! One way a trade departs from the profile, as facts: the kind and what shows it. It is worded
//! where a person reads it (the alert, in its own language; the `--json` reasons, in English),
//! so that each recipient reads it in theirs.

use super::Deviation;
use crate::alert::language::Language;
use crate::alert::wording::value_ja;

/// One way a trade departs from the profile, for the alert's reasons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Departure {
    pub kind: Deviation,
    pub fact: Fact,
}

/// What shows a departure: the trade's value and the profile's, as the profile states them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fact {
    /// A sale; the profile only trades these sides.
    Sale { sides: Vec<String> },
    /// Another side than the profile's.
    Side { side: String, sides: Vec<String> },
    /// The mail does not say buy or sale.
    NoSide,
    /// A market the profile does not trade.
    Market {
        market: String,
        markets: Vec<String>,
    },
    /// A margin (信用) trade; the profile has none.
    Margin,
    /// An account type the profile does not use.
    Account {
        account: String,
        accounts: Vec<String>,
    },
    /// The mail names no instrument.
    NoInstrument,
    /// An instrument (code and name as the mail gives them) the profile does not list.
    Instrument { shown: String },
    /// Over the profile's largest amount.
    Amount { amount: u64, max: u64 },
}

impl Departure {
    /// The departure as a person reads it in `lang`.
    pub fn text(&self, lang: Language) -> String {
        match lang {
            Language::Ja => self.fact.ja(),
            Language::En => self.fact.en(),
        }
    }
}

impl Fact {
    fn en(&self) -> String {
        match self {
            Fact::Sale { sides } => format!("a sale; your profile only {}", sides.join("/")),
            Fact::Side { side, sides } => {
                format!("side `{side}`; your profile only {}s", sides.join("/"))
            }
            Fact::NoSide => "the mail does not say whether it is a buy or a sale".into(),
            Fact::Market { market, markets } => {
                format!(
                    "market {market}; your profile trades {}",
                    markets.join(", ")
                )
            }
            Fact::Margin => "a margin (信用) trade; your profile has none".into(),
            Fact::Account { account, accounts } => {
                format!(
                    "account `{account}`; your profile uses {}",
                    accounts.join(", ")
                )
            }
            Fact::NoInstrument => "the mail does not name the instrument".into(),
            Fact::Instrument { shown } => format!("{shown} is not among your instruments"),
            Fact::Amount { amount, max } => format!("amount {amount} over your limit of {max}"),
        }
    }

    fn ja(&self) -> String {
        match self {
            Fact::Sale { sides } => format!(
                "売却です（取引プロフィールは{}のみ）",
                ja_list("side", sides)
            ),
            Fact::Side { side, sides } => format!(
                "売買区分 `{side}`（取引プロフィールは{}のみ）",
                ja_list("side", sides)
            ),
            Fact::NoSide => "メールに買付か売却かの記載がありません".into(),
            Fact::Market { market, markets } => format!(
                "市場 {market}（取引プロフィールの市場は {}）",
                markets.join(", ")
            ),
            Fact::Margin => "信用取引です（取引プロフィールに信用取引はありません）".into(),
            Fact::Account { account, accounts } => format!(
                "口座区分が{}です（取引プロフィールの口座区分は{}）",
                value_ja("account_type", account),
                ja_list("account_type", accounts)
            ),
            Fact::NoInstrument => "メールに銘柄の記載がありません".into(),
            Fact::Instrument { shown } => format!("{shown} は取引プロフィールの銘柄にありません"),
            Fact::Amount { amount, max } => format!("金額 {amount} が上限 {max} を超えています"),
        }
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
