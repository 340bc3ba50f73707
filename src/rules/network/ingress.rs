//! SL3002: nothing connects to runners.

use super::{NetworkParams, first_pods, runner_related, subject_classes};
use crate::netpol::{CompiledPolicy, Direction};
use crate::resource::{Object, Resource};
use crate::rule::Cx;

crate::declare_rule! {
    /// A NetworkPolicy must not allow any ingress to runners.
    ///
    /// Runners never receive connections: they pull their work and push their
    /// results. Every ingress rule of a policy that selects runners opens them to
    /// other pods or addresses, which could then talk to the untrusted code (or
    /// the code could serve them). Ingress isolation itself is `runner-network-isolated`.
    pub static RUNNER_INGRESS = {
        code: "SL3002",
        name: "runner-ingress",
        severity: Error,
        category: Network,
        remediation: "Remove the ingress rules of policies that select runners (keep `Ingress` in policyTypes with `ingress: []`).",
        params: super::NetworkParams,
        object: check,
    }
}

fn check(p: &NetworkParams, cx: &mut Cx, r: &Resource) {
    let Object::NetworkPolicy(np) = &r.object else {
        return;
    };
    let Ok(policy) = CompiledPolicy::compile(np, cx.namespace_of(r)) else {
        return;
    };
    if !policy.affects(Direction::Ingress) || policy.ingress.is_empty() {
        return;
    }
    let cluster = cx.known();
    let runners = subject_classes(&p.model, cluster, &policy);
    if runners.is_empty() {
        return;
    }
    // The first three runner pods, in index order.
    let shown = first_pods(
        runners.iter().flat_map(|c| c.pods.iter().take(3).copied()),
        3,
    );
    for rule in &policy.ingress {
        let report = cx.report(
            r.base.key("spec").key("ingress").index(rule.index),
            format!(
                "ingress rule {} of {} {rule}: they can connect to runners",
                rule.index + 1,
                policy.id()
            ),
        );
        for pod in shown.iter().copied() {
            let (at, why) = runner_related(pod);
            report.related(at, why);
        }
    }
}
