//! The command sink: runs a program per alert with the alert as JSON on stdin (for pagers,
//! e-mail to a second address, home automation). Exit 0 = delivered.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::process::Command;

use super::{AlertMessage, Delivered, DeliveryError};
use crate::config::CommandConfig;

const TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone)]
pub struct CommandSink {
    cfg: CommandConfig,
}

impl CommandSink {
    pub fn new(cfg: &CommandConfig) -> Self {
        CommandSink { cfg: cfg.clone() }
    }

    pub async fn deliver(&self, msg: &AlertMessage) -> Result<Delivered, DeliveryError> {
        let payload = serde_json::json!({
            "id": msg.id,
            "kind": format!("{:?}", msg.kind).to_lowercase(),
            "severity": msg.severity.as_str(),
            "title": msg.title,
            "body": msg.body,
        })
        .to_string();
        let retry = |reason: String| DeliveryError::Retry {
            reason,
            after: None,
        };
        let mut child = Command::new(&self.cfg.program)
            .args(&self.cfg.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| {
                DeliveryError::Config(format!("cannot start `{}`: {e}", self.cfg.program))
            })?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin
                .write_all(payload.as_bytes())
                .await
                .map_err(|e| retry(format!("writing to `{}`: {e}", self.cfg.program)))?;
        }
        let status = tokio::time::timeout(TIMEOUT, child.wait())
            .await
            .map_err(|_| retry(format!("`{}` did not finish within 30s", self.cfg.program)))?
            .map_err(|e| retry(e.to_string()))?;
        if status.success() {
            Ok(Delivered::default())
        } else {
            Err(retry(format!(
                "`{}` exited with {status}",
                self.cfg.program
            )))
        }
    }
}
