//! SL3004: what runners need is not denied.

use super::{NetworkParams, labels_pointer, runner_parts};
use crate::cluster::Cluster;
use crate::netpol::Direction;
use crate::network::{self, Model, Runner};
use crate::resource::Workload;
use crate::rule::Cx;
use crate::runner_classes::Required;

crate::declare_rule! {
    /// The runner's NetworkPolicies must allow what it needs: DNS, HTTPS to public addresses, the callback API.
    ///
    /// A policy that isolates runners and forgets a required destination breaks
    /// every run, or pushes someone to "fix" it with a broad rule. The required
    /// ports are the `required` lists of the allowed destinations in the
    /// parameters. When the answer hangs on an object that is not among the
    /// inputs (the labels of the destination's namespace, named ports of its
    /// pods), the finding says "cannot verify".
    pub static RUNNER_REQUIRED_EGRESS = {
        code: "SL3004",
        name: "runner-required-egress",
        severity: Warning,
        category: Network,
        remediation: "Add an egress rule for the destination: DNS to `k8s-app: kube-dns` pods in namespace kube-system (selected with `kubernetes.io/metadata.name`), TCP 443 to an ipBlock of public addresses, TCP 4000 to `app: plue-api` pods in plue-system.",
        params: NetworkParams,
        check: check,
    }
}

/// The SL3004 findings about `runner` (messages, whether each is "cannot
/// verify") and their related locations: the policies that isolate it.
pub(crate) fn verdict(model: &Model, cluster: &Cluster, runner: &Runner<'_>) -> Required {
    let missing = network::missing(model, cluster, runner);
    if missing.is_empty() {
        return Required::default();
    }
    let findings = missing
        .iter()
        .map(|m| match &m.unverified {
            Some(why) => (
                format!("cannot verify that {} is allowed: {why}", m.what),
                true,
            ),
            None => (format!("{} is denied: {}", m.what, m.purpose), false),
        })
        .collect();
    let related = cluster
        .isolating(runner.namespace, runner.labels, Direction::Egress)
        .map(|policy| {
            (
                policy.at.clone(),
                format!("{} restricts this runner's egress", policy.policy.id()),
            )
        })
        .collect();
    Required { findings, related }
}

fn check(p: &NetworkParams, cx: &mut Cx, w: &Workload<'_>) {
    let Some((namespace, labels, ports)) = runner_parts(&p.model, cx, w) else {
        return;
    };
    let cluster = cx.known();
    let runner = Runner {
        namespace: &namespace,
        labels,
        ports: &ports,
    };
    // Runners no selector tells apart share one verdict.
    let verdict = cluster
        .analysis(&p.model)
        .required(&runner, || verdict(&p.model, cluster, &runner));
    let ptr = labels_pointer(w);
    for (message, unverified) in &verdict.findings {
        let report = cx.report(ptr.clone(), message.clone());
        if *unverified {
            report.unverified();
        }
        for (at, why) in &verdict.related {
            report.related(at.clone(), why.clone());
        }
    }
}
