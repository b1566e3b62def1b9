//! `sinks: {pushover: …}`: the users an alert reaches, and the emergency-priority timings
//! within what Pushover accepts.

use std::path::Path;
use std::time::Duration;

use crate::config::raw::{RawPushover, RawPushoverUser};
use crate::config::values::secret;
use crate::config::{PushoverConfig, PushoverUser};
use crate::units::parse_duration;
use crate::yaml::{At, Collector};

pub const PUSHOVER_API: &str = "https://api.pushover.net";
/// Pushover's emergency `retry` floor and `expire` ceiling.
const PUSHOVER_MIN_RETRY: Duration = Duration::from_secs(30);
const PUSHOVER_MAX_EXPIRE: Duration = Duration::from_secs(10_800);
/// Pushover asks receipts to be polled no more than once every 5 seconds.
const PUSHOVER_MIN_POLL: Duration = Duration::from_secs(5);

fn duration_or(c: &mut Collector, v: Option<&At<String>>, default: Duration) -> Duration {
    let Some(v) = v else { return default };
    parse_duration(&v.value).unwrap_or_else(|e| {
        c.error(v.loc, e);
        default
    })
}

pub(super) fn pushover(c: &mut Collector, p: RawPushover, base: &Path) -> Option<PushoverConfig> {
    let users = users(c, &p.users, base);
    let (retry, expire, receipt_poll) = timings(c, &p);
    let api_url = super::api_url(c, p.api_url, PUSHOVER_API);
    Some(PushoverConfig {
        token: secret(c, &p.token, base)?,
        users,
        retry,
        expire,
        receipt_poll,
        api_url,
    })
}

/// Each user with a key and a name of their own: an acknowledgement is shown with the name.
fn users(c: &mut Collector, written: &At<Vec<RawPushoverUser>>, base: &Path) -> Vec<PushoverUser> {
    if written.value.is_empty() {
        c.error(written.loc, "`users` must list at least one `{key, name}`");
    }
    let mut users = Vec::new();
    for u in &written.value {
        let name = u.name.value.trim();
        if name.is_empty() || name == "-" {
            c.error(
                u.name.loc,
                "a Pushover user needs a `name` (shown with an acknowledgement)",
            );
        } else if users.iter().any(|x: &PushoverUser| x.name == name) {
            c.error(
                u.name.loc,
                format!("Pushover user name `{name}` is used twice"),
            );
        }
        if let Some(key) = secret(c, &u.key, base) {
            users.push(PushoverUser {
                key,
                name: name.to_string(),
            });
        }
    }
    users
}

/// `retry`, `expire` and `receipt_poll`, each within what Pushover itself accepts.
fn timings(c: &mut Collector, p: &RawPushover) -> (Duration, Duration, Duration) {
    let retry = duration_or(c, p.retry.as_ref(), Duration::from_secs(60));
    if let Some(at) = &p.retry
        && retry < PUSHOVER_MIN_RETRY
    {
        c.error(
            at.loc,
            "`retry` must be at least 30s (Pushover's own minimum)",
        );
    }
    let expire = duration_or(c, p.expire.as_ref(), PUSHOVER_MAX_EXPIRE);
    if let Some(at) = &p.expire
        && (expire > PUSHOVER_MAX_EXPIRE || expire < retry)
    {
        c.error(
            at.loc,
            "`expire` must be at most 3h (Pushover's own maximum) and at least `retry`",
        );
    }
    let receipt_poll = duration_or(c, p.receipt_poll.as_ref(), Duration::from_secs(30));
    if let Some(at) = &p.receipt_poll
        && receipt_poll < PUSHOVER_MIN_POLL
    {
        c.error(
            at.loc,
            "`receipt_poll` must be at least 5s (Pushover asks for no more than one poll every 5 seconds)",
        );
    }
    (retry, expire, receipt_poll)
}
