//! Restricted: running as non-root (SL1115) and as a non-root user (SL1116).

use crate::resource::Workload;
use crate::rule::Cx;

use super::{Params, Setting, user_namespaced};

crate::declare_rule! {
    /// Pod Security Standards, Restricted, Running as Non-root: every container runs with `runAsNonRoot: true`.
    ///
    /// Restricted fields: `securityContext.runAsNonRoot` of the pod, containers, init
    /// containers and ephemeral containers. Allowed: `true`; a container may leave
    /// it unset when the pod sets `true`. An explicit `false` anywhere is refused,
    /// the pod's included, even when every container sets `true`. Windows pods are
    /// not exempt. Admission check `runAsNonRoot` (v1.0, v1.35): from v1.35 a pod
    /// with `hostUsers: false` is exempt, since its root maps to an unprivileged
    /// user on the node (before v1.35 this depended on the alpha feature gate
    /// UserNamespacesPodSecurityStandards, off by default, which v1.35 removed;
    /// user namespaces became GA in v1.36).
    ///
    /// Off by default; the `pod-security-restricted` pack enables it.
    pub static RUN_AS_NON_ROOT = {
        code: "SL1115",
        name: "pss-run-as-non-root",
        severity: Error,
        category: PodSecurity,
        enabled: false,
        remediation: "Set `securityContext.runAsNonRoot: true` in the pod spec and do not set it to false anywhere (or run the pod with `hostUsers: false`).",
        params: Params,
        check: run_as_non_root,
    }
}

fn run_as_non_root(p: &Params, cx: &mut Cx, w: &Workload<'_>) {
    if p.version.at_least(35) && user_namespaced(w.pod.spec) {
        return;
    }
    Setting {
        field: "runAsNonRoot",
        pod: |s| s.run_as_non_root,
        container: |s| s.run_as_non_root,
    }
    .require(cx, &w.pod, "sets runAsNonRoot: true", |&v| {
        (!v).then(|| ("sets runAsNonRoot: false".to_string(), None))
    });
}

crate::declare_rule! {
    /// Pod Security Standards, Restricted, Running as Non-root user: no `runAsUser: 0`.
    ///
    /// Restricted fields: `securityContext.runAsUser` of the pod, containers, init
    /// containers and ephemeral containers. Allowed: unset or non-zero (an explicit 0
    /// is refused wherever it is set, even when containers override it). Admission
    /// check `runAsUser` (v1.23, v1.35): with `version` below v1.23 nothing is
    /// reported; from v1.35 a pod with `hostUsers: false` is exempt, as for
    /// `pss-run-as-non-root`.
    ///
    /// Off by default; the `pod-security-restricted` pack enables it.
    pub static RUN_AS_USER = {
        code: "SL1116",
        name: "pss-run-as-user",
        severity: Error,
        category: PodSecurity,
        enabled: false,
        remediation: "Set `securityContext.runAsUser` to a non-zero UID, or remove it (or run the pod with `hostUsers: false`).",
        params: Params,
        check: run_as_user,
    }
}

fn run_as_user(p: &Params, cx: &mut Cx, w: &Workload<'_>) {
    if !p.version.at_least(23) || (p.version.at_least(35) && user_namespaced(w.pod.spec)) {
        return;
    }
    Setting {
        field: "runAsUser",
        pod: |s| s.run_as_user,
        container: |s| s.run_as_user,
    }
    .forbid(cx, &w.pod, |&v| {
        (v == 0).then(|| ("sets runAsUser: 0 (root)".to_string(), None))
    });
}
