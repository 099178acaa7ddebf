//! Deserialize an entry's typed body straight from its bytes, leaving out the envelope.
//!
//! An entry is one JSON object holding the envelope (`type`, `v`, `time`) beside the body's
//! own fields, and every body type refuses unknown fields. Building a `serde_json::Value`
//! tree first and taking the envelope out of it (hashed, insertion-ordered maps and one
//! allocation per node) was the largest part of decoding an entry once canonical form
//! stopped being checked by re-encoding. This deserializer hands the body type the same
//! object with the envelope's members skipped.

use std::borrow::Cow;

use serde::de::{self, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, Visitor};

/// The members the envelope owns.
const ENVELOPE: [&str; 3] = ["type", "v", "time"];

/// Deserialize a body type from `bytes`, a JSON object that also holds the envelope.
pub fn body_from_slice<'de, T: de::Deserialize<'de>>(bytes: &'de [u8]) -> serde_json::Result<T> {
    let mut json = serde_json::Deserializer::from_slice(bytes);
    let body = T::deserialize(SkipEnvelope(&mut json))?;
    json.end()?;
    Ok(body)
}

struct SkipEnvelope<D>(D);

impl<'de, D: Deserializer<'de>> Deserializer<'de> for SkipEnvelope<D> {
    type Error = D::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.0.deserialize_map(BodyVisitor(visitor))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
        identifier ignored_any
    }
}

/// Passes the object on to the body's visitor, through [`BodyMembers`].
struct BodyVisitor<V>(V);

impl<'de, V: Visitor<'de>> Visitor<'de> for BodyVisitor<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        self.0.expecting(f)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        self.0.visit_map(BodyMembers(map))
    }
}

/// The object's members but the envelope's.
struct BodyMembers<A>(A);

impl<'de, A: MapAccess<'de>> MapAccess<'de> for BodyMembers<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        loop {
            let Some(Key(key)) = self.0.next_key::<Key<'de>>()? else {
                return Ok(None);
            };
            if ENVELOPE.contains(&key.as_ref()) {
                self.0.next_value::<de::IgnoredAny>()?;
                continue;
            }
            let key: de::value::CowStrDeserializer<'de, A::Error> = key.into_deserializer();
            return seed.deserialize(key).map(Some);
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.next_value_seed(seed)
    }

    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

/// A member name, borrowed from the entry's bytes unless it holds an escape.
struct Key<'de>(Cow<'de, str>);

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a member name")
            }

            fn visit_borrowed_str<E: de::Error>(self, key: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(key)))
            }

            fn visit_str<E: de::Error>(self, key: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(key.to_owned())))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}
