//! Rule packs → compiled [`RuleSet`]: regexes built (case-insensitive, on NFKC text), ids checked,
//! the user's packs merged over the shipped ones. Every problem is reported with `file:line:col`.

use std::collections::BTreeMap;
use std::path::Path;

use super::lazy::{self, LazyRegex};
use super::lookalike::Words;
use super::model::{
    COUNTRIES, FIELD_NAMES, RawContact, RawGeneric, RawLookalike, RawPack, RawRule, RawSteps,
    RawStepsByLanguage,
};
use super::{Contact, FieldValues, Generic, Pack, Pattern, Rule, RuleSet, Steps};
use crate::event::EventKind;
use crate::text::normalize;
use crate::yaml::{At, Collector, Loc, Ordered, Problems};

mod generic;
mod pack;
mod read;

use generic::*;
use pack::*;
use read::{RawFile, read_all};

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
    for (i, ((label, _), (raw, read_problems))) in files.iter().zip(read_all(files)).enumerate() {
        let lazy = i < deferred;
        let mut c = Collector::new(label.clone());
        c.problems = read_problems;
        match raw {
            Some(RawFile::Generic(r)) => generic_parts.extend(generic(&mut c, *r, lazy)),
            Some(RawFile::Pack(r)) => {
                if let Some(part) = pack(&mut c, *r, lazy) {
                    merge(&mut packs, part);
                }
            }
            None => {}
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

#[cfg(test)]
mod tests;
