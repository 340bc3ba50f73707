//! SL4016-SL4017: pods checked against the Dockerfiles that build their
//! images. Which Dockerfile builds which image comes from the `images`
//! parameter of SL4016 (paths relative to the working directory) and from
//! `images` in `.sandbox-lint.yaml` (relative to that file); a container whose
//! image is in neither is not judged by these rules.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::dockerfile::UserSpec;
use crate::finding::Related;
use crate::images::ImageFacts;
use crate::resource::{ContainerView, Workload};
use crate::rule::{Cx, NoParams};

/// Parameters of [`POD_USER_MATCHES_IMAGE`].
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct ImageMapParams {
    /// Image (repository, `repository:tag`, or a prefix ending in `*`) -> the
    /// Dockerfile that builds it, relative to the working directory.
    pub images: BTreeMap<String, String>,
}

crate::declare_rule! {
    /// A pod's user must agree with the USER of the Dockerfile that builds its image.
    ///
    /// The effective `runAsUser` and `runAsNonRoot` (container over pod) are compared
    /// with the final USER of the image's Dockerfile. A named USER with
    /// `runAsNonRoot: true` and no `runAsUser` is an error: the kubelet cannot verify
    /// a name and the pod never starts. An image that runs as root (no USER, or
    /// USER root) without a `runAsUser` either runs as root or, with `runAsNonRoot`,
    /// does not start. A `runAsUser` or `runAsGroup` other than the image's uid or
    /// gid runs the code as a user the image was not built for: files the image gave
    /// its user are not that user's.
    pub static POD_USER_MATCHES_IMAGE = {
        code: "SL4016",
        name: "pod-user-matches-image",
        severity: Error,
        category: Dockerfile,
        remediation: "Make the pod's `runAsUser`/`runAsGroup` the uid and gid of the image's numeric `USER`.",
        params: ImageMapParams,
        check: pod_user_matches_image,
    }
}

/// The containers whose images a Dockerfile of the run builds.
fn mapped<'a>(cx: &Cx<'a>, w: &Workload<'a>) -> Vec<(ContainerView<'a>, &'a ImageFacts)> {
    let Some(images) = cx.images else {
        return Vec::new();
    };
    w.pod
        .containers()
        .filter_map(|c| {
            let facts = images.lookup(c.image?)?;
            Some((c, facts))
        })
        .collect()
}

fn pod_user_matches_image(_: &ImageMapParams, cx: &mut Cx, w: &Workload<'_>) {
    let pod_sc = w.pod.spec.security_context.as_ref();
    for (c, facts) in mapped(cx, w) {
        let Ok(built) = &facts.built else {
            continue;
        };
        let sc = c.security_context;
        let run_as_user = sc
            .and_then(|s| s.run_as_user)
            .or(pod_sc.and_then(|s| s.run_as_user));
        let run_as_group = sc
            .and_then(|s| s.run_as_group)
            .or(pod_sc.and_then(|s| s.run_as_group));
        let non_root = sc
            .and_then(|s| s.run_as_non_root)
            .or(pod_sc.and_then(|s| s.run_as_non_root))
            == Some(true);
        let image = c.image.unwrap_or_default();
        let at = c.pointer.key("image");
        let (user_text, resolved, user_loc) = match &built.user {
            Some(u) => (
                u.raw.as_str(),
                u.resolved.as_deref().ok(),
                Some(&u.location),
            ),
            None => ("", None, None),
        };
        let related = |message: String| match user_loc {
            Some(l) => vec![Related {
                location: l.clone(),
                message,
            }],
            None => vec![Related {
                location: built.from.clone(),
                message,
            }],
        };
        let spec = resolved.map(UserSpec::parse);
        let image_uid = spec.as_ref().and_then(UserSpec::uid);
        let image_root = built.user.is_none() || spec.as_ref().is_some_and(UserSpec::is_root);
        let dockerfile = &facts.dockerfile;
        match run_as_user {
            None if image_root => {
                let outcome = if non_root {
                    "runAsNonRoot stops it from starting"
                } else {
                    "it runs as root"
                };
                let what = if built.user.is_none() {
                    format!("{dockerfile} sets no USER")
                } else {
                    format!("{dockerfile} ends with USER {user_text}")
                };
                cx.report(
                    at,
                    format!(
                        "{} runs image {image} without runAsUser, and {what}: {outcome}",
                        c.label()
                    ),
                )
                .related = related(format!("the image's user is set here ({dockerfile})"));
            }
            None if image_uid.is_none() && resolved.is_some() && non_root => {
                cx.report(
                    at,
                    format!(
                        "{} has runAsNonRoot but no runAsUser, and image {image} runs as USER {user_text} (a name, {dockerfile}): the kubelet cannot verify it and the pod will not start",
                        c.label()
                    ),
                )
                .related = related("USER by name".into());
            }
            Some(uid) if image_uid.is_some_and(|i| i != uid) => {
                cx.report(
                    c.pointer.key("securityContext"),
                    format!(
                        "{} runs as uid {uid}, but image {image} is built for USER {user_text} ({dockerfile})",
                        c.label()
                    ),
                )
                .related = related(format!("the image's USER is uid {}", image_uid.unwrap_or_default()));
            }
            _ => {}
        }
        let image_gid = spec
            .as_ref()
            .and_then(|s| s.group)
            .and_then(|g| g.parse::<i64>().ok());
        if let (Some(gid), Some(image_gid)) = (run_as_group, image_gid)
            && gid != image_gid
        {
            cx.report(
                c.pointer.key("securityContext"),
                format!(
                    "{} runs with gid {gid}, but image {image} is built for USER {user_text} ({dockerfile})",
                    c.label()
                ),
            )
            .related = related(format!("the image's USER has gid {image_gid}"));
        }
    }
}

crate::declare_rule! {
    /// A pod's image must be built by a Dockerfile without findings.
    ///
    /// The pod's finding links each finding of the Dockerfile (SARIF related
    /// locations), so a code scanning alert on the manifest leads to the image
    /// problem. A mapped Dockerfile that cannot be read or parsed is a finding:
    /// what cannot be checked does not pass.
    pub static IMAGE_DOCKERFILE_FINDINGS = {
        code: "SL4017",
        name: "image-dockerfile-findings",
        severity: Warning,
        category: Dockerfile,
        remediation: "Fix the findings of the image's Dockerfile (they are listed as related locations).",
        params: NoParams,
        check: image_dockerfile_findings,
    }
}

fn image_dockerfile_findings(_: &NoParams, cx: &mut Cx, w: &Workload<'_>) {
    for (c, facts) in mapped(cx, w) {
        let image = c.image.unwrap_or_default();
        let at = c.pointer.key("image");
        match &facts.built {
            Err(why) => {
                cx.report(
                    at,
                    format!(
                        "image {image} is mapped to {}, which cannot be checked: {why}",
                        facts.dockerfile
                    ),
                );
            }
            Ok(built) if !built.findings.is_empty() => {
                let codes: Vec<&str> = built
                    .findings
                    .iter()
                    .filter_map(|r| r.message.split(' ').next())
                    .collect();
                cx.report(
                    at,
                    format!(
                        "image {image} is built by {}, which has {} finding{} ({})",
                        facts.dockerfile,
                        built.findings.len(),
                        if built.findings.len() == 1 { "" } else { "s" },
                        codes.join(", ")
                    ),
                )
                .related = built.findings.clone();
            }
            Ok(_) => {}
        }
    }
}
