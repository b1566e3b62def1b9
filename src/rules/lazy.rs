//! A rule pattern's regex, compiled when it is first used.
//!
//! The shipped packs hold about 600 patterns; compiled at start they were most of the daemon's
//! idle heap (≈ 17 MB) and of its start-up time (≈ 100 ms), while a mailbox gets mail from one or
//! two brokers and most rules never run. Shipped patterns are therefore compiled on first use
//! (every one of them is compiled and checked by a unit test, so first use cannot fail); a user's
//! own patterns are compiled when loaded, so their errors are reported with `file:line:col`.
//!
//! The same pattern is written many times over (the packs share wording and field patterns: 3,598
//! patterns, 746 distinct): within one load, identical sources share one regex (`interning`).

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::ops::Deref;
use std::sync::{Arc, OnceLock};

use regex::{Regex, RegexBuilder};

/// The regex of one pattern, as written in its file; it is normalised like the text it runs on
/// (`text::normalize`) when compiled. Clones and identical patterns of one load share it.
#[derive(Clone)]
pub struct LazyRegex(Arc<Inner>);

struct Inner {
    /// As written: normalising waits for the first use too (most shipped patterns never run).
    src: String,
    re: OnceLock<Regex>,
}

/// A pattern as written, normalised like the text it runs on (a full-width `：` written in a pack
/// still matches the `:` the text turns into), then built as every pattern is.
fn build_written(src: &str) -> Result<Regex, regex::Error> {
    build(&crate::text::normalize(src))
}

/// How every pattern is built: case-insensitive, and bounded in size.
pub fn build(src: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(src)
        .case_insensitive(true)
        .size_limit(1 << 22)
        .build()
}

thread_local! {
    /// The patterns of the load in progress on this thread, by source.
    static INTERNED: RefCell<Option<HashMap<String, Arc<Inner>>>> = const { RefCell::new(None) };
}

/// While the guard lives, patterns created on this thread with the same source share one regex.
pub struct Interning(());

/// Starts sharing identical patterns for one load (rule sets loaded apart share nothing).
pub fn interning() -> Interning {
    INTERNED.set(Some(HashMap::new()));
    Interning(())
}

impl Drop for Interning {
    fn drop(&mut self) {
        INTERNED.set(None);
    }
}

fn intern(src: String) -> Arc<Inner> {
    let fresh = |src| {
        Arc::new(Inner {
            src,
            re: OnceLock::new(),
        })
    };
    INTERNED.with_borrow_mut(|map| match map {
        Some(map) => map
            .entry(src)
            .or_insert_with_key(|src| fresh(src.clone()))
            .clone(),
        None => fresh(src),
    })
}

impl LazyRegex {
    /// Compiled now (or already, by an identical pattern of this load).
    pub fn compile(src: String) -> Result<Self, regex::Error> {
        let inner = intern(src);
        if inner.re.get().is_none() {
            let re = build_written(&inner.src)?;
            // Set by this thread only (loads are single-threaded): it cannot be set meanwhile.
            let _ = inner.re.set(re);
        }
        Ok(LazyRegex(inner))
    }

    /// Compiled on first use; `src` must be known to compile (shipped and tested).
    pub fn deferred(src: String) -> Self {
        LazyRegex(intern(src))
    }

    /// Has it been compiled yet?
    pub fn is_compiled(&self) -> bool {
        self.0.re.get().is_some()
    }

    /// Do the two share one regex?
    pub fn shares(&self, other: &LazyRegex) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Deref for LazyRegex {
    type Target = Regex;

    fn deref(&self) -> &Regex {
        self.0.re.get_or_init(|| {
            build_written(&self.0.src).unwrap_or_else(|e| {
                // Unreachable for the shipped packs: `compile::tests` compiles every one of them.
                panic!(
                    "shipped rule pattern `{}` does not compile: {e}",
                    self.0.src
                )
            })
        })
    }
}

impl fmt::Debug for LazyRegex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("LazyRegex").field(&self.0.src).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiles_on_first_use_and_matches_like_the_eager_one() {
        let lazy = LazyRegex::deferred("出金|withdraw".into());
        assert!(!lazy.is_compiled());
        assert!(lazy.is_match("WITHDRAWAL"));
        assert!(lazy.is_compiled());
        let eager = LazyRegex::compile("出金|withdraw".into()).unwrap();
        assert!(eager.is_compiled());
        assert_eq!(lazy.as_str(), eager.as_str());
        assert_eq!(lazy.find("ご出金").map(|m| m.start()), Some(3));
        assert!(LazyRegex::compile("(unclosed".into()).is_err());
    }

    #[test]
    fn a_pattern_is_normalised_when_compiled_like_the_text() {
        // Full-width colon and digits as a pack may write them; the text is NFKC, so ASCII.
        for re in [
            LazyRegex::deferred("出金：１万円".into()),
            LazyRegex::compile("出金：１万円".into()).unwrap(),
        ] {
            assert!(re.is_match("ご出金:1万円"));
            assert_eq!(re.as_str(), "出金:1万円");
        }
    }

    #[test]
    fn identical_patterns_of_one_load_share_one_regex() {
        let apart = (
            LazyRegex::deferred("ログイン".into()),
            LazyRegex::deferred("ログイン".into()),
        );
        assert!(!apart.0.shares(&apart.1));
        let guard = interning();
        let a = LazyRegex::deferred("ログイン".into());
        let b = LazyRegex::deferred("ログイン".into());
        let c = LazyRegex::deferred("パスワード".into());
        assert!(a.shares(&b) && !a.shares(&c));
        // A user's identical pattern is compiled at once, and the shipped one with it.
        let d = LazyRegex::compile("ログイン".into()).unwrap();
        assert!(d.shares(&a) && a.is_compiled() && !c.is_compiled());
        drop(guard);
        assert!(!LazyRegex::deferred("ログイン".into()).shares(&a));
    }
}
