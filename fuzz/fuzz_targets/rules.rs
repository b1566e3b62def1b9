//! Arbitrary text as a rule pack: `load_texts` must return a rule set or problems, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    let _ = brokerwatch::rules::load_texts(&[("fuzz.yaml".into(), text)]);
});
