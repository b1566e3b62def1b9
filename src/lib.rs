//! brokerwatch: watches a mailbox for broker notices about money or account control moving,
//! tells genuine notices from phishing copies, and escalates the unexpected ones until acknowledged.
//!
//! The pipeline, one direction: `source` → `mail` (parse) → `rules` (classify) → `assess`
//! (authentic, phishing, expected) → `store` (checkpoint + alert in one transaction) → `alert`.

pub mod alert;
pub mod assess;
pub mod authserv;
pub mod backoff;
pub mod cli;
pub mod config;
pub mod daemon;
pub mod event;
pub mod links;
pub mod logging;
pub mod mail;
pub mod pipeline;
pub mod profile;
pub mod rules;
pub mod secret;
pub mod source;
pub mod store;
pub mod text;
pub mod units;
pub mod watch;
pub mod yaml;
