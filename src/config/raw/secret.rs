//! A secret as written: where it is read from, never the value. Read by hand so that no error
//! message can repeat what was written (it may be the secret itself).

use serde::Deserialize;

/// `{file: PATH}`, `{env: VAR}` or `{command: CMD}`; a literal value is refused on purpose.
///
/// Deserialized by hand: serde's own messages quote what they got (`invalid type: string
/// "hunter2"`, `unknown field `hunter2``), and here what was written may be the secret itself.
#[derive(Debug, Default)]
pub struct RawSecret {
    pub file: Option<String>,
    pub env: Option<String>,
    pub command: Option<String>,
}

/// The one message for a secret written in the wrong shape; it never repeats what was written.
pub const SECRET_SHAPE: &str = "a secret is written as `{file: PATH}`, `{env: VAR}` or \
     `{command: CMD}`, never as the value itself (config files get shared; what was written here \
     is not repeated)";

impl<'de> Deserialize<'de> for RawSecret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(SecretVisitor)
    }
}

struct SecretVisitor;

impl SecretVisitor {
    fn refuse<E: serde::de::Error>() -> Result<RawSecret, E> {
        Err(E::custom(SECRET_SHAPE))
    }
}

impl<'de> serde::de::Visitor<'de> for SecretVisitor {
    type Value = RawSecret;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(SECRET_SHAPE)
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<RawSecret, A::Error> {
        let mut out = RawSecret::default();
        while let Some(key) = map.next_key::<String>()? {
            let slot = match key.as_str() {
                "file" => &mut out.file,
                "env" => &mut out.env,
                "command" => &mut out.command,
                _ => return Self::refuse(),
            };
            // A wrong type below names the type only (a list, a mapping), never a string's text.
            *slot = Some(map.next_value::<SecretText>()?.0);
        }
        Ok(out)
    }
    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<RawSecret, E> {
        Self::refuse()
    }
    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<RawSecret, E> {
        Self::refuse()
    }
    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<RawSecret, E> {
        Self::refuse()
    }
    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<RawSecret, E> {
        Self::refuse()
    }
    fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<RawSecret, E> {
        Self::refuse()
    }
    fn visit_bytes<E: serde::de::Error>(self, _: &[u8]) -> Result<RawSecret, E> {
        Self::refuse()
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<RawSecret, E> {
        Self::refuse()
    }
    fn visit_none<E: serde::de::Error>(self) -> Result<RawSecret, E> {
        Self::refuse()
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, _: A) -> Result<RawSecret, A::Error> {
        Self::refuse()
    }
}

/// The text of `file`, `env` or `command`: a scalar (a number is its digits), nothing else.
struct SecretText(String);

impl<'de> Deserialize<'de> for SecretText {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = SecretText;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a path, a variable name or a command (text)")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<SecretText, E> {
                Ok(SecretText(v.to_string()))
            }
        }
        d.deserialize_string(V)
    }
}
