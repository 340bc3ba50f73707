//! Seccomp: Baseline (SL1110) and Restricted (SL1117).

use k8s_openapi::api::core::v1::SeccompProfile;

use crate::resource::Workload;
use crate::rule::Cx;

use super::{Params, Problem, Setting, is_windows, metadata_pointer};

/// The seccomp annotations that policy versions before v1.19 judge.
pub const POD_ANNOTATION: &str = "seccomp.security.alpha.kubernetes.io/pod";
pub const CONTAINER_ANNOTATION_PREFIX: &str = "container.seccomp.security.alpha.kubernetes.io/";

fn setting() -> Setting<SeccompProfile> {
    Setting {
        field: "seccompProfile",
        pod: |s| s.seccomp_profile.clone(),
        container: |s| s.seccomp_profile.clone(),
    }
}

fn bad_type(p: &SeccompProfile) -> Option<Problem> {
    (!matches!(p.type_.as_str(), "RuntimeDefault" | "Localhost")).then(|| {
        (
            format!("sets seccomp profile type `{}`", p.type_),
            Some("type"),
        )
    })
}

crate::declare_rule! {
    /// Pod Security Standards, Baseline, Seccomp: the seccomp profile must not be set to Unconfined.
    ///
    /// Restricted fields: `securityContext.seccompProfile.type` of the pod,
    /// containers, init containers and ephemeral containers. Allowed: unset,
    /// `RuntimeDefault`, `Localhost`. Admission check `seccompProfile_baseline`. With
    /// `version` below v1.19 (before the field existed) the check judges the alpha
    /// annotations instead: `seccomp.security.alpha.kubernetes.io/pod` and
    /// `container.seccomp.security.alpha.kubernetes.io/<container>` may be
    /// `runtime/default`, `docker/default` or `localhost/*` when present. In
    /// Restricted, `pss-seccomp-restricted` replaces this check.
    ///
    /// Off by default; the `pod-security-baseline` pack enables it.
    pub static SECCOMP_BASELINE = {
        code: "SL1110",
        name: "pss-seccomp-baseline",
        severity: Error,
        category: PodSecurity,
        enabled: false,
        remediation: "Remove the Unconfined seccomp profile, or use `seccompProfile: {type: RuntimeDefault}`.",
        params: Params,
        check: seccomp_baseline,
    }
}

fn seccomp_baseline(p: &Params, cx: &mut Cx, w: &Workload<'_>) {
    if p.version.at_least(19) {
        setting().forbid(cx, &w.pod, bad_type);
    } else {
        annotations(cx, w);
    }
}

/// The pre-v1.19 Baseline check, on the alpha seccomp annotations.
fn annotations(cx: &mut Cx, w: &Workload<'_>) {
    let Some(annotations) = w.pod.metadata.and_then(|m| m.annotations.as_ref()) else {
        return;
    };
    let valid =
        |v: &str| v == "runtime/default" || v == "docker/default" || v.starts_with("localhost/");
    let base = metadata_pointer(&w.pod).key("annotations");
    if let Some(v) = annotations.get(POD_ANNOTATION)
        && !valid(v)
    {
        cx.report(
            base.key(POD_ANNOTATION),
            format!("annotation {POD_ANNOTATION} sets seccomp profile `{v}`"),
        );
    }
    for c in w.pod.containers() {
        let key = format!("{CONTAINER_ANNOTATION_PREFIX}{}", c.name);
        if let Some(v) = annotations.get(&key)
            && !valid(v)
        {
            cx.report(
                base.key(&key),
                format!(
                    "annotation {key} sets seccomp profile `{v}` for {}",
                    c.label()
                ),
            );
        }
    }
}

crate::declare_rule! {
    /// Pod Security Standards, Restricted, Seccomp: every container runs with a RuntimeDefault or Localhost seccomp profile.
    ///
    /// Restricted fields: `securityContext.seccompProfile.type` of the pod,
    /// containers, init containers and ephemeral containers. Allowed: `RuntimeDefault`
    /// or `Localhost`; a container may leave it unset only when the pod sets an
    /// allowed type. A pod-level `Unconfined` is refused even when every container
    /// overrides it. Admission check `seccompProfile_restricted`, which replaces the
    /// Baseline seccomp check in Restricted. By `version`:
    /// - below v1.19 the Restricted check does not exist, so this rule applies the
    ///   Baseline annotation check instead (what admission runs then);
    /// - v1.19 to v1.24: every pod;
    /// - v1.25 and later: pods with `spec.os.name: windows` are exempt (seccomp is Linux-only).
    ///
    /// Off by default; the `pod-security-restricted` pack enables it.
    pub static SECCOMP_RESTRICTED = {
        code: "SL1117",
        name: "pss-seccomp-restricted",
        severity: Error,
        category: PodSecurity,
        enabled: false,
        remediation: "Set `securityContext.seccompProfile: {type: RuntimeDefault}` in the pod spec.",
        params: Params,
        check: seccomp_restricted,
    }
}

fn seccomp_restricted(p: &Params, cx: &mut Cx, w: &Workload<'_>) {
    if !p.version.at_least(19) {
        annotations(cx, w);
        return;
    }
    if p.version.at_least(25) && is_windows(w.pod.spec) {
        return;
    }
    setting().require(cx, &w.pod, "sets a seccomp profile", bad_type);
}
