//! Applying packs to a mail: which broker it is from or claims to be, which rule matches, and
//! what the rule extracts. No judgement on authenticity here (that is `assess`).

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

use super::lookalike::{LookAlike, lookalike as judge_lookalike};
use super::{Pack, Pattern, Rule, RuleSet};
use crate::links::{describe, href_host, mismatches};
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
    /// The sender's domain, or a link's, imitates the broker's (the reason).
    LookAlike(String),
}

impl Claim {
    /// One line for explanations.
    pub fn describe(&self) -> String {
        match self {
            Claim::Domain(d) => format!("sent from the broker's domain `{d}`"),
            Claim::DisplayName(n) => format!("the sender's display name says `{n}`"),
            Claim::Wording(w) => format!("the mail presents itself as the broker: `{w}`"),
            Claim::LookAlike(why) => format!("look-alike: {why}"),
        }
    }
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
    pub notes: Vec<String>,
    /// Signs of imitation: look-alike sender or link domains, links that hide their target.
    /// They count only for a mail that is not authentic (genuine mail has tracking links).
    pub suspicious: Vec<String>,
}

impl Classification<'_> {
    /// The same classification, freed from the rules when it claims no broker (it then borrows
    /// nothing from them); None when it does.
    pub fn unclaimed(self) -> Option<Classification<'static>> {
        if self.pack.is_some() || self.rule.is_some() {
            return None;
        }
        Some(Classification {
            pack: None,
            claim: self.claim,
            rule: None,
            fields: self.fields,
            cues: self.cues,
            notes: self.notes,
            suspicious: self.suspicious,
        })
    }
}

/// The texts rules run on, normalised once.
struct Texts {
    subject: String,
    body: String,
    both: String,
    from: String,
}

/// Look-alike verdicts already computed on this thread, for the packs' domains they were computed
/// against. `lookalike` rebuilds the skeleton of every genuine domain on each call (~75 µs), and a
/// scan asks it about every mail's sender domain twice (candidate test, then judgement), while a
/// mailbox has few distinct sender domains: without this, it was 60 % of `brokerwatch scan`'s CPU.
#[derive(Default)]
struct LookalikeMemo {
    /// (pack id, genuine domains) of the set the verdicts hold for: they depend on nothing else.
    domains_of: Vec<(String, Vec<String>)>,
    verdicts: HashMap<String, Option<LookAlike>>,
}

/// Bounds the memo of a long-running daemon; a full memo starts over.
const LOOKALIKE_MEMO_MAX: usize = 4096;

thread_local! {
    static LOOKALIKE_MEMO: RefCell<LookalikeMemo> = RefCell::default();
}

/// `lookalike::lookalike`, memoised per host.
fn lookalike(set: &RuleSet, domain: &str) -> Option<LookAlike> {
    LOOKALIKE_MEMO.with_borrow_mut(|memo| {
        let same_set = memo.domains_of.len() == set.packs.len()
            && memo
                .domains_of
                .iter()
                .zip(&set.packs)
                .all(|((id, domains), p)| *id == p.id && *domains == p.domains);
        if !same_set {
            memo.domains_of = set
                .packs
                .iter()
                .map(|p| (p.id.clone(), p.domains.clone()))
                .collect();
            memo.verdicts.clear();
        }
        if let Some(v) = memo.verdicts.get(domain) {
            return v.clone();
        }
        if memo.verdicts.len() >= LOOKALIKE_MEMO_MAX {
            memo.verdicts.clear();
        }
        let v = judge_lookalike(set, domain);
        memo.verdicts.insert(domain.to_string(), v.clone());
        v
    })
}

/// Finds the broker and the first matching rule of its pack.
pub fn classify<'r>(set: &'r RuleSet, mail: &Mail) -> Classification<'r> {
    let mut out = Classification::default();
    let from_domain = mail.from.as_ref().map_or("", |f| f.domain());
    let own_pack = set
        .packs
        .iter()
        .find(|p| !from_domain.is_empty() && p.owns_domain(from_domain));
    if mail.forwarded && own_pack.is_none() {
        out.notes.push(format!(
            "forwarded by {}: a forwarded or quoted notice is not a new event",
            mail.from
                .as_ref()
                .map_or("an unknown sender", |f| f.address.as_str())
        ));
        return out;
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
    let Some((pack, claim)) = own_pack
        .map(|p| (p, Claim::Domain(from_domain.to_string())))
        .or_else(|| by_display_name(set, mail))
        .or_else(|| by_wording(set, &t))
        .or_else(|| by_lookalike(set, from_domain, mail))
    else {
        return out;
    };
    out.suspicious = suspicious(set, pack, from_domain, mail);
    out.pack = Some(pack);
    out.claim = Some(claim);
    for rule in &pack.rules {
        if let Some(cues) = matches(rule, &t) {
            out.rule = Some(rule);
            out.cues = cues;
            out.fields = extract(rule, &t);
            break;
        }
    }
    out
}

fn by_display_name<'r>(set: &'r RuleSet, mail: &Mail) -> Option<(&'r Pack, Claim)> {
    let name = mail.from.as_ref()?.name.as_ref()?;
    let n = normalize(name).to_lowercase();
    set.packs.iter().find_map(|p| {
        p.names
            .iter()
            .find(|alias| n.contains(alias.as_str()))
            .map(|_| (p, Claim::DisplayName(name.clone())))
    })
}

fn by_wording<'r>(set: &'r RuleSet, t: &Texts) -> Option<(&'r Pack, Claim)> {
    // The earliest claim wins: a phishing mail names its broker first, a footer comes last.
    set.packs
        .iter()
        .filter_map(|p| {
            p.claims
                .iter()
                .filter_map(|c| c.re.find(&t.both))
                .min_by_key(|m| m.start())
                .map(|m| (m.start(), p, m.as_str().to_string()))
        })
        .min_by_key(|(start, _, _)| *start)
        .map(|(_, p, w)| (p, Claim::Wording(w)))
}

fn by_lookalike<'r>(set: &'r RuleSet, from_domain: &str, mail: &Mail) -> Option<(&'r Pack, Claim)> {
    let hit = lookalike(set, from_domain).or_else(|| {
        mail.links
            .iter()
            .filter_map(|l| href_host(&l.href))
            .find_map(|h| lookalike(set, &h))
    })?;
    let pack = set.pack(&hit.broker)?;
    Some((pack, Claim::LookAlike(hit.why)))
}

/// Imitation signs worth telling about a mail that claims `pack`.
fn suspicious(set: &RuleSet, pack: &Pack, from_domain: &str, mail: &Mail) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(l) = lookalike(set, from_domain) {
        out.push(format!("the sender's domain imitates a broker: {}", l.why));
    }
    let mut seen = std::collections::BTreeSet::new();
    for host in mail.links.iter().filter_map(|l| href_host(&l.href)) {
        if pack.owns_domain(&host) || !seen.insert(host.clone()) {
            continue;
        }
        if let Some(l) = lookalike(set, &host) {
            out.push(format!("a link imitates a broker: {}", l.why));
        }
    }
    out.extend(mismatches(&mail.links).iter().map(describe));
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

fn extract(rule: &Rule, t: &Texts) -> BTreeMap<String, String> {
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
            out.insert(name.clone(), v);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::parse;
    use crate::rules::load_texts;

    const PACK: &str = r#"
broker: sbi
name: SBI証券
domains: [sbisec.co.jp]
names: [SBI証券]
claims: ['【SBI証券】']
contact: {phone: ['0120-000-000']}
rules:
  - id: sbi-withdrawal
    event: withdrawal
    subject: ['出金']
    body: ['出金指示を受け付けました', '出金のご依頼']
    not: ['キャンペーン']
    fields:
      amount: ['出金金額\s*:?\s*(?P<amount>[0-9,]+)円']
"#;

    fn set() -> RuleSet {
        load_texts(&[("sbi.yaml".into(), PACK.into())]).unwrap()
    }

    fn mail(from: &str, subject: &str, body: &str) -> Mail {
        let raw = format!("From: {from}\r\nSubject: {subject}\r\n\r\n{body}\r\n");
        parse(raw.as_bytes(), true).unwrap()
    }

    #[test]
    fn full_width_notice_matches_and_fields_are_extracted() {
        let set = set();
        let m = mail(
            "info@sbisec.co.jp",
            "出金指示受付のお知らせ",
            "出金指示を受け付けました。\r\n出金金額：１，２００，０００円",
        );
        let c = classify(&set, &m);
        assert_eq!(c.pack.map(|p| p.id.as_str()), Some("sbi"));
        assert_eq!(c.rule.map(|r| r.id.as_str()), Some("sbi-withdrawal"));
        assert_eq!(
            c.fields.get("amount").map(String::as_str),
            Some("1,200,000")
        );
        assert_eq!(c.cues.len(), 2);
    }

    #[test]
    fn claims_by_name_or_wording_and_exclusions() {
        let set = set();
        let m = mail("\"SBI証券\" <x@evil.example>", "出金", "出金のご依頼");
        assert!(matches!(
            classify(&set, &m).claim,
            Some(Claim::DisplayName(_))
        ));
        let m = mail("x@evil.example", "【SBI証券】出金", "出金のご依頼");
        assert!(matches!(classify(&set, &m).claim, Some(Claim::Wording(_))));
        let m = mail("info@sbisec.co.jp", "出金キャンペーン", "出金のご依頼");
        assert!(classify(&set, &m).rule.is_none());
        let m = mail("shop@shop.example", "出金", "出金のご依頼");
        assert!(classify(&set, &m).pack.is_none());
    }

    #[test]
    fn memoised_lookalike_follows_the_rule_set() {
        let sbi = set();
        let other = load_texts(&[(
            "x.yaml".into(),
            "broker: x\nname: X\ndomains: [sbi-sec.example]\nrules: []\n".into(),
        )])
        .unwrap();
        // The same host judged against two sets in turn: each answer is that set's own.
        for _ in 0..2 {
            assert_eq!(
                lookalike(&sbi, "sbisec-co-jp.com"),
                judge_lookalike(&sbi, "sbisec-co-jp.com")
            );
            assert!(lookalike(&sbi, "sbisec-co-jp.com").is_some());
            assert_eq!(
                lookalike(&other, "sbisec-co-jp.com"),
                judge_lookalike(&other, "sbisec-co-jp.com")
            );
            assert_eq!(lookalike(&other, "sbi-sec.example"), None);
        }
    }

    #[test]
    fn a_forwarded_notice_is_no_event() {
        let set = set();
        let m = mail(
            "me@example.jp",
            "Fwd: 【SBI証券】出金",
            "見て\r\n> 出金のご依頼",
        );
        let c = classify(&set, &m);
        assert!(c.pack.is_none() && c.rule.is_none());
        assert!(!c.notes.is_empty());
    }
}
