//! The console sink: one block per alert on stdout (the journal, when run by systemd).

use std::io::Write;

use super::{AlertMessage, Delivered, DeliveryError};

/// Writes alerts to stdout.
#[derive(Debug, Default, Clone)]
pub struct ConsoleSink;

impl ConsoleSink {
    pub fn deliver(&self, msg: &AlertMessage) -> Result<Delivered, DeliveryError> {
        let mut out = std::io::stdout().lock();
        let text = format!(
            "[{}] #{} {}\n{}\n",
            msg.severity.as_str().to_uppercase(),
            msg.id,
            msg.title,
            indent(&msg.body)
        );
        out.write_all(text.as_bytes())
            .and_then(|_| out.flush())
            .map_err(|e| DeliveryError::Retry {
                reason: format!("stdout: {e}"),
                after: None,
            })?;
        Ok(Delivered::default())
    }
}

fn indent(s: &str) -> String {
    s.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
