//! Test harnesses: real Dovecot, a real session bus with dunst, and a fake Telegram Bot API.
#![allow(dead_code)]

pub mod desktop;
pub mod dovecot;
pub mod dovecot_oauth;
pub mod fakeauth;
pub mod fakebot;
pub mod fakehook;
pub mod fakeline;
pub mod fakentfy;
pub mod fakepushover;
pub mod httpfault;
pub mod proc;
pub mod wait;

use std::path::{Path, PathBuf};

/// tests/fixtures.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Every golden fixture mail (tests/fixtures/mail/*.eml), sorted.
pub fn fixture_mails() -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(fixtures().join("mail"))
        .expect("tests/fixtures/mail")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    paths.sort();
    paths
}
