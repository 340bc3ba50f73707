//! The previous parser, kept for tests only: `Spanned<Value>` deserialized
//! through serde-saphyr. The event builder in [`super::build`] must produce the
//! same trees and refuse the same inputs; the equivalence tests compare the two.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;
use std::fmt;

use super::node::{Entry, Node, Value};
use super::{Limits, YamlError};
use crate::source::Span;

fn options(limits: &Limits) -> serde_saphyr::Options {
    use serde_saphyr::options::{DuplicateKeyPolicy, MergeKeyPolicy};
    serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_events: limits.max_events,
            max_depth: limits.max_depth,
        },
        duplicate_keys: DuplicateKeyPolicy::Error,
        merge_keys: MergeKeyPolicy::Merge,
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: limits.max_alias_replay,
        },
        legacy_octal_numbers: true,
        strict_booleans: false,
        with_snippet: false,
        crop_radius: 0,
    }
}

/// The previous `parse_documents`, unchanged.
pub fn parse_documents_reference(text: &str, limits: &Limits) -> Result<Vec<Node>, YamlError> {
    serde_saphyr::from_multiple_with_options::<RefNode>(text, options(limits))
        .map(|nodes| nodes.into_iter().map(|n| n.0).collect())
        .map_err(|e| {
            let span = e.location().and_then(|loc| {
                let s = loc.span();
                s.byte_offset()
                    .map(|o| Span::new(o as usize, s.byte_len().unwrap_or(0) as usize))
                    .or_else(|| {
                        byte_offset_of(text, loc.line(), loc.column()).map(|o| Span::new(o, 0))
                    })
            });
            let message = plain_message(&e);
            let span = match span {
                Some(s) if message.ends_with("found a tab") => text[s.start.min(text.len())..]
                    .find('\t')
                    .map(|i| Span::new(s.start + i, 1))
                    .or(Some(s)),
                other => other,
            };
            YamlError { message, span }
        })
}

fn byte_offset_of(text: &str, line: u64, column: u64) -> Option<usize> {
    if line == 0 {
        return None;
    }
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i as u64 + 1 == line {
            let col = l
                .char_indices()
                .nth(column.saturating_sub(1) as usize)
                .map_or(l.len(), |(b, _)| b);
            return Some(offset + col);
        }
        offset += l.len();
    }
    Some(text.len())
}

fn plain_message(e: &serde_saphyr::Error) -> String {
    let msg = e.without_snippet().to_string();
    let msg = strip_trailing_position(&msg);
    if let Some(key) = msg.strip_prefix("duplicate mapping key: ") {
        let key = key.split(", set DuplicateKeyPolicy").next().unwrap_or(key);
        return format!(
            "duplicate mapping key `{key}` (parsers disagree on which value wins; the API server may not take the one you read)"
        );
    }
    msg.to_string()
}

/// Drops a final ` at line N, column M` (or ` at line N column M`), and nothing
/// else: positions inside the message (`defined at line 3`) stay.
pub fn strip_trailing_position(msg: &str) -> &str {
    let Some(i) = msg.rfind(" at line ") else {
        return msg;
    };
    let tail = &msg[i + " at line ".len()..];
    let only_position = tail
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ',' | ' ' | 'c' | 'o' | 'l' | 'u' | 'm' | 'n'));
    if only_position && tail.contains("column") {
        &msg[..i]
    } else {
        msg
    }
}

/// A [`Node`] deserialized through serde-saphyr (the previous path).
struct RefNode(Node);

fn span_of<T>(s: &Spanned<T>) -> Span {
    let span = s.referenced.span();
    match (span.byte_offset(), span.byte_len()) {
        (Some(off), Some(len)) => Span::new(off as usize, len as usize),
        (Some(off), None) => Span::new(off as usize, 0),
        _ => Span::default(),
    }
}

impl<'de> Deserialize<'de> for RefNode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<RefValue>::deserialize(d)?;
        let span = span_of(&spanned);
        Ok(RefNode(Node {
            span,
            value: spanned.value.0,
        }))
    }
}

/// A mapping key, stringified the way Kubernetes' YAML-to-JSON conversion does.
struct Key(String);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a scalar mapping key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Key, E> {
                Ok(Key(v))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Key, E> {
                Ok(Key("null".to_string()))
            }
            fn visit_none<E: de::Error>(self) -> Result<Key, E> {
                Ok(Key("null".to_string()))
            }
        }
        d.deserialize_any(KeyVisitor)
    }
}

struct RefValue(Value);

impl<'de> Deserialize<'de> for RefValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor).map(RefValue)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(match i64::try_from(v) {
            Ok(i) => Value::Int(i),
            Err(_) => Value::UInt(v),
        })
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Value, E> {
        Ok(Value::Float(v as f64))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
        Ok(Value::Float(v as f64))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(v))
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Value, E> {
        Ok(Value::Str(String::from_utf8_lossy(v).into_owned()))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        RefValue::deserialize(d).map(|v| v.0)
    }
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        RefValue::deserialize(d).map(|v| v.0)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(item) = seq.next_element::<RefNode>()? {
            items.push(item.0);
        }
        Ok(Value::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0).min(64));
        while let Some(key) = map.next_key::<Spanned<Key>>()? {
            let key_span = span_of(&key);
            let value = map.next_value::<RefNode>()?.0;
            entries.push(Entry {
                key: key.value.0,
                key_span,
                value,
            });
        }
        Ok(Value::Map(entries))
    }
}
