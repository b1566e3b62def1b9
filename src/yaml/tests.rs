use super::*;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Item {
    name: String,
    #[serde(default)]
    count: Option<u32>,
    pattern: Option<At<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    items: Option<Vec<At<Item>>>,
}

fn read<T: DeserializeOwned>(text: &str) -> (Option<T>, Vec<String>) {
    let mut c = Collector::new("f.yaml");
    let v = c.read(text);
    let msgs = match c.finish(()) {
        Ok(()) => Vec::new(),
        Err(p) => p.0.iter().map(|p| p.to_string()).collect(),
    };
    (v, msgs)
}

/// Issue #18 item 10: `2:9: error: line 2 column 9: …` said where twice.
#[test]
fn a_syntax_error_states_its_location_once() {
    let (v, msgs) = read::<File>("a: 1\nb: [1, 2\nc: 3\n");
    assert!(v.is_none());
    assert_eq!(msgs.len(), 1, "{msgs:?}");
    let (loc, msg) = msgs[0]
        .strip_prefix("f.yaml:")
        .and_then(|m| m.split_once(": "))
        .unwrap();
    assert!(
        loc.split(':').next().unwrap().parse::<u32>().unwrap() >= 2,
        "{loc:?}"
    );
    assert!(!msg.contains("line") && !msg.starts_with("error"), "{msg}");
    assert!(!msg.is_empty());
    assert_eq!(mask::without_location("error: line 2 column 9: x y"), "x y");
    assert_eq!(mask::without_location("invalid: line 2"), "invalid: line 2");
}

#[test]
fn locations_are_kept() {
    let (v, msgs) = read::<File>("items:\n  - name: a\n    pattern: 'x('\n");
    assert!(msgs.is_empty(), "{msgs:?}");
    let got = v.unwrap().items.unwrap();
    assert_eq!(got[0].loc, Loc { line: 2, col: 5 });
    let p = got[0].value.pattern.as_ref().unwrap();
    assert_eq!(p.value, "x(");
    assert_eq!(p.loc, Loc { line: 3, col: 14 });
}

#[test]
fn every_bad_item_is_reported_with_its_place() {
    let text = "items:\n  - name: a\n    colour: red\n  - name: b\n    count: many\n  - count: 3\n";
    let (v, msgs) = read::<File>(text);
    assert!(v.unwrap().items.is_none_or(|i| i.is_empty()));
    assert_eq!(msgs.len(), 3, "{msgs:?}");
    assert!(
        msgs[0].starts_with("f.yaml:3:5: unknown field `colour`"),
        "{msgs:?}"
    );
    assert!(msgs[1].starts_with("f.yaml:5:12: invalid"), "{msgs:?}");
    assert!(
        msgs[2].starts_with("f.yaml:6:5: missing field `name`"),
        "{msgs:?}"
    );
}

#[test]
fn numbers_are_accepted_where_text_is_meant() {
    let (item, msgs) = read::<Item>("name: 1234\n");
    assert!(msgs.is_empty(), "{msgs:?}");
    let item = item.unwrap();
    assert_eq!(item.name, "1234");
    assert_eq!(item.count, None);
}

#[test]
fn keys_and_mapping_order_are_kept() {
    #[derive(Deserialize)]
    struct Doc {
        sinks: Keyed<Ordered<String, u32>>,
    }
    let (doc, msgs) = read::<Doc>("sinks:\n  b: 1\n  a: 2\n");
    assert!(msgs.is_empty(), "{msgs:?}");
    let sinks = doc.unwrap().sinks;
    assert_eq!(sinks.value.0, [("b".to_string(), 1), ("a".to_string(), 2)]);
    assert_eq!(sinks.key("a"), Some(Loc { line: 3, col: 3 }));
    assert_eq!(sinks.key("c"), None);
}
