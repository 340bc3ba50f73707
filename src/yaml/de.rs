//! Deserializes a [`Node`] tree into typed Kubernetes objects.
//!
//! k8s-openapi types name their fields in `deserialize_struct`, so this
//! deserializer sees every key the API server would drop as unknown and records
//! it (with the closest known field as a suggestion) instead of ignoring it.
//! Type errors carry the pointer of the node that caused them.

use serde::de::{self, DeserializeOwned, DeserializeSeed, Deserializer, IntoDeserializer, Visitor};
use std::cell::RefCell;
use std::fmt;

use super::node::{Entry, Node, Value};
use crate::pointer::Pointer;

/// A key present in the input but unknown to the Kubernetes type at that place.
#[derive(Debug, Clone, PartialEq)]
pub struct UnknownField {
    /// Pointer to the unknown key's entry.
    pub pointer: Pointer,
    pub key: String,
    /// The Kubernetes type that does not have it (e.g. `SecurityContext`).
    pub type_name: &'static str,
    /// The closest known field, when one is close enough.
    pub suggestion: Option<&'static str>,
}

/// A value of the wrong shape for its field.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodeError {
    pub pointer: Option<Pointer>,
    pub message: String,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DecodeError {}

impl de::Error for DecodeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DecodeError {
            pointer: None,
            message: plain_types(&msg.to_string()),
        }
    }
}

/// Serde's messages name Rust types (`expected i64`); say what the API expects.
fn plain_types(msg: &str) -> String {
    let mut out = msg.to_string();
    for (rust, plain) in [
        ("expected i64", "expected an integer"),
        ("expected i32", "expected an integer"),
        ("expected u64", "expected a non-negative integer"),
        ("expected u32", "expected a non-negative integer"),
        ("expected f64", "expected a number"),
        ("expected a boolean", "expected true or false"),
    ] {
        out = out.replace(rust, plain);
    }
    out
}

/// Decodes `node` (found at `base`) into `T`, returning the unknown fields seen.
///
/// The root's `apiVersion` and `kind` are not passed to `T`: the caller has
/// already chosen `T` from them (and may judge an older version as the current one).
pub fn decode<T: DeserializeOwned>(
    node: &Node,
    base: &Pointer,
) -> (Result<T, DecodeError>, Vec<UnknownField>) {
    let sink = RefCell::new(Vec::new());
    let path = Path::Root(base);
    let result = T::deserialize(NodeDe {
        node,
        path: &path,
        sink: &sink,
        root: true,
    })
    .map_err(|mut e| {
        if e.pointer.is_none() {
            e.pointer = Some(base.clone());
        }
        e
    });
    (result, sink.into_inner())
}

/// The path to the node being decoded, materialised into a pointer only when needed.
enum Path<'a> {
    Root(&'a Pointer),
    Key(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl Path<'_> {
    fn pointer(&self) -> Pointer {
        match self {
            Path::Root(p) => (*p).clone(),
            Path::Key(parent, k) => parent.pointer().key(k),
            Path::Index(parent, i) => parent.pointer().index(*i),
        }
    }
}

struct NodeDe<'de, 'p> {
    node: &'de Node,
    path: &'p Path<'p>,
    sink: &'p RefCell<Vec<UnknownField>>,
    /// True for the object's root mapping, whose type meta is skipped.
    root: bool,
}

const TYPE_META: &[&str] = &["apiVersion", "kind"];

impl NodeDe<'_, '_> {
    fn unexpected(&self) -> de::Unexpected<'_> {
        match &self.node.value {
            Value::Null => de::Unexpected::Unit,
            Value::Bool(b) => de::Unexpected::Bool(*b),
            Value::Int(i) => de::Unexpected::Signed(*i),
            Value::UInt(u) => de::Unexpected::Unsigned(*u),
            Value::Float(f) => de::Unexpected::Float(*f),
            Value::Str(s) => de::Unexpected::Str(s),
            Value::Seq(_) => de::Unexpected::Seq,
            Value::Map(_) => de::Unexpected::Map,
        }
    }
}

/// Fills in the pointer of an error raised while decoding the node at `path`.
fn at(path: &Path<'_>, mut e: DecodeError) -> DecodeError {
    if e.pointer.is_none() {
        e.pointer = Some(path.pointer());
    }
    e
}

impl<'de, 'p> Deserializer<'de> for NodeDe<'de, 'p> {
    type Error = DecodeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        let path = self.path;
        let r = match &self.node.value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Int(i) => visitor.visit_i64(*i),
            Value::UInt(u) => visitor.visit_u64(*u),
            // sigs.k8s.io/yaml turns YAML into JSON first: `3600.0` becomes the
            // number 3600, which Go then decodes into an integer field.
            Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => visitor.visit_i64(*f as i64),
            Value::Float(f) => visitor.visit_f64(*f),
            Value::Str(s) => visitor.visit_borrowed_str(s),
            Value::Seq(items) => visitor.visit_seq(SeqDe {
                items: items.iter().enumerate(),
                path: self.path,
                sink: self.sink,
            }),
            Value::Map(entries) => visitor.visit_map(MapDe {
                entries: entries.iter(),
                pending: None,
                known: None,
                skip: &[],
                path: self.path,
                sink: self.sink,
            }),
        };
        r.map_err(|e| at(path, e))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.node.value {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        match &self.node.value {
            Value::Map(entries) => visitor
                .visit_map(MapDe {
                    entries: entries.iter(),
                    pending: None,
                    known: Some((name, fields)),
                    skip: if self.root { TYPE_META } else { &[] },
                    path: self.path,
                    sink: self.sink,
                })
                .map_err(|e| at(self.path, e)),
            _ => Err(at(
                self.path,
                de::Error::invalid_type(self.unexpected(), &"a mapping"),
            )),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        match &self.node.value {
            Value::Str(s) => visitor
                .visit_enum(s.as_str().into_deserializer())
                .map_err(|e| at(self.path, e)),
            _ => Err(at(
                self.path,
                de::Error::invalid_type(self.unexpected(), &"a string"),
            )),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map identifier ignored_any
    }
}

struct SeqDe<'de, 'p> {
    items: std::iter::Enumerate<std::slice::Iter<'de, Node>>,
    path: &'p Path<'p>,
    sink: &'p RefCell<Vec<UnknownField>>,
}

impl<'de> de::SeqAccess<'de> for SeqDe<'de, '_> {
    type Error = DecodeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DecodeError> {
        let Some((i, node)) = self.items.next() else {
            return Ok(None);
        };
        let path = Path::Index(self.path, i);
        seed.deserialize(NodeDe {
            node,
            path: &path,
            sink: self.sink,
            root: false,
        })
        .map(Some)
        .map_err(|e| at(&path, e))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct MapDe<'de, 'p> {
    entries: std::slice::Iter<'de, Entry>,
    pending: Option<&'de Entry>,
    known: Option<(&'static str, &'static [&'static str])>,
    skip: &'static [&'static str],
    path: &'p Path<'p>,
    sink: &'p RefCell<Vec<UnknownField>>,
}

impl<'de> de::MapAccess<'de> for MapDe<'de, '_> {
    type Error = DecodeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DecodeError> {
        for entry in self.entries.by_ref() {
            if self.skip.contains(&entry.key.as_str()) {
                continue;
            }
            if let Some((type_name, fields)) = self.known
                && !fields.contains(&entry.key.as_str())
            {
                self.sink.borrow_mut().push(UnknownField {
                    pointer: Path::Key(self.path, &entry.key).pointer(),
                    key: entry.key.clone(),
                    type_name,
                    suggestion: suggest(&entry.key, fields),
                });
                continue;
            }
            self.pending = Some(entry);
            return seed
                .deserialize(de::value::BorrowedStrDeserializer::new(&entry.key))
                .map(Some);
        }
        Ok(None)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, DecodeError> {
        let entry = self
            .pending
            .take()
            .ok_or_else(|| <DecodeError as de::Error>::custom("value requested before key"))?;
        let path = Path::Key(self.path, &entry.key);
        seed.deserialize(NodeDe {
            node: &entry.value,
            path: &path,
            sink: self.sink,
            root: false,
        })
        .map_err(|e| at(&path, e))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

/// The known field closest to `key`, if it is plausibly what was meant.
pub fn suggest(key: &str, known: &[&'static str]) -> Option<&'static str> {
    // The distance is at least the difference in length, so a field whose
    // length alone keeps the score under 0.7 is skipped before the quadratic
    // comparison (a hostile key of a million characters costs one pass).
    let key_len = key.chars().count();
    let close_in_length = |k: &str| {
        let k_len = k.chars().count();
        let longest = key_len.max(k_len).max(1);
        1.0 - key_len.abs_diff(k_len) as f64 / longest as f64 >= 0.7
    };
    let lower = key.to_ascii_lowercase();
    known
        .iter()
        .filter(|k| close_in_length(k))
        .map(|&k| {
            let score = if k.eq_ignore_ascii_case(key) {
                1.0
            } else {
                // Optimal string alignment: edits and adjacent swaps, as typos
                // are, without the general Damerau matrix's per-character map.
                let other = k.to_ascii_lowercase();
                let longest = lower.chars().count().max(other.chars().count()).max(1);
                1.0 - strsim::osa_distance(&lower, &other) as f64 / longest as f64
            };
            (score, k)
        })
        .filter(|(score, _)| *score >= 0.7)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{Limits, parse_documents};
    use k8s_openapi::api::core::v1::Pod;

    fn decode_pod(text: &str) -> (Result<Pod, DecodeError>, Vec<UnknownField>) {
        let docs = parse_documents(text, &Limits::default()).unwrap();
        decode::<Pod>(&docs[0], &Pointer::root())
    }

    #[test]
    fn misspelt_field_is_unknown_with_suggestion() {
        let (pod, unknown) = decode_pod(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    image: i\n    securityContext:\n      readOnlyRootFileSystem: true\n",
        );
        let pod = pod.unwrap();
        let sc = pod.spec.unwrap().containers[0]
            .security_context
            .clone()
            .unwrap();
        assert_eq!(
            sc.read_only_root_filesystem, None,
            "the API server drops it"
        );
        assert_eq!(unknown.len(), 1);
        assert_eq!(
            unknown[0].pointer.as_str(),
            "/spec/containers/0/securityContext/readOnlyRootFileSystem"
        );
        assert_eq!(unknown[0].suggestion, Some("readOnlyRootFilesystem"));
        assert_eq!(unknown[0].type_name, "SecurityContext");
    }

    #[test]
    fn type_errors_point_at_the_node() {
        let (pod, _) = decode_pod(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  securityContext:\n    runAsUser: root\n  containers: []\n",
        );
        let err = pod.unwrap_err();
        assert_eq!(
            err.pointer.unwrap().as_str(),
            "/spec/securityContext/runAsUser"
        );
        assert!(err.message.contains("root"), "{}", err.message);
    }

    #[test]
    fn quantities_accept_numbers() {
        let (pod, unknown) = decode_pod(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    resources: {limits: {cpu: 2, memory: 1e3}}\n",
        );
        assert!(unknown.is_empty());
        let limits = pod.unwrap().spec.unwrap().containers[0]
            .resources
            .clone()
            .unwrap()
            .limits
            .unwrap();
        assert_eq!(limits["cpu"].0, "2");
    }

    #[test]
    fn suggestions_need_to_be_close() {
        assert_eq!(
            suggest("runAsNonroot", &["runAsNonRoot", "runAsUser"]),
            Some("runAsNonRoot")
        );
        assert_eq!(suggest("zzz", &["runAsNonRoot", "runAsUser"]), None);
    }
}
