//! Applying packs to a mail: which broker it is from or claims to be, which rule matches, and
//! what the rule extracts. No judgement on authenticity here (that is `assess`).

use std::collections::BTreeMap;

use super::lookalike::LookAlike;
use super::prefilter::squeeze;
use super::{Pack, Pattern, Rule, RuleSet};
use crate::assess::reason::Reason;
use crate::domain::href_host;
use crate::links::mismatches;
use crate::mail::Mail;
use crate::text::normalize;

/// How a mail ties itself to a broker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// Sent from one of the pack's domains.
    Domain(String),
    /// The From display name contains the broker's name.
    DisplayName(String),
    /// The subject or text presents itself as the broker (the matched words).
    Wording(String),
    /// The sender's domain, or a link's, imitates the broker's.
    LookAlike(LookAlike),
}

/// A condition of the matched rule and the words it matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cue {
    /// `subject`, `body`, `text`, `all` or `from`.
    pub on: &'static str,
    pub pattern: String,
    pub matched: String,
}

/// The outcome of applying the packs.
#[derive(Debug, Clone, Default)]
pub struct Classification<'r> {
    pub pack: Option<&'r Pack>,
    pub claim: Option<Claim>,
    pub rule: Option<&'r Rule>,
    pub fields: BTreeMap<String, String>,
    pub cues: Vec<Cue>,
    /// Why nothing matched, where that is worth telling (e.g. a forwarded notice).
    pub notes: Vec<Reason>,
    /// Signs of imitation: look-alike sender or link domains, links that hide their target.
    /// They count only for a mail that is not authentic (genuine mail has tracking links).
    pub suspicious: Vec<Reason>,
    /// Links to a look-alike of the claimed broker's own domain: phishing whatever the
    /// authenticity (a genuine notice never links to an imitation of its own sender).
    pub imitations: Vec<Reason>,
    /// Links to a login, password or "confirm your details" page, as (host, why).
    pub login_links: Vec<(String, String)>,
    /// The matched rule is a generic one: the broker's own rules did not recognise the mail.
    pub generic: bool,
    /// No rule matched a mail from the broker's own domain, but it speaks of security: the
    /// words it used (the last resort: "read this unrecognised notice").
    pub unrecognised: Vec<String>,
}

/// The texts rules run on, normalised once.
struct Texts {
    subject: String,
    body: String,
    both: String,
    from: String,
}

/// Finds the broker and the first matching rule of its pack.
pub fn classify<'r>(set: &'r RuleSet, mail: &Mail) -> Classification<'r> {
    match claim(set, mail) {
        Ok((pack, claim, t)) => claimed(set, mail, pack, claim, &t),
        Err(notes) => unclaimed_with(notes),
    }
}

/// What [`classify`] says of a mail no pack claims, or None as soon as one does: a claimed
/// header's body is fetched whatever its rule, so no rule runs on a header alone.
pub fn unclaimed(set: &RuleSet, mail: &Mail) -> Option<Classification<'static>> {
    claim(set, mail).err().map(unclaimed_with)
}

fn unclaimed_with(notes: Vec<Reason>) -> Classification<'static> {
    let nothing = Classification::default();
    Classification { notes, ..nothing }
}

/// The pack that claims the mail, how, and the texts its rules run on; Err: none claims it, with
/// the notes that say why where that is worth telling.
fn claim<'r>(set: &'r RuleSet, mail: &Mail) -> Result<(&'r Pack, Claim, Texts), Vec<Reason>> {
    let from_domain = mail.from.as_ref().map_or("", |f| f.domain());
    let own_pack = set
        .packs
        .iter()
        .find(|p| !from_domain.is_empty() && p.owns_domain(from_domain));
    if mail.forwarded && own_pack.is_none() {
        let from = mail.from.as_ref().map(|f| f.address.clone());
        return Err(vec![Reason::Forwarded(from)]);
    }
    let subject = normalize(&mail.subject);
    let body = normalize(&mail.own_text);
    let t = Texts {
        both: format!("{subject}\n{body}"),
        subject,
        body,
        from: mail
            .from
            .as_ref()
            .map(|f| f.address.clone())
            .unwrap_or_default(),
    };
    own_pack
        .map(|p| (p, Claim::Domain(from_domain.to_string())))
        .or_else(|| by_display_name(set, mail))
        .or_else(|| by_wording(set, &t))
        .or_else(|| by_lookalike(set, from_domain, mail))
        .map(|(pack, claim)| (pack, claim, t))
        .ok_or(Vec::new())
}

/// A claimed mail's classification: the signs of imitation, and the first rule of its pack (or
/// the generic rules) that matches.
fn claimed<'r>(
    set: &'r RuleSet,
    mail: &Mail,
    pack: &'r Pack,
    claim: Claim,
    t: &Texts,
) -> Classification<'r> {
    let from_domain = mail.from.as_ref().map_or("", |f| f.domain());
    let mut out = Classification {
        suspicious: suspicious(set, pack, from_domain, mail),
        imitations: imitations(set, pack, mail),
        login_links: login_links(set, pack, mail),
        pack: Some(pack),
        claim: Some(claim),
        ..Classification::default()
    };
    let hit = pack
        .rules
        .iter()
        .map(|r| (r, false))
        .chain(set.generic.rules.iter().map(|r| (r, true)))
        .find_map(|(rule, generic)| matches(rule, t).map(|cues| (rule, generic, cues)));
    if let Some((rule, generic, cues)) = hit {
        out.rule = Some(rule);
        out.generic = generic;
        out.cues = cues;
        out.fields = extract(set, rule, t);
    } else if pack.owns_domain(from_domain) {
        out.unrecognised = unrecognised(set, t);
    }
    out
}

/// The security words of an unclassified mail, unless it reads as marketing.
fn unrecognised(set: &RuleSet, t: &Texts) -> Vec<String> {
    let g = &set.generic;
    if g.quiet.iter().any(|p| p.re.is_match(&t.both)) {
        return Vec::new();
    }
    let mut words: Vec<String> = Vec::new();
    for p in &g.vocabulary {
        for m in p.re.find_iter(&t.both) {
            let w = m.as_str().trim().to_string();
            if !w.is_empty() && !words.contains(&w) {
                words.push(w);
            }
        }
    }
    // 「ログイン」 says nothing more once 「ログインパスワード」 is listed.
    let all = words.clone();
    words.retain(|w| !all.iter().any(|o| o != w && o.contains(w.as_str())));
    words.truncate(6);
    words
}

fn by_display_name<'r>(set: &'r RuleSet, mail: &Mail) -> Option<(&'r Pack, Claim)> {
    let from = mail.from.as_ref()?;
    let name = from.name.as_ref()?;
    let n = normalize(name).to_lowercase();
    let clashing = set.has_clash(&n);
    let claims = |p: &Pack| !p.clash_domain(from.domain());
    let found = match (!clashing).then(|| set.packs_named(&n)).flatten() {
        // Nearly always: the name is the same for every pack, one pass finds every pack it names.
        Some(named) => set
            .packs
            .iter()
            .zip(named)
            .find(|(p, hit)| *hit && claims(p))
            .map(|(p, _)| p),
        None => set
            .packs
            .iter()
            .find(|p| claims(p) && names_in(p, &n, clashing)),
    };
    found.map(|p| (p, Claim::DisplayName(name.clone())))
}

/// Does display name `n` (normalised, lowercase) contain one of the pack's names, once the
/// names of companies clashing with it are blanked out? "Fidelity Life" and 「住信SBIネット銀行」
/// contain a broker's name but are other companies; "InteractiveBrokers" is the broker's name
/// written without its space (names of five characters or more).
fn names_in(p: &Pack, n: &str, clashing: bool) -> bool {
    let own = p.own_text(n, clashing);
    let squeezed = std::cell::OnceCell::new();
    p.names.iter().any(|alias| {
        own.contains(alias.as_str()) || {
            let a = squeeze(alias);
            a.chars().count() >= 5 && squeezed.get_or_init(|| squeeze(&own)).contains(&a)
        }
    })
}

fn by_wording<'r>(set: &'r RuleSet, t: &Texts) -> Option<(&'r Pack, Claim)> {
    let clashing = set.has_clash(&t.both);
    if !clashing && !set.may_claim(&t.both) {
        return None;
    }
    // The earliest claim wins: a phishing mail names its broker first, a footer comes last.
    set.packs
        .iter()
        .filter_map(|p| {
            // Clashing names are blanked out (same length stays irrelevant: only the order of
            // the claims' positions is compared, and blanking never moves a claim before another).
            let own = p.own_text(&t.both, clashing);
            p.claims
                .iter()
                .filter_map(|c| c.re.find(&own).map(|m| (m.start(), m.as_str().to_string())))
                .min_by_key(|(start, _)| *start)
                .map(|(start, w)| (start, p, w))
        })
        .min_by_key(|(start, _, _)| *start)
        .map(|(_, p, w)| (p, Claim::Wording(w)))
}

fn by_lookalike<'r>(set: &'r RuleSet, from_domain: &str, mail: &Mail) -> Option<(&'r Pack, Claim)> {
    let hit = set
        .lookalike_of(from_domain)
        .filter(|h| !clashes(set, &h.broker, from_domain))
        .or_else(|| {
            mail.links
                .iter()
                .filter_map(|l| href_host(&l.href))
                .find_map(|h| {
                    set.lookalike_of(&h)
                        .filter(|x| !clashes(set, &x.broker, &h))
                })
        })?;
    let pack = set.pack(&hit.broker)?;
    Some((pack, Claim::LookAlike(hit)))
}

/// Is `domain` a company whose name clashes with broker `id`'s (so no look-alike of it)?
fn clashes(set: &RuleSet, id: &str, domain: &str) -> bool {
    set.pack(id).is_some_and(|p| p.clash_domain(domain))
}

/// Links whose host imitates the claimed broker's own domain.
fn imitations(set: &RuleSet, pack: &Pack, mail: &Mail) -> Vec<Reason> {
    let mut out = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for host in mail.links.iter().filter_map(|l| href_host(&l.href)) {
        if pack.owns_domain(&host) || pack.clash_domain(&host) || !seen.insert(host.clone()) {
            continue;
        }
        if let Some(l) = set.lookalike_of(&host).filter(|l| l.broker == pack.id) {
            out.push(Reason::Imitation {
                host: host.clone(),
                broker: pack.name.clone(),
                look: l,
            });
        }
    }
    out
}

/// Links to a login, password or "confirm your details" page in a mail claiming a Japanese
/// broker: since 2025-10-15 the FSA guideline says such mail carries none.
fn login_links(set: &RuleSet, pack: &Pack, mail: &Mail) -> Vec<(String, String)> {
    if pack.country.as_deref() != Some("jp") {
        return Vec::new();
    }
    let mut out: Vec<(String, String)> = Vec::new();
    for l in &mail.links {
        let Some(host) = href_host(&l.href) else {
            continue;
        };
        if pack
            .login_link_exceptions
            .iter()
            .any(|p| p.re.is_match(&l.href))
        {
            continue;
        }
        let text = normalize(&l.text);
        let hit = set
            .generic
            .login_links
            .iter()
            .find_map(|p| p.re.find(&l.href).or_else(|| p.re.find(&text)));
        if let Some(m) = hit
            && !out.iter().any(|(h, _)| *h == host)
        {
            out.push((host, m.as_str().to_string()));
        }
    }
    out
}

/// Imitation signs worth telling about a mail that claims `pack`.
fn suspicious(set: &RuleSet, pack: &Pack, from_domain: &str, mail: &Mail) -> Vec<Reason> {
    let mut out = Vec::new();
    if let Some(l) = set.lookalike_of(from_domain) {
        out.push(Reason::SenderLookAlike(l));
    }
    let mut seen = std::collections::BTreeSet::new();
    for host in mail.links.iter().filter_map(|l| href_host(&l.href)) {
        if pack.owns_domain(&host) || !seen.insert(host.clone()) {
            continue;
        }
        // A link imitating the claimed broker itself is an imitation (see `imitations`).
        if let Some(l) = set.lookalike_of(&host).filter(|l| l.broker != pack.id) {
            out.push(Reason::LinkLookAlike(l));
        }
    }
    out.extend(
        mismatches(&mail.links)
            .into_iter()
            .map(Reason::LinkMismatch),
    );
    out
}

/// All condition groups of the rule hold: the cues that matched, or None.
fn matches(rule: &Rule, t: &Texts) -> Option<Vec<Cue>> {
    let mut cues = Vec::new();
    let any = |on: &'static str, pats: &[Pattern], hay: &str, cues: &mut Vec<Cue>| -> bool {
        if pats.is_empty() {
            return true;
        }
        match first_match(pats, hay) {
            Some((p, m)) => {
                cues.push(Cue {
                    on,
                    pattern: p.src.clone(),
                    matched: m,
                });
                true
            }
            None => false,
        }
    };
    if !(any("from", &rule.from, &t.from, &mut cues)
        && any("subject", &rule.subject, &t.subject, &mut cues)
        && any("body", &rule.body, &t.body, &mut cues)
        && any("text", &rule.text, &t.both, &mut cues))
    {
        return None;
    }
    for p in &rule.all {
        let m = p.re.find(&t.both)?;
        cues.push(Cue {
            on: "all",
            pattern: p.src.clone(),
            matched: m.as_str().to_string(),
        });
    }
    if rule.not.iter().any(|p| p.re.is_match(&t.both)) {
        return None;
    }
    Some(cues)
}

fn first_match<'p>(pats: &'p [Pattern], hay: &str) -> Option<(&'p Pattern, String)> {
    pats.iter()
        .find_map(|p| p.re.find(hay).map(|m| (p, m.as_str().to_string())))
}

fn extract(set: &RuleSet, rule: &Rule, t: &Texts) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (name, pats) in &rule.fields {
        let found = pats.iter().find_map(|p| {
            [&t.subject, &t.body].into_iter().find_map(|hay| {
                p.re.captures(hay)
                    .and_then(|c| c.name(name))
                    .map(|m| m.as_str().trim().to_string())
                    .filter(|v| !v.is_empty())
            })
        });
        if let Some(v) = found {
            out.insert(name.clone(), set.generic.canonical(name, &v));
        }
    }
    out
}

#[cfg(test)]
mod tests;
