//! The sinks the configuration enables, by kind. A sink that cannot be built is left out and
//! said why; the rest work on.

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio::sync::mpsc;

use crate::alert::Response;
use crate::alert::command::CommandSink;
use crate::alert::console::ConsoleSink;
use crate::alert::desktop::DesktopSink;
use crate::alert::language::Language;
use crate::alert::line::LineSink;
use crate::alert::ntfy::NtfySink;
use crate::alert::pushover::PushoverSink;
use crate::alert::routes::Routes;
use crate::alert::sink::Sink;
use crate::alert::telegram::{TelegramSetupError, TelegramSink};
use crate::alert::webhook::WebhookSink;
use crate::config::{Config, SinkKind};

/// The configured sinks, by kind.
#[derive(Default)]
pub struct Sinks {
    by_kind: BTreeMap<SinkKind, Arc<dyn Sink>>,
    /// The Telegram sink once more, typed: it also reads commands and sends replies.
    pub telegram: Option<Arc<TelegramSink>>,
    /// The language of the texts the outbox adds when it has no configuration to tell a
    /// target's own (each recipient's language otherwise).
    pub language: Language,
    /// Where an alert goes when a sink's budget is spent.
    pub routes: Routes,
}

impl Sinks {
    /// The sinks the config enables. Desktop button clicks go to `desktop_responses`. A Telegram
    /// sink that cannot be built (unreadable token, bad URL) is left out and its error returned
    /// beside the rest, so each caller decides whether that is fatal.
    pub fn from_config(
        config: &Config,
        desktop_responses: mpsc::Sender<Response>,
    ) -> (Sinks, Option<TelegramSetupError>) {
        let mut sinks = Sinks {
            language: config.language,
            routes: Routes::from_config(config),
            ..Sinks::default()
        };
        let pushover_responses = desktop_responses.clone();
        if config.sinks.console {
            sinks.insert(Arc::new(ConsoleSink));
        }
        if let Some(d) = &config.sinks.desktop {
            sinks.insert(Arc::new(
                DesktopSink::new(d)
                    .with_language(config.language)
                    .with_responses(desktop_responses),
            ));
        }
        let error = sinks.add_telegram(config).err();
        if let Some(c) = &config.sinks.command {
            sinks.insert(Arc::new(CommandSink::new(c)));
        }
        sinks.add_with_secrets(config, pushover_responses);
        (sinks, error)
    }

    /// The Telegram sink, if configured; its error if it cannot be built.
    fn add_telegram(&mut self, config: &Config) -> Result<(), TelegramSetupError> {
        if let Some(t) = &config.sinks.telegram {
            let s = TelegramSink::new(t)?
                .with_names(crate::alert::recipients::telegram_names(config))
                .with_language(config.language);
            let s = Arc::new(s);
            self.telegram = Some(s.clone());
            self.insert(s);
        }
        Ok(())
    }

    /// The sinks that read a token or key when built (ntfy, webhook, LINE, Pushover). One that
    /// cannot is left out like an unavailable sink; `doctor` and `alert-test` say why.
    fn add_with_secrets(&mut self, config: &Config, pushover_responses: mpsc::Sender<Response>) {
        if let Some(n) = &config.sinks.ntfy {
            match NtfySink::new(n) {
                Ok(s) => self.insert(Arc::new(s.with_recipients(&config.recipients))),
                Err(e) => tracing::error!("ntfy sink left out: cannot read its token: {e}"),
            }
        }
        if let Some(w) = &config.sinks.webhook {
            match WebhookSink::new(w) {
                Ok(s) => self.insert(Arc::new(s)),
                Err(e) => tracing::error!("webhook sink left out: cannot read its secret: {e}"),
            }
        }
        if let Some(l) = &config.sinks.line {
            match LineSink::new(l) {
                Ok(s) => self.insert(Arc::new(s)),
                Err(e) => tracing::error!("line sink left out: cannot read its token: {e}"),
            }
        }
        if let Some(p) = &config.sinks.pushover {
            match PushoverSink::new(p) {
                Ok(s) => self.insert(Arc::new(s.with_responses(pushover_responses))),
                Err(e) => tracing::error!("pushover sink left out: cannot read a key: {e}"),
            }
        }
    }

    /// Adds (or replaces) the sink of its kind.
    pub fn insert(&mut self, sink: Arc<dyn Sink>) {
        self.by_kind.insert(sink.kind(), sink);
    }

    pub fn get(&self, kind: SinkKind) -> Option<&Arc<dyn Sink>> {
        self.by_kind.get(&kind)
    }

    /// Every configured sink, in kind order.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<dyn Sink>> {
        self.by_kind.values()
    }
}
