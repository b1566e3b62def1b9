//! Applying packs to a mail: which broker it is from or claims to be, which rule matches, and
//! what the rule extracts. No judgement on authenticity here (that is `assess`).

use std::collections::BTreeMap;

use super::lookalike::lookalike;
use super::{Pack, Pattern, Rule, RuleSet};
use crate::domain::href_host;
use crate::links::{describe, mismatches};
use crate::mail::Mail;
use crate::text::normalize;

/// How a mail ties itself to a broker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// Sent from one of the pack's domains.
    Domain(String),
    /// The From display name contains the broker's name.
    DisplayName(String),
    /// The subject or text presents itself as the broker (the matched words).
    Wording(String),
    /// The sender's domain, or a link's, imitates the broker's (the reason).
    LookAlike(String),
}

impl Claim {
    /// One line for explanations.
    pub fn describe(&self) -> String {
        match self {
            Claim::Domain(d) => format!("sent from the broker's domain `{d}`"),
            Claim::DisplayName(n) => format!("the sender's display name says `{n}`"),
            Claim::Wording(w) => format!("the mail presents itself as the broker: `{w}`"),
            Claim::LookAlike(why) => format!("look-alike: {why}"),
        }
    }
}

/// A condition of the matched rule and the words it matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cue {
    /// `subject`, `body`, `text`, `all` or `from`.
    pub on: &'static str,
    pub pattern: String,
    pub matched: String,
}

/// The outcome of applying the packs.
#[derive(Debug, Clone, Default)]
pub struct Classification<'r> {
    pub pack: Option<&'r Pack>,
    pub claim: Option<Claim>,
    pub rule: Option<&'r Rule>,
    pub fields: BTreeMap<String, String>,
    pub cues: Vec<Cue>,
    /// Why nothing matched, where that is worth telling (e.g. a forwarded notice).
    pub notes: Vec<String>,
    /// Signs of imitation: look-alike sender or link domains, links that hide their target.
    /// They count only for a mail that is not authentic (genuine mail has tracking links).
    pub suspicious: Vec<String>,
    /// Links to a look-alike of the claimed broker's own domain: phishing whatever the
    /// authenticity (a genuine notice never links to an imitation of its own sender).
    pub imitations: Vec<String>,
    /// Links to a login, password or "confirm your details" page, as (host, why).
    pub login_links: Vec<(String, String)>,
    /// The matched rule is a generic one: the broker's own rules did not recognise the mail.
    pub generic: bool,
    /// No rule matched a mail from the broker's own domain, but it speaks of security: the
    /// words it used (the last resort: "read this unrecognised notice").
    pub unrecognised: Vec<String>,
}

impl Classification<'_> {
    /// The same classification, freed from the rules when it claims no broker (it then borrows
    /// nothing from them); None when it does.
    pub fn unclaimed(self) -> Option<Classification<'static>> {
        if self.pack.is_some() || self.rule.is_some() {
            return None;
        }
        Some(Classification {
            pack: None,
            claim: self.claim,
            rule: None,
            fields: self.fields,
            cues: self.cues,
            notes: self.notes,
            suspicious: self.suspicious,
            imitations: self.imitations,
            login_links: self.login_links,
            generic: self.generic,
            unrecognised: self.unrecognised,
        })
    }
}

/// The texts rules run on, normalised once.
struct Texts {
    subject: String,
    body: String,
    both: String,
    from: String,
}

/// Finds the broker and the first matching rule of its pack.
pub fn classify<'r>(set: &'r RuleSet, mail: &Mail) -> Classification<'r> {
    let mut out = Classification::default();
    let from_domain = mail.from.as_ref().map_or("", |f| f.domain());
    let own_pack = set
        .packs
        .iter()
        .find(|p| !from_domain.is_empty() && p.owns_domain(from_domain));
    if mail.forwarded && own_pack.is_none() {
        out.notes.push(format!(
            "forwarded by {}: a forwarded or quoted notice is not a new event",
            mail.from
                .as_ref()
                .map_or("an unknown sender", |f| f.address.as_str())
        ));
        return out;
    }
    let subject = normalize(&mail.subject);
    let body = normalize(&mail.own_text);
    let t = Texts {
        both: format!("{subject}\n{body}"),
        subject,
        body,
        from: mail
            .from
            .as_ref()
            .map(|f| f.address.clone())
            .unwrap_or_default(),
    };
    let Some((pack, claim)) = own_pack
        .map(|p| (p, Claim::Domain(from_domain.to_string())))
        .or_else(|| by_display_name(set, mail))
        .or_else(|| by_wording(set, &t))
        .or_else(|| by_lookalike(set, from_domain, mail))
    else {
        return out;
    };
    out.suspicious = suspicious(set, pack, from_domain, mail);
    out.imitations = imitations(set, pack, mail);
    out.login_links = login_links(set, pack, mail);
    out.pack = Some(pack);
    out.claim = Some(claim);
    let hit = pack
        .rules
        .iter()
        .map(|r| (r, false))
        .chain(set.generic.rules.iter().map(|r| (r, true)))
        .find_map(|(rule, generic)| matches(rule, &t).map(|cues| (rule, generic, cues)));
    if let Some((rule, generic, cues)) = hit {
        out.rule = Some(rule);
        out.generic = generic;
        out.cues = cues;
        out.fields = extract(set, rule, &t);
    } else if pack.owns_domain(from_domain) {
        out.unrecognised = unrecognised(set, &t);
    }
    out
}

/// The security words of an unclassified mail, unless it reads as marketing.
fn unrecognised(set: &RuleSet, t: &Texts) -> Vec<String> {
    let g = &set.generic;
    if g.quiet.iter().any(|p| p.re.is_match(&t.both)) {
        return Vec::new();
    }
    let mut words: Vec<String> = Vec::new();
    for p in &g.vocabulary {
        for m in p.re.find_iter(&t.both) {
            let w = m.as_str().trim().to_string();
            if !w.is_empty() && !words.contains(&w) {
                words.push(w);
            }
        }
    }
    // 「ログイン」 says nothing more once 「ログインパスワード」 is listed.
    let all = words.clone();
    words.retain(|w| !all.iter().any(|o| o != w && o.contains(w.as_str())));
    words.truncate(6);
    words
}

fn by_display_name<'r>(set: &'r RuleSet, mail: &Mail) -> Option<(&'r Pack, Claim)> {
    let from = mail.from.as_ref()?;
    let name = from.name.as_ref()?;
    let n = normalize(name).to_lowercase();
    set.packs.iter().find_map(|p| {
        if p.clash_domain(from.domain()) {
            return None;
        }
        // "Fidelity Life" and 「住信SBIネット銀行」 contain a broker's name but are other companies;
        // "InteractiveBrokers" is the broker's name written without its space.
        let own = p.without_clashes(&n);
        let squeezed: String = own.chars().filter(|c| !c.is_whitespace()).collect();
        p.names
            .iter()
            .find(|alias| {
                own.contains(alias.as_str()) || {
                    let a: String = alias.chars().filter(|c| !c.is_whitespace()).collect();
                    a.chars().count() >= 5 && squeezed.contains(&a)
                }
            })
            .map(|_| (p, Claim::DisplayName(name.clone())))
    })
}

fn by_wording<'r>(set: &'r RuleSet, t: &Texts) -> Option<(&'r Pack, Claim)> {
    // The earliest claim wins: a phishing mail names its broker first, a footer comes last.
    set.packs
        .iter()
        .filter_map(|p| {
            // Clashing names are blanked out (same length stays irrelevant: only the order of
            // the claims' positions is compared, and blanking never moves a claim before another).
            let own = if p.clashes.is_empty() {
                std::borrow::Cow::Borrowed(t.both.as_str())
            } else {
                std::borrow::Cow::Owned(p.without_clashes(&t.both))
            };
            p.claims
                .iter()
                .filter_map(|c| c.re.find(&own).map(|m| (m.start(), m.as_str().to_string())))
                .min_by_key(|(start, _)| *start)
                .map(|(start, w)| (start, p, w))
        })
        .min_by_key(|(start, _, _)| *start)
        .map(|(_, p, w)| (p, Claim::Wording(w)))
}

fn by_lookalike<'r>(set: &'r RuleSet, from_domain: &str, mail: &Mail) -> Option<(&'r Pack, Claim)> {
    let hit = lookalike(set, from_domain)
        .filter(|h| !clashes(set, &h.broker, from_domain))
        .or_else(|| {
            mail.links
                .iter()
                .filter_map(|l| href_host(&l.href))
                .find_map(|h| lookalike(set, &h).filter(|x| !clashes(set, &x.broker, &h)))
        })?;
    let pack = set.pack(&hit.broker)?;
    Some((pack, Claim::LookAlike(hit.why)))
}

/// Is `domain` a company whose name clashes with broker `id`'s (so no look-alike of it)?
fn clashes(set: &RuleSet, id: &str, domain: &str) -> bool {
    set.pack(id).is_some_and(|p| p.clash_domain(domain))
}

/// Links whose host imitates the claimed broker's own domain.
fn imitations(set: &RuleSet, pack: &Pack, mail: &Mail) -> Vec<String> {
    let mut out = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for host in mail.links.iter().filter_map(|l| href_host(&l.href)) {
        if pack.owns_domain(&host) || pack.clash_domain(&host) || !seen.insert(host.clone()) {
            continue;
        }
        if let Some(l) = lookalike(set, &host).filter(|l| l.broker == pack.id) {
            out.push(format!(
                "a link goes to `{host}`, an imitation of {}'s domain: {}",
                pack.name, l.why
            ));
        }
    }
    out
}

/// Links to a login, password or "confirm your details" page in a mail claiming a Japanese
/// broker: since 2025-10-15 the FSA guideline says such mail carries none.
fn login_links(set: &RuleSet, pack: &Pack, mail: &Mail) -> Vec<(String, String)> {
    if pack.country.as_deref() != Some("jp") {
        return Vec::new();
    }
    let mut out: Vec<(String, String)> = Vec::new();
    for l in &mail.links {
        let Some(host) = href_host(&l.href) else {
            continue;
        };
        if pack
            .login_link_exceptions
            .iter()
            .any(|p| p.re.is_match(&l.href))
        {
            continue;
        }
        let text = normalize(&l.text);
        let hit = set
            .generic
            .login_links
            .iter()
            .find_map(|p| p.re.find(&l.href).or_else(|| p.re.find(&text)));
        if let Some(m) = hit
            && !out.iter().any(|(h, _)| *h == host)
        {
            out.push((host, m.as_str().to_string()));
        }
    }
    out
}

/// Imitation signs worth telling about a mail that claims `pack`.
fn suspicious(set: &RuleSet, pack: &Pack, from_domain: &str, mail: &Mail) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(l) = lookalike(set, from_domain) {
        out.push(format!("the sender's domain imitates a broker: {}", l.why));
    }
    let mut seen = std::collections::BTreeSet::new();
    for host in mail.links.iter().filter_map(|l| href_host(&l.href)) {
        if pack.owns_domain(&host) || !seen.insert(host.clone()) {
            continue;
        }
        // A link imitating the claimed broker itself is an imitation (see `imitations`).
        if let Some(l) = lookalike(set, &host).filter(|l| l.broker != pack.id) {
            out.push(format!("a link imitates a broker: {}", l.why));
        }
    }
    out.extend(mismatches(&mail.links).iter().map(describe));
    out
}

/// All condition groups of the rule hold: the cues that matched, or None.
fn matches(rule: &Rule, t: &Texts) -> Option<Vec<Cue>> {
    let mut cues = Vec::new();
    let any = |on: &'static str, pats: &[Pattern], hay: &str, cues: &mut Vec<Cue>| -> bool {
        if pats.is_empty() {
            return true;
        }
        match first_match(pats, hay) {
            Some((p, m)) => {
                cues.push(Cue {
                    on,
                    pattern: p.src.clone(),
                    matched: m,
                });
                true
            }
            None => false,
        }
    };
    if !(any("from", &rule.from, &t.from, &mut cues)
        && any("subject", &rule.subject, &t.subject, &mut cues)
        && any("body", &rule.body, &t.body, &mut cues)
        && any("text", &rule.text, &t.both, &mut cues))
    {
        return None;
    }
    for p in &rule.all {
        let m = p.re.find(&t.both)?;
        cues.push(Cue {
            on: "all",
            pattern: p.src.clone(),
            matched: m.as_str().to_string(),
        });
    }
    if rule.not.iter().any(|p| p.re.is_match(&t.both)) {
        return None;
    }
    Some(cues)
}

fn first_match<'p>(pats: &'p [Pattern], hay: &str) -> Option<(&'p Pattern, String)> {
    pats.iter()
        .find_map(|p| p.re.find(hay).map(|m| (p, m.as_str().to_string())))
}

fn extract(set: &RuleSet, rule: &Rule, t: &Texts) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (name, pats) in &rule.fields {
        let found = pats.iter().find_map(|p| {
            [&t.subject, &t.body].into_iter().find_map(|hay| {
                p.re.captures(hay)
                    .and_then(|c| c.name(name))
                    .map(|m| m.as_str().trim().to_string())
                    .filter(|v| !v.is_empty())
            })
        });
        if let Some(v) = found {
            out.insert(name.clone(), set.generic.canonical(name, &v));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::parse;
    use crate::rules::load_texts;

    const PACK: &str = r#"
broker: sbi
name: SBI証券
domains: [sbisec.co.jp]
names: [SBI証券]
claims: ['【SBI証券】']
contact: {phone: ['0120-000-000']}
rules:
  - id: sbi-withdrawal
    event: withdrawal
    subject: ['出金']
    body: ['出金指示を受け付けました', '出金のご依頼']
    not: ['キャンペーン']
    fields:
      amount: ['出金金額\s*:?\s*(?P<amount>[0-9,]+)円']
"#;

    fn set() -> RuleSet {
        load_texts(&[("sbi.yaml".into(), PACK.into())]).unwrap()
    }

    fn mail(from: &str, subject: &str, body: &str) -> Mail {
        let raw = format!("From: {from}\r\nSubject: {subject}\r\n\r\n{body}\r\n");
        parse(raw.as_bytes(), true).unwrap()
    }

    #[test]
    fn full_width_notice_matches_and_fields_are_extracted() {
        let set = set();
        let m = mail(
            "info@sbisec.co.jp",
            "出金指示受付のお知らせ",
            "出金指示を受け付けました。\r\n出金金額：１，２００，０００円",
        );
        let c = classify(&set, &m);
        assert_eq!(c.pack.map(|p| p.id.as_str()), Some("sbi"));
        assert_eq!(c.rule.map(|r| r.id.as_str()), Some("sbi-withdrawal"));
        assert_eq!(
            c.fields.get("amount").map(String::as_str),
            Some("1,200,000")
        );
        assert_eq!(c.cues.len(), 2);
    }

    #[test]
    fn claims_by_name_or_wording_and_exclusions() {
        let set = set();
        let m = mail("\"SBI証券\" <x@evil.example>", "出金", "出金のご依頼");
        assert!(matches!(
            classify(&set, &m).claim,
            Some(Claim::DisplayName(_))
        ));
        let m = mail("x@evil.example", "【SBI証券】出金", "出金のご依頼");
        assert!(matches!(classify(&set, &m).claim, Some(Claim::Wording(_))));
        let m = mail("info@sbisec.co.jp", "出金キャンペーン", "出金のご依頼");
        assert!(classify(&set, &m).rule.is_none());
        let m = mail("shop@shop.example", "出金", "出金のご依頼");
        assert!(classify(&set, &m).pack.is_none());
    }

    #[test]
    fn lookalike_follows_the_rule_set() {
        let sbi = set();
        let other = load_texts(&[(
            "x.yaml".into(),
            "broker: x\nname: X\ndomains: [sbi-sec.example]\nrules: []\n".into(),
        )])
        .unwrap();
        // The same host judged against two sets in turn: each answer is that set's own.
        for _ in 0..2 {
            assert_eq!(
                lookalike(&sbi, "sbisec-co-jp.com").map(|l| l.broker),
                Some("sbi".to_string())
            );
            assert_ne!(
                lookalike(&other, "sbisec-co-jp.com").map(|l| l.broker),
                Some("sbi".to_string())
            );
            assert_eq!(lookalike(&other, "sbi-sec.example"), None);
        }
    }

    const GENERIC: &str = r#"
generic: true
vocabulary: ['パスワード', '\bpassword\b']
quiet: ['キャンペーン', '(二段階|多要素)認証.{0,12}(設定)(の|を)?(お願い)']
login_links: ['(^|[/?&=._-])login([/?&=._-]|$)', 'ログイン']
values:
  side:
    sell: ['売']
    buy: ['買']
rules:
  - id: generic-payout-account-change
    event: payout_account_change
    text: ['(出金先)(金融機関)?口座.{0,20}(変更|登録).{0,20}(受付|受け付け|完了)']
"#;

    const JP: &str = r#"
broker: monex
name: マネックス証券
country: jp
domains: [monex.co.jp]
names: ['マネックス証券']
claims: ['【マネックス証券】']
login_link_exceptions: ['^https://mxp[0-9]\.monex\.co\.jp/otp/']
rules:
  - id: monex-trade
    event: trade
    text: ['約定']
    fields:
      side: ['売買区分\s*:\s*(?P<side>\S+)']
"#;

    const US: &str = r#"
broker: ibkr
name: Interactive Brokers
country: us
domains: [interactivebrokers.com]
names: ['Interactive Brokers']
rules: []
"#;

    const FIDELITY: &str = r#"
broker: fidelity
name: Fidelity
country: us
domains: [fidelity.com]
names: ['Fidelity']
claims: ['Fidelity Investments']
clashes: ['Fidelity\s+Life', 'Fidelity\s+National']
clash_domains: [fidelitylife.com]
rules: []
"#;

    fn full() -> RuleSet {
        load_texts(&[
            ("_generic.yaml".into(), GENERIC.into()),
            ("sbi.yaml".into(), PACK.into()),
            ("monex.yaml".into(), JP.into()),
            ("ibkr.yaml".into(), US.into()),
            ("fidelity.yaml".into(), FIDELITY.into()),
        ])
        .unwrap_or_else(|p| panic!("{p}"))
    }

    fn html_mail(from: &str, subject: &str, html: &str) -> Mail {
        let raw = format!(
            "From: {from}\r\nSubject: {subject}\r\nContent-Type: text/html; charset=UTF-8\r\n\r\n{html}\r\n"
        );
        parse(raw.as_bytes(), true).unwrap()
    }

    #[test]
    fn generic_rules_classify_what_the_broker_pack_misses() {
        let set = full();
        let m = mail(
            "info@sbisec.co.jp",
            "出金先金融機関口座の登録・変更のお手続きを受け付けました",
            "お手続きを受け付けました。",
        );
        let c = classify(&set, &m);
        assert_eq!(
            c.rule.map(|r| r.id.as_str()),
            Some("generic-payout-account-change")
        );
        assert!(c.generic);
        // The broker's own rule still comes first.
        let m = mail("info@sbisec.co.jp", "出金", "出金指示を受け付けました");
        let c = classify(&set, &m);
        assert_eq!(c.rule.map(|r| r.id.as_str()), Some("sbi-withdrawal"));
        assert!(!c.generic);
    }

    #[test]
    fn the_last_resort_speaks_up_for_own_domain_mail_and_stays_quiet_for_marketing() {
        let set = full();
        let m = mail(
            "info@sbisec.co.jp",
            "重要なお知らせ",
            "ご登録のパスワードの有効期限が近づいています。",
        );
        let c = classify(&set, &m);
        assert!(c.rule.is_none());
        assert_eq!(c.unrecognised, ["パスワード"]);
        let m = mail(
            "info@sbisec.co.jp",
            "多要素認証の設定のお願い",
            "安全のため、パスワードに加えて多要素認証の設定をお願いします。",
        );
        assert!(classify(&set, &m).unrecognised.is_empty());
        // Not the broker's domain (a display-name claim): that is the phishing check's business.
        let m = mail(
            "\"SBI証券\" <x@evil.example>",
            "重要",
            "パスワードの有効期限",
        );
        assert!(classify(&set, &m).unrecognised.is_empty());
    }

    #[test]
    fn clashing_names_and_their_domains_are_not_the_broker() {
        let set = full();
        for from in [
            "\"Fidelity Life\" <offers@fidelitylife-mail.example>",
            "\"Fidelity National Title\" <x@title.example>",
            "\"Fidelity\" <news@fidelitylife.com>",
        ] {
            let c = classify(&set, &mail(from, "Your quote", "Get a quote"));
            assert!(
                c.pack.is_none(),
                "{from} claimed {:?}",
                c.pack.map(|p| &p.id)
            );
        }
        let m = mail(
            "x@evil.example",
            "Fidelity Life",
            "Fidelity Life Insurance Company",
        );
        assert!(classify(&set, &m).pack.is_none());
        let m = mail("\"Fidelity\" <x@evil.example>", "Alert", "alert");
        assert_eq!(
            classify(&set, &m).pack.map(|p| p.id.as_str()),
            Some("fidelity")
        );
    }

    #[test]
    fn a_broker_name_without_its_space_is_still_claimed() {
        let set = full();
        let m = mail(
            "InteractiveBrokers <service@random.example>",
            "W-8BEN",
            "renew",
        );
        assert_eq!(classify(&set, &m).pack.map(|p| p.id.as_str()), Some("ibkr"));
    }

    #[test]
    fn links_to_an_imitation_of_the_claimed_broker_are_kept_apart() {
        let set = full();
        let m = html_mail(
            "info@monex.co.jp",
            "重要",
            r#"<a href="https://www.monex.co.jp.kx7fq.sbs/login">お客様情報の確認</a>"#,
        );
        let c = classify(&set, &m);
        assert_eq!(c.imitations.len(), 1, "{:?}", c.imitations);
        assert!(
            c.suspicious.iter().all(|s| !s.contains("kx7fq")),
            "{:?}",
            c.suspicious
        );
        assert_eq!(c.login_links.len(), 1);
    }

    #[test]
    fn login_links_count_for_japanese_brokers_only_and_not_the_exceptions() {
        let set = full();
        let m = html_mail(
            "info@monex.co.jp",
            "ワンタイムパスワード",
            r#"<a href="https://mxp1.monex.co.jp/otp/view?id=1">表示</a> <a href="https://x.example/a">ログインはこちら</a>"#,
        );
        let c = classify(&set, &m);
        assert_eq!(
            c.login_links,
            [("x.example".to_string(), "ログイン".to_string())]
        );
        let m = html_mail(
            "service@interactivebrokers.com",
            "Statement",
            r#"<a href="https://x.example/login">Log in</a>"#,
        );
        assert!(classify(&set, &m).login_links.is_empty());
    }

    #[test]
    fn captured_values_are_made_canonical() {
        let set = full();
        let m = mail(
            "info@monex.co.jp",
            "約定のお知らせ",
            "約定しました\r\n売買区分:売付",
        );
        let c = classify(&set, &m);
        assert_eq!(c.fields.get("side").map(String::as_str), Some("sell"));
        assert_eq!(set.generic.canonical("side", "不明"), "不明");
    }

    #[test]
    fn a_forwarded_notice_is_no_event() {
        let set = set();
        let m = mail(
            "me@example.jp",
            "Fwd: 【SBI証券】出金",
            "見て\r\n> 出金のご依頼",
        );
        let c = classify(&set, &m);
        assert!(c.pack.is_none() && c.rule.is_none());
        assert!(!c.notes.is_empty());
    }
}
