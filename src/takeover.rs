//! Account-takeover correlation: the SBI 2020 attacks were a chain — login, e-mail or payout
//! account changed, withdrawal. Two or more unexpected security steps at one broker within the
//! window make one critical "possible account takeover" alert listing the steps in order.

use crate::alert::compose::{playbook, route};
use crate::config::{Config, SinkKind};
use crate::event::{EventKind, Severity};
use crate::rules::Pack;
use crate::store::{NewAlert, NewDelivery, Store, StoreError, now};
use crate::text::defang_all;

/// Checks the broker's recent steps after an unexpected security notice was recorded; returns
/// the takeover alert to write, if this is the first time the chain crosses the threshold.
pub fn check(
    store: &Store,
    config: &Config,
    pack: &Pack,
    deliveries: impl Fn(&[SinkKind]) -> Vec<NewDelivery>,
) -> Result<Option<NewAlert>, StoreError> {
    let since = now() - config.takeover_window.as_secs() as i64;
    let steps = store.security_steps(&pack.id, since)?;
    if steps.len() < 2 || store.takeover_alerted(&pack.id, since)? {
        return Ok(None);
    }
    let mut body = format!(
        "{} sent {} unexpected security notices within {} days. Together they look like someone else is taking over the account:",
        pack.name,
        steps.len(),
        config.takeover_window.as_secs() / 86_400
    );
    for (i, (at, event, fields)) in steps.iter().enumerate() {
        let what = event
            .parse::<EventKind>()
            .map(|e| e.describe())
            .unwrap_or("notice");
        let details = if fields == "{}" || fields.is_empty() {
            String::new()
        } else {
            format!(" {fields}")
        };
        body.push_str(&format!("\n{}. {} ({}){}", i + 1, what, ago(*at), details));
    }
    body.push_str("\n\nIf these were not all you, act now — do not use any link in the mails.");
    body.push_str(&playbook(pack));
    let (sinks, repeat) = route(config, Severity::Critical);
    let repeat_to: Vec<NewDelivery> = deliveries(&sinks)
        .into_iter()
        .filter(|d| d.sink != "console")
        .collect();
    Ok(Some(NewAlert {
        kind: "takeover".into(),
        severity: Severity::Critical.as_str().into(),
        broker: Some(pack.id.clone()),
        event: None,
        title: format!("Possible account takeover at {}", pack.name),
        body: defang_all(&body),
        actionable: true,
        repeat_secs: repeat.map(|r| r.as_secs() as i64),
        deliveries: deliveries(&sinks),
        repeat_to: if repeat.is_some() {
            repeat_to
        } else {
            Vec::new()
        },
    }))
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
