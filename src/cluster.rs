//! What one run knows about the cluster beyond the object being judged: the
//! Namespaces, NetworkPolicies, ServiceAccounts, RBAC bindings, RuntimeClasses
//! and pods (with their labels, ports and ServiceAccount) among the inputs and
//! the `--context` files. Cross-resource rules look things up here; an object
//! that is not here is "not among the inputs", which those rules report as
//! "cannot verify", never as a pass.
//!
//! Built by [`Cluster::add`] from decoded objects, with a locator that turns a
//! pointer inside the object into a file location (for related locations).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use k8s_openapi::api::core::v1::Toleration;

use crate::finding::{Location, ObjectRef};
use crate::netpol::{CompiledPolicy, Direction, Labels, NAMESPACE_NAME_LABEL, NamedPort};
use crate::pointer::Pointer;
use crate::resource::{Object, Resource};

/// A Namespace object.
#[derive(Debug, Clone)]
pub struct NamespaceFacts {
    /// Its labels as written (the automatic name label is added on lookup).
    pub labels: Labels,
    pub at: Location,
}

/// A NetworkPolicy the API server would accept, compiled.
#[derive(Debug, Clone)]
pub struct PolicyFacts {
    pub policy: Arc<CompiledPolicy>,
    /// The object (its `metadata`).
    pub at: Location,
    /// Where each rule is: `spec.ingress[i]` and `spec.egress[i]`.
    pub ingress_at: Vec<Location>,
    pub egress_at: Vec<Location>,
}

impl PolicyFacts {
    /// The location of rule `index` of `direction` (the object when unknown).
    pub fn rule_at(&self, direction: Direction, index: usize) -> &Location {
        let rules = match direction {
            Direction::Ingress => &self.ingress_at,
            Direction::Egress => &self.egress_at,
        };
        rules.get(index).unwrap_or(&self.at)
    }
}

/// A ServiceAccount object.
#[derive(Debug, Clone)]
pub struct ServiceAccountFacts {
    /// `automountServiceAccountToken`.
    pub automount: Option<bool>,
    /// The field when set, the object otherwise.
    pub at: Location,
}

/// One subject of a RoleBinding or ClusterRoleBinding.
#[derive(Debug, Clone)]
pub struct SubjectFacts {
    pub kind: String,
    pub name: String,
    /// As written (a ServiceAccount subject of a RoleBinding without one means
    /// the binding's namespace).
    pub namespace: Option<String>,
    pub at: Location,
}

/// A RoleBinding or ClusterRoleBinding.
#[derive(Debug, Clone)]
pub struct BindingFacts {
    pub object: Arc<ObjectRef>,
    /// `None` for ClusterRoleBindings.
    pub namespace: Option<String>,
    /// `Role/name` or `ClusterRole/name`.
    pub role: String,
    pub subjects: Vec<SubjectFacts>,
}

/// A RuntimeClass object.
#[derive(Debug, Clone)]
pub struct RuntimeClassFacts {
    pub handler: String,
    pub handler_at: Location,
    /// `scheduling.nodeSelector`, merged into the pod's nodeSelector at admission.
    pub node_selector: BTreeMap<String, String>,
    /// `scheduling.tolerations`, appended to the pod's at admission.
    pub tolerations: Vec<Toleration>,
    pub at: Location,
}

/// A pod, or the pod template of a workload.
#[derive(Debug, Clone)]
pub struct PodFacts {
    pub object: Arc<ObjectRef>,
    pub namespace: String,
    /// The pod's (template's) labels.
    pub labels: Labels,
    /// Named container ports (to resolve named ports of policies).
    pub ports: Vec<NamedPort>,
    /// `serviceAccountName` (`default` when unset).
    pub service_account: String,
    /// The pod's labels (or metadata) in its file.
    pub at: Location,
}

/// Everything the run knows about the cluster.
#[derive(Debug, Clone, Default)]
pub struct Cluster {
    pub namespaces: BTreeMap<String, NamespaceFacts>,
    pub policies: Vec<PolicyFacts>,
    /// Namespaces with at least one NetworkPolicy among the inputs, valid or not.
    pub policy_namespaces: BTreeSet<String>,
    /// By `(namespace, name)`.
    pub service_accounts: BTreeMap<(String, String), ServiceAccountFacts>,
    pub bindings: Vec<BindingFacts>,
    pub runtime_classes: BTreeMap<String, RuntimeClassFacts>,
    pub pods: Vec<PodFacts>,
    /// True when the index is a live cluster's complete state (the webhook's
    /// synced watches): an object absent from it does not exist, and rules
    /// say so as a fact rather than "cannot verify".
    pub live: bool,
    /// Named ports of the pods a destination selects, computed once.
    ports_memo: PortsMemo,
    /// Policies and pods by namespace, computed once.
    by_namespace: Derived<NamespaceIndex>,
    /// The runner classes of each network model, computed once per model.
    analyses: Derived<std::sync::RwLock<Vec<Arc<crate::runner_classes::Analysis>>>>,
}

/// A value derived from the index on first use; empty again when cloned or
/// merged into (the index is not changed once it is being looked up).
#[derive(Default)]
struct Derived<T>(std::sync::OnceLock<T>);

impl<T> Clone for Derived<T> {
    fn clone(&self) -> Self {
        Self(std::sync::OnceLock::new())
    }
}

impl<T> std::fmt::Debug for Derived<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Derived")
    }
}

/// Positions in [`Cluster::policies`] and [`Cluster::pods`], by namespace,
/// in index order.
#[derive(Debug, Default)]
struct NamespaceIndex {
    policies: std::collections::HashMap<String, Vec<usize>>,
    pods: std::collections::HashMap<String, Vec<usize>>,
}

/// A cache of per-destination lookups; empty again when cloned or merged into.
#[derive(Default)]
struct PortsMemo(std::sync::RwLock<std::collections::HashMap<String, Option<Vec<NamedPort>>>>);

impl Clone for PortsMemo {
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl std::fmt::Debug for PortsMemo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PortsMemo")
    }
}

/// The kinds the cluster index keeps besides pods and workloads.
pub const INDEXED_KINDS: [&str; 6] = [
    "Namespace",
    "NetworkPolicy",
    "ServiceAccount",
    "RoleBinding",
    "ClusterRoleBinding",
    "RuntimeClass",
];

/// Whether `text` holds one of `words` as a whole word, or any backslash (a
/// quoted string with escapes could spell anything). A `false` is certain.
fn mentions(text: &str, words: &[&str]) -> bool {
    if text.contains('\\') {
        return true;
    }
    let bytes = text.as_bytes();
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    words.iter().any(|w| {
        text.match_indices(w).any(|(i, _)| {
            let before = i.checked_sub(1).and_then(|j| bytes.get(j)).copied();
            let after = bytes.get(i + w.len()).copied();
            !before.is_some_and(word) && !after.is_some_and(word)
        })
    })
}

/// Whether a text (a file or one document) may hold an object of an
/// [`INDEXED_KINDS`] kind: one of the kind names as a whole word.
pub fn may_hold_indexed_kinds(text: &str) -> bool {
    mentions(text, &INDEXED_KINDS)
}

/// Whether an object's rules need every pod of the run (NetworkPolicies and
/// RBAC bindings): files holding one are judged after all others.
pub fn defers(resource: &Resource) -> bool {
    matches!(
        resource.object,
        Object::NetworkPolicy(_) | Object::RoleBinding(_) | Object::ClusterRoleBinding(_)
    )
}

impl Cluster {
    /// Adds one object. `default_namespace` stands in for an absent
    /// `metadata.namespace`; `locate` turns a pointer inside the object's
    /// document into a location. Pods and workloads are added only when
    /// `with_pods` is set.
    pub fn add(
        &mut self,
        r: &Resource,
        default_namespace: &str,
        with_pods: bool,
        locate: &dyn Fn(&Pointer) -> Location,
    ) {
        let ns = r
            .namespace
            .as_deref()
            .filter(|n| !n.is_empty())
            .unwrap_or(default_namespace)
            .to_string();
        let meta = r.base.key("metadata");
        match &r.object {
            Object::Namespace(_) => {
                self.namespaces.insert(
                    r.name.clone(),
                    NamespaceFacts {
                        labels: r.labels.clone(),
                        at: locate(&meta.key("labels")),
                    },
                );
            }
            Object::NetworkPolicy(np) => {
                self.policy_namespaces.insert(ns.clone());
                if let Ok(policy) = CompiledPolicy::compile(np, &ns) {
                    let spec = r.base.key("spec");
                    let rules = |section: &str, n: usize| -> Vec<Location> {
                        (0..n)
                            .map(|i| locate(&spec.key(section).index(i)))
                            .collect()
                    };
                    self.policies.push(PolicyFacts {
                        ingress_at: rules("ingress", policy.ingress.len()),
                        egress_at: rules("egress", policy.egress.len()),
                        policy: Arc::new(policy),
                        at: locate(&meta),
                    });
                }
            }
            Object::ServiceAccount(sa) => {
                let automount = sa.automount_service_account_token;
                let at = if automount.is_some() {
                    locate(&r.base.key("automountServiceAccountToken"))
                } else {
                    locate(&meta)
                };
                self.service_accounts
                    .insert((ns, r.name.clone()), ServiceAccountFacts { automount, at });
            }
            Object::RoleBinding(b) => {
                let subjects = subjects(r, b.subjects.as_deref().unwrap_or_default(), locate);
                self.bindings.push(BindingFacts {
                    object: r.object_ref(),
                    namespace: Some(ns),
                    role: format!("{}/{}", b.role_ref.kind, b.role_ref.name),
                    subjects,
                });
            }
            Object::ClusterRoleBinding(b) => {
                let subjects = subjects(r, b.subjects.as_deref().unwrap_or_default(), locate);
                self.bindings.push(BindingFacts {
                    object: r.object_ref(),
                    namespace: None,
                    role: format!("{}/{}", b.role_ref.kind, b.role_ref.name),
                    subjects,
                });
            }
            Object::RuntimeClass(rc) => {
                let scheduling = rc.scheduling.as_ref();
                self.runtime_classes.insert(
                    r.name.clone(),
                    RuntimeClassFacts {
                        handler: rc.handler.clone(),
                        handler_at: locate(&r.base.key("handler")),
                        node_selector: scheduling
                            .and_then(|s| s.node_selector.clone())
                            .unwrap_or_default(),
                        tolerations: scheduling
                            .and_then(|s| s.tolerations.clone())
                            .unwrap_or_default(),
                        at: locate(&meta),
                    },
                );
            }
            _ if with_pods => {
                let Some(Ok(w)) = r.workload() else { return };
                let labels_ptr = w.pod.base.parent().key("metadata").key("labels");
                self.pods.push(PodFacts {
                    object: r.object_ref(),
                    namespace: ns,
                    labels: w
                        .pod
                        .metadata
                        .and_then(|m| m.labels.clone())
                        .unwrap_or_default(),
                    ports: NamedPort::from_container_ports(
                        w.pod.containers().flat_map(|c| c.ports.iter()),
                    ),
                    service_account: w.pod.service_account().to_string(),
                    at: locate(&labels_ptr),
                });
            }
            _ => {}
        }
    }

    /// The named ports of the pods of `namespace` that `selector` matches,
    /// computed by `compute` the first time and remembered.
    pub fn memo_ports(
        &self,
        namespace: &str,
        selector: &crate::netpol::Selector,
        compute: impl FnOnce() -> Option<Vec<NamedPort>>,
    ) -> Option<Vec<NamedPort>> {
        let key = format!("{namespace}\u{0}{selector}");
        if let Ok(map) = self.ports_memo.0.read()
            && let Some(hit) = map.get(&key)
        {
            return hit.clone();
        }
        let value = compute();
        if let Ok(mut map) = self.ports_memo.0.write() {
            map.insert(key, value.clone());
        }
        value
    }

    /// Adds everything `other` knows.
    pub fn merge(&mut self, other: Cluster) {
        self.ports_memo = PortsMemo::default();
        self.by_namespace = Derived::default();
        self.analyses = Derived::default();
        self.namespaces.extend(other.namespaces);
        self.policies.extend(other.policies);
        self.policy_namespaces.extend(other.policy_namespaces);
        self.service_accounts.extend(other.service_accounts);
        self.bindings.extend(other.bindings);
        self.runtime_classes.extend(other.runtime_classes);
        self.pods.extend(other.pods);
    }

    /// The labels of a namespace: its object's labels when it is among the
    /// inputs, plus the automatic `kubernetes.io/metadata.name`.
    pub fn namespace_labels(&self, namespace: &str) -> Labels {
        let mut labels = self
            .namespaces
            .get(namespace)
            .map(|n| n.labels.clone())
            .unwrap_or_default();
        labels.insert(NAMESPACE_NAME_LABEL.to_string(), namespace.to_string());
        labels
    }

    /// The valid policies of `namespace` that select a pod with `labels` and
    /// restrict `direction`.
    pub fn isolating<'a>(
        &'a self,
        namespace: &'a str,
        labels: &'a Labels,
        direction: Direction,
    ) -> impl Iterator<Item = &'a PolicyFacts> + 'a {
        self.policies_in(namespace)
            .filter(move |p| p.policy.affects(direction) && p.policy.selects(namespace, labels))
    }

    fn namespace_index(&self) -> &NamespaceIndex {
        self.by_namespace.0.get_or_init(|| {
            let mut index = NamespaceIndex::default();
            for (i, p) in self.policies.iter().enumerate() {
                index
                    .policies
                    .entry(p.policy.namespace.clone())
                    .or_default()
                    .push(i);
            }
            for (i, p) in self.pods.iter().enumerate() {
                index.pods.entry(p.namespace.clone()).or_default().push(i);
            }
            index
        })
    }

    /// The valid policies of `namespace`, in index order.
    pub fn policies_in<'a>(
        &'a self,
        namespace: &str,
    ) -> impl Iterator<Item = &'a PolicyFacts> + use<'a> {
        let at: &'a [usize] = self
            .namespace_index()
            .policies
            .get(namespace)
            .map_or(&[], Vec::as_slice);
        at.iter().filter_map(|&i| self.policies.get(i))
    }

    /// The pods of `namespace` with their positions in [`Cluster::pods`], in
    /// index order.
    pub fn pods_in<'a>(
        &'a self,
        namespace: &str,
    ) -> impl Iterator<Item = (usize, &'a PodFacts)> + use<'a> {
        let at: &'a [usize] = self
            .namespace_index()
            .pods
            .get(namespace)
            .map_or(&[], Vec::as_slice);
        at.iter().filter_map(|&i| self.pods.get(i).map(|p| (i, p)))
    }

    /// The runner classes of `model`'s runners (see [`crate::runner_classes`]),
    /// built on first use and kept with the index.
    pub fn analysis(
        &self,
        model: &Arc<crate::network::Model>,
    ) -> Arc<crate::runner_classes::Analysis> {
        let memo = self.analyses.0.get_or_init(Default::default);
        if let Ok(list) = memo.read()
            && let Some(hit) = list.iter().find(|a| a.is_for(model))
        {
            return hit.clone();
        }
        let built = Arc::new(crate::runner_classes::Analysis::build(model, self));
        if let Ok(mut list) = memo.write() {
            if let Some(hit) = list.iter().find(|a| a.is_for(model)) {
                return hit.clone();
            }
            list.push(built.clone());
        }
        built
    }
}

fn subjects(
    r: &Resource,
    list: &[k8s_openapi::api::rbac::v1::Subject],
    locate: &dyn Fn(&Pointer) -> Location,
) -> Vec<SubjectFacts> {
    list.iter()
        .enumerate()
        .map(|(i, s)| SubjectFacts {
            kind: s.kind.clone(),
            name: s.name.clone(),
            namespace: s.namespace.clone().filter(|n| !n.is_empty()),
            at: locate(&r.base.key("subjects").index(i)),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing_finds_kinds_as_whole_words_only() {
        assert!(may_hold_indexed_kinds("kind: NetworkPolicy\n"));
        assert!(may_hold_indexed_kinds("{\"kind\":\"ClusterRoleBinding\"}"));
        assert!(may_hold_indexed_kinds("kind: 'RuntimeClass'"));
        assert!(may_hold_indexed_kinds("- kind: ServiceAccount\n"));
        // Field names that contain a kind name are not the kind.
        assert!(!may_hold_indexed_kinds(
            "automountServiceAccountToken: false\nshareProcessNamespace: true\nkind: Pod\n"
        ));
        // Escapes could spell anything: such files are always read.
        assert!(may_hold_indexed_kinds("kind: \"Network\\u0050olicy\""));
    }
}
