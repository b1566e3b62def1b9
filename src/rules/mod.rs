//! Rule packs: which broker a mail is from (or claims to be), which notice it is, and the fields
//! it carries. Rules are data (rules/*.yaml); this module only compiles and applies them.

mod classify;
mod compile;
mod lazy;
pub mod lookalike;
mod model;

use crate::event::EventKind;

pub use classify::{Claim, Classification, Cue, classify};
pub use compile::{load, load_texts, regex};
pub use lazy::LazyRegex;
pub use model::FIELD_NAMES;

/// A compiled regex with the source text as written (for explanations).
#[derive(Debug, Clone)]
pub struct Pattern {
    /// Compiled on first use for the shipped packs (see `lazy`).
    pub re: LazyRegex,
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
    /// `jp` or `us` when the pack says so.
    pub country: Option<String>,
    /// Names of other companies that contain this broker's name (Fidelity Life, 住信SBIネット銀行):
    /// a display name or wording inside one of them does not claim this broker.
    pub clashes: Vec<Pattern>,
    /// Those companies' own domains: never this broker's, never a look-alike of it.
    pub clash_domains: Vec<String>,
    /// Links this broker really puts in mail although they reach a login or one-time-password
    /// page (Monex's one-time-password display link since 2025-09-30).
    pub login_link_exceptions: Vec<Pattern>,
    pub contact: Contact,
    /// Tried in order; the first match wins.
    pub rules: Vec<Rule>,
    /// The first file that defined it.
    pub file: String,
}

impl Pack {
    /// Is `domain` one of the pack's domains or a subdomain of one?
    pub fn owns_domain(&self, domain: &str) -> bool {
        within(domain, &self.domains)
    }

    /// Is `domain` (or a parent of it) the domain of a company whose name clashes with this one?
    pub fn clash_domain(&self, domain: &str) -> bool {
        within(domain, &self.clash_domains)
    }

    /// Removes the clashing companies' names from a text, so what remains claims only this broker.
    pub fn without_clashes(&self, text: &str) -> String {
        let mut out = text.to_string();
        for c in &self.clashes {
            out = c.re.replace_all(&out, " ").into_owned();
        }
        out
    }
}

/// Is `domain` one of `list` (lowercase) or a subdomain of one?
fn within(domain: &str, list: &[String]) -> bool {
    let d = domain.trim_end_matches('.').to_ascii_lowercase();
    list.iter()
        .any(|g| d == *g || d.strip_suffix(g.as_str()).is_some_and(|p| p.ends_with('.')))
}

/// One field's canonical values: (field, [(value, patterns on the captured text)]), in order.
pub type FieldValues = (String, Vec<(String, Vec<Pattern>)>);

/// Broker-neutral knowledge, tried on a broker's mail when its own pack does not classify it
/// (rules/_generic.yaml, `generic: true`).
#[derive(Debug, Clone, Default)]
pub struct Generic {
    /// Broker-neutral security rules (ids `generic-…`).
    pub rules: Vec<Rule>,
    /// Security vocabulary: an unclassified mail from a broker's domain that carries it raises
    /// "read this unrecognised notice".
    pub vocabulary: Vec<Pattern>,
    /// Wording of marketing that merely mentions security: keeps the last resort quiet.
    pub quiet: Vec<Pattern>,
    /// Link targets that are a login, password or "confirm your details" page.
    pub login_links: Vec<Pattern>,
    /// Canonical values of extracted fields, per field.
    pub values: Vec<FieldValues>,
    /// Subject and sender-name wording worth fetching a body for (see [`Generic::lures`]).
    pub lure: Vec<Pattern>,
    /// `lure` as one alternation, built on the first [`Generic::lures`] (after loading, when
    /// `lure` no longer changes): the candidate test runs on every header of a scan, and one
    /// pass beats one per pattern. None when the alternation does not build (then per pattern).
    lure_any: std::sync::OnceLock<Option<regex::Regex>>,
    /// What look-alike judgement knows about names and added words (rules/_lookalike.yaml).
    pub lookalike: lookalike::Words,
}

impl Generic {
    /// Does a mail's subject or sender name (normalised) carry wording that lures people into
    /// acting on an account, so that its body is worth fetching even though it claims no broker?
    pub fn lures(&self, text: &str) -> bool {
        let any = self.lure_any.get_or_init(|| {
            let alternatives: Vec<String> =
                self.lure.iter().map(|p| format!("(?:{})", p.src)).collect();
            (!alternatives.is_empty())
                .then(|| lazy::build(&alternatives.join("|")).ok())
                .flatten()
        });
        match any {
            Some(re) => re.is_match(text),
            None => self.lure.iter().any(|p| p.re.is_match(text)),
        }
    }

    /// The canonical form of a captured field value (the capture itself when no entry matches).
    pub fn canonical(&self, field: &str, raw: &str) -> String {
        self.values
            .iter()
            .filter(|(f, _)| f == field)
            .flat_map(|(_, vals)| vals)
            .find(|(_, pats)| pats.iter().any(|p| p.re.is_match(raw)))
            .map_or_else(|| raw.to_string(), |(v, _)| v.clone())
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
    pub generic: Generic,
    /// The packs' domains prepared for look-alike judgement (built by [`RuleSet::new`]).
    pub lookalike: lookalike::Index,
}

impl RuleSet {
    pub fn new(packs: Vec<Pack>, generic: Generic) -> RuleSet {
        let lookalike = lookalike::Index::new(&packs, &generic.lookalike);
        RuleSet {
            packs,
            generic,
            lookalike,
        }
    }

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
    fn the_lure_alternation_says_what_each_lure_pattern_says() {
        let set = load(true, &[]).unwrap_or_else(|p| panic!("{p}"));
        let g = &set.generic;
        for text in [
            "【重要】ログイン確認",
            "please verify your account",
            "Sign-in alert",
            "週末のセール情報",
            "weekly newsletter",
            "",
        ] {
            let each = g.lure.iter().any(|p| p.re.is_match(text));
            assert_eq!(g.lures(text), each, "{text}");
        }
        assert!(
            g.lure_any.get().is_some_and(Option::is_some),
            "one alternation"
        );
    }

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
