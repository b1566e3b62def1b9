//! Rule packs as written (rules/*.yaml): serde structs that reject unknown fields. See the README
//! section "Writing a rule" for the meaning of each field.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{self, MapAccess, SeqAccess, Visitor};

use crate::yaml::{At, Ordered};

/// A broker's pack file. Every key is optional: a later file may add to an earlier pack.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPack {
    pub broker: Option<At<String>>,
    pub name: Option<String>,
    pub country: Option<At<String>>,
    pub domains: Option<Vec<String>>,
    pub names: Option<Vec<String>>,
    pub claims: Option<Vec<At<String>>>,
    pub clashes: Option<Vec<At<String>>>,
    pub clash_domains: Option<Vec<String>>,
    pub login_link_exceptions: Option<Vec<At<String>>>,
    pub contact: Option<RawContact>,
    pub rules: Option<Vec<At<RawRule>>>,
}

/// `values:` of rules/_generic.yaml: field → canonical value → patterns, in the file's order.
pub type RawValues = Ordered<At<String>, Ordered<String, Vec<At<String>>>>;

/// A generic rules file (`generic: true`, e.g. rules/_generic.yaml).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGeneric {
    pub generic: At<bool>,
    pub vocabulary: Option<Vec<At<String>>>,
    pub quiet: Option<Vec<At<String>>>,
    pub login_links: Option<Vec<At<String>>>,
    /// field → canonical value → patterns, in the file's order (the first match wins).
    pub values: Option<RawValues>,
    pub rules: Option<Vec<At<RawRule>>>,
    pub lure: Option<Vec<At<String>>>,
    pub lookalike: Option<At<RawLookalike>>,
}

/// The countries a pack may name (`country:`); Japanese brokers fall under the 2025 rule that
/// mail carries no link to a login or password page.
pub const COUNTRIES: &[&str] = &["jp", "us"];

/// The broker's official contact, typed in the pack, never taken from a mail.
#[derive(Debug, Clone, Deserialize, Default, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RawContact {
    #[serde(default)]
    pub phone: Vec<String>,
    pub url: Option<String>,
    pub steps: Option<At<RawSteps>>,
}

/// `steps:` of a contact, the "not me" playbook: `{ja: [...], en: [...]}`. A pack of one's own
/// may give one language, which then serves both; a plain list (the format before the
/// languages) is read the same way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawSteps {
    Plain(Vec<String>),
    ByLanguage(RawStepsByLanguage),
}

/// The languages `steps:` may name.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RawStepsByLanguage {
    pub ja: Option<Vec<String>>,
    pub en: Option<Vec<String>>,
}

impl<'de> Deserialize<'de> for RawSteps {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawSteps;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("steps per language, `{ja: [...], en: [...]}`")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<RawSteps, A::Error> {
                Vec::deserialize(SeqAccessDeserializer::new(seq)).map(RawSteps::Plain)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawSteps, A::Error> {
                RawStepsByLanguage::deserialize(MapAccessDeserializer::new(map))
                    .map(RawSteps::ByLanguage)
            }
        }
        d.deserialize_any(V)
    }
}

/// `lookalike:` of a generic file (rules/_lookalike.yaml): see `lookalike::Words`.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawLookalike {
    #[serde(default)]
    pub ordinary_names: Vec<String>,
    #[serde(default)]
    pub not_typos: Vec<String>,
    #[serde(default)]
    pub strong_words: Vec<String>,
    #[serde(default)]
    pub weak_words: Vec<String>,
    #[serde(default)]
    pub name_parts: Vec<String>,
    /// letter → the Latin letter it is taken for.
    #[serde(default)]
    pub confusables: BTreeMap<String, String>,
}

/// One rule: an event kind, conditions, and fields to extract.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRule {
    pub id: At<String>,
    pub event: At<String>,
    pub subject: Option<Vec<At<String>>>,
    pub body: Option<Vec<At<String>>>,
    pub text: Option<Vec<At<String>>>,
    pub all: Option<Vec<At<String>>>,
    pub not: Option<Vec<At<String>>>,
    pub from: Option<Vec<At<String>>>,
    pub fields: Option<BTreeMap<String, Vec<At<String>>>>,
}

/// The field names a rule may extract.
pub const FIELD_NAMES: &[&str] = &[
    "amount",
    "currency",
    "bank",
    "account_last_digits",
    "new_email_masked",
    "ip",
    "device",
    // trade facts
    "stage",
    "side",
    "instrument",
    "code",
    "market",
    "quantity",
    "price",
    "account_type",
];
