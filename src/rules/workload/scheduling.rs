//! SL2004-SL2005: runners land only on the dedicated gVisor node pool.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use k8s_openapi::api::core::v1::NodeSelectorTerm;

use crate::resource::Workload;
use crate::rule::Cx;

/// Parameters of `node-affinity`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct AffinityParams {
    /// Node label key of the runner pool.
    pub key: String,
    /// Accepted values of that label.
    pub values: Vec<String>,
}

impl Default for AffinityParams {
    fn default() -> Self {
        Self {
            key: "workload-type".into(),
            values: vec!["workflow-runner".into()],
        }
    }
}

crate::declare_rule! {
    /// The pod must require nodes of the runner pool (`workload-type In [workflow-runner]`).
    ///
    /// Runners belong on dedicated nodes where gVisor is installed and nothing else
    /// runs, so a sandbox escape lands among other sandboxes, not next to
    /// production workloads. Only a *required* rule guarantees that: every
    /// nodeSelectorTerm (terms are ORed) must pin the label to allowed values, or
    /// `nodeSelector` must. Preferred affinity is not enough.
    pub static NODE_AFFINITY = {
        code: "SL2004",
        name: "node-affinity",
        severity: Error,
        category: Workload,
        remediation: "Add `affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution` with a matchExpression `workload-type In [workflow-runner]` to every nodeSelectorTerm.",
        params: AffinityParams,
        check: affinity,
    }
}

/// True when the term only admits nodes whose `key` label is one of `values`.
fn term_pins(term: &NodeSelectorTerm, p: &AffinityParams) -> bool {
    term.match_expressions.iter().flatten().any(|e| {
        e.key == p.key
            && e.operator == "In"
            && e.values
                .as_deref()
                .is_some_and(|vs| !vs.is_empty() && vs.iter().all(|v| p.values.contains(v)))
    })
}

/// The pod's RuntimeClass among the inputs, when it names one.
fn runtime_class<'a>(
    cx: &Cx<'a>,
    w: &Workload<'_>,
) -> Option<(String, Option<&'a crate::cluster::RuntimeClassFacts>)> {
    let name = w
        .pod
        .spec
        .runtime_class_name
        .as_deref()
        .filter(|n| !n.is_empty())?;
    Some((name.to_string(), cx.known().runtime_classes.get(name)))
}

fn affinity(p: &AffinityParams, cx: &mut Cx, w: &Workload<'_>) {
    let spec = w.pod.spec;
    let by_selector = spec
        .node_selector
        .as_ref()
        .and_then(|s| s.get(&p.key))
        .is_some_and(|v| p.values.contains(v));
    if by_selector {
        return;
    }
    // The RuntimeClass admission controller merges `scheduling.nodeSelector`
    // into the pod's (and refuses the pod on a conflict).
    let rc = runtime_class(cx, w);
    if let Some((_, Some(rc))) = &rc
        && rc
            .node_selector
            .get(&p.key)
            .is_some_and(|v| p.values.contains(v))
        && spec
            .node_selector
            .as_ref()
            .and_then(|s| s.get(&p.key))
            .is_none()
    {
        return;
    }
    // nodeSelector and affinity are ANDed: a selector for another pool wins.
    if let Some(other) = spec.node_selector.as_ref().and_then(|s| s.get(&p.key)) {
        cx.report(
            w.pod.at("nodeSelector").key(&p.key),
            format!(
                "nodeSelector sends the pod to {}={other}, not the runner pool ({})",
                p.key,
                p.values.join(", ")
            ),
        );
        return;
    }
    let required_ptr = w
        .pod
        .at("affinity")
        .key("nodeAffinity")
        .key("requiredDuringSchedulingIgnoredDuringExecution");
    let required = spec
        .affinity
        .as_ref()
        .and_then(|a| a.node_affinity.as_ref())
        .and_then(|n| {
            n.required_during_scheduling_ignored_during_execution
                .as_ref()
        });
    let want = format!("{} In [{}]", p.key, p.values.join(", "));
    let Some(required) = required else {
        match rc {
            Some((name, None)) => {
                cx.report(
                    required_ptr,
                    format!("cannot verify that the pod requires runner nodes ({want}): it does not itself, and RuntimeClass {name}, whose scheduling could, is not among the inputs"),
                )
                .unverified();
            }
            _ => {
                cx.report(
                    required_ptr,
                    format!("the pod does not require runner nodes ({want})"),
                );
            }
        }
        return;
    };
    if required.node_selector_terms.is_empty() {
        cx.report(
            required_ptr.key("nodeSelectorTerms"),
            format!("no nodeSelectorTerms require {want}"),
        );
    }
    for (i, term) in required.node_selector_terms.iter().enumerate() {
        if !term_pins(term, p) {
            cx.report(
                required_ptr.key("nodeSelectorTerms").index(i),
                format!("nodeSelectorTerm {i} admits nodes outside the runner pool (it does not require {want})"),
            );
        }
    }
}

/// Parameters of `sandbox-toleration`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct TolerationParams {
    /// Taint key of the gVisor node pool.
    pub key: String,
    /// Taint value.
    pub value: String,
    /// Taint effect.
    pub effect: String,
}

impl Default for TolerationParams {
    fn default() -> Self {
        Self {
            key: "sandbox.gke.io/runtime".into(),
            value: "gvisor".into(),
            effect: "NoSchedule".into(),
        }
    }
}

crate::declare_rule! {
    /// The pod must tolerate the gVisor node pool's taint (`sandbox.gke.io/runtime=gvisor:NoSchedule`).
    ///
    /// The runner pool is tainted so that nothing else is scheduled there; a runner
    /// without the toleration cannot be scheduled on the pool its affinity requires
    /// and stays Pending. Tolerations are matched as the scheduler does: same key,
    /// `Equal` with the same value or `Exists`, and the same effect or none.
    pub static SANDBOX_TOLERATION = {
        code: "SL2005",
        name: "sandbox-toleration",
        severity: Error,
        category: Workload,
        remediation: "Add a toleration `{key: sandbox.gke.io/runtime, operator: Equal, value: gvisor, effect: NoSchedule}`.",
        params: TolerationParams,
        check: toleration,
    }
}

fn toleration(p: &TolerationParams, cx: &mut Cx, w: &Workload<'_>) {
    // The RuntimeClass admission controller appends `scheduling.tolerations`.
    let rc = runtime_class(cx, w);
    let from_class = rc
        .as_ref()
        .and_then(|(_, f)| *f)
        .map(|f| f.tolerations.as_slice())
        .unwrap_or_default();
    let tolerates = w
        .pod
        .spec
        .tolerations
        .iter()
        .flatten()
        .chain(from_class)
        .any(|t| {
            let key_ok = match t.key.as_deref() {
                None | Some("") => t.operator.as_deref() == Some("Exists"),
                Some(k) => k == p.key,
            };
            let value_ok = match t.operator.as_deref() {
                Some("Exists") => true,
                None | Some("Equal") => t.value.as_deref().unwrap_or("") == p.value,
                Some(_) => false,
            };
            let effect_ok = t
                .effect
                .as_deref()
                .is_none_or(|e| e.is_empty() || e == p.effect);
            key_ok && value_ok && effect_ok
        });
    if tolerates {
        return;
    }
    match rc {
        Some((name, None)) => {
            cx.report(
                w.pod.at("tolerations"),
                format!(
                    "cannot verify that the pod tolerates the runner pool taint {}={}:{}: it does not itself, and RuntimeClass {name}, whose scheduling could, is not among the inputs",
                    p.key, p.value, p.effect
                ),
            )
            .unverified();
        }
        _ => {
            cx.report(
                w.pod.at("tolerations"),
                format!(
                    "the pod does not tolerate the runner pool taint {}={}:{}",
                    p.key, p.value, p.effect
                ),
            );
        }
    }
}
