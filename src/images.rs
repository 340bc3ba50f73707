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

/// Digest algorithms an image reference may be pinned with, and the length of
/// their lowercase hex encoding: those the container runtimes' reference parser
/// accepts (sha256, sha384, sha512).
const DIGEST_ALGORITHMS: &[(&str, usize)] = &[("sha256", 64), ("sha384", 96), ("sha512", 128)];

/// The digest part of an image reference (after the first `@`), if it has one.
/// `Some("")` for a reference that ends in `@`.
pub fn digest_part(image: &str) -> Option<&str> {
    image.split_once('@').map(|(_, d)| d)
}

/// Why a digest (`sha256:<64 lowercase hex>`) does not pin an image, or `None`
/// when it does. Only the algorithms of [`DIGEST_ALGORITHMS`] with exactly their
/// length of lowercase hex count: anything else is refused by the runtime's
/// reference parser (or, for a shortened digest, pins nothing).
pub fn digest_problem(digest: &str) -> Option<String> {
    let Some((algorithm, hex)) = digest.split_once(':') else {
        return Some(if digest.is_empty() {
            "`@` is followed by no digest".to_string()
        } else {
            format!("digest `{digest}` has no `algorithm:` prefix")
        });
    };
    let Some(&(_, len)) = DIGEST_ALGORITHMS.iter().find(|(a, _)| *a == algorithm) else {
        return Some(format!(
            "digest algorithm `{algorithm}` is not one of sha256, sha384, sha512"
        ));
    };
    if let Some(c) = hex
        .chars()
        .find(|c| !(c.is_ascii_digit() || ('a'..='f').contains(c)))
    {
        let what = if c.is_ascii_hexdigit() {
            "uppercase hex".to_string()
        } else {
            format!("{c:?}")
        };
        return Some(format!(
            "{algorithm} digest is not lowercase hex (contains {what})"
        ));
    }
    if hex.len() != len {
        return Some(format!(
            "{algorithm} digest has {} hex digits, not {len}",
            hex.len()
        ));
    }
    None
}

/// Whether an image reference is pinned by digest: `Ok(true)` with a valid
/// digest, `Ok(false)` without one, `Err(why)` for a malformed digest (which
/// pins nothing and is not a valid reference).
pub fn pinned_by_digest(image: &str) -> Result<bool, String> {
    match digest_part(image) {
        None => Ok(false),
        Some(d) => match digest_problem(d) {
            None => Ok(true),
            Some(why) => Err(why),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX64: &str = "4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945";

    #[test]
    fn digests_pin_only_when_well_formed() {
        assert_eq!(pinned_by_digest("runner:1.2"), Ok(false));
        assert_eq!(
            pinned_by_digest(&format!("runner:1.2@sha256:{HEX64}")),
            Ok(true)
        );
        assert_eq!(
            pinned_by_digest(&format!("runner@sha512:{HEX64}{HEX64}")),
            Ok(true)
        );
        assert_eq!(
            pinned_by_digest(&format!("runner@sha384:{}", &"ab".repeat(48))),
            Ok(true)
        );
        for bad in [
            "runner@sha256:4f53".to_string(),
            "runner@".to_string(),
            "runner@sha256:".to_string(),
            format!("runner@sha256:{}", HEX64.to_ascii_uppercase()),
            format!("runner@md5:{HEX64}"),
            format!("runner@SHA256:{HEX64}"),
            format!("runner@sha256:{HEX64}0"),
            format!("runner@{HEX64}"),
            format!("runner@sha256:{}g", &HEX64[1..]),
            format!("runner@sha256:{HEX64}@sha256:{HEX64}"),
            format!("runner@sha512:{HEX64}"),
        ] {
            assert!(pinned_by_digest(&bad).is_err(), "{bad}");
        }
        assert!(digest_problem("").unwrap().contains("no digest"));
    }

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
