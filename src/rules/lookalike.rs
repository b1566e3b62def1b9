//! Look-alike domains: does a domain that is not a broker's imitate one of the pack domains? The
//! genuine domain with its dots turned into hyphens, the broker's name with words added, swapped,
//! misspelt, or written with digits or Unicode letters that look like Latin ones. The pack domains
//! are prepared once, when the rules are compiled ([`Index`]); the words come from the rules
//! (`lookalike:` in rules/_lookalike.yaml).

mod disguise;
mod host;
mod words;

pub use disguise::{Disguise, Swap};
pub use words::Words;

use super::{Pack, RuleSet};
use crate::domain::href_host;
use crate::text::{defang_url, urls_in};
use host::{Fold, Host, compact};
use words::{Stripped, strip_words, with_words};

/// A domain that imitates a broker's genuine domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookAlike {
    /// Pack id of the imitated broker.
    pub broker: String,
    /// The genuine domain it imitates.
    pub imitates: String,
    /// The look-alike as the mail has it, defanged.
    pub shown: String,
    /// Its `xn--` labels decoded, defanged, when that reads differently (`sbisес[.]co[.]jp`).
    pub read_as: Option<String>,
    /// How it imitates the genuine domain.
    pub how: Disguise,
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
    let mut best: Option<(u8, &Genuine, Disguise)> = None;
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
    best.map(|(_, g, how)| LookAlike {
        broker: g.pack.clone(),
        imitates: g.domain.clone(),
        shown: defang_url(&host.plain),
        read_as: host.unicode(),
        how,
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
fn embedded(host: &Host, g: &Genuine) -> Option<Disguise> {
    let n = g.host.skel.len();
    if n < 2 {
        return None;
    }
    // Followed by a whole foreign registrable domain, not just another suffix (that is
    // `interactivebrokers.com.au`, the same name under `.com.au`).
    let last = host.name_index().map_or(0, |i| (i + 1).saturating_sub(n));
    if let Some(i) = (0..last).find(|&i| host.skel[i..i + n] == g.host.skel[..]) {
        let parent = defang_url(&host.labels[i + n..].join("."));
        return Some(Disguise::GenuineAsSubdomain { parent });
    }
    let (hyphens, dotless) = (&g.hyphens, &g.dotless);
    for label in &host.skel {
        if find_bounded(label, hyphens) {
            return Some(Disguise::DotsToHyphens);
        }
        // Short or ordinary forms only as a whole word: `kabucommunity` is not `kabu.com`.
        let loose = !g.ordinary && dotless.len() >= 9 && label.contains(dotless.as_str());
        if loose || find_bounded(label, dotless) {
            return Some(Disguise::DotsRemoved);
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

/// The candidate's own name against a genuine one; rank (lower is stronger) and how.
fn name_match(
    ix: &Index,
    host: &Host,
    g: &Genuine,
    exact_elsewhere: bool,
    stripped: &Option<Stripped>,
) -> Option<(u8, Disguise)> {
    let (raw, _) = host.name()?;
    let cand = &host.compact[host.name_index()?];
    if *cand == g.compact {
        return same_name(host, raw, g);
    }
    if let Some(words) = with_words(ix, cand, &g.compact, g.ordinary) {
        let name = g.name.clone();
        return Some((2, Disguise::WordsAdded { name, words }));
    }
    for (rotated, a, b) in &g.rotations {
        if with_words(ix, cand, rotated, g.ordinary).is_some() {
            let (name, a, b) = (g.name.clone(), a.clone(), b.clone());
            return Some((3, Disguise::Swapped { name, a, b }));
        }
    }
    if exact_elsewhere {
        return None;
    }
    typo(ix, stripped.as_ref()?, g).map(|why| (6, why))
}

/// The same skeleton as the genuine name: look-alike characters, hyphens, or another suffix.
fn same_name(host: &Host, raw: &str, g: &Genuine) -> Option<(u8, Disguise)> {
    let letters = |s: &str| s.replace('-', "");
    if letters(raw) != letters(&g.name) {
        let unicode = !raw.is_ascii();
        let swap = Swap::of(raw, &g.name);
        return Some((1, Disguise::Letters { unicode, swap }));
    }
    if raw != g.name {
        let name = g.name.clone();
        return Some((2, Disguise::HyphensMoved { name }));
    }
    // The same suffix: the parent of a pack domain that is a subdomain, not an imitation.
    if g.ordinary || host.suffix() == g.host.suffix() {
        return None;
    }
    let (suffix, genuine) = (host.suffix(), g.host.suffix());
    Some((5, Disguise::OtherSuffix { suffix, genuine }))
}

/// A label left of the registrable domain that carries a genuine name: `sbisec.evil.example`.
fn subdomain_match(ix: &Index, host: &Host, g: &Genuine) -> Option<Disguise> {
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
    let name = g.name.clone();
    Some(Disguise::NameInSubdomain { name, parent })
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

/// One or two typos from the genuine name (two for long names), after dropping added words.
fn typo(ix: &Index, stripped: &Stripped, g: &Genuine) -> Option<Disguise> {
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
    Some(Disguise::Misspelt {
        name: g.name.clone(),
        letters: d,
        added: added.clone(),
    })
}

#[cfg(test)]
mod tests;
