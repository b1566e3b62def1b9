//! Generic rule files (`generic: true`): broker-neutral rules, the shared vocabularies, the
//! canonical field values and the look-alike word lists.

use super::*;

pub(super) fn generic(c: &mut Collector, r: RawGeneric, lazy: bool) -> Option<Generic> {
    if !r.generic.value {
        c.error(
            r.generic.loc,
            "`generic` must be `true` in a generic rules file",
        );
    }
    let g = Generic {
        vocabulary: patterns(c, &r.vocabulary, lazy),
        quiet: patterns(c, &r.quiet, lazy),
        login_links: patterns(c, &r.login_links, lazy),
        values: values(c, r.values.unwrap_or_default(), lazy),
        rules: rules(c, r.rules, lazy),
        lure: patterns(c, &r.lure, lazy),
        lookalike: r
            .lookalike
            .map(|l| lookalike_words(c, l))
            .unwrap_or_default(),
        ..Generic::default()
    };
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
pub(super) fn values(
    c: &mut Collector,
    fields: Ordered<At<String>, Ordered<String, Vec<At<String>>>>,
    lazy: bool,
) -> Vec<FieldValues> {
    let mut out = Vec::new();
    for (field, vals) in fields.0 {
        if !FIELD_NAMES.contains(&field.value.as_str()) {
            c.error(
                field.loc,
                format!(
                    "unknown field name `{}` (expected one of: {})",
                    field.value,
                    FIELD_NAMES.join(", ")
                ),
            );
            continue;
        }
        let vals = (vals.0.into_iter())
            .map(|(name, pats)| (name, patterns(c, &Some(pats), lazy)))
            .collect();
        out.push((field.value, vals));
    }
    out
}

/// `lookalike:` words, lowercase; a confusable is one letter for one letter.
pub(super) fn lookalike_words(c: &mut Collector, written: At<RawLookalike>) -> Words {
    let (loc, raw) = (written.loc, written.value);
    let lower = |v: Vec<String>| v.iter().map(|w| w.trim().to_lowercase()).collect();
    let mut confusables = Vec::new();
    for (from, to) in raw.confusables {
        let (mut f, mut t) = (from.chars(), to.chars());
        match (f.next(), f.next(), t.next(), t.next()) {
            (Some(f), None, Some(t), None) if t.is_ascii_lowercase() => confusables.push((f, t)),
            _ => c.error(
                loc,
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

pub(super) fn rules(c: &mut Collector, raw: Option<Vec<At<RawRule>>>, lazy: bool) -> Vec<Rule> {
    (raw.into_iter().flatten())
        .filter_map(|r| rule(c, r.loc, r.value, lazy))
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
