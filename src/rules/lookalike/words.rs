//! The words look-alike judgement knows (rules/_lookalike.yaml), and a candidate name split
//! into a genuine name and the words added around it.

use super::Index;

/// The knowledge look-alike judgement needs, as the rules give it (`lookalike:`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Words {
    /// Genuine names that are ordinary words or surnames (`fidelity`, `kabu`): the same name under
    /// another suffix, as a subdomain, or with non-security words added is somebody else's.
    pub ordinary_names: Vec<String>,
    /// Real words one typo from a genuine name (`money`): never a misspelling of it.
    pub not_typos: Vec<String>,
    /// Words phishing adds to a name that ask for action on an account (`login`, `verify`).
    pub strong: Vec<String>,
    /// Other words added to names (`jp`, `online`, `my`).
    pub weak: Vec<String>,
    /// Parts a name is made of, so swapped ones are recognised (`sec` of `sec-sbi` for `sbisec`).
    pub name_parts: Vec<String>,
    /// Letters readers take for a Latin one that the Unicode confusables (UTS #39) do not map
    /// to it (`τ` for `t`): (letter, Latin letter).
    pub confusables: Vec<(char, char)>,
}

impl Words {
    /// Later rule files add to the earlier ones.
    pub fn extend(&mut self, other: Words) {
        self.ordinary_names.extend(other.ordinary_names);
        self.not_typos.extend(other.not_typos);
        self.strong.extend(other.strong);
        self.weak.extend(other.weak);
        self.name_parts.extend(other.name_parts);
        self.confusables.extend(other.confusables);
    }
}

/// If `cand` is `name` with only known words around it, those words as written (`login`).
pub(super) fn with_words(
    ix: &Index,
    cand: &str,
    name: &str,
    strong_only: bool,
) -> Option<Vec<String>> {
    for (i, _) in cand.match_indices(name) {
        let before = words_of(ix, &cand[..i], strong_only);
        let after = words_of(ix, &cand[i + name.len()..], strong_only);
        if let (Some(mut a), Some(b)) = (before, after) {
            a.extend(b);
            return Some(a.into_iter().map(str::to_string).collect());
        }
    }
    None
}

/// Splits all of `s` into known words (`loginjp` → login, jp); `Some(empty)` for "".
fn words_of<'i>(ix: &'i Index, s: &str, strong_only: bool) -> Option<Vec<&'i str>> {
    // Added words are short; anything longer is a different name, and is not worth the work.
    if s.len() > 64 {
        return None;
    }
    let mut split: Vec<Option<Vec<&str>>> = vec![None; s.len() + 1];
    split[0] = Some(Vec::new());
    for i in 0..s.len() {
        let Some(sofar) = split[i].clone() else {
            continue;
        };
        if !s.is_char_boundary(i) {
            continue;
        }
        for (skel, word, strong) in &ix.words {
            let j = i + skel.len();
            if (*strong || !strong_only) && s[i..].starts_with(skel.as_str()) && split[j].is_none()
            {
                let mut v = sofar.clone();
                v.push(word);
                split[j] = Some(v);
            }
        }
    }
    split.pop().flatten()
}

/// A candidate's name without the known words added at its hyphens (`sbiisec-login` →
/// `sbiisec`, with `login` added): what a typo is measured on. Index 0 strips any known
/// word, index 1 only strong ones (for ordinary genuine names). Computed once per candidate.
pub(super) type Stripped = [(String, Vec<String>); 2];

pub(super) fn strip_words(ix: &Index, raw: &str, skel: &str) -> Stripped {
    [false, true].map(|strong_only| {
        let mut pieces: Vec<(&str, &str)> = raw
            .split('-')
            .zip(skel.split('-'))
            .filter(|(_, s)| !s.is_empty())
            .collect();
        let is_word = |s: &str| words_of(ix, s, strong_only).is_some();
        let mut added: Vec<String> = Vec::new();
        while pieces.len() > 1 && is_word(pieces[0].1) {
            added.push(pieces.remove(0).0.to_string());
        }
        while pieces.len() > 1 && pieces.last().is_some_and(|p| is_word(p.1)) {
            added.extend(pieces.pop().map(|p| p.0.to_string()));
        }
        (pieces.iter().map(|p| p.1).collect(), added)
    })
}
