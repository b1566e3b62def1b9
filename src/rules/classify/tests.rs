use super::*;
use crate::mail::parse;
use crate::rules::load_texts;
use crate::rules::lookalike::lookalike;

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
        c.suspicious
            .iter()
            .all(|s| !s.to_string().contains("kx7fq")),
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

/// The name index says of every display name what asking each pack's names one by one says: the
/// senders of every fixture mail, each shipped name with and without its spaces, in capitals,
/// inside other words, and names that are no broker's.
#[test]
fn the_name_index_finds_the_packs_each_name_finds() {
    let set = crate::rules::load(true, &[]).unwrap_or_else(|p| panic!("{p}"));
    let mut names: Vec<String> = vec![
        "interactivebrokers".into(),
        "fidelity life".into(),
        "住信sbiネット銀行".into(),
        "amazon.co.jp".into(),
        "".into(),
        "s b i".into(),
    ];
    for p in &set.packs {
        for alias in &p.names {
            names.push(alias.clone());
            names.push(squeeze(alias));
            names.push(format!("【重要】{alias}カスタマーサービス"));
            names.push(alias.split_whitespace().collect::<Vec<_>>().join("  "));
        }
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mail");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let raw = std::fs::read(entry.unwrap().path()).unwrap();
        if let Some(name) = parse(&raw, true).ok().and_then(|m| m.from?.name) {
            names.push(normalize(&name).to_lowercase());
        }
    }
    let mut named = 0;
    for n in &names {
        let index = set.packs_named(n).expect("the name index builds");
        let each: Vec<bool> = set.packs.iter().map(|p| names_in(p, n, false)).collect();
        assert_eq!(index, each, "{n:?}");
        named += usize::from(each.contains(&true));
    }
    assert!(named > names.len() / 2, "{named} of {}", names.len());
}
