//! SL3008: the pod's RuntimeClass exists and runs gVisor.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::resource::Workload;
use crate::rule::Cx;

/// Parameters of `runtime-class-handler`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Params {
    /// The container runtime handler that sandboxes pods (gVisor's `runsc`).
    pub handlers: Vec<String>,
}

impl Default for Params {
    fn default() -> Self {
        Self {
            handlers: vec!["runsc".into()],
        }
    }
}

crate::declare_rule! {
    /// The RuntimeClass the pod names must exist with handler `runsc`.
    ///
    /// `runtimeClassName: gvisor` sandboxes nothing by itself: the RuntimeClass
    /// object decides which handler the kubelet uses, and a class named `gvisor`
    /// whose handler is `runc` runs untrusted code on the host kernel. A pod
    /// naming a class that does not exist is refused by the API server. The class
    /// is looked up among the inputs and `--context`.
    pub static RUNTIME_CLASS_HANDLER = {
        code: "SL3008",
        name: "runtime-class-handler",
        severity: Error,
        category: Network,
        remediation: "Define the RuntimeClass with `handler: runsc` (node.k8s.io/v1) and pass it with the pod or with --context.",
        params: Params,
        check: check,
    }
}

fn check(p: &Params, cx: &mut Cx, w: &Workload<'_>) {
    let Some(name) = w
        .pod
        .spec
        .runtime_class_name
        .as_deref()
        .filter(|n| !n.is_empty())
    else {
        return;
    };
    let cluster = cx.known();
    let ptr = w.pod.at("runtimeClassName");
    match cluster.runtime_classes.get(name) {
        None if cluster.live => {
            cx.report(
                ptr,
                format!("RuntimeClass {name} does not exist in the cluster: the pod cannot start"),
            );
        }
        None => {
            cx.report(
                ptr,
                format!("cannot verify RuntimeClass {name}: it is not among the inputs"),
            )
            .unverified();
        }
        Some(rc) if p.handlers.contains(&rc.handler) => {}
        Some(rc) => {
            cx.report(
                ptr,
                format!(
                    "RuntimeClass {name} uses handler `{}`, not {}: the pod does not run in gVisor",
                    rc.handler,
                    p.handlers.join(" or ")
                ),
            )
            .related(
                rc.handler_at.clone(),
                format!("handler of RuntimeClass {name}"),
            );
        }
    }
}
