//! `brokerwatch alert-test`: one test alert through every configured sink, each sink's result.

use std::path::Path;

use super::Outcome;
use crate::alert::outbox::Sinks;
use crate::alert::sink::SINGLE_TARGET;
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
        title: cfg
            .language
            .pick("brokerwatch テスト通知", "brokerwatch test alert")
            .into(),
        body: cfg
            .language
            .pick(
                "このメッセージが読めていれば、brokerwatch からここへ通知が届きます。証券会社で何かが起きたわけではありません。",
                "If you can read this, brokerwatch can reach you here. Nothing happened at any broker.",
            )
            .into(),
        actionable: false,
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut results: Vec<(String, Result<Delivered, DeliveryError>)> = Vec::new();
    rt.block_on(async {
        // Clicks on a test toast have nothing to answer.
        let (tx, _rx) = tokio::sync::mpsc::channel(1);
        let (sinks, setup_error) = Sinks::from_config(&cfg, tx);
        if let Some(e) = setup_error {
            results.push(("telegram".into(), Err(DeliveryError::Config(e.to_string()))));
        }
        for sink in sinks.iter() {
            for target in sink.targets() {
                let name = match target.as_str() {
                    SINGLE_TARGET => sink.kind().to_string(),
                    t => format!("{} {t}", sink.kind()),
                };
                results.push((name, sink.deliver(&target, &msg).await));
            }
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
