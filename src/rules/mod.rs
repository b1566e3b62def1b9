//! Rule packs: which broker a mail is from (or claims to be), which notice it is, and the fields
//! it carries. Rules are data (rules/*.yaml); this module only compiles and applies them.

mod classify;
mod compile;
mod lazy;
pub mod lookalike;
mod model;
mod prefilter;

use std::borrow::Cow;

use crate::alert::language::Language;
use crate::event::EventKind;

pub use classify::{Claim, Classification, Cue, classify, unclaimed};
pub use compile::{load, load_texts};
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
    pub steps: Steps,
}

/// The playbook steps in each language alerts are written in. A pack that gives one language
/// has it in both (better the broker's own words than none).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Steps {
    ja: Vec<String>,
    en: Vec<String>,
}

impl Steps {
    pub fn new(ja: Vec<String>, en: Vec<String>) -> Steps {
        Steps { ja, en }
    }

    /// The same steps for every language.
    pub fn same(steps: Vec<String>) -> Steps {
        Steps {
            ja: steps.clone(),
            en: steps,
        }
    }

    /// The steps an alert in `lang` lists.
    pub fn get(&self, lang: Language) -> &[String] {
        match lang {
            Language::Ja => &self.ja,
            Language::En => &self.en,
        }
    }
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

    /// [`Pack::without_clashes`], skipped when [`RuleSet::has_clash`] said that no clashing name
    /// of any pack occurs in the text.
    pub fn own_text<'t>(&self, text: &'t str, clashing: bool) -> Cow<'t, str> {
        if clashing {
            self.without_clashes(text)
        } else {
            Cow::Borrowed(text)
        }
    }

    /// Removes the clashing companies' names from a text, so what remains claims only this broker.
    /// Borrows the text when no clashing name occurs in it (nearly always): no copy per pack.
    pub fn without_clashes<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let mut out = Cow::Borrowed(text);
        for c in &self.clashes {
            if let Cow::Owned(blanked) = c.re.replace_all(&out, " ") {
                out = Cow::Owned(blanked);
            }
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
        match prefilter::any_of(&self.lure_any, self.lure.iter(), false) {
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
    /// Every pack's claims, and every pack's clashes, as one alternation each (see
    /// [`RuleSet::may_claim`]); built on first use, when the packs no longer change.
    any_claim: std::sync::OnceLock<Option<regex::Regex>>,
    any_clash: std::sync::OnceLock<Option<regex::Regex>>,
    names: prefilter::Names,
    looks: prefilter::LookalikeMemo,
}

impl RuleSet {
    pub fn new(packs: Vec<Pack>, generic: Generic) -> RuleSet {
        let lookalike = lookalike::Index::new(&packs, &generic.lookalike);
        RuleSet {
            packs,
            generic,
            lookalike,
            ..RuleSet::default()
        }
    }

    /// [`lookalike::lookalike`] of `host`, remembered (the answer depends on the host and the
    /// packs only).
    pub fn lookalike_of(&self, host: &str) -> Option<lookalike::LookAlike> {
        if let Some(known) = self.looks.lock().get(host) {
            return known.clone();
        }
        let found = lookalike::lookalike(self, host);
        let mut memo = self.looks.lock();
        if memo.len() >= prefilter::LOOKALIKE_MEMO_MAX {
            memo.clear();
        }
        memo.insert(host.to_string(), found.clone());
        found
    }

    /// Can some pack's claim match `text` (normalised) as it is? False only when no claim of any
    /// pack occurs in it: one pass over the text instead of one per claim per pack (most mail
    /// names no broker, and the per-pack searches were a sixth of a scan's CPU). A text with a
    /// clashing name must still be tried per pack: blanking the name out changes what the
    /// claims see.
    pub fn may_claim(&self, text: &str) -> bool {
        let claims = self.packs.iter().flat_map(|p| &p.claims);
        prefilter::any_of(&self.any_claim, claims, true).is_none_or(|re| re.is_match(text))
    }

    /// Which packs (by position) have a display name that `name` (normalised, lowercase)
    /// contains, as written or, for a name of five characters or more, without white space on
    /// both sides; None when the index does not build.
    fn packs_named(&self, name: &str) -> Option<Vec<bool>> {
        let index = self
            .names
            .0
            .get_or_init(|| prefilter::NameIndex::new(&self.packs));
        Some(index.as_ref()?.packs_named(name, self.packs.len()))
    }

    /// Does any pack's clashing name occur in `text`? When not, every pack's
    /// [`Pack::without_clashes`] is the text itself.
    pub fn has_clash(&self, text: &str) -> bool {
        if self.packs.iter().all(|p| p.clashes.is_empty()) {
            return false;
        }
        let clashes = self.packs.iter().flat_map(|p| &p.clashes);
        prefilter::any_of(&self.any_clash, clashes, true).is_none_or(|re| re.is_match(text))
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
