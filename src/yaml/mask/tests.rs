use serde::Deserialize;

use super::*;
use crate::yaml::At;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Item {
    name: String,
    size: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Doc {
    items: Option<Vec<At<Item>>>,
    mode: Option<Mode>,
    note: Option<String>,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(rename_all = "lowercase")]
enum Mode {
    Fast,
    Slow,
}

fn at(errors: &[(Loc, String)]) -> Vec<(u32, u32)> {
    errors.iter().map(|(l, _)| (l.line, l.col)).collect()
}

fn names(doc: &Doc) -> Vec<&str> {
    let items = doc.items.iter().flatten();
    items.map(|i| i.value.name.as_str()).collect()
}

#[test]
fn every_bad_entry_and_key_is_reported_and_the_good_ones_kept() {
    let text = "items:\n  - name: a\n    colour: red\n  - name: b\n  - name: c\n    size: big\n\
                mode: quick\nnote: fine\nextra: 1\n";
    let (doc, errors) = from_str_all::<Doc>(text);
    assert_eq!(at(&errors), [(3, 5), (6, 11), (7, 7), (9, 1)], "{errors:?}");
    assert!(
        errors[0].1.starts_with("unknown field `colour`"),
        "{errors:?}"
    );
    assert!(
        errors[2].1.contains("unknown variant `quick`"),
        "{errors:?}"
    );
    assert!(
        errors[3].1.starts_with("unknown field `extra`"),
        "{errors:?}"
    );
    let doc = doc.expect("the good pieces");
    assert_eq!(names(&doc), ["b"]);
    assert_eq!((doc.mode, doc.note.as_deref()), (None, Some("fine")));
    assert_eq!(doc.items.unwrap()[0].loc, Loc { line: 4, col: 5 });
}

#[test]
fn a_good_file_reads_at_once_and_an_empty_one_is_empty() {
    let (doc, errors) = from_str_all::<Doc>("mode: slow\nitems: [{name: x, size: 3}]\n");
    assert!(errors.is_empty());
    let doc = doc.unwrap();
    assert_eq!(doc.mode, Some(Mode::Slow));
    assert_eq!(doc.items.unwrap()[0].value.size, Some(3));
    let (doc, errors) = from_str_all::<Doc>("# nothing yet\n");
    assert!(errors.is_empty() && doc.unwrap().items.is_none());
}

#[test]
fn flow_style_keys_on_one_line_report_the_first_error_only() {
    let (doc, errors) = from_str_all::<Doc>("{mode: quick, extra: 1}\n");
    assert!(doc.is_none());
    assert_eq!(at(&errors), [(1, 8)], "{errors:?}");
}

#[test]
fn a_flow_list_is_one_piece() {
    let text = "items: [{name: a, size: x}, {name: b, colour: 1}]\nnote: kept\n";
    let (doc, errors) = from_str_all::<Doc>(text);
    assert_eq!(at(&errors), [(1, 25)], "{errors:?}");
    let doc = doc.unwrap();
    assert!(doc.items.is_none());
    assert_eq!(doc.note.as_deref(), Some("kept"));
}

#[test]
fn an_alias_to_a_blanked_anchor_is_not_reported_as_a_mistake_of_its_own() {
    let text = "items:\n  - &first {name: a, colour: red}\n  - *first\nnote: n\n";
    let (_, errors) = from_str_all::<Doc>(text);
    assert!(!errors.is_empty());
    let problems = crate::config::load_str(text, "fuzz.yaml", std::path::Path::new("/tmp"));
    assert!(problems.is_err());
    assert!(
        errors.iter().all(|(l, _)| l.line == 2 || l.line == 3),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .all(|(_, m)| !m.contains("alias") && !m.contains("anchor")),
        "{errors:?}"
    );
}

#[test]
fn a_syntax_error_is_the_one_problem() {
    let (doc, errors) = from_str_all::<Doc>("note: a\nitems: [1, 2\nmode: fast\n");
    assert!(doc.is_none());
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(!errors[0].1.contains("line "), "{errors:?}");
}

#[test]
fn several_errors_in_one_entry_blank_the_entry_once() {
    let text = "items:\n  - name: a\n    size: big\n    colour: red\n  - name: b\n";
    let (doc, errors) = from_str_all::<Doc>(text);
    assert_eq!(at(&errors), [(3, 11)], "{errors:?}");
    assert_eq!(names(&doc.unwrap()), ["b"]);
}

/// A file whose lines end in CR alone (old Mac style, or a stray CR from a fuzzer): the parser
/// counts those lines, so the masking must too (it once indexed past its own line list).
#[test]
fn lines_ended_by_cr_alone_are_lines_too() {
    let text = "items:\r  - name: a\r    colour: red\r  - name: b\rmode: quick\rnote: fine\r";
    let (doc, errors) = from_str_all::<Doc>(text);
    assert_eq!(at(&errors), [(3, 5), (5, 7)], "{errors:?}");
    let doc = doc.expect("the good pieces");
    assert_eq!(
        (names(&doc), doc.note.as_deref()),
        (vec!["b"], Some("fine"))
    );
}

/// The input the config fuzzer found (as the fuzz target reads it, invalid UTF-8 replaced):
/// a run of CRs; it used to panic, now its problems are reported.
#[test]
fn the_fuzzers_cr_file_reads_without_a_panic() {
    let text = "# COnfiguratiin_ids:\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd} {file: /run/secrets/imap_am: {token: \u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}234{enunknown_key\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\u{fffd}ker: sbi# a\u{fffd}\u{fffd}\u{fffd}\u{fffd}with.\nauthserv_ids:\n   an c";
    let (_, errors) = from_str_all::<Doc>(text);
    assert!(!errors.is_empty());
    let problems = crate::config::load_str(text, "fuzz.yaml", std::path::Path::new("/tmp"));
    assert!(problems.is_err());
}
