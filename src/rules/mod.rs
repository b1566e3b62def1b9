//! Rule packs: which broker a mail is from (or claims to be), which notice it is, and the fields
//! it carries. Rules are data (rules/*.yaml); this module only compiles and applies them.

mod classify;
mod compile;
pub mod lookalike;
mod model;

use regex::Regex;

use crate::event::EventKind;

pub use classify::{Claim, Classification, Cue, classify};
pub use compile::{load, load_texts, regex};
pub use model::FIELD_NAMES;

/// A compiled regex with the source text as written (for explanations).
#[derive(Debug, Clone)]
pub struct Pattern {
    pub re: Regex,
    pub src: String,
}

/// The broker's official "not me" contact, from the pack.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Contact {
    pub phone: Vec<String>,
    pub url: Option<String>,
    pub steps: Vec<String>,
}

/// One broker's pack, merged over all files that name it.
#[derive(Debug, Clone, Default)]
pub struct Pack {
    pub id: String,
    pub name: String,
    /// Genuine sender domains (lowercase); subdomains count too.
    pub domains: Vec<String>,
    /// Names a sender may claim in its display name (normalised, lowercase).
    pub names: Vec<String>,
    /// Wording by which a mail presents itself as this broker.
    pub claims: Vec<Pattern>,
    pub contact: Contact,
    /// Tried in order; the first match wins.
    pub rules: Vec<Rule>,
    /// The first file that defined it.
    pub file: String,
}

impl Pack {
    /// Is `domain` one of the pack's domains or a subdomain of one?
    pub fn owns_domain(&self, domain: &str) -> bool {
        let d = domain.trim_end_matches('.').to_ascii_lowercase();
        self.domains
            .iter()
            .any(|g| d == *g || d.strip_suffix(g.as_str()).is_some_and(|p| p.ends_with('.')))
    }
}

/// A compiled rule.
#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    pub event: EventKind,
    pub subject: Vec<Pattern>,
    pub body: Vec<Pattern>,
    pub text: Vec<Pattern>,
    pub all: Vec<Pattern>,
    pub not: Vec<Pattern>,
    pub from: Vec<Pattern>,
    pub fields: Vec<(String, Vec<Pattern>)>,
    /// `file:line` where it was written.
    pub origin: String,
}

/// Every pack in effect.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    pub packs: Vec<Pack>,
}

impl RuleSet {
    pub fn pack(&self, id: &str) -> Option<&Pack> {
        self.packs.iter().find(|p| p.id == id)
    }

    /// Number of rules over all packs.
    pub fn rule_count(&self) -> usize {
        self.packs.iter().map(|p| p.rules.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_packs_compile() {
        let set = load(true, &[]).unwrap_or_else(|p| panic!("{p}"));
        for id in [
            "sbi", "rakuten", "monex", "matsui", "kabucom", "schwab", "fidelity", "vanguard",
            "ibkr",
        ] {
            let p = set.pack(id).unwrap_or_else(|| panic!("pack {id} missing"));
            assert!(!p.rules.is_empty(), "{id} has no rules");
            assert!(!p.domains.is_empty(), "{id} has no domains");
            assert!(
                p.rules.iter().any(|r| r.event.is_security()),
                "{id} has no security rule"
            );
        }
    }

    #[test]
    fn subdomains_belong_to_the_pack() {
        let p = Pack {
            domains: vec!["sbisec.co.jp".into()],
            ..Pack::default()
        };
        assert!(p.owns_domain("sbisec.co.jp") && p.owns_domain("psmtp01.SBISEC.co.jp"));
        assert!(!p.owns_domain("evilsbisec.co.jp") && !p.owns_domain("sbisec.co.jp.evil.example"));
    }
}
