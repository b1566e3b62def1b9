use super::*;
use crate::rules::lookalike::{Disguise, LookAlike, Swap};

fn look(shown: &str, imitates: &str, how: Disguise) -> LookAlike {
    LookAlike {
        broker: "sbi".into(),
        imitates: imitates.into(),
        shown: shown.into(),
        read_as: None,
        how,
    }
}

fn s(x: &str) -> String {
    x.to_string()
}

/// Each kind of imitation, with its English (as it always read) and its Japanese detail.
fn kinds() -> Vec<(Disguise, &'static str, &'static str)> {
    let letters = |unicode, swap| Disguise::Letters { unicode, swap };
    vec![
        (
            Disguise::GenuineAsSubdomain {
                parent: s("evil[.]example"),
            },
            "the genuine domain used as a subdomain of `evil[.]example`",
            "本物のドメインを evil[.]example のサブドメインとして使っています",
        ),
        (
            Disguise::DotsToHyphens,
            "its dots replaced by hyphens",
            "本物のドメインの「.」を「-」に置き換えています",
        ),
        (
            Disguise::DotsRemoved,
            "its dots removed",
            "本物のドメインから「.」を取り除いています",
        ),
        (
            letters(false, Swap::Pairs(vec![('0', 'o')])),
            "look-alike characters: `0` for `o`",
            "見た目の似た文字で、「o」を「0」に置き換えています",
        ),
        (
            letters(true, Swap::Pairs(vec![('е', 'e'), ('с', 'c')])),
            "Unicode letters that look like Latin ones: `е` for `e`, `с` for `c`",
            "ラテン文字に似た別の文字で、「e」を「е」に、「c」を「с」に置き換えています",
        ),
        (
            letters(
                false,
                Swap::Whole {
                    raw: s("rnonex"),
                    genuine: s("monex"),
                },
            ),
            "look-alike characters: `rnonex` reads as `monex`",
            "見た目の似た文字で「rnonex」と書き、「monex」に見せかけています",
        ),
        (
            Disguise::HyphensMoved { name: s("sbisec") },
            "the name `sbisec` with hyphens moved",
            "「sbisec」の「-」の位置を変えています",
        ),
        (
            Disguise::WordsAdded {
                name: s("sbisec"),
                words: vec![s("login"), s("jp")],
            },
            "the name `sbisec` with `login`, `jp` added",
            "「sbisec」に「login」、「jp」を付け加えています",
        ),
        (
            Disguise::Swapped {
                name: s("sbisec"),
                a: s("sbi"),
                b: s("sec"),
            },
            "the name `sbisec` split into `sbi` and `sec`, swapped",
            "「sbisec」を「sbi」と「sec」に分けて、前後を入れ替えています",
        ),
        (
            Disguise::OtherSuffix {
                suffix: s("com"),
                genuine: s("co.jp"),
            },
            "the same name under `.com` instead of `.co.jp`",
            "同じ名前で、末尾を「.co.jp」ではなく「.com」にしています",
        ),
        (
            Disguise::NameInSubdomain {
                name: s("sbisec"),
                parent: s("evil[.]example"),
            },
            "the name `sbisec` used in a subdomain of `evil[.]example`",
            "「sbisec」という名前を evil[.]example のサブドメインに使っています",
        ),
        (
            Disguise::Misspelt {
                name: s("schwab"),
                letters: 1,
                added: vec![],
            },
            "the name `schwab` misspelt by 1 letter",
            "「schwab」を1文字だけ違う綴りにしています",
        ),
        (
            Disguise::Misspelt {
                name: s("sbisec"),
                letters: 2,
                added: vec![s("login")],
            },
            "the name `sbisec` misspelt by 2 letters, with `login` added",
            "「sbisec」を2文字だけ違う綴りにして、さらに「login」を付け加えています",
        ),
    ]
}

#[test]
fn every_kind_of_look_alike_is_worded_in_both_languages() {
    for (how, en, ja) in kinds() {
        let l = look("x[.]example", "sbisec.co.jp", how);
        assert_eq!(
            render(&Reason::SenderLookAlike(l.clone()), Language::En),
            format!(
                "the sender's domain imitates a broker: `x[.]example` imitates `sbisec.co.jp` ({en})"
            )
        );
        assert_eq!(
            render(&Reason::LinkLookAlike(l.clone()), Language::Ja),
            format!(
                "リンク先 x[.]example は、証券会社のドメイン sbisec.co.jp に似せてあります（{ja}）"
            )
        );
    }
}

#[test]
fn the_japanese_look_alike_reasons_carry_the_detail() {
    let l = look("schwbab.com", "schwab.com", kinds().swap_remove(11).0);
    let imitation = Reason::Imitation {
        host: s("schwbab.com"),
        broker: s("Charles Schwab"),
        look: l.clone(),
    };
    assert_eq!(
        render(&imitation, Language::Ja),
        "リンク先 schwbab.com は Charles Schwab のドメインではありません（schwab.com に似せた偽のドメインで、「schwab」を1文字だけ違う綴りにしています）"
    );
    assert_eq!(
        render(&imitation, Language::En),
        "a link goes to `schwbab.com`, an imitation of Charles Schwab's domain: `schwbab.com` imitates `schwab.com` (the name `schwab` misspelt by 1 letter)"
    );
    let claim = Reason::Claim(crate::rules::Claim::LookAlike(l));
    assert_eq!(
        render(&claim, Language::Ja),
        "schwbab.com は、証券会社のドメイン schwab.com に似せたドメインです（「schwab」を1文字だけ違う綴りにしています）"
    );
}

/// An `xn--` look-alike says what it reads as, in both languages.
#[test]
fn an_idn_look_alike_says_what_it_reads_as() {
    let mut l = look(
        "xn--sbis-y4d6e[.]co[.]jp",
        "sbisec.co.jp",
        kinds().swap_remove(4).0,
    );
    l.read_as = Some(s("sbisес[.]co[.]jp"));
    assert_eq!(
        render(&Reason::SenderLookAlike(l.clone()), Language::En),
        "the sender's domain imitates a broker: `xn--sbis-y4d6e[.]co[.]jp` read as `sbisес[.]co[.]jp` imitates `sbisec.co.jp` (Unicode letters that look like Latin ones: `е` for `e`, `с` for `c`)"
    );
    assert_eq!(
        render(&Reason::SenderLookAlike(l), Language::Ja),
        "送信元のドメイン xn--sbis-y4d6e[.]co[.]jp は、証券会社のドメイン sbisec.co.jp に似せてあります（sbisес[.]co[.]jp と表示されます。ラテン文字に似た別の文字で、「e」を「е」に、「c」を「с」に置き換えています）"
    );
}
