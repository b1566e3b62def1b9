//! YAML with locations: parse once into a spanned tree, then deserialize pieces of it with serde,
//! so that one run reports *every* bad entry as `file:line:col: message`, not only the first.
//!
//! Used by the config and the rule packs. [`At<T>`] keeps a value's location for checks that run
//! after deserialization (a regex that does not compile, a duration that does not parse).

use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, DeserializeOwned, IntoDeserializer, Visitor};

/// A position in a YAML file, 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, PartialOrd, Ord)]
pub struct Loc {
    pub line: u32,
    pub col: u32,
}

/// One problem found in a file, printed as `file:line:col: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: String,
    pub loc: Loc,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.loc.line, self.loc.col, self.message
        )
    }
}

/// Every problem of a load, in file and line order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Problems(pub Vec<Problem>);

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Problems {}

/// A YAML value with its location.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub loc: Loc,
    pub kind: Kind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// The entries of a mapping, or None.
    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.kind {
            Kind::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The items of a sequence, or None.
    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.kind {
            Kind::Seq(s) => Some(s),
            _ => None,
        }
    }

    /// A scalar as text (keys, and strings written as numbers).
    pub fn scalar_text(&self) -> Option<String> {
        match &self.kind {
            Kind::Str(s) => Some(s.clone()),
            Kind::Int(i) => Some(i.to_string()),
            Kind::UInt(u) => Some(u.to_string()),
            Kind::Float(f) => Some(f.to_string()),
            Kind::Bool(b) => Some(b.to_string()),
            Kind::Null | Kind::Seq(_) | Kind::Map(_) => None,
        }
    }

    fn describe(&self) -> &'static str {
        match self.kind {
            Kind::Null => "null",
            Kind::Bool(_) => "a boolean",
            Kind::Int(_) | Kind::UInt(_) => "an integer",
            Kind::Float(_) => "a number",
            Kind::Str(_) => "a string",
            Kind::Seq(_) => "a list",
            Kind::Map(_) => "a mapping",
        }
    }
}

/// Parses YAML text into a spanned tree. An empty document is an empty mapping.
pub fn parse(text: &str) -> Result<Node, (Loc, String)> {
    if text.trim().is_empty() {
        return Ok(Node {
            loc: Loc { line: 1, col: 1 },
            kind: Kind::Map(Vec::new()),
        });
    }
    match serde_saphyr::from_str::<serde_saphyr::Spanned<Raw>>(text) {
        Ok(s) => Ok(s.into_node()),
        Err(e) => {
            let loc = e
                .location()
                .map(|l| Loc {
                    line: clamp(l.line()),
                    col: clamp(l.column()),
                })
                .unwrap_or(Loc { line: 1, col: 1 });
            // The rendered error repeats the location and adds a snippet; the first line, without
            // its own `error: line L column C:` prefix, suffices (the Problem says where).
            let msg = e.to_string();
            let first = msg.lines().next().unwrap_or("invalid YAML");
            Err((loc, without_location(first).to_string()))
        }
    }
}

/// `error: line 2 column 9: did not find …` → `did not find …`.
fn without_location(msg: &str) -> &str {
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

fn clamp(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// The intermediate form serde-saphyr fills; children carry their spans.
enum Raw {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    Seq(Vec<serde_saphyr::Spanned<Raw>>),
    Map(Vec<(serde_saphyr::Spanned<Raw>, serde_saphyr::Spanned<Raw>)>),
}

trait IntoNode {
    fn into_node(self) -> Node;
}

impl IntoNode for serde_saphyr::Spanned<Raw> {
    fn into_node(self) -> Node {
        let loc = Loc {
            line: clamp(self.referenced.line()),
            col: clamp(self.referenced.column()),
        };
        let kind = match self.value {
            Raw::Null => Kind::Null,
            Raw::Bool(b) => Kind::Bool(b),
            Raw::Int(i) => Kind::Int(i),
            Raw::UInt(u) => Kind::UInt(u),
            Raw::Float(f) => Kind::Float(f),
            Raw::Str(s) => Kind::Str(s),
            Raw::Seq(items) => Kind::Seq(items.into_iter().map(IntoNode::into_node).collect()),
            Raw::Map(entries) => Kind::Map(
                entries
                    .into_iter()
                    .map(|(k, v)| (k.into_node(), v.into_node()))
                    .collect(),
            ),
        };
        Node { loc, kind }
    }
}

impl<'de> Deserialize<'de> for Raw {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(RawVisitor)
    }
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = Raw;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E>(self) -> Result<Raw, E> {
        Ok(Raw::Null)
    }
    fn visit_none<E>(self) -> Result<Raw, E> {
        Ok(Raw::Null)
    }
    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Raw, D::Error> {
        d.deserialize_any(RawVisitor)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Raw, E> {
        Ok(Raw::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Raw, E> {
        Ok(Raw::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Raw, E> {
        Ok(Raw::UInt(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Raw, E> {
        Ok(Raw::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Raw, E> {
        Ok(Raw::Str(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Raw, E> {
        Ok(Raw::Str(v))
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Raw, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Raw::Seq(items))
    }
    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Raw, A::Error> {
        let mut entries = Vec::new();
        while let Some(k) = map.next_key()? {
            let v = map.next_value()?;
            entries.push((k, v));
        }
        Ok(Raw::Map(entries))
    }
}

/// A value with the location it was written at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct At<T> {
    pub loc: Loc,
    pub value: T,
}

const AT_NAME: &str = "__brokerwatch_at";

impl<'de, T: Deserialize<'de>> Deserialize<'de> for At<T> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct AtVisitor<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for AtVisitor<T> {
            type Value = At<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a located value")
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut s: A) -> Result<At<T>, A::Error> {
                let line: u32 = s.next_element()?.unwrap_or(0);
                let col: u32 = s.next_element()?.unwrap_or(0);
                let value = s
                    .next_element()?
                    .ok_or_else(|| de::Error::custom("missing value"))?;
                Ok(At {
                    loc: Loc { line, col },
                    value,
                })
            }
        }
        d.deserialize_newtype_struct(AT_NAME, AtVisitor(PhantomData))
    }
}

/// A deserialization error with the location of the innermost node it came from.
#[derive(Debug)]
pub struct DeError {
    loc: Option<Loc>,
    msg: String,
}

impl DeError {
    fn at(mut self, loc: Loc) -> Self {
        self.loc.get_or_insert(loc);
        self
    }
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.msg)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<M: fmt::Display>(msg: M) -> Self {
        DeError {
            loc: None,
            msg: msg.to_string(),
        }
    }
}

/// Deserializes a node into `T`; the error carries the location of the offending node.
pub fn from_node<T: DeserializeOwned>(node: &Node) -> Result<T, (Loc, String)> {
    T::deserialize(NodeDe(node)).map_err(|e| (e.loc.unwrap_or(node.loc), polish(&e.msg)))
}

/// serde's messages quote names with backticks already; make the common ones read naturally.
fn polish(msg: &str) -> String {
    msg.replace("invalid type: unit value", "invalid type: empty value")
}

struct NodeDe<'a>(&'a Node);

impl<'de, 'a> de::Deserializer<'de> for NodeDe<'a> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        let node = self.0;
        let r = match &node.kind {
            Kind::Null => v.visit_unit(),
            Kind::Bool(b) => v.visit_bool(*b),
            Kind::Int(i) => v.visit_i64(*i),
            Kind::UInt(u) => v.visit_u64(*u),
            Kind::Float(f) => v.visit_f64(*f),
            Kind::Str(s) => v.visit_str(s),
            Kind::Seq(items) => {
                v.visit_seq(de::value::SeqDeserializer::new(items.iter().map(NodeDe)))
            }
            Kind::Map(entries) => v.visit_map(MapAcc {
                iter: entries.iter(),
                value: None,
            }),
        };
        r.map_err(|e| e.at(node.loc))
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        match self.0.kind {
            Kind::Null => v.visit_none(),
            _ => v.visit_some(self),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        // NOTE: `account_suffix: 1234` is an integer to YAML; a string is what was meant.
        match self.0.scalar_text() {
            Some(s) if !matches!(self.0.kind, Kind::Bool(_)) => v.visit_string(s),
            _ => Err(<DeError as de::Error>::invalid_type(unexpected(self.0), &v).at(self.0.loc)),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.deserialize_string(v)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        v: V,
    ) -> Result<V::Value, DeError> {
        if name == AT_NAME {
            let loc = self.0.loc;
            let items = AtSeq {
                loc,
                node: self.0,
                step: 0,
            };
            return v.visit_seq(items);
        }
        v.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, DeError> {
        match &self.0.kind {
            Kind::Str(s) => v
                .visit_enum(s.as_str().into_deserializer())
                .map_err(|e: DeError| e.at(self.0.loc)),
            _ => Err(<DeError as de::Error>::invalid_type(unexpected(self.0), &v).at(self.0.loc)),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char bytes byte_buf unit
        unit_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

fn unexpected(node: &Node) -> de::Unexpected<'_> {
    match &node.kind {
        Kind::Null => de::Unexpected::Unit,
        Kind::Bool(b) => de::Unexpected::Bool(*b),
        Kind::Int(i) => de::Unexpected::Signed(*i),
        Kind::UInt(u) => de::Unexpected::Unsigned(*u),
        Kind::Float(f) => de::Unexpected::Float(*f),
        Kind::Str(s) => de::Unexpected::Str(s),
        Kind::Seq(_) => de::Unexpected::Seq,
        Kind::Map(_) => de::Unexpected::Map,
    }
}

impl<'de, 'a> IntoDeserializer<'de, DeError> for NodeDe<'a> {
    type Deserializer = Self;
    fn into_deserializer(self) -> Self {
        self
    }
}

struct MapAcc<'a> {
    iter: std::slice::Iter<'a, (Node, Node)>,
    value: Option<&'a Node>,
}

impl<'de, 'a> de::MapAccess<'de> for MapAcc<'a> {
    type Error = DeError;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let Some((k, v)) = self.iter.next() else {
            return Ok(None);
        };
        self.value = Some(v);
        let key = k.scalar_text().ok_or_else(|| {
            <DeError as de::Error>::custom(format!(
                "a key must be a plain word, not {}",
                k.describe()
            ))
            .at(k.loc)
        })?;
        let de: de::value::StringDeserializer<DeError> = key.into_deserializer();
        seed.deserialize(de).map(Some).map_err(|e| e.at(k.loc))
    }

    fn next_value_seed<V: de::DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, DeError> {
        let node = self
            .value
            .take()
            .ok_or_else(|| <DeError as de::Error>::custom("value without key"))?;
        seed.deserialize(NodeDe(node)).map_err(|e| e.at(node.loc))
    }
}

struct AtSeq<'a> {
    loc: Loc,
    node: &'a Node,
    step: u8,
}

impl<'de, 'a> de::SeqAccess<'de> for AtSeq<'a> {
    type Error = DeError;
    fn next_element_seed<T: de::DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        self.step += 1;
        match self.step {
            1 => seed
                .deserialize(self.loc.line.into_deserializer())
                .map(Some),
            2 => seed.deserialize(self.loc.col.into_deserializer()).map(Some),
            3 => seed.deserialize(NodeDe(self.node)).map(Some),
            _ => Ok(None),
        }
    }
}

/// Collects problems for one file while its pieces are checked.
pub struct Collector {
    pub file: String,
    pub problems: Vec<Problem>,
}

impl Collector {
    pub fn new(file: impl Into<String>) -> Self {
        Collector {
            file: file.into(),
            problems: Vec::new(),
        }
    }

    /// Records a problem at a location.
    pub fn error(&mut self, loc: Loc, message: impl Into<String>) {
        self.problems.push(Problem {
            file: self.file.clone(),
            loc,
            message: message.into(),
        });
    }

    /// Deserializes a node, recording the problem instead of failing.
    pub fn take<T: DeserializeOwned>(&mut self, node: &Node) -> Option<T> {
        match from_node(node) {
            Ok(v) => Some(v),
            Err((loc, msg)) => {
                self.error(loc, msg);
                None
            }
        }
    }

    /// Deserializes each item of a list separately, so one bad item does not hide the others.
    pub fn take_each<T: DeserializeOwned>(&mut self, node: &Node, what: &str) -> Vec<(Loc, T)> {
        match &node.kind {
            Kind::Seq(items) => items
                .iter()
                .filter_map(|item| self.take(item).map(|v| (item.loc, v)))
                .collect(),
            Kind::Null => Vec::new(),
            _ => {
                self.error(
                    node.loc,
                    format!("`{what}` must be a list, not {}", node.describe()),
                );
                Vec::new()
            }
        }
    }

    /// The entries of a top-level mapping, checking each key against the known ones.
    pub fn entries<'n>(&mut self, node: &'n Node, known: &[&str]) -> Vec<(String, &'n Node)> {
        let Some(map) = node.as_map() else {
            self.error(
                node.loc,
                format!("expected a mapping at the top, not {}", node.describe()),
            );
            return Vec::new();
        };
        let mut out = Vec::new();
        for (k, v) in map {
            let key = k.scalar_text().unwrap_or_default();
            if known.contains(&key.as_str()) {
                out.push((key, v));
            } else {
                self.error(
                    k.loc,
                    format!(
                        "unknown field `{key}`, expected one of {}",
                        known
                            .iter()
                            .map(|k| format!("`{k}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
            }
        }
        out
    }

    /// Parses a file's text; a syntax error becomes a problem.
    pub fn parse(&mut self, text: &str) -> Option<Node> {
        match parse(text) {
            Ok(n) => Some(n),
            Err((loc, msg)) => {
                self.error(loc, msg);
                None
            }
        }
    }

    /// Ends collection: the value if there were no problems.
    pub fn finish<T>(self, value: T) -> Result<T, Problems> {
        if self.problems.is_empty() {
            Ok(value)
        } else {
            let mut p = self.problems;
            p.sort_by(|a, b| (&a.file, a.loc).cmp(&(&b.file, b.loc)));
            Err(Problems(p))
        }
    }
}

#[cfg(test)]
mod tests;
