//! A rule pattern's regex, compiled when it is first used.
//!
//! The shipped packs hold about 600 patterns; compiled at start they were most of the daemon's
//! idle heap (≈ 17 MB) and of its start-up time (≈ 100 ms), while a mailbox gets mail from one or
//! two brokers and most rules never run. Shipped patterns are therefore compiled on first use
//! (every one of them is compiled and checked by a unit test, so first use cannot fail); a user's
//! own patterns are compiled when loaded, so their errors are reported with `file:line:col`.

use std::fmt;
use std::ops::Deref;
use std::sync::OnceLock;

use regex::{Regex, RegexBuilder};

/// The regex of one pattern (already normalised like the text it runs on).
#[derive(Clone)]
pub struct LazyRegex {
    src: String,
    re: OnceLock<Regex>,
}

/// How every pattern is built: case-insensitive, and bounded in size.
pub fn build(src: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(src)
        .case_insensitive(true)
        .size_limit(1 << 22)
        .build()
}

impl LazyRegex {
    /// Compiled now.
    pub fn compiled(re: Regex) -> Self {
        let src = re.as_str().to_string();
        LazyRegex {
            src,
            re: OnceLock::from(re),
        }
    }

    /// Compiled on first use; `src` must be known to compile (shipped and tested).
    pub fn deferred(src: String) -> Self {
        LazyRegex {
            src,
            re: OnceLock::new(),
        }
    }

    /// Has it been compiled yet?
    pub fn is_compiled(&self) -> bool {
        self.re.get().is_some()
    }
}

impl Deref for LazyRegex {
    type Target = Regex;

    fn deref(&self) -> &Regex {
        self.re.get_or_init(|| {
            build(&self.src).unwrap_or_else(|e| {
                // Unreachable for the shipped packs: `compile::tests` compiles every one of them.
                panic!("shipped rule pattern `{}` does not compile: {e}", self.src)
            })
        })
    }
}

impl fmt::Debug for LazyRegex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("LazyRegex").field(&self.src).finish()
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
        let eager = LazyRegex::compiled(build("出金|withdraw").unwrap());
        assert!(eager.is_compiled());
        assert_eq!(lazy.as_str(), eager.as_str());
        assert_eq!(lazy.find("ご出金").map(|m| m.start()), Some(3));
    }
}
