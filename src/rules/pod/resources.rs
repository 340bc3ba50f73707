//! SL1021-SL1022: resource requests and bounded limits.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use k8s_openapi::api::core::v1::ResourceRequirements;

use crate::quantity::Quantity;
use crate::resource::{ContainerKind, Workload};
use crate::rule::Cx;

/// Parameters of `resource-requests`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct RequestParams {
    /// Resources every container must request.
    pub required: Vec<String>,
}

impl Default for RequestParams {
    fn default() -> Self {
        Self {
            required: vec!["cpu".into(), "memory".into()],
        }
    }
}

crate::declare_rule! {
    /// Every container must request cpu and memory.
    ///
    /// Requests are what the scheduler reserves: without them a node is
    /// overcommitted by runners and the first to be starved is whoever shares it.
    /// A request left out while its limit is set counts as set, because the API
    /// server defaults the request to the limit.
    pub static RESOURCE_REQUESTS = {
        code: "SL1021",
        name: "resource-requests",
        severity: Error,
        category: PodSecurity,
        remediation: "Set `resources.requests.cpu` and `resources.requests.memory` (the seeds use 500m and 1Gi).",
        params: RequestParams,
        check: requests,
    }
}

fn has(
    r: Option<&ResourceRequirements>,
    which: fn(
        &ResourceRequirements,
    )
        -> Option<&BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity>>,
    key: &str,
) -> bool {
    r.and_then(which).is_some_and(|m| m.contains_key(key))
}

fn requests(p: &RequestParams, cx: &mut Cx, w: &Workload<'_>) {
    for c in w
        .pod
        .containers()
        .filter(|c| c.kind != ContainerKind::Ephemeral)
    {
        let missing: Vec<&str> = p
            .required
            .iter()
            .filter(|k| {
                !has(c.resources, |r| r.requests.as_ref(), k)
                    && !has(c.resources, |r| r.limits.as_ref(), k)
            })
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            cx.report(
                c.pointer.key("resources").key("requests"),
                format!("{} does not request {}", c.label(), missing.join(", ")),
            );
        }
    }
}

/// Parameters of `resource-limits`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct LimitParams {
    /// Resources every container must limit, each with the largest allowed limit.
    pub max: BTreeMap<String, Quantity>,
}

impl Default for LimitParams {
    fn default() -> Self {
        let q = |s: &str| Quantity::parse(s).unwrap_or_else(|_| unreachable!());
        Self {
            max: BTreeMap::from([
                ("cpu".to_string(), q("2")),
                ("memory".to_string(), q("4Gi")),
                ("ephemeral-storage".to_string(), q("10Gi")),
            ]),
        }
    }
}

crate::declare_rule! {
    /// Every container must limit cpu, memory and ephemeral-storage, each at most a maximum (defaults 2, 4Gi, 10Gi).
    ///
    /// Limits are what the kernel enforces: without them one runner's fork bomb or
    /// memory leak takes the node. Quantities are compared exactly in every
    /// notation Kubernetes accepts (500m, 0.5, 1e3, 1Gi). A pod-level limit
    /// (`spec.resources`) counts for containers that set none.
    pub static RESOURCE_LIMITS = {
        code: "SL1022",
        name: "resource-limits",
        severity: Error,
        category: PodSecurity,
        remediation: "Set `resources.limits` for cpu, memory and ephemeral-storage within the policy's maxima (the seeds use 2, 4Gi and 10Gi).",
        params: LimitParams,
        check: limits,
    }
}

fn limits(p: &LimitParams, cx: &mut Cx, w: &Workload<'_>) {
    let pod_limits = w
        .pod
        .spec
        .resources
        .as_ref()
        .and_then(|r| r.limits.as_ref());
    if let Some(pl) = pod_limits {
        for (key, value) in pl {
            if let Some(max) = p.max.get(key) {
                over_max(
                    cx,
                    w.pod.at("resources").key("limits").key(key),
                    "the pod",
                    key,
                    &value.0,
                    max,
                );
            }
        }
    }
    for c in w
        .pod
        .containers()
        .filter(|c| c.kind != ContainerKind::Ephemeral)
    {
        let limits = c.resources.and_then(|r| r.limits.as_ref());
        let mut missing = Vec::new();
        for (key, max) in &p.max {
            match limits.and_then(|l| l.get(key)) {
                Some(v) => over_max(
                    cx,
                    c.pointer.key("resources").key("limits").key(key),
                    &c.label(),
                    key,
                    &v.0,
                    max,
                ),
                None if pod_limits.is_some_and(|pl| pl.contains_key(key)) => {}
                None => missing.push(key.as_str()),
            }
        }
        if !missing.is_empty() {
            cx.report(
                c.pointer.key("resources").key("limits"),
                format!("{} has no {} limit", c.label(), missing.join(", ")),
            );
        }
    }
}

fn over_max(
    cx: &mut Cx,
    ptr: crate::pointer::Pointer,
    who: &str,
    key: &str,
    value: &str,
    max: &Quantity,
) {
    match Quantity::parse(value) {
        Err(e) => {
            cx.report(ptr, format!("{who} {key} limit: {e}"));
        }
        Ok(q) if !q.is_positive() => {
            cx.report(
                ptr,
                format!("{who} {key} limit {q} is no limit (zero means unlimited)"),
            );
        }
        Ok(q) if q > *max => {
            cx.report(
                ptr,
                format!("{who} {key} limit {q} exceeds the maximum {max}"),
            );
        }
        Ok(_) => {}
    }
}
