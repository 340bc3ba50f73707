//! Run requests and the one function that turns a request into a runner Pod.
//!
//! Every default and every bound comes from the active policy's own rule
//! parameters ([`Bounds::from_linter`]), so the dispatcher and the linter
//! cannot disagree: the runtime class (SL1001), the resource maxima (SL1022),
//! the emptyDir maximum (SL1016), the writable paths (SL1017), the deadline
//! maximum (SL2001), the node affinity (SL2004), the toleration (SL2005) and the
//! runner labels the NetworkPolicies select (the network rules' runnerSelector).
//! The built Pod is then linted by the same engine ([`super::verify`]).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Pod;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::linter::Linter;
use crate::quantity::Quantity;
use crate::rule::RuleDef;
use crate::rules;
use crate::rules::network::RawNetworkParams;
use crate::rules::network::isolation::RUNNER_ISOLATED;
use serde::de::DeserializeOwned;

/// What to run. Written as YAML or JSON (`sandbox-lint dispatch run run.yaml`)
/// or given as flags.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RunRequest {
    /// Pod name prefix (a random suffix is added). Default `run`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Namespace of the pod. Default `workflows`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Container image; pinned by tag or digest (`latest` is refused by SL1019).
    pub image: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    /// A directory whose files are placed, read-only, at /work.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace: Option<std::path::PathBuf>,
    /// Single files placed at /work: name in the workspace -> local path.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub files: BTreeMap<String, std::path::PathBuf>,
    /// Environment: plain values or references to Secrets (never secret values).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<EnvVar>,
    #[serde(default)]
    pub resources: Resources,
    /// Seconds the run may take. Default and maximum: the policy's (3600).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline_seconds: Option<i64>,
    /// Extra pod labels (the runner labels cannot be overridden).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// ServiceAccount of the pod. Default `workflow-runner`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account: Option<String>,
}

/// One environment variable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EnvVar {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_key_ref: Option<SecretKeyRef>,
}

/// A key of a Secret, resolved where the pod runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretKeyRef {
    pub name: String,
    pub key: String,
}

/// CPU, memory and ephemeral storage (requests = limits).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Resources {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ephemeral_storage: Option<String>,
}

/// What the policy allows a run, read from its rule parameters.
#[derive(Debug, Clone)]
pub struct Bounds {
    pub runtime_class: String,
    pub max_cpu: Quantity,
    pub max_memory: Quantity,
    pub max_ephemeral: Quantity,
    pub max_empty_dir: Quantity,
    pub max_deadline: i64,
    /// (key, values) the node affinity requires.
    pub node_affinity: Option<(String, Vec<String>)>,
    /// (key, value, effect) of the runner pool's taint.
    pub toleration: Option<(String, Option<String>, String)>,
    pub runner_labels: BTreeMap<String, String>,
    pub writable_paths: Vec<String>,
}

/// Why a request is refused before any pod exists.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("run request refused: {0}")]
pub struct RequestError(pub String);

/// The uid and gid runner processes get.
pub const RUNNER_ID: i64 = 1000;
/// Largest /tmp of a run.
const TMP_MAX_BYTES: i128 = 1 << 30;

/// The typed parameters of `def` in the linter's first policy, as the rule
/// itself reads them (its defaults fill what the policy leaves out); `None`
/// when the policy turns the rule off.
fn params<P: DeserializeOwned + Default>(linter: &Linter, def: &RuleDef) -> Option<P> {
    let raw = linter.primary().params(def)?;
    Some(serde_json::from_value(raw.clone()).unwrap_or_default())
}

impl Bounds {
    /// Reads the bounds of the linter's first policy. A rule it turns off
    /// leaves the checklist's value in place (the dispatcher never builds
    /// less), except the node affinity and toleration, which are then left out.
    pub fn from_linter(linter: &Linter) -> Bounds {
        use rules::pod::{resources, runtime_class, volumes};
        use rules::workload::{deadline, scheduling};
        let runtime_class = params::<runtime_class::Params>(linter, &runtime_class::RUNTIME_CLASS)
            .unwrap_or_default()
            .allowed
            .into_iter()
            .next()
            .unwrap_or_else(|| "gvisor".to_string());
        let mut max = resources::LimitParams::default().max;
        if let Some(p) = params::<resources::LimitParams>(linter, &resources::RESOURCE_LIMITS) {
            max.extend(p.max);
        }
        let max_of = |k: &str| max.get(k).cloned().unwrap_or_else(|| unreachable!());
        let node_affinity =
            params::<scheduling::AffinityParams>(linter, &scheduling::NODE_AFFINITY)
                .map(|p| (p.key, p.values));
        let toleration =
            params::<scheduling::TolerationParams>(linter, &scheduling::SANDBOX_TOLERATION)
                .map(|p| (p.key, Some(p.value), p.effect));
        let mut runner_labels = params::<RawNetworkParams>(linter, &RUNNER_ISOLATED)
            .unwrap_or_default()
            .runner_selector
            .match_labels;
        if runner_labels.is_empty() {
            runner_labels = RawNetworkParams::default().runner_selector.match_labels;
        }
        Bounds {
            runtime_class,
            max_cpu: max_of("cpu"),
            max_memory: max_of("memory"),
            max_ephemeral: max_of("ephemeral-storage"),
            max_empty_dir: params::<volumes::SizeParams>(linter, &volumes::EMPTY_DIR_SIZE_LIMIT)
                .unwrap_or_default()
                .max_size,
            max_deadline: params::<deadline::Params>(linter, &deadline::ACTIVE_DEADLINE)
                .unwrap_or_default()
                .max_seconds,
            node_affinity,
            toleration,
            runner_labels,
            writable_paths: params::<volumes::PathParams>(linter, &volumes::WRITABLE_MOUNT_PATH)
                .unwrap_or_default()
                .allowed_paths,
        }
    }
}

/// A resource value: the request's, within (0, max], or the maximum.
fn bounded(what: &str, given: Option<&str>, max: &Quantity) -> Result<Quantity, RequestError> {
    let Some(text) = given else {
        return Ok(max.clone());
    };
    let q = Quantity::parse(text).map_err(|e| RequestError(format!("{what}: {e}")))?;
    if !q.is_positive() {
        return Err(RequestError(format!("{what} must be positive, not {text}")));
    }
    if q > *max {
        return Err(RequestError(format!(
            "{what} {text} is above the policy's maximum {}",
            max.as_str()
        )));
    }
    Ok(q)
}

/// A DNS-1123 label: lower case alphanumerics and `-`, starting and ending alphanumeric.
fn is_dns_label(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// Builds the runner Pod for `req` named `<prefix>-<suffix>`. Every field the
/// checklist asks for is set here; the engine verifies the result.
pub fn build_pod(req: &RunRequest, b: &Bounds, suffix: &str) -> Result<Pod, RequestError> {
    let prefix = req.name.as_deref().unwrap_or("run");
    let name = format!("{prefix}-{suffix}");
    if !is_dns_label(&name, 63) {
        return Err(RequestError(format!(
            "name `{prefix}` must make a DNS label with its suffix: lower case letters, digits and `-`, at most {} characters",
            62 - suffix.len()
        )));
    }
    let namespace = req.namespace.as_deref().unwrap_or("workflows");
    if !is_dns_label(namespace, 63) {
        return Err(RequestError(format!(
            "namespace `{namespace}` is not a DNS label"
        )));
    }
    if req.image.trim().is_empty() {
        return Err(RequestError("an image is required".into()));
    }
    let cpu = bounded("cpu", req.resources.cpu.as_deref(), &b.max_cpu)?;
    let memory = bounded("memory", req.resources.memory.as_deref(), &b.max_memory)?;
    let ephemeral = bounded(
        "ephemeral-storage",
        req.resources.ephemeral_storage.as_deref(),
        &b.max_ephemeral,
    )?;
    let deadline = req.deadline_seconds.unwrap_or(b.max_deadline);
    if deadline <= 0 || deadline > b.max_deadline {
        return Err(RequestError(format!(
            "deadline {deadline} s is outside 1..={} s (the policy's maximum)",
            b.max_deadline
        )));
    }
    let mut env = Vec::new();
    for e in &req.env {
        if e.name.is_empty() || e.name.contains('=') {
            return Err(RequestError(format!(
                "bad environment variable name `{}`",
                e.name
            )));
        }
        match (&e.value, &e.secret_key_ref) {
            (Some(v), None) => env.push(json!({"name": e.name, "value": v})),
            (None, Some(s)) => env.push(json!({"name": e.name, "valueFrom": {"secretKeyRef": {"name": s.name, "key": s.key}}})),
            _ => {
                return Err(RequestError(format!(
                    "environment variable {} needs exactly one of value and secretKeyRef",
                    e.name
                )));
            }
        }
    }
    let mut labels = req.labels.clone();
    for (k, v) in &b.runner_labels {
        labels.insert(k.clone(), v.clone());
    }
    labels.insert("app.kubernetes.io/managed-by".into(), "sandbox-lint".into());
    // Scratch space: /tmp gets a quarter of the storage (at most 1 GiB), the
    // workspace the rest; each within the emptyDir maximum.
    let storage = ephemeral.whole_units();
    let tmp = (storage / 4).clamp(1, TMP_MAX_BYTES);
    let workspace = (storage - tmp)
        .max(1)
        .min(b.max_empty_dir.whole_units().max(1));
    let scratch = |path: &str| b.writable_paths.iter().any(|p| p == path);
    let (ws_path, tmp_path) = ("/workspace", "/tmp");
    if !scratch(ws_path) || !scratch(tmp_path) {
        return Err(RequestError(format!(
            "the policy's writable paths {:?} do not include /workspace and /tmp",
            b.writable_paths
        )));
    }
    let limits = json!({
        "cpu": cpu.as_str(),
        "memory": memory.as_str(),
        "ephemeral-storage": ephemeral.as_str(),
    });
    let mut container = json!({
        "name": "runner",
        "image": req.image,
        "workingDir": ws_path,
        "env": env,
        "securityContext": {
            "runAsNonRoot": true,
            "runAsUser": RUNNER_ID,
            "runAsGroup": RUNNER_ID,
            "allowPrivilegeEscalation": false,
            "privileged": false,
            "readOnlyRootFilesystem": true,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "resources": {
            "requests": {"cpu": cpu.as_str(), "memory": memory.as_str()},
            "limits": limits,
        },
        "volumeMounts": [
            {"name": "workspace", "mountPath": ws_path},
            {"name": "tmp", "mountPath": tmp_path},
            {"name": "work", "mountPath": "/work", "readOnly": true},
        ],
    });
    if !req.command.is_empty() {
        container["command"] = json!(req.command);
    }
    if !req.args.is_empty() {
        container["args"] = json!(req.args);
    }
    let mut spec = json!({
        "runtimeClassName": b.runtime_class,
        "restartPolicy": "Never",
        "activeDeadlineSeconds": deadline,
        "serviceAccountName": req.service_account.as_deref().unwrap_or("workflow-runner"),
        "automountServiceAccountToken": false,
        "enableServiceLinks": false,
        "securityContext": {
            "runAsNonRoot": true,
            "runAsUser": RUNNER_ID,
            "runAsGroup": RUNNER_ID,
            "fsGroup": RUNNER_ID,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [container],
        "volumes": [
            {"name": "workspace", "emptyDir": {"sizeLimit": workspace.to_string()}},
            {"name": "tmp", "emptyDir": {"sizeLimit": tmp.to_string()}},
            {"name": "work", "configMap": {"name": format!("{name}-work")}},
        ],
    });
    if let Some((key, values)) = &b.node_affinity {
        spec["affinity"] = json!({"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [{"key": key, "operator": "In", "values": values}]}]
        }}});
    }
    if let Some((key, value, effect)) = &b.toleration {
        let t = match value {
            Some(v) => json!({"key": key, "operator": "Equal", "value": v, "effect": effect}),
            None => json!({"key": key, "operator": "Exists", "effect": effect}),
        };
        spec["tolerations"] = json!([t]);
    }
    let pod = json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": spec,
    });
    serde_json::from_value(pod).map_err(|e| RequestError(format!("cannot build the pod: {e}")))
}
