//! SL4004-SL4005: base images that say which image they are.

use crate::dockerfile::{Dockerfile, Stage};
use crate::rule::{Cx, NoParams};

crate::declare_rule! {
    /// Every base image must name a tag other than `latest`, or a digest.
    ///
    /// `FROM python` and `FROM python:latest` build on whatever the registry serves
    /// that day: two builds of the same commit differ, and a compromised or broken
    /// upstream release reaches the runner unreviewed. A digest counts only when it
    /// is well formed (`sha256:` and 64 lowercase hex digits, or sha384/sha512):
    /// `@sha256:4f53`, uppercase hex, another algorithm or a bare `@` pin nothing
    /// and are findings whatever the tag. A base image whose name
    /// depends on a build argument without default cannot be judged and is a
    /// finding too. `scratch` and earlier stages are not images.
    pub static BASE_IMAGE_TAG = {
        code: "SL4004",
        name: "base-image-tag",
        severity: Error,
        category: Dockerfile,
        remediation: "Name a version: `FROM python:3.12-slim-bookworm`, best with its digest (`@sha256:...`).",
        params: NoParams,
        dockerfile: base_image_tag,
    }
}

/// The base images of the stages: those that are images, not `scratch` or an
/// earlier stage, as (stage, resolved name or why it is unknown).
fn bases(d: &Dockerfile) -> impl Iterator<Item = (&Stage, Result<&str, String>)> {
    d.stages.iter().filter_map(|s| {
        if s.parent.is_some() {
            return None;
        }
        match &s.from.resolved {
            Ok(name) if name.eq_ignore_ascii_case("scratch") => None,
            Ok(name) => Some((s, Ok(name.as_str()))),
            Err(e) => Some((s, Err(e.to_string()))),
        }
    })
}

/// The tag of an image reference, if it has one.
fn tag(image: &str) -> Option<&str> {
    let name = image.split('@').next().unwrap_or(image);
    let (_, last) = name.rsplit_once('/').unwrap_or(("", name));
    last.split_once(':').map(|(_, t)| t)
}

fn base_image_tag(_: &NoParams, cx: &mut Cx, d: &Dockerfile) {
    for (stage, image) in bases(d) {
        let span = stage.from.image.span;
        let image = match image {
            Ok(i) => i,
            Err(why) => {
                cx.report_at(
                    span,
                    format!(
                        "base image {} cannot be judged: {why}",
                        stage.from.image.text
                    ),
                );
                continue;
            }
        };
        match crate::images::pinned_by_digest(image) {
            Ok(true) => continue,
            Err(why) => {
                cx.report_at(span, format!("base image {image} is not pinned: {why}"));
                continue;
            }
            Ok(false) => {}
        }
        match tag(image) {
            None => {
                cx.report_at(
                    span,
                    format!("base image {image} has no tag: it means {image}:latest"),
                );
            }
            Some("latest") => {
                cx.report_at(
                    span,
                    format!("base image {image} uses the moving `latest` tag"),
                );
            }
            Some(_) => {}
        }
    }
}

crate::declare_rule! {
    /// Base images should be pinned by digest.
    ///
    /// A tag can be moved to other content by whoever controls the repository; a
    /// digest cannot. `FROM python:3.12@sha256:...` keeps the readable tag and the
    /// guarantee (tools such as Renovate keep digests current). A malformed digest
    /// is a `base-image-tag` error and is not reported again here.
    pub static BASE_IMAGE_DIGEST = {
        code: "SL4005",
        name: "base-image-digest",
        severity: Info,
        category: Dockerfile,
        remediation: "Append the digest: `FROM python:3.12-slim@sha256:<digest>` (`docker buildx imagetools inspect` prints it).",
        params: NoParams,
        dockerfile: base_image_digest,
    }
}

fn base_image_digest(_: &NoParams, cx: &mut Cx, d: &Dockerfile) {
    for (stage, image) in bases(d) {
        // A malformed digest is `base-image-tag`'s error, not reported twice.
        if let Ok(image) = image
            && crate::images::pinned_by_digest(image) == Ok(false)
        {
            cx.report_at(
                stage.from.image.span,
                format!("base image {image} is not pinned by digest"),
            );
        }
    }
}
