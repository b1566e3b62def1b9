//! brokerwatch: watches a mailbox for broker notices about money or account control moving,
//! tells genuine notices from phishing copies, and escalates the unexpected ones until acknowledged.
//!
//! The pipeline, one direction: `source` → `mail` (parse) → `rules` (classify) → `assess`
//! (authentic, phishing, expected) → `store` (checkpoint + alert in one transaction) → `alert`.

pub mod alert;
pub mod assess;
pub mod authserv;
pub mod authserv_auto;
pub mod backoff;
pub mod cli;
pub mod config;
pub mod daemon;
pub mod event;
pub mod health;
pub mod links;
pub mod live;
pub mod liveness;
pub mod logging;
pub mod mail;
pub mod pipeline;
pub mod process;
pub mod profile;
pub mod reload;
pub mod respond;
pub mod rules;
pub mod secret;
pub mod source;
pub mod status;
pub mod store;
pub mod takeover;
pub mod tamper;
pub mod text;
pub mod units;
pub mod yaml;
