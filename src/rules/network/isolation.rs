//! SL3001: a NetworkPolicy isolates every runner, in both directions.

use super::{NetworkParams, labels_pointer, runner_parts};
use crate::netpol::Direction;
use crate::resource::Workload;
use crate::rule::Cx;

crate::declare_rule! {
    /// Every runner must be isolated by a NetworkPolicy for ingress and for egress.
    ///
    /// A pod that no NetworkPolicy selects for a direction is unrestricted in it:
    /// untrusted code could reach the cloud metadata endpoint, the API server and
    /// every pod of the cluster, and anything could connect to it. A runner is
    /// a pod whose labels match `runnerSelector` (default `app: workflow-runner`).
    /// When no NetworkPolicy of the runner's namespace is among the inputs (or
    /// `--context`), isolation cannot be verified: that is reported as a warning.
    pub static RUNNER_ISOLATED = {
        code: "SL3001",
        name: "runner-network-isolated",
        severity: Error,
        category: Network,
        remediation: "Add a NetworkPolicy in the runner's namespace whose podSelector matches the runner labels, with `policyTypes: [Ingress, Egress]`, and pass it to sandbox-lint (as input or with --context).",
        params: NetworkParams,
        check: check,
    }
}

fn check(p: &NetworkParams, cx: &mut Cx, w: &Workload<'_>) {
    let Some((namespace, labels, _)) = runner_parts(&p.model, cx, w) else {
        return;
    };
    let cluster = cx.known();
    let ptr = labels_pointer(w);
    if !cluster.live && !cluster.policy_namespaces.contains(&namespace) {
        cx.report(
            ptr,
            format!(
                "cannot verify that a NetworkPolicy isolates this runner: no NetworkPolicy of namespace {namespace} is among the inputs"
            ),
        )
        .unverified()
        .help("Check the runner together with the NetworkPolicies of its namespace, or pass them with --context.");
        return;
    }
    for (direction, consequence) in [
        (Direction::Ingress, "any pod or address can connect to it"),
        (
            Direction::Egress,
            "untrusted code can reach the metadata endpoint, the API server, every pod and the internet",
        ),
    ] {
        if cluster
            .isolating(&namespace, labels, direction)
            .next()
            .is_some()
        {
            continue;
        }
        let report = cx.report(
            ptr.clone(),
            format!("no NetworkPolicy isolates this runner's {direction}: {consequence}"),
        );
        for policy in cluster.policies_in(&namespace) {
            let why = if policy.policy.selects(&namespace, labels) {
                format!(
                    "{} selects the runner but not for {direction}",
                    policy.policy.id()
                )
            } else {
                format!(
                    "{} does not select the runner (podSelector {})",
                    policy.policy.id(),
                    policy.policy.pod_selector
                )
            };
            report.related(policy.at.clone(), why);
        }
    }
}
