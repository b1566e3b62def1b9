//! One pack file: its claims, contacts and rules, each pattern checked and compiled (now, or
//! on first use for the shipped packs).

use super::*;

pub(super) fn pack(c: &mut Collector, r: RawPack, lazy: bool) -> Option<PackPart> {
    let Some(id) = r.broker else {
        c.error(Loc { line: 1, col: 1 }, "a rule pack needs `broker: <id>`");
        return None;
    };
    let valid = |ch: char| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_' || ch == '-';
    if id.value.is_empty() || !id.value.chars().all(valid) {
        c.error(
            id.loc,
            format!(
                "broker id `{}` must be lowercase letters, digits, `_` or `-`",
                id.value
            ),
        );
    }
    let country = r.country.and_then(|at| {
        if COUNTRIES.contains(&at.value.as_str()) {
            return Some(at.value);
        }
        let known = COUNTRIES.join(", ");
        c.error(
            at.loc,
            format!("unknown country `{}` (expected one of: {known})", at.value),
        );
        None
    });
    let lower = |d: &String| d.trim().trim_start_matches('@').to_ascii_lowercase();
    Some(PackPart {
        id: id.value,
        file: c.file.clone(),
        name: r.name,
        country,
        domains: r.domains.iter().flatten().map(lower).collect(),
        names: (r.names.iter().flatten())
            .map(|n| normalize(n).to_lowercase())
            .filter(|n| !n.is_empty())
            .collect(),
        claims: patterns(c, &r.claims, lazy),
        clashes: patterns(c, &r.clashes, lazy),
        clash_domains: (r.clash_domains.iter().flatten())
            .map(|d| d.trim().to_ascii_lowercase())
            .collect(),
        login_link_exceptions: patterns(c, &r.login_link_exceptions, lazy),
        contact: r.contact.map(contact),
        rules: rules(c, r.rules, lazy),
    })
}

pub(super) fn contact(r: RawContact) -> Contact {
    Contact {
        phone: r.phone,
        url: r.url,
        steps: r.steps,
    }
}

pub(super) fn pattern(c: &mut Collector, p: &At<String>, lazy: bool) -> Option<Pattern> {
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

pub(super) fn patterns(c: &mut Collector, v: &Option<Vec<At<String>>>, lazy: bool) -> Vec<Pattern> {
    v.iter()
        .flatten()
        .filter_map(|p| pattern(c, p, lazy))
        .collect()
}

pub(super) fn rule(c: &mut Collector, loc: Loc, r: RawRule, lazy: bool) -> Option<Rule> {
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

/// Compiles one regex the way packs do (for tests and the look-alike checks).
pub fn regex(src: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(&normalize(src))
        .case_insensitive(true)
        .build()
}
