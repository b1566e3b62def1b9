//! Every bad piece of a file at once. serde stops at the first error, so after one the piece it
//! lies in — a top-level key with its value, or one entry of a top-level list — is blanked out
//! (its lines emptied, every other line kept where it was, so locations stay those of the file)
//! and the file is read again, until what is left reads. The value built from the good pieces
//! lets the later checks report theirs in the same run, as if the bad pieces were not written.
//!
//! When the pieces cannot be told apart by lines (flow style, several keys on one line) or a
//! blanked piece held an anchor used elsewhere, the errors found so far are all that is reported.

use serde::Deserialize;
use serde::de::{self, DeserializeOwned, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::{Loc, loc_of};

/// A YAML line break (YAML 1.2 §5.4: CR LF, CR or LF).
static YAML_LINES: std::sync::LazyLock<regex::Regex> =
    std::sync::LazyLock::new(|| regex::Regex::new("\r\n|\r|\n").expect("static regex"));

/// Reads `text` as `T`, every error with its location; `T` from the good pieces when there is
/// one (also when some pieces had errors), None when nothing could be read.
pub fn from_str_all<T: DeserializeOwned>(text: &str) -> (Option<T>, Vec<(Loc, String)>) {
    let first = match serde_saphyr::from_str::<T>(text) {
        Ok(v) => return (Some(v), Vec::new()),
        Err(e) => describe(&e),
    };
    // A file that is not YAML (or not a mapping) has that one problem, not the first field's.
    let skeleton = match serde_saphyr::from_str::<Skeleton>(text) {
        Ok(s) => s,
        Err(e) => return (None, vec![describe(&e)]),
    };
    // Lines as YAML counts them (CR LF, CR alone and LF each end one), so that a location
    // from the parser names the same line here; the masked text is joined with LF, which keeps
    // every line where it was.
    let mut lines: Vec<&str> = YAML_LINES.split(text).collect();
    let pieces = Pieces::new(skeleton, lines.len());
    let mut errors = vec![first];
    loop {
        let at = errors.last().map_or(0, |(loc, _)| loc.line as usize);
        let Some(range) = pieces.around(at) else {
            return (None, errors);
        };
        let range = (range.start - 1).min(lines.len())..(range.end - 1).min(lines.len());
        if lines[range.clone()].iter().all(|l| l.is_empty()) {
            return (None, errors);
        }
        lines[range].fill("");
        match serde_saphyr::from_str::<T>(&lines.join("\n")) {
            Ok(v) => return (Some(v), errors),
            Err(e) => {
                let next = describe(&e);
                // An alias whose anchor was blanked out: not a mistake of the file's own.
                let cascade = next.1.contains("alias") || next.1.contains("anchor");
                if cascade || errors.contains(&next) {
                    return (None, errors);
                }
                errors.push(next);
            }
        }
    }
}

/// An error's location and its message without serde-saphyr's own `line L column C:` prefix
/// and source snippet (the problem says where once; the snippet could show a secret).
pub(super) fn describe(e: &serde_saphyr::Error) -> (Loc, String) {
    let loc = e
        .location()
        .map(|l| loc_of(&l))
        .unwrap_or(Loc { line: 1, col: 1 });
    let msg = e.to_string();
    let first = msg.lines().next().unwrap_or("invalid YAML");
    (loc, polish(without_location(first)))
}

/// `error: line 2 column 9: did not find …` → `did not find …`.
pub(super) fn without_location(msg: &str) -> &str {
    let msg = msg.strip_prefix("error: ").unwrap_or(msg);
    let Some(rest) = msg.strip_prefix("line ") else {
        return msg;
    };
    let digits = |s: &str| s.trim_start_matches(|c: char| c.is_ascii_digit()).len() < s.len();
    match rest.split_once(" column ") {
        Some((line, after)) if digits(line) => match after.split_once(": ") {
            Some((col, text)) if digits(col) && !text.is_empty() => text,
            _ => msg,
        },
        _ => msg,
    }
}

/// serde's messages quote names with backticks; serde-saphyr's lists of expected names do not:
/// quote them too, and make the common ones read naturally.
fn polish(msg: &str) -> String {
    let msg = msg.replace("invalid type: unit value", "invalid type: empty value");
    match msg.split_once(", expected one of ") {
        Some((head, names)) if !names.contains('`') => {
            let quoted: Vec<String> = names.split(", ").map(|n| format!("`{n}`")).collect();
            format!("{head}, expected one of {}", quoted.join(", "))
        }
        _ => msg,
    }
}

/// The line of each top-level key, and of each entry when its value is a list.
struct Skeleton(Vec<(usize, Vec<usize>)>);

impl<'de> Deserialize<'de> for Skeleton {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Skeleton;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a mapping")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Skeleton, A::Error> {
                let mut out = Vec::new();
                while let Some(k) = map.next_key::<serde_saphyr::Spanned<IgnoredAny>>()? {
                    let Entries(lines) = map.next_value()?;
                    out.push((loc_of(&k.referenced).line as usize, lines));
                }
                Ok(Skeleton(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// The lines a list's entries start on; nothing for any other value.
struct Entries(Vec<usize>);

impl<'de> Deserialize<'de> for Entries {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Entries;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("any value")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Entries, A::Error> {
                let mut out = Vec::new();
                while let Some(item) = seq.next_element::<serde_saphyr::Spanned<IgnoredAny>>()? {
                    out.push(loc_of(&item.referenced).line as usize);
                }
                Ok(Entries(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entries, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Entries(Vec::new()))
            }
            fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Entries, D::Error> {
                d.deserialize_any(V)
            }
            fn visit_none<E>(self) -> Result<Entries, E> {
                Ok(Entries(Vec::new()))
            }
            fn visit_unit<E>(self) -> Result<Entries, E> {
                Ok(Entries(Vec::new()))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Entries, E> {
                Ok(Entries(Vec::new()))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Entries, E> {
                Ok(Entries(Vec::new()))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Entries, E> {
                Ok(Entries(Vec::new()))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Entries, E> {
                Ok(Entries(Vec::new()))
            }
            fn visit_str<E>(self, _: &str) -> Result<Entries, E> {
                Ok(Entries(Vec::new()))
            }
        }
        d.deserialize_any(V)
    }
}

/// Line ranges (1-based, end exclusive) of the top-level keys and of their lists' entries.
struct Pieces(Vec<Piece>);

struct Piece {
    lines: std::ops::Range<usize>,
    /// Where each entry starts; empty when entries share a line or the key's line (flow style).
    entries: Vec<usize>,
}

impl Pieces {
    fn new(skeleton: Skeleton, line_count: usize) -> Pieces {
        let keys = skeleton.0;
        // Keys sharing a line (flow style) cannot be blanked one at a time.
        if keys.windows(2).any(|w| w[0].0 >= w[1].0) {
            return Pieces(Vec::new());
        }
        let ends = keys.iter().skip(1).map(|k| k.0).chain([line_count + 1]);
        let pieces = keys
            .iter()
            .zip(ends)
            .map(|((start, entries), end)| {
                let starts: Vec<usize> = std::iter::once(*start)
                    .chain(entries.iter().copied())
                    .collect();
                let distinct = starts.windows(2).all(|w| w[0] < w[1]);
                Piece {
                    lines: *start..end,
                    entries: if distinct {
                        entries.clone()
                    } else {
                        Vec::new()
                    },
                }
            })
            .collect();
        Pieces(pieces)
    }

    /// The smallest piece holding `line`: a list entry, or else a top-level key.
    fn around(&self, line: usize) -> Option<std::ops::Range<usize>> {
        let piece = self.0.iter().find(|p| p.lines.contains(&line))?;
        let i = piece.entries.iter().rposition(|&s| s <= line);
        match i {
            Some(i) => {
                let end = piece.entries.get(i + 1).copied().unwrap_or(piece.lines.end);
                Some(piece.entries[i]..end)
            }
            None => Some(piece.lines.clone()),
        }
    }
}

#[cfg(test)]
mod tests;
