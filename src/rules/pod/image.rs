//! SL1019-SL1020: pinned images.

use crate::pointer::Pointer;
use crate::resource::Workload;
use crate::rule::{Cx, NoParams};

/// An image reference split into name, tag and digest.
#[derive(Debug, PartialEq, Eq)]
pub struct ImageRef<'a> {
    pub name: &'a str,
    pub tag: Option<&'a str>,
    pub digest: Option<&'a str>,
}

/// Splits `registry:port/path/name:tag@sha256:...`. A `:` before the last `/`
/// belongs to the registry's port, not the tag.
pub fn parse_image(image: &str) -> ImageRef<'_> {
    let (rest, digest) = match image.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (image, None),
    };
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    match rest[last_slash..].rfind(':') {
        Some(i) => ImageRef {
            name: &rest[..last_slash + i],
            tag: Some(&rest[last_slash + i + 1..]),
            digest,
        },
        None => ImageRef {
            name: rest,
            tag: None,
            digest,
        },
    }
}

/// Every image reference of the pod: each container's (init and ephemeral
/// containers included) and each image volume's, as (pointer, who, image);
/// `None` for a container or image volume that names none.
fn images<'a>(w: &Workload<'a>) -> Vec<(Pointer, String, Option<&'a str>)> {
    let mut out: Vec<_> = w
        .pod
        .containers()
        .map(|c| (c.pointer.key("image"), c.label(), c.image))
        .collect();
    for (i, v) in w.pod.volumes().iter().enumerate() {
        if let Some(img) = &v.image {
            out.push((
                w.pod.at("volumes").index(i).key("image").key("reference"),
                format!("image volume \"{}\"", v.name),
                img.reference.as_deref(),
            ));
        }
    }
    out
}

crate::declare_rule! {
    /// Images must name a tag other than `latest`, or a well-formed digest.
    ///
    /// `:latest` (or no tag, which means latest) changes under you: the code that
    /// runs is whatever was pushed last, the run cannot be reproduced, and a
    /// compromised registry push reaches every new sandbox at once. A digest pins
    /// the image only when it is well formed: `sha256:` (or `sha384:`, `sha512:`)
    /// and exactly that many lowercase hex digits; `@sha256:4f53`, uppercase hex,
    /// another algorithm or a bare `@` pin nothing (the runtime refuses the
    /// reference) and are findings whatever the tag. Containers, init and
    /// ephemeral containers and image volumes (`volumes[].image.reference`) are
    /// judged alike.
    pub static IMAGE_TAG = {
        code: "SL1019",
        name: "image-tag",
        severity: Error,
        category: PodSecurity,
        remediation: "Pin the image to a version tag and, better, a digest: `image: registry/runner:1.4.2@sha256:<digest>`.",
        params: NoParams,
        check: image_tag,
    }
}

fn image_tag(_: &NoParams, cx: &mut Cx, w: &Workload<'_>) {
    for (ptr, who, image) in images(w) {
        let Some(image) = image.filter(|i| !i.trim().is_empty()) else {
            cx.report(ptr, format!("{who} has no image"));
            continue;
        };
        match crate::images::pinned_by_digest(image) {
            Ok(true) => continue,
            Err(why) => {
                cx.report(ptr, format!("{who} image {image} is not pinned: {why}"));
                continue;
            }
            Ok(false) => {}
        }
        match parse_image(image).tag {
            Some("latest") => {
                cx.report(
                    ptr,
                    format!("{who} uses the mutable tag `latest` ({image})"),
                );
            }
            None => {
                cx.report(
                    ptr,
                    format!("{who} image {image} has no tag (means `latest`)"),
                );
            }
            Some(_) => {}
        }
    }
}

crate::declare_rule! {
    /// Images should be pinned by digest.
    ///
    /// A tag can be moved to other content; a digest cannot. Only images with a
    /// version tag and no digest are reported here: an unpinned or `latest`
    /// image, and one whose digest is malformed, are already `image-tag` errors,
    /// whose fix includes the digest.
    pub static IMAGE_DIGEST = {
        code: "SL1020",
        name: "image-digest",
        severity: Warning,
        category: PodSecurity,
        remediation: "Append the digest: `image: registry/runner:1.4.2@sha256:<digest>`.",
        params: NoParams,
        check: image_digest,
    }
}

fn image_digest(_: &NoParams, cx: &mut Cx, w: &Workload<'_>) {
    for (ptr, who, image) in images(w) {
        let Some(image) = image else { continue };
        let r = parse_image(image);
        if r.digest.is_none() && r.tag.is_some_and(|t| t != "latest") {
            cx.report(ptr, format!("{who} image {image} is not pinned by digest"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_registry_port_tag_and_digest() {
        assert_eq!(
            parse_image("localhost:5000/runner"),
            ImageRef {
                name: "localhost:5000/runner",
                tag: None,
                digest: None
            }
        );
        assert_eq!(
            parse_image("gcr.io/p/runner:1.2@sha256:abc"),
            ImageRef {
                name: "gcr.io/p/runner",
                tag: Some("1.2"),
                digest: Some("sha256:abc")
            }
        );
        assert_eq!(parse_image("runner@sha256:abc").tag, None);
        assert_eq!(parse_image("runner:latest").tag, Some("latest"));
    }
}
