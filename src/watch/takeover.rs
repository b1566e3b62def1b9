//! Account-takeover correlation: the SBI 2020 attacks were a chain — login, e-mail or payout
//! account changed, withdrawal. Two or more unexpected security steps at one broker within the
//! window make one critical "possible account takeover" alert listing the steps in order.

use crate::alert::AlertKind;
use crate::alert::compose::{field_ja, label, playbook, value_ja};
use crate::alert::language::Language;
use crate::alert::raise::Draft;
use crate::alert::wording;
use crate::config::Config;
use crate::event::{EventKind, Severity};
use crate::rules::Pack;
use crate::store::{Store, StoreError, now};
use crate::text::defang_all;

/// Checks the broker's recent steps after an unexpected security notice was recorded; returns
/// the takeover alert to write, if this is the first time the chain crosses the threshold.
pub fn check(store: &Store, config: &Config, pack: &Pack) -> Result<Option<Draft>, StoreError> {
    if config.takeover_window.is_zero() {
        // `takeover_window: 0s` turns correlation off.
        return Ok(None);
    }
    let since = now() - config.takeover_window.as_secs() as i64;
    let steps = store.security_steps(&pack.id, since)?;
    if steps.len() < 2 || store.takeover_alerted(&pack.id, since)? {
        return Ok(None);
    }
    let traded = steps.iter().any(|(_, e, _)| e == "trade");
    let lang = config.language;
    let mut body = intro(pack, steps.len(), lang, config, traded);
    for (i, (at, event, fields)) in steps.iter().enumerate() {
        let what = event.parse::<EventKind>().map_or_else(
            |_| lang.pick("通知", "notice"),
            |e| match lang {
                Language::Ja => label(e, &pack.name, lang),
                Language::En => e.describe(),
            },
        );
        let details = readable(fields, lang);
        let ago = wording::ago(lang, (now() - at).max(0) / 60);
        body.push_str(&match lang {
            Language::Ja => format!("\n{}. {}（{}）{}", i + 1, what, ago, details),
            Language::En => format!("\n{}. {} ({}){}", i + 1, what, ago, details),
        });
    }
    body.push_str(advice(lang, traded));
    body.push_str(&playbook(pack, lang));
    Ok(Some(Draft {
        kind: AlertKind::Takeover,
        severity: Severity::Critical,
        broker: Some(pack.id.clone()),
        event: None,
        title: title(&pack.name, lang, traded),
        body: defang_all(&body),
        actionable: true,
        only: None,
        account: None,
    }))
}

/// The alert's first sentence: how many unexpected notices, within which window, and what they
/// look like together (trades by someone else are worse than a takeover attempt).
fn intro(pack: &Pack, steps: usize, lang: Language, config: &Config, traded: bool) -> String {
    let window = wording::window(lang, config.takeover_window);
    match lang {
        Language::Ja => format!(
            "{}から、予定にない通知が{}の間に{}件届きました。まとめて見ると、{}可能性があります:",
            pack.name,
            window,
            steps,
            if traded {
                "第三者があなたの口座で取引している"
            } else {
                "第三者が口座を乗っ取ろうとしている"
            }
        ),
        Language::En => format!(
            "{} sent {} unexpected notices within {}. Together they look like {}:",
            pack.name,
            steps,
            window,
            if traded {
                "someone else is trading in your account"
            } else {
                "someone else is taking over the account"
            }
        ),
    }
}

/// What to do now: with trades, have the account locked.
fn advice(lang: Language, traded: bool) -> &'static str {
    if traded {
        lang.pick(
            "\n\n心当たりのない取引があれば、今すぐ証券会社に電話して口座を凍結（取引停止）してもらってください。メール内のリンクは使わないでください。",
            "\n\nIf these were not all you: call the broker NOW and have the account locked (trading stopped) — do not use any link in the mails.",
        )
    } else {
        lang.pick(
            "\n\n心当たりのない操作があれば、今すぐ対応してください。メール内のリンクは使わないでください。",
            "\n\nIf these were not all you, act now — do not use any link in the mails.",
        )
    }
}

fn title(broker: &str, lang: Language, traded: bool) -> String {
    match (lang, traded) {
        (Language::Ja, true) => format!("{broker}: 第三者があなたの口座で取引しています"),
        (Language::Ja, false) => format!("{broker}: 口座乗っ取りの疑い"),
        (Language::En, true) => format!("{broker}: your account is being traded by someone else"),
        (Language::En, false) => format!("Possible account takeover at {broker}"),
    }
}

/// A step's fields as a person reads them: `side: sell, code: 7974, instrument: 任天堂`.
fn readable(fields: &str, lang: Language) -> String {
    let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(fields)
    else {
        return String::new();
    };
    // The trade facts in the order a person says them, then the rest.
    const FIRST: [&str; 8] = [
        "side",
        "code",
        "instrument",
        "market",
        "quantity",
        "price",
        "amount",
        "account_type",
    ];
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort_by_key(|k| FIRST.iter().position(|f| f == k).unwrap_or(FIRST.len()));
    let parts: Vec<String> = keys
        .into_iter()
        .filter_map(|k| {
            map[k].as_str().map(|v| match lang {
                Language::Ja => match field_ja(k) {
                    Some(name) => format!("{name}: {}", value_ja(k, v)),
                    None => format!("{k}: {v}"),
                },
                Language::En => format!("{}: {v}", k.replace('_', " ")),
            })
        })
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!(" — {}", parts.join(lang.pick("、", ", ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_read_as_words_not_json() {
        assert_eq!(
            readable(
                r#"{"stage":"executed","code":"7974","side":"sell"}"#,
                Language::En
            ),
            " — side: sell, code: 7974, stage: executed"
        );
        assert_eq!(readable("{}", Language::En), "");
        assert_eq!(
            readable(r#"{"code":"7974","side":"sell"}"#, Language::Ja),
            " — 売買: 売却、銘柄コード: 7974"
        );
    }
}
