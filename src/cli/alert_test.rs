//! `brokerwatch alert-test`: one test alert through every configured sink, each sink's result.

use std::path::Path;

use super::Outcome;
use crate::alert::command::CommandSink;
use crate::alert::desktop::DesktopSink;
use crate::alert::telegram::TelegramSink;
use crate::alert::{AlertKind, AlertMessage, Delivered, DeliveryError};
use crate::event::Severity;

pub fn run(cfg_path: Option<&Path>) -> anyhow::Result<Outcome> {
    let Some((cfg, _)) = super::load(cfg_path) else {
        return Ok(Outcome::Usage);
    };
    let msg = AlertMessage {
        id: 0,
        kind: AlertKind::Test,
        severity: Severity::Critical,
        title: "brokerwatch test alert".into(),
        body:
            "If you can read this, brokerwatch can reach you here. Nothing happened at any broker."
                .into(),
        actionable: false,
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut results: Vec<(String, Result<Delivered, DeliveryError>)> = Vec::new();
    rt.block_on(async {
        if cfg.sinks.console {
            results.push((
                "console".into(),
                crate::alert::console::ConsoleSink.deliver(&msg),
            ));
        }
        if let Some(d) = &cfg.sinks.desktop {
            results.push(("desktop".into(), DesktopSink::new(d).deliver(&msg).await));
        }
        if let Some(t) = &cfg.sinks.telegram {
            match TelegramSink::new(t) {
                Ok(sink) => {
                    for chat in sink.chats().to_vec() {
                        results.push((
                            format!("telegram chat {chat}"),
                            sink.deliver_to(chat, &msg).await,
                        ));
                    }
                }
                Err(e) => {
                    results.push(("telegram".into(), Err(DeliveryError::Config(e.to_string()))))
                }
            }
        }
        if let Some(c) = &cfg.sinks.command {
            results.push(("command".into(), CommandSink::new(c).deliver(&msg).await));
        }
    });
    let mut failed = 0;
    for (sink, r) in &results {
        match r {
            Ok(_) => println!("✔ {sink}: delivered"),
            Err(e) => {
                failed += 1;
                println!("✘ {sink}: {e}");
            }
        }
    }
    if results.is_empty() {
        anyhow::bail!("no sink is configured");
    }
    if failed > 0 {
        anyhow::bail!("{failed} of {} sink(s) failed", results.len());
    }
    Ok(Outcome::Ok)
}
