//! Rule packs → compiled [`RuleSet`]: regexes built (case-insensitive, on NFKC text), ids checked,
//! the user's packs merged over the shipped ones. Every problem is reported with `file:line:col`.

use std::collections::BTreeMap;
use std::path::Path;

use regex::{Regex, RegexBuilder};

use super::lazy::{self, LazyRegex};
use super::lookalike::Words;
use super::model::{
    COUNTRIES, FIELD_NAMES, GENERIC_KEYS, PACK_KEYS, RawContact, RawLookalike, RawRule,
};
use super::{Contact, FieldValues, Generic, Pack, Pattern, Rule, RuleSet};
use crate::event::EventKind;
use crate::text::normalize;
use crate::yaml::{At, Collector, Loc, Node, Problems};

mod shipped {
    include!(concat!(env!("OUT_DIR"), "/shipped_rules.rs"));
}

/// The shipped packs (if enabled), then every `*.yaml` of each directory in order; a later rule
/// with the same id replaces the earlier one.
pub fn load(shipped: bool, dirs: &[std::path::PathBuf]) -> Result<RuleSet, Problems> {
    let mut files: Vec<(String, String)> = Vec::new();
    let mut c = Collector::new("rules");
    if shipped {
        files.extend(
            shipped::SHIPPED
                .iter()
                .map(|(n, t)| (format!("rules/{n}"), t.to_string())),
        );
    }
    // The shipped packs' patterns are compiled on first use (see `lazy`), the user's at once.
    let deferred = files.len();
    for dir in dirs {
        match read_dir_yaml(dir) {
            Ok(found) => files.extend(found),
            Err(e) => c.error(Loc { line: 1, col: 1 }, format!("{}: {e}", dir.display())),
        }
    }
    let mut problems = c.problems;
    let set = match load_files(&files, deferred) {
        Ok(set) => set,
        Err(p) => {
            problems.extend(p.0);
            RuleSet::default()
        }
    };
    if problems.is_empty() {
        Ok(set)
    } else {
        Err(Problems(problems))
    }
}

fn read_dir_yaml(dir: &Path) -> std::io::Result<Vec<(String, String)>> {
    let mut paths: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| Ok((p.display().to_string(), std::fs::read_to_string(&p)?)))
        .collect()
}

/// Compiles packs from (label, text) pairs, merging by broker id in order.
pub fn load_texts(files: &[(String, String)]) -> Result<RuleSet, Problems> {
    load_files(files, 0)
}

/// `load_texts`, with the patterns of the first `deferred` files (the shipped packs, known to
/// compile) compiled on first use.
fn load_files(files: &[(String, String)], deferred: usize) -> Result<RuleSet, Problems> {
    let _shared = lazy::interning();
    let mut problems = Vec::new();
    let mut packs: Vec<Pack> = Vec::new();
    let mut generic_parts: Vec<Generic> = Vec::new();
    for (i, (label, text)) in files.iter().enumerate() {
        let lazy = i < deferred;
        let mut c = Collector::new(label.clone());
        if let Some(root) = c.parse(text) {
            if is_generic(&root) {
                generic_parts.extend(generic(&mut c, &root, lazy));
            } else if let Some(part) = pack(&mut c, &root, lazy) {
                merge(&mut packs, part);
            }
        }
        problems.extend(c.problems);
    }
    check_complete(&packs, &mut problems);
    let generic = merge_generic(generic_parts);
    check_generic_ids(&packs, &mut problems);
    if problems.is_empty() {
        Ok(RuleSet::new(packs, generic))
    } else {
        problems.sort_by(|a, b| (&a.file, a.loc).cmp(&(&b.file, b.loc)));
        Err(Problems(problems))
    }
}

/// A pack as one file gives it; fields it leaves out stay as the earlier file had them.
struct PackPart {
    id: String,
    file: String,
    name: Option<String>,
    country: Option<String>,
    domains: Vec<String>,
    names: Vec<String>,
    claims: Vec<Pattern>,
    clashes: Vec<Pattern>,
    clash_domains: Vec<String>,
    login_link_exceptions: Vec<Pattern>,
    contact: Option<Contact>,
    rules: Vec<Rule>,
}

/// A file with `generic: true` at the top is broker-neutral knowledge, not a broker's pack.
fn is_generic(root: &Node) -> bool {
    root.as_map().is_some_and(|m| {
        m.iter()
            .any(|(k, _)| k.scalar_text().as_deref() == Some("generic"))
    })
}

fn generic(c: &mut Collector, root: &Node, lazy: bool) -> Option<Generic> {
    let mut g = Generic::default();
    for (key, node) in c.entries(root, GENERIC_KEYS) {
        match key.as_str() {
            "generic" => {
                let on: At<bool> = c.take(node)?;
                if !on.value {
                    c.error(on.loc, "`generic` must be `true` in a generic rules file");
                }
            }
            "vocabulary" => g.vocabulary = list(c, node, lazy),
            "quiet" => g.quiet = list(c, node, lazy),
            "login_links" => g.login_links = list(c, node, lazy),
            "values" => g.values = values(c, node, lazy),
            "rules" => g.rules = rules(c, node, lazy),
            "lure" => g.lure = list(c, node, lazy),
            "lookalike" => g.lookalike = lookalike_words(c, node),
            _ => unreachable!("key list and match arms agree"),
        }
    }
    for r in &g.rules {
        if !r.id.starts_with("generic-") {
            let line = r.origin.rsplit(':').next().and_then(|l| l.parse().ok());
            c.error(
                Loc {
                    line: line.unwrap_or(1),
                    col: 1,
                },
                format!("a generic rule's id starts with `generic-`: `{}`", r.id),
            );
        }
    }
    Some(g)
}

/// `values: {field: {canonical: [pattern, …]}}`, order kept (the first value that matches wins).
fn values(c: &mut Collector, node: &Node, lazy: bool) -> Vec<FieldValues> {
    let Some(fields) = node.as_map() else {
        c.error(
            node.loc,
            "`values` must be a mapping of field → value → patterns",
        );
        return Vec::new();
    };
    let mut out = Vec::new();
    for (k, v) in fields {
        let field = k.scalar_text().unwrap_or_default();
        if !FIELD_NAMES.contains(&field.as_str()) {
            c.error(
                k.loc,
                format!(
                    "unknown field name `{field}` (expected one of: {})",
                    FIELD_NAMES.join(", ")
                ),
            );
            continue;
        }
        let Some(vals) = v.as_map() else {
            c.error(
                v.loc,
                format!("`values.{field}` must be a mapping of value → patterns"),
            );
            continue;
        };
        let vals = vals
            .iter()
            .map(|(name, pats)| (name.scalar_text().unwrap_or_default(), list(c, pats, lazy)))
            .collect();
        out.push((field, vals));
    }
    out
}

/// `lookalike:` words, lowercase; a confusable is one letter for one letter.
fn lookalike_words(c: &mut Collector, node: &Node) -> Words {
    let raw: RawLookalike = c.take(node).unwrap_or_default();
    let lower = |v: Vec<String>| v.iter().map(|w| w.trim().to_lowercase()).collect();
    let mut confusables = Vec::new();
    for (from, to) in raw.confusables {
        let (mut f, mut t) = (from.chars(), to.chars());
        match (f.next(), f.next(), t.next(), t.next()) {
            (Some(f), None, Some(t), None) if t.is_ascii_lowercase() => confusables.push((f, t)),
            _ => c.error(
                node.loc,
                format!("confusable `{from}: {to}` must map one letter to one Latin a-z letter"),
            ),
        }
    }
    Words {
        ordinary_names: lower(raw.ordinary_names),
        not_typos: lower(raw.not_typos),
        strong: lower(raw.strong_words),
        weak: lower(raw.weak_words),
        name_parts: lower(raw.name_parts),
        confusables,
    }
}

fn list(c: &mut Collector, node: &Node, lazy: bool) -> Vec<Pattern> {
    let v: Vec<At<String>> = c.take(node).unwrap_or_default();
    v.iter().filter_map(|p| pattern(c, p, lazy)).collect()
}

fn rules(c: &mut Collector, node: &Node, lazy: bool) -> Vec<Rule> {
    let raw: Vec<(Loc, RawRule)> = c.take_each(node, "rules");
    raw.into_iter()
        .filter_map(|(loc, r)| rule(c, loc, r, lazy))
        .collect()
}

/// Later generic files extend the earlier ones, their rules merged as a pack's are.
fn merge_generic(parts: Vec<Generic>) -> Generic {
    let mut g = Generic::default();
    for p in parts {
        g.vocabulary.extend(p.vocabulary);
        g.quiet.extend(p.quiet);
        g.login_links.extend(p.login_links);
        g.values.extend(p.values);
        g.lure.extend(p.lure);
        g.lookalike.extend(p.lookalike);
        merge_rules(&mut g.rules, p.rules);
    }
    g
}

/// `generic-` rule ids are reserved for the generic rules, so a verdict's rule id says which kind matched.
fn check_generic_ids(packs: &[Pack], problems: &mut Vec<crate::yaml::Problem>) {
    for p in packs {
        for r in p.rules.iter().filter(|r| r.id.starts_with("generic-")) {
            let mut c = Collector::new(p.file.clone());
            let line = r.origin.rsplit(':').next().and_then(|l| l.parse().ok());
            c.error(
                Loc {
                    line: line.unwrap_or(1),
                    col: 1,
                },
                format!(
                    "rule id `{}`: `generic-` ids belong to the generic rules",
                    r.id
                ),
            );
            problems.extend(c.problems);
        }
    }
}

fn pack(c: &mut Collector, root: &Node, lazy: bool) -> Option<PackPart> {
    let mut part = PackPart {
        id: String::new(),
        file: c.file.clone(),
        name: None,
        country: None,
        domains: Vec::new(),
        names: Vec::new(),
        claims: Vec::new(),
        clashes: Vec::new(),
        clash_domains: Vec::new(),
        login_link_exceptions: Vec::new(),
        contact: None,
        rules: Vec::new(),
    };
    for (key, node) in c.entries(root, PACK_KEYS) {
        match key.as_str() {
            "broker" => {
                let id: At<String> = c.take(node)?;
                if id.value.is_empty()
                    || !id.value.chars().all(|ch| {
                        ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_' || ch == '-'
                    })
                {
                    c.error(
                        id.loc,
                        format!(
                            "broker id `{}` must be lowercase letters, digits, `_` or `-`",
                            id.value
                        ),
                    );
                }
                part.id = id.value;
            }
            "name" => part.name = c.take(node),
            "country" => {
                let at: Option<At<String>> = c.take(node);
                if let Some(at) = at {
                    if COUNTRIES.contains(&at.value.as_str()) {
                        part.country = Some(at.value);
                    } else {
                        c.error(
                            at.loc,
                            format!(
                                "unknown country `{}` (expected one of: {})",
                                at.value,
                                COUNTRIES.join(", ")
                            ),
                        );
                    }
                }
            }
            "clashes" => part.clashes = list(c, node, lazy),
            "clash_domains" => {
                let d: Vec<String> = c.take(node).unwrap_or_default();
                part.clash_domains = d.iter().map(|d| d.trim().to_ascii_lowercase()).collect();
            }
            "login_link_exceptions" => part.login_link_exceptions = list(c, node, lazy),
            "domains" => {
                let d: Vec<String> = c.take(node).unwrap_or_default();
                part.domains = d
                    .iter()
                    .map(|d| d.trim().trim_start_matches('@').to_ascii_lowercase())
                    .collect();
            }
            "names" => {
                let n: Vec<String> = c.take(node).unwrap_or_default();
                part.names = n
                    .iter()
                    .map(|n| normalize(n).to_lowercase())
                    .filter(|n| !n.is_empty())
                    .collect();
            }
            "claims" => part.claims = list(c, node, lazy),
            "contact" => part.contact = c.take::<RawContact>(node).map(contact),
            "rules" => part.rules = rules(c, node, lazy),
            _ => unreachable!("key list and match arms agree"),
        }
    }
    if part.id.is_empty() {
        c.error(root.loc, "a rule pack needs `broker: <id>`");
        return None;
    }
    Some(part)
}

fn contact(r: RawContact) -> Contact {
    Contact {
        phone: r.phone,
        url: r.url,
        steps: r.steps,
    }
}

fn pattern(c: &mut Collector, p: &At<String>, lazy: bool) -> Option<Pattern> {
    // NOTE: patterns are normalised like the text they run on, so a full-width `：` written in a
    // pack still matches the `:` the text turns into.
    let src = normalize(&p.value);
    if lazy {
        return Some(Pattern {
            re: LazyRegex::deferred(src),
            src: p.value.clone(),
        });
    }
    match LazyRegex::compile(src) {
        Ok(re) => Some(Pattern {
            re,
            src: p.value.clone(),
        }),
        Err(e) => {
            let msg = e.to_string();
            let last = msg
                .lines()
                .rfind(|l| !l.trim().is_empty())
                .unwrap_or("")
                .trim()
                .to_string();
            c.error(
                p.loc,
                format!(
                    "invalid regex `{}`: {}",
                    p.value,
                    last.trim_start_matches("error: ")
                ),
            );
            None
        }
    }
}

fn patterns(c: &mut Collector, v: &Option<Vec<At<String>>>, lazy: bool) -> Vec<Pattern> {
    v.iter()
        .flatten()
        .filter_map(|p| pattern(c, p, lazy))
        .collect()
}

fn rule(c: &mut Collector, loc: Loc, r: RawRule, lazy: bool) -> Option<Rule> {
    let event = match r.event.value.parse::<EventKind>() {
        Ok(e) => Some(e),
        Err(e) => {
            c.error(r.event.loc, e.to_string());
            None
        }
    };
    if r.subject.is_none() && r.body.is_none() && r.text.is_none() && r.all.is_none() {
        c.error(
            loc,
            format!(
                "rule `{}` needs at least one of `subject`, `body`, `text` or `all`",
                r.id.value
            ),
        );
    }
    let mut fields = Vec::new();
    for (name, pats) in r.fields.iter().flatten() {
        let first = pats.first().map_or(loc, |p| p.loc);
        if !FIELD_NAMES.contains(&name.as_str()) {
            c.error(
                first,
                format!(
                    "unknown field name `{name}` (expected one of: {})",
                    FIELD_NAMES.join(", ")
                ),
            );
            continue;
        }
        let compiled: Vec<Pattern> = pats.iter().filter_map(|p| pattern(c, p, lazy)).collect();
        // Checked when compiled; a deferred (shipped) pattern is checked by the tests.
        for (p, at) in compiled
            .iter()
            .zip(pats)
            .filter(|(p, _)| p.re.is_compiled())
        {
            if !p.re.capture_names().any(|n| n == Some(name.as_str())) {
                c.error(
                    at.loc,
                    format!("regex for field `{name}` has no named group `(?P<{name}>...)`"),
                );
            }
        }
        fields.push((name.clone(), compiled));
    }
    // Every pattern is compiled (and reported) even when the event is wrong.
    let (subject, body, text) = (
        patterns(c, &r.subject, lazy),
        patterns(c, &r.body, lazy),
        patterns(c, &r.text, lazy),
    );
    let (all, not, from) = (
        patterns(c, &r.all, lazy),
        patterns(c, &r.not, lazy),
        patterns(c, &r.from, lazy),
    );
    Some(Rule {
        id: r.id.value.clone(),
        event: event?,
        subject,
        body,
        text,
        all,
        not,
        from,
        fields,
        origin: format!("{}:{}", c.file, r.id.loc.line),
    })
}

fn merge(packs: &mut Vec<Pack>, part: PackPart) {
    let idx = match packs.iter().position(|p| p.id == part.id) {
        Some(i) => i,
        None => {
            packs.push(Pack {
                id: part.id.clone(),
                file: part.file.clone(),
                ..Pack::default()
            });
            packs.len() - 1
        }
    };
    let p = &mut packs[idx];
    if let Some(n) = part.name {
        p.name = n;
    }
    for d in part.domains {
        if !p.domains.contains(&d) {
            p.domains.push(d);
        }
    }
    if part.country.is_some() {
        p.country = part.country;
    }
    p.names.extend(part.names);
    p.claims.extend(part.claims);
    p.clashes.extend(part.clashes);
    p.clash_domains.extend(part.clash_domains);
    p.login_link_exceptions.extend(part.login_link_exceptions);
    if let Some(c) = part.contact {
        p.contact = c;
    }
    merge_rules(&mut p.rules, part.rules);
}

/// A later file's rules: one with an existing id replaces it; the others are tried before the
/// earlier ones (the user's additional rules are the more specific).
fn merge_rules(rules: &mut Vec<Rule>, later: Vec<Rule>) {
    let mut new_rules = Vec::new();
    for r in later {
        match rules.iter_mut().find(|x| x.id == r.id) {
            Some(existing) => *existing = r,
            None => new_rules.push(r),
        }
    }
    new_rules.append(rules);
    *rules = new_rules;
}

fn check_complete(packs: &[Pack], problems: &mut Vec<crate::yaml::Problem>) {
    let mut ids: BTreeMap<&str, &str> = BTreeMap::new();
    for p in packs {
        let mut c = Collector::new(p.file.clone());
        let top = Loc { line: 1, col: 1 };
        if p.name.is_empty() {
            c.error(top, format!("broker `{}` has no `name`", p.id));
        }
        if p.domains.is_empty() {
            c.error(
                top,
                format!("broker `{}` has no genuine sender `domains`", p.id),
            );
        }
        for r in &p.rules {
            if let Some(other) = ids.insert(&r.id, &p.id)
                && other != p.id
            {
                let line = r
                    .origin
                    .rsplit(':')
                    .next()
                    .and_then(|l| l.parse().ok())
                    .unwrap_or(1);
                c.error(
                    Loc { line, col: 1 },
                    format!(
                        "rule id `{}` is used by brokers `{other}` and `{}`",
                        r.id, p.id
                    ),
                );
            }
        }
        problems.extend(c.problems);
    }
}

/// Compiles one regex the way packs do (for tests and the look-alike checks).
pub fn regex(src: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(&normalize(src))
        .case_insensitive(true)
        .build()
}

#[cfg(test)]
mod tests;
