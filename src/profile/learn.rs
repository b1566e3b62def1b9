//! Learning a trading profile from the investor's own past trade mails (`brokerwatch profile`):
//! which sides, markets, instruments and account types, how large, on which days — proposed as
//! YAML to paste, with the counts it is based on, so the user can see what it will allow.

use std::collections::BTreeMap;

use super::trade_amount;
use crate::alert::language::Language;

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

fn counts(t: &[(String, usize)], lang: Language) -> String {
    t.iter()
        .map(|(v, n)| match lang {
            Language::Ja => format!("{v} {n}件"),
            Language::En => format!("{v} {n}"),
        })
        .collect::<Vec<_>>()
        .join(lang.pick("、", ", "))
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
const WEEKDAYS_JA: [&str; 7] = ["月", "火", "水", "木", "金", "土", "日"];

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

    /// The proposal as YAML to paste under the config's top level, its comments in `lang`
    /// (the keys and values are the config's own).
    pub fn propose(&self, since_text: &str, lang: Language) -> String {
        let mut y = self.heading(since_text, lang);
        y.push_str("trading_profile:\n");
        self.list(&mut y, "sides", &self.field("side"), lang);
        self.list(&mut y, "markets", &self.field("market"), lang);
        self.instruments(&mut y, lang);
        self.list(&mut y, "account_types", &self.field("account_type"), lang);
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
            y.push_str(&match lang {
                Language::Ja => format!(
                    "  max_amount: {limit}          # 最大 {max}（金額の記載がある {}件のうち）の 2割増し\n",
                    amounts.len()
                ),
                Language::En => format!(
                    "  max_amount: {limit}          # largest seen {max} (of {} with an amount), +20 %\n",
                    amounts.len()
                ),
            });
        }
        self.days(&mut y, lang);
        y
    }

    /// The comment lines above the proposal: what it is based on and what to do with it.
    fn heading(&self, since_text: &str, lang: Language) -> String {
        let (n, skipped) = (self.seen.len(), self.skipped);
        let brokers = tally(self.seen.iter().map(|s| s.broker.as_str()));
        match lang {
            Language::Ja => format!(
                "# `brokerwatch profile` が {since_text} 以降の取引通知 {n}件から作成した取引プロフィールの案です{}。\n\
                 # 設定ファイルに貼り付けて、必要に応じて編集してください。ここから外れる取引があるとアラートでお知らせします。\n\
                 # 省略した項目は、どの値も許可します。\n\
                 # 証券会社ごとの取引件数: {}\n",
                if skipped > 0 {
                    format!("（取消・失効した注文 {skipped}件は除いています）")
                } else {
                    String::new()
                },
                counts(&brokers, lang)
            ),
            Language::En => format!(
                "# Proposed by `brokerwatch profile` from {n} trade notice(s) since {since_text}{}.\n\
                 # Paste it into your config and edit: a trade outside it raises an alert; a list you\n\
                 # leave out allows anything.\n\
                 # trades seen per broker: {}\n",
                if skipped > 0 {
                    format!(" ({skipped} cancelled or expired orders left out)")
                } else {
                    String::new()
                },
                counts(&brokers, lang)
            ),
        }
    }

    fn list(&self, y: &mut String, key: &str, t: &[(String, usize)], lang: Language) {
        let unstated = self.seen.len() - t.iter().map(|(_, c)| c).sum::<usize>();
        let note = match (unstated, lang) {
            (0, _) => String::new(),
            (_, Language::Ja) => format!("、記載なし {unstated}件"),
            (_, Language::En) => format!("; {unstated} not stated"),
        };
        if t.is_empty() {
            y.push_str(&match lang {
                Language::Ja => format!("  # {key}: どの通知にも記載がありませんでした\n"),
                Language::En => format!("  # {key}: none of the notices stated it\n"),
            });
            return;
        }
        let vals: Vec<&str> = t.iter().map(|(v, _)| v.as_str()).collect();
        y.push_str(&format!(
            "  {key}: [{}]          # {}{note}\n",
            vals.join(", "),
            counts(t, lang)
        ));
    }

    fn instruments(&self, y: &mut String, lang: Language) {
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
            y.push_str(lang.pick(
                "  # instruments: どの通知にも銘柄の記載がありませんでした\n",
                "  # instruments: none of the notices named one\n",
            ));
            return;
        }
        y.push_str(&match lang {
            Language::Ja => format!("  instruments:          # {}銘柄\n", t.len()),
            Language::En => format!("  instruments:          # {} instrument(s)\n", t.len()),
        });
        for (k, count) in &t {
            let name = keys
                .iter()
                .find(|(key, n)| key == k && n.is_some())
                .and_then(|(_, n)| n.clone());
            let label = name.map(|n| format!(" {n}")).unwrap_or_default();
            y.push_str(&match lang {
                Language::Ja => format!("    - {}          # {count}件{label}\n", quote(k)),
                Language::En => format!("    - {}          # {count} trade(s){label}\n", quote(k)),
            });
        }
    }

    fn days(&self, y: &mut String, lang: Language) {
        let when: Vec<(u32, u32, u32)> = self.seen.iter().filter_map(|s| s.when).collect();
        if when.is_empty() {
            return;
        }
        let weekdays = match lang {
            Language::Ja => WEEKDAYS_JA,
            Language::En => WEEKDAYS,
        };
        let wd = tally(when.iter().map(|w| weekdays[w.0 as usize]));
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
        y.push_str(&match lang {
            Language::Ja => format!(
                "  # 取引の時期: 曜日 {}／日付 {}／時間帯 {lo:02}:00〜{:02}:00（通知に記載の時間帯による）\n",
                times(&wd),
                times(&dom),
                hi + 1
            ),
            Language::En => format!(
                "  # when: weekdays {}; days of the month {}; hours {lo:02}:00-{:02}:00 (the notices' own time zone)\n",
                times(&wd),
                times(&dom),
                hi + 1
            ),
        });
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
        let y = l.propose("2025-12-01", Language::En);
        assert!(y.contains("sides: [buy]"), "{y}");
        assert!(y.contains("- 'eMAXIS Slim 全世界株式'"), "{y}");
        assert!(y.contains("account_types: [nisa_tsumitate]"), "{y}");
        assert!(y.contains("max_amount: 40000"), "{y}");
        assert!(y.contains("1 cancelled or expired"), "{y}");
        assert!(y.contains("# markets: none"), "{y}");
    }

    #[test]
    fn the_proposal_speaks_the_configs_language_and_keeps_the_configs_keys() {
        let mut l = Learner::default();
        l.add(
            "sbi",
            &f(&[("side", "buy"), ("code", "7203"), ("amount", "100,000")]),
            Some(1_795_480_200),
            Some(9 * 3600),
        );
        let (ja, en) = (
            l.propose("2025-12-01", Language::Ja),
            l.propose("2025-12-01", Language::En),
        );
        let keys = |y: &str| -> Vec<String> {
            y.lines()
                .filter(|l| !l.trim_start().starts_with('#'))
                .map(|l| l.split('#').next().unwrap_or("").trim_end().to_string())
                .collect()
        };
        assert_eq!(keys(&ja), keys(&en), "the YAML itself is the same");
        assert!(ja.contains("取引通知 1件"), "{ja}");
        assert!(ja.contains("曜日 火×1"), "{ja}");
        assert!(en.contains("from 1 trade notice(s)"), "{en}");
        assert!(en.contains("weekdays Tue×1"), "{en}");
    }
}
