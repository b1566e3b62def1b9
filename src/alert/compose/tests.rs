use super::*;

fn verdict() -> Verdict {
    Verdict {
        message_id: Some("m1@kabu.com".into()),
        broker: Some("kabucom".into()),
        severity: Severity::Warning,
        broker_name: Some("auカブコム証券".into()),
        subject: "【auKabucom】重要なお知らせ https://kabu.com/x".into(),
        sender: Some("support@kabu.com".into()),
        unrecognised: vec!["ログインパスワード".into()],
        ..Verdict::default()
    }
}

fn pack() -> Pack {
    Pack {
        id: "kabucom".into(),
        name: "auカブコム証券".into(),
        contact: crate::rules::Contact {
            phone: vec!["0120-000-000".into()],
            url: Some("https://kabu.com/".into()),
            steps: crate::rules::Steps::same(vec!["ログインパスワードを変更する".into()]),
        },
        ..Pack::default()
    }
}

#[test]
fn an_unrecognised_notice_is_an_actionable_warning_naming_its_words() {
    let c = compose(&verdict(), Some(&pack()), &[], Language::En).expect("an alert");
    assert_eq!(c.kind, AlertKind::Unexpected);
    assert_eq!(c.severity, Severity::Warning);
    assert!(c.actionable);
    assert!(c.title.contains("does not recognise"), "{}", c.title);
    assert!(c.body.contains("「ログインパスワード」"), "{}", c.body);
    assert!(c.body.contains("sender not verified"), "{}", c.body);
    assert!(c.body.contains("0120-000-000"), "{}", c.body);
    assert!(
        !c.body.contains("https://"),
        "links are defanged: {}",
        c.body
    );
}

#[test]
fn a_generic_match_says_so() {
    let mut v = verdict();
    v.unrecognised.clear();
    v.event = Some(EventKind::PayoutAccountChange);
    v.rule = Some("generic-payout-account-change".into());
    v.severity = Severity::Critical;
    v.generic = true;
    let c = compose(&v, Some(&pack()), &[], Language::En).expect("an alert");
    assert_eq!(c.kind, AlertKind::Unexpected);
    assert!(c.title.contains("出金先口座の変更"), "{}", c.title);
    assert!(
        c.body.contains("Recognised by generic wording"),
        "{}",
        c.body
    );
}

/// The departures from the trading profile are worded in the alert's language, not the one
/// the verdict was reached in.
#[test]
fn off_profile_departures_are_worded_in_the_alerts_language() {
    use crate::profile::{Departure, Deviation, Fact};
    let mut v = verdict();
    v.unrecognised.clear();
    v.event = Some(EventKind::Trade);
    v.severity = Severity::Critical;
    v.fields.insert("side".into(), "sell".into());
    let sale = Departure {
        kind: Deviation::Sell,
        fact: Fact::Sale {
            sides: vec!["buy".into()],
        },
    };
    v.off_profile = vec![sale.clone()];
    let ja = compose(&v, None, &[], Language::Ja).expect("an alert");
    let en = compose(&v, None, &[], Language::En).expect("an alert");
    let (sale_ja, sale_en) = (sale.text(Language::Ja), sale.text(Language::En));
    assert_ne!(sale_ja, sale_en);
    assert!(
        ja.body
            .contains(&format!("取引プロフィールと異なる点: {sale_ja}")),
        "{}",
        ja.body
    );
    assert!(
        en.body
            .contains(&format!("Outside your trading profile: {sale_en}")),
        "{}",
        en.body
    );
    assert!(!en.body.contains(&sale_ja) && !ja.body.contains(&sale_en));
    assert_eq!((ja.kind, ja.severity), (en.kind, en.severity));
}
