//! Test harnesses: real Dovecot, a real session bus with dunst, and a fake Telegram Bot API.
#![allow(dead_code)]

pub mod desktop;
pub mod dovecot;
pub mod fakebot;
