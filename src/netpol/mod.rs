//! NetworkPolicy analysis: pure, Kubernetes-exact building blocks.
//!
//! * [`selector`]: `LabelSelector` matching (fails closed on invalid selectors);
//! * [`cidr`]: IPv4/IPv6 address sets for `ipBlock { cidr, except }`;
//! * [`ports`]: `NetworkPolicyPort` lists, named-port resolution, port sets;
//! * [`policy`]: compiled NetworkPolicies, per-policy rule matching and the
//!   cluster-wide union ("is this pod isolated, and which rules allow this
//!   connection?").
//!
//! Semantics: <https://kubernetes.io/docs/concepts/services-networking/network-policies/>
//! and the `networking.k8s.io/v1` API reference, with defaulting and
//! validation as implemented by the Kubernetes API server. Nothing here reads
//! files or prints.

pub mod cidr;
pub mod policy;
pub mod ports;
pub mod selector;

pub use cidr::{Cidr, CidrError, CidrParsing, IpSet};
pub use policy::{
    CompiledPolicy, Decision, Direction, NAMESPACE_NAME_LABEL, Peer, PodInfo, PolicyError,
    PolicyPeer, PolicyRule, PolicyTypes, RulePeers, RuleRef, evaluate, namespace_labels,
};
pub use ports::{NamedPort, PortError, PortSet, PortSpec, Protocol, RulePorts};
pub use selector::{Labels, Requirement, Selector, SelectorError, selector_matches};
