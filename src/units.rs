//! Small value parsers shared by config, rules and commands: durations (`30m`, `24h`, `7d`) and
//! amounts as mails print them (`1,200,000`, `¥1,200,000`, `$1,250.00`).

use std::time::Duration;

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
    let mut total: u64 = 0;
    let mut num = String::new();
    let mut saw_unit = false;
    for ch in t.chars() {
        if ch.is_ascii_digit() {
            num.push(ch);
            continue;
        }
        let unit = match ch {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 7 * 86_400,
            _ => {
                return Err(format!(
                    "invalid duration `{t}` (use e.g. 90s, 30m, 24h, 7d)"
                ));
            }
        };
        let n: u64 = num
            .parse()
            .map_err(|_| format!("invalid duration `{t}` (a number must come before `{ch}`)"))?;
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(|| format!("duration `{t}` is too long"))?;
        num.clear();
        saw_unit = true;
    }
    if !num.is_empty() || !saw_unit {
        return Err(format!(
            "invalid duration `{t}` (a unit is required: s, m, h, d or w)"
        ));
    }
    Ok(Duration::from_secs(total))
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
    let mut it = text.trim().splitn(3, '-');
    let y: i64 = it.next().and_then(|v| v.parse().ok()).ok_or_else(bad)?;
    let m: i64 = it.next().and_then(|v| v.parse().ok()).ok_or_else(bad)?;
    let d: i64 = it.next().and_then(|v| v.parse().ok()).ok_or_else(bad)?;
    if !(1970..=9999).contains(&y) || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return Err(bad());
    }
    // Days from civil (Howard Hinnant's algorithm), proleptic Gregorian.
    let yy = if m <= 2 { y - 1 } else { y };
    let era = yy.div_euclid(400);
    let yoe = yy - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Ok((era * 146_097 + doe - 719_468) * 86_400)
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
