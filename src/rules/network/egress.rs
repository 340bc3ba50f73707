//! SL3003: runners reach nothing beyond the allow-list.

use std::collections::BTreeMap;

use super::{NetworkParams, runner_related, subjects};
use crate::cluster::PodFacts;
use crate::netpol::{CompiledPolicy, Direction};
use crate::network;
use crate::resource::{Object, Resource};
use crate::rule::Cx;

crate::declare_rule! {
    /// A NetworkPolicy must let runners reach only DNS, HTTPS to public addresses and the callback API.
    ///
    /// Computed from what each egress rule actually selects, for the runners the
    /// policy selects: a rule that opens a path beyond the allow-list is reported
    /// at the peer that opens it, with the destination class it reaches — cloud
    /// metadata endpoints, the API server, the service range, private addresses,
    /// other runners, other pods of the runner's namespace, pods of other
    /// namespaces, or allowed destinations on other ports. `to: [podSelector: {}]`
    /// means every pod of the policy's own namespace, not "anywhere"; a
    /// `namespaceSelector` on a label other than `kubernetes.io/metadata.name`
    /// matches any namespace someone gives that label. Rules are numbered from 1.
    /// When no runner pod is among the inputs, the policy is judged for a runner
    /// as its podSelector and the runner selector describe it.
    pub static RUNNER_EGRESS = {
        code: "SL3003",
        name: "runner-egress",
        severity: Error,
        category: Network,
        remediation: "Narrow the rule: pods by `kubernetes.io/metadata.name` namespace and labels of the allowed destination, public HTTPS by an ipBlock `0.0.0.0/0` whose `except` lists the private, link-local, service and metadata ranges.",
        params: NetworkParams,
        object: check,
    }
}

/// A path beyond the allow-list: rule index, peer index, message.
type PathKey = (usize, Option<usize>, String);

fn check(p: &NetworkParams, cx: &mut Cx, r: &Resource) {
    let Object::NetworkPolicy(np) = &r.object else {
        return;
    };
    let Ok(policy) = CompiledPolicy::compile(np, cx.namespace_of(r)) else {
        return;
    };
    if !policy.affects(Direction::Egress) {
        return;
    }
    let cluster = cx.known();
    // The same path for several runners is one finding.
    let mut found: BTreeMap<PathKey, Vec<Option<&PodFacts>>> = BTreeMap::new();
    for subject in subjects(&p.model, cluster, &policy) {
        for v in network::violations(&p.model, cluster, &subject.runner(), &policy) {
            let message = format!(
                "egress rule {} of {} {}: runners can reach {}",
                v.rule + 1,
                policy.id(),
                v.allows,
                network::and_list(&v.consequences)
            );
            found
                .entry((v.rule, v.peer, message))
                .or_default()
                .push(subject.pod);
        }
    }
    for ((rule, peer, message), pods) in found {
        let mut ptr = r.base.key("spec").key("egress").index(rule);
        if let Some(i) = peer {
            ptr = ptr.key("to").index(i);
        }
        let report = cx.report(ptr, message);
        for pod in pods.into_iter().flatten().take(3) {
            let (at, why) = runner_related(pod);
            report.related(at, why);
        }
    }
}
