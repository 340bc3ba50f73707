//! SL1002-SL1005 and SL1024: the identity the container's processes run as.

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

/// The largest user or group id the API server accepts.
pub(crate) const MAX_ID: i64 = 2_147_483_647;

fn nonzero_id(v: Option<&i64>, field: &str, what: &str) -> Option<String> {
    match v {
        Some(0) => Some(format!("sets {field}: 0 ({what})")),
        Some(&id) if !(0..=MAX_ID).contains(&id) => Some(format!(
            "sets {field}: {id}, outside 0..={MAX_ID} (not a valid id; the API server refuses it)"
        )),
        Some(_) => None,
        None => Some(format!("does not set {field}")),
    }
}

crate::declare_rule! {
    /// Every container must run with an explicit, non-zero primary group ID.
    ///
    /// Without `runAsGroup` the primary group comes from the image, commonly GID 0,
    /// which owns many system files that are group-writable (and GID 0 when the
    /// image does not list the `runAsUser`). A `runAsGroup` of 0 or outside
    /// 0..=2147483647 is `root-group`'s error, not reported again here.
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
        v.is_none().then(|| {
            "does not set runAsGroup (the primary group then comes from the image, GID 0 when the image does not list the user)".to_string()
        })
    });
}

crate::declare_rule! {
    /// The pod must set a non-zero `fsGroup`.
    ///
    /// `fsGroup` makes the writable volumes (`/workspace`, `/tmp`) owned by a known,
    /// unprivileged group, so a non-root runner can write to them without anyone
    /// loosening permissions to world-writable. An `fsGroup` of 0 (which hands the
    /// volumes to the root group and makes every container a member of it) or
    /// outside 0..=2147483647 is `root-group`'s error, not reported again here.
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
    if value.is_none() {
        cx.report(ptr, "the pod does not set fsGroup");
    }
}

crate::declare_rule! {
    /// No process of the pod may be a member of the root group (GID 0).
    ///
    /// `runAsGroup: 0` (pod or container) makes GID 0 the primary group;
    /// `fsGroup: 0` and a 0 in `supplementalGroups` add GID 0 to every container's
    /// groups (and `fsGroup` hands the volumes to it). The root group owns many
    /// group-writable files and directories of a typical image, and is the group
    /// escapes look for. A pod-level `runAsGroup: 0` is reported even when every
    /// container sets its own: an ephemeral container added later inherits it.
    /// Ids outside 0..=2147483647 are not valid group ids and are findings too
    /// (fail closed); a value that is not an integer at all is `invalid-value`.
    /// An unset `runAsGroup` or `fsGroup` is `run-as-group`'s and `fs-group`'s;
    /// but a container without any `runAsGroup` whose image is built by a
    /// Dockerfile of the run (see `pod-user-matches-image`) with a final USER
    /// naming group 0 (`USER 10001:0`) runs with the root group, and is reported.
    pub static ROOT_GROUP = {
        code: "SL1024",
        name: "root-group",
        severity: Error,
        category: PodSecurity,
        remediation: "Use a non-zero GID (the seeds use 1000) for `runAsGroup`, `fsGroup` and every `supplementalGroups` entry.",
        params: NoParams,
        check: root_group,
    }
}

/// What is wrong with a group id, if anything.
fn group_problem(gid: i64) -> Option<String> {
    if gid == 0 {
        Some("the root group".into())
    } else if !(0..=MAX_ID).contains(&gid) {
        Some(format!("outside 0..={MAX_ID}, not a valid group id"))
    } else {
        None
    }
}

fn root_group(_: &NoParams, cx: &mut Cx, w: &Workload<'_>) {
    let pod_ptr = w.pod.at("securityContext");
    if let Some(psc) = w.pod.spec.security_context.as_ref() {
        if let Some(g) = psc.run_as_group
            && let Some(why) = group_problem(g)
        {
            cx.report(
                pod_ptr.key("runAsGroup"),
                format!("the pod sets runAsGroup: {g} ({why}) for every container that sets none"),
            );
        }
        if let Some(g) = psc.fs_group
            && let Some(why) = group_problem(g)
        {
            cx.report(
                pod_ptr.key("fsGroup"),
                format!("the pod sets fsGroup: {g} ({why}): every container joins it, and it owns the volumes"),
            );
        }
        for (i, &g) in psc.supplemental_groups.iter().flatten().enumerate() {
            if let Some(why) = group_problem(g) {
                cx.report(
                    pod_ptr.key("supplementalGroups").index(i),
                    format!(
                        "the pod's supplementalGroups include {g} ({why}): every container joins it"
                    ),
                );
            }
        }
    }
    let pod_gid = w
        .pod
        .spec
        .security_context
        .as_ref()
        .and_then(|s| s.run_as_group);
    for c in w.pod.containers() {
        let own = c.security_context.and_then(|s| s.run_as_group);
        if let Some(g) = own
            && let Some(why) = group_problem(g)
        {
            cx.report(
                c.pointer.key("securityContext").key("runAsGroup"),
                format!("{} sets runAsGroup: {g} ({why})", c.label()),
            );
        }
        if own.or(pod_gid).is_none() {
            image_root_group(cx, &c);
        }
    }
}

/// Without any runAsGroup the container runs with its image's group: reported
/// when a Dockerfile of the run builds the image and its final USER names
/// group 0 (`USER 10001:0`, `USER runner:root`).
fn image_root_group(cx: &mut Cx, c: &crate::resource::ContainerView<'_>) {
    let Some(image) = c.image else { return };
    let Some(facts) = cx.images.and_then(|i| i.lookup(image)) else {
        return;
    };
    let Ok(built) = &facts.built else { return };
    let Some(user) = &built.user else { return };
    let Ok(resolved) = user.resolved.as_deref() else {
        return;
    };
    let group = crate::dockerfile::UserSpec::parse(resolved).group;
    if !group.is_some_and(|g| g == "root" || g.parse::<i64>() == Ok(0)) {
        return;
    }
    let message = format!(
        "{} sets no runAsGroup, and image {image} runs as USER {} ({}): the root group is its primary group",
        c.label(),
        user.raw,
        facts.dockerfile
    );
    let location = user.location.clone();
    cx.report(c.pointer.key("image"), message).related = vec![crate::finding::Related {
        location,
        message: "the image's USER names group 0".into(),
    }];
}
