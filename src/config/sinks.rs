//! Compiling the `line:` and `pushover:` sink sections: ids and limits checked here, secrets
//! resolved later (by the sink), durations within what the service accepts.

use std::time::Duration;

use super::raw::{RawLine, RawPushover, RawSecret};
use super::{LineConfig, PushoverConfig, PushoverUser};
use crate::config::secret::SecretSource;
use crate::units::parse_duration;
use crate::yaml::{At, Collector};

/// LINE's free (communication) plan: 200 messages a month, no overage.
pub const LINE_MONTHLY_LIMIT: u32 = 200;
pub const LINE_API: &str = "https://api.line.me";
pub const PUSHOVER_API: &str = "https://api.pushover.net";
/// Pushover's emergency `retry` floor and `expire` ceiling.
const PUSHOVER_MIN_RETRY: Duration = Duration::from_secs(30);
const PUSHOVER_MAX_EXPIRE: Duration = Duration::from_secs(10_800);
/// Pushover asks receipts to be polled no more than once every 5 seconds.
const PUSHOVER_MIN_POLL: Duration = Duration::from_secs(5);

type SecretFn<'a> = &'a dyn Fn(&mut Collector, &At<RawSecret>) -> Option<SecretSource>;

/// `U`, `C` or `R` (user, group, room) and 32 lowercase hex digits, as webhook events carry them.
fn is_line_id(id: &str) -> bool {
    let mut chars = id.chars();
    matches!(chars.next(), Some('U' | 'C' | 'R'))
        && id.len() == 33
        && chars.all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
}

fn api_url(c: &mut Collector, url: Option<At<String>>, default: &str) -> String {
    match url {
        None => default.to_string(),
        Some(u) => {
            if !(u.value.starts_with("https://") || u.value.starts_with("http://"))
                || reqwest::Url::parse(&u.value).is_err()
            {
                c.error(
                    u.loc,
                    format!("`api_url` must be an http(s) URL, not `{}`", u.value),
                );
            }
            u.value.trim_end_matches('/').to_string()
        }
    }
}

fn duration_or(c: &mut Collector, v: Option<&At<String>>, default: Duration) -> Duration {
    let Some(v) = v else { return default };
    parse_duration(&v.value).unwrap_or_else(|e| {
        c.error(v.loc, e);
        default
    })
}

pub(super) fn line(
    c: &mut Collector,
    l: RawLine,
    secret: impl Fn(&mut Collector, &At<RawSecret>) -> Option<SecretSource>,
) -> Option<LineConfig> {
    if l.to.value.is_empty() {
        c.error(
            l.to.loc,
            "`to` must list at least one LINE user id (`U…`) or group id (`C…`)",
        );
    }
    for id in &l.to.value {
        if !is_line_id(&id.value) {
            c.error(
                id.loc,
                format!(
                    "`{}` is not a LINE user or group id (`U` or `C` and 32 hex digits, e.g. the \
                     `source.userId` of a webhook event; not the @ basic id)",
                    id.value
                ),
            );
        }
    }
    let monthly_limit = match l.monthly_limit {
        Some(m) if m.value == 0 => {
            c.error(m.loc, "`monthly_limit` must be at least 1");
            LINE_MONTHLY_LIMIT
        }
        Some(m) => m.value,
        None => LINE_MONTHLY_LIMIT,
    };
    let api_url = api_url(c, l.api_url, LINE_API);
    Some(LineConfig {
        token: secret(c, &l.channel_access_token)?,
        to: l.to.value.into_iter().map(|i| i.value).collect(),
        monthly_limit,
        api_url,
    })
}

pub(super) fn pushover(
    c: &mut Collector,
    p: RawPushover,
    secret: impl Fn(&mut Collector, &At<RawSecret>) -> Option<SecretSource>,
) -> Option<PushoverConfig> {
    let secret: SecretFn = &secret;
    if p.users.value.is_empty() {
        c.error(p.users.loc, "`users` must list at least one `{key, name}`");
    }
    let mut users = Vec::new();
    for u in &p.users.value {
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
        if let Some(key) = secret(c, &u.key) {
            users.push(PushoverUser {
                key,
                name: name.to_string(),
            });
        }
    }
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
    let api_url = api_url(c, p.api_url, PUSHOVER_API);
    Some(PushoverConfig {
        token: secret(c, &p.token)?,
        users,
        retry,
        expire,
        receipt_poll,
        api_url,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_ids_are_u_or_c_and_32_hex_digits() {
        assert!(is_line_id("U4af4980629a0b1c2d3e4f5a6b7c8d9e0"));
        assert!(is_line_id("Ca56f94637cc4347f90a25382909b24b9"));
        assert!(!is_line_id("@brokerwatch"));
        assert!(!is_line_id("U4AF4980629A0B1C2D3E4F5A6B7C8D9E0"));
        assert!(!is_line_id("U4af498"));
    }
}
