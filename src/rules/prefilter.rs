//! Cheap answers before the expensive ones: one alternation of every pack's claims (and clashes)
//! that says "no pack can claim this text" in one pass, every pack's display names in one
//! automaton, and the look-alike judgement of a host remembered per rule set. Each only skips
//! work whose answer it knows; the answers are the same.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, OnceLock};

use aho_corasick::AhoCorasick;
use regex::Regex;

use super::lazy;
use super::lookalike::LookAlike;
use super::{Pack, Pattern};

/// `patterns` as one alternation, built once into `cell`; None when there are none or it does not
/// build (the callers then try each pattern).
pub(super) fn any_of<'a>(
    cell: &'a OnceLock<Option<Regex>>,
    patterns: impl Iterator<Item = &'a Pattern>,
    loosen: bool,
) -> Option<&'a Regex> {
    cell.get_or_init(|| {
        // Normalised like each pattern is when compiled (`lazy::LazyRegex`).
        let alternatives: Vec<String> = patterns
            .map(|p| crate::text::normalize(&p.src))
            .map(|src| format!("(?:{})", if loosen { loose(&src) } else { src }))
            .collect();
        (!alternatives.is_empty())
            .then(|| lazy::build(&alternatives.join("|")).ok())
            .flatten()
    })
    .as_ref()
}

/// `src` without its word-boundary assertions (`\b`, `\B`): it matches wherever `src` does, and
/// more. A prefilter only has to say "maybe", and with a Unicode `\b` in one alternative the
/// whole alternation ran on the slow NFA engine for any non-ASCII text (a scan 10× slower).
fn loose(src: &str) -> String {
    let mut out = String::with_capacity(src.len());
    let mut chars = src.chars();
    let mut class = 0usize;
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('b' | 'B') if class == 0 => {}
                Some(e) => {
                    out.push(c);
                    out.push(e);
                }
                None => out.push(c),
            },
            '[' => {
                class += 1;
                out.push(c);
            }
            ']' if class > 0 => {
                class -= 1;
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// Every pack's display names in two automata: as written, and without white space (the
/// names of five characters or more, which also claim a name written without its spaces). A
/// display name then costs two passes, not two substring searches per name per pack (that was
/// a ninth of a scan's CPU: every mail has a sender name, most name no broker).
pub(super) struct NameIndex {
    written: AhoCorasick,
    /// The pack (by position) of each of `written`'s names.
    written_pack: Vec<usize>,
    squeezed: AhoCorasick,
    squeezed_pack: Vec<usize>,
}

/// `s` without white space.
pub(super) fn squeeze(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

impl NameIndex {
    /// The index of `packs`' names; None when an automaton does not build (then per name).
    pub(super) fn new(packs: &[Pack]) -> Option<NameIndex> {
        let (mut written, mut written_pack) = (Vec::new(), Vec::new());
        let (mut squeezed, mut squeezed_pack) = (Vec::new(), Vec::new());
        for (i, p) in packs.iter().enumerate() {
            for alias in &p.names {
                written.push(alias.clone());
                written_pack.push(i);
                let s = squeeze(alias);
                if s.chars().count() >= 5 {
                    squeezed.push(s);
                    squeezed_pack.push(i);
                }
            }
        }
        Some(NameIndex {
            written: AhoCorasick::new(&written).ok()?,
            written_pack,
            squeezed: AhoCorasick::new(&squeezed).ok()?,
            squeezed_pack,
        })
    }

    /// Which packs (by position, of `count`) have a name that `name` (normalised, lowercase)
    /// contains as written, or without white space on both sides.
    pub(super) fn packs_named(&self, name: &str, count: usize) -> Vec<bool> {
        let mut hit = vec![false; count];
        for m in self.written.find_overlapping_iter(name) {
            hit[self.written_pack[m.pattern().as_usize()]] = true;
        }
        if !self.squeezed_pack.is_empty() {
            for m in self.squeezed.find_overlapping_iter(&squeeze(name)) {
                hit[self.squeezed_pack[m.pattern().as_usize()]] = true;
            }
        }
        hit
    }
}

/// Something a rule set works out on demand and keeps (an index, remembered answers). A copy
/// starts empty and works it out again: what the original kept may not hold for the copy, whose
/// packs can still change.
#[derive(Default)]
pub(super) struct OnDemand<T>(pub(super) T);

impl<T: Default> Clone for OnDemand<T> {
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl<T> std::fmt::Debug for OnDemand<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OnDemand(..)")
    }
}

/// The [`NameIndex`] of a rule set, built on first use (when the packs no longer change).
pub(super) type Names = OnDemand<OnceLock<Option<NameIndex>>>;

/// Look-alike answers by host for one rule set: a mailbox gets most of its mail from a few
/// senders, and judging a host against every genuine domain was a tenth of a scan's CPU.
pub(super) type LookalikeMemo = OnDemand<Mutex<HashMap<String, Option<LookAlike>>>>;

impl LookalikeMemo {
    pub(super) fn lock(&self) -> MutexGuard<'_, HashMap<String, Option<LookAlike>>> {
        // Plain data: a panic elsewhere cannot leave it inconsistent.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Bounds the memo; when full it starts over (a miss costs only the judgement it saves).
pub(super) const LOOKALIKE_MEMO_MAX: usize = 4096;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::load;

    #[test]
    fn loosening_drops_word_boundaries_only() {
        assert_eq!(
            loose(r"\bFIL\s+(Limited|Investment)"),
            r"FIL\s+(Limited|Investment)"
        );
        assert_eq!(loose(r"a\Bb[\b]\\b\."), r"ab[\b]\\b\.");
        assert_eq!(loose(r"(^|[^ト])SBI証券"), r"(^|[^ト])SBI証券");
    }

    /// Every fixture mail's text that some claim or clash matches, pattern by pattern, is let
    /// through by the alternations; the alternations build (else there is no prefilter at all).
    #[test]
    fn the_alternations_miss_nothing_a_pattern_finds() {
        let set = load(true, &[]).unwrap_or_else(|p| panic!("{p}"));
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mail");
        let mut texts = vec![
            "住信SBIネット銀行からのお知らせ".to_string(),
            "weekly".into(),
        ];
        for entry in std::fs::read_dir(&dir).unwrap() {
            let raw = std::fs::read(entry.unwrap().path()).unwrap();
            if let Ok(m) = crate::mail::parse(&raw, true) {
                let (s, b) = (
                    crate::text::normalize(&m.subject),
                    crate::text::normalize(&m.own_text),
                );
                texts.push(format!("{s}\n{b}"));
            }
        }
        let (mut claimed, mut unclaimed) = (0, 0);
        for t in &texts {
            let claims = set.packs.iter().flat_map(|p| &p.claims);
            let clashes = set.packs.iter().flat_map(|p| &p.clashes);
            let claim = claims.clone().any(|p| p.re.is_match(t));
            let clash = clashes.clone().any(|p| p.re.is_match(t));
            assert!(!claim || set.may_claim(t), "{t}");
            assert!(!clash || set.has_clash(t), "{t}");
            if set.may_claim(t) {
                claimed += 1
            } else {
                unclaimed += 1
            }
        }
        assert!(claimed > 0 && unclaimed > 0, "{claimed} {unclaimed}");
        assert!(set.any_claim.get().is_some_and(Option::is_some));
        assert!(set.any_clash.get().is_some_and(Option::is_some));
    }

    #[test]
    fn a_remembered_lookalike_is_the_judgement() {
        let set = load(true, &[]).unwrap_or_else(|p| panic!("{p}"));
        for host in [
            "sbisec-co-jp.com",
            "sbisec.co.jp",
            "example.com",
            "rakuten-sec.co.jp.evil.example",
        ] {
            let fresh = crate::rules::lookalike::lookalike(&set, host);
            assert_eq!(set.lookalike_of(host), fresh, "{host}");
            assert_eq!(set.lookalike_of(host), fresh, "{host}, remembered");
        }
    }
}
