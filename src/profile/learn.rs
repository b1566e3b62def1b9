//! Learning a trading profile from the investor's own past trade mails (`brokerwatch profile`):
//! which sides, markets, instruments and account types, how large, on which days — proposed as
//! YAML to paste, with the counts it is based on, so the user can see what it will allow.

use std::collections::BTreeMap;

use super::trade_amount;

/// One genuine trade notice seen in the mailbox.
#[derive(Debug, Clone, Default)]
struct Seen {
    broker: String,
    fields: BTreeMap<String, String>,
    /// Local date and time parts (from the notice's own Date offset): weekday 0=Mon, day, hour.
    when: Option<(u32, u32, u32)>,
}

/// Collects trade notices, then proposes the profile they fit.
#[derive(Debug, Default)]
pub struct Learner {
    seen: Vec<Seen>,
    /// Notices skipped because they were cancelled or expired orders.
    skipped: usize,
}

/// Counts of each value, most frequent first.
fn tally<'a>(values: impl Iterator<Item = &'a str>) -> Vec<(String, usize)> {
    let mut m: BTreeMap<&str, usize> = BTreeMap::new();
    for v in values {
        *m.entry(v).or_default() += 1;
    }
    let mut out: Vec<(String, usize)> = m.into_iter().map(|(k, n)| (k.to_string(), n)).collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    out
}

fn counts(t: &[(String, usize)]) -> String {
    t.iter()
        .map(|(v, n)| format!("{v} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A YAML single-quoted scalar.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Epoch seconds at a UTC offset → (weekday 0=Mon, day of month, hour).
fn local_parts(at: i64, offset: i32) -> Option<(u32, u32, u32)> {
    use chrono::{Datelike, Timelike};
    let tz = chrono::FixedOffset::east_opt(offset)?;
    let t = chrono::DateTime::from_timestamp(at, 0)?.with_timezone(&tz);
    Some((t.weekday().num_days_from_monday(), t.day(), t.hour()))
}

const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

impl Learner {
    /// A genuine trade notice: its broker, canonical fields, and when it was sent.
    pub fn add(
        &mut self,
        broker: &str,
        fields: &BTreeMap<String, String>,
        at: Option<i64>,
        offset: Option<i32>,
    ) {
        if matches!(
            fields.get("stage").map(String::as_str),
            Some("cancelled" | "expired")
        ) {
            self.skipped += 1;
            return;
        }
        self.seen.push(Seen {
            broker: broker.to_string(),
            fields: fields.clone(),
            when: at.and_then(|t| local_parts(t, offset.unwrap_or(0))),
        });
    }

    pub fn len(&self) -> usize {
        self.seen.len()
    }

    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }

    fn field(&self, name: &str) -> Vec<(String, usize)> {
        tally(
            self.seen
                .iter()
                .filter_map(|s| s.fields.get(name).map(String::as_str)),
        )
    }

    /// The proposal as YAML (with comments) to paste under the config's top level.
    pub fn propose(&self, since_text: &str) -> String {
        let n = self.seen.len();
        let mut y = format!(
            "# Proposed by `brokerwatch profile` from {n} trade notice(s) since {since_text}"
        );
        if self.skipped > 0 {
            y.push_str(&format!(
                " ({} cancelled or expired orders left out)",
                self.skipped
            ));
        }
        y.push_str(".\n# Paste it into your config and edit: a trade outside it raises an alert; a list you\n# leave out allows anything.\n");
        let brokers = tally(self.seen.iter().map(|s| s.broker.as_str()));
        y.push_str(&format!("# trades seen per broker: {}\n", counts(&brokers)));
        y.push_str("trading_profile:\n");
        self.list(&mut y, "sides", &self.field("side"));
        self.list(&mut y, "markets", &self.field("market"));
        self.instruments(&mut y);
        self.list(&mut y, "account_types", &self.field("account_type"));
        let amounts: Vec<u64> = self
            .seen
            .iter()
            .filter_map(|s| trade_amount(&s.fields))
            .collect();
        if let Some(max) = amounts.iter().max() {
            // Some room above the largest seen, rounded up to two significant digits.
            let room = max + max / 5;
            let unit = 10u64.pow((room.max(1).ilog10()).saturating_sub(1));
            let limit = room.div_ceil(unit) * unit;
            y.push_str(&format!(
                "  max_amount: {limit}          # largest seen {max} (of {} with an amount), +20 %\n",
                amounts.len()
            ));
        }
        self.days(&mut y);
        y
    }

    fn list(&self, y: &mut String, key: &str, t: &[(String, usize)]) {
        let unstated = self.seen.len() - t.iter().map(|(_, c)| c).sum::<usize>();
        let note = if unstated > 0 {
            format!("; {unstated} not stated")
        } else {
            String::new()
        };
        if t.is_empty() {
            y.push_str(&format!("  # {key}: none of the notices stated it\n"));
            return;
        }
        let vals: Vec<&str> = t.iter().map(|(v, _)| v.as_str()).collect();
        y.push_str(&format!(
            "  {key}: [{}]          # {}{note}\n",
            vals.join(", "),
            counts(t)
        ));
    }

    fn instruments(&self, y: &mut String) {
        // Per instrument: its code when the mail states one, else its name.
        let keys: Vec<(String, Option<String>)> = self
            .seen
            .iter()
            .filter_map(|s| {
                let code = s.fields.get("code").cloned();
                let name = s.fields.get("instrument").cloned();
                match (code, name) {
                    (Some(c), n) => Some((c, n)),
                    (None, Some(n)) => Some((n, None)),
                    (None, None) => None,
                }
            })
            .collect();
        let t = tally(keys.iter().map(|(k, _)| k.as_str()));
        if t.is_empty() {
            y.push_str("  # instruments: none of the notices named one\n");
            return;
        }
        y.push_str(&format!(
            "  instruments:          # {} instrument(s)\n",
            t.len()
        ));
        for (k, count) in &t {
            let name = keys
                .iter()
                .find(|(key, n)| key == k && n.is_some())
                .and_then(|(_, n)| n.clone());
            let label = name.map(|n| format!(" {n}")).unwrap_or_default();
            y.push_str(&format!(
                "    - {}          # {count} trade(s){label}\n",
                quote(k)
            ));
        }
    }

    fn days(&self, y: &mut String) {
        let when: Vec<(u32, u32, u32)> = self.seen.iter().filter_map(|s| s.when).collect();
        if when.is_empty() {
            return;
        }
        let wd = tally(when.iter().map(|w| WEEKDAYS[w.0 as usize]));
        let days: Vec<String> = when.iter().map(|w| w.1.to_string()).collect();
        let mut dom = tally(days.iter().map(String::as_str));
        dom.truncate(5);
        let hours: Vec<u32> = when.iter().map(|w| w.2).collect();
        let (lo, hi) = (
            hours.iter().min().copied().unwrap_or(0),
            hours.iter().max().copied().unwrap_or(0),
        );
        let times = |t: &[(String, usize)]| {
            t.iter()
                .map(|(v, n)| format!("{v}×{n}"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        y.push_str(&format!(
            "  # when: weekdays {}; days of the month {}; hours {lo:02}:00-{:02}:00 (the notices' own time zone)\n",
            times(&wd),
            times(&dom),
            hi + 1
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn civil_dates() {
        // 2026-11-24 (a Tuesday) 09:30 JST = 00:30 UTC.
        assert_eq!(local_parts(1_795_480_200, 9 * 3600), Some((1, 24, 9)));
        assert_eq!(local_parts(0, 0), Some((3, 1, 0)));
    }

    #[test]
    fn proposes_what_the_notices_show() {
        let mut l = Learner::default();
        for _ in 0..12 {
            l.add(
                "sbi",
                &f(&[
                    ("stage", "executed"),
                    ("side", "buy"),
                    ("instrument", "eMAXIS Slim 全世界株式"),
                    ("account_type", "nisa_tsumitate"),
                    ("amount", "33,333"),
                ]),
                Some(1_795_480_200),
                Some(9 * 3600),
            );
        }
        l.add(
            "sbi",
            &f(&[("stage", "cancelled"), ("side", "sell")]),
            None,
            None,
        );
        let y = l.propose("2025-12-01");
        assert!(y.contains("sides: [buy]"), "{y}");
        assert!(y.contains("- 'eMAXIS Slim 全世界株式'"), "{y}");
        assert!(y.contains("account_types: [nisa_tsumitate]"), "{y}");
        assert!(y.contains("max_amount: 40000"), "{y}");
        assert!(y.contains("1 cancelled or expired"), "{y}");
        assert!(y.contains("# markets: none"), "{y}");
    }
}
