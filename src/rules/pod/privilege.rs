//! SL1006-SL1009: privilege escalation, privileged mode and capabilities.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::resource::Workload;
use crate::rule::{Cx, NoParams};

use super::each_container;

crate::declare_rule! {
    /// Every container must set `allowPrivilegeEscalation: false`.
    ///
    /// Unset means true: setuid binaries and file capabilities in the image can raise
    /// the process's privileges past what it started with. `false` sets the kernel's
    /// `no_new_privs` flag, which nothing in the container can undo.
    pub static ALLOW_PRIVILEGE_ESCALATION = {
        code: "SL1006",
        name: "allow-privilege-escalation",
        severity: Error,
        category: PodSecurity,
        remediation: "Set `securityContext.allowPrivilegeEscalation: false` on every container.",
        params: NoParams,
        check: allow_privilege_escalation,
    }
}

fn allow_privilege_escalation(_: &NoParams, cx: &mut Cx, w: &Workload<'_>) {
    each_container(
        cx,
        &w.pod,
        "allowPrivilegeEscalation",
        |s| s.allow_privilege_escalation,
        |v| match v {
            Some(false) => None,
            Some(true) => Some("sets allowPrivilegeEscalation: true".into()),
            None => Some("does not set allowPrivilegeEscalation: false (unset means true)".into()),
        },
    );
}

crate::declare_rule! {
    /// No container may run privileged.
    ///
    /// A privileged container gets every capability and every host device, and
    /// bypasses seccomp and AppArmor: nothing else on this list holds.
    pub static PRIVILEGED = {
        code: "SL1007",
        name: "privileged",
        severity: Error,
        category: PodSecurity,
        remediation: "Remove `securityContext.privileged` or set it to false.",
        params: NoParams,
        check: privileged,
    }
}

fn privileged(_: &NoParams, cx: &mut Cx, w: &Workload<'_>) {
    each_container(
        cx,
        &w.pod,
        "privileged",
        |s| s.privileged,
        |v| (v == Some(&true)).then(|| "runs privileged".to_string()),
    );
}

crate::declare_rule! {
    /// Every container must drop all capabilities with exactly `drop: ["ALL"]`.
    ///
    /// Container runtimes grant a default set of capabilities (CHOWN, SETUID,
    /// NET_RAW, ...) that untrusted code never needs. The value is compared exactly,
    /// as Kubernetes Pod Security admission does: `all` or a list of names is not `ALL`.
    pub static DROP_ALL_CAPABILITIES = {
        code: "SL1008",
        name: "drop-all-capabilities",
        severity: Error,
        category: PodSecurity,
        remediation: "Set `securityContext.capabilities.drop: [\"ALL\"]` on every container.",
        params: NoParams,
        check: drop_all,
    }
}

fn drop_all(_: &NoParams, cx: &mut Cx, w: &Workload<'_>) {
    for c in w.pod.containers() {
        let caps = c.security_context.and_then(|s| s.capabilities.as_ref());
        let drop = caps.and_then(|c| c.drop.as_deref()).unwrap_or_default();
        if drop.iter().any(|d| d == "ALL") {
            continue;
        }
        let ptr = c
            .pointer
            .key("securityContext")
            .key("capabilities")
            .key("drop");
        let r = match drop.iter().position(|d| d.eq_ignore_ascii_case("all")) {
            Some(i) => cx.report(
                ptr.index(i),
                format!(
                    "{} drops `{}`, which is not `ALL` (the value is compared exactly)",
                    c.label(),
                    drop[i]
                ),
            ),
            None => cx.report(ptr, format!("{} does not drop ALL capabilities", c.label())),
        };
        r.help("Use `capabilities: {drop: [\"ALL\"]}`.");
    }
}

/// Parameters of `added-capabilities`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct AddParams {
    /// Capabilities that containers may add back (without the `CAP_` prefix), e.g. `NET_BIND_SERVICE`.
    pub allowed: Vec<String>,
}

crate::declare_rule! {
    /// Containers must not add capabilities, except those a parameter allows.
    ///
    /// Every added capability widens the kernel interface the untrusted code can use;
    /// a sandboxed runner needs none.
    pub static ADDED_CAPABILITIES = {
        code: "SL1009",
        name: "added-capabilities",
        severity: Error,
        category: PodSecurity,
        remediation: "Remove the entry from `securityContext.capabilities.add`, or allow it in the policy with a reason.",
        params: AddParams,
        check: added,
    }
}

fn added(p: &AddParams, cx: &mut Cx, w: &Workload<'_>) {
    for c in w.pod.containers() {
        let caps = c.security_context.and_then(|s| s.capabilities.as_ref());
        for (i, cap) in caps
            .and_then(|c| c.add.as_deref())
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            let bare = cap.strip_prefix("CAP_").unwrap_or(cap);
            if p.allowed
                .iter()
                .any(|a| a.strip_prefix("CAP_").unwrap_or(a) == bare)
            {
                continue;
            }
            cx.report(
                c.pointer
                    .key("securityContext")
                    .key("capabilities")
                    .key("add")
                    .index(i),
                format!("{} adds capability {cap}", c.label()),
            );
        }
    }
}
