//! JSON Pointers (RFC 6901) into Kubernetes objects.

use std::fmt;

/// A JSON Pointer such as `/spec/containers/0/securityContext`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pointer(String);

impl Pointer {
    /// The pointer to the whole document.
    pub fn root() -> Self {
        Self(String::new())
    }

    /// Parses an already-escaped pointer string.
    pub fn parse(s: &str) -> Self {
        Self(s.to_string())
    }

    /// This pointer extended by one object key (escaped per RFC 6901).
    pub fn key(&self, key: &str) -> Self {
        let mut s = String::with_capacity(self.0.len() + key.len() + 1);
        s.push_str(&self.0);
        s.push('/');
        for c in key.chars() {
            match c {
                '~' => s.push_str("~0"),
                '/' => s.push_str("~1"),
                c => s.push(c),
            }
        }
        Self(s)
    }

    /// This pointer extended by one array index.
    pub fn index(&self, i: usize) -> Self {
        Self(format!("{}/{}", self.0, i))
    }

    /// The escaped pointer text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The unescaped reference tokens.
    pub fn tokens(&self) -> impl Iterator<Item = String> + '_ {
        self.0
            .split('/')
            .skip(1)
            .map(|t| t.replace("~1", "/").replace("~0", "~"))
    }

    /// The pointer one level up (the root stays the root).
    pub fn parent(&self) -> Self {
        match self.0.rfind('/') {
            Some(i) => Self(self.0[..i].to_string()),
            None => Self::root(),
        }
    }
}

impl fmt::Display for Pointer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl serde::Serialize for Pointer {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_unescapes_per_rfc6901() {
        let p = Pointer::root()
            .key("metadata")
            .key("annotations")
            .key("a/b~c");
        assert_eq!(p.as_str(), "/metadata/annotations/a~1b~0c");
        assert_eq!(
            p.tokens().collect::<Vec<_>>(),
            ["metadata", "annotations", "a/b~c"]
        );
        assert_eq!(p.parent().as_str(), "/metadata/annotations");
        assert_eq!(Pointer::root().key("spec").index(3).as_str(), "/spec/3");
    }
}
