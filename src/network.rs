//! What a runner pod can reach, computed from the NetworkPolicies of the run
//! and judged against a declared allow-list.
//!
//! Destinations are not enumerated pod by pod: a rule's peer is a *region*
//! (namespaces x pod selector, or an address set), and the analysis asks which
//! destination classes that region meets — the allowed destinations (DNS, the
//! callback API, public addresses), cloud metadata endpoints, the API server,
//! the service range, private addresses, other runners, other pods of the
//! runner's namespace, pods of other namespaces — and on which ports. Label
//! reasoning is exact for selectors (implication and satisfiability of
//! requirements); namespaces whose labels the inputs do not show are judged by
//! their automatic `kubernetes.io/metadata.name` label, and where that leaves
//! the answer open the verdict is "unknown", never "allowed".

use std::collections::BTreeSet;
use std::fmt;

use crate::cluster::{Cluster, PolicyFacts};
use crate::netpol::{
    Direction, IpSet, Labels, NAMESPACE_NAME_LABEL, NamedPort, PolicyPeer, PolicyRule, PortSet,
    PortSpec, RulePeers, RulePorts, Selector,
};

/// An allowed pod destination (DNS, the callback API).
#[derive(Debug, Clone)]
pub struct PodDestination {
    /// `DNS`, `callback API`.
    pub name: String,
    pub namespace: String,
    pub selector: Selector,
    /// The ports runners may use.
    pub ports: PortSet,
    /// The ports runners need (a warning when denied).
    pub required: PortSet,
    /// What breaks when a required port is denied.
    pub purpose: String,
}

/// Allowed traffic to public addresses (HTTPS).
#[derive(Debug, Clone)]
pub struct PublicDestination {
    pub name: String,
    pub ports: PortSet,
    pub required: PortSet,
    pub purpose: String,
}

/// The allow-list and the address classes, compiled from rule parameters.
#[derive(Debug, Clone)]
pub struct Model {
    /// Which pods are runners.
    pub runners: Selector,
    pub pods: Vec<PodDestination>,
    pub public: Vec<PublicDestination>,
    pub metadata: IpSet,
    pub api_server: IpSet,
    pub services: IpSet,
    pub private: IpSet,
    /// The ranges of each address class as configured (for messages).
    pub ranges: Vec<(Class, String, IpSet)>,
}

/// A destination class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Class {
    /// `Model::pods[i]`.
    Pods(usize),
    Public,
    Metadata,
    ApiServer,
    Services,
    Private,
    /// Pods the runner selector matches, in the runner's namespace.
    Runners,
    /// The other pods of the runner's namespace.
    OwnNamespace,
    /// Pods of other namespaces, beyond the allowed destinations.
    OtherNamespaces,
}

/// Three-valued answers about namespaces whose labels may be unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tri {
    Yes,
    No,
    Unknown,
}

/// The pod being judged.
#[derive(Debug, Clone, Copy)]
pub struct Runner<'a> {
    pub namespace: &'a str,
    pub labels: &'a Labels,
    pub ports: &'a [NamedPort],
}

/// One class a peer meets, and on which ports.
#[derive(Debug, Clone)]
pub struct Reach {
    pub class: Class,
    /// Ports certainly allowed (named ports resolved against known pods).
    pub certain: PortSet,
    /// Ports possibly allowed: `certain` plus named ports that no pod among
    /// the inputs resolves (taken as every port of their protocol).
    pub possible: PortSet,
    /// Whether the peer's namespaces surely include the class's namespace
    /// (`Unknown` when that hangs on labels of a namespace not among the inputs).
    pub scope: Tri,
    /// For address classes: the addresses met.
    pub addresses: Option<IpSet>,
    /// For pod classes: the peer's pod selector (`None`: every pod).
    pub pods: Option<Selector>,
    /// For pods of other namespaces: which namespaces (`in namespaces other
    /// than workflows and kube-system`), and why they are open-ended.
    pub note: Option<String>,
}

impl Reach {
    /// A reach of a pod class.
    fn pods(
        class: Class,
        (certain, possible): (PortSet, PortSet),
        scope: Tri,
        pods: Option<&Selector>,
        note: Option<String>,
    ) -> Self {
        Reach {
            class,
            certain,
            possible,
            scope,
            addresses: None,
            pods: pods.cloned(),
            note,
        }
    }

    /// A reach of an address class.
    fn addresses(class: Class, ports: &PortSet, met: IpSet) -> Self {
        Reach {
            class,
            certain: ports.clone(),
            possible: ports.clone(),
            scope: Tri::Yes,
            addresses: Some(met),
            pods: None,
            note: None,
        }
    }
}

/// The region a peer entry (or `to`/`from` absent) selects.
#[derive(Debug, Clone, Copy)]
enum Ns<'a> {
    Any,
    Exact(&'a str),
    Matching(&'a Selector),
}

#[derive(Debug, Clone, Copy)]
struct Region<'a> {
    /// Pods: namespaces and pod selector (`None`: no pods).
    pods: Option<(Ns<'a>, Option<&'a Selector>)>,
    /// Addresses (`None`: none).
    ips: Option<&'a IpSet>,
}

fn everything() -> &'static IpSet {
    static ALL: std::sync::OnceLock<IpSet> = std::sync::OnceLock::new();
    ALL.get_or_init(IpSet::all)
}

fn region(peer: Option<&PolicyPeer>) -> Region<'_> {
    match peer {
        None => Region {
            pods: Some((Ns::Any, None)),
            ips: Some(everything()),
        },
        Some(PolicyPeer::PodsInPolicyNamespace { namespace, pods }) => Region {
            pods: Some((Ns::Exact(namespace), Some(pods))),
            ips: None,
        },
        Some(PolicyPeer::AllPodsInNamespaces { namespaces }) => Region {
            pods: Some((Ns::Matching(namespaces), None)),
            ips: None,
        },
        Some(PolicyPeer::PodsInNamespaces { namespaces, pods }) => Region {
            pods: Some((Ns::Matching(namespaces), Some(pods))),
            ips: None,
        },
        Some(PolicyPeer::IpBlock { ips, .. }) => Region {
            pods: None,
            ips: Some(ips),
        },
    }
}

/// The peers of a rule: `(index, entry)`, or a single `(None, None)` for a
/// rule without `to`/`from` (everything).
pub fn peers(rule: &PolicyRule) -> Vec<(Option<usize>, Option<&PolicyPeer>)> {
    match &rule.peers {
        RulePeers::All => vec![(None, None)],
        RulePeers::Only(list) => list
            .iter()
            .enumerate()
            .map(|(i, p)| (Some(i), Some(p)))
            .collect(),
    }
}

impl Model {
    /// Whether a pod with these labels is a runner.
    pub fn is_runner(&self, labels: &Labels) -> bool {
        self.runners.matches(labels)
    }

    /// Public addresses: everything outside the other address classes.
    pub fn public_addresses(&self) -> IpSet {
        IpSet::all()
            .subtract(&self.metadata)
            .subtract(&self.api_server)
            .subtract(&self.services)
            .subtract(&self.private)
    }

    /// Every class, in table order.
    pub fn classes(&self) -> Vec<Class> {
        let mut out: Vec<Class> = (0..self.pods.len()).map(Class::Pods).collect();
        out.extend([
            Class::Public,
            Class::Metadata,
            Class::ApiServer,
            Class::Services,
            Class::Private,
            Class::Runners,
            Class::OwnNamespace,
            Class::OtherNamespaces,
        ]);
        out
    }

    /// The ports the allow-list names, for table columns.
    pub fn named_ports(&self) -> PortSet {
        self.pods
            .iter()
            .map(|d| &d.ports)
            .chain(self.public.iter().map(|p| &p.ports))
            .fold(PortSet::empty(), |acc, p| acc.union(p))
    }

    /// The ports allowed to public addresses.
    pub fn public_ports(&self) -> PortSet {
        self.public
            .iter()
            .fold(PortSet::empty(), |acc, p| acc.union(&p.ports))
    }

    /// A short name of a class, e.g. `DNS (pods k8s-app=kube-dns in namespace kube-system)`.
    pub fn class_name(&self, class: Class, runner: &Runner<'_>) -> String {
        match class {
            Class::Pods(i) => self.pods.get(i).map_or_else(String::new, |d| {
                format!(
                    "{} (pods {} in namespace {})",
                    d.name,
                    d.selector.to_string().replace("{}", "of any labels"),
                    d.namespace
                )
            }),
            Class::Public => "public addresses".into(),
            Class::Metadata => format!("cloud metadata endpoints ({})", self.ranges_of(class)),
            Class::ApiServer => format!("the Kubernetes API server ({})", self.ranges_of(class)),
            Class::Services => format!("the cluster service range ({})", self.ranges_of(class)),
            Class::Private => "private addresses".into(),
            Class::Runners => "other runners".into(),
            Class::OwnNamespace => format!("other pods of namespace {}", runner.namespace),
            Class::OtherNamespaces => "pods of other namespaces".into(),
        }
    }

    /// What runners can reach through a class met beyond the allow-list, in
    /// plain words (`other runners`, `the cloud metadata endpoint ...`).
    pub fn consequence(&self, reach: &Reach, runner: &Runner<'_>, ports: &PortSet) -> String {
        let addresses = reach
            .addresses
            .as_ref()
            .map(|met| self.ranges_met(reach.class, met))
            .unwrap_or_default();
        let which = |what: &str| match &reach.pods {
            None => format!("every {what}"),
            Some(sel) if sel.is_everything() => format!("every {what}"),
            Some(sel) => format!("{what}s matching {sel}"),
        };
        match reach.class {
            Class::Pods(i) => format!(
                "{} on {ports} (allowed: {})",
                self.class_name(reach.class, runner),
                self.pods
                    .get(i)
                    .map_or_else(String::new, |d| d.ports.to_string())
            ),
            Class::Public => format!(
                "public addresses on {ports} (allowed: {})",
                self.public_ports()
            ),
            Class::Metadata => format!(
                "the cloud metadata endpoint ({addresses}) and with it the node's cloud credentials"
            ),
            Class::ApiServer => format!("the Kubernetes API server ({addresses})"),
            Class::Services => format!("cluster services ({addresses})"),
            Class::Private => {
                format!("private addresses ({addresses}) of nodes, pods and internal services")
            }
            Class::Runners => "other runners".into(),
            Class::OwnNamespace => match &reach.pods {
                Some(sel) if !sel.is_everything() => {
                    format!("pods of namespace {} that match {sel}", runner.namespace)
                }
                _ => format!("every other pod of namespace {}", runner.namespace),
            },
            Class::OtherNamespaces => format!(
                "{} {}",
                which("pod"),
                reach.note.as_deref().unwrap_or("in other namespaces")
            ),
        }
    }
}

impl Model {
    /// The configured ranges of an address class, as written.
    pub fn ranges_of(&self, class: Class) -> String {
        self.ranges
            .iter()
            .filter(|(c, _, _)| *c == class)
            .map(|(_, text, _)| text.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The configured ranges of `class` that `met` overlaps, as written
    /// (`169.254.0.0/16, 100.64.0.0/10`); public addresses are shown as met.
    pub fn ranges_met(&self, class: Class, met: &IpSet) -> String {
        let named: Vec<String> = self
            .ranges
            .iter()
            .filter(|(c, _, set)| *c == class && !set.intersect(met).is_empty())
            .map(|(_, text, _)| text.clone())
            .collect();
        if named.is_empty() {
            short_set(met)
        } else {
            named.join(", ")
        }
    }
}

/// `a`, `a and b`, `a, b and c`.
pub fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// At most three prefixes of a set, then `and N more`.
pub fn short_set(set: &IpSet) -> String {
    let cidrs = set.to_cidrs();
    let mut shown: Vec<String> = cidrs.iter().take(3).map(ToString::to_string).collect();
    if cidrs.len() > 3 {
        shown.push(format!("and {} more", cidrs.len() - 3));
    }
    shown.join(", ")
}

/// Whether a namespace region includes the namespace `name`.
fn ns_contains(cluster: &Cluster, ns: Ns<'_>, name: &str) -> Tri {
    match ns {
        Ns::Any => Tri::Yes,
        Ns::Exact(n) => {
            if n == name {
                Tri::Yes
            } else {
                Tri::No
            }
        }
        Ns::Matching(sel) => {
            if sel.matches(&cluster.namespace_labels(name)) {
                Tri::Yes
            } else if cluster.namespaces.contains_key(name)
                || sel
                    .requirements()
                    .iter()
                    .all(|r| r.key() == NAMESPACE_NAME_LABEL)
            {
                Tri::No
            } else {
                // Hangs on labels of a namespace the inputs do not show.
                Tri::Unknown
            }
        }
    }
}

/// Whether a namespace region lies within the namespaces `names`.
fn ns_within(ns: Ns<'_>, names: &[&str]) -> bool {
    match ns {
        Ns::Any => false,
        Ns::Exact(n) => names.contains(&n),
        Ns::Matching(sel) => sel
            .pinned_values(NAMESPACE_NAME_LABEL)
            .is_some_and(|p| p.iter().all(|v| names.contains(&v.as_str()))),
    }
}

fn implies(pods: Option<&Selector>, target: &Selector) -> bool {
    match pods {
        None => target.is_everything(),
        Some(sel) => sel.implies(target),
    }
}

/// Whether a peer's pod selector takes in the destination's pods: every pod
/// the destination selector matches, or at least a pod carrying just the
/// labels that selector requires (the destination's own pods, as far as the
/// inputs can tell). A selector that only meets the destination by demanding
/// labels of its own is not taken to reach it.
fn covers(pods: Option<&Selector>, target: &Selector) -> bool {
    match pods {
        None => true,
        Some(sel) => {
            target.implies(sel)
                || target
                    .sample_labels()
                    .is_some_and(|labels| sel.matches(&labels))
        }
    }
}

fn matches(pods: Option<&Selector>, labels: &Labels) -> bool {
    pods.is_none_or(|s| s.matches(labels))
}

/// `(certain, possible)` ports of a rule towards pods whose named ports are
/// `known` (`None`: no such pod among the inputs).
fn pod_ports(ports: &RulePorts, known: Option<&[NamedPort]>) -> (PortSet, PortSet) {
    if ports.is_all() {
        return (PortSet::all(), PortSet::all());
    }
    let mut certain = PortSet::empty();
    let mut possible = PortSet::empty();
    for spec in ports.specs() {
        match (spec, known) {
            (PortSpec::Named { protocol, .. }, None) => {
                possible = possible.union(&PortSet::protocol(*protocol));
            }
            (spec, known) => {
                let set = spec.resolve(known.unwrap_or_default());
                certain = certain.union(&set);
                possible = possible.union(&set);
            }
        }
    }
    (certain, possible)
}

/// Ports of a rule towards addresses: named ports never match an address.
fn ip_ports(ports: &RulePorts) -> PortSet {
    ports.resolve(&[])
}

/// The named ports of the pods among the inputs that a destination selects
/// (`None`: no such pod), computed once per cluster.
fn known_ports(cluster: &Cluster, namespace: &str, selector: &Selector) -> Option<Vec<NamedPort>> {
    cluster.memo_ports(namespace, selector, || {
        let mut found = false;
        let mut ports: BTreeSet<NamedPort> = BTreeSet::new();
        for p in cluster
            .pods
            .iter()
            .filter(|p| p.namespace == namespace && selector.matches(&p.labels))
        {
            found = true;
            ports.extend(p.ports.iter().cloned());
        }
        found.then(|| ports.into_iter().collect())
    })
}

/// The classes one peer entry of an egress rule meets.
pub fn reaches(
    model: &Model,
    cluster: &Cluster,
    runner: &Runner<'_>,
    rule: &PolicyRule,
    peer: Option<&PolicyPeer>,
) -> Vec<Reach> {
    let region = region(peer);
    let mut out = Vec::new();
    if let Some((ns, pods)) = region.pods {
        for (i, d) in model.pods.iter().enumerate() {
            let scope = ns_contains(cluster, ns, &d.namespace);
            if scope != Tri::No && covers(pods, &d.selector) {
                let known = known_ports(cluster, &d.namespace, &d.selector);
                let ports = pod_ports(&rule.ports, known.as_deref());
                out.push(Reach::pods(Class::Pods(i), ports, scope, pods, None));
            }
        }
        let own = ns_contains(cluster, ns, runner.namespace) == Tri::Yes;
        if own && matches(pods, runner.labels) {
            let ports = pod_ports(&rule.ports, Some(runner.ports));
            out.push(Reach::pods(Class::Runners, ports, Tri::Yes, pods, None));
        }
        let ports = pod_ports(&rule.ports, None);
        if own && !implies(pods, &model.runners) {
            out.push(Reach::pods(
                Class::OwnNamespace,
                ports.clone(),
                Tri::Yes,
                pods,
                None,
            ));
        }
        let inside_allowed = model
            .pods
            .iter()
            .any(|d| ns_within(ns, &[&d.namespace]) && implies(pods, &d.selector));
        if !ns_within(ns, &[runner.namespace]) && !inside_allowed {
            let note = other_namespaces(model, runner, ns, pods);
            out.push(Reach::pods(
                Class::OtherNamespaces,
                ports,
                Tri::Yes,
                pods,
                Some(note),
            ));
        }
    }
    if let Some(ips) = region.ips {
        let ports = ip_ports(&rule.ports);
        if !ports.is_empty() {
            let mut rest = ips.clone();
            for (class, set) in [
                (Class::Metadata, &model.metadata),
                (Class::ApiServer, &model.api_server),
                (Class::Services, &model.services),
                (Class::Private, &model.private),
            ] {
                let met = rest.intersect(set);
                if !met.is_empty() {
                    rest = rest.subtract(&met);
                    out.push(Reach::addresses(class, &ports, met));
                }
            }
            if !rest.is_empty() {
                out.push(Reach::addresses(Class::Public, &ports, rest));
            }
        }
    }
    out
}

/// Which other namespaces a region takes in (`in namespaces other than
/// workflows and kube-system`), and why they are open-ended when they are.
fn other_namespaces(
    model: &Model,
    runner: &Runner<'_>,
    ns: Ns<'_>,
    pods: Option<&Selector>,
) -> String {
    let mut excluded = vec![runner.namespace.to_string()];
    for d in &model.pods {
        if implies(pods, &d.selector) && !excluded.contains(&d.namespace) {
            excluded.push(d.namespace.clone());
        }
    }
    let place = match ns {
        Ns::Exact(n) => format!("in namespace {n}"),
        Ns::Matching(sel) => match sel.pinned_values(NAMESPACE_NAME_LABEL) {
            Some(names) => format!(
                "in namespace{} {}",
                if names.len() == 1 { "" } else { "s" },
                names.into_iter().collect::<Vec<_>>().join(", ")
            ),
            None => format!("in namespaces other than {}", and_list(&excluded)),
        },
        Ns::Any => format!("in namespaces other than {}", and_list(&excluded)),
    };
    match ns {
        Ns::Matching(sel)
            if sel.pinned_values(NAMESPACE_NAME_LABEL).is_none() && !sel.is_everything() =>
        {
            format!(
                "{place} (any namespace can be given the labels {sel}; select namespaces by {NAMESPACE_NAME_LABEL})"
            )
        }
        _ => place,
    }
}

/// The ports of a reach beyond what the allow-list permits for its class
/// (empty: within the allow-list).
pub fn excess(model: &Model, reach: &Reach) -> PortSet {
    match reach.class {
        Class::Pods(i) => model.pods.get(i).map_or_else(
            || reach.possible.clone(),
            |d| reach.possible.subtract(&d.ports),
        ),
        Class::Public => reach.possible.subtract(&model.public_ports()),
        _ => reach.possible.clone(),
    }
}

/// A peer entry of an egress rule that opens paths beyond the allow-list.
#[derive(Debug, Clone)]
pub struct Violation {
    /// Zero-based rule index.
    pub rule: usize,
    /// Zero-based peer index (`None`: the rule has no `to`).
    pub peer: Option<usize>,
    /// `allows TCP/443 to every pod in namespace workflows`.
    pub allows: String,
    /// Consequences, most severe first.
    pub consequences: Vec<String>,
}

/// Every egress path of `policy` beyond the allow-list for `runner`.
pub fn violations(
    model: &Model,
    cluster: &Cluster,
    runner: &Runner<'_>,
    policy: &crate::netpol::CompiledPolicy,
) -> Vec<Violation> {
    let mut out = Vec::new();
    if !policy.affects(Direction::Egress) {
        return out;
    }
    for rule in &policy.egress {
        for (index, peer) in peers(rule) {
            let mut found: Vec<(Class, String)> = Vec::new();
            for reach in reaches(model, cluster, runner, rule, peer) {
                let beyond = excess(model, &reach);
                if beyond.is_empty() {
                    continue;
                }
                found.push((reach.class, model.consequence(&reach, runner, &beyond)));
            }
            if found.is_empty() {
                continue;
            }
            found.sort_by_key(|(c, _)| severity_rank(*c));
            let target = peer.map_or_else(
                || "anywhere (every pod, namespace and address)".to_string(),
                ToString::to_string,
            );
            out.push(Violation {
                rule: rule.index,
                peer: index,
                allows: format!("allows {} to {target}", rule.ports),
                consequences: found.into_iter().map(|(_, c)| c).collect(),
            });
        }
    }
    out
}

/// Most severe first: metadata credentials, the API server, other runners...
fn severity_rank(class: Class) -> u8 {
    match class {
        Class::Metadata => 0,
        Class::ApiServer => 1,
        Class::Runners => 2,
        Class::OwnNamespace => 3,
        Class::OtherNamespaces => 4,
        Class::Services => 5,
        Class::Private => 6,
        Class::Public => 7,
        Class::Pods(_) => 8,
    }
}

/// A required destination that the runner's egress does not allow.
#[derive(Debug, Clone)]
pub struct Missing {
    /// `HTTPS (TCP/443) to public addresses`.
    pub what: String,
    /// The ports denied.
    pub ports: PortSet,
    pub purpose: String,
    /// Why it cannot be decided, when that is the case.
    pub unverified: Option<String>,
}

/// The required destinations the runner's egress denies (or may deny).
/// Empty when no policy restricts the runner's egress.
pub fn missing(model: &Model, cluster: &Cluster, runner: &Runner<'_>) -> Vec<Missing> {
    let isolating: Vec<&PolicyFacts> = cluster
        .isolating(runner.namespace, runner.labels, Direction::Egress)
        .collect();
    let mut out = Vec::new();
    if isolating.is_empty() {
        return out;
    }
    let all_reaches: Vec<(Reach, Option<&PolicyPeer>)> = isolating
        .iter()
        .flat_map(|p| &p.policy.egress)
        .flat_map(|rule| {
            peers(rule).into_iter().flat_map(move |(_, peer)| {
                reaches(model, cluster, runner, rule, peer)
                    .into_iter()
                    .map(move |r| (r, peer))
            })
        })
        .collect();
    for (i, d) in model.pods.iter().enumerate() {
        if d.required.is_empty() {
            continue;
        }
        let sample = d.selector.sample_labels().unwrap_or_default();
        let mut certain = PortSet::empty();
        let mut possible = PortSet::empty();
        let mut by_labels: Vec<String> = Vec::new();
        for (reach, peer) in &all_reaches {
            if reach.class != Class::Pods(i) {
                continue;
            }
            let region = region(*peer);
            let pods = region.pods.and_then(|(_, s)| s);
            let covers = implies(Some(&d.selector), pods.unwrap_or(&Selector::everything()))
                || matches(pods, &sample);
            if !covers {
                continue;
            }
            if reach.scope == Tri::Yes {
                certain = certain.union(&reach.certain);
            } else if let Some((Ns::Matching(sel), _)) = region.pods {
                push_unique(&mut by_labels, &sel.to_string());
            }
            possible = possible.union(&reach.possible);
        }
        let denied = d.required.subtract(&certain);
        if denied.is_empty() {
            continue;
        }
        let unverified = denied.is_subset(&possible).then(|| {
            if by_labels.is_empty() {
                format!(
                    "the rules name ports of its pods by name, and no pod matching {} in namespace {} is among the inputs",
                    d.selector, d.namespace
                )
            } else {
                format!(
                    "the rules select its namespace by the labels {}, and Namespace {} is not among the inputs",
                    and_list(&by_labels),
                    d.namespace
                )
            }
        });
        out.push(Missing {
            what: format!(
                "{} ({denied} to pods {} in namespace {})",
                d.name, d.selector, d.namespace
            ),
            ports: denied,
            purpose: d.purpose.clone(),
            unverified,
        });
    }
    let public_ports = all_reaches
        .iter()
        .filter(|(r, _)| r.class == Class::Public)
        .fold(PortSet::empty(), |acc, (r, _)| acc.union(&r.certain));
    for p in &model.public {
        let denied = p.required.subtract(&public_ports);
        if denied.is_empty() {
            continue;
        }
        out.push(Missing {
            what: format!("{} ({denied}) to public addresses", p.name),
            ports: denied,
            purpose: p.purpose.clone(),
            unverified: None,
        });
    }
    out
}

/// One cell of the reachability table.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Cell {
    /// `allowed`, `denied`, `unknown` (hangs on objects not among the inputs).
    pub verdict: &'static str,
    /// Who decides: `egress rule 2 of ns/name`, or why nothing does.
    pub by: Vec<String>,
    /// The allow-list does not permit this class on these ports.
    pub beyond_allow_list: bool,
    /// The runner needs this class on these ports.
    pub required: bool,
}

/// One row: a destination class.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Row {
    pub destination: String,
    /// Whether the allow-list permits this class at all.
    pub expected: String,
    pub cells: Vec<Cell>,
}

/// The reachability table of one runner.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Table {
    /// Column headings: `UDP/53`, ..., `other ports`.
    pub columns: Vec<String>,
    pub rows: Vec<Row>,
    /// Policies that isolate the runner's egress (`ns/name`).
    pub egress_policies: Vec<String>,
    /// Policies that isolate its ingress, and the ingress rules that allow something.
    pub ingress_policies: Vec<String>,
    pub ingress_allowed_by: Vec<String>,
}

fn rule_name(p: &PolicyFacts, direction: Direction, index: usize) -> String {
    let at = p.rule_at(direction, index);
    format!(
        "{direction} rule {} of {} ({}:{}:{})",
        index + 1,
        p.policy.id(),
        at.file,
        at.start_lc.line,
        at.start_lc.column
    )
}

/// Computes the table for one runner.
pub fn table(model: &Model, cluster: &Cluster, runner: &Runner<'_>) -> Table {
    let listed = model.named_ports();
    let mut columns: Vec<(String, PortSet)> = Vec::new();
    for proto in crate::netpol::Protocol::ALL {
        for &(lo, hi) in listed.ranges(proto) {
            let name = if lo == hi {
                format!("{proto}/{lo}")
            } else {
                format!("{proto}/{lo}-{hi}")
            };
            columns.push((name, PortSet::range(proto, lo, hi)));
        }
    }
    let egress: Vec<&PolicyFacts> = cluster
        .isolating(runner.namespace, runner.labels, Direction::Egress)
        .collect();
    let ingress: Vec<&PolicyFacts> = cluster
        .isolating(runner.namespace, runner.labels, Direction::Ingress)
        .collect();
    // Every reach of every egress rule, once; rows pick theirs.
    let all: Vec<(String, Reach)> = egress
        .iter()
        .flat_map(|p| {
            p.policy.egress.iter().flat_map(move |rule| {
                let name = rule_name(p, Direction::Egress, rule.index);
                peers(rule).into_iter().flat_map(move |(_, peer)| {
                    let name = name.clone();
                    reaches(model, cluster, runner, rule, peer)
                        .into_iter()
                        .map(move |r| (name.clone(), r))
                })
            })
        })
        .collect();
    let mut rows = Vec::new();
    for class in model.classes() {
        let expected = match class {
            Class::Pods(i) => model
                .pods
                .get(i)
                .map_or_else(String::new, |d| d.ports.to_string()),
            Class::Public => model.public_ports().to_string(),
            _ => "nothing".to_string(),
        };
        let mut cells: Vec<Cell> = Vec::new();
        let ncols = columns.len() + 1;
        if egress.is_empty() {
            let why = if cluster.policy_namespaces.contains(runner.namespace) {
                "no NetworkPolicy isolates this runner's egress"
            } else {
                "no NetworkPolicy of the namespace is among the inputs"
            };
            for _ in 0..ncols {
                cells.push(Cell {
                    verdict: "allowed",
                    by: vec![why.to_string()],
                    beyond_allow_list: false,
                    required: false,
                });
            }
        } else {
            let mut by: Vec<(Vec<String>, Vec<String>)> = vec![(Vec::new(), Vec::new()); ncols];
            for (name, reach) in &all {
                if reach.class != class {
                    continue;
                }
                let sure = reach.scope == Tri::Yes;
                for (c, (_, set)) in columns.iter().enumerate() {
                    let (yes, maybe) = &mut by[c];
                    if sure && !reach.certain.intersect(set).is_empty() {
                        push_unique(yes, name);
                    } else if !reach.possible.intersect(set).is_empty() {
                        push_unique(maybe, name);
                    }
                }
                let other = &mut by[ncols - 1];
                if sure && !reach.certain.subtract(&listed).is_empty() {
                    push_unique(&mut other.0, name);
                } else if !reach.possible.subtract(&listed).is_empty() {
                    push_unique(&mut other.1, name);
                }
            }
            for (yes, maybe) in by {
                let (verdict, by) = if !yes.is_empty() {
                    ("allowed", yes)
                } else if !maybe.is_empty() {
                    ("unknown", maybe)
                } else {
                    ("denied", Vec::new())
                };
                cells.push(Cell {
                    verdict,
                    by,
                    beyond_allow_list: false,
                    required: false,
                });
            }
        }
        for (c, cell) in cells.iter_mut().enumerate() {
            let ports = columns.get(c).map(|(_, set)| set);
            let (allowed, required) = match class {
                Class::Pods(i) => model
                    .pods
                    .get(i)
                    .map_or((PortSet::empty(), PortSet::empty()), |d| {
                        (d.ports.clone(), d.required.clone())
                    }),
                Class::Public => (
                    model.public_ports(),
                    model
                        .public
                        .iter()
                        .fold(PortSet::empty(), |acc, p| acc.union(&p.required)),
                ),
                _ => (PortSet::empty(), PortSet::empty()),
            };
            cell.beyond_allow_list = match ports {
                Some(set) => !set.is_subset(&allowed),
                None => true,
            };
            cell.required = ports.is_some_and(|set| set.is_subset(&required) && !set.is_empty());
        }
        rows.push(Row {
            destination: model.class_name(class, runner),
            expected,
            cells,
        });
    }
    let mut ingress_allowed_by = Vec::new();
    for p in &ingress {
        for rule in &p.policy.ingress {
            ingress_allowed_by.push(format!(
                "{}: {rule}",
                rule_name(p, Direction::Ingress, rule.index)
            ));
        }
    }
    let mut cols: Vec<String> = columns.into_iter().map(|(n, _)| n).collect();
    cols.push("other ports".into());
    Table {
        columns: cols,
        rows,
        egress_policies: egress.iter().map(|p| p.policy.id()).collect(),
        ingress_policies: ingress.iter().map(|p| p.policy.id()).collect(),
        ingress_allowed_by,
    }
}

fn push_unique(v: &mut Vec<String>, s: &str) {
    if !v.iter().any(|x| x == s) {
        v.push(s.to_string());
    }
}

impl fmt::Display for Tri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Tri::Yes => "yes",
            Tri::No => "no",
            Tri::Unknown => "unknown",
        })
    }
}
