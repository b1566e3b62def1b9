//! Is a genuine notice expected? By a declared window (`brokerwatch expect`, `/expect`) or a
//! standing allowance whose every condition the mail shows.

use std::collections::BTreeMap;

use super::Context;
use super::reason::Reason;
use crate::config::Allowance;
use crate::event::EventKind;
use crate::rules::Pack;
use crate::units::parse_amount;

/// Why a genuine notice is expected (an allowance or a declared window), or None.
pub(super) fn expectation_reason(
    pack: &Pack,
    event: EventKind,
    fields: &BTreeMap<String, String>,
    ctx: &Context,
) -> Option<Reason> {
    if let Some(e) = ctx
        .expectations
        .iter()
        .find(|e| e.broker == pack.id && e.event == event && e.from <= ctx.now && ctx.now < e.until)
    {
        return Some(Reason::Declared {
            event,
            broker: pack.name.clone(),
            id: e.id,
            note: e.note.clone(),
        });
    }
    ctx.config
        .allowances
        .iter()
        .find(|a| a.broker == pack.id && a.event == event && allowance_fits(a, fields))
        .map(|a| Reason::Allowance {
            event,
            max_amount: a.max_amount,
            account_suffix: a.account_suffix.clone(),
        })
}

/// Every condition the allowance sets must be shown by the mail; a missing field never fits.
fn allowance_fits(a: &Allowance, fields: &BTreeMap<String, String>) -> bool {
    let amount_ok = a.max_amount.is_none_or(|max| {
        fields
            .get("amount")
            .and_then(|v| parse_amount(v))
            .is_some_and(|v| v <= max)
    });
    let account_ok = a.account_suffix.as_ref().is_none_or(|suffix| {
        fields
            .get("account_last_digits")
            .is_some_and(|d| d.trim_start_matches(['*', '＊']).ends_with(suffix.as_str()))
    });
    amount_ok && account_ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Allowance;

    #[test]
    fn allowance_needs_every_condition_shown() {
        let a = Allowance {
            broker: "sbi".into(),
            event: EventKind::Withdrawal,
            max_amount: Some(100_000),
            account_suffix: Some("1234".into()),
            note: None,
            loc: Default::default(),
        };
        let f = |amount: &str, acct: &str| {
            let mut m = BTreeMap::new();
            if !amount.is_empty() {
                m.insert("amount".to_string(), amount.to_string());
            }
            if !acct.is_empty() {
                m.insert("account_last_digits".to_string(), acct.to_string());
            }
            m
        };
        assert!(allowance_fits(&a, &f("50,000", "1234")));
        assert!(!allowance_fits(&a, &f("150,000", "1234")));
        assert!(!allowance_fits(&a, &f("50,000", "9999")));
        assert!(!allowance_fits(&a, &f("", "1234")));
    }
}
