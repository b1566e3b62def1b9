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
        contact: r.contact.map(|k| contact(c, k)),
        rules: rules(c, r.rules, lazy),
    })
}

fn contact(c: &mut Collector, r: RawContact) -> Contact {
    Contact {
        phone: r.phone,
        url: r.url,
        steps: r.steps.map(|at| steps(c, at)).unwrap_or_default(),
    }
}

/// `steps:` in both languages; one language given serves both.
fn steps(c: &mut Collector, at: At<RawSteps>) -> Steps {
    match at.value {
        RawSteps::Plain(v) => Steps::same(v),
        RawSteps::ByLanguage(RawStepsByLanguage { ja, en }) => match (ja, en) {
            (Some(ja), Some(en)) => Steps::new(ja, en),
            (Some(one), None) | (None, Some(one)) => Steps::same(one),
            (None, None) => {
                c.error(
                    at.loc,
                    "`steps` names no language: write `{ja: [...], en: [...]}`",
                );
                Steps::default()
            }
        },
    }
}

pub(super) fn pattern(c: &mut Collector, p: &At<String>, lazy: bool) -> Option<Pattern> {
    // NOTE: patterns are normalised like the text they run on when they are compiled
    // (`lazy::LazyRegex`): a shipped one at its first use.
    let src = p.value.clone();
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
    let fields = fields(c, loc, &r.fields, lazy);
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

/// A rule's `fields:`: known names only, each pattern with its named group.
fn fields(
    c: &mut Collector,
    loc: Loc,
    raw: &Option<BTreeMap<String, Vec<At<String>>>>,
    lazy: bool,
) -> Vec<(String, Vec<Pattern>)> {
    let mut fields = Vec::new();
    for (name, pats) in raw.iter().flatten() {
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
    fields
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::language::Language;
    use crate::rules::load_texts;

    const HEAD: &str =
        "broker: x\nname: X\ndomains: [x.example]\ncontact:\n  phone: ['0120-000-000']\n";

    fn steps_of(yaml: &str) -> Result<Steps, Problems> {
        let text = format!("{HEAD}{yaml}");
        let set = load_texts(&[("x.yaml".into(), text)])?;
        Ok(set.packs[0].contact.steps.clone())
    }

    #[test]
    fn steps_in_both_languages_go_to_their_language() {
        let s = steps_of("  steps:\n    ja: ['電話してください']\n    en: ['Call us']\n").unwrap();
        assert_eq!(s.get(Language::Ja), ["電話してください"]);
        assert_eq!(s.get(Language::En), ["Call us"]);
    }

    #[test]
    fn steps_in_one_language_serve_both() {
        for yaml in [
            "  steps:\n    en: ['Call us', 'Change the password']\n",
            "  steps: {en: ['Call us', 'Change the password']}\n",
            "  steps: ['Call us', 'Change the password']\n",
        ] {
            let s = steps_of(yaml).unwrap_or_else(|p| panic!("{yaml}: {p}"));
            assert_eq!(s.get(Language::Ja), ["Call us", "Change the password"]);
            assert_eq!(s.get(Language::En), s.get(Language::Ja));
        }
        let s = steps_of("  steps:\n    ja: ['電話してください']\n").unwrap();
        assert_eq!(s.get(Language::En), ["電話してください"]);
    }

    #[test]
    fn badly_shaped_steps_are_reported_where_they_are() {
        let cases = [
            (
                "  steps: 'Call us'\n",
                "x.yaml:6:3: ",
                "{ja: [...], en: [...]}",
            ),
            (
                "  steps:\n    ja: ['電話']\n    fr: ['Appelez']\n",
                "x.yaml:8:5: ",
                "`fr`",
            ),
            ("  steps:\n    en: 'Call us'\n", "x.yaml:7:9: ", ""),
            ("  steps: {}\n", "x.yaml:6:10: ", "names no language"),
        ];
        for (yaml, at, words) in cases {
            let p = steps_of(yaml).expect_err(yaml);
            crate::yaml::assert_problems_start_with(&p, &[at]);
            assert!(p.to_string().contains(words), "{yaml}: {p}");
        }
    }

    /// Every shipped pack that has steps has them in both languages, as many in each, each
    /// Japanese step in Japanese and each English one in English.
    #[test]
    fn every_shipped_pack_has_its_steps_in_both_languages() {
        let japanese = |s: &str| s.chars().any(|c| matches!(c, '\u{3040}'..='\u{30ff}'));
        let mut checked = 0;
        for (name, text) in super::super::shipped::SHIPPED {
            if super::super::read::is_generic(text) {
                continue;
            }
            let raw: RawPack =
                serde_saphyr::from_str(text).unwrap_or_else(|e| panic!("{name}: {e}"));
            let steps = raw.contact.and_then(|c| c.steps).map(|s| s.value);
            let Some(RawSteps::ByLanguage(RawStepsByLanguage {
                ja: Some(ja),
                en: Some(en),
            })) = steps
            else {
                panic!("{name}: steps need `ja:` and `en:`, got {steps:?}");
            };
            assert!(
                !ja.is_empty() && ja.len() == en.len(),
                "{name}: {ja:?} / {en:?}"
            );
            for s in &ja {
                assert!(japanese(s), "{name}: not Japanese: {s}");
            }
            for s in &en {
                assert!(
                    s.starts_with(|c: char| c.is_ascii_uppercase()),
                    "{name}: {s}"
                );
            }
            checked += 1;
        }
        assert!(checked >= 26, "{checked} packs");
    }
}
