//! The one integration test binary: each module tests one part against real components.

mod util;

mod cli;
mod daemon;
mod desktop;
mod golden;
mod imap;
mod migrate;
mod ops;
mod reload;
mod robust;
mod secrets;
mod storage;
mod telegram;
