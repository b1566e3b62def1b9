use super::*;

fn shipped() -> Vec<(String, String)> {
    shipped::SHIPPED
        .iter()
        .map(|(n, t)| (format!("rules/{n}"), t.to_string()))
        .collect()
}

/// What makes deferring the shipped patterns safe: compiled at once, every one of them
/// compiles and every field pattern has its named group.
#[test]
fn every_shipped_pattern_compiles_with_its_named_groups() {
    let eager = load_texts(&shipped()).unwrap_or_else(|p| panic!("{p}"));
    let lazy = load(true, &[]).unwrap_or_else(|p| panic!("{p}"));
    let count = |set: &RuleSet| -> (usize, usize) {
        let all = every_pattern(set);
        (all.len(), all.iter().filter(|p| p.re.is_compiled()).count())
    };
    let (n, compiled) = count(&eager);
    assert!(n > 500, "{n} patterns");
    assert_eq!(compiled, n);
    assert_eq!(count(&lazy), (n, 0));
    // Deferred, the same regexes; identical patterns share one.
    for (a, b) in every_pattern(&eager).iter().zip(every_pattern(&lazy)) {
        assert_eq!(a.re.as_str(), b.re.as_str());
    }
    let all = every_pattern(&lazy);
    let distinct = all
        .iter()
        .enumerate()
        .filter(|(i, p)| !all[..*i].iter().any(|q| q.re.shares(&p.re)))
        .count();
    let sources: std::collections::BTreeSet<&str> = all.iter().map(|p| p.re.as_str()).collect();
    assert_eq!(distinct, sources.len());
    assert!(distinct < n / 2, "{distinct} distinct of {n}");
}

#[test]
fn a_users_bad_pattern_is_still_reported_at_load() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("x.yaml"),
        "broker: x\nname: X\ndomains: [x.example]\nclaims: ['(unclosed']\nrules: []\n",
    )
    .unwrap();
    let err = load(true, &[dir.path().to_path_buf()])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("x.yaml:4:") && err.contains("invalid regex"),
        "{err}"
    );
}

fn every_pattern(set: &RuleSet) -> Vec<&Pattern> {
    fn rule(r: &Rule) -> Vec<&Pattern> {
        let mut v: Vec<&Pattern> = [&r.subject, &r.body, &r.text, &r.all, &r.not, &r.from]
            .into_iter()
            .flatten()
            .collect();
        v.extend(r.fields.iter().flat_map(|(_, p)| p));
        v
    }
    let mut out: Vec<&Pattern> = Vec::new();
    for p in &set.packs {
        out.extend(&p.claims);
        out.extend(&p.clashes);
        out.extend(&p.login_link_exceptions);
        out.extend(p.rules.iter().flat_map(rule));
    }
    let g = &set.generic;
    out.extend(&g.vocabulary);
    out.extend(&g.quiet);
    out.extend(&g.login_links);
    out.extend(
        g.values
            .iter()
            .flat_map(|(_, v)| v.iter().flat_map(|(_, p)| p)),
    );
    out.extend(g.rules.iter().flat_map(rule));
    out
}
