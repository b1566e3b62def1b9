//! Second-order checks: what one mail cannot show. A chain of unexpected steps at one broker
//! (takeover), a notice deleted or read by someone else (tamper), a broker gone quiet or the
//! heartbeat (liveness), a mailbox that cannot be watched (health), and the status report.

pub mod health;
pub mod liveness;
pub mod status;
pub mod takeover;
pub mod tamper;
