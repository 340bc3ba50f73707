//! SL3007: nothing is granted to the runners' ServiceAccount.

use std::collections::BTreeSet;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::policy::file::LabelSelector;
use crate::resource::{Object, Resource};
use crate::rule::Cx;

/// Parameters of `runner-rbac`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Params {
    /// Pod labels that make a pod a runner: the ServiceAccounts of those pods
    /// among the inputs are runner ServiceAccounts.
    pub runner_selector: LabelSelector,
    /// Runner ServiceAccounts besides those (`namespace/name`).
    pub service_accounts: Vec<String>,
}

impl Default for Params {
    fn default() -> Self {
        Self {
            runner_selector: LabelSelector {
                match_labels: [("app".to_string(), "workflow-runner".to_string())]
                    .into_iter()
                    .collect(),
                match_expressions: Vec::new(),
            },
            service_accounts: vec!["workflows/workflow-runner".into()],
        }
    }
}

crate::declare_rule! {
    /// No RoleBinding or ClusterRoleBinding may grant anything to a runner's ServiceAccount.
    ///
    /// Runners need no Kubernetes API access. A binding to their ServiceAccount
    /// (directly, as the user `system:serviceaccount:<ns>:<name>`, or through the
    /// groups `system:serviceaccounts`, `system:serviceaccounts:<ns>` or
    /// `system:authenticated`) turns any leaked or mounted token into API access
    /// for untrusted code. The runner ServiceAccounts are those of the pods the
    /// runner selector matches among the inputs, plus `serviceAccounts`.
    pub static RUNNER_RBAC = {
        code: "SL3007",
        name: "runner-rbac",
        severity: Error,
        category: Network,
        remediation: "Remove the subject from the binding; give runners a ServiceAccount of their own that nothing is bound to.",
        params: Params,
        object: check,
    }
}

fn check(p: &Params, cx: &mut Cx, r: &Resource) {
    let (subjects, role_ref, binding_ns) = match &r.object {
        Object::RoleBinding(b) => (
            b.subjects.as_deref(),
            &b.role_ref,
            Some(cx.namespace_of(r).to_string()),
        ),
        Object::ClusterRoleBinding(b) => (b.subjects.as_deref(), &b.role_ref, None),
        _ => return,
    };
    let role = format!("{} {}", role_ref.kind, role_ref.name);
    let Ok(selector) = p.runner_selector.to_selector() else {
        return;
    };
    let cluster = cx.known();
    let mut runners: BTreeSet<(String, String)> = p
        .service_accounts
        .iter()
        .filter_map(|s| s.split_once('/'))
        .map(|(ns, name)| (ns.to_string(), name.to_string()))
        .collect();
    runners.extend(
        cluster
            .pods
            .iter()
            .filter(|pod| selector.matches(&pod.labels))
            .map(|pod| (pod.namespace.clone(), pod.service_account.clone())),
    );
    let what = match &binding_ns {
        Some(ns) => format!("RoleBinding {ns}/{}", r.name),
        None => format!("ClusterRoleBinding {}", r.name),
    };
    for (i, s) in subjects.unwrap_or_default().iter().enumerate() {
        let hit: Vec<String> = runners
            .iter()
            .filter(|(ns, name)| grants(s, binding_ns.as_deref(), ns, name))
            .map(|(ns, name)| format!("{ns}/{name}"))
            .collect();
        if hit.is_empty() {
            continue;
        }
        let to = if s.kind == "ServiceAccount" {
            format!("the runner ServiceAccount {}", hit.join(", "))
        } else {
            format!(
                "{} {}, which includes the runner ServiceAccount {}",
                s.kind,
                s.name,
                hit.join(", ")
            )
        };
        cx.report(
            r.base.key("subjects").index(i),
            format!(
                "{what} grants {role} to {to}: untrusted code that gets hold of its token has that access"
            ),
        );
    }
}

/// Whether a subject of a binding (in `binding_ns`, `None` for cluster
/// bindings) covers the ServiceAccount `ns/name`, as the RBAC authorizer
/// decides (`appliesToUser`).
fn grants(
    s: &k8s_openapi::api::rbac::v1::Subject,
    binding_ns: Option<&str>,
    ns: &str,
    name: &str,
) -> bool {
    match s.kind.as_str() {
        "ServiceAccount" => {
            let sa_ns = s
                .namespace
                .as_deref()
                .filter(|n| !n.is_empty())
                .or(binding_ns);
            s.name == name && sa_ns == Some(ns)
        }
        "User" => s.name == format!("system:serviceaccount:{ns}:{name}"),
        "Group" => {
            s.name == "system:serviceaccounts"
                || s.name == "system:authenticated"
                || s.name == format!("system:serviceaccounts:{ns}")
        }
        _ => false,
    }
}
