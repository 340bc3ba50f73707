//! Compiled NetworkPolicies and the cluster-wide allow decision.
//!
//! Semantics follow <https://kubernetes.io/docs/concepts/services-networking/network-policies/>
//! and the `networking.k8s.io/v1` API (defaulting in
//! `pkg/apis/networking/v1/defaults.go`, validation in
//! `pkg/apis/networking/validation/validation.go`):
//!
//! * a policy applies to the pods of its own namespace matched by
//!   `spec.podSelector` (absent or `{}`: every pod of the namespace);
//! * `policyTypes`, when absent or empty, defaults to `[Ingress]` plus `Egress`
//!   when the policy has at least one egress rule (`len(spec.egress) != 0`;
//!   so `egress: []` alone does *not* make the policy affect egress);
//! * rules of one direction are OR-ed; within a rule, `from`/`to` absent or
//!   empty matches every peer, several peers are OR-ed, and `ports` absent or
//!   empty matches every port;
//! * a peer with `podSelector` alone means pods of the policy's namespace; with
//!   `namespaceSelector` alone, every pod of the matching namespaces; with
//!   both, pods matching `podSelector` in namespaces matching
//!   `namespaceSelector` (AND); `ipBlock` selects IP ranges and may not be
//!   combined with the selectors;
//! * cluster-wide, a pod is isolated for a direction when at least one policy
//!   selecting it has that policy type; then a connection is allowed iff some
//!   rule of that direction in some selecting policy allows it. A pod not
//!   isolated for a direction is unrestricted in it. Policies are additive
//!   allow lists; there is no deny and no order.
//!
//! Namespace labels always include the automatic, immutable
//! `kubernetes.io/metadata.name: <namespace>` label.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

use k8s_openapi::api::networking::v1::{NetworkPolicy, NetworkPolicyPeer};

use super::cidr::{CidrParsing, IpSet};
use super::ports::{NamedPort, Protocol, RulePorts};
use super::selector::{Labels, Selector};

/// The label the API server sets on every namespace, equal to its name.
pub const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// Traffic direction, relative to the pod a policy selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Direction {
    /// Traffic into the selected pod (`from` peers).
    Ingress,
    /// Traffic out of the selected pod (`to` peers).
    Egress,
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::Ingress => "ingress",
            Direction::Egress => "egress",
        })
    }
}

/// The labels of `namespace` from a caller's namespace -> labels map, with the
/// automatic `kubernetes.io/metadata.name` label added (even when the map has
/// no entry for it; it overrides any other value, as the API server does).
pub fn namespace_labels(namespaces: &BTreeMap<String, Labels>, namespace: &str) -> Labels {
    let mut labels = namespaces.get(namespace).cloned().unwrap_or_default();
    labels.insert(NAMESPACE_NAME_LABEL.to_string(), namespace.to_string());
    labels
}

/// The other end of a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Peer {
    /// A pod in the cluster. Matched by pod/namespace selectors, never by
    /// `ipBlock` (pod IPs are ephemeral; the docs say ipBlock is meant for
    /// cluster-external addresses).
    Pod {
        /// The pod's namespace.
        namespace: String,
        /// The pod's labels.
        labels: Labels,
        /// Its namespace's labels (`kubernetes.io/metadata.name` is always
        /// considered present, whether or not it is in this map).
        namespace_labels: Labels,
        /// Its named container ports, to resolve named ports of egress rules.
        ports: Vec<NamedPort>,
    },
    /// An address outside the cluster's pods, matched only by `ipBlock` peers.
    Ip(IpAddr),
}

impl Peer {
    /// A pod peer whose namespace labels are looked up in `namespaces`
    /// (see [`namespace_labels`]).
    pub fn pod(
        namespace: &str,
        labels: Labels,
        namespaces: &BTreeMap<String, Labels>,
        ports: Vec<NamedPort>,
    ) -> Self {
        Peer::Pod {
            namespace: namespace.to_string(),
            labels,
            namespace_labels: namespace_labels(namespaces, namespace),
            ports,
        }
    }
}

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Peer::Pod {
                namespace, labels, ..
            } => {
                let l = labels
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(",");
                write!(f, "pod {{{l}}} in namespace {namespace}")
            }
            Peer::Ip(ip) => write!(f, "{ip}"),
        }
    }
}

/// A pod that policies may select: the subject of a decision.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodInfo {
    /// Namespace.
    pub namespace: String,
    /// Labels.
    pub labels: Labels,
    /// Named container ports, to resolve named ports of ingress rules.
    pub ports: Vec<NamedPort>,
}

/// One compiled entry of a rule's `from` / `to` list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyPeer {
    /// `podSelector` alone: matching pods in the policy's own namespace.
    PodsInPolicyNamespace {
        /// The policy's namespace.
        namespace: String,
        /// `podSelector`.
        pods: Selector,
    },
    /// `namespaceSelector` alone: every pod of the matching namespaces
    /// (`{}`: every namespace).
    AllPodsInNamespaces {
        /// `namespaceSelector`.
        namespaces: Selector,
    },
    /// Both selectors in one peer (AND): matching pods in matching namespaces.
    PodsInNamespaces {
        /// `namespaceSelector`.
        namespaces: Selector,
        /// `podSelector`.
        pods: Selector,
    },
    /// `ipBlock`: `cidr` minus `except`.
    IpBlock {
        /// `ipBlock.cidr` as written.
        cidr: String,
        /// `ipBlock.except` as written.
        except: Vec<String>,
        /// The addresses selected.
        ips: IpSet,
    },
}

impl PolicyPeer {
    /// Whether `peer` is selected by this entry.
    pub fn matches(&self, peer: &Peer) -> bool {
        match (self, peer) {
            (
                PolicyPeer::PodsInPolicyNamespace { namespace, pods },
                Peer::Pod {
                    namespace: ns,
                    labels,
                    ..
                },
            ) => ns == namespace && pods.matches(labels),
            (
                PolicyPeer::AllPodsInNamespaces { namespaces },
                Peer::Pod {
                    namespace,
                    namespace_labels,
                    ..
                },
            ) => namespace_matches(namespaces, namespace, namespace_labels),
            (
                PolicyPeer::PodsInNamespaces { namespaces, pods },
                Peer::Pod {
                    namespace,
                    labels,
                    namespace_labels,
                    ..
                },
            ) => namespace_matches(namespaces, namespace, namespace_labels) && pods.matches(labels),
            (PolicyPeer::IpBlock { ips, .. }, Peer::Ip(addr)) => ips.contains(*addr),
            _ => false,
        }
    }

    fn compile(
        peer: &NetworkPolicyPeer,
        policy_namespace: &str,
        mode: CidrParsing,
    ) -> Result<Self, (String, String)> {
        let compile_sel = |sel, field: &str| {
            Selector::compile(sel).map_err(|e| (field.to_string(), e.to_string()))
        };
        match (&peer.pod_selector, &peer.namespace_selector, &peer.ip_block) {
            (None, None, None) => Err((
                String::new(),
                "must specify a peer (podSelector, namespaceSelector or ipBlock)".into(),
            )),
            (_, _, Some(_)) if peer.pod_selector.is_some() || peer.namespace_selector.is_some() => {
                Err((
                    String::new(),
                    "may not specify both ipBlock and another peer".into(),
                ))
            }
            (_, _, Some(block)) => {
                let ips = IpSet::from_k8s_ip_block(block, mode)
                    .map_err(|e| ("ipBlock".to_string(), e.to_string()))?;
                Ok(PolicyPeer::IpBlock {
                    cidr: block.cidr.clone(),
                    except: block.except.clone().unwrap_or_default(),
                    ips,
                })
            }
            (Some(pods), None, None) => Ok(PolicyPeer::PodsInPolicyNamespace {
                namespace: policy_namespace.to_string(),
                pods: compile_sel(pods, "podSelector")?,
            }),
            (None, Some(namespaces), None) => Ok(PolicyPeer::AllPodsInNamespaces {
                namespaces: compile_sel(namespaces, "namespaceSelector")?,
            }),
            (Some(pods), Some(namespaces), None) => Ok(PolicyPeer::PodsInNamespaces {
                namespaces: compile_sel(namespaces, "namespaceSelector")?,
                pods: compile_sel(pods, "podSelector")?,
            }),
        }
    }
}

fn namespace_matches(selector: &Selector, namespace: &str, labels: &Labels) -> bool {
    selector.matches_with(|key| {
        if key == NAMESPACE_NAME_LABEL {
            Some(namespace)
        } else {
            labels.get(key).map(String::as_str)
        }
    })
}

fn describe_pods(pods: &Selector) -> String {
    if pods.is_everything() {
        "every pod".to_string()
    } else {
        format!("pods matching {pods}")
    }
}

impl fmt::Display for PolicyPeer {
    /// Plain-language description, e.g. `every pod in namespace workflows` or
    /// `pods matching k8s-app=kube-dns in namespaces matching name=kube-system`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ns = |s: &Selector| {
            if s.is_everything() {
                "every namespace".to_string()
            } else {
                format!("namespaces matching {s}")
            }
        };
        match self {
            PolicyPeer::PodsInPolicyNamespace { namespace, pods } => {
                write!(f, "{} in namespace {namespace}", describe_pods(pods))
            }
            PolicyPeer::AllPodsInNamespaces { namespaces } => {
                write!(f, "every pod in {}", ns(namespaces))
            }
            PolicyPeer::PodsInNamespaces { namespaces, pods } => {
                write!(f, "{} in {}", describe_pods(pods), ns(namespaces))
            }
            PolicyPeer::IpBlock { cidr, except, .. } => {
                write!(f, "IP block {cidr}")?;
                if !except.is_empty() {
                    write!(f, " except {}", except.join(", "))?;
                }
                Ok(())
            }
        }
    }
}

/// A rule's `from` / `to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RulePeers {
    /// List absent or empty: every peer (all pods, all namespaces, all IPs).
    All,
    /// Any of these entries (OR).
    Only(Vec<PolicyPeer>),
}

impl RulePeers {
    /// Whether `peer` is matched.
    pub fn matches(&self, peer: &Peer) -> bool {
        match self {
            RulePeers::All => true,
            RulePeers::Only(list) => list.iter().any(|p| p.matches(peer)),
        }
    }

    /// Indexes of the entries matching `peer` (empty for [`RulePeers::All`]).
    pub fn matching(&self, peer: &Peer) -> Vec<usize> {
        match self {
            RulePeers::All => Vec::new(),
            RulePeers::Only(list) => list
                .iter()
                .enumerate()
                .filter(|(_, p)| p.matches(peer))
                .map(|(i, _)| i)
                .collect(),
        }
    }
}

impl fmt::Display for RulePeers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RulePeers::All => f.write_str("anywhere (every pod, namespace and IP address)"),
            RulePeers::Only(list) => {
                for (i, p) in list.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" or ")?;
                    }
                    write!(f, "{p}")?;
                }
                Ok(())
            }
        }
    }
}

/// One ingress or egress rule of a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyRule {
    /// Ingress or egress.
    pub direction: Direction,
    /// Zero-based position in `spec.ingress` / `spec.egress`.
    pub index: usize,
    /// `from` (ingress) or `to` (egress).
    pub peers: RulePeers,
    /// `ports`.
    pub ports: RulePorts,
}

impl PolicyRule {
    /// Whether this rule allows traffic with `peer` on `protocol/port`, named
    /// ports being resolved against `receiver_ports` (the destination pod's
    /// container ports).
    pub fn allows(
        &self,
        peer: &Peer,
        protocol: Protocol,
        port: u16,
        receiver_ports: &[NamedPort],
    ) -> bool {
        self.peers.matches(peer) && self.ports.allows(protocol, port, receiver_ports)
    }
}

impl fmt::Display for PolicyRule {
    /// `allows TCP/443 to every pod in namespace workflows`; ingress rules
    /// read `allows ... from ...`. Named ports appear by name.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let word = match self.direction {
            Direction::Ingress => "from",
            Direction::Egress => "to",
        };
        write!(f, "allows {} {word} {}", self.ports, self.peers)
    }
}

/// The effective `policyTypes`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PolicyTypes {
    /// `Ingress` is listed (or defaulted).
    pub ingress: bool,
    /// `Egress` is listed (or defaulted).
    pub egress: bool,
}

impl PolicyTypes {
    /// Whether the policy isolates selected pods in `direction`.
    pub fn has(&self, direction: Direction) -> bool {
        match direction {
            Direction::Ingress => self.ingress,
            Direction::Egress => self.egress,
        }
    }
}

/// Why a NetworkPolicy could not be compiled (Kubernetes would reject it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("NetworkPolicy {policy}: {path}: {message}")]
pub struct PolicyError {
    /// `namespace/name`.
    pub policy: String,
    /// JSON path of the offending field, e.g. `spec.egress[0].to[1].podSelector`.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

/// A validated NetworkPolicy, ready to evaluate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompiledPolicy {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace`, or the default namespace given to compile.
    pub namespace: String,
    /// `spec.podSelector` (absent: `{}`, every pod of the namespace).
    pub pod_selector: Selector,
    /// Effective `policyTypes` after Kubernetes defaulting.
    pub policy_types: PolicyTypes,
    /// `spec.ingress`, in order.
    pub ingress: Vec<PolicyRule>,
    /// `spec.egress`, in order.
    pub egress: Vec<PolicyRule>,
}

impl CompiledPolicy {
    /// Validates and compiles `np` with strict CIDR validation; `default_namespace`
    /// is used when `metadata.namespace` is absent or empty.
    pub fn compile(np: &NetworkPolicy, default_namespace: &str) -> Result<Self, PolicyError> {
        Self::compile_with(np, default_namespace, CidrParsing::Strict)
    }

    /// [`CompiledPolicy::compile`] with a chosen CIDR validation mode.
    pub fn compile_with(
        np: &NetworkPolicy,
        default_namespace: &str,
        mode: CidrParsing,
    ) -> Result<Self, PolicyError> {
        let namespace = np
            .metadata
            .namespace
            .as_deref()
            .filter(|n| !n.is_empty())
            .unwrap_or(default_namespace)
            .to_string();
        let name = np.metadata.name.clone().unwrap_or_default();
        let err = |path: String, message: String| PolicyError {
            policy: format!("{namespace}/{name}"),
            path,
            message,
        };
        let spec = np.spec.clone().unwrap_or_default();

        let pod_selector = match &spec.pod_selector {
            None => Selector::everything(),
            Some(s) => {
                Selector::compile(s).map_err(|e| err("spec.podSelector".into(), e.to_string()))?
            }
        };

        let ingress_rules = spec.ingress.as_deref().unwrap_or_default();
        let egress_rules = spec.egress.as_deref().unwrap_or_default();

        let declared = spec.policy_types.as_deref().unwrap_or_default();
        let policy_types = if declared.is_empty() {
            // pkg/apis/networking/v1/defaults.go: SetDefaults_NetworkPolicy.
            PolicyTypes {
                ingress: true,
                egress: !egress_rules.is_empty(),
            }
        } else {
            if declared.len() > 2 {
                return Err(err(
                    "spec.policyTypes".into(),
                    "may not specify more than two policyTypes".into(),
                ));
            }
            let mut types = PolicyTypes::default();
            for (i, t) in declared.iter().enumerate() {
                match t.as_str() {
                    "Ingress" => types.ingress = true,
                    "Egress" => types.egress = true,
                    other => {
                        return Err(err(
                            format!("spec.policyTypes[{i}]"),
                            format!("unsupported policy type `{other}` (valid: Ingress, Egress)"),
                        ));
                    }
                }
            }
            types
        };

        let compile_rule =
            |direction: Direction,
             index: usize,
             peers: Option<&[NetworkPolicyPeer]>,
             ports: Option<&[k8s_openapi::api::networking::v1::NetworkPolicyPort]>|
             -> Result<PolicyRule, PolicyError> {
                let (section, peer_field) = match direction {
                    Direction::Ingress => ("ingress", "from"),
                    Direction::Egress => ("egress", "to"),
                };
                let base = format!("spec.{section}[{index}]");
                let peers = match peers {
                    None | Some([]) => RulePeers::All,
                    Some(list) => RulePeers::Only(
                        list.iter()
                            .enumerate()
                            .map(|(i, p)| {
                                PolicyPeer::compile(p, &namespace, mode).map_err(|(field, msg)| {
                                    let mut path = format!("{base}.{peer_field}[{i}]");
                                    if !field.is_empty() {
                                        path.push('.');
                                        path.push_str(&field);
                                    }
                                    err(path, msg)
                                })
                            })
                            .collect::<Result<Vec<_>, _>>()?,
                    ),
                };
                let ports = RulePorts::compile(ports)
                    .map_err(|(i, e)| err(format!("{base}.ports[{i}]"), e.to_string()))?;
                Ok(PolicyRule {
                    direction,
                    index,
                    peers,
                    ports,
                })
            };

        let ingress = ingress_rules
            .iter()
            .enumerate()
            .map(|(i, r)| {
                compile_rule(Direction::Ingress, i, r.from.as_deref(), r.ports.as_deref())
            })
            .collect::<Result<Vec<_>, _>>()?;
        let egress = egress_rules
            .iter()
            .enumerate()
            .map(|(i, r)| compile_rule(Direction::Egress, i, r.to.as_deref(), r.ports.as_deref()))
            .collect::<Result<Vec<_>, _>>()?;

        Ok(Self {
            name,
            namespace,
            pod_selector,
            policy_types,
            ingress,
            egress,
        })
    }

    /// `namespace/name`.
    pub fn id(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    /// Whether the policy applies to a pod: same namespace and `podSelector` matches.
    pub fn selects(&self, pod_namespace: &str, pod_labels: &Labels) -> bool {
        pod_namespace == self.namespace && self.pod_selector.matches(pod_labels)
    }

    /// Whether the policy restricts `direction` for the pods it selects.
    pub fn affects(&self, direction: Direction) -> bool {
        self.policy_types.has(direction)
    }

    /// The rules of one direction (present even if the direction is not
    /// among the effective policyTypes, in which case they have no effect).
    pub fn rules(&self, direction: Direction) -> &[PolicyRule] {
        match direction {
            Direction::Ingress => &self.ingress,
            Direction::Egress => &self.egress,
        }
    }

    /// The rule at `index` (zero-based) of `direction`, if any.
    pub fn rule(&self, direction: Direction, index: usize) -> Option<&PolicyRule> {
        self.rules(direction).get(index)
    }

    /// Indexes of the egress rules that allow a selected pod to reach
    /// `destination` on `protocol/port`. Named ports resolve against the
    /// destination pod's ports (an IP destination has none). Empty when the
    /// policy does not affect egress: it then allows nothing by itself.
    pub fn egress_rules_allowing(
        &self,
        destination: &Peer,
        protocol: Protocol,
        port: u16,
    ) -> Vec<usize> {
        let receiver_ports = match destination {
            Peer::Pod { ports, .. } => ports.as_slice(),
            Peer::Ip(_) => &[],
        };
        self.rules_allowing(
            Direction::Egress,
            destination,
            protocol,
            port,
            receiver_ports,
        )
    }

    /// Indexes of the ingress rules that allow `source` to reach a selected pod
    /// whose named container ports are `target_ports`, on `protocol/port`.
    pub fn ingress_rules_allowing(
        &self,
        source: &Peer,
        target_ports: &[NamedPort],
        protocol: Protocol,
        port: u16,
    ) -> Vec<usize> {
        self.rules_allowing(Direction::Ingress, source, protocol, port, target_ports)
    }

    fn rules_allowing(
        &self,
        direction: Direction,
        peer: &Peer,
        protocol: Protocol,
        port: u16,
        receiver_ports: &[NamedPort],
    ) -> Vec<usize> {
        if !self.affects(direction) {
            return Vec::new();
        }
        self.rules(direction)
            .iter()
            .filter(|r| r.allows(peer, protocol, port, receiver_ports))
            .map(|r| r.index)
            .collect()
    }
}

/// A rule that allowed a connection: `(policy, rule index)`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RuleRef {
    /// Policy namespace.
    pub policy_namespace: String,
    /// Policy name.
    pub policy_name: String,
    /// Direction of the rule.
    pub direction: Direction,
    /// Zero-based index in `spec.ingress` / `spec.egress`.
    pub rule_index: usize,
}

impl fmt::Display for RuleRef {
    /// `egress[1] of workflows/runner-network-policy` (zero-based, as in the YAML path).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}[{}] of {}/{}",
            self.direction, self.rule_index, self.policy_namespace, self.policy_name
        )
    }
}

/// The cluster-wide verdict for one pod, direction, peer and port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The direction evaluated.
    pub direction: Direction,
    /// `namespace/name` of every policy that selects the pod and has this
    /// policy type. Empty: the pod is not isolated and traffic is unrestricted.
    pub isolating_policies: Vec<String>,
    /// The rules that allow the connection (only meaningful when isolated).
    pub allowed_by: Vec<RuleRef>,
}

impl Decision {
    /// True when some selecting policy restricts this direction.
    pub fn is_isolated(&self) -> bool {
        !self.isolating_policies.is_empty()
    }

    /// Whether the connection is allowed: not isolated, or allowed by a rule.
    pub fn is_allowed(&self) -> bool {
        !self.is_isolated() || !self.allowed_by.is_empty()
    }
}

/// Evaluates `direction` traffic of `pod` with `peer` on `protocol/port`
/// against every policy in the cluster (the union semantics above). For
/// egress, `peer` is the destination and named ports resolve against its
/// ports; for ingress, `peer` is the source and named ports resolve against
/// `pod.ports`. Only `pod`'s side is evaluated: a pod-to-pod connection also
/// needs the other pod's ingress (or egress) to allow it.
pub fn evaluate(
    policies: &[CompiledPolicy],
    pod: &PodInfo,
    direction: Direction,
    peer: &Peer,
    protocol: Protocol,
    port: u16,
) -> Decision {
    let mut decision = Decision {
        direction,
        isolating_policies: Vec::new(),
        allowed_by: Vec::new(),
    };
    for policy in policies {
        if !policy.affects(direction) || !policy.selects(&pod.namespace, &pod.labels) {
            continue;
        }
        decision.isolating_policies.push(policy.id());
        let indexes = match direction {
            Direction::Egress => policy.egress_rules_allowing(peer, protocol, port),
            Direction::Ingress => policy.ingress_rules_allowing(peer, &pod.ports, protocol, port),
        };
        decision
            .allowed_by
            .extend(indexes.into_iter().map(|rule_index| RuleRef {
                policy_namespace: policy.namespace.clone(),
                policy_name: policy.name.clone(),
                direction,
                rule_index,
            }));
    }
    decision
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn np(v: serde_json::Value) -> NetworkPolicy {
        serde_json::from_value(v).expect("test policy")
    }

    fn compile(v: serde_json::Value) -> CompiledPolicy {
        CompiledPolicy::compile(&np(v), "default").expect("valid policy")
    }

    fn compile_err(v: serde_json::Value) -> PolicyError {
        CompiledPolicy::compile(&np(v), "default").expect_err("invalid policy")
    }

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn ns_map(entries: &[(&str, &[(&str, &str)])]) -> BTreeMap<String, Labels> {
        entries
            .iter()
            .map(|(ns, l)| (ns.to_string(), labels(l)))
            .collect()
    }

    fn pod_peer(ns: &str, l: &[(&str, &str)], namespaces: &BTreeMap<String, Labels>) -> Peer {
        Peer::pod(ns, labels(l), namespaces, Vec::new())
    }

    fn ip(s: &str) -> Peer {
        Peer::Ip(s.parse().unwrap())
    }

    fn runner_policy() -> serde_json::Value {
        json!({
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "runner-network-policy", "namespace": "workflows"},
            "spec": {
                "podSelector": {"matchLabels": {"app": "workflow-runner"}},
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [],
                "egress": [
                    {
                        "to": [{
                            "namespaceSelector": {"matchLabels": {"name": "kube-system"}},
                            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}
                        }],
                        "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]
                    },
                    {
                        "to": [{"podSelector": {}}],
                        "ports": [{"protocol": "TCP", "port": 443}]
                    },
                    {
                        "to": [{
                            "namespaceSelector": {"matchLabels": {"name": "plue-system"}},
                            "podSelector": {"matchLabels": {"app": "plue-api"}}
                        }],
                        "ports": [{"protocol": "TCP", "port": 4000}]
                    }
                ]
            }
        })
    }

    #[test]
    fn runner_policy_concrete_case() {
        let p = compile(runner_policy());
        assert_eq!(p.id(), "workflows/runner-network-policy");
        assert!(p.selects("workflows", &labels(&[("app", "workflow-runner")])));
        assert!(!p.selects("workflows", &labels(&[("app", "other")])));
        assert!(!p.selects("default", &labels(&[("app", "workflow-runner")])));
        assert_eq!(
            p.policy_types,
            PolicyTypes {
                ingress: true,
                egress: true
            }
        );
        assert!(p.ingress.is_empty());

        let labelled = ns_map(&[
            ("kube-system", &[("name", "kube-system")]),
            ("plue-system", &[("name", "plue-system")]),
        ]);
        let unlabelled = ns_map(&[]);

        // TCP/443 to another runner pod in workflows, via rule 1 (`podSelector: {}`).
        let runner = pod_peer("workflows", &[("app", "workflow-runner")], &unlabelled);
        assert_eq!(
            p.egress_rules_allowing(&runner, Protocol::Tcp, 443),
            vec![1]
        );
        assert!(
            p.egress_rules_allowing(&runner, Protocol::Tcp, 80)
                .is_empty()
        );
        assert_eq!(
            p.egress[1].peers.to_string(),
            "every pod in namespace workflows"
        );
        // The same labels in another namespace do not match `podSelector: {}`.
        let elsewhere = pod_peer("default", &[("app", "workflow-runner")], &unlabelled);
        assert!(
            p.egress_rules_allowing(&elsewhere, Protocol::Tcp, 443)
                .is_empty()
        );

        // Not TCP/443 to 8.8.8.8 through that rule (nor any other).
        assert!(
            p.egress_rules_allowing(&ip("8.8.8.8"), Protocol::Tcp, 443)
                .is_empty()
        );
        assert!(!p.egress[1].allows(&ip("8.8.8.8"), Protocol::Tcp, 443, &[]));

        // UDP/53 (and TCP/53) to kube-dns in kube-system, when kube-system is
        // labelled `name: kube-system`.
        let dns = pod_peer("kube-system", &[("k8s-app", "kube-dns")], &labelled);
        assert_eq!(p.egress_rules_allowing(&dns, Protocol::Udp, 53), vec![0]);
        assert_eq!(p.egress_rules_allowing(&dns, Protocol::Tcp, 53), vec![0]);
        assert!(
            p.egress_rules_allowing(&dns, Protocol::Udp, 5353)
                .is_empty()
        );
        // Without that label (only the automatic one), DNS is blocked.
        let dns_unlabelled = pod_peer("kube-system", &[("k8s-app", "kube-dns")], &unlabelled);
        assert!(
            p.egress_rules_allowing(&dns_unlabelled, Protocol::Udp, 53)
                .is_empty()
        );

        // TCP/4000 to plue-api in plue-system only with `name: plue-system`.
        let api = pod_peer("plue-system", &[("app", "plue-api")], &labelled);
        assert_eq!(p.egress_rules_allowing(&api, Protocol::Tcp, 4000), vec![2]);
        let api_unlabelled = pod_peer("plue-system", &[("app", "plue-api")], &unlabelled);
        assert!(
            p.egress_rules_allowing(&api_unlabelled, Protocol::Tcp, 4000)
                .is_empty()
        );
        let not_api = pod_peer("plue-system", &[("app", "plue-web")], &labelled);
        assert!(
            p.egress_rules_allowing(&not_api, Protocol::Tcp, 4000)
                .is_empty()
        );
        assert_eq!(
            p.egress[2].peers.to_string(),
            "pods matching app=plue-api in namespaces matching name=plue-system"
        );

        // With the automatic label in the selector, no namespace labels are needed.
        let mut v = runner_policy();
        v["spec"]["egress"][2]["to"][0]["namespaceSelector"] =
            json!({"matchLabels": {"kubernetes.io/metadata.name": "plue-system"}});
        let p2 = compile(v);
        assert_eq!(
            p2.egress_rules_allowing(&api_unlabelled, Protocol::Tcp, 4000),
            vec![2]
        );
        let api_other_ns = pod_peer("plue-other", &[("app", "plue-api")], &unlabelled);
        assert!(
            p2.egress_rules_allowing(&api_other_ns, Protocol::Tcp, 4000)
                .is_empty()
        );

        // Explaining a decision: look the rule up and describe it.
        assert_eq!(
            p.rule(Direction::Egress, 1)
                .map(ToString::to_string)
                .as_deref(),
            Some("allows TCP/443 to every pod in namespace workflows")
        );
        assert_eq!(
            p.rule(Direction::Egress, 0)
                .map(ToString::to_string)
                .as_deref(),
            Some(
                "allows UDP/53, TCP/53 to pods matching k8s-app=kube-dns in namespaces matching name=kube-system"
            )
        );
        assert!(p.rule(Direction::Egress, 3).is_none());
        assert!(p.rule(Direction::Ingress, 0).is_none());

        // Cluster-wide: a runner is isolated for both directions.
        let subject = PodInfo {
            namespace: "workflows".into(),
            labels: labels(&[("app", "workflow-runner")]),
            ports: Vec::new(),
        };
        let d = evaluate(
            std::slice::from_ref(&p),
            &subject,
            Direction::Egress,
            &api,
            Protocol::Tcp,
            4000,
        );
        assert!(d.is_isolated() && d.is_allowed());
        assert_eq!(d.allowed_by.len(), 1);
        assert_eq!(
            d.allowed_by.first().map(ToString::to_string).as_deref(),
            Some("egress[2] of workflows/runner-network-policy")
        );
        let d = evaluate(
            std::slice::from_ref(&p),
            &subject,
            Direction::Egress,
            &ip("8.8.8.8"),
            Protocol::Tcp,
            443,
        );
        assert!(d.is_isolated() && !d.is_allowed());
        // `ingress: []` with Ingress in policyTypes: nothing may connect in.
        let d = evaluate(
            std::slice::from_ref(&p),
            &subject,
            Direction::Ingress,
            &runner,
            Protocol::Tcp,
            443,
        );
        assert!(d.is_isolated() && !d.is_allowed());
    }

    #[test]
    fn policy_types_defaulting() {
        // No policyTypes, no egress: Ingress only.
        let p = compile(json!({"metadata": {"name": "a"}, "spec": {"podSelector": {}}}));
        assert_eq!(
            p.policy_types,
            PolicyTypes {
                ingress: true,
                egress: false
            }
        );
        // No policyTypes, egress rules present: Ingress and Egress.
        let p = compile(json!({"metadata": {"name": "a"}, "spec": {"egress": [{}]}}));
        assert_eq!(
            p.policy_types,
            PolicyTypes {
                ingress: true,
                egress: true
            }
        );
        // No policyTypes, `egress: []`: Kubernetes defaulting checks
        // `len(spec.egress) != 0`, so egress is NOT restricted.
        let p = compile(json!({"metadata": {"name": "a"}, "spec": {"egress": []}}));
        assert_eq!(
            p.policy_types,
            PolicyTypes {
                ingress: true,
                egress: false
            }
        );
        // `policyTypes: []` defaults like an absent list.
        let p = compile(
            json!({"metadata": {"name": "a"}, "spec": {"policyTypes": [], "egress": [{}]}}),
        );
        assert_eq!(
            p.policy_types,
            PolicyTypes {
                ingress: true,
                egress: true
            }
        );
        // Explicit Egress with `egress: []`: egress restricted and nothing allowed.
        let p = compile(json!({
            "metadata": {"name": "deny-egress", "namespace": "ns"},
            "spec": {"podSelector": {}, "policyTypes": ["Egress"], "egress": []}
        }));
        assert_eq!(
            p.policy_types,
            PolicyTypes {
                ingress: false,
                egress: true
            }
        );
        let subject = PodInfo {
            namespace: "ns".into(),
            ..PodInfo::default()
        };
        let d = evaluate(
            std::slice::from_ref(&p),
            &subject,
            Direction::Egress,
            &ip("1.1.1.1"),
            Protocol::Udp,
            53,
        );
        assert!(d.is_isolated());
        assert!(!d.is_allowed());
        assert_eq!(d.isolating_policies, vec!["ns/deny-egress".to_string()]);
        // Ingress not among the types: unrestricted despite rules.
        let d = evaluate(
            std::slice::from_ref(&p),
            &subject,
            Direction::Ingress,
            &ip("1.1.1.1"),
            Protocol::Tcp,
            22,
        );
        assert!(!d.is_isolated() && d.is_allowed());
        // Unknown policy type.
        let e =
            compile_err(json!({"metadata": {"name": "a"}, "spec": {"policyTypes": ["Ingres"]}}));
        assert_eq!(e.path, "spec.policyTypes[0]");
        assert!(e.message.contains("`Ingres`"));
    }

    #[test]
    fn explicit_ingress_only_ignores_egress_rules() {
        let p = compile(json!({
            "metadata": {"name": "a", "namespace": "ns"},
            "spec": {"policyTypes": ["Ingress"], "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}}]}]}
        }));
        assert!(!p.affects(Direction::Egress));
        assert_eq!(p.rules(Direction::Egress).len(), 1);
        assert!(
            p.egress_rules_allowing(&ip("10.0.0.1"), Protocol::Tcp, 1)
                .is_empty()
        );
    }

    #[test]
    fn namespace_defaults_and_pod_selector_absent() {
        let p = compile(json!({"metadata": {"name": "a"}, "spec": {}}));
        assert_eq!(p.namespace, "default");
        assert!(p.pod_selector.is_everything());
        assert!(p.selects("default", &labels(&[])));
        assert!(!p.selects("other", &labels(&[])));
        let p = CompiledPolicy::compile(
            &np(json!({"metadata": {"name": "a", "namespace": ""}})),
            "fallback",
        )
        .unwrap();
        assert_eq!(p.namespace, "fallback");
        // No spec at all: defaulting still gives Ingress, selecting every pod.
        assert!(p.affects(Direction::Ingress));
        assert!(p.selects("fallback", &labels(&[("x", "y")])));
    }

    #[test]
    fn absent_vs_empty_peers_and_selectors() {
        let namespaces = ns_map(&[("team-a", &[("team", "a")])]);
        // `from` absent, `from: []` and `{}` rule: every source.
        for rule in [json!({}), json!({"from": []})] {
            let p = compile(
                json!({"metadata": {"name": "a", "namespace": "ns"}, "spec": {"ingress": [rule]}}),
            );
            assert_eq!(p.ingress.first().map(|r| &r.peers), Some(&RulePeers::All));
            assert_eq!(
                p.ingress_rules_allowing(&ip("203.0.113.9"), &[], Protocol::Tcp, 80),
                vec![0]
            );
            assert_eq!(
                p.ingress_rules_allowing(
                    &pod_peer("team-a", &[], &namespaces),
                    &[],
                    Protocol::Udp,
                    9
                ),
                vec![0]
            );
        }
        // `podSelector: {}` alone: every pod, but only in the policy's namespace; no IPs.
        let p = compile(json!({"metadata": {"name": "a", "namespace": "ns"},
            "spec": {"ingress": [{"from": [{"podSelector": {}}]}]}}));
        assert_eq!(
            p.ingress_rules_allowing(
                &pod_peer("ns", &[("any", "x")], &namespaces),
                &[],
                Protocol::Tcp,
                1
            ),
            vec![0]
        );
        assert!(
            p.ingress_rules_allowing(&pod_peer("team-a", &[], &namespaces), &[], Protocol::Tcp, 1)
                .is_empty()
        );
        assert!(
            p.ingress_rules_allowing(&ip("10.0.0.1"), &[], Protocol::Tcp, 1)
                .is_empty()
        );
        // `namespaceSelector: {}` alone: every pod in every namespace; still no IPs.
        let p = compile(json!({"metadata": {"name": "a", "namespace": "ns"},
            "spec": {"ingress": [{"from": [{"namespaceSelector": {}}]}]}}));
        assert_eq!(
            p.ingress_rules_allowing(&pod_peer("team-a", &[], &namespaces), &[], Protocol::Tcp, 1),
            vec![0]
        );
        assert_eq!(
            p.ingress_rules_allowing(
                &pod_peer("unknown-ns", &[], &namespaces),
                &[],
                Protocol::Tcp,
                1
            ),
            vec![0]
        );
        assert!(
            p.ingress_rules_allowing(&ip("10.0.0.1"), &[], Protocol::Tcp, 1)
                .is_empty()
        );
        assert_eq!(
            p.ingress.first().map(|r| r.peers.to_string()).as_deref(),
            Some("every pod in every namespace")
        );
        // A peer with nothing in it is invalid.
        let e = compile_err(json!({"metadata": {"name": "a", "namespace": "ns"},
            "spec": {"egress": [{"to": [{}]}]}}));
        assert_eq!(e.path, "spec.egress[0].to[0]");
        assert!(e.message.contains("must specify a peer"));
    }

    #[test]
    fn or_across_peers_and_within_peer() {
        let namespaces = ns_map(&[("prod", &[("env", "prod")]), ("dev", &[("env", "dev")])]);
        // Two peers (OR): db pods in prod-labelled namespaces, or any pod in ns "ns" labelled app=web.
        let and_policy = compile(
            json!({"metadata": {"name": "and", "namespace": "ns"}, "spec": {
            "policyTypes": ["Egress"],
            "egress": [{"to": [{
                "namespaceSelector": {"matchLabels": {"env": "prod"}},
                "podSelector": {"matchLabels": {"app": "db"}}
            }]}]}}),
        );
        let or_policy = compile(
            json!({"metadata": {"name": "or", "namespace": "ns"}, "spec": {
            "policyTypes": ["Egress"],
            "egress": [{"to": [
                {"namespaceSelector": {"matchLabels": {"env": "prod"}}},
                {"podSelector": {"matchLabels": {"app": "db"}}}
            ]}]}}),
        );
        let prod_db = pod_peer("prod", &[("app", "db")], &namespaces);
        let prod_web = pod_peer("prod", &[("app", "web")], &namespaces);
        let dev_db = pod_peer("dev", &[("app", "db")], &namespaces);
        let local_db = pod_peer("ns", &[("app", "db")], &namespaces);
        // AND within a peer.
        assert_eq!(
            and_policy.egress_rules_allowing(&prod_db, Protocol::Tcp, 5432),
            vec![0]
        );
        assert!(
            and_policy
                .egress_rules_allowing(&prod_web, Protocol::Tcp, 5432)
                .is_empty()
        );
        assert!(
            and_policy
                .egress_rules_allowing(&dev_db, Protocol::Tcp, 5432)
                .is_empty()
        );
        assert!(
            and_policy
                .egress_rules_allowing(&local_db, Protocol::Tcp, 5432)
                .is_empty()
        );
        // OR across peers; a lone podSelector is scoped to the policy namespace.
        assert_eq!(
            or_policy.egress_rules_allowing(&prod_db, Protocol::Tcp, 5432),
            vec![0]
        );
        assert_eq!(
            or_policy.egress_rules_allowing(&prod_web, Protocol::Tcp, 5432),
            vec![0]
        );
        assert!(
            or_policy
                .egress_rules_allowing(&dev_db, Protocol::Tcp, 5432)
                .is_empty()
        );
        assert_eq!(
            or_policy.egress_rules_allowing(&local_db, Protocol::Tcp, 5432),
            vec![0]
        );
        let rule = or_policy.egress.first().expect("rule");
        assert_eq!(rule.peers.matching(&local_db), vec![1]);
        assert_eq!(rule.peers.matching(&prod_db), vec![0]);
    }

    #[test]
    fn ip_block_peers() {
        let p = compile(
            json!({"metadata": {"name": "internet", "namespace": "ns"}, "spec": {
            "policyTypes": ["Egress"],
            "egress": [
                {"to": [{"ipBlock": {"cidr": "0.0.0.0/0",
                    "except": ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.169.254/32"]}},
                        {"ipBlock": {"cidr": "::/0", "except": ["fd00:ec2::254/128"]}}],
                 "ports": [{"port": 443}]}
            ]}}),
        );
        assert_eq!(
            p.egress_rules_allowing(&ip("8.8.8.8"), Protocol::Tcp, 443),
            vec![0]
        );
        assert!(
            p.egress_rules_allowing(&ip("8.8.8.8"), Protocol::Tcp, 80)
                .is_empty()
        );
        assert!(
            p.egress_rules_allowing(&ip("169.254.169.254"), Protocol::Tcp, 443)
                .is_empty()
        );
        assert!(
            p.egress_rules_allowing(&ip("10.1.2.3"), Protocol::Tcp, 443)
                .is_empty()
        );
        assert!(
            p.egress_rules_allowing(&ip("fd00:ec2::254"), Protocol::Tcp, 443)
                .is_empty()
        );
        assert_eq!(
            p.egress_rules_allowing(&ip("2606:4700::1111"), Protocol::Tcp, 443),
            vec![0]
        );
        // ipBlock never matches a pod peer.
        let pod = pod_peer("ns", &[], &ns_map(&[]));
        assert!(p.egress_rules_allowing(&pod, Protocol::Tcp, 443).is_empty());
        assert!(
            p.egress[0]
                .peers
                .to_string()
                .starts_with("IP block 0.0.0.0/0 except 10.0.0.0/8")
        );

        // Invalid ipBlocks are compile errors with the path and the text.
        let e = compile_err(
            json!({"metadata": {"name": "a", "namespace": "ns"}, "spec": {
            "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["11.0.0.0/8"]}}]}]}}),
        );
        assert_eq!(e.path, "spec.egress[0].to[0].ipBlock");
        assert!(e.message.contains("`11.0.0.0/8`"));
        let e = compile_err(
            json!({"metadata": {"name": "a", "namespace": "ns"}, "spec": {
            "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}, "podSelector": {}}]}]}}),
        );
        assert!(e.message.contains("ipBlock and another peer"));
        // Host bits: strict by default, masked in legacy mode.
        let host_bits = np(
            json!({"metadata": {"name": "a", "namespace": "ns"}, "spec": {
            "egress": [{"to": [{"ipBlock": {"cidr": "10.1.2.3/8"}}]}]}}),
        );
        assert!(CompiledPolicy::compile(&host_bits, "ns").is_err());
        let legacy = CompiledPolicy::compile_with(&host_bits, "ns", CidrParsing::Legacy).unwrap();
        assert_eq!(
            legacy.egress_rules_allowing(&ip("10.200.0.1"), Protocol::Tcp, 1),
            vec![0]
        );
    }

    #[test]
    fn named_ports_resolved_per_direction() {
        let namespaces = ns_map(&[]);
        let p = compile(
            json!({"metadata": {"name": "a", "namespace": "ns"}, "spec": {
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [{"ports": [{"port": "metrics"}]}],
            "egress": [{"ports": [{"port": "http"}]}]}}),
        );
        let http_pod = Peer::pod(
            "ns",
            labels(&[]),
            &namespaces,
            vec![NamedPort {
                name: "http".into(),
                protocol: Protocol::Tcp,
                port: 8080,
            }],
        );
        // Egress: resolved against the destination pod.
        assert_eq!(
            p.egress_rules_allowing(&http_pod, Protocol::Tcp, 8080),
            vec![0]
        );
        assert!(
            p.egress_rules_allowing(&http_pod, Protocol::Tcp, 80)
                .is_empty()
        );
        // An IP destination (or a pod without the name) resolves to nothing.
        assert!(
            p.egress_rules_allowing(&ip("1.2.3.4"), Protocol::Tcp, 8080)
                .is_empty()
        );
        assert!(
            p.egress_rules_allowing(&pod_peer("ns", &[], &namespaces), Protocol::Tcp, 8080)
                .is_empty()
        );
        // Ingress: resolved against the selected (receiving) pod.
        let me = [NamedPort {
            name: "metrics".into(),
            protocol: Protocol::Tcp,
            port: 9090,
        }];
        assert_eq!(
            p.ingress_rules_allowing(&ip("1.2.3.4"), &me, Protocol::Tcp, 9090),
            vec![0]
        );
        assert!(
            p.ingress_rules_allowing(&ip("1.2.3.4"), &[], Protocol::Tcp, 9090)
                .is_empty()
        );
        let e = compile_err(
            json!({"metadata": {"name": "a", "namespace": "ns"}, "spec": {
            "ingress": [{"ports": [{"port": 80}, {"port": "http", "endPort": 90}]}]}}),
        );
        assert_eq!(e.path, "spec.ingress[0].ports[1]");
    }

    #[test]
    fn union_over_two_policies_and_unselected_pod() {
        let namespaces = ns_map(&[]);
        let dns = compile(
            json!({"metadata": {"name": "allow-dns", "namespace": "apps"}, "spec": {
            "podSelector": {},
            "policyTypes": ["Egress"],
            "egress": [{"ports": [{"protocol": "UDP", "port": 53}]}]}}),
        );
        let web = compile(
            json!({"metadata": {"name": "web-egress", "namespace": "apps"}, "spec": {
            "podSelector": {"matchLabels": {"app": "web"}},
            "policyTypes": ["Egress"],
            "egress": [
                {"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"port": 443}]},
                {"ports": [{"protocol": "UDP", "port": 53}, {"port": 53}]}
            ]}}),
        );
        let other_ns = compile(
            json!({"metadata": {"name": "deny-all", "namespace": "other"}, "spec": {
            "podSelector": {}, "policyTypes": ["Ingress", "Egress"]}}),
        );
        let policies = vec![dns, web, other_ns];
        let web_pod = PodInfo {
            namespace: "apps".into(),
            labels: labels(&[("app", "web")]),
            ports: Vec::new(),
        };
        let dest = pod_peer("kube-system", &[("k8s-app", "kube-dns")], &namespaces);

        // UDP/53 is allowed by both policies: every deciding rule is reported.
        let d = evaluate(
            &policies,
            &web_pod,
            Direction::Egress,
            &dest,
            Protocol::Udp,
            53,
        );
        assert!(d.is_allowed());
        assert_eq!(
            d.isolating_policies,
            vec!["apps/allow-dns".to_string(), "apps/web-egress".to_string()]
        );
        let refs: Vec<String> = d.allowed_by.iter().map(ToString::to_string).collect();
        assert_eq!(
            refs,
            [
                "egress[0] of apps/allow-dns",
                "egress[1] of apps/web-egress"
            ]
        );
        // TCP/443 to the internet only through web-egress.
        let d = evaluate(
            &policies,
            &web_pod,
            Direction::Egress,
            &ip("1.1.1.1"),
            Protocol::Tcp,
            443,
        );
        assert!(d.is_allowed());
        assert_eq!(d.allowed_by.len(), 1);
        assert_eq!(
            d.allowed_by
                .first()
                .map(|r| (r.policy_name.as_str(), r.rule_index)),
            Some(("web-egress", 0))
        );
        // A non-web pod in apps only gets DNS.
        let db_pod = PodInfo {
            labels: labels(&[("app", "db")]),
            ..web_pod.clone()
        };
        let d = evaluate(
            &policies,
            &db_pod,
            Direction::Egress,
            &ip("1.1.1.1"),
            Protocol::Tcp,
            443,
        );
        assert!(d.is_isolated() && !d.is_allowed());
        // Ingress is not restricted by any policy selecting web pods.
        let d = evaluate(
            &policies,
            &web_pod,
            Direction::Ingress,
            &ip("1.1.1.1"),
            Protocol::Tcp,
            8080,
        );
        assert!(!d.is_isolated() && d.is_allowed() && d.allowed_by.is_empty());
        // A pod selected by no policy is unrestricted both ways.
        let lonely = PodInfo {
            namespace: "elsewhere".into(),
            ..PodInfo::default()
        };
        for dir in [Direction::Ingress, Direction::Egress] {
            let d = evaluate(&policies, &lonely, dir, &ip("8.8.8.8"), Protocol::Tcp, 25);
            assert!(!d.is_isolated() && d.is_allowed(), "{dir}");
        }
        // No policies at all: unrestricted.
        assert!(
            evaluate(
                &[],
                &web_pod,
                Direction::Egress,
                &ip("8.8.8.8"),
                Protocol::Tcp,
                1
            )
            .is_allowed()
        );
    }

    #[test]
    fn namespace_labels_always_have_the_automatic_label() {
        let map = ns_map(&[("a", &[("team", "x"), (NAMESPACE_NAME_LABEL, "spoofed")])]);
        let l = namespace_labels(&map, "a");
        assert_eq!(l.get(NAMESPACE_NAME_LABEL).map(String::as_str), Some("a"));
        assert_eq!(l.get("team").map(String::as_str), Some("x"));
        let l = namespace_labels(&map, "missing");
        assert_eq!(l, labels(&[(NAMESPACE_NAME_LABEL, "missing")]));
        // Even a hand-built Peer::Pod without it matches on the automatic label.
        let p = compile(
            json!({"metadata": {"name": "a", "namespace": "ns"}, "spec": {
            "policyTypes": ["Egress"],
            "egress": [{"to": [{"namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: "target"}}}]}]}}),
        );
        let bare = Peer::Pod {
            namespace: "target".into(),
            labels: Labels::new(),
            namespace_labels: labels(&[(NAMESPACE_NAME_LABEL, "wrong")]),
            ports: Vec::new(),
        };
        assert_eq!(p.egress_rules_allowing(&bare, Protocol::Tcp, 1), vec![0]);
    }

    #[test]
    fn invalid_selectors_fail_closed_with_paths() {
        let e = compile_err(
            json!({"metadata": {"name": "a", "namespace": "ns"}, "spec": {
            "podSelector": {"matchExpressions": [{"key": "app", "operator": "Equal", "values": ["x"]}]}}}),
        );
        assert_eq!(e.path, "spec.podSelector");
        assert!(e.message.contains("`Equal`"));
        assert!(e.to_string().contains("ns/a"));
        let e = compile_err(
            json!({"metadata": {"name": "a", "namespace": "ns"}, "spec": {
            "ingress": [{"from": [{"podSelector": {}}, {"namespaceSelector":
                {"matchExpressions": [{"key": "team", "operator": "In"}]}}]}]}}),
        );
        assert_eq!(e.path, "spec.ingress[0].from[1].namespaceSelector");
        assert!(e.message.contains("`In`"));
        let e = compile_err(json!({"metadata": {"name": "a"}, "spec": {
            "policyTypes": ["Ingress", "Egress", "Ingress"]}}));
        assert_eq!(e.path, "spec.policyTypes");
    }
}
