use super::*;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Item {
    name: String,
    #[serde(default)]
    count: Option<u32>,
    pattern: Option<At<String>>,
}

/// Issue #18 item 10: `2:9: error: line 2 column 9: …` said where twice.
#[test]
fn a_syntax_error_states_its_location_once() {
    let (loc, msg) = parse("a: 1\nb: [1, 2\nc: 3\n").unwrap_err();
    assert!(loc.line >= 2, "{loc:?}");
    assert!(!msg.contains("line") && !msg.starts_with("error"), "{msg}");
    assert!(!msg.is_empty());
    assert_eq!(without_location("error: line 2 column 9: x y"), "x y");
    assert_eq!(without_location("invalid: line 2"), "invalid: line 2");
}

#[test]
fn locations_are_kept() {
    let n = parse("items:\n  - name: a\n    pattern: 'x('\n").unwrap();
    let items = &n.as_map().unwrap()[0].1;
    let mut c = Collector::new("f.yaml");
    let got: Vec<(Loc, Item)> = c.take_each(items, "items");
    assert!(c.problems.is_empty(), "{:?}", c.problems);
    assert_eq!(got[0].0, Loc { line: 2, col: 5 });
    let p = got[0].1.pattern.as_ref().unwrap();
    assert_eq!(p.value, "x(");
    assert_eq!(p.loc, Loc { line: 3, col: 14 });
}

#[test]
fn every_bad_item_is_reported_with_its_place() {
    let text = "items:\n  - name: a\n    colour: red\n  - name: b\n    count: many\n  - count: 3\n";
    let n = parse(text).unwrap();
    let mut c = Collector::new("f.yaml");
    let got: Vec<(Loc, Item)> = c.take_each(&n.as_map().unwrap()[0].1, "items");
    assert!(got.is_empty());
    let msgs: Vec<String> = c.problems.iter().map(|p| p.to_string()).collect();
    assert_eq!(msgs.len(), 3, "{msgs:?}");
    assert!(
        msgs[0].starts_with("f.yaml:3:5: unknown field `colour`"),
        "{msgs:?}"
    );
    assert!(msgs[1].starts_with("f.yaml:5:12: invalid type"), "{msgs:?}");
    assert!(
        msgs[2].starts_with("f.yaml:6:5: missing field `name`"),
        "{msgs:?}"
    );
}

#[test]
fn numbers_are_accepted_where_text_is_meant() {
    let n = parse("name: 1234\n").unwrap();
    let item: Item = from_node(&n).unwrap();
    assert_eq!(item.name, "1234");
    assert_eq!(item.count, None);
}

#[test]
fn syntax_errors_have_a_location() {
    let (loc, msg) = parse("a: [1, 2\nb: c\n").unwrap_err();
    assert!(loc.line >= 1 && !msg.is_empty());
}
