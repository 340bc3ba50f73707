//! SL3003: runners reach nothing beyond the allow-list.

use std::collections::BTreeMap;

use super::{NetworkParams, first_pods, runner_related, subject_classes};
use crate::cluster::{Cluster, PodFacts};
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
pub(crate) type PathKey = (usize, Option<usize>, String);

/// Shown with a finding: at most this many runner pods.
const SHOWN: usize = 3;

/// The paths of `policy` beyond the allow-list, in path order, each with the
/// first runner pods (in index order) it opens to. Each class of runners is
/// judged once and its messages formatted once; the same path for several
/// classes is one finding.
pub(crate) fn paths<'c>(
    model: &std::sync::Arc<network::Model>,
    cluster: &'c Cluster,
    policy: &CompiledPolicy,
) -> Vec<(PathKey, Vec<&'c PodFacts>)> {
    let mut found: BTreeMap<PathKey, Vec<(usize, &'c PodFacts)>> = BTreeMap::new();
    for class in subject_classes(model, cluster, policy) {
        for v in network::violations(model, cluster, &class.runner(), policy) {
            found
                .entry((v.rule, v.peer, message(policy, &v)))
                .or_default()
                .extend(class.pods.iter().take(SHOWN).copied());
        }
    }
    found
        .into_iter()
        .map(|(key, pods)| (key, first_pods(pods, SHOWN)))
        .collect()
}

fn message(policy: &CompiledPolicy, v: &network::Violation) -> String {
    format!(
        "egress rule {} of {} {}: runners can reach {}",
        v.rule + 1,
        policy.id(),
        v.allows,
        network::and_list(&v.consequences)
    )
}

/// [`paths`] computed runner by runner (the oracle of the tests).
#[cfg(test)]
pub(crate) fn paths_direct<'c>(
    model: &network::Model,
    cluster: &'c Cluster,
    policy: &CompiledPolicy,
) -> Vec<(PathKey, Vec<&'c PodFacts>)> {
    let mut found: BTreeMap<PathKey, Vec<Option<&PodFacts>>> = BTreeMap::new();
    for subject in super::direct::subjects(model, cluster, policy) {
        for v in network::violations(model, cluster, &subject.runner(), policy) {
            found
                .entry((v.rule, v.peer, message(policy, &v)))
                .or_default()
                .push(subject.pod);
        }
    }
    found
        .into_iter()
        .map(|(key, pods)| (key, pods.into_iter().flatten().take(SHOWN).collect()))
        .collect()
}

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
    for ((rule, peer, message), pods) in paths(&p.model, cluster, &policy) {
        let mut ptr = r.base.key("spec").key("egress").index(rule);
        if let Some(i) = peer {
            ptr = ptr.key("to").index(i);
        }
        let report = cx.report(ptr, message);
        for pod in pods {
            let (at, why) = runner_related(pod);
            report.related(at, why);
        }
    }
}
