//! brokerwatch: watches a mailbox for broker notices about money or account control moving,
//! tells genuine notices from phishing copies, and escalates the unexpected ones until acknowledged.
//!
//! The pipeline, one direction: `source` → `mail` (parse) → `rules` (classify) → `assess`
//! (authentic, phishing, expected) → `store` (checkpoint + alert in one transaction) → `alert`.
//! `pipeline` runs one mail through the pure stages for `test`, `scan` and the daemon alike.
//! `daemon` runs it all (the mail handler, live config, reload, answers from people); `watch`
//! holds the second-order checks (takeover, tamper, liveness, health, status); `config` loads
//! and checks what everything runs on; `cli` is the command line, and nothing imports it.
//! Loose beside them: the shared vocabulary (`event`), the trading `profile` that config and
//! assess share, and small shared helpers (`text`, `links`, `units`, `backoff`, `yaml`).

pub mod alert;
pub mod assess;
pub mod backoff;
pub mod cli;
pub mod config;
pub mod daemon;
pub mod domain;
pub mod event;
pub mod links;
pub mod mail;
pub mod pipeline;
pub mod profile;
pub mod rules;
pub mod source;
pub mod store;
pub mod text;
pub mod units;
pub mod watch;
pub mod yaml;
