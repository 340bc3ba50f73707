//! NetworkPolicy ports (`NetworkPolicyPort`) and port sets.
//!
//! Semantics follow the NetworkPolicy API reference and `ValidateNetworkPolicyPort`:
//!
//! * `protocol` is `TCP`, `UDP` or `SCTP` (case-sensitive) and defaults to TCP;
//! * `port` is a number (1-65535) or an IANA service name resolved against the
//!   container ports of the pod receiving the traffic (for egress, the
//!   destination pod; for ingress, the selected pod). A name the pod does not
//!   define with that protocol matches nothing;
//! * `port` absent means every port of `protocol`;
//! * `endPort` makes `port..=endPort` a range; it requires a numeric `port`
//!   and `endPort >= port`;
//! * a rule whose `ports` list is absent or empty allows every port and every
//!   protocol.

use std::fmt;

use k8s_openapi::api::core::v1::ContainerPort;
use k8s_openapi::api::networking::v1::NetworkPolicyPort;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// A NetworkPolicy protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Protocol {
    /// `TCP`, the default.
    Tcp,
    /// `UDP`.
    Udp,
    /// `SCTP`.
    Sctp,
}

impl Protocol {
    /// All protocols, in display order.
    pub const ALL: [Protocol; 3] = [Protocol::Tcp, Protocol::Udp, Protocol::Sctp];

    /// Parses `TCP`, `UDP` or `SCTP` exactly as Kubernetes spells them.
    pub fn parse(text: &str) -> Result<Self, PortError> {
        match text {
            "TCP" => Ok(Protocol::Tcp),
            "UDP" => Ok(Protocol::Udp),
            "SCTP" => Ok(Protocol::Sctp),
            other => Err(PortError::UnknownProtocol(other.to_string())),
        }
    }

    /// The Kubernetes spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Sctp => "SCTP",
        }
    }

    fn index(self) -> usize {
        match self {
            Protocol::Tcp => 0,
            Protocol::Udp => 1,
            Protocol::Sctp => 2,
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Protocol {
    type Err = PortError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Protocol::parse(s)
    }
}

/// Why a `NetworkPolicyPort` is invalid (Kubernetes rejects these objects).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortError {
    /// Protocol other than TCP, UDP, SCTP.
    #[error("unsupported protocol `{0}` (valid: TCP, UDP, SCTP)")]
    UnknownProtocol(String),
    /// Port number outside 1-65535.
    #[error("port {0} is out of range (must be 1-65535)")]
    PortOutOfRange(i32),
    /// endPort outside 1-65535.
    #[error("endPort {0} is out of range (must be 1-65535)")]
    EndPortOutOfRange(i32),
    /// endPort below port.
    #[error("endPort {end_port} must be greater than or equal to port {port}")]
    EndPortBelowPort {
        /// `port`.
        port: u16,
        /// `endPort`.
        end_port: i32,
    },
    /// endPort with a named port.
    #[error("endPort may not be specified when port is the named port `{0}`")]
    EndPortWithNamedPort(String),
    /// endPort without port.
    #[error("endPort may not be specified when port is not specified")]
    EndPortWithoutPort,
    /// A port name that is not a valid IANA_SVC_NAME.
    #[error(
        "port name `{0}` is invalid (1-15 lowercase letters, digits and '-', with at least one letter, no leading, trailing or double '-')"
    )]
    InvalidPortName(String),
}

/// Whether `name` is a valid IANA_SVC_NAME (Kubernetes `IsValidPortName`).
pub fn is_valid_port_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 15
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && bytes.iter().any(u8::is_ascii_lowercase)
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !name.contains("--")
}

/// A named container port of a pod: `name -> (protocol, number)`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NamedPort {
    /// `containers[].ports[].name`.
    pub name: String,
    /// Its protocol (TCP when omitted).
    pub protocol: Protocol,
    /// `containerPort`.
    pub port: u16,
}

impl NamedPort {
    /// Collects the named ports of a pod's containers. Unnamed ports, ports
    /// outside 1-65535 and unknown protocols are skipped (Kubernetes would have
    /// rejected such pods, and unnamed ports cannot be referenced by name).
    pub fn from_container_ports<'a>(
        ports: impl IntoIterator<Item = &'a ContainerPort>,
    ) -> Vec<NamedPort> {
        let mut out: Vec<NamedPort> = ports
            .into_iter()
            .filter_map(|p| {
                let name = p.name.as_ref().filter(|n| !n.is_empty())?;
                let protocol = match p.protocol.as_deref() {
                    None => Protocol::Tcp,
                    Some(text) => Protocol::parse(text).ok()?,
                };
                let port = u16::try_from(p.container_port).ok().filter(|n| *n != 0)?;
                Some(NamedPort {
                    name: name.clone(),
                    protocol,
                    port,
                })
            })
            .collect();
        out.sort();
        out.dedup();
        out
    }
}

type Ranges = Vec<(u16, u16)>;

fn normalize(mut ranges: Ranges) -> Ranges {
    ranges.retain(|(lo, hi)| lo <= hi);
    ranges.sort_unstable();
    let mut out: Ranges = Vec::with_capacity(ranges.len());
    for (lo, hi) in ranges {
        if let Some(last) = out.last_mut()
            && (lo <= last.1 || last.1.checked_add(1) == Some(lo))
        {
            last.1 = last.1.max(hi);
            continue;
        }
        out.push((lo, hi));
    }
    out
}

fn intersect(a: &[(u16, u16)], b: &[(u16, u16)]) -> Ranges {
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    while let (Some(&(alo, ahi)), Some(&(blo, bhi))) = (a.get(i), b.get(j)) {
        let (lo, hi) = (alo.max(blo), ahi.min(bhi));
        if lo <= hi {
            out.push((lo, hi));
        }
        if ahi < bhi {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}

/// A set of (protocol, port) pairs: sorted disjoint inclusive port ranges per
/// protocol, or "all ports and protocols" (what a rule without `ports` allows,
/// including traffic without ports such as ICMP).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct PortSet {
    all: bool,
    /// Indexed by [`Protocol::index`]: TCP, UDP, SCTP.
    ranges: [Ranges; 3],
}

impl PortSet {
    /// No ports at all.
    pub fn empty() -> Self {
        Self::default()
    }

    /// All ports and all protocols.
    pub fn all() -> Self {
        Self {
            all: true,
            ranges: Default::default(),
        }
    }

    /// One port of one protocol.
    pub fn single(protocol: Protocol, port: u16) -> Self {
        Self::range(protocol, port, port)
    }

    /// `first..=last` of one protocol (empty when `first > last`; port 0 is
    /// not a port and is dropped).
    pub fn range(protocol: Protocol, first: u16, last: u16) -> Self {
        let mut set = Self::empty();
        let first = first.max(1);
        if first <= last
            && let Some(r) = set.ranges.get_mut(protocol.index())
        {
            r.push((first, last));
        }
        set
    }

    /// Every port (1-65535) of one protocol.
    pub fn protocol(protocol: Protocol) -> Self {
        Self::range(protocol, 1, u16::MAX)
    }

    /// True when this is "all ports and protocols".
    pub fn is_all(&self) -> bool {
        self.all
    }

    /// True when nothing is allowed.
    pub fn is_empty(&self) -> bool {
        !self.all && self.ranges.iter().all(Vec::is_empty)
    }

    /// The port ranges of one protocol (empty when [`PortSet::is_all`]; check it first).
    pub fn ranges(&self, protocol: Protocol) -> &[(u16, u16)] {
        self.ranges
            .get(protocol.index())
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// Whether `protocol/port` is in the set. "All ports" contains everything.
    pub fn contains(&self, protocol: Protocol, port: u16) -> bool {
        self.all
            || self
                .ranges(protocol)
                .iter()
                .any(|&(lo, hi)| lo <= port && port <= hi)
    }

    /// Pairs in either set.
    pub fn union(&self, other: &PortSet) -> PortSet {
        if self.all || other.all {
            return PortSet::all();
        }
        let mut out = PortSet::empty();
        for p in Protocol::ALL {
            let merged: Ranges = self
                .ranges(p)
                .iter()
                .chain(other.ranges(p))
                .copied()
                .collect();
            if let Some(slot) = out.ranges.get_mut(p.index()) {
                *slot = normalize(merged);
            }
        }
        out
    }

    /// Pairs in both sets.
    pub fn intersect(&self, other: &PortSet) -> PortSet {
        if self.all {
            return other.clone();
        }
        if other.all {
            return self.clone();
        }
        let mut out = PortSet::empty();
        for p in Protocol::ALL {
            if let Some(slot) = out.ranges.get_mut(p.index()) {
                *slot = intersect(self.ranges(p), other.ranges(p));
            }
        }
        out
    }

    /// Pairs in `self` but not in `other`. "All ports" minus a port set keeps
    /// every TCP, UDP and SCTP port outside `other`; traffic without ports
    /// (such as ICMP) is dropped unless `other` is empty.
    pub fn subtract(&self, other: &PortSet) -> PortSet {
        if other.all {
            return PortSet::empty();
        }
        if other.is_empty() {
            return self.clone();
        }
        let mut out = PortSet::empty();
        for p in Protocol::ALL {
            let mine: Ranges = if self.all {
                vec![(1, u16::MAX)]
            } else {
                self.ranges(p).to_vec()
            };
            let mut left = Vec::new();
            for (lo, hi) in mine {
                // The first port not yet accounted for; None once past u16::MAX.
                let mut start = Some(lo);
                for &(olo, ohi) in other.ranges(p) {
                    let Some(s) = start else { break };
                    if ohi < s || olo > hi {
                        continue;
                    }
                    if olo > s {
                        left.push((s, olo - 1));
                    }
                    start = ohi.checked_add(1);
                }
                if let Some(s) = start
                    && s <= hi
                {
                    left.push((s, hi));
                }
            }
            if let Some(slot) = out.ranges.get_mut(p.index()) {
                *slot = normalize(left);
            }
        }
        out
    }

    /// Whether every pair of `self` is in `other`.
    pub fn is_subset(&self, other: &PortSet) -> bool {
        if other.all {
            return true;
        }
        if self.all {
            return false;
        }
        self.subtract(other).is_empty()
    }

    fn insert(&mut self, protocol: Protocol, first: u16, last: u16) {
        *self = self.union(&PortSet::range(protocol, first, last));
    }
}

impl fmt::Display for PortSet {
    /// `TCP/443, UDP/53, TCP/1000-2000`-style rendering: `all ports` for the
    /// unrestricted set, `all UDP ports` for a whole protocol, `no ports` when empty.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.all {
            return f.write_str("all ports");
        }
        if self.is_empty() {
            return f.write_str("no ports");
        }
        let mut first = true;
        for p in Protocol::ALL {
            for &(lo, hi) in self.ranges(p) {
                if !first {
                    f.write_str(", ")?;
                }
                first = false;
                if lo <= 1 && hi == u16::MAX {
                    write!(f, "all {p} ports")?;
                } else if lo == hi {
                    write!(f, "{p}/{lo}")?;
                } else {
                    write!(f, "{p}/{lo}-{hi}")?;
                }
            }
        }
        Ok(())
    }
}

/// One compiled entry of a rule's `ports` list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortSpec {
    /// `{protocol}` with no `port`: every port of the protocol.
    AllOf(Protocol),
    /// `{protocol, port, endPort?}`: `first..=last` (equal without endPort).
    Numbers {
        /// Protocol.
        protocol: Protocol,
        /// `port`.
        first: u16,
        /// `endPort`, or `port`.
        last: u16,
    },
    /// `{protocol, port: "<name>"}`: the receiving pod's container port of that
    /// name and protocol, if any.
    Named {
        /// Protocol.
        protocol: Protocol,
        /// Port name.
        name: String,
    },
}

impl PortSpec {
    /// Validates and compiles one `NetworkPolicyPort` (`ValidateNetworkPolicyPort`).
    pub fn compile(port: &NetworkPolicyPort) -> Result<Self, PortError> {
        let protocol = match port.protocol.as_deref() {
            None => Protocol::Tcp,
            Some(p) => Protocol::parse(p)?,
        };
        match (&port.port, port.end_port) {
            (None, None) => Ok(PortSpec::AllOf(protocol)),
            (None, Some(_)) => Err(PortError::EndPortWithoutPort),
            (Some(IntOrString::Int(n)), end) => {
                let first = u16::try_from(*n)
                    .ok()
                    .filter(|p| *p != 0)
                    .ok_or(PortError::PortOutOfRange(*n))?;
                let last = match end {
                    None => first,
                    Some(e) => {
                        let last = u16::try_from(e)
                            .ok()
                            .filter(|p| *p != 0)
                            .ok_or(PortError::EndPortOutOfRange(e))?;
                        if last < first {
                            return Err(PortError::EndPortBelowPort {
                                port: first,
                                end_port: e,
                            });
                        }
                        last
                    }
                };
                Ok(PortSpec::Numbers {
                    protocol,
                    first,
                    last,
                })
            }
            (Some(IntOrString::String(name)), end) => {
                if end.is_some() {
                    return Err(PortError::EndPortWithNamedPort(name.clone()));
                }
                if !is_valid_port_name(name) {
                    return Err(PortError::InvalidPortName(name.clone()));
                }
                Ok(PortSpec::Named {
                    protocol,
                    name: name.clone(),
                })
            }
        }
    }

    /// The ports this entry allows on a pod with these named container ports.
    pub fn resolve(&self, named_ports: &[NamedPort]) -> PortSet {
        match self {
            PortSpec::AllOf(p) => PortSet::protocol(*p),
            PortSpec::Numbers {
                protocol,
                first,
                last,
            } => PortSet::range(*protocol, *first, *last),
            PortSpec::Named { protocol, name } => {
                let mut set = PortSet::empty();
                for np in named_ports {
                    if np.name == *name && np.protocol == *protocol {
                        set.insert(np.protocol, np.port, np.port);
                    }
                }
                set
            }
        }
    }
}

impl fmt::Display for PortSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PortSpec::AllOf(p) => write!(f, "all {p} ports"),
            PortSpec::Numbers {
                protocol,
                first,
                last,
            } if first == last => write!(f, "{protocol}/{first}"),
            PortSpec::Numbers {
                protocol,
                first,
                last,
            } => write!(f, "{protocol}/{first}-{last}"),
            PortSpec::Named { protocol, name } => write!(f, "{protocol}/{name}"),
        }
    }
}

/// The `ports` of one ingress or egress rule. `None` (list absent or empty)
/// allows every port and protocol; otherwise the entries are OR-ed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RulePorts {
    specs: Option<Vec<PortSpec>>,
}

impl RulePorts {
    /// Every port and protocol (a rule without `ports`).
    pub fn all() -> Self {
        Self { specs: None }
    }

    /// Compiles a rule's `ports` list; the error carries the entry's index.
    pub fn compile(ports: Option<&[NetworkPolicyPort]>) -> Result<Self, (usize, PortError)> {
        match ports {
            None | Some([]) => Ok(Self::all()),
            Some(list) => list
                .iter()
                .enumerate()
                .map(|(i, p)| PortSpec::compile(p).map_err(|e| (i, e)))
                .collect::<Result<Vec<_>, _>>()
                .map(|specs| Self { specs: Some(specs) }),
        }
    }

    /// True when the rule does not restrict ports.
    pub fn is_all(&self) -> bool {
        self.specs.is_none()
    }

    /// The entries (empty when [`RulePorts::is_all`]).
    pub fn specs(&self) -> &[PortSpec] {
        self.specs.as_deref().unwrap_or_default()
    }

    /// The ports allowed on a receiving pod with these named container ports.
    pub fn resolve(&self, named_ports: &[NamedPort]) -> PortSet {
        match &self.specs {
            None => PortSet::all(),
            Some(specs) => specs.iter().fold(PortSet::empty(), |acc, s| {
                acc.union(&s.resolve(named_ports))
            }),
        }
    }

    /// Whether `protocol/port` is allowed on a receiving pod with these named ports.
    pub fn allows(&self, protocol: Protocol, port: u16, named_ports: &[NamedPort]) -> bool {
        match &self.specs {
            None => true,
            Some(specs) => specs
                .iter()
                .any(|s| s.resolve(named_ports).contains(protocol, port)),
        }
    }
}

impl fmt::Display for RulePorts {
    /// `all ports`, or the entries as written (`TCP/443, UDP/dns`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.specs {
            None => f.write_str("all ports"),
            Some(specs) => {
                for (i, s) in specs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{s}")?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ports(v: serde_json::Value) -> Vec<NetworkPolicyPort> {
        serde_json::from_value(v).expect("test ports")
    }

    fn rule(v: serde_json::Value) -> RulePorts {
        RulePorts::compile(Some(&ports(v))).expect("valid ports")
    }

    fn named(name: &str, protocol: Protocol, port: u16) -> NamedPort {
        NamedPort {
            name: name.into(),
            protocol,
            port,
        }
    }

    #[test]
    fn absent_or_empty_ports_allow_everything() {
        for r in [RulePorts::compile(None).unwrap(), rule(json!([]))] {
            assert!(r.is_all());
            assert!(r.allows(Protocol::Tcp, 1, &[]));
            assert!(r.allows(Protocol::Udp, 65535, &[]));
            assert!(r.allows(Protocol::Sctp, 9, &[]));
            assert_eq!(r.resolve(&[]), PortSet::all());
            assert_eq!(r.to_string(), "all ports");
        }
    }

    #[test]
    fn protocol_defaults_to_tcp() {
        let r = rule(json!([{"port": 443}]));
        assert!(r.allows(Protocol::Tcp, 443, &[]));
        assert!(!r.allows(Protocol::Udp, 443, &[]));
        assert!(!r.allows(Protocol::Tcp, 444, &[]));
        assert_eq!(r.resolve(&[]).to_string(), "TCP/443");
    }

    #[test]
    fn protocol_without_port_is_every_port_of_it() {
        let r = rule(json!([{"protocol": "UDP"}]));
        assert!(r.allows(Protocol::Udp, 1, &[]));
        assert!(r.allows(Protocol::Udp, 65535, &[]));
        assert!(!r.allows(Protocol::Tcp, 53, &[]));
        assert_eq!(r.resolve(&[]).to_string(), "all UDP ports");
        assert_eq!(r.to_string(), "all UDP ports");
    }

    #[test]
    fn end_port_ranges() {
        let r = rule(json!([{"protocol": "TCP", "port": 1000, "endPort": 2000}]));
        assert!(r.allows(Protocol::Tcp, 1000, &[]));
        assert!(r.allows(Protocol::Tcp, 1500, &[]));
        assert!(r.allows(Protocol::Tcp, 2000, &[]));
        assert!(!r.allows(Protocol::Tcp, 999, &[]));
        assert!(!r.allows(Protocol::Tcp, 2001, &[]));
        assert!(!r.allows(Protocol::Udp, 1500, &[]));
        assert_eq!(r.resolve(&[]).to_string(), "TCP/1000-2000");
        // endPort == port is a single port.
        let r = rule(json!([{"port": 80, "endPort": 80}]));
        assert_eq!(r.resolve(&[]).to_string(), "TCP/80");
    }

    #[test]
    fn invalid_ports_are_errors() {
        let cases = [
            (json!([{"port": 0}]), PortError::PortOutOfRange(0)),
            (json!([{"port": 70000}]), PortError::PortOutOfRange(70000)),
            (json!([{"port": -1}]), PortError::PortOutOfRange(-1)),
            (
                json!([{"port": 80, "endPort": 70000}]),
                PortError::EndPortOutOfRange(70000),
            ),
            (
                json!([{"port": 80, "endPort": 79}]),
                PortError::EndPortBelowPort {
                    port: 80,
                    end_port: 79,
                },
            ),
            (
                json!([{"port": "http", "endPort": 90}]),
                PortError::EndPortWithNamedPort("http".into()),
            ),
            (json!([{"endPort": 90}]), PortError::EndPortWithoutPort),
            (
                json!([{"protocol": "ICMP", "port": 1}]),
                PortError::UnknownProtocol("ICMP".into()),
            ),
            (
                json!([{"protocol": "tcp", "port": 1}]),
                PortError::UnknownProtocol("tcp".into()),
            ),
            (
                json!([{"port": "HTTP"}]),
                PortError::InvalidPortName("HTTP".into()),
            ),
            (
                json!([{"port": "443"}]),
                PortError::InvalidPortName("443".into()),
            ),
        ];
        for (input, expected) in cases {
            let list = ports(input.clone());
            assert_eq!(
                RulePorts::compile(Some(&list)),
                Err((0, expected)),
                "{input}"
            );
        }
        // The index of the bad entry is reported.
        let list = ports(json!([{"port": 80}, {"port": 0}]));
        assert_eq!(RulePorts::compile(Some(&list)).unwrap_err().0, 1);
    }

    #[test]
    fn port_names() {
        for ok in ["http", "dns-tcp", "a", "h2c", "abcdefghijklmno"] {
            assert!(is_valid_port_name(ok), "{ok}");
        }
        for bad in [
            "",
            "-http",
            "http-",
            "a--b",
            "123",
            "Http",
            "abcdefghijklmnop",
            "a_b",
        ] {
            assert!(!is_valid_port_name(bad), "{bad}");
        }
    }

    #[test]
    fn named_ports_resolved_and_unresolved() {
        let r = rule(json!([{"port": "http"}, {"protocol": "UDP", "port": "dns"}]));
        let pod = [
            named("http", Protocol::Tcp, 8080),
            named("dns", Protocol::Udp, 5353),
        ];
        assert!(r.allows(Protocol::Tcp, 8080, &pod));
        assert!(r.allows(Protocol::Udp, 5353, &pod));
        assert!(!r.allows(Protocol::Tcp, 80, &pod));
        assert!(!r.allows(Protocol::Tcp, 5353, &pod));
        assert_eq!(r.resolve(&pod).to_string(), "TCP/8080, UDP/5353");
        assert_eq!(r.to_string(), "TCP/http, UDP/dns");
        // A pod without these names: the named entries match nothing.
        let other = [named("metrics", Protocol::Tcp, 9090)];
        assert!(r.resolve(&other).is_empty());
        assert!(!r.allows(Protocol::Tcp, 9090, &other));
        assert!(!r.allows(Protocol::Tcp, 8080, &[]));
        // The name must carry the rule's protocol.
        let udp_http = [named("http", Protocol::Udp, 8080)];
        assert!(!r.allows(Protocol::Tcp, 8080, &udp_http));
        assert!(!r.allows(Protocol::Udp, 8080, &udp_http));
    }

    #[test]
    fn named_ports_from_container_ports() {
        let cps: Vec<ContainerPort> = serde_json::from_value(json!([
            {"name": "http", "containerPort": 8080},
            {"name": "dns", "containerPort": 53, "protocol": "UDP"},
            {"containerPort": 9000},
            {"name": "bad", "containerPort": 70000},
            {"name": "weird", "containerPort": 1, "protocol": "ICMP"}
        ]))
        .unwrap();
        assert_eq!(
            NamedPort::from_container_ports(&cps),
            vec![
                named("dns", Protocol::Udp, 53),
                named("http", Protocol::Tcp, 8080)
            ]
        );
    }

    #[test]
    fn port_set_operations() {
        let a = PortSet::range(Protocol::Tcp, 1000, 2000);
        let b =
            PortSet::range(Protocol::Tcp, 1500, 3000).union(&PortSet::single(Protocol::Udp, 53));
        let u = a.union(&b);
        assert_eq!(u.to_string(), "TCP/1000-3000, UDP/53");
        assert_eq!(u.ranges(Protocol::Tcp), &[(1000, 3000)]);
        let i = a.intersect(&b);
        assert_eq!(i.to_string(), "TCP/1500-2000");
        assert!(i.contains(Protocol::Tcp, 1500));
        assert!(!i.contains(Protocol::Udp, 53));
        // Adjacent ranges merge.
        let adj = PortSet::single(Protocol::Tcp, 80).union(&PortSet::single(Protocol::Tcp, 81));
        assert_eq!(adj.to_string(), "TCP/80-81");
        // "All" absorbs in union and is neutral in intersection.
        assert!(a.union(&PortSet::all()).is_all());
        assert_eq!(PortSet::all().intersect(&b), b);
        assert_eq!(b.intersect(&PortSet::all()), b);
        assert!(PortSet::all().contains(Protocol::Sctp, 7));
        assert!(PortSet::empty().is_empty());
        assert_eq!(PortSet::empty().to_string(), "no ports");
        assert!(
            a.intersect(&PortSet::single(Protocol::Udp, 1500))
                .is_empty()
        );
        assert_eq!(PortSet::range(Protocol::Tcp, 5, 4), PortSet::empty());
        assert_eq!(
            PortSet::protocol(Protocol::Sctp).to_string(),
            "all SCTP ports"
        );
        assert_eq!(
            PortSet::protocol(Protocol::Tcp).intersect(&PortSet::single(Protocol::Tcp, 443)),
            PortSet::single(Protocol::Tcp, 443)
        );
    }

    #[test]
    fn protocol_parse_and_display() {
        assert_eq!(Protocol::parse("SCTP"), Ok(Protocol::Sctp));
        assert_eq!("UDP".parse::<Protocol>(), Ok(Protocol::Udp));
        assert!(Protocol::parse("Tcp").is_err());
        assert_eq!(Protocol::Tcp.to_string(), "TCP");
    }
}
