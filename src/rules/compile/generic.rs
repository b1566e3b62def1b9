//! Generic rule files (`generic: true`): broker-neutral rules, the shared vocabularies, the
//! canonical field values and the look-alike word lists.

use super::*;

pub(super) fn generic(c: &mut Collector, root: &Node, lazy: bool) -> Option<Generic> {
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
pub(super) fn values(c: &mut Collector, node: &Node, lazy: bool) -> Vec<FieldValues> {
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
pub(super) fn lookalike_words(c: &mut Collector, node: &Node) -> Words {
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

pub(super) fn list(c: &mut Collector, node: &Node, lazy: bool) -> Vec<Pattern> {
    let v: Vec<At<String>> = c.take(node).unwrap_or_default();
    v.iter().filter_map(|p| pattern(c, p, lazy)).collect()
}

pub(super) fn rules(c: &mut Collector, node: &Node, lazy: bool) -> Vec<Rule> {
    let raw: Vec<(Loc, RawRule)> = c.take_each(node, "rules");
    raw.into_iter()
        .filter_map(|(loc, r)| rule(c, loc, r, lazy))
        .collect()
}

/// Later generic files extend the earlier ones, their rules merged as a pack's are.
pub(super) fn merge_generic(parts: Vec<Generic>) -> Generic {
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
