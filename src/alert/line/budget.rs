//! The monthly message budget: LINE's free plan has no overage, so brokerwatch counts what it
//! sent in the store, by the month LINE counts in (Japan time), and keeps a reserve.

use chrono::{DateTime, FixedOffset};

use crate::config::LineConfig;
use crate::store::{Store, StoreError};

/// The budget's month: the calendar month in Japan time, as LINE counts it.
pub fn month_key() -> String {
    let jst = FixedOffset::east_opt(9 * 3600).expect("+09:00 is a valid offset");
    let t = DateTime::from_timestamp(crate::store::now(), 0).unwrap_or_default();
    format!("line.sent.{}", t.with_timezone(&jst).format("%Y-%m"))
}

/// Messages held back for a new critical alert: a tenth of the limit, at least one.
pub fn reserve(limit: u32) -> u32 {
    match limit {
        0 | 1 => 0,
        2..=19 => 1,
        _ => limit / 10,
    }
}

/// Messages sent this month (as counted by brokerwatch) out of `limit`, from the store.
pub fn sent_this_month(store: &Store) -> Result<u32, StoreError> {
    Ok(store
        .kv_get(&month_key())?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0))
}

/// The `status` line: how many LINE messages are left this month.
pub fn status_line(
    cfg: &LineConfig,
    store: &Store,
    lang: crate::alert::language::Language,
) -> Result<String, StoreError> {
    let limit = cfg.monthly_limit;
    let left = limit.saturating_sub(sent_this_month(store)?);
    let kept = reserve(limit);
    Ok(match lang {
        crate::alert::language::Language::Ja => format!(
            "LINE: 今月の残り {left}/{limit} 通（うち {kept} 通は新しい重大なアラートのために確保）\n"
        ),
        crate::alert::language::Language::En => format!(
            "LINE: {left} of {limit} messages left this month ({kept} kept for new critical alerts)\n"
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reserve_is_a_tenth_at_least_one() {
        assert_eq!(reserve(200), 20);
        assert_eq!(reserve(5), 1);
        assert_eq!(reserve(1), 0);
    }
}
