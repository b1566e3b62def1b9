//! Account-takeover correlation: the SBI 2020 attacks were a chain — login, e-mail or payout
//! account changed, withdrawal. Two or more unexpected security steps at one broker within the
//! window make one critical "possible account takeover" alert listing the steps in order.

use crate::alert::AlertKind;
use crate::alert::compose::playbook;
use crate::alert::raise::Draft;
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
    let mut body = format!(
        "{} sent {} unexpected notices within {}. Together they look like {}:",
        pack.name,
        steps.len(),
        window_text(config.takeover_window),
        if traded {
            "someone else is trading in your account"
        } else {
            "someone else is taking over the account"
        }
    );
    for (i, (at, event, fields)) in steps.iter().enumerate() {
        let what = event
            .parse::<EventKind>()
            .map(|e| e.describe())
            .unwrap_or("notice");
        let details = readable(fields);
        body.push_str(&format!("\n{}. {} ({}){}", i + 1, what, ago(*at), details));
    }
    if traded {
        body.push_str("\n\nIf these were not all you: call the broker NOW and have the account locked (trading stopped) — do not use any link in the mails.");
    } else {
        body.push_str("\n\nIf these were not all you, act now — do not use any link in the mails.");
    }
    body.push_str(&playbook(pack));
    Ok(Some(Draft {
        kind: AlertKind::Takeover,
        severity: Severity::Critical,
        broker: Some(pack.id.clone()),
        event: None,
        title: if traded {
            format!(
                "{}: your account is being traded by someone else",
                pack.name
            )
        } else {
            format!("Possible account takeover at {}", pack.name)
        },
        body: defang_all(&body),
        actionable: true,
        only: None,
        account: None,
    }))
}

/// A step's fields as a person reads them: `side: sell, code: 7974, instrument: 任天堂`.
fn readable(fields: &str) -> String {
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
            map[k]
                .as_str()
                .map(|v| format!("{}: {v}", k.replace('_', " ")))
        })
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!(" — {}", parts.join(", "))
    }
}

/// A window as a person says it: "30 minutes", "6 hours", "7 days".
fn window_text(w: std::time::Duration) -> String {
    let s = w.as_secs();
    match s {
        s if s < 120 => format!("{s} seconds"),
        s if s < 2 * 3600 => format!("{} minutes", s / 60),
        s if s < 2 * 86_400 => format!("{} hours", s / 3600),
        s => format!("{} days", s / 86_400),
    }
}

fn ago(at: i64) -> String {
    let mins = (now() - at).max(0) / 60;
    match mins {
        0 => "just now".into(),
        m if m < 120 => format!("{m} min ago"),
        m if m < 48 * 60 => format!("{} h ago", m / 60),
        m => format!("{} days ago", m / 1440),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn steps_read_as_words_not_json() {
        assert_eq!(
            readable(r#"{"stage":"executed","code":"7974","side":"sell"}"#),
            " — side: sell, code: 7974, stage: executed"
        );
        assert_eq!(readable("{}"), "");
    }

    #[test]
    fn windows_under_a_day_read_in_hours_or_minutes() {
        assert_eq!(window_text(Duration::from_secs(1800)), "30 minutes");
        assert_eq!(window_text(Duration::from_secs(6 * 3600)), "6 hours");
        assert_eq!(window_text(Duration::from_secs(7 * 86_400)), "7 days");
    }
}
