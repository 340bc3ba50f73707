//! Images built from Dockerfiles of the repository. A mapping (`images` in
//! `.sandbox-lint.yaml`, or the `images` parameter of rule SL4016) says which
//! Dockerfile builds which image; before the pods are judged, each mapped
//! Dockerfile is read and linted once, and what the pod rules need is kept
//! here: the final stage's USER and the Dockerfile's own findings.

use std::sync::Arc;

use crate::dockerfile::Unresolved;
use crate::finding::{Location, Related};

/// What the run knows of one Dockerfile that builds an image.
#[derive(Debug, Clone)]
pub struct ImageFacts {
    /// The Dockerfile's display path.
    pub dockerfile: Arc<str>,
    /// What was learnt, or why the Dockerfile could not be read or parsed.
    pub built: Result<Built, String>,
}

/// A Dockerfile that was read.
#[derive(Debug, Clone)]
pub struct Built {
    /// The final stage's effective USER; `None` when no USER sets it.
    pub user: Option<FinalUser>,
    /// The final stage's FROM (where a missing USER is shown).
    pub from: Location,
    /// The Dockerfile's unsuppressed findings.
    pub findings: Vec<Related>,
}

/// The USER the image's containers start as.
#[derive(Debug, Clone)]
pub struct FinalUser {
    /// As written.
    pub raw: String,
    /// With ARG and ENV substituted.
    pub resolved: Result<String, Unresolved>,
    pub location: Location,
}

/// Image name patterns and the Dockerfiles that build them.
#[derive(Debug, Clone, Default)]
pub struct ImageIndex {
    entries: Vec<(String, Arc<ImageFacts>)>,
}

impl ImageIndex {
    /// Adds a mapping.
    pub fn insert(&mut self, pattern: String, facts: Arc<ImageFacts>) {
        self.entries.push((pattern, facts));
    }

    /// The Dockerfile that builds `image`, by the first pattern that matches.
    pub fn lookup(&self, image: &str) -> Option<&ImageFacts> {
        self.entries
            .iter()
            .find(|(p, _)| matches(p, image))
            .map(|(_, f)| f.as_ref())
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// The repository part of an image reference: tag and digest removed.
pub fn repository(image: &str) -> &str {
    let image = image.split('@').next().unwrap_or(image);
    match image.rfind(':') {
        // A colon after the last slash is a tag; before it, a registry port.
        Some(i) if !image[i..].contains('/') => &image[..i],
        _ => image,
    }
}

/// True when a mapping pattern names this image: a pattern without tag or
/// digest matches every tag and digest of the repository; one with a tag or
/// digest matches exactly; a trailing `*` matches a prefix of the repository.
pub fn matches(pattern: &str, image: &str) -> bool {
    if let Some(prefix) = pattern.strip_suffix('*') {
        return repository(image).starts_with(prefix);
    }
    if repository(pattern) != pattern {
        return pattern == image;
    }
    repository(image) == pattern
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_strips_tags_and_digests_not_ports() {
        assert_eq!(repository("ghcr.io/acme/runner:1.2"), "ghcr.io/acme/runner");
        assert_eq!(repository("reg:5000/runner"), "reg:5000/runner");
        assert_eq!(
            repository("reg:5000/runner:v1@sha256:ab"),
            "reg:5000/runner"
        );
        assert_eq!(repository("runner"), "runner");
    }

    #[test]
    fn patterns_match_repositories_tags_and_prefixes() {
        assert!(matches("ghcr.io/acme/runner", "ghcr.io/acme/runner:abc"));
        assert!(matches(
            "ghcr.io/acme/runner",
            "ghcr.io/acme/runner@sha256:00"
        ));
        assert!(!matches("ghcr.io/acme/runner", "ghcr.io/acme/runner-go:1"));
        assert!(matches("ghcr.io/acme/runner:1", "ghcr.io/acme/runner:1"));
        assert!(!matches("ghcr.io/acme/runner:1", "ghcr.io/acme/runner:2"));
        assert!(matches("ghcr.io/acme/*", "ghcr.io/acme/runner-go:1"));
    }
}
