//! SL1002-SL1005: the identity the container's processes run as.

use crate::resource::Workload;
use crate::rule::{Cx, NoParams};

use super::Inherited;

crate::declare_rule! {
    /// Every container must run with `runAsNonRoot: true` (container setting over pod setting).
    ///
    /// With `runAsNonRoot: true` the kubelet refuses to start a container whose user
    /// resolves to UID 0, whatever the image says. Root inside a sandbox still owns
    /// every file the sandbox can write and is the first step of most escapes.
    pub static RUN_AS_NON_ROOT = {
        code: "SL1002",
        name: "run-as-non-root",
        severity: Error,
        category: PodSecurity,
        remediation: "Set `securityContext.runAsNonRoot: true` in the pod spec (and do not set it to false in any container).",
        params: NoParams,
        check: run_as_non_root,
    }
}

fn run_as_non_root(_: &NoParams, cx: &mut Cx, w: &Workload<'_>) {
    Inherited {
        field: "runAsNonRoot",
        pod: |s| s.run_as_non_root,
        container: |s| s.run_as_non_root,
    }
    .check(cx, &w.pod, |v| match v {
        Some(true) => None,
        Some(false) => Some("sets runAsNonRoot: false".into()),
        None => Some("does not set runAsNonRoot: true".into()),
    });
}

crate::declare_rule! {
    /// Every container must run as an explicit, non-zero user ID.
    ///
    /// An explicit `runAsUser` makes the identity independent of the image's USER
    /// line, and lets the kubelet verify `runAsNonRoot` even for images whose user
    /// is a name. UID 0 is root.
    pub static RUN_AS_USER = {
        code: "SL1003",
        name: "run-as-user",
        severity: Error,
        category: PodSecurity,
        remediation: "Set `securityContext.runAsUser` to a non-zero UID (the seeds use 1000) in the pod spec.",
        params: NoParams,
        check: run_as_user,
    }
}

fn run_as_user(_: &NoParams, cx: &mut Cx, w: &Workload<'_>) {
    Inherited {
        field: "runAsUser",
        pod: |s| s.run_as_user,
        container: |s| s.run_as_user,
    }
    .check(cx, &w.pod, |v| nonzero_id(v, "runAsUser", "root"));
}

fn nonzero_id(v: Option<&i64>, field: &str, what: &str) -> Option<String> {
    match v {
        Some(0) => Some(format!("sets {field}: 0 ({what})")),
        Some(_) => None,
        None => Some(format!("does not set {field}")),
    }
}

crate::declare_rule! {
    /// Every container must run with an explicit, non-zero primary group ID.
    ///
    /// Without `runAsGroup` the primary group comes from the image, commonly GID 0,
    /// which owns many system files that are group-writable.
    pub static RUN_AS_GROUP = {
        code: "SL1004",
        name: "run-as-group",
        severity: Error,
        category: PodSecurity,
        remediation: "Set `securityContext.runAsGroup` to a non-zero GID (the seeds use 1000) in the pod spec.",
        params: NoParams,
        check: run_as_group,
    }
}

fn run_as_group(_: &NoParams, cx: &mut Cx, w: &Workload<'_>) {
    Inherited {
        field: "runAsGroup",
        pod: |s| s.run_as_group,
        container: |s| s.run_as_group,
    }
    .check(cx, &w.pod, |v| {
        nonzero_id(v, "runAsGroup", "the root group")
    });
}

crate::declare_rule! {
    /// The pod must set a non-zero `fsGroup`.
    ///
    /// `fsGroup` makes the writable volumes (`/workspace`, `/tmp`) owned by a known,
    /// unprivileged group, so a non-root runner can write to them without anyone
    /// loosening permissions to world-writable. GID 0 would hand them to the root group.
    pub static FS_GROUP = {
        code: "SL1005",
        name: "fs-group",
        severity: Warning,
        category: PodSecurity,
        remediation: "Set `securityContext.fsGroup` to a non-zero GID (the seeds use 1000) in the pod spec.",
        params: NoParams,
        check: fs_group,
    }
}

fn fs_group(_: &NoParams, cx: &mut Cx, w: &Workload<'_>) {
    let value = w
        .pod
        .spec
        .security_context
        .as_ref()
        .and_then(|s| s.fs_group);
    let ptr = w.pod.at("securityContext").key("fsGroup");
    match value {
        Some(0) => {
            cx.report(ptr, "fsGroup is 0: volumes are owned by the root group");
        }
        Some(_) => {}
        None => {
            cx.report(ptr, "the pod does not set fsGroup");
        }
    }
}
