//! `sinks: {line: …}`: the Messaging API channel's user and group ids and the monthly budget.

use std::path::Path;

use crate::config::LineConfig;
use crate::config::raw::RawLine;
use crate::config::values::secret;
use crate::yaml::Collector;

/// LINE's free (communication) plan: 200 messages a month, no overage.
pub const LINE_MONTHLY_LIMIT: u32 = 200;
pub const LINE_API: &str = "https://api.line.me";

/// `U`, `C` or `R` (user, group, room) and 32 lowercase hex digits, as webhook events carry them.
fn is_line_id(id: &str) -> bool {
    let mut chars = id.chars();
    matches!(chars.next(), Some('U' | 'C' | 'R'))
        && id.len() == 33
        && chars.all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
}

pub(super) fn line(c: &mut Collector, l: RawLine, base: &Path) -> Option<LineConfig> {
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
    let api_url = super::api_url(c, l.api_url, LINE_API);
    Some(LineConfig {
        token: secret(c, &l.channel_access_token, base)?,
        to: l.to.value.into_iter().map(|i| i.value).collect(),
        monthly_limit,
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
