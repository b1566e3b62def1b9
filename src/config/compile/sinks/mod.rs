//! `sinks:`: where alerts go. The sinks with few settings are compiled here; LINE and Pushover,
//! with ids and service limits to check, have a file each.

mod line;
mod pushover;

use std::path::Path;

use crate::config::raw::{self, RawSinks, Scalar};
use crate::config::values::secret;
use crate::config::*;
use crate::yaml::{At, Collector};

pub(super) fn sinks(c: &mut Collector, s: RawSinks, base: &Path) -> Sinks {
    let desktop = match s.desktop {
        Some(d) if d.enabled == Some(false) => None,
        d => Some(DesktopConfig {
            app_name: d
                .and_then(|d| d.app_name)
                .unwrap_or_else(|| "brokerwatch".into()),
        }),
    };
    let telegram = s.telegram.and_then(|t| telegram(c, t, base));
    let ntfy = s.ntfy.and_then(|n| ntfy(c, n, base));
    let webhook = s.webhook.and_then(|w| {
        if let Err(e) = reqwest::Url::parse(&w.url.value) {
            c.error(w.url.loc, format!("`{}` is not a URL: {e}", w.url.value));
        }
        Some(WebhookConfig {
            secret: secret(c, &w.secret, base)?,
            url: w.url.value,
        })
    });
    Sinks {
        ntfy,
        webhook,
        line: s.line.and_then(|l| line::line(c, l, base)),
        pushover: s.pushover.and_then(|p| pushover::pushover(c, p, base)),
        console: s.console.unwrap_or(true),
        desktop,
        telegram,
        command: s.command.map(|cmd| CommandConfig {
            program: cmd.program,
            args: cmd.args,
        }),
    }
}

fn ntfy(c: &mut Collector, n: raw::RawNtfy, base: &Path) -> Option<NtfyConfig> {
    if let Err(e) = reqwest::Url::parse(&n.url.value) {
        c.error(n.url.loc, format!("`{}` is not a URL: {e}", n.url.value));
    }
    if let Some(topic) = &n.topic {
        let written = Scalar::Text(topic.value.clone());
        if let Err(e) = crate::config::recipients::channel_target(SinkKind::Ntfy, &written) {
            c.error(topic.loc, e);
        }
    }
    let token = match &n.token {
        Some(t) => Some(secret(c, t, base)?),
        None => None,
    };
    Some(NtfyConfig {
        url: n.url.value.trim_end_matches('/').to_string(),
        topic: n.topic.map(|t| t.value).unwrap_or_default(),
        token,
        tags: n.tags,
    })
}

fn telegram(c: &mut Collector, t: raw::RawTelegram, base: &Path) -> Option<TelegramConfig> {
    if let Some(url) = &t.api_url
        && !(url.value.starts_with("https://") || url.value.starts_with("http://"))
    {
        c.error(
            url.loc,
            format!("`api_url` must be an http(s) URL, not `{}`", url.value),
        );
    }
    Some(TelegramConfig {
        token: secret(c, &t.token, base)?,
        // Recipients' chats are added, and an empty list refused, once recipients are read.
        chat_ids: t.chat_ids,
        api_url: t.api_url.map(|u| u.value),
        format: t.format.unwrap_or(TelegramFormat::Plain),
        commands: t.commands.unwrap_or(true),
    })
}

/// An `api_url` as written (tests point sinks at a fake on 127.0.0.1), or the service's own.
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
