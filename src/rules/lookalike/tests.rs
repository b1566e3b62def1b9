use super::*;
use crate::alert::language::Language;
use crate::assess::reason::Reason;
use crate::domain::registrable_domain;
use crate::rules::load_texts;

/// The English explanation, as `brokerwatch test` prints it after its lead-in.
fn why(l: &LookAlike) -> String {
    let text = Reason::SenderLookAlike(l.clone()).text(Language::En);
    text.strip_prefix("the sender's domain imitates a broker: ")
        .unwrap_or(&text)
        .to_string()
}

/// The shipped packs' domains, built here so the test does not depend on pack files; the
/// words are the shipped ones (rules/_lookalike.yaml).
fn set() -> RuleSet {
    let pack = |id: &str, domains: &[&str]| Pack {
        id: id.into(),
        domains: domains.iter().map(|d| d.to_string()).collect(),
        ..Pack::default()
    };
    let words = load_texts(&[(
        "_lookalike.yaml".into(),
        include_str!("../../../rules/_lookalike.yaml").into(),
    )])
    .unwrap_or_else(|p| panic!("{p}"));
    RuleSet::new(
        vec![
            pack("sbi", &["sbisec.co.jp"]),
            pack("rakuten", &["rakuten-sec.co.jp"]),
            pack("monex", &["monex.co.jp"]),
            pack("matsui", &["matsui.co.jp"]),
            pack("kabucom", &["kabu.com"]),
            pack("schwab", &["schwab.com"]),
            pack("fidelity", &["fidelity.com"]),
            pack("vanguard", &["vanguard.com", "e-vanguard.com"]),
            pack(
                "ibkr",
                &[
                    "interactivebrokers.com",
                    "interactivebrokers.co.uk",
                    "interactivebrokers.ie",
                    "ibkr.com",
                ],
            ),
        ],
        words.generic,
    )
}

/// RFC 3492 encoding, to build IDN look-alikes the way a registrar would.
fn punycode_encode(input: &str) -> String {
    idna::punycode::encode_str(input).expect("encodable")
}

/// Domain, then the broker it imitates and words of the reason, or `-` for "not a look-alike".
const CASES: &str = "
sbisec-co-jp.com                   sbi      dots replaced by hyphens
www-sbisec-co-jp.example           sbi      dots replaced by hyphens
sbiseccojp.net                     sbi      dots removed
sbisec.co.jp.secure-login.example  sbi      subdomain of `secure-login[.]example`
sbiisec.co.jp                      sbi      misspelt by 1 letter
sec-sbi.com                        sbi      split into `sbi` and `sec`
secsbi-login.net                   sbi      swapped
sbisec-login.com                   sbi      with `login` added
secure-sbisec.net                  sbi      with `secure` added
mysbisec.jp                        sbi      `my`
sbi-sec.com                        sbi      hyphens moved
sbisec.com                         sbi      under `.com` instead of `.co.jp`
sbisec.evil.example                sbi      subdomain of `evil[.]example`
sbisec-l0gin.github.io             sbi      `login` added
ｓｂｉｓｅｃ-ｌｏｇｉｎ．ｃｏｍ                   sbi      `login` added
schwbab.com                        schwab   misspelt by 1 letter
schvvab.com                        schwab   look-alike characters
rakuten-sec-jp.com                 rakuten  `jp` added
rakuten-sec.co.jp.evil.example     rakuten  subdomain
rakuten-sek.co.jp                  rakuten  misspelt
rakutensec.co.jp                   rakuten  hyphens moved
sec-rakuten.com                    rakuten  swapped
fidelitty.com                      fidelity misspelt by 1 letter
fideliity.com                      fidelity misspelt
fidelity-login.com                 fidelity `login` added
interactlvebrokers.com             ibkr     `l` for `i`
interactivebrokers-verify.com      ibkr     `verify` added
intreactivebrokres.com             ibkr     misspelt by 2 letters
ibkr-support.com                   ibkr     `support` added
m0nex.co.jp                        monex    `0` for `o`
rnonex.co.jp                       monex    `rnonex` reads as `monex`
monex-jp.com                       monex    `jp` added
vanguard-support.net               vanguard `support` added
matsui-security.jp                 matsui   `security` added
kabu-com.jp                        kabucom  dots replaced by hyphens
kabu-login.jp                      kabucom  `login` added
sbisec-securities.com              sbi      `securities` added
sbisec.co.jp.xyz                   sbi      subdomain of `jp[.]xyz`
interactivebrokers.com.au          ibkr     under `.com.au` instead of `.com`
sbisec.co.jp                       -
psmtp01.SBISEC.co.jp.              -
mail.monex.co.jp                   -
transactional.vanguard.com         -
e-vanguard.com                     -
interactivebrokers.ie              -
gmail.com                          -
example.jp                         -
amazon.co.jp                       -
rakuten.co.jp                      -
rakuten-card.co.jp                 -
rakuten-bank.co.jp                 -
netbk.co.jp                        -
sbishinseibank.co.jp               -
sbigroup.co.jp                     -
secom.co.jp                        -
money.co.jp                        -
matsuo.co.jp                       -
nexmo.com                          -
monexgroup.jp                      -
schwabmoneywise.com                -
fidelityinvestments.ca             -
fidelity.co.uk                     -
vanguard.co.uk                     -
evanguard-news.com                 -
kabutan.jp                         -
kabucommunity.jp                   -
kabu.jp                            -
fidelity-online.com                -
mizuhobank.co.jp                   -
";

#[test]
fn lookalikes_and_genuine_neighbours() {
    let set = set();
    let idn = [
        (
            format!("xn--{}.co.jp", punycode_encode("sbisес")),
            "sbi",
            "`е` for `e`, `с` for `c`",
        ),
        (
            format!("www.xn--{}.com", punycode_encode("ѕсhwаb")),
            "schwab",
            "Unicode letters",
        ),
    ];
    let table = CASES.lines().filter(|l| !l.trim().is_empty()).map(|l| {
        let cols: Vec<&str> = l.split_whitespace().collect();
        let broker = cols.get(1).copied().unwrap_or("-");
        (
            cols[0].to_string(),
            broker,
            cols[2.min(cols.len())..].join(" "),
        )
    });
    let cases: Vec<(String, &str, String)> = table
        .chain(idn.into_iter().map(|(d, b, w)| (d, b, w.to_string())))
        .collect();
    assert!(cases.len() >= 40 && cases.iter().filter(|c| c.1 == "-").count() >= 20);
    for (domain, broker, words) in &cases {
        let got = lookalike(&set, domain);
        match (*broker, &got) {
            ("-", None) => {}
            ("-", Some(l)) => panic!("{domain} is not a look-alike, got: {}", why(l)),
            (_, None) => panic!("{domain}: want a look-alike of {broker}, got none"),
            (_, Some(l)) => {
                let why = why(l);
                assert_eq!(l.broker, *broker, "{domain}: {why}");
                assert!(
                    why.contains(words.as_str()),
                    "{domain}: want `{words}` in: {why}"
                );
            }
        }
    }
}

#[test]
fn reason_names_both_domains_and_defangs_the_fake() {
    let l = lookalike(&set(), "sbisec-co-jp.com").expect("a look-alike");
    assert_eq!(l.imitates, "sbisec.co.jp");
    assert_eq!(l.how, Disguise::DotsToHyphens);
    assert_eq!(
        why(&l),
        "`sbisec-co-jp[.]com` imitates `sbisec.co.jp` (its dots replaced by hyphens)"
    );
    let l = lookalike(&set(), "xn--sbis-y4d6e.co.jp").expect("a look-alike");
    assert_eq!(l.read_as.as_deref(), Some("sbisес[.]co[.]jp"));
    assert!(
        why(&l).starts_with("`xn--sbis-y4d6e[.]co[.]jp` read as `sbisес[.]co[.]jp`"),
        "{}",
        why(&l)
    );
}

/// The facts behind the wording: each kind of imitation with what it names.
#[test]
fn each_kind_of_imitation_carries_its_facts() {
    let set = set();
    let how = |d: &str| lookalike(&set, d).map(|l| l.how).expect(d);
    let s = |x: &str| x.to_string();
    assert_eq!(how("sbiseccojp.net"), Disguise::DotsRemoved);
    assert_eq!(
        how("sbisec.co.jp.secure-login.example"),
        Disguise::GenuineAsSubdomain {
            parent: s("secure-login[.]example")
        }
    );
    assert_eq!(
        how("m0nex.co.jp"),
        Disguise::Letters {
            unicode: false,
            swap: Swap::Pairs(vec![('0', 'o')])
        }
    );
    assert_eq!(
        how("rnonex.co.jp"),
        Disguise::Letters {
            unicode: false,
            swap: Swap::Whole {
                raw: s("rnonex"),
                genuine: s("monex")
            }
        }
    );
    let words = vec![s("login")];
    let name = s("sbisec");
    assert_eq!(
        how("sbisec-login.com"),
        Disguise::WordsAdded { name, words }
    );
    let (name, a, b) = (s("sbisec"), s("sbi"), s("sec"));
    assert_eq!(how("sec-sbi.com"), Disguise::Swapped { name, a, b });
    let (suffix, genuine) = (s("com"), s("co.jp"));
    assert_eq!(how("sbisec.com"), Disguise::OtherSuffix { suffix, genuine });
    let (name, parent) = (s("sbisec"), s("evil[.]example"));
    assert_eq!(
        how("sbisec.evil.example"),
        Disguise::NameInSubdomain { name, parent }
    );
    let (name, added) = (s("sbisec"), vec![s("login")]);
    assert_eq!(
        how("sbiisec-login.com"),
        Disguise::Misspelt {
            name,
            letters: 1,
            added
        }
    );
    let name = s("rakuten-sec");
    assert_eq!(how("rakutensec.co.jp"), Disguise::HyphensMoved { name });
}

#[test]
fn text_hosts_are_checked_once_each() {
    let text = "ログイン https://sbisec-login.com/a と https://sbisec-login.com/b、\
                    本物 https://www.sbisec.co.jp/ETGate と https://evil.example\\@www.sbisec.co.jp/";
    let found = lookalike_text(&set(), text);
    let brokers: Vec<&str> = found.iter().map(|l| l.broker.as_str()).collect();
    assert_eq!(brokers, ["sbi"], "{found:?}");
}

#[test]
fn odd_input_never_panics() {
    let set = set();
    let long = "a".repeat(5000);
    let long_idn = format!("xn--{}", "9".repeat(300));
    let odd = [
        "",
        ".",
        "..",
        "...",
        "xn--",
        "xn--.co.jp",
        "xn---",
        "-.-",
        "@",
        "a@",
        "@@b",
        "é",
        "ｓ",
        "。",
        "ß.co.jp",
        "\u{0}",
        "\u{301}x",
        "sbisec.co.jp.",
        "-sbisec-",
        long.as_str(),
        long_idn.as_str(),
        "xn--zzzzzzzz.com",
        "1.2.3.4",
        "[::1]",
    ];
    for s in odd {
        let _ = lookalike(&set, s);
        let _ = lookalike(&set, &format!("{s}.{s}-login.com"));
        let _ = lookalike_text(&set, &format!("https://{s}/ http://{s}"));
        let _ = registrable_domain(s);
    }
}
