//! The one interface every sink implements: its kind, its targets, one delivery to one target,
//! and a health check. The outbox, `alert-test` and `doctor` work through it, so a new sink is
//! an implementation of [`Sink`] plus its config, never a new branch in each of them.

use std::time::Duration;

use futures::future::BoxFuture;

use super::command::CommandSink;
use super::console::ConsoleSink;
use super::desktop::DesktopSink;
use super::telegram::TelegramSink;
use super::{AlertMessage, Delivered, DeliveryError};
use crate::config::SinkKind;
use crate::event::Severity;
use crate::store::Store;

/// The target of a sink that has a single one (console, desktop, command).
pub const SINGLE_TARGET: &str = "-";

/// A way to reach a person (or a log, or a script).
pub trait Sink: Send + Sync {
    fn kind(&self) -> SinkKind;

    /// Where alerts go: chat ids, user ids, topics; `["-"]` for a sink with a single target.
    /// These are the `target` of the delivery rows.
    fn targets(&self) -> Vec<String> {
        vec![SINGLE_TARGET.to_string()]
    }

    /// Delivers one alert to one target. No retry inside: the outbox owns retries and backoff.
    fn deliver<'a>(
        &'a self,
        target: &'a str,
        msg: &'a AlertMessage,
    ) -> BoxFuture<'a, Result<Delivered, DeliveryError>>;

    /// Whether the sink can work now (the API answers, the bus has a notification server);
    /// `Ok` with a line for `doctor`. Sends nothing to a person.
    fn check(&self) -> BoxFuture<'_, Result<String, DeliveryError>> {
        Box::pin(async { Ok("nothing to check".to_string()) })
    }

    /// Gives the sink the store, for what it keeps between deliveries (LINE's monthly count,
    /// Pushover's receipts). Called once by the outbox; a sink without it still delivers.
    fn attach(&self, _store: &Store) {}

    /// Whether a delivery of this severity and round may spend the sink's message budget;
    /// `Err(why)` sends the alert to the next sink of its severity instead.
    fn admit(&self, _severity: Severity, _round: i64) -> Result<(), String> {
        Ok(())
    }

    /// Work between deliveries (asking Pushover who acknowledged); returns when to come back,
    /// `None` when the sink has no such work.
    fn poll(&self) -> BoxFuture<'_, Option<Duration>> {
        Box::pin(async { None })
    }
}

impl Sink for ConsoleSink {
    fn kind(&self) -> SinkKind {
        SinkKind::Console
    }

    fn deliver<'a>(
        &'a self,
        _target: &'a str,
        msg: &'a AlertMessage,
    ) -> BoxFuture<'a, Result<Delivered, DeliveryError>> {
        Box::pin(async move { ConsoleSink::deliver(self, msg) })
    }
}

impl Sink for DesktopSink {
    fn kind(&self) -> SinkKind {
        SinkKind::Desktop
    }

    fn deliver<'a>(
        &'a self,
        _target: &'a str,
        msg: &'a AlertMessage,
    ) -> BoxFuture<'a, Result<Delivered, DeliveryError>> {
        Box::pin(DesktopSink::deliver(self, msg))
    }
}

impl Sink for CommandSink {
    fn kind(&self) -> SinkKind {
        SinkKind::Command
    }

    fn deliver<'a>(
        &'a self,
        _target: &'a str,
        msg: &'a AlertMessage,
    ) -> BoxFuture<'a, Result<Delivered, DeliveryError>> {
        Box::pin(CommandSink::deliver(self, msg))
    }
}

impl Sink for TelegramSink {
    fn kind(&self) -> SinkKind {
        SinkKind::Telegram
    }

    fn targets(&self) -> Vec<String> {
        self.chats().iter().map(i64::to_string).collect()
    }

    fn deliver<'a>(
        &'a self,
        target: &'a str,
        msg: &'a AlertMessage,
    ) -> BoxFuture<'a, Result<Delivered, DeliveryError>> {
        Box::pin(async move {
            let chat: i64 = target
                .parse()
                .map_err(|_| DeliveryError::Config(format!("bad chat id `{target}`")))?;
            self.deliver_to(chat, msg).await
        })
    }

    fn check(&self) -> BoxFuture<'_, Result<String, DeliveryError>> {
        Box::pin(async move {
            let me = self.get_me().await?;
            Ok(format!("bot @{} answers", me.username))
        })
    }
}
