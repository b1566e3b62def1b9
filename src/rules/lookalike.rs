//! Look-alike domains: does a domain that is not a broker's imitate one of the pack domains? The
//! genuine domain with its dots turned into hyphens, the broker's name with words added, swapped,
//! misspelt, or written with digits or Unicode letters that look like Latin ones. The pack domains
//! are prepared once, when the rules are compiled ([`Index`]); the words come from the rules
//! (`lookalike:` in rules/_lookalike.yaml).

mod host;

use super::{Pack, RuleSet};
use crate::domain::href_host;
use crate::text::{defang_url, urls_in};
use host::{Fold, Host, compact};

/// A domain that imitates a broker's genuine domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookAlike {
    /// Pack id of the imitated broker.
    pub broker: String,
    /// The genuine domain it imitates.
    pub imitates: String,
    /// The look-alike as the mail has it, defanged.
    pub shown: String,
    /// One line for explanations; the look-alike in it is defanged.
    pub why: String,
}

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

/// The pack domains and words, prepared for judging many domains against them.
#[derive(Debug, Clone, Default)]
pub struct Index {
    fold: Fold,
    genuine: Vec<Genuine>,
    /// (skeleton, as written, strong) of each added word.
    words: Vec<(String, String, bool)>,
    /// Skeletons of `Words::not_typos`.
    not_typos: Vec<String>,
}

impl Index {
    pub fn new(packs: &[Pack], w: &Words) -> Index {
        let fold = Fold {
            extra: w.confusables.clone(),
        };
        let strong = w.strong.iter().map(|x| (x, true));
        let words = strong
            .chain(w.weak.iter().map(|x| (x, false)))
            .map(|(x, s)| (fold.skeleton(x), x.clone(), s))
            .collect();
        let mut ix = Index {
            not_typos: w.not_typos.iter().map(|x| fold.skeleton(x)).collect(),
            fold,
            genuine: Vec::new(),
            words,
        };
        ix.genuine = packs
            .iter()
            .flat_map(|p| p.domains.iter().map(move |d| (p, d)))
            .filter_map(|(p, d)| Genuine::new(&ix, w, &p.id, d))
            .collect();
        ix
    }
}

/// Is `domain` a look-alike of a pack domain? Never for a pack domain or a subdomain of one.
/// Of several resemblances the strongest is told (a typo is the weakest).
pub fn lookalike(set: &RuleSet, domain: &str) -> Option<LookAlike> {
    let ix = &set.lookalike;
    let host = Host::parse(&ix.fold, domain)?;
    if set.packs.iter().any(|p| p.owns_domain(&host.plain)) {
        return None;
    }
    let name = host.name().map(|(_, skel)| compact(skel));
    // A name that IS some genuine name (vanguard.co.uk) is judged by that rule alone: it is not a
    // misspelling of a neighbour (e-vanguard.com).
    let exact_elsewhere = name
        .as_ref()
        .is_some_and(|n| ix.genuine.iter().any(|g| g.compact == *n));
    let stripped = host.name().map(|(raw, skel)| strip_words(ix, raw, skel));
    let mut best: Option<(u8, &Genuine, String)> = None;
    for g in &ix.genuine {
        let found = embedded(&host, g)
            .map(|why| (0, why))
            .or_else(|| name_match(ix, &host, g, exact_elsewhere, &stripped))
            .or_else(|| subdomain_match(ix, &host, g).map(|why| (4, why)));
        if let Some((rank, why)) = found
            && best.as_ref().is_none_or(|(r, ..)| rank < *r)
        {
            best = Some((rank, g, why));
        }
    }
    best.map(|(_, g, why)| LookAlike {
        broker: g.pack.clone(),
        imitates: g.domain.clone(),
        shown: defang_url(&host.plain),
        why: format!("`{}` imitates `{}` ({why})", host.show(), g.domain),
    })
}

/// Look-alikes among the hosts of every URL written in `text`, each host once.
pub fn lookalike_text(set: &RuleSet, text: &str) -> Vec<LookAlike> {
    let mut seen: Vec<String> = Vec::new();
    let mut out = Vec::new();
    // NOTE: `href_host` reads a URL as a browser does (`\` ends the host, so
    // `https://evil.example\@sbisec.co.jp/` goes to evil.example).
    for host in urls_in(text).iter().filter_map(|u| href_host(u)) {
        if seen.contains(&host) {
            continue;
        }
        if let Some(l) = lookalike(set, &host) {
            out.push(l);
        }
        seen.push(host);
    }
    out
}

/// A pack domain, prepared for comparison.
#[derive(Debug, Clone)]
struct Genuine {
    pack: String,
    domain: String,
    host: Host,
    /// The distinctive label as written (`rakuten-sec`) and its skeleton without hyphens.
    name: String,
    compact: String,
    /// An ordinary word or surname (`fidelity`, `kabu`): other owners are likely to be genuine.
    ordinary: bool,
    /// The name's parts swapped (see `rotations`).
    rotations: Vec<(String, String, String)>,
    /// The skeleton with its dots as hyphens (`sbisec-co-jp`), and without dots.
    hyphens: String,
    dotless: String,
}

impl Genuine {
    fn new(ix: &Index, w: &Words, pack: &str, domain: &str) -> Option<Genuine> {
        let host = Host::parse(&ix.fold, domain)?;
        let (name, skel) = host.name()?;
        Some(Genuine {
            pack: pack.to_string(),
            domain: host.plain.clone(),
            name: name.to_string(),
            compact: compact(skel),
            ordinary: w.ordinary_names.iter().any(|o| o == name),
            rotations: rotations(&ix.fold, &w.name_parts, name),
            hyphens: host.skel.join("-"),
            dotless: host.skel.concat(),
            host,
        })
    }
}

/// The whole genuine domain inside another: `sbisec-co-jp.com`, `sbiseccojp.net`,
/// `sbisec.co.jp.secure-login.example`.
fn embedded(host: &Host, g: &Genuine) -> Option<String> {
    let n = g.host.skel.len();
    if n < 2 {
        return None;
    }
    // Followed by a whole foreign registrable domain, not just another suffix (that is
    // `interactivebrokers.com.au`, the same name under `.com.au`).
    let last = host.name_index().map_or(0, |i| (i + 1).saturating_sub(n));
    if let Some(i) = (0..last).find(|&i| host.skel[i..i + n] == g.host.skel[..]) {
        let rest = defang_url(&host.labels[i + n..].join("."));
        return Some(format!(
            "the genuine domain used as a subdomain of `{rest}`"
        ));
    }
    let (hyphens, dotless) = (&g.hyphens, &g.dotless);
    for label in &host.skel {
        if find_bounded(label, hyphens) {
            return Some("its dots replaced by hyphens".into());
        }
        // Short or ordinary forms only as a whole word: `kabucommunity` is not `kabu.com`.
        let loose = !g.ordinary && dotless.len() >= 9 && label.contains(dotless.as_str());
        if loose || find_bounded(label, dotless) {
            return Some("its dots removed".into());
        }
    }
    None
}

/// Does `needle` occur in `label` between hyphens or the label's ends?
fn find_bounded(label: &str, needle: &str) -> bool {
    label.match_indices(needle).any(|(i, m)| {
        let before = label[..i].chars().next_back();
        let after = label[i + m.len()..].chars().next();
        before.is_none_or(|c| c == '-') && after.is_none_or(|c| c == '-')
    })
}

/// The candidate's own name against a genuine one; rank (lower is stronger) and reason.
fn name_match(
    ix: &Index,
    host: &Host,
    g: &Genuine,
    exact_elsewhere: bool,
    stripped: &Option<Stripped>,
) -> Option<(u8, String)> {
    let (raw, _) = host.name()?;
    let cand = &host.compact[host.name_index()?];
    if *cand == g.compact {
        return same_name(host, raw, g);
    }
    if let Some(words) = with_words(ix, cand, &g.compact, g.ordinary) {
        return Some((2, format!("the name `{}` with {words} added", g.name)));
    }
    for (rotated, a, b) in &g.rotations {
        if with_words(ix, cand, rotated, g.ordinary).is_some() {
            let why = format!("the name `{}` split into `{a}` and `{b}`, swapped", g.name);
            return Some((3, why));
        }
    }
    if exact_elsewhere {
        return None;
    }
    typo(ix, stripped.as_ref()?, g).map(|why| (6, why))
}

/// The same skeleton as the genuine name: look-alike characters, hyphens, or another suffix.
fn same_name(host: &Host, raw: &str, g: &Genuine) -> Option<(u8, String)> {
    let letters = |s: &str| s.replace('-', "");
    if letters(raw) != letters(&g.name) {
        return Some((1, look_alike_letters(raw, &g.name)));
    }
    if raw != g.name {
        return Some((2, format!("the name `{}` with hyphens moved", g.name)));
    }
    // The same suffix: the parent of a pack domain that is a subdomain, not an imitation.
    if g.ordinary || host.suffix() == g.host.suffix() {
        return None;
    }
    let why = format!(
        "the same name under `.{}` instead of `.{}`",
        host.suffix(),
        g.host.suffix()
    );
    Some((5, why))
}

/// Names the characters that differ: `0` for `o`, or Unicode letters for Latin ones.
fn look_alike_letters(raw: &str, genuine: &str) -> String {
    let kind = if raw.is_ascii() {
        "look-alike characters"
    } else {
        "Unicode letters that look like Latin ones"
    };
    let (a, b): (Vec<char>, Vec<char>) = (raw.chars().collect(), genuine.chars().collect());
    if a.len() != b.len() {
        return format!("{kind}: `{raw}` reads as `{genuine}`");
    }
    let pairs: Vec<String> = a
        .iter()
        .zip(&b)
        .filter(|(x, y)| x != y)
        .map(|(x, y)| format!("`{x}` for `{y}`"))
        .collect();
    format!("{kind}: {}", pairs.join(", "))
}

/// A label left of the registrable domain that carries a genuine name: `sbisec.evil.example`.
fn subdomain_match(ix: &Index, host: &Host, g: &Genuine) -> Option<String> {
    let end = host.name_index()?;
    let carries = |l: &String| {
        if *l == g.compact {
            !g.ordinary
        } else {
            with_words(ix, l, &g.compact, g.ordinary).is_some()
        }
    };
    if !host.compact[..end].iter().any(carries) {
        return None;
    }
    let parent = defang_url(&host.labels[end..].join("."));
    Some(format!(
        "the name `{}` used in a subdomain of `{parent}`",
        g.name
    ))
}

/// If `cand` is `name` with only known words around it, those words (`` `login` ``).
fn with_words(ix: &Index, cand: &str, name: &str, strong_only: bool) -> Option<String> {
    for (i, _) in cand.match_indices(name) {
        let before = words_of(ix, &cand[..i], strong_only);
        let after = words_of(ix, &cand[i + name.len()..], strong_only);
        if let (Some(mut a), Some(b)) = (before, after) {
            a.extend(b);
            let shown: Vec<String> = a.iter().map(|w| format!("`{w}`")).collect();
            return Some(if shown.is_empty() {
                "nothing".into()
            } else {
                shown.join(", ")
            });
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

/// The name's parts swapped: at its hyphens, or around a known part. (skeleton, part, part).
fn rotations(fold: &Fold, parts: &[String], name: &str) -> Vec<(String, String, String)> {
    let pieces: Vec<&str> = name.split('-').collect();
    let mut splits: Vec<(String, String)> = (1..pieces.len())
        .map(|k| (pieces[..k].concat(), pieces[k..].concat()))
        .collect();
    let flat = name.replace('-', "");
    for part in parts {
        if let Some(rest) = flat.strip_suffix(part.as_str()) {
            splits.push((rest.to_string(), part.to_string()));
        }
        if let Some(rest) = flat.strip_prefix(part.as_str()) {
            splits.push((part.to_string(), rest.to_string()));
        }
    }
    splits
        .into_iter()
        .filter(|(a, b)| a.len() >= 2 && b.len() >= 2)
        .map(|(a, b)| (compact(&fold.skeleton(&format!("{b}{a}"))), a, b))
        .filter(|(r, ..)| *r != compact(&fold.skeleton(&flat)))
        .collect()
}

/// A candidate's name without the known words added at its hyphens (`sbiisec-login` →
/// `sbiisec`, with `` `login` `` added): what a typo is measured on. Index 0 strips any known
/// word, index 1 only strong ones (for ordinary genuine names). Computed once per candidate.
type Stripped = [(String, Vec<String>); 2];

fn strip_words(ix: &Index, raw: &str, skel: &str) -> Stripped {
    [false, true].map(|strong_only| {
        let mut pieces: Vec<(&str, &str)> = raw
            .split('-')
            .zip(skel.split('-'))
            .filter(|(_, s)| !s.is_empty())
            .collect();
        let is_word = |s: &str| words_of(ix, s, strong_only).is_some();
        let mut added: Vec<String> = Vec::new();
        while pieces.len() > 1 && is_word(pieces[0].1) {
            added.push(format!("`{}`", pieces.remove(0).0));
        }
        while pieces.len() > 1 && pieces.last().is_some_and(|p| is_word(p.1)) {
            added.extend(pieces.pop().map(|p| format!("`{}`", p.0)));
        }
        (pieces.iter().map(|p| p.1).collect(), added)
    })
}

/// One or two typos from the genuine name (two for long names), after dropping added words.
fn typo(ix: &Index, stripped: &Stripped, g: &Genuine) -> Option<String> {
    let len = g.compact.chars().count();
    if len < 5 {
        return None;
    }
    let (core, added) = &stripped[usize::from(g.ordinary)];
    let max = if len >= 9 { 2 } else { 1 };
    if core.chars().count().abs_diff(len) > max || ix.not_typos.contains(core) {
        return None;
    }
    // Optimal string alignment: an adjacent transposition (`schwbab`) is one typo.
    let d = strsim::osa_distance(core, &g.compact);
    if d == 0 || d > max {
        return None;
    }
    let plus = if added.is_empty() {
        String::new()
    } else {
        format!(", with {} added", added.join(", "))
    };
    let letters = if d == 1 { "letter" } else { "letters" };
    Some(format!(
        "the name `{}` misspelt by {d} {letters}{plus}",
        g.name
    ))
}

#[cfg(test)]
mod tests;
