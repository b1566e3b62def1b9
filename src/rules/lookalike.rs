//! Look-alike domains: does a domain that is not a broker's imitate one of the pack domains? The
//! genuine domain with its dots turned into hyphens, the broker's name with words added, swapped,
//! misspelt, or written with digits or Unicode letters that look like Latin ones. Also owns the
//! little domain reading this needs: public suffixes, registrable domains, punycode (RFC 3492).

use std::sync::LazyLock;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use super::RuleSet;
use crate::text::{defang_url, urls_in};

/// A domain that imitates a broker's genuine domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookAlike {
    /// Pack id of the imitated broker.
    pub broker: String,
    /// The genuine domain it imitates.
    pub imitates: String,
    /// One line for explanations; the look-alike in it is defanged.
    pub why: String,
}

/// Is `domain` a look-alike of a pack domain? Never for a pack domain or a subdomain of one.
/// Of several resemblances the strongest is told (a typo is the weakest).
pub fn lookalike(set: &RuleSet, domain: &str) -> Option<LookAlike> {
    let host = Host::parse(domain)?;
    if set.packs.iter().any(|p| p.owns_domain(&host.plain)) {
        return None;
    }
    let genuine: Vec<Genuine> = set
        .packs
        .iter()
        .flat_map(|p| p.domains.iter().map(move |d| (p, d)))
        .filter_map(|(p, d)| Genuine::new(&p.id, d))
        .collect();
    let name = host.name().map(|(_, skel)| compact(skel));
    // A name that IS some genuine name (vanguard.co.uk) is judged by that rule alone: it is not a
    // misspelling of a neighbour (e-vanguard.com).
    let exact_elsewhere = name
        .as_ref()
        .is_some_and(|n| genuine.iter().any(|g| g.compact == *n));
    let mut best: Option<(u8, &Genuine, String)> = None;
    for g in &genuine {
        let found = embedded(&host, g)
            .map(|why| (0, why))
            .or_else(|| name_match(&host, g, exact_elsewhere))
            .or_else(|| subdomain_match(&host, g).map(|why| (4, why)));
        if let Some((rank, why)) = found
            && best.as_ref().is_none_or(|(r, ..)| rank < *r)
        {
            best = Some((rank, g, why));
        }
    }
    best.map(|(_, g, why)| LookAlike {
        broker: g.pack.clone(),
        imitates: g.domain.clone(),
        why: format!("`{}` imitates `{}` ({why})", host.show(), g.domain),
    })
}

/// Look-alikes among the hosts of every URL written in `text`, each host once.
pub fn lookalike_text(set: &RuleSet, text: &str) -> Vec<LookAlike> {
    let mut seen: Vec<String> = Vec::new();
    let mut out = Vec::new();
    // NOTE: `href_host` reads a URL as a browser does (`\` ends the host, so
    // `https://evil.example\@sbisec.co.jp/` goes to evil.example).
    for host in urls_in(text)
        .iter()
        .filter_map(|u| crate::links::href_host(u))
    {
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

/// The registrable domain of a host (public suffix plus one label), lowercase with `xn--` labels
/// decoded, so that `www.sbisec.co.jp` and `sbisec.co.jp` give the same. IP addresses stay whole.
pub fn registrable_domain(host: &str) -> String {
    let Some(h) = Host::parse(host) else {
        return String::new();
    };
    let ip = h.plain.contains(':')
        || h.labels
            .iter()
            .all(|l| l.bytes().all(|b| b.is_ascii_digit()));
    let from = if ip { 0 } else { h.name_index().unwrap_or(0) };
    h.labels[from..].join(".")
}

/// A host the way a browser resolves it: NFKC (full-width letters and dots become ASCII),
/// lowercase, ideographic full stops as dots, no userinfo, no whitespace, no outer dots.
pub fn plain_host(domain: &str) -> String {
    let d = domain.rsplit('@').next().unwrap_or(domain);
    let d: String = d
        .nfkc()
        .flat_map(char::to_lowercase)
        .map(|c| if c == '\u{3002}' { '.' } else { c })
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .collect();
    d.trim_matches('.').to_string()
}

/// Suffixes of two labels we know. NOTE: not the Public Suffix List, only what broker mail and
/// its imitations use, plus free hosting where phishing pages live; any other suffix is one label.
const TWO_LABEL_SUFFIXES: &str = "\
    co.jp ne.jp or.jp ac.jp ad.jp ed.jp go.jp gr.jp lg.jp co.uk org.uk me.uk ltd.uk plc.uk \
    ac.uk gov.uk com.au net.au org.au co.nz com.hk com.sg com.cn com.tw co.kr co.in com.br \
    com.mx github.io netlify.app vercel.app pages.dev workers.dev web.app r2.dev \
    firebaseapp.com herokuapp.com azurewebsites.net blogspot.com ngrok.io";

/// A domain read once.
struct Host {
    /// See `plain_host`: what `Pack::owns_domain` is asked about.
    plain: String,
    /// Labels with `xn--` decoded.
    labels: Vec<String>,
    /// The ASCII skeleton of each label (see `skeleton`).
    skel: Vec<String>,
    /// How many trailing labels make the public suffix.
    suffix: usize,
}

impl Host {
    fn parse(domain: &str) -> Option<Host> {
        let plain = plain_host(domain);
        if plain.is_empty() {
            return None;
        }
        let labels: Vec<String> = plain.split('.').map(decode_label).collect();
        let skel = labels.iter().map(|l| skeleton(l)).collect();
        let n = labels.len();
        let two = n >= 2 && is_listed(TWO_LABEL_SUFFIXES, &labels[n - 2..].join("."));
        let suffix = if two { 2 } else { 1 };
        Some(Host {
            plain,
            labels,
            skel,
            suffix,
        })
    }

    /// Index of the label left of the public suffix.
    fn name_index(&self) -> Option<usize> {
        self.labels.len().checked_sub(self.suffix + 1)
    }

    /// The label left of the public suffix, as written and as skeleton.
    fn name(&self) -> Option<(&str, &str)> {
        let i = self.name_index()?;
        Some((&self.labels[i], &self.skel[i]))
    }

    fn suffix(&self) -> String {
        self.labels[self.labels.len() - self.suffix..].join(".")
    }

    /// Defanged, with the Unicode reading of `xn--` labels beside it.
    fn show(&self) -> String {
        let shown = defang_url(&self.plain);
        let unicode = self.labels.join(".");
        if unicode == self.plain {
            shown
        } else {
            format!("{shown}` read as `{}", defang_url(&unicode))
        }
    }
}

/// A pack domain, prepared for comparison.
struct Genuine {
    pack: String,
    domain: String,
    host: Host,
    /// The distinctive label as written (`rakuten-sec`) and its skeleton without hyphens.
    name: String,
    compact: String,
    /// An ordinary word or surname (`fidelity`, `kabu`): other owners are likely to be genuine.
    ordinary: bool,
}

/// Genuine names that are ordinary words or surnames: the same name under another suffix, as a
/// subdomain, or with non-security words added is somebody else's, not an imitation.
const ORDINARY_NAMES: &[&str] = &["fidelity", "vanguard", "kabu", "matsui"];

impl Genuine {
    fn new(pack: &str, domain: &str) -> Option<Genuine> {
        let host = Host::parse(domain)?;
        let (name, skel) = host.name()?;
        Some(Genuine {
            pack: pack.to_string(),
            domain: host.plain.clone(),
            name: name.to_string(),
            compact: compact(skel),
            ordinary: ORDINARY_NAMES.contains(&name),
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
    let hyphens = g.host.skel.join("-");
    let dotless = g.host.skel.concat();
    for label in &host.skel {
        if find_bounded(label, &hyphens) {
            return Some("its dots replaced by hyphens".into());
        }
        // Short or ordinary forms only as a whole word: `kabucommunity` is not `kabu.com`.
        let loose = !g.ordinary && dotless.len() >= 9 && label.contains(&dotless);
        if loose || find_bounded(label, &dotless) {
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
fn name_match(host: &Host, g: &Genuine, exact_elsewhere: bool) -> Option<(u8, String)> {
    let (raw, skel) = host.name()?;
    let cand = compact(skel);
    if cand == g.compact {
        return same_name(host, raw, g);
    }
    if let Some(words) = with_words(&cand, &g.compact, g.ordinary) {
        return Some((2, format!("the name `{}` with {words} added", g.name)));
    }
    for (rotated, a, b) in rotations(&g.name) {
        if with_words(&cand, &rotated, g.ordinary).is_some() {
            let why = format!("the name `{}` split into `{a}` and `{b}`, swapped", g.name);
            return Some((3, why));
        }
    }
    if exact_elsewhere {
        return None;
    }
    typo(raw, skel, g).map(|why| (6, why))
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
fn subdomain_match(host: &Host, g: &Genuine) -> Option<String> {
    let end = host.name_index()?;
    let carries = |label: &String| {
        let l = compact(label);
        if l == g.compact {
            !g.ordinary
        } else {
            with_words(&l, &g.compact, g.ordinary).is_some()
        }
    };
    if !host.skel[..end].iter().any(carries) {
        return None;
    }
    let parent = defang_url(&host.labels[end..].join("."));
    Some(format!(
        "the name `{}` used in a subdomain of `{parent}`",
        g.name
    ))
}

/// Words phishing adds to a name; the strong ones ask for action on an account.
const STRONG_WORDS: &str = "\
    login logon signin secure security verify verification auth account accounts update confirm \
    alert support help customer service services password check id safety protect unlock \
    recovery notice";
const WEAK_WORDS: &str = "\
    jp japan info online member members my web www mail net portal user official center us usa \
    co com app mypage securities shoken";

/// The words as skeletons (compared with skeletons), as written, and whether strong.
static WORDS: LazyLock<Vec<(String, &'static str, bool)>> = LazyLock::new(|| {
    let strong = STRONG_WORDS
        .split_whitespace()
        .map(|w| (skeleton(w), w, true));
    strong
        .chain(
            WEAK_WORDS
                .split_whitespace()
                .map(|w| (skeleton(w), w, false)),
        )
        .collect()
});

/// If `cand` is `name` with only known words around it, those words (`` `login` ``).
fn with_words(cand: &str, name: &str, strong_only: bool) -> Option<String> {
    for (i, _) in cand.match_indices(name) {
        let before = words_of(&cand[..i], strong_only);
        let after = words_of(&cand[i + name.len()..], strong_only);
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
fn words_of(s: &str, strong_only: bool) -> Option<Vec<&'static str>> {
    // Added words are short; anything longer is a different name, and is not worth the work.
    if s.len() > 64 {
        return None;
    }
    let mut split: Vec<Option<Vec<&'static str>>> = vec![None; s.len() + 1];
    split[0] = Some(Vec::new());
    for i in 0..s.len() {
        let Some(sofar) = split[i].clone() else {
            continue;
        };
        if !s.is_char_boundary(i) {
            continue;
        }
        for (skel, word, strong) in WORDS.iter() {
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

/// Parts a name is made of, so swapped ones can be recognised (`sec-sbi` for `sbisec`).
const NAME_PARTS: &str = "\
    sec securities shoken brokers broker bank invest investments trade";

/// The name's parts swapped: at its hyphens, or around a known part. (skeleton, part, part).
fn rotations(name: &str) -> Vec<(String, String, String)> {
    let pieces: Vec<&str> = name.split('-').collect();
    let mut splits: Vec<(String, String)> = (1..pieces.len())
        .map(|k| (pieces[..k].concat(), pieces[k..].concat()))
        .collect();
    let flat = name.replace('-', "");
    for part in NAME_PARTS.split_whitespace() {
        if let Some(rest) = flat.strip_suffix(part) {
            splits.push((rest.to_string(), part.to_string()));
        }
        if let Some(rest) = flat.strip_prefix(part) {
            splits.push((part.to_string(), rest.to_string()));
        }
    }
    splits
        .into_iter()
        .filter(|(a, b)| a.len() >= 2 && b.len() >= 2)
        .map(|(a, b)| (compact(&skeleton(&format!("{b}{a}"))), a, b))
        .filter(|(r, ..)| *r != compact(&skeleton(&flat)))
        .collect()
}

/// Real words one typo from a genuine name: never a misspelling of it.
const NOT_TYPOS: &[&str] = &["money", "monet", "honey", "mones", "matsuo", "schwan"];

/// One or two typos from the genuine name (two for long names), after dropping added words.
fn typo(raw: &str, skel: &str, g: &Genuine) -> Option<String> {
    let len = g.compact.chars().count();
    if len < 5 {
        return None;
    }
    let mut pieces: Vec<(&str, &str)> = raw
        .split('-')
        .zip(skel.split('-'))
        .filter(|(_, s)| !s.is_empty())
        .collect();
    let is_word = |s: &str| words_of(s, g.ordinary).is_some();
    let mut added: Vec<String> = Vec::new();
    while pieces.len() > 1 && is_word(pieces[0].1) {
        added.push(format!("`{}`", pieces.remove(0).0));
    }
    while pieces.len() > 1 && pieces.last().is_some_and(|p| is_word(p.1)) {
        added.extend(pieces.pop().map(|p| format!("`{}`", p.0)));
    }
    let core: String = pieces.iter().map(|p| p.1).collect();
    if NOT_TYPOS.iter().any(|w| skeleton(w) == core) {
        return None;
    }
    let max = if len >= 9 { 2 } else { 1 };
    let d = typo_distance(&core, &g.compact, max).filter(|d| *d > 0)?;
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

/// Damerau–Levenshtein distance (adjacent transpositions count 1), if at most `max`.
fn typo_distance(a: &str, b: &str, max: usize) -> Option<usize> {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur: Vec<usize> = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(before[j - 2] + 1);
            }
            cur[j] = d;
        }
        std::mem::swap(&mut before, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    let d = prev[b.len()];
    (d <= max).then_some(d)
}

/// Is `item` one of the space-separated words of `list`?
fn is_listed(list: &str, item: &str) -> bool {
    list.split_whitespace().any(|w| w == item)
}

fn compact(skel: &str) -> String {
    skel.replace('-', "")
}

/// What a label looks like to a hurried reader, in ASCII: full-width letters folded (NFKC),
/// accents dropped, Cyrillic, Greek and Armenian look-alikes mapped to Latin, and the digit and
/// letter confusions `0`→o, `1`/`i`→l, `5`→s, `3`→e, `rn`→m, `vv`→w folded together.
fn skeleton(label: &str) -> String {
    let folded: String = label
        .nfkc()
        .flat_map(char::to_lowercase)
        .collect::<String>()
        .nfd()
        .filter(|c| !is_combining_mark(*c))
        .map(latin_look_alike)
        .collect();
    folded
        .replace("rn", "m")
        .replace("vv", "w")
        .chars()
        .map(|c| match c {
            '0' => 'o',
            '1' | 'i' => 'l',
            '5' => 's',
            '3' => 'e',
            c => c,
        })
        .collect()
}

/// The Latin letter a lowercase non-Latin letter is mistaken for, or itself.
fn latin_look_alike(c: char) -> char {
    match c {
        'а' | 'α' | 'ɑ' => 'a',
        'в' | 'ь' | 'β' | 'ƅ' => 'b',
        'с' | 'ϲ' => 'c',
        'ԁ' => 'd',
        'е' | 'ε' => 'e',
        'ɡ' | 'ց' => 'g',
        'һ' | 'н' | 'հ' => 'h',
        'і' | 'ι' | 'ı' | 'ɩ' => 'i',
        'ј' => 'j',
        'к' | 'κ' => 'k',
        'ӏ' => 'l',
        'м' => 'm',
        'η' | 'ո' => 'n',
        'о' | 'ο' | 'օ' => 'o',
        'р' | 'ρ' => 'p',
        'ԛ' => 'q',
        'ѕ' => 's',
        'т' | 'τ' => 't',
        'υ' | 'ս' => 'u',
        'ν' => 'v',
        'ԝ' => 'w',
        'х' | 'χ' => 'x',
        'у' | 'γ' => 'y',
        c => c,
    }
}

/// `xn--…` to Unicode (lowercase NFKC); a label that does not decode stays as written.
fn decode_label(label: &str) -> String {
    match label.strip_prefix("xn--").and_then(punycode_decode) {
        Some(u) => u.nfkc().flat_map(char::to_lowercase).collect(),
        None => label.to_string(),
    }
}

// RFC 3492 parameters for IDNA.
const BASE: u32 = 36;
const TMIN: u32 = 1;
const TMAX: u32 = 26;
const SKEW: u32 = 38;
const DAMP: u32 = 700;
const INITIAL_BIAS: u32 = 72;
const INITIAL_N: u32 = 128;

fn adapt(delta: u32, points: u32, first: bool) -> u32 {
    let mut delta = if first { delta / DAMP } else { delta / 2 };
    delta += delta / points.max(1);
    let mut k = 0;
    while delta > ((BASE - TMIN) * TMAX) / 2 {
        delta /= BASE - TMIN;
        k += BASE;
    }
    k + (BASE - TMIN + 1) * delta / (delta + SKEW)
}

fn threshold(k: u32, bias: u32) -> u32 {
    k.saturating_sub(bias).clamp(TMIN, TMAX)
}

/// RFC 3492 §6.2 decoding of what follows `xn--`; `None` for anything malformed.
fn punycode_decode(input: &str) -> Option<String> {
    // DNS labels are at most 63 bytes; insertion below is quadratic in the length.
    if !input.is_ascii() || input.len() > 255 {
        return None;
    }
    let (basic, rest) = input.rsplit_once('-').unwrap_or(("", input));
    let mut out: Vec<char> = basic.chars().collect();
    let (mut n, mut i, mut bias) = (INITIAL_N, 0u32, INITIAL_BIAS);
    let mut digits = rest.bytes();
    let mut next = digits.next();
    while let Some(first) = next {
        let (old_i, mut w, mut k) = (i, 1u32, BASE);
        let mut byte = first;
        loop {
            let digit = match byte {
                b'a'..=b'z' => byte - b'a',
                b'A'..=b'Z' => byte - b'A',
                b'0'..=b'9' => byte - b'0' + 26,
                _ => return None,
            };
            let digit = u32::from(digit);
            i = i.checked_add(digit.checked_mul(w)?)?;
            let t = threshold(k, bias);
            if digit < t {
                break;
            }
            w = w.checked_mul(BASE - t)?;
            k = k.checked_add(BASE)?;
            byte = digits.next()?;
        }
        let len = u32::try_from(out.len() + 1).ok()?;
        bias = adapt(i - old_i, len, old_i == 0);
        n = n.checked_add(i / len)?;
        i %= len;
        out.insert(usize::try_from(i).ok()?, char::from_u32(n)?);
        i += 1;
        next = digits.next();
    }
    Some(out.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Pack;

    /// The shipped packs' domains, built here so the test does not depend on pack files.
    fn set() -> RuleSet {
        let pack = |id: &str, domains: &[&str]| Pack {
            id: id.into(),
            domains: domains.iter().map(|d| d.to_string()).collect(),
            ..Pack::default()
        };
        RuleSet {
            generic: Default::default(),
            packs: vec![
                pack("sbi", &["sbisec.co.jp"]),
                pack("rakuten", &["rakuten-sec.co.jp"]),
                pack("monex", &["monex.co.jp"]),
                pack("matsui", &["matsui.co.jp"]),
                pack("kabucom", &["kabu.com"]),
                pack("schwab", &["schwab.com"]),
                pack("fidelity", &["fidelity.com"]),
                pack("vanguard", &["vanguard.com", "e-vanguard.com"]),
                pack(
                    "ibkr",
                    &[
                        "interactivebrokers.com",
                        "interactivebrokers.co.uk",
                        "interactivebrokers.ie",
                        "ibkr.com",
                    ],
                ),
            ],
        }
    }

    /// RFC 3492 §6.3 encoding, to build IDN look-alikes the way a registrar would.
    fn punycode_encode(input: &str) -> String {
        let chars: Vec<u32> = input.chars().map(u32::from).collect();
        let mut out: String = input.chars().filter(char::is_ascii).collect();
        let b = out.len() as u32;
        if b > 0 {
            out.push('-');
        }
        let (mut n, mut delta, mut bias, mut h) = (INITIAL_N, 0u32, INITIAL_BIAS, b);
        let digit = |d: u32| {
            char::from(if d < 26 {
                b'a' + d as u8
            } else {
                b'0' + (d - 26) as u8
            })
        };
        while (h as usize) < chars.len() {
            let m = chars
                .iter()
                .copied()
                .filter(|&c| c >= n)
                .min()
                .expect("a larger char");
            delta += (m - n) * (h + 1);
            n = m;
            for &c in &chars {
                if c < n {
                    delta += 1;
                }
                if c == n {
                    let (mut q, mut k) = (delta, BASE);
                    loop {
                        let t = threshold(k, bias);
                        if q < t {
                            break;
                        }
                        out.push(digit(t + (q - t) % (BASE - t)));
                        q = (q - t) / (BASE - t);
                        k += BASE;
                    }
                    out.push(digit(q));
                    bias = adapt(delta, h + 1, h == b);
                    delta = 0;
                    h += 1;
                }
            }
            delta += 1;
            n += 1;
        }
        out
    }

    #[test]
    fn punycode_matches_rfc_3492() {
        for (unicode, ascii) in [
            ("bücher", "bcher-kva"),
            ("3年b組金八先生", "3b-ww4c5e180e575a65lsy2b"),
            ("sbisес", "sbis-y4d6e"),
        ] {
            assert_eq!(punycode_encode(unicode), ascii);
            assert_eq!(punycode_decode(ascii).as_deref(), Some(unicode));
        }
        assert_eq!(
            punycode_decode("3B-ww4c5e180e575a65lsy2b").as_deref(),
            Some("3年B組金八先生")
        );
        assert_eq!(punycode_decode("abc-!!"), None);
        assert_eq!(punycode_decode("99999999999"), None, "overflow is refused");
    }

    /// Domain, then the broker it imitates and words of the reason, or `-` for "not a look-alike".
    const CASES: &str = "
sbisec-co-jp.com                   sbi      dots replaced by hyphens
www-sbisec-co-jp.example           sbi      dots replaced by hyphens
sbiseccojp.net                     sbi      dots removed
sbisec.co.jp.secure-login.example  sbi      subdomain of `secure-login[.]example`
sbiisec.co.jp                      sbi      misspelt by 1 letter
sec-sbi.com                        sbi      split into `sbi` and `sec`
secsbi-login.net                   sbi      swapped
sbisec-login.com                   sbi      with `login` added
secure-sbisec.net                  sbi      with `secure` added
mysbisec.jp                        sbi      `my`
sbi-sec.com                        sbi      hyphens moved
sbisec.com                         sbi      under `.com` instead of `.co.jp`
sbisec.evil.example                sbi      subdomain of `evil[.]example`
sbisec-l0gin.github.io             sbi      `login` added
ｓｂｉｓｅｃ-ｌｏｇｉｎ．ｃｏｍ                   sbi      `login` added
schwbab.com                        schwab   misspelt by 1 letter
schvvab.com                        schwab   look-alike characters
rakuten-sec-jp.com                 rakuten  `jp` added
rakuten-sec.co.jp.evil.example     rakuten  subdomain
rakuten-sek.co.jp                  rakuten  misspelt
rakutensec.co.jp                   rakuten  hyphens moved
sec-rakuten.com                    rakuten  swapped
fidelitty.com                      fidelity misspelt by 1 letter
fideliity.com                      fidelity misspelt
fidelity-login.com                 fidelity `login` added
interactlvebrokers.com             ibkr     `l` for `i`
interactivebrokers-verify.com      ibkr     `verify` added
intreactivebrokres.com             ibkr     misspelt by 2 letters
ibkr-support.com                   ibkr     `support` added
m0nex.co.jp                        monex    `0` for `o`
rnonex.co.jp                       monex    `rnonex` reads as `monex`
monex-jp.com                       monex    `jp` added
vanguard-support.net               vanguard `support` added
matsui-security.jp                 matsui   `security` added
kabu-com.jp                        kabucom  dots replaced by hyphens
kabu-login.jp                      kabucom  `login` added
sbisec-securities.com              sbi      `securities` added
sbisec.co.jp.xyz                   sbi      subdomain of `jp[.]xyz`
interactivebrokers.com.au          ibkr     under `.com.au` instead of `.com`
sbisec.co.jp                       -
psmtp01.SBISEC.co.jp.              -
mail.monex.co.jp                   -
transactional.vanguard.com         -
e-vanguard.com                     -
interactivebrokers.ie              -
gmail.com                          -
example.jp                         -
amazon.co.jp                       -
rakuten.co.jp                      -
rakuten-card.co.jp                 -
rakuten-bank.co.jp                 -
netbk.co.jp                        -
sbishinseibank.co.jp               -
sbigroup.co.jp                     -
secom.co.jp                        -
money.co.jp                        -
matsuo.co.jp                       -
nexmo.com                          -
monexgroup.jp                      -
schwabmoneywise.com                -
fidelityinvestments.ca             -
fidelity.co.uk                     -
vanguard.co.uk                     -
evanguard-news.com                 -
kabutan.jp                         -
kabucommunity.jp                   -
kabu.jp                            -
fidelity-online.com                -
mizuhobank.co.jp                   -
";

    #[test]
    fn lookalikes_and_genuine_neighbours() {
        let set = set();
        let idn = [
            (
                format!("xn--{}.co.jp", punycode_encode("sbisес")),
                "sbi",
                "`е` for `e`, `с` for `c`",
            ),
            (
                format!("www.xn--{}.com", punycode_encode("ѕсhwаb")),
                "schwab",
                "Unicode letters",
            ),
        ];
        let table = CASES.lines().filter(|l| !l.trim().is_empty()).map(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            let broker = cols.get(1).copied().unwrap_or("-");
            (
                cols[0].to_string(),
                broker,
                cols[2.min(cols.len())..].join(" "),
            )
        });
        let cases: Vec<(String, &str, String)> = table
            .chain(idn.into_iter().map(|(d, b, w)| (d, b, w.to_string())))
            .collect();
        assert!(cases.len() >= 40 && cases.iter().filter(|c| c.1 == "-").count() >= 20);
        for (domain, broker, words) in &cases {
            let got = lookalike(&set, domain);
            match (*broker, &got) {
                ("-", None) => {}
                ("-", Some(l)) => panic!("{domain} is not a look-alike, got: {}", l.why),
                (_, None) => panic!("{domain}: want a look-alike of {broker}, got none"),
                (_, Some(l)) => {
                    assert_eq!(l.broker, *broker, "{domain}: {}", l.why);
                    assert!(
                        l.why.contains(words.as_str()),
                        "{domain}: want `{words}` in: {}",
                        l.why
                    );
                }
            }
        }
    }

    #[test]
    fn reason_names_both_domains_and_defangs_the_fake() {
        let l = lookalike(&set(), "sbisec-co-jp.com").expect("a look-alike");
        assert_eq!(l.imitates, "sbisec.co.jp");
        assert_eq!(
            l.why,
            "`sbisec-co-jp[.]com` imitates `sbisec.co.jp` (its dots replaced by hyphens)"
        );
        let l = lookalike(&set(), "xn--sbis-y4d6e.co.jp").expect("a look-alike");
        assert!(
            l.why
                .starts_with("`xn--sbis-y4d6e[.]co[.]jp` read as `sbisес[.]co[.]jp`"),
            "{}",
            l.why
        );
    }

    #[test]
    fn text_hosts_are_checked_once_each() {
        let text = "ログイン https://sbisec-login.com/a と https://sbisec-login.com/b、\
                    本物 https://www.sbisec.co.jp/ETGate と https://evil.example\\@www.sbisec.co.jp/";
        let found = lookalike_text(&set(), text);
        let brokers: Vec<&str> = found.iter().map(|l| l.broker.as_str()).collect();
        assert_eq!(brokers, ["sbi"], "{found:?}");
    }

    #[test]
    fn registrable_domains() {
        for (host, want) in [
            ("www.sbisec.co.jp", "sbisec.co.jp"),
            ("sbisec.co.jp.evil.example", "evil.example"),
            ("A.B.Example.COM.", "example.com"),
            ("xn--sbis-y4d6e.co.jp", "sbisес.co.jp"),
            ("phish.github.io", "phish.github.io"),
            ("co.jp", "co.jp"),
            ("192.168.0.1", "192.168.0.1"),
            ("", ""),
        ] {
            assert_eq!(registrable_domain(host), want, "{host}");
        }
    }

    #[test]
    fn odd_input_never_panics() {
        let set = set();
        let long = "a".repeat(5000);
        let long_idn = format!("xn--{}", "9".repeat(300));
        let odd = [
            "",
            ".",
            "..",
            "...",
            "xn--",
            "xn--.co.jp",
            "xn---",
            "-.-",
            "@",
            "a@",
            "@@b",
            "é",
            "ｓ",
            "。",
            "ß.co.jp",
            "\u{0}",
            "\u{301}x",
            "sbisec.co.jp.",
            "-sbisec-",
            long.as_str(),
            long_idn.as_str(),
            "xn--zzzzzzzz.com",
            "1.2.3.4",
            "[::1]",
        ];
        for s in odd {
            let _ = lookalike(&set, s);
            let _ = lookalike(&set, &format!("{s}.{s}-login.com"));
            let _ = lookalike_text(&set, &format!("https://{s}/ http://{s}"));
            let _ = registrable_domain(s);
        }
    }
}
