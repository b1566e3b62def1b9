//! The one integration test binary: each module tests one part against real components.

mod util;

mod alert_text;
mod authserv;
mod cli;
mod crash;
mod daemon;
mod desktop;
mod faults;
mod golden;
mod imap;
mod line;
mod migrate;
mod newcomer;
mod ntfy;
mod oauth;
mod ops;
mod pushover;
mod recipients;
mod reload;
mod robust;
mod secrets;
mod storage;
mod telegram;
mod trades;
mod webhook;
