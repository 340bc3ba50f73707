//! Runner pods that no selector can tell apart, judged once.
//!
//! What the network analysis says about a runner hangs on its namespace, its
//! named container ports and the values of the label keys that some selector
//! mentions: the podSelectors of the policies of its namespace and the pod
//! selectors of their peers (the only selectors that are ever matched against
//! a runner's labels), the runner selector and the destination selectors.
//! Runners that agree on all of these are one *class*: a selector matches
//! either all of them or none, so every verdict about one of them (which
//! policies isolate it, what it reaches, what it is denied) holds for all.
//! Labels that no selector mentions (a unique `run-id` on every runner) do not
//! split classes, so the work grows with the distinct cases, not with
//! runners × policies.
//!
//! The classes of the runner pods among the inputs are built once per index
//! and network model ([`crate::cluster::Cluster::analysis`]); verdicts about a
//! class are remembered there, so a second runner of the class (or a second
//! admission review) costs a key and a lookup.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, RwLock};

use crate::cluster::{Cluster, PodFacts};
use crate::finding::Location;
use crate::netpol::{CompiledPolicy, Labels, NamedPort, PolicyPeer, RulePeers, Selector};
use crate::network::{Model, Runner};

/// At most this many verdicts are remembered per index (reviews of pods with
/// ever new label values cannot grow it without bound); beyond it they are
/// computed each time, with the same result.
const REMEMBERED: usize = 4096;

/// What tells runners apart: namespace, the values of the keys that
/// selectors mention (in key order; `None`: absent), named ports as written.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClassKey {
    namespace: String,
    values: Vec<Option<String>>,
    ports: Vec<NamedPort>,
}

/// Runner pods of one namespace that no selector tells apart.
#[derive(Debug, Clone)]
pub struct RunnerClass {
    pub namespace: String,
    /// The labels of its first pod (any member's would do).
    pub labels: Labels,
    pub ports: Vec<NamedPort>,
    /// Its pods: positions in [`Cluster::pods`], ascending.
    pub pods: Vec<usize>,
}

impl RunnerClass {
    /// The class as the runner the analysis judges.
    pub fn runner(&self) -> Runner<'_> {
        Runner {
            namespace: &self.namespace,
            labels: &self.labels,
            ports: &self.ports,
        }
    }
}

/// A remembered verdict of SL3004 about a class: finding messages (and
/// whether each is "cannot verify"), and the related locations.
#[derive(Debug, Clone, Default)]
pub struct Required {
    pub findings: Vec<(String, bool)>,
    pub related: Vec<(Location, String)>,
}

/// The runner classes of one index for one network model.
#[derive(Debug)]
pub struct Analysis {
    /// Held so that the model (whose address identifies it) outlives this.
    model: Arc<Model>,
    /// The keys of the model's selectors.
    base: Vec<String>,
    /// By namespace: the keys any selector that can apply there mentions.
    keys: HashMap<String, Vec<String>>,
    /// By namespace: the classes of its runner pods, in the order of their
    /// first pod.
    classes: HashMap<String, Vec<RunnerClass>>,
    required: RwLock<HashMap<ClassKey, Arc<Required>>>,
}

/// Adds the keys a selector mentions.
pub fn selector_keys(selector: &Selector, out: &mut BTreeSet<String>) {
    for r in selector.requirements() {
        out.insert(r.key().to_string());
    }
}

/// Adds the keys of the selectors of a policy that are matched against pod
/// labels: its podSelector and its peers' pod selectors, both directions.
pub fn policy_keys(policy: &CompiledPolicy, out: &mut BTreeSet<String>) {
    selector_keys(&policy.pod_selector, out);
    for rule in policy.ingress.iter().chain(&policy.egress) {
        let RulePeers::Only(peers) = &rule.peers else {
            continue;
        };
        for peer in peers {
            match peer {
                PolicyPeer::PodsInPolicyNamespace { pods, .. }
                | PolicyPeer::PodsInNamespaces { pods, .. } => selector_keys(pods, out),
                PolicyPeer::AllPodsInNamespaces { .. } | PolicyPeer::IpBlock { .. } => {}
            }
        }
    }
}

fn key_of(keys: &[String], namespace: &str, labels: &Labels, ports: &[NamedPort]) -> ClassKey {
    ClassKey {
        namespace: namespace.to_string(),
        values: keys.iter().map(|k| labels.get(k).cloned()).collect(),
        ports: ports.to_vec(),
    }
}

/// Groups pods (in index order) into classes by `keys`.
fn group<'c>(
    keys: &[String],
    pods: impl Iterator<Item = (usize, &'c PodFacts)>,
) -> Vec<RunnerClass> {
    let mut at: HashMap<ClassKey, usize> = HashMap::new();
    let mut out: Vec<RunnerClass> = Vec::new();
    for (i, p) in pods {
        let key = key_of(keys, &p.namespace, &p.labels, &p.ports);
        match at.get(&key) {
            Some(&c) => {
                if let Some(class) = out.get_mut(c) {
                    class.pods.push(i);
                }
            }
            None => {
                at.insert(key, out.len());
                out.push(RunnerClass {
                    namespace: p.namespace.clone(),
                    labels: p.labels.clone(),
                    ports: p.ports.clone(),
                    pods: vec![i],
                });
            }
        }
    }
    out
}

impl Analysis {
    /// Whether this was built for `model`.
    pub fn is_for(&self, model: &Arc<Model>) -> bool {
        Arc::ptr_eq(&self.model, model)
    }

    /// Classes the runner pods of `cluster` for `model`.
    pub fn build(model: &Arc<Model>, cluster: &Cluster) -> Self {
        let mut base = BTreeSet::new();
        selector_keys(&model.runners, &mut base);
        for d in &model.pods {
            selector_keys(&d.selector, &mut base);
        }
        let mut by_ns: HashMap<String, BTreeSet<String>> = HashMap::new();
        for p in &cluster.policies {
            let keys = by_ns
                .entry(p.policy.namespace.clone())
                .or_insert_with(|| base.clone());
            policy_keys(&p.policy, keys);
        }
        let keys: HashMap<String, Vec<String>> = by_ns
            .into_iter()
            .map(|(ns, k)| (ns, k.into_iter().collect()))
            .collect();
        let base: Vec<String> = base.into_iter().collect();
        let namespaces: BTreeSet<&str> =
            cluster.pods.iter().map(|p| p.namespace.as_str()).collect();
        let classes = namespaces
            .into_iter()
            .map(|ns| {
                let k = keys.get(ns).unwrap_or(&base);
                let runners = cluster
                    .pods_in(ns)
                    .filter(|(_, p)| model.is_runner(&p.labels));
                (ns.to_string(), group(k, runners))
            })
            .collect();
        Analysis {
            model: model.clone(),
            base,
            keys,
            classes,
            required: RwLock::new(HashMap::new()),
        }
    }

    fn keys_of(&self, namespace: &str) -> &[String] {
        self.keys.get(namespace).unwrap_or(&self.base)
    }

    /// The classes of the runner pods that `policy` selects, in the order of
    /// their first pod. `policy` need not be among the index (an admission
    /// review of a new policy): when it mentions keys the index's policies do
    /// not, the runners of its namespace are grouped again with them.
    pub fn selected<'s>(
        &'s self,
        cluster: &Cluster,
        policy: &CompiledPolicy,
    ) -> Vec<Cow<'s, RunnerClass>> {
        let ns = policy.namespace.as_str();
        let known = self.keys_of(ns);
        let mut mentioned = BTreeSet::new();
        policy_keys(policy, &mut mentioned);
        if mentioned.iter().all(|k| known.contains(k)) {
            return self
                .classes
                .get(ns)
                .into_iter()
                .flatten()
                .filter(|c| policy.selects(ns, &c.labels))
                .map(Cow::Borrowed)
                .collect();
        }
        mentioned.extend(known.iter().cloned());
        let keys: Vec<String> = mentioned.into_iter().collect();
        let runners = cluster
            .pods_in(ns)
            .filter(|(_, p)| self.model.is_runner(&p.labels) && policy.selects(ns, &p.labels));
        group(&keys, runners).into_iter().map(Cow::Owned).collect()
    }

    /// The SL3004 verdict about `runner`'s class: remembered, or computed by
    /// `compute` (for `runner`) and remembered.
    pub fn required(
        &self,
        runner: &Runner<'_>,
        compute: impl FnOnce() -> Required,
    ) -> Arc<Required> {
        let key = key_of(
            self.keys_of(runner.namespace),
            runner.namespace,
            runner.labels,
            runner.ports,
        );
        if let Ok(map) = self.required.read()
            && let Some(hit) = map.get(&key)
        {
            return hit.clone();
        }
        let value = Arc::new(compute());
        if let Ok(mut map) = self.required.write()
            && map.len() < REMEMBERED
        {
            map.entry(key).or_insert_with(|| value.clone());
        }
        value
    }
}
