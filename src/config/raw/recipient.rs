//! `recipients:` entries and `quiet_hours:` as written; a recipient's keys besides its fields are
//! channels, read as scalars and checked later against the configured sinks.

use serde::Deserialize;

use crate::alert::language::Language;
use crate::yaml::At;

/// One `recipients:` entry. Keys other than its fields are channels (sink names), checked by
/// `recipients::compile` against the configured sinks, so that each mistake is reported on its
/// own instead of the first hiding the rest.
#[derive(Debug, Default)]
pub struct RawRecipient {
    pub name: Option<String>,
    pub gets: Option<At<String>>,
    pub accounts: Option<Vec<At<String>>>,
    pub language: Option<Language>,
    pub channels: Vec<(At<String>, At<Scalar>)>,
}

impl<'de> Deserialize<'de> for RawRecipient {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = RawRecipient;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a recipient: a mapping with at least `name`")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<RawRecipient, A::Error> {
                let mut r = RawRecipient::default();
                while let Some(key) = map.next_key::<At<String>>()? {
                    match key.value.as_str() {
                        "name" => r.name = Some(map.next_value()?),
                        "gets" => r.gets = Some(map.next_value()?),
                        "accounts" => r.accounts = Some(map.next_value()?),
                        "language" => r.language = Some(map.next_value()?),
                        _ => r.channels.push((key, map.next_value()?)),
                    }
                }
                Ok(r)
            }
        }
        d.deserialize_map(V)
    }
}

/// A scalar as written: a channel's target is a number (Telegram) or a word (ntfy).
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    Int(i64),
    UInt(u64),
    Text(String),
    /// Anything else (a list, a mapping, nothing): never a valid target.
    Other,
}

impl Scalar {
    /// The scalar as text, as a key or a topic is read.
    pub fn text(&self) -> Option<String> {
        match self {
            Scalar::Int(i) => Some(i.to_string()),
            Scalar::UInt(u) => Some(u.to_string()),
            Scalar::Text(s) => Some(s.clone()),
            Scalar::Other => None,
        }
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a number or a word")
            }
            fn visit_i64<E>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar::Int(v))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar::UInt(v))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar::Text(v.to_string()))
            }
            fn visit_bool<E>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar::Text(v.to_string()))
            }
            fn visit_str<E>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar::Text(v.to_string()))
            }
            fn visit_unit<E>(self) -> Result<Scalar, E> {
                Ok(Scalar::Other)
            }
            fn visit_none<E>(self) -> Result<Scalar, E> {
                Ok(Scalar::Other)
            }
            fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Scalar, D::Error> {
                d.deserialize_any(V)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut s: A) -> Result<Scalar, A::Error> {
                while s.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut m: A) -> Result<Scalar, A::Error> {
                while m
                    .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
                    .is_some()
                {}
                Ok(Scalar::Other)
            }
        }
        d.deserialize_any(V)
    }
}

/// `quiet_hours: {from: "22:00", to: "07:00", utc_offset: "+09:00"}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawQuietHours {
    pub from: Option<At<String>>,
    pub to: Option<At<String>>,
    pub utc_offset: Option<At<String>>,
}
