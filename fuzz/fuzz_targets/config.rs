//! Arbitrary text as a config file: `load_str` must return a config or problems, never panic.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = brokerwatch::config::load_str(&text, "fuzz.yaml", Path::new("/tmp"));
});
