//! Logs: to journald when systemd runs us (JOURNAL_STREAM is set), to stderr otherwise;
//! `RUST_LOG` filters (default `info`); `--log-format json` for machine-read stderr.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::prelude::*;

/// How stderr logs look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// Crates whose debug and trace output carries credentials (async-imap traces every command it
/// encodes, `LOGIN user password` included). Their debug/trace events are dropped whatever
/// `RUST_LOG` asks for.
const SEES_SECRETS: &[&str] = &["async_imap", "imap_proto"];

fn may_log(meta: &tracing::Metadata<'_>) -> bool {
    *meta.level() < tracing::Level::DEBUG
        || !SEES_SECRETS.iter().any(|c| {
            meta.target()
                .strip_prefix(c)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
        })
}

/// Installs the global subscriber. Safe to call once; later calls do nothing.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let registry = tracing_subscriber::registry()
        .with(filter)
        .with(tracing_subscriber::filter::filter_fn(may_log));
    if std::env::var_os("JOURNAL_STREAM").is_some()
        && let Ok(journald) = tracing_journald::layer()
    {
        let _ = registry.with(journald).try_init();
        return;
    }
    let _ = match format {
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_writer(std::io::stderr),
            )
            .try_init(),
        LogFormat::Text => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(std::io::stderr)
                    .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
                    .with_target(false),
            )
            .try_init(),
    };
}

#[cfg(test)]
mod tests {
    use tracing::Level;
    use tracing::callsite::DefaultCallsite;
    use tracing::field::FieldSet;
    use tracing::metadata::Kind;

    use super::may_log;

    fn meta(target: &'static str, level: Level) -> tracing::Metadata<'static> {
        static CALLSITE: DefaultCallsite = DefaultCallsite::new(&META);
        static META: tracing::Metadata<'static> = tracing::Metadata::new(
            "x",
            "x",
            Level::INFO,
            None,
            None,
            None,
            FieldSet::new(&[], tracing::callsite::Identifier(&CALLSITE)),
            Kind::EVENT,
        );
        tracing::Metadata::new(
            "event",
            target,
            level,
            None,
            None,
            None,
            FieldSet::new(&[], tracing::callsite::Identifier(&CALLSITE)),
            Kind::EVENT,
        )
    }

    #[test]
    fn credential_seeing_crates_never_log_below_info() {
        assert!(!may_log(&meta("async_imap::imap_stream", Level::TRACE)));
        assert!(!may_log(&meta("async_imap", Level::DEBUG)));
        assert!(may_log(&meta("async_imap::client", Level::WARN)));
        assert!(may_log(&meta("async_imapx", Level::TRACE)));
        assert!(may_log(&meta("brokerwatch::daemon", Level::TRACE)));
    }
}
