//! Privileged containers (SL1103), capabilities (Baseline SL1104, Restricted
//! SL1118) and privilege escalation (SL1114).

use crate::resource::{ContainerView, Workload};
use crate::rule::Cx;

use super::{Params, is_windows};

crate::declare_rule! {
    /// Pod Security Standards, Baseline, Privileged Containers: no container may run privileged.
    ///
    /// Restricted fields: `securityContext.privileged` of containers, init containers
    /// and ephemeral containers. Allowed: unset or `false`. Admission check
    /// `privileged`, unchanged since v1.0.
    ///
    /// Off by default; the `pod-security-baseline` and `pod-security-restricted`
    /// packs enable it.
    pub static PRIVILEGED = {
        code: "SL1103",
        name: "pss-privileged",
        severity: Error,
        category: PodSecurity,
        enabled: false,
        remediation: "Remove `securityContext.privileged` or set it to false.",
        params: Params,
        check: privileged,
    }
}

fn privileged(_: &Params, cx: &mut Cx, w: &Workload<'_>) {
    for c in w.pod.containers() {
        if c.security_context.and_then(|s| s.privileged) == Some(true) {
            cx.report(
                c.pointer.key("securityContext").key("privileged"),
                format!("{} runs privileged", c.label()),
            );
        }
    }
}

/// The capabilities Baseline lets a container add (the container runtime's
/// default set, without NET_RAW), compared exactly: no `CAP_` prefix, no case folding.
pub const BASELINE_CAPABILITIES: &[&str] = &[
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

crate::declare_rule! {
    /// Pod Security Standards, Baseline, Capabilities: containers may add only capabilities of the default set.
    ///
    /// Restricted fields: `securityContext.capabilities.add` of containers, init
    /// containers and ephemeral containers. Allowed: unset, empty, or AUDIT_WRITE,
    /// CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD, NET_BIND_SERVICE, SETFCAP,
    /// SETGID, SETPCAP, SETUID, SYS_CHROOT, compared exactly (`CAP_CHOWN` or `chown`
    /// is not allowed). Windows pods and user-namespaced pods are not exempt.
    /// Admission check `capabilities_baseline`, unchanged since v1.0. In Restricted,
    /// `pss-capabilities-restricted` replaces this check.
    ///
    /// Off by default; the `pod-security-baseline` pack enables it.
    pub static CAPABILITIES_BASELINE = {
        code: "SL1104",
        name: "pss-capabilities-baseline",
        severity: Error,
        category: PodSecurity,
        enabled: false,
        remediation: "Remove the capability from `securityContext.capabilities.add`.",
        params: Params,
        check: capabilities_baseline,
    }
}

fn capabilities_baseline(_: &Params, cx: &mut Cx, w: &Workload<'_>) {
    for c in w.pod.containers() {
        baseline_adds(cx, &c);
    }
}

/// Reports every added capability outside the Baseline set.
fn baseline_adds(cx: &mut Cx, c: &ContainerView<'_>) {
    for (i, cap) in added(c).iter().enumerate() {
        if !BASELINE_CAPABILITIES.contains(&cap.as_str()) {
            cx.report(
                caps_pointer(c).key("add").index(i),
                format!(
                    "{} adds capability `{cap}`, which is not in the Baseline set",
                    c.label()
                ),
            );
        }
    }
}

fn added<'a>(c: &ContainerView<'a>) -> &'a [String] {
    c.security_context
        .and_then(|s| s.capabilities.as_ref())
        .and_then(|caps| caps.add.as_deref())
        .unwrap_or_default()
}

fn caps_pointer(c: &ContainerView<'_>) -> crate::pointer::Pointer {
    c.pointer.key("securityContext").key("capabilities")
}

crate::declare_rule! {
    /// Pod Security Standards, Restricted, Capabilities: every container drops `ALL` and adds at most NET_BIND_SERVICE.
    ///
    /// Restricted fields: `securityContext.capabilities.drop` (must contain exactly
    /// `ALL`: `all` or a list of every capability does not count) and
    /// `securityContext.capabilities.add` (only `NET_BIND_SERVICE`), on containers,
    /// init containers and ephemeral containers. Admission check
    /// `capabilities_restricted` (v1.22+), which replaces the Baseline capabilities
    /// check in Restricted. By `version`:
    /// - below v1.22 the Restricted check does not exist, so this rule applies the
    ///   Baseline add list instead (what admission runs then);
    /// - v1.22 to v1.24: every pod;
    /// - v1.25 and later: pods with `spec.os.name: windows` are exempt (capabilities
    ///   are Linux-only), and since this check replaces the Baseline one, a Windows
    ///   pod is not checked for capabilities at all in Restricted.
    ///
    /// Off by default; the `pod-security-restricted` pack enables it.
    pub static CAPABILITIES_RESTRICTED = {
        code: "SL1118",
        name: "pss-capabilities-restricted",
        severity: Error,
        category: PodSecurity,
        enabled: false,
        remediation: "Set `securityContext.capabilities: {drop: [\"ALL\"]}` on every container, adding back at most `NET_BIND_SERVICE`.",
        params: Params,
        check: capabilities_restricted,
    }
}

fn capabilities_restricted(p: &Params, cx: &mut Cx, w: &Workload<'_>) {
    if !p.version.at_least(22) {
        for c in w.pod.containers() {
            baseline_adds(cx, &c);
        }
        return;
    }
    if p.version.at_least(25) && is_windows(w.pod.spec) {
        return;
    }
    for c in w.pod.containers() {
        let caps = c.security_context.and_then(|s| s.capabilities.as_ref());
        let drop = caps.and_then(|c| c.drop.as_deref()).unwrap_or_default();
        if !drop.iter().any(|d| d == "ALL") {
            let ptr = caps_pointer(&c).key("drop");
            let r = match drop.iter().position(|d| d.eq_ignore_ascii_case("all")) {
                Some(i) => cx.report(
                    ptr.index(i),
                    format!(
                        "{} drops `{}`, which is not `ALL` (compared exactly)",
                        c.label(),
                        drop[i]
                    ),
                ),
                None => cx.report(ptr, format!("{} does not drop ALL capabilities", c.label())),
            };
            r.help("Use `capabilities: {drop: [\"ALL\"]}`.");
        }
        for (i, cap) in added(&c).iter().enumerate() {
            if cap != "NET_BIND_SERVICE" {
                cx.report(
                    caps_pointer(&c).key("add").index(i),
                    format!(
                        "{} adds capability `{cap}` (Restricted allows only NET_BIND_SERVICE)",
                        c.label()
                    ),
                );
            }
        }
    }
}

crate::declare_rule! {
    /// Pod Security Standards, Restricted, Privilege Escalation: every container sets `allowPrivilegeEscalation: false`.
    ///
    /// Restricted fields: `securityContext.allowPrivilegeEscalation` of containers,
    /// init containers and ephemeral containers. Allowed: `false` only; unset counts
    /// as allowed escalation. Admission check `allowPrivilegeEscalation`: from v1.8
    /// (below, with `version`, nothing is reported); from v1.25 pods with
    /// `spec.os.name: windows` are exempt (a Linux-only control).
    ///
    /// Off by default; the `pod-security-restricted` pack enables it.
    pub static PRIVILEGE_ESCALATION = {
        code: "SL1114",
        name: "pss-privilege-escalation",
        severity: Error,
        category: PodSecurity,
        enabled: false,
        remediation: "Set `securityContext.allowPrivilegeEscalation: false` on every container.",
        params: Params,
        check: privilege_escalation,
    }
}

fn privilege_escalation(p: &Params, cx: &mut Cx, w: &Workload<'_>) {
    if !p.version.at_least(8) || (p.version.at_least(25) && is_windows(w.pod.spec)) {
        return;
    }
    for c in w.pod.containers() {
        let message = match c
            .security_context
            .and_then(|s| s.allow_privilege_escalation)
        {
            Some(false) => continue,
            Some(true) => "sets allowPrivilegeEscalation: true",
            None => "does not set allowPrivilegeEscalation: false (unset allows escalation)",
        };
        cx.report(
            c.pointer
                .key("securityContext")
                .key("allowPrivilegeEscalation"),
            format!("{} {message}", c.label()),
        );
    }
}
