//! /proc mount type: Baseline (SL1109) and Restricted (SL1119).

use crate::resource::Workload;
use crate::rule::Cx;

use super::{Params, user_namespaced};

crate::declare_rule! {
    /// Pod Security Standards, Baseline, /proc Mount Type: containers keep the default /proc masks.
    ///
    /// Restricted fields: `securityContext.procMount` of containers, init containers
    /// and ephemeral containers. Allowed: unset or `Default`. Admission check
    /// `procMount` (v1.0, v1.35): from v1.35 a pod with `hostUsers: false` may set any
    /// value, since an unmasked /proc in its own user namespace exposes nothing of
    /// the node. Restricted does not relax this (see `pss-proc-mount-restricted`,
    /// which replaces this check there).
    ///
    /// Off by default; the `pod-security-baseline` pack enables it.
    pub static PROC_MOUNT = {
        code: "SL1109",
        name: "pss-proc-mount",
        severity: Error,
        category: PodSecurity,
        enabled: false,
        remediation: "Remove `securityContext.procMount` or set it to Default (or run the pod with `hostUsers: false`).",
        params: Params,
        check: proc_mount,
    }
}

fn proc_mount(p: &Params, cx: &mut Cx, w: &Workload<'_>) {
    if p.version.at_least(35) && user_namespaced(w.pod.spec) {
        return;
    }
    default_proc_mount(cx, w);
}

crate::declare_rule! {
    /// Pod Security Standards, Restricted, /proc Mount Type: containers keep the default /proc masks, user namespace or not.
    ///
    /// Restricted fields: `securityContext.procMount` of containers, init containers
    /// and ephemeral containers. Allowed: unset or `Default`, with no exception for
    /// `hostUsers: false`. Admission check `procMount_restricted` (v1.35), which
    /// replaces the relaxed Baseline check in Restricted; below v1.35 Restricted runs
    /// the unrelaxed Baseline check, which is the same, so this rule does not depend
    /// on `version`.
    ///
    /// Off by default; the `pod-security-restricted` pack enables it.
    pub static PROC_MOUNT_RESTRICTED = {
        code: "SL1119",
        name: "pss-proc-mount-restricted",
        severity: Error,
        category: PodSecurity,
        enabled: false,
        remediation: "Remove `securityContext.procMount` or set it to Default.",
        params: Params,
        check: proc_mount_restricted,
    }
}

fn proc_mount_restricted(_: &Params, cx: &mut Cx, w: &Workload<'_>) {
    default_proc_mount(cx, w);
}

fn default_proc_mount(cx: &mut Cx, w: &Workload<'_>) {
    for c in w.pod.containers() {
        if let Some(pm) = c.security_context.and_then(|s| s.proc_mount.as_deref())
            && pm != "Default"
        {
            cx.report(
                c.pointer.key("securityContext").key("procMount"),
                format!("{} sets procMount `{pm}`", c.label()),
            );
        }
    }
}
