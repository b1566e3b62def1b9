//! YAML files read with serde (serde-saphyr), every problem collected as `file:line:col:
//! message`: the typed structs check the shape, the compile steps the meaning.
//!
//! Used by the config and the rule packs. [`At<T>`] keeps a value's location for checks that run
//! after deserialization (a regex that does not compile, a duration that does not parse);
//! [`Keyed<T>`] keeps the locations of a mapping's keys. [`from_str_all`] reports every bad
//! top-level key and list entry of a file at once, not only the first (see `mask`).

use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, DeserializeOwned, DeserializeSeed, MapAccess, Visitor};

mod mask;

pub use mask::from_str_all;

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

/// A value with the location it was written at (serde-saphyr's `Spanned`, as a line and column).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct At<T> {
    pub loc: Loc,
    pub value: T,
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for At<T> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = serde_saphyr::Spanned::<T>::deserialize(d)?;
        Ok(At {
            loc: loc_of(&s.referenced),
            value: s.value,
        })
    }
}

/// By value first, so that `BTreeMap<At<K>, V>` keeps the keys' locations in key order.
impl<T: Ord> Ord for At<T> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (&self.value, self.loc).cmp(&(&other.value, other.loc))
    }
}

impl<T: Ord> PartialOrd for At<T> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

fn loc_of(l: &serde_saphyr::Location) -> Loc {
    let clamp = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
    Loc {
        line: clamp(l.line()),
        col: clamp(l.column()),
    }
}

/// A mapping deserialized as `T` (its own derive: unknown keys, types), with where each key was
/// written: a check about a whole section points at its key (`sinks:` → `telegram:`).
#[derive(Debug)]
pub struct Keyed<T> {
    pub value: T,
    pub keys: Vec<(String, Loc)>,
}

impl<T> Keyed<T> {
    /// Where `name` was written as a key of this mapping.
    pub fn key(&self, name: &str) -> Option<Loc> {
        self.keys.iter().find(|(k, _)| k == name).map(|(_, l)| *l)
    }
}

impl<T: Default> Default for Keyed<T> {
    fn default() -> Self {
        Keyed {
            value: T::default(),
            keys: Vec::new(),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Keyed<T> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Keyed<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a mapping")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Keyed<T>, A::Error> {
                let mut keys = Vec::new();
                let inner = Recording {
                    inner: map,
                    keys: &mut keys,
                };
                let value = T::deserialize(de::value::MapAccessDeserializer::new(inner))?;
                Ok(Keyed { value, keys })
            }
            // An empty document is an empty mapping.
            fn visit_unit<E: de::Error>(self) -> Result<Keyed<T>, E> {
                let none = std::iter::empty::<(String, String)>();
                let value = T::deserialize(de::value::MapDeserializer::<_, E>::new(none))?;
                Ok(Keyed {
                    value,
                    keys: Vec::new(),
                })
            }
        }
        d.deserialize_map(V(PhantomData))
    }
}

/// Passes a mapping through, noting each key's text and location on the way.
struct Recording<'k, A> {
    inner: A,
    keys: &'k mut Vec<(String, Loc)>,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Recording<'_, A> {
    type Error = A::Error;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        let keys = &mut *self.keys;
        self.inner.next_key_seed(KeySeed { seed, keys })
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        self.inner.next_value_seed(seed)
    }
}

struct KeySeed<'k, K> {
    seed: K,
    keys: &'k mut Vec<(String, Loc)>,
}

impl<'de, K: DeserializeSeed<'de>> DeserializeSeed<'de> for KeySeed<'_, K> {
    type Value = K::Value;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<K::Value, D::Error> {
        let key = serde_saphyr::Spanned::<String>::deserialize(d)?;
        self.keys.push((key.value.clone(), loc_of(&key.referenced)));
        self.seed
            .deserialize(de::value::StringDeserializer::<D::Error>::new(key.value))
    }
}

/// A mapping read in the file's order (serde's maps sort or hash their keys).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ordered<K, V>(pub Vec<(K, V)>);

impl<K, V> Default for Ordered<K, V> {
    fn default() -> Self {
        Ordered(Vec::new())
    }
}

impl<'de, K: Deserialize<'de>, V: Deserialize<'de>> Deserialize<'de> for Ordered<K, V> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Vis<K, V>(PhantomData<(K, V)>);
        impl<'de, K: Deserialize<'de>, V: Deserialize<'de>> Visitor<'de> for Vis<K, V> {
            type Value = Ordered<K, V>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a mapping")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    out.push(entry);
                }
                Ok(Ordered(out))
            }
        }
        d.deserialize_map(Vis(PhantomData))
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

    /// Deserializes a whole file as `T`, recording every bad top-level key and list entry; the
    /// value is built from the rest (None when the file cannot be read as YAML at all).
    pub fn read<T: DeserializeOwned>(&mut self, text: &str) -> Option<T> {
        let (value, errors) = from_str_all(text);
        for (loc, msg) in errors {
            self.error(loc, msg);
        }
        value
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

/// Test support: `problems` are exactly as many as `expect`, each starting with its line.
#[cfg(test)]
pub fn assert_problems_start_with(problems: &Problems, expect: &[&str]) {
    let lines: Vec<String> = problems.0.iter().map(|p| p.to_string()).collect();
    assert_eq!(lines.len(), expect.len(), "{lines:#?}");
    for (line, want) in lines.iter().zip(expect) {
        assert!(
            line.starts_with(want),
            "{line}\n  should start with\n{want}"
        );
    }
}

#[cfg(test)]
mod tests;
