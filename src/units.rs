//! Small value parsers shared by config, rules and commands: durations (`30m`, `24h`, `7d`) and
//! amounts as mails print them (`1,200,000`, `¥1,200,000`, `$1,250.00`), dates, and the clock.

use std::time::Duration;

use chrono::{Datelike, NaiveDate, NaiveTime};

/// Parses `90s`, `30m`, `24h`, `7d`, `1w`, or combinations like `1h30m`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("empty duration".into());
    }
    if t.ends_with("ms") {
        return Err(format!(
            "invalid duration `{t}`: the smallest unit is whole seconds (e.g. 1s)"
        ));
    }
    // NOTE: only the units the README names; humantime alone would also read `M` as months,
    // `y`, `ms` and words (`2 hours`).
    if !t
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, 's' | 'm' | 'h' | 'd' | 'w'))
    {
        return Err(format!(
            "invalid duration `{t}` (use e.g. 90s, 30m, 24h, 7d)"
        ));
    }
    humantime::parse_duration(t).map_err(|e| match e {
        humantime::DurationError::NumberOverflow => format!("duration `{t}` is too long"),
        humantime::DurationError::NumberExpected(i) => format!(
            "invalid duration `{t}` (a number must come before `{}`)",
            &t[i..]
        ),
        _ => format!("invalid duration `{t}` (a unit is required: s, m, h, d or w)"),
    })
}

/// Formats a duration the way [`parse_duration`] reads it (largest units first).
pub fn format_duration(d: Duration) -> String {
    let mut s = d.as_secs();
    if s == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    for (unit, len) in [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)] {
        if s >= len {
            out.push_str(&format!("{}{unit}", s / len));
            s %= len;
        }
    }
    out
}

/// The whole-unit value of an amount as a mail prints it: `1,200,000` → 1200000,
/// `$1,250.00` → 1250 (cents dropped), `¥50,000` → 50000. None if there are no digits.
pub fn parse_amount(text: &str) -> Option<u64> {
    let whole = text.split('.').next().unwrap_or("");
    let digits: String = whole.chars().filter(|c| c.is_ascii_digit()).collect();
    if digits.is_empty() {
        return None;
    }
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30m").unwrap(), Duration::from_secs(1800));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("7d").unwrap(), Duration::from_secs(604_800));
        assert!(parse_duration("30").is_err());
        assert!(parse_duration("abc").is_err());
        assert!(parse_duration("").is_err());
        assert_eq!(format_duration(Duration::from_secs(5400)), "1h30m");
    }

    #[test]
    fn amounts() {
        assert_eq!(parse_amount("1,200,000"), Some(1_200_000));
        assert_eq!(parse_amount("¥50,000"), Some(50_000));
        assert_eq!(parse_amount("$1,250.99"), Some(1250));
        assert_eq!(parse_amount("—"), None);
    }
}

/// `YYYY-MM-DD` → epoch seconds at 00:00 UTC of that day.
pub fn parse_date(text: &str) -> Result<i64, String> {
    let bad = || format!("invalid date `{text}` (expected YYYY-MM-DD)");
    let day = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| bad())?;
    if !(1970..=9999).contains(&day.year()) {
        return Err(bad());
    }
    Ok(day.and_time(NaiveTime::MIN).and_utc().timestamp())
}

/// Epoch seconds now (0 on a clock set before 1970).
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

#[cfg(test)]
mod date_tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(parse_date("1970-01-01").unwrap(), 0);
        assert_eq!(parse_date("2026-11-24").unwrap(), 1_795_478_400);
        assert!(parse_date("2026-13-01").is_err() && parse_date("yesterday").is_err());
    }
}
