//! SL1001: the pod runs under an allowed (sandboxing) runtime class.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::resource::Workload;
use crate::rule::Cx;

/// Parameters of `runtime-class`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Params {
    /// RuntimeClass names that sandbox the pod.
    pub allowed: Vec<String>,
}

impl Default for Params {
    fn default() -> Self {
        Self {
            allowed: vec!["gvisor".to_string()],
        }
    }
}

crate::declare_rule! {
    /// The pod must run under an allowed runtime class (by default `gvisor`).
    ///
    /// Untrusted code is only contained when its syscalls go to gVisor's user-space
    /// kernel instead of the host kernel. Without `runtimeClassName`, the pod runs
    /// under the node's default runtime (runc), and every other control on this list
    /// is one kernel bug away from a host escape.
    pub static RUNTIME_CLASS = {
        code: "SL1001",
        name: "runtime-class",
        severity: Error,
        category: PodSecurity,
        remediation: "Set `spec.runtimeClassName: gvisor` (or another allowed sandboxing RuntimeClass) in the pod spec.",
        params: Params,
        check: check,
    }
}

fn check(p: &Params, cx: &mut Cx, w: &Workload<'_>) {
    let ptr = w.pod.at("runtimeClassName");
    match w.pod.spec.runtime_class_name.as_deref() {
        Some(rc) if p.allowed.iter().any(|a| a == rc) => {}
        Some(rc) => {
            cx.report(
                ptr,
                format!(
                    "runtimeClassName `{rc}` is not a sandboxing runtime class (allowed: {})",
                    p.allowed.join(", ")
                ),
            );
        }
        None => {
            cx.report(
                ptr,
                "runtimeClassName is not set: the pod runs under the node's default runtime, not gVisor",
            );
        }
    }
}
