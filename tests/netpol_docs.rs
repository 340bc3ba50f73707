//! `sandbox_lint::netpol` checked against the Kubernetes documentation.
//!
//! Each test mirrors one statement of
//! <https://kubernetes.io/docs/concepts/services-networking/network-policies/>
//! ("concept page"), of the `networking.k8s.io/v1` / `meta/v1` API reference
//! ("API reference"), or of
//! <https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/>
//! ("labels page"). The doc comment of each test restates the statement and
//! names the section it comes from. Tests whose doc comment says
//! "sandbox-lint reasoning" check the module's own selector / port algebra,
//! which no documentation sentence defines.
//!
//! Every test asserts both an allowed and a denied (or matching and
//! non-matching) outcome, so that a module that allowed or denied everything
//! would fail it.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};

use k8s_openapi::api::core::v1::ContainerPort;
use k8s_openapi::api::networking::v1::{NetworkPolicy, NetworkPolicyPort};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use sandbox_lint::netpol::{
    CidrParsing, CompiledPolicy, Decision, Direction, IpSet, Labels, NAMESPACE_NAME_LABEL,
    NamedPort, Peer, PodInfo, PolicyError, PortSet, Protocol, RulePorts, Selector, SelectorError,
    evaluate, namespace_labels,
};
use serde_json::{Value, json};

use Direction::{Egress, Ingress};
use Protocol::{Sctp, Tcp, Udp};

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// Namespace in which policies without `metadata.namespace` are created
/// (as with `kubectl apply -n default`).
const DEFAULT_NS: &str = "default";

fn try_compile(v: Value) -> Result<CompiledPolicy, PolicyError> {
    let np: NetworkPolicy = serde_json::from_value(v).expect("NetworkPolicy JSON");
    CompiledPolicy::compile(&np, DEFAULT_NS)
}

fn compile(v: Value) -> CompiledPolicy {
    try_compile(v).expect("valid NetworkPolicy")
}

fn compile_err(v: Value) -> PolicyError {
    try_compile(v).expect_err("Kubernetes rejects this NetworkPolicy")
}

/// A NetworkPolicy named `name` in `default` with this `spec`.
fn np(name: &str, spec: Value) -> Value {
    json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": DEFAULT_NS},
        "spec": spec,
    })
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

fn pod(namespace: &str, l: &[(&str, &str)]) -> PodInfo {
    PodInfo {
        namespace: namespace.to_string(),
        labels: labels(l),
        ports: Vec::new(),
    }
}

fn pod_with_ports(namespace: &str, l: &[(&str, &str)], ports: Vec<NamedPort>) -> PodInfo {
    PodInfo {
        ports,
        ..pod(namespace, l)
    }
}

/// The pod as the other end of a connection.
fn as_peer(p: &PodInfo, namespaces: &BTreeMap<String, Labels>) -> Peer {
    Peer::pod(&p.namespace, p.labels.clone(), namespaces, p.ports.clone())
}

fn peer(namespace: &str, l: &[(&str, &str)], namespaces: &BTreeMap<String, Labels>) -> Peer {
    Peer::pod(namespace, labels(l), namespaces, Vec::new())
}

fn ip(text: &str) -> Peer {
    Peer::Ip(text.parse().expect("IP address"))
}

fn decide(
    policies: &[CompiledPolicy],
    subject: &PodInfo,
    direction: Direction,
    other: &Peer,
    protocol: Protocol,
    port: u16,
) -> Decision {
    evaluate(policies, subject, direction, other, protocol, port)
}

fn allowed(
    policies: &[CompiledPolicy],
    subject: &PodInfo,
    direction: Direction,
    other: &Peer,
    protocol: Protocol,
    port: u16,
) -> bool {
    decide(policies, subject, direction, other, protocol, port).is_allowed()
}

/// A pod-to-pod connection: the source's egress side AND the destination's
/// ingress side, each evaluated separately.
fn connection_allowed(
    policies: &[CompiledPolicy],
    namespaces: &BTreeMap<String, Labels>,
    source: &PodInfo,
    destination: &PodInfo,
    protocol: Protocol,
    port: u16,
) -> bool {
    let egress_ok = allowed(
        policies,
        source,
        Egress,
        &as_peer(destination, namespaces),
        protocol,
        port,
    );
    let ingress_ok = allowed(
        policies,
        destination,
        Ingress,
        &as_peer(source, namespaces),
        protocol,
        port,
    );
    egress_ok && ingress_ok
}

fn selector(v: Value) -> Selector {
    let s: LabelSelector = serde_json::from_value(v).expect("LabelSelector JSON");
    Selector::compile(&s).expect("valid selector")
}

fn selector_err(v: Value) -> SelectorError {
    let s: LabelSelector = serde_json::from_value(v).expect("LabelSelector JSON");
    Selector::compile(&s).expect_err("invalid selector")
}

fn rule_ports(v: Value) -> RulePorts {
    let ports: Vec<NetworkPolicyPort> = serde_json::from_value(v).expect("ports JSON");
    RulePorts::compile(Some(ports.as_slice())).expect("valid ports")
}

fn v4(a: u8, b: u8, c: u8, d: u8) -> u32 {
    u32::from(Ipv4Addr::new(a, b, c, d))
}

/// The concept page's example `test-network-policy`, verbatim.
fn test_network_policy() -> CompiledPolicy {
    compile(json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "test-network-policy", "namespace": "default"},
        "spec": {
            "podSelector": {"matchLabels": {"role": "db"}},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [{
                "from": [
                    {"ipBlock": {"cidr": "172.17.0.0/16", "except": ["172.17.1.0/24"]}},
                    {"namespaceSelector": {"matchLabels": {"project": "myproject"}}},
                    {"podSelector": {"matchLabels": {"role": "frontend"}}}
                ],
                "ports": [{"protocol": "TCP", "port": 6379}]
            }],
            "egress": [{
                "to": [{"ipBlock": {"cidr": "10.0.0.0/24"}}],
                "ports": [{"protocol": "TCP", "port": 5978}]
            }]
        }
    }))
}

// ---------------------------------------------------------------------------
// The two sorts of pod isolation
// ---------------------------------------------------------------------------

/// Concept page, "The two sorts of pod isolation": by default a pod is not
/// isolated in either direction, so every inbound and outbound connection is
/// allowed. A policy that does not select the pod (other labels, or another
/// namespace) leaves it non-isolated.
#[test]
fn pods_without_a_selecting_policy_are_non_isolated() {
    let namespaces = ns_map(&[]);
    let web = pod("default", &[("app", "web")]);
    let anyone = peer("elsewhere", &[], &namespaces);
    for direction in [Ingress, Egress] {
        // No policy at all.
        let d = decide(&[], &web, direction, &anyone, Tcp, 8080);
        assert!(!d.is_isolated() && d.is_allowed(), "{direction}");
    }

    let policies = [
        // Selects other pods of the namespace.
        compile(np(
            "db-only",
            json!({"podSelector": {"matchLabels": {"role": "db"}},
                   "policyTypes": ["Ingress", "Egress"]}),
        )),
        // Selects every pod, but of another namespace.
        compile(json!({
            "metadata": {"name": "deny-all", "namespace": "other"},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
        })),
    ];
    for direction in [Ingress, Egress] {
        let d = decide(&policies, &web, direction, &anyone, Tcp, 8080);
        assert!(d.isolating_policies.is_empty(), "{direction}");
        assert!(d.is_allowed(), "{direction}");
    }
    // The same policies do isolate the pods they select.
    let db = pod("default", &[("role", "db")]);
    let other = pod("other", &[("app", "web")]);
    for subject in [&db, &other] {
        let d = decide(&policies, subject, Ingress, &anyone, Tcp, 8080);
        assert!(d.is_isolated() && !d.is_allowed());
    }
}

/// Concept page, "The two sorts of pod isolation": a pod is isolated for a
/// direction only if some policy both selects it and lists that direction in
/// `policyTypes`; the two directions are declared independently.
#[test]
fn isolation_is_declared_per_direction() {
    let namespaces = ns_map(&[]);
    let ingress_only = compile(np(
        "ingress-only",
        json!({"podSelector": {"matchLabels": {"app": "web"}}, "policyTypes": ["Ingress"]}),
    ));
    let egress_only = compile(np(
        "egress-only",
        json!({"podSelector": {"matchLabels": {"app": "api"}}, "policyTypes": ["Egress"]}),
    ));
    let policies = [ingress_only, egress_only];
    let other = peer("default", &[("app", "client")], &namespaces);

    let web = pod("default", &[("app", "web")]);
    assert!(!allowed(&policies, &web, Ingress, &other, Tcp, 80));
    let d = decide(&policies, &web, Egress, &other, Tcp, 80);
    assert!(!d.is_isolated() && d.is_allowed());

    let api = pod("default", &[("app", "api")]);
    assert!(!allowed(&policies, &api, Egress, &other, Tcp, 80));
    let d = decide(&policies, &api, Ingress, &other, Tcp, 80);
    assert!(!d.is_isolated() && d.is_allowed());
}

/// Concept page, "The two sorts of pod isolation": once a pod is isolated for
/// egress, the only connections it may open are those allowed by the `egress`
/// list of some policy that applies to it for egress.
#[test]
fn isolated_pod_only_gets_what_some_rule_allows() {
    let namespaces = ns_map(&[]);
    let p = compile(np(
        "web-egress",
        json!({
            "podSelector": {"matchLabels": {"app": "web"}},
            "policyTypes": ["Egress"],
            "egress": [{"to": [{"podSelector": {"matchLabels": {"app": "db"}}}],
                        "ports": [{"port": 5432}]}]
        }),
    ));
    let web = pod("default", &[("app", "web")]);
    let db = peer("default", &[("app", "db")], &namespaces);
    let cache = peer("default", &[("app", "cache")], &namespaces);

    let d = decide(std::slice::from_ref(&p), &web, Egress, &db, Tcp, 5432);
    assert!(d.is_allowed());
    assert_eq!(d.isolating_policies, ["default/web-egress"]);
    assert_eq!(
        d.allowed_by
            .iter()
            .map(|r| (r.policy_name.as_str(), r.rule_index))
            .collect::<Vec<_>>(),
        [("web-egress", 0)]
    );
    // Anything else is denied: another destination, another port, an IP.
    let policies = [p];
    assert!(!allowed(&policies, &web, Egress, &cache, Tcp, 5432));
    assert!(!allowed(&policies, &web, Egress, &db, Tcp, 5433));
    assert!(!allowed(&policies, &web, Egress, &ip("8.8.8.8"), Tcp, 5432));
}

/// Concept page, "The two sorts of pod isolation": policies do not conflict,
/// they are additive; what a pod may do in a direction is the union of what
/// the applicable policies allow (there is no deny rule, so adding a policy
/// never takes away a connection another policy allows).
#[test]
fn policies_are_additive() {
    let namespaces = ns_map(&[]);
    let https = compile(np(
        "allow-https",
        json!({"podSelector": {}, "policyTypes": ["Egress"],
               "egress": [{"ports": [{"port": 443}]}]}),
    ));
    let dns = compile(np(
        "allow-dns",
        json!({"podSelector": {"matchLabels": {"app": "web"}}, "policyTypes": ["Egress"],
               "egress": [{"ports": [{"protocol": "UDP", "port": 53}]}]}),
    ));
    // Selects the same pods and allows nothing: it cannot deny anything.
    let nothing = compile(np(
        "deny-egress",
        json!({"podSelector": {}, "policyTypes": ["Egress"]}),
    ));
    let web = pod("default", &[("app", "web")]);
    let dest = peer("kube-system", &[], &namespaces);

    let policies = [https.clone(), dns.clone(), nothing];
    let d = decide(&policies, &web, Egress, &dest, Tcp, 443);
    assert!(d.is_allowed());
    assert_eq!(d.isolating_policies.len(), 3);
    assert!(allowed(&policies, &web, Egress, &dest, Udp, 53));
    assert!(!allowed(&policies, &web, Egress, &dest, Tcp, 80));
    assert!(!allowed(&policies, &web, Egress, &dest, Tcp, 53));

    // Each policy alone allows only its part.
    let only_https = [https];
    assert!(!allowed(&only_https, &web, Egress, &dest, Udp, 53));
    let only_dns = [dns];
    assert!(!allowed(&only_dns, &web, Egress, &dest, Tcp, 443));
}

/// Concept page, "The two sorts of pod isolation": because policies are
/// additive, the order in which they are evaluated does not change the result.
#[test]
fn order_of_evaluation_does_not_matter() {
    let namespaces = ns_map(&[]);
    let a = compile(np(
        "a",
        json!({"podSelector": {}, "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "x"}}}]}]}),
    ));
    let b = compile(np(
        "b",
        json!({"podSelector": {"matchLabels": {"app": "web"}}, "policyTypes": ["Ingress"]}),
    ));
    let c = compile(np(
        "c",
        json!({"podSelector": {"matchLabels": {"app": "web"}},
               "ingress": [{"ports": [{"port": 9090}]}]}),
    ));
    let orders = [
        vec![a.clone(), b.clone(), c.clone()],
        vec![c.clone(), b.clone(), a.clone()],
        vec![b.clone(), c.clone(), a.clone()],
        vec![b, a, c],
    ];
    let web = pod("default", &[("app", "web")]);
    let cases = [
        (peer("default", &[("app", "x")], &namespaces), 80, true),
        (peer("default", &[("app", "y")], &namespaces), 9090, true),
        (peer("default", &[("app", "y")], &namespaces), 80, false),
        (ip("10.9.9.9"), 80, false),
    ];
    for policies in &orders {
        for (source, port, expected) in &cases {
            assert_eq!(
                allowed(policies, &web, Ingress, source, Tcp, *port),
                *expected,
                "{source} port {port}"
            );
        }
    }
}

/// Concept page, "The two sorts of pod isolation": a connection from one pod
/// to another needs both the source's egress side and the destination's
/// ingress side to allow it; if either side does not, it does not happen.
#[test]
fn pod_to_pod_needs_both_egress_and_ingress() {
    let namespaces = ns_map(&[]);
    let client = pod("default", &[("app", "client")]);
    let server = pod("default", &[("app", "server")]);
    let client_egress = compile(np(
        "client-egress",
        json!({"podSelector": {"matchLabels": {"app": "client"}}, "policyTypes": ["Egress"],
               "egress": [{"to": [{"podSelector": {"matchLabels": {"app": "server"}}}]}]}),
    ));
    let client_deny = compile(np(
        "client-deny",
        json!({"podSelector": {"matchLabels": {"app": "client"}}, "policyTypes": ["Egress"]}),
    ));
    let server_ingress = compile(np(
        "server-ingress",
        json!({"podSelector": {"matchLabels": {"app": "server"}},
               "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "client"}}}]}]}),
    ));
    let server_deny = compile(np(
        "server-deny",
        json!({"podSelector": {"matchLabels": {"app": "server"}}, "policyTypes": ["Ingress"]}),
    ));

    let cases = [
        // Both sides allow.
        (vec![client_egress.clone(), server_ingress.clone()], true),
        // Egress allows, ingress isolates without allowing.
        (vec![client_egress.clone(), server_deny.clone()], false),
        // Ingress allows, egress isolates without allowing.
        (vec![client_deny.clone(), server_ingress.clone()], false),
        // Neither side is isolated.
        (vec![], true),
        // Only the ingress side restricts, and allows.
        (vec![server_ingress], true),
        // Only the egress side restricts, and denies.
        (vec![client_deny], false),
    ];
    for (policies, expected) in cases {
        let names: Vec<&str> = policies.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            connection_allowed(&policies, &namespaces, &client, &server, Tcp, 8080),
            expected,
            "{names:?}"
        );
    }
}

// ---------------------------------------------------------------------------
// The NetworkPolicy resource
// ---------------------------------------------------------------------------

/// Concept page, "The NetworkPolicy resource" ("So, the example
/// NetworkPolicy: ..."): the example isolates `role=db` pods of `default` in
/// both directions; lets them receive TCP 6379 only from `role=frontend` pods
/// of `default`, from any pod of a namespace labelled `project=myproject`,
/// and from 172.17.0.0–172.17.0.255 and 172.17.2.0–172.17.255.255 ("all of
/// 172.17.0.0/16 except 172.17.1.0/24"); and lets them connect only to
/// 10.0.0.0/24 on TCP 5978.
#[test]
fn doc_example_test_network_policy() {
    let namespaces = ns_map(&[
        ("myproject-ns", &[("project", "myproject")]),
        ("other", &[("project", "other")]),
    ]);
    let policies = [test_network_policy()];
    let db = pod("default", &[("role", "db")]);

    // Ingress.
    let allowed_sources = [
        peer("default", &[("role", "frontend")], &namespaces),
        peer("myproject-ns", &[("app", "anything")], &namespaces),
        peer("myproject-ns", &[], &namespaces),
        ip("172.17.0.0"),
        ip("172.17.0.255"),
        ip("172.17.2.0"),
        ip("172.17.255.255"),
    ];
    for source in &allowed_sources {
        assert!(
            allowed(&policies, &db, Ingress, source, Tcp, 6379),
            "{source}"
        );
        // ... but only on TCP 6379.
        assert!(
            !allowed(&policies, &db, Ingress, source, Tcp, 6380),
            "{source}"
        );
        assert!(
            !allowed(&policies, &db, Ingress, source, Udp, 6379),
            "{source}"
        );
    }
    let denied_sources = [
        // role=frontend, but not in the policy's namespace.
        peer("other", &[("role", "frontend")], &namespaces),
        // In default, but not frontend.
        peer("default", &[("role", "backend")], &namespaces),
        // The except range and outside the /16.
        ip("172.17.1.0"),
        ip("172.17.1.77"),
        ip("172.17.1.255"),
        ip("172.18.0.1"),
    ];
    for source in &denied_sources {
        assert!(
            !allowed(&policies, &db, Ingress, source, Tcp, 6379),
            "{source}"
        );
    }
    // The ipBlock is exactly the two documented ranges.
    let set = IpSet::from_ip_block("172.17.0.0/16", &["172.17.1.0/24"], CidrParsing::Strict)
        .expect("valid ipBlock");
    assert_eq!(
        set.v4_ranges(),
        [
            (v4(172, 17, 0, 0), v4(172, 17, 0, 255)),
            (v4(172, 17, 2, 0), v4(172, 17, 255, 255)),
        ]
    );
    assert!(set.v6_ranges().is_empty());
    assert!(set.contains(IpAddr::V4(Ipv4Addr::new(172, 17, 0, 9))));
    assert!(!set.contains(IpAddr::V4(Ipv4Addr::new(172, 17, 1, 9))));

    // Egress.
    assert!(allowed(&policies, &db, Egress, &ip("10.0.0.1"), Tcp, 5978));
    assert!(allowed(
        &policies,
        &db,
        Egress,
        &ip("10.0.0.255"),
        Tcp,
        5978
    ));
    assert!(!allowed(&policies, &db, Egress, &ip("10.0.1.1"), Tcp, 5978));
    assert!(!allowed(&policies, &db, Egress, &ip("10.0.0.1"), Tcp, 5979));
    assert!(!allowed(&policies, &db, Egress, &ip("10.0.0.1"), Udp, 5978));
    let some_pod = peer("default", &[("role", "frontend")], &namespaces);
    assert!(!allowed(&policies, &db, Egress, &some_pod, Tcp, 5978));

    // Pods without role=db are not isolated by it.
    let frontend = pod("default", &[("role", "frontend")]);
    for direction in [Ingress, Egress] {
        let d = decide(&policies, &frontend, direction, &ip("10.9.9.9"), Tcp, 1);
        assert!(!d.is_isolated() && d.is_allowed(), "{direction}");
    }
}

/// Concept page, "The NetworkPolicy resource" (podSelector): an empty
/// `podSelector` selects every pod in the policy's namespace. API reference
/// (NetworkPolicySpec.podSelector): when omitted it defaults to that empty
/// selector.
#[test]
fn empty_pod_selector_selects_all_pods_of_the_namespace() {
    let namespaces = ns_map(&[]);
    let explicit = compile(np(
        "explicit",
        json!({"podSelector": {}, "policyTypes": ["Ingress"]}),
    ));
    let omitted = compile(np("omitted", json!({"policyTypes": ["Ingress"]})));
    let source = peer("default", &[], &namespaces);
    for p in [explicit, omitted] {
        let policies = [p];
        for l in [
            &[][..],
            &[("app", "web")][..],
            &[("role", "db"), ("tier", "x")][..],
        ] {
            let subject = pod("default", l);
            let d = decide(&policies, &subject, Ingress, &source, Tcp, 80);
            assert!(d.is_isolated() && !d.is_allowed(), "{l:?}");
        }
        // Pods of other namespaces are not selected.
        let outside = pod("kube-system", &[]);
        assert!(allowed(&policies, &outside, Ingress, &source, Tcp, 80));
    }
}

/// Concept page, "The NetworkPolicy resource" (policyTypes): when
/// `policyTypes` is not specified, `Ingress` is always set, so a policy that
/// only has egress rules still isolates its pods for ingress.
#[test]
fn policy_types_default_always_includes_ingress() {
    let namespaces = ns_map(&[]);
    let p = compile(np(
        "egress-rules-only",
        json!({"podSelector": {"matchLabels": {"app": "web"}},
               "egress": [{"ports": [{"port": 443}]}]}),
    ));
    assert!(p.policy_types.ingress && p.policy_types.egress);
    let policies = [p];
    let web = pod("default", &[("app", "web")]);
    let source = peer("default", &[("app", "client")], &namespaces);
    let d = decide(&policies, &web, Ingress, &source, Tcp, 443);
    assert!(d.is_isolated() && !d.is_allowed());
    // Egress: isolated, TCP 443 allowed, the rest denied.
    assert!(allowed(&policies, &web, Egress, &ip("1.1.1.1"), Tcp, 443));
    assert!(!allowed(&policies, &web, Egress, &ip("1.1.1.1"), Tcp, 80));
}

/// Concept page, "The NetworkPolicy resource" (policyTypes): when
/// `policyTypes` is not specified, `Egress` is set only if the policy has
/// egress rules; an absent or empty `egress` list leaves egress alone.
#[test]
fn policy_types_default_includes_egress_only_with_egress_rules() {
    let web = pod("default", &[("app", "web")]);
    let cases = [
        (json!({"ingress": [{"ports": [{"port": 80}]}]}), false),
        (json!({}), false),
        (json!({"egress": []}), false),
        (
            json!({"ingress": [], "egress": [{"ports": [{"port": 443}]}]}),
            true,
        ),
        // An empty policyTypes list counts as unspecified.
        (
            json!({"policyTypes": [], "egress": [{"ports": [{"port": 443}]}]}),
            true,
        ),
    ];
    for (spec, isolates_egress) in cases {
        let p = compile(np("p", spec.clone()));
        assert!(p.policy_types.ingress, "{spec}");
        assert_eq!(p.policy_types.egress, isolates_egress, "{spec}");
        let policies = [p];
        // Port 22 is allowed by no egress rule above.
        let d = decide(&policies, &web, Egress, &ip("1.1.1.1"), Tcp, 22);
        assert_eq!(d.is_isolated(), isolates_egress, "{spec}");
        assert_eq!(d.is_allowed(), !isolates_egress, "{spec}");
    }
}

/// API reference (NetworkPolicySpec.policyTypes): the valid values are
/// `["Ingress"]`, `["Egress"]` or `["Ingress", "Egress"]`; anything else is
/// rejected rather than guessed at.
#[test]
fn invalid_policy_types_are_rejected() {
    for types in [
        json!(["Ingress"]),
        json!(["Egress"]),
        json!(["Egress", "Ingress"]),
    ] {
        assert!(
            try_compile(np("ok", json!({"policyTypes": types.clone()}))).is_ok(),
            "{types}"
        );
    }
    for types in [
        json!(["ingress"]),
        json!(["Ingress", "Both"]),
        json!(["Ingress", "Egress", "Ingress"]),
    ] {
        let e = compile_err(np("bad", json!({"policyTypes": types.clone()})));
        assert!(e.path.starts_with("spec.policyTypes"), "{types}: {e}");
    }
}

/// Concept page, "The NetworkPolicy resource" (ingress): each rule allows
/// traffic that matches both its `from` and its `ports` sections.
#[test]
fn a_rule_needs_both_peer_and_port_to_match() {
    let namespaces = ns_map(&[]);
    let policies = [compile(np(
        "p",
        json!({"podSelector": {}, "ingress": [{
            "from": [{"podSelector": {"matchLabels": {"app": "client"}}}],
            "ports": [{"port": 8080}]
        }]}),
    ))];
    let server = pod("default", &[("app", "server")]);
    let client = peer("default", &[("app", "client")], &namespaces);
    let stranger = peer("default", &[("app", "stranger")], &namespaces);
    assert!(allowed(&policies, &server, Ingress, &client, Tcp, 8080));
    assert!(!allowed(&policies, &server, Ingress, &client, Tcp, 9090));
    assert!(!allowed(&policies, &server, Ingress, &stranger, Tcp, 8080));
}

// ---------------------------------------------------------------------------
// Behavior of `to` and `from` selectors
// ---------------------------------------------------------------------------

/// Concept page, "Behavior of to and from selectors" (podSelector): a peer
/// `podSelector` picks pods in the same namespace as the NetworkPolicy only.
/// API reference (NetworkPolicyPeer.podSelector): `{}` selects all of them.
#[test]
fn peer_pod_selector_is_scoped_to_the_policy_namespace() {
    let namespaces = ns_map(&[]);
    let policies = [compile(np(
        "p",
        json!({"podSelector": {}, "ingress": [{"from": [
            {"podSelector": {"matchLabels": {"role": "frontend"}}}
        ]}]}),
    ))];
    let db = pod("default", &[("role", "db")]);
    assert!(allowed(
        &policies,
        &db,
        Ingress,
        &peer("default", &[("role", "frontend")], &namespaces),
        Tcp,
        80
    ));
    assert!(!allowed(
        &policies,
        &db,
        Ingress,
        &peer("prod", &[("role", "frontend")], &namespaces),
        Tcp,
        80
    ));

    let same_ns = [compile(np(
        "same-ns",
        json!({"podSelector": {}, "ingress": [{"from": [{"podSelector": {}}]}]}),
    ))];
    assert!(allowed(
        &same_ns,
        &db,
        Ingress,
        &peer("default", &[], &namespaces),
        Tcp,
        80
    ));
    assert!(!allowed(
        &same_ns,
        &db,
        Ingress,
        &peer("prod", &[], &namespaces),
        Tcp,
        80
    ));
    assert!(!allowed(&same_ns, &db, Ingress, &ip("10.0.0.1"), Tcp, 80));
}

/// Concept page, "Behavior of to and from selectors" (namespaceSelector): a
/// `namespaceSelector` alone allows every pod of the selected namespaces.
/// API reference (NetworkPolicyPeer.namespaceSelector): present but empty,
/// it selects all namespaces.
#[test]
fn peer_namespace_selector_selects_every_pod_of_those_namespaces() {
    let namespaces = ns_map(&[("team-a", &[("team", "a")]), ("team-b", &[("team", "b")])]);
    let db = pod("default", &[("role", "db")]);
    let team_a = [compile(np(
        "team-a",
        json!({"podSelector": {}, "ingress": [{"from": [
            {"namespaceSelector": {"matchLabels": {"team": "a"}}}
        ]}]}),
    ))];
    for l in [&[][..], &[("app", "x")][..], &[("role", "anything")][..]] {
        assert!(allowed(
            &team_a,
            &db,
            Ingress,
            &peer("team-a", l, &namespaces),
            Tcp,
            80
        ));
        assert!(!allowed(
            &team_a,
            &db,
            Ingress,
            &peer("team-b", l, &namespaces),
            Tcp,
            80
        ));
    }
    // The policy's own namespace is not implied.
    assert!(!allowed(
        &team_a,
        &db,
        Ingress,
        &peer("default", &[], &namespaces),
        Tcp,
        80
    ));

    let all_namespaces = [compile(np(
        "all-ns",
        json!({"podSelector": {}, "ingress": [{"from": [{"namespaceSelector": {}}]}]}),
    ))];
    for ns in ["team-a", "team-b", "default", "not-in-the-map"] {
        assert!(allowed(
            &all_namespaces,
            &db,
            Ingress,
            &peer(ns, &[], &namespaces),
            Tcp,
            80
        ));
    }
    // Selectors pick pods, never external addresses.
    assert!(!allowed(
        &all_namespaces,
        &db,
        Ingress,
        &ip("203.0.113.9"),
        Tcp,
        80
    ));
}

/// Concept page, "Behavior of to and from selectors": a single `from` element
/// with both `namespaceSelector` and `podSelector` allows only pods labelled
/// `role=client` in namespaces labelled `user=alice` (the first YAML snippet).
#[test]
fn namespace_and_pod_selector_in_one_element_are_anded() {
    let namespaces = ns_map(&[
        ("alice-ns", &[("user", "alice")]),
        ("bob-ns", &[("user", "bob")]),
    ]);
    let policies = [compile(np(
        "and",
        json!({"podSelector": {}, "ingress": [{
            "from": [{
                "namespaceSelector": {"matchLabels": {"user": "alice"}},
                "podSelector": {"matchLabels": {"role": "client"}}
            }]
        }]}),
    ))];
    let target = pod("default", &[]);
    let yes = peer("alice-ns", &[("role", "client")], &namespaces);
    assert!(allowed(&policies, &target, Ingress, &yes, Tcp, 80));
    for no in [
        peer("alice-ns", &[("role", "server")], &namespaces),
        peer("alice-ns", &[], &namespaces),
        peer("bob-ns", &[("role", "client")], &namespaces),
        peer("default", &[("role", "client")], &namespaces),
    ] {
        assert!(!allowed(&policies, &target, Ingress, &no, Tcp, 80), "{no}");
    }
}

/// Concept page, "Behavior of to and from selectors": two `from` elements,
/// one `namespaceSelector` and one `podSelector` (the second YAML snippet),
/// allow `role=client` pods of the local namespace OR any pod of a namespace
/// labelled `user=alice`.
#[test]
fn namespace_and_pod_selector_in_two_elements_are_ored() {
    let namespaces = ns_map(&[
        ("alice-ns", &[("user", "alice")]),
        ("bob-ns", &[("user", "bob")]),
    ]);
    let policies = [compile(np(
        "or",
        json!({"podSelector": {}, "ingress": [{
            "from": [
                {"namespaceSelector": {"matchLabels": {"user": "alice"}}},
                {"podSelector": {"matchLabels": {"role": "client"}}}
            ]
        }]}),
    ))];
    let target = pod("default", &[]);
    for yes in [
        peer("alice-ns", &[("role", "server")], &namespaces),
        peer("alice-ns", &[], &namespaces),
        peer("alice-ns", &[("role", "client")], &namespaces),
        peer("default", &[("role", "client")], &namespaces),
    ] {
        assert!(allowed(&policies, &target, Ingress, &yes, Tcp, 80), "{yes}");
    }
    for no in [
        peer("bob-ns", &[("role", "client")], &namespaces),
        peer("default", &[("role", "server")], &namespaces),
    ] {
        assert!(!allowed(&policies, &target, Ingress, &no, Tcp, 80), "{no}");
    }
}

/// API reference (IPBlock): an ipBlock may be an IPv6 CIDR, e.g.
/// `2001:db8::/64`; it selects the addresses of that prefix, with `except`
/// entries carved out.
#[test]
fn ipv6_ip_block() {
    let policies = [compile(np(
        "v6",
        json!({"podSelector": {}, "policyTypes": ["Egress"], "egress": [{"to": [
            {"ipBlock": {"cidr": "2001:db8::/64", "except": ["2001:db8::/120"]}}
        ]}]}),
    ))];
    let web = pod("default", &[]);
    assert!(allowed(
        &policies,
        &web,
        Egress,
        &ip("2001:db8::1:0"),
        Tcp,
        443
    ));
    assert!(allowed(
        &policies,
        &web,
        Egress,
        &ip("2001:db8::ffff:ffff:ffff:ffff"),
        Tcp,
        443
    ));
    // The except range, the next /64, and IPv4.
    assert!(!allowed(
        &policies,
        &web,
        Egress,
        &ip("2001:db8::ff"),
        Tcp,
        443
    ));
    assert!(!allowed(
        &policies,
        &web,
        Egress,
        &ip("2001:db8:0:1::1"),
        Tcp,
        443
    ));
    assert!(!allowed(
        &policies,
        &web,
        Egress,
        &ip("192.0.2.1"),
        Tcp,
        443
    ));
}

/// Concept page, "Behavior of to and from selectors" (ipBlock): ipBlock is
/// meant for cluster-external IPs because pod IPs are ephemeral; pods are
/// matched by `podSelector` / `namespaceSelector`, so even `0.0.0.0/0` does
/// not select a pod peer.
#[test]
fn ip_block_does_not_match_pods() {
    let namespaces = ns_map(&[]);
    let policies = [compile(np(
        "internet",
        json!({"podSelector": {}, "policyTypes": ["Egress"], "egress": [
            {"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}, {"ipBlock": {"cidr": "::/0"}}]}
        ]}),
    ))];
    let web = pod("default", &[]);
    assert!(allowed(
        &policies,
        &web,
        Egress,
        &ip("198.51.100.7"),
        Tcp,
        443
    ));
    assert!(allowed(
        &policies,
        &web,
        Egress,
        &ip("2001:db8::7"),
        Tcp,
        443
    ));
    for p in [
        peer("default", &[], &namespaces),
        peer("kube-system", &[("k8s-app", "kube-dns")], &namespaces),
    ] {
        assert!(!allowed(&policies, &web, Egress, &p, Tcp, 443), "{p}");
    }
}

/// API reference (NetworkPolicyPeer.ipBlock, IPBlock.except): when `ipBlock`
/// is set neither selector may be, and `except` values outside the `cidr`
/// range are rejected.
#[test]
fn ip_block_validation() {
    let e = compile_err(np(
        "mixed",
        json!({"ingress": [{"from": [
            {"ipBlock": {"cidr": "10.0.0.0/8"}, "namespaceSelector": {}}
        ]}]}),
    ));
    assert_eq!(e.path, "spec.ingress[0].from[0]");
    let e = compile_err(np(
        "outside",
        json!({"ingress": [{"from": [
            {"ipBlock": {"cidr": "10.0.0.0/8", "except": ["192.168.0.0/16"]}}
        ]}]}),
    ));
    assert_eq!(e.path, "spec.ingress[0].from[0].ipBlock");
    assert!(e.message.contains("192.168.0.0/16"), "{e}");
    // Inside the range is fine.
    assert!(
        try_compile(np(
            "inside",
            json!({"ingress": [{"from": [
                {"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}}
            ]}]}),
        ))
        .is_ok()
    );
}

/// API reference (NetworkPolicyIngressRule.from, NetworkPolicyEgressRule.to):
/// an empty or missing `from` / `to` list matches all sources / destinations
/// (pods of any namespace and any IP address); a non-empty one restricts.
#[test]
fn empty_or_missing_from_and_to_match_every_peer() {
    let namespaces = ns_map(&[]);
    let web = pod("default", &[("app", "web")]);
    let peers = [
        peer("default", &[], &namespaces),
        peer("kube-system", &[("k8s-app", "kube-dns")], &namespaces),
        ip("203.0.113.1"),
        ip("2001:db8::1"),
    ];
    for rule in [
        json!({}),
        json!({"from": []}),
        json!({"ports": [{"port": 80}]}),
    ] {
        let policies = [compile(np(
            "p",
            json!({"podSelector": {"matchLabels": {"app": "web"}}, "ingress": [rule.clone()]}),
        ))];
        for source in &peers {
            assert!(
                allowed(&policies, &web, Ingress, source, Tcp, 80),
                "{rule} {source}"
            );
        }
    }
    for rule in [
        json!({}),
        json!({"to": []}),
        json!({"ports": [{"port": 80}]}),
    ] {
        let policies = [compile(np(
            "p",
            json!({"podSelector": {}, "policyTypes": ["Egress"], "egress": [rule.clone()]}),
        ))];
        for dest in &peers {
            assert!(
                allowed(&policies, &web, Egress, dest, Tcp, 80),
                "{rule} {dest}"
            );
        }
    }
    // Contrast: non-empty lists restrict.
    let restricted = [compile(np(
        "r",
        json!({"podSelector": {}, "policyTypes": ["Ingress", "Egress"],
               "ingress": [{"from": [{"podSelector": {}}]}],
               "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}}]}]}),
    ))];
    assert!(!allowed(
        &restricted,
        &web,
        Ingress,
        &ip("203.0.113.1"),
        Tcp,
        80
    ));
    assert!(allowed(&restricted, &web, Ingress, &peers[0], Tcp, 80));
    assert!(!allowed(
        &restricted,
        &web,
        Egress,
        &ip("203.0.113.1"),
        Tcp,
        80
    ));
    assert!(allowed(&restricted, &web, Egress, &ip("10.1.2.3"), Tcp, 80));
}

/// API reference (NetworkPolicyIngressRule.ports / EgressRule.ports): an
/// empty or missing `ports` list matches all ports (any protocol); a
/// non-empty one allows only traffic matching at least one entry.
#[test]
fn empty_or_missing_ports_match_all_ports() {
    let namespaces = ns_map(&[]);
    let target = pod("default", &[]);
    let source = peer("default", &[], &namespaces);
    for rule in [
        json!({"from": [{"podSelector": {}}]}),
        json!({"from": [{"podSelector": {}}], "ports": []}),
    ] {
        let policies = [compile(np(
            "p",
            json!({"podSelector": {}, "ingress": [rule.clone()]}),
        ))];
        for protocol in Protocol::ALL {
            for port in [1, 80, 53, 65535] {
                assert!(
                    allowed(&policies, &target, Ingress, &source, protocol, port),
                    "{rule} {protocol}/{port}"
                );
            }
        }
        assert!(RulePorts::compile(None).expect("no ports").is_all());
    }
    let restricted = [compile(np(
        "r",
        json!({"podSelector": {}, "ingress": [{"ports": [{"port": 80}, {"protocol": "UDP", "port": 53}]}]}),
    ))];
    assert!(allowed(&restricted, &target, Ingress, &source, Tcp, 80));
    assert!(allowed(&restricted, &target, Ingress, &source, Udp, 53));
    assert!(!allowed(&restricted, &target, Ingress, &source, Tcp, 53));
    assert!(!allowed(&restricted, &target, Ingress, &source, Udp, 80));
}

// ---------------------------------------------------------------------------
// Default policies
// ---------------------------------------------------------------------------

/// Concept page, "Default deny all ingress traffic": a policy selecting all
/// pods with `policyTypes: [Ingress]` and no rules isolates every pod of the
/// namespace for ingress, even pods no other policy selects, and does not
/// affect egress.
#[test]
fn default_deny_ingress() {
    let namespaces = ns_map(&[]);
    let policies = [compile(json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "default-deny-ingress"},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}
    }))];
    let any = pod("default", &[("app", "unselected-elsewhere")]);
    for source in [peer("default", &[], &namespaces), ip("10.0.0.1")] {
        let d = decide(&policies, &any, Ingress, &source, Tcp, 80);
        assert!(d.is_isolated() && !d.is_allowed());
        assert_eq!(d.isolating_policies, ["default/default-deny-ingress"]);
    }
    let d = decide(&policies, &any, Egress, &ip("10.0.0.1"), Tcp, 80);
    assert!(!d.is_isolated() && d.is_allowed());
    // Other namespaces keep the default.
    assert!(allowed(
        &policies,
        &pod("prod", &[]),
        Ingress,
        &ip("10.0.0.1"),
        Tcp,
        80
    ));
}

/// Concept page, "Allow all ingress traffic": with `ingress: [{}]` in place,
/// no additional policy can cause an incoming connection to those pods to be
/// denied; egress isolation is unaffected.
#[test]
fn allow_all_ingress() {
    let namespaces = ns_map(&[]);
    let allow_all = compile(json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "allow-all-ingress"},
        "spec": {"podSelector": {}, "ingress": [{}], "policyTypes": ["Ingress"]}
    }));
    let deny = compile(np(
        "default-deny-ingress",
        json!({"podSelector": {}, "policyTypes": ["Ingress"]}),
    ));
    let narrow = compile(np(
        "only-frontend",
        json!({"podSelector": {"matchLabels": {"role": "db"}},
               "ingress": [{"from": [{"podSelector": {"matchLabels": {"role": "frontend"}}}],
                            "ports": [{"port": 6379}]}]}),
    ));
    let db = pod("default", &[("role", "db")]);
    let sources = [
        peer("default", &[("role", "frontend")], &namespaces),
        peer("elsewhere", &[], &namespaces),
        ip("198.51.100.1"),
    ];

    let with = [deny.clone(), narrow.clone(), allow_all];
    let without = [deny, narrow];
    for source in &sources {
        for (protocol, port) in [(Tcp, 6379), (Tcp, 22), (Udp, 53), (Sctp, 9)] {
            assert!(
                allowed(&with, &db, Ingress, source, protocol, port),
                "{source}"
            );
        }
        // The control: without allow-all the same connection is denied.
        assert!(
            !allowed(&without, &db, Ingress, source, Tcp, 22),
            "{source}"
        );
    }
    let d = decide(&with, &db, Egress, &ip("198.51.100.1"), Tcp, 22);
    assert!(!d.is_isolated() && d.is_allowed());
}

/// Concept page, "Default deny all egress traffic": a policy selecting all
/// pods with `policyTypes: [Egress]` and no rules stops egress from every pod
/// of the namespace and does not change ingress isolation.
#[test]
fn default_deny_egress() {
    let namespaces = ns_map(&[]);
    let policies = [compile(json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "default-deny-egress"},
        "spec": {"podSelector": {}, "policyTypes": ["Egress"]}
    }))];
    let any = pod("default", &[("app", "x")]);
    for dest in [peer("default", &[], &namespaces), ip("8.8.8.8")] {
        for (protocol, port) in [(Tcp, 443), (Udp, 53)] {
            let d = decide(&policies, &any, Egress, &dest, protocol, port);
            assert!(d.is_isolated() && !d.is_allowed(), "{dest}");
        }
    }
    let d = decide(&policies, &any, Ingress, &ip("8.8.8.8"), Tcp, 443);
    assert!(!d.is_isolated() && d.is_allowed());
    assert!(allowed(
        &policies,
        &pod("prod", &[]),
        Egress,
        &ip("8.8.8.8"),
        Tcp,
        443
    ));
}

/// Concept page, "Allow all egress traffic": with `egress: [{}]` in place, no
/// additional policy can cause an outgoing connection from those pods to be
/// denied; ingress isolation is unaffected.
#[test]
fn allow_all_egress() {
    let namespaces = ns_map(&[]);
    let allow_all = compile(json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "allow-all-egress"},
        "spec": {"podSelector": {}, "egress": [{}], "policyTypes": ["Egress"]}
    }));
    let deny = compile(np(
        "default-deny-egress",
        json!({"podSelector": {}, "policyTypes": ["Egress"]}),
    ));
    let web = pod("default", &[("app", "web")]);
    let dests = [
        peer("kube-system", &[("k8s-app", "kube-dns")], &namespaces),
        ip("8.8.8.8"),
        ip("2001:db8::8"),
    ];
    let with = [deny.clone(), allow_all];
    let without = [deny];
    for dest in &dests {
        assert!(allowed(&with, &web, Egress, dest, Udp, 53), "{dest}");
        assert!(allowed(&with, &web, Egress, dest, Tcp, 25), "{dest}");
        assert!(!allowed(&without, &web, Egress, dest, Tcp, 25), "{dest}");
    }
    let d = decide(&with, &web, Ingress, &ip("8.8.8.8"), Tcp, 25);
    assert!(!d.is_isolated() && d.is_allowed());
}

/// Concept page, "Default deny all ingress and all egress traffic": a policy
/// selecting all pods with both policy types and no rules means no pod of the
/// namespace may receive or send traffic.
#[test]
fn default_deny_all() {
    let namespaces = ns_map(&[]);
    let policies = [compile(json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "default-deny-all"},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    }))];
    let a = pod("default", &[("app", "a")]);
    let b = pod("default", &[("app", "b")]);
    for direction in [Ingress, Egress] {
        let d = decide(&policies, &a, direction, &ip("10.1.1.1"), Tcp, 80);
        assert!(d.is_isolated() && !d.is_allowed(), "{direction}");
    }
    assert!(!connection_allowed(&policies, &namespaces, &a, &b, Tcp, 80));
    // Pods of another namespace are untouched.
    let c = pod("prod", &[]);
    let d = pod("prod", &[("x", "y")]);
    assert!(connection_allowed(&policies, &namespaces, &c, &d, Tcp, 80));
}

// ---------------------------------------------------------------------------
// Ports and protocols
// ---------------------------------------------------------------------------

/// API reference (NetworkPolicyPort.protocol): the protocol is TCP, UDP or
/// SCTP and defaults to TCP when not specified. Concept page, "Network traffic
/// filtering": NetworkPolicy is defined for TCP, UDP and SCTP connections.
#[test]
fn protocols_and_default_tcp() {
    let namespaces = ns_map(&[]);
    let target = pod("default", &[]);
    let source = peer("default", &[], &namespaces);
    let cases = [
        (json!({"port": 5000}), Tcp),
        (json!({"protocol": "TCP", "port": 5000}), Tcp),
        (json!({"protocol": "UDP", "port": 5000}), Udp),
        (json!({"protocol": "SCTP", "port": 5000}), Sctp),
    ];
    for (entry, only) in cases {
        let policies = [compile(np(
            "p",
            json!({"podSelector": {}, "ingress": [{"ports": [entry.clone()]}]}),
        ))];
        for protocol in Protocol::ALL {
            assert_eq!(
                allowed(&policies, &target, Ingress, &source, protocol, 5000),
                protocol == only,
                "{entry} vs {protocol}"
            );
        }
    }
    assert_eq!(Protocol::ALL, [Tcp, Udp, Sctp]);
    for bad in ["ICMP", "tcp", "Udp"] {
        let e = compile_err(np(
            "bad",
            json!({"ingress": [{"ports": [{"protocol": bad, "port": 1}]}]}),
        ));
        assert_eq!(e.path, "spec.ingress[0].ports[0]", "{bad}");
    }
}

/// API reference (NetworkPolicyPort.port): without `port` the entry matches
/// every port of its protocol; with it, only that protocol AND port.
#[test]
fn missing_port_matches_every_port_of_the_protocol() {
    let namespaces = ns_map(&[]);
    let policies = [compile(np(
        "all-udp",
        json!({"podSelector": {}, "policyTypes": ["Egress"],
               "egress": [{"ports": [{"protocol": "UDP"}]}]}),
    ))];
    let web = pod("default", &[]);
    let dest = peer("default", &[], &namespaces);
    for port in [1, 53, 123, 65535] {
        assert!(allowed(&policies, &web, Egress, &dest, Udp, port));
        assert!(!allowed(&policies, &web, Egress, &dest, Tcp, port));
        assert!(!allowed(&policies, &web, Egress, &dest, Sctp, port));
    }
}

/// Concept page, "Targeting a range of ports": the `multi-port-egress`
/// example lets `role=db` pods of `default` reach any IP of 10.0.0.0/24 over
/// TCP when the target port is between 32000 and 32768.
#[test]
fn end_port_range_doc_example() {
    let policies = [compile(json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "multi-port-egress", "namespace": "default"},
        "spec": {
            "podSelector": {"matchLabels": {"role": "db"}},
            "policyTypes": ["Egress"],
            "egress": [{
                "to": [{"ipBlock": {"cidr": "10.0.0.0/24"}}],
                "ports": [{"protocol": "TCP", "port": 32000, "endPort": 32768}]
            }]
        }
    }))];
    let db = pod("default", &[("role", "db")]);
    for port in [32000, 32001, 32500, 32767, 32768] {
        assert!(
            allowed(&policies, &db, Egress, &ip("10.0.0.42"), Tcp, port),
            "{port}"
        );
    }
    for port in [31999, 32769, 80] {
        assert!(
            !allowed(&policies, &db, Egress, &ip("10.0.0.42"), Tcp, port),
            "{port}"
        );
    }
    assert!(!allowed(
        &policies,
        &db,
        Egress,
        &ip("10.0.0.42"),
        Udp,
        32000
    ));
    assert!(!allowed(
        &policies,
        &db,
        Egress,
        &ip("10.0.1.42"),
        Tcp,
        32000
    ));
    // Other pods are not selected.
    let web = pod("default", &[("role", "web")]);
    assert!(allowed(&policies, &web, Egress, &ip("10.0.1.42"), Tcp, 80));
}

/// Concept page, "Targeting a range of ports": `endPort` must be equal to or
/// greater than `port`, may only be set together with `port`, and both must
/// be numeric (no named port).
#[test]
fn end_port_restrictions() {
    let with_ports = |ports: Value| {
        try_compile(np(
            "p",
            json!({"policyTypes": ["Egress"], "egress": [{"ports": ports}]}),
        ))
    };
    // Equal and greater are fine.
    assert!(with_ports(json!([{"port": 80, "endPort": 80}])).is_ok());
    assert!(with_ports(json!([{"port": 80, "endPort": 90}])).is_ok());
    for bad in [
        json!([{"port": 90, "endPort": 80}]),
        json!([{"endPort": 80}]),
        json!([{"protocol": "UDP", "endPort": 80}]),
        json!([{"port": "http", "endPort": 80}]),
    ] {
        let e = with_ports(bad.clone()).expect_err("endPort restriction");
        assert_eq!(e.path, "spec.egress[0].ports[0]", "{bad}");
    }
}

fn container_ports(v: Value) -> Vec<NamedPort> {
    let ports: Vec<ContainerPort> = serde_json::from_value(v).expect("container ports");
    NamedPort::from_container_ports(&ports)
}

/// API reference (NetworkPolicyPort.port): `port` may be a named port on a
/// pod. For an ingress rule the name is looked up in the container ports of
/// the selected (receiving) pod, so one rule can mean different numbers on
/// different pods.
#[test]
fn named_port_in_ingress_resolves_on_the_selected_pod() {
    let namespaces = ns_map(&[]);
    let policies = [compile(np(
        "metrics",
        json!({"podSelector": {}, "ingress": [{"ports": [{"port": "metrics"}]}]}),
    ))];
    let a = pod_with_ports(
        "default",
        &[("app", "a")],
        container_ports(json!([{"name": "metrics", "containerPort": 9090}])),
    );
    let b = pod_with_ports(
        "default",
        &[("app", "b")],
        container_ports(json!([{"name": "metrics", "containerPort": 9100},
                               {"name": "http", "containerPort": 9090}])),
    );
    let none = pod("default", &[("app", "c")]);
    let source = peer("monitoring", &[], &namespaces);
    assert!(allowed(&policies, &a, Ingress, &source, Tcp, 9090));
    assert!(!allowed(&policies, &a, Ingress, &source, Tcp, 9100));
    assert!(allowed(&policies, &b, Ingress, &source, Tcp, 9100));
    assert!(!allowed(&policies, &b, Ingress, &source, Tcp, 9090));
    assert!(!allowed(&policies, &none, Ingress, &source, Tcp, 9090));
    // The container port's protocol (TCP when omitted) must match the rule's.
    assert!(!allowed(&policies, &a, Ingress, &source, Udp, 9090));
}

/// API reference (NetworkPolicyPort.port): a named port of an egress rule is
/// a port on the destination pod; it resolves against that pod's container
/// ports (an external IP has none).
#[test]
fn named_port_in_egress_resolves_on_the_destination_pod() {
    let namespaces = ns_map(&[]);
    let policies = [compile(np(
        "dns",
        json!({"podSelector": {}, "policyTypes": ["Egress"],
               "egress": [{"ports": [{"protocol": "UDP", "port": "dns"}]}]}),
    ))];
    let client = pod("default", &[]);
    let dns_pod = Peer::pod(
        "kube-system",
        labels(&[("k8s-app", "kube-dns")]),
        &namespaces,
        container_ports(json!([
            {"name": "dns", "containerPort": 53, "protocol": "UDP"},
            {"name": "dns-tcp", "containerPort": 53, "protocol": "TCP"}
        ])),
    );
    let other_pod = Peer::pod(
        "default",
        Labels::new(),
        &namespaces,
        container_ports(json!([{"name": "dns", "containerPort": 5353, "protocol": "UDP"}])),
    );
    assert!(allowed(&policies, &client, Egress, &dns_pod, Udp, 53));
    assert!(!allowed(&policies, &client, Egress, &dns_pod, Tcp, 53));
    assert!(!allowed(&policies, &client, Egress, &dns_pod, Udp, 5353));
    assert!(allowed(&policies, &client, Egress, &other_pod, Udp, 5353));
    assert!(!allowed(&policies, &client, Egress, &other_pod, Udp, 53));
    // A `dns` port of another protocol does not satisfy a UDP rule.
    let tcp_dns_pod = Peer::pod(
        "default",
        Labels::new(),
        &namespaces,
        container_ports(json!([{"name": "dns", "containerPort": 53}])),
    );
    assert!(!allowed(&policies, &client, Egress, &tcp_dns_pod, Tcp, 53));
    assert!(!allowed(&policies, &client, Egress, &tcp_dns_pod, Udp, 53));
    assert!(!allowed(
        &policies,
        &client,
        Egress,
        &ip("8.8.8.8"),
        Udp,
        53
    ));
}

// ---------------------------------------------------------------------------
// Namespaces by label and by name
// ---------------------------------------------------------------------------

/// Concept page, "Targeting multiple namespaces by label": a
/// `namespaceSelector` with `matchExpressions` `namespace In [frontend,
/// backend]` lets `app=myapp` pods reach both labelled namespaces and no
/// other.
#[test]
fn multiple_namespaces_by_label() {
    let namespaces = ns_map(&[
        ("frontend", &[("namespace", "frontend")]),
        ("backend", &[("namespace", "backend")]),
        ("database", &[("namespace", "database")]),
    ]);
    let policies = [compile(json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "egress-namespaces"},
        "spec": {
            "podSelector": {"matchLabels": {"app": "myapp"}},
            "policyTypes": ["Egress"],
            "egress": [{"to": [{"namespaceSelector": {"matchExpressions": [
                {"key": "namespace", "operator": "In", "values": ["frontend", "backend"]}
            ]}}]}]
        }
    }))];
    let myapp = pod("default", &[("app", "myapp")]);
    assert!(allowed(
        &policies,
        &myapp,
        Egress,
        &peer("frontend", &[], &namespaces),
        Tcp,
        80
    ));
    assert!(allowed(
        &policies,
        &myapp,
        Egress,
        &peer("backend", &[], &namespaces),
        Tcp,
        80
    ));
    assert!(!allowed(
        &policies,
        &myapp,
        Egress,
        &peer("database", &[], &namespaces),
        Tcp,
        80
    ));
    // A namespace *named* frontend-2 but without the label is not selected.
    assert!(!allowed(
        &policies,
        &myapp,
        Egress,
        &peer("frontend-2", &[], &namespaces),
        Tcp,
        80
    ));
}

/// Concept page, "Targeting a Namespace by its name": the control plane sets
/// the immutable label `kubernetes.io/metadata.name` on every namespace, with
/// the namespace's name as value, so a `namespaceSelector` on that label
/// targets one namespace by name.
#[test]
fn target_a_namespace_by_its_name() {
    assert_eq!(NAMESPACE_NAME_LABEL, "kubernetes.io/metadata.name");
    // Even namespaces the caller knows no labels for carry it; a different
    // value in the caller's map cannot override it.
    let namespaces = ns_map(&[("spoof", &[(NAMESPACE_NAME_LABEL, "my-namespace")])]);
    assert_eq!(
        namespace_labels(&namespaces, "my-namespace"),
        labels(&[(NAMESPACE_NAME_LABEL, "my-namespace")])
    );
    assert_eq!(
        namespace_labels(&namespaces, "spoof")
            .get(NAMESPACE_NAME_LABEL)
            .map(String::as_str),
        Some("spoof")
    );

    let policies = [compile(np(
        "egress-to-my-namespace",
        json!({"podSelector": {"matchLabels": {"app": "myapp"}}, "policyTypes": ["Egress"],
               "egress": [{"to": [{"namespaceSelector": {"matchLabels":
                   {"kubernetes.io/metadata.name": "my-namespace"}}}]}]}),
    ))];
    let myapp = pod("default", &[("app", "myapp")]);
    assert!(allowed(
        &policies,
        &myapp,
        Egress,
        &peer("my-namespace", &[], &namespaces),
        Tcp,
        80
    ));
    assert!(!allowed(
        &policies,
        &myapp,
        Egress,
        &peer("spoof", &[], &namespaces),
        Tcp,
        80
    ));
    assert!(!allowed(
        &policies,
        &myapp,
        Egress,
        &peer("default", &[], &namespaces),
        Tcp,
        80
    ));
    // The label is the namespace's name whatever labels a peer was built with.
    let bare = |namespace: &str, ns_labels: Labels| Peer::Pod {
        namespace: namespace.to_string(),
        labels: Labels::new(),
        namespace_labels: ns_labels,
        ports: Vec::new(),
    };
    assert!(allowed(
        &policies,
        &myapp,
        Egress,
        &bare("my-namespace", Labels::new()),
        Tcp,
        80
    ));
    let spoofed = labels(&[(NAMESPACE_NAME_LABEL, "my-namespace")]);
    assert!(!allowed(
        &policies,
        &myapp,
        Egress,
        &bare("spoof", spoofed),
        Tcp,
        80
    ));
}

// ---------------------------------------------------------------------------
// Label selectors
// ---------------------------------------------------------------------------

/// API reference (LabelSelector): the results of `matchLabels` and
/// `matchExpressions` are ANDed, and an empty selector matches all objects.
#[test]
fn match_labels_and_match_expressions_are_anded() {
    let s = selector(json!({
        "matchLabels": {"app": "web"},
        "matchExpressions": [{"key": "env", "operator": "In", "values": ["prod", "staging"]}]
    }));
    assert!(s.matches(&labels(&[("app", "web"), ("env", "prod")])));
    assert!(s.matches(&labels(&[("app", "web"), ("env", "staging"), ("x", "y")])));
    assert!(!s.matches(&labels(&[("app", "web"), ("env", "dev")])));
    assert!(!s.matches(&labels(&[("app", "web")])));
    assert!(!s.matches(&labels(&[("app", "db"), ("env", "prod")])));

    let empty = selector(json!({}));
    assert!(empty.is_everything());
    assert!(empty.matches(&labels(&[])));
    assert!(empty.matches(&labels(&[("any", "thing")])));
    assert!(!s.is_everything());
}

/// API reference (LabelSelector.matchLabels): one `{key: value}` pair of
/// `matchLabels` is equivalent to a `matchExpressions` element with operator
/// `In` and the single value.
#[test]
fn match_labels_pair_equals_in_with_one_value() {
    let pair = selector(json!({"matchLabels": {"tier": "frontend"}}));
    let expr = selector(json!({"matchExpressions": [
        {"key": "tier", "operator": "In", "values": ["frontend"]}
    ]}));
    for l in [
        labels(&[("tier", "frontend")]),
        labels(&[("tier", "frontend"), ("app", "x")]),
        labels(&[("tier", "backend")]),
        labels(&[("app", "x")]),
        labels(&[]),
    ] {
        assert_eq!(pair.matches(&l), expr.matches(&l), "{l:?}");
    }
    assert!(pair.matches(&labels(&[("tier", "frontend")])));
    assert!(!pair.matches(&labels(&[("tier", "backend")])));
    assert!(pair.implies(&expr) && expr.implies(&pair));
    assert_eq!(pair.pinned_values("tier"), expr.pinned_values("tier"));
}

/// Labels page, "Set-based requirement": `environment in (production, qa)`
/// needs the key with one of the values; `tier notin (frontend, backend)`
/// also matches objects without a `tier` label; `partition` (Exists) checks
/// only that the key is present; `!partition` (DoesNotExist) that it is not.
#[test]
fn set_based_operators() {
    let in_ = selector(json!({"matchExpressions": [
        {"key": "environment", "operator": "In", "values": ["production", "qa"]}]}));
    assert!(in_.matches(&labels(&[("environment", "qa")])));
    assert!(!in_.matches(&labels(&[("environment", "dev")])));
    assert!(!in_.matches(&labels(&[])));

    let not_in = selector(json!({"matchExpressions": [
        {"key": "tier", "operator": "NotIn", "values": ["frontend", "backend"]}]}));
    assert!(not_in.matches(&labels(&[("tier", "cache")])));
    assert!(not_in.matches(&labels(&[])), "NotIn matches an absent key");
    assert!(!not_in.matches(&labels(&[("tier", "backend")])));

    let exists =
        selector(json!({"matchExpressions": [{"key": "partition", "operator": "Exists"}]}));
    assert!(exists.matches(&labels(&[("partition", "")])));
    assert!(exists.matches(&labels(&[("partition", "a")])));
    assert!(!exists.matches(&labels(&[("other", "a")])));

    let absent =
        selector(json!({"matchExpressions": [{"key": "partition", "operator": "DoesNotExist"}]}));
    assert!(absent.matches(&labels(&[("other", "a")])));
    assert!(!absent.matches(&labels(&[("partition", "a")])));

    // Labels page: `partition,environment notin (qa)` ANDs both.
    let both = selector(json!({"matchExpressions": [
        {"key": "partition", "operator": "Exists"},
        {"key": "environment", "operator": "NotIn", "values": ["qa"]}]}));
    assert!(both.matches(&labels(&[("partition", "p")])));
    assert!(!both.matches(&labels(&[("partition", "p"), ("environment", "qa")])));
    assert!(!both.matches(&labels(&[("environment", "prod")])));
}

/// API reference (LabelSelectorRequirement): the valid operators are In,
/// NotIn, Exists and DoesNotExist; In/NotIn need a non-empty `values`,
/// Exists/DoesNotExist an empty one. Anything else is rejected, and a policy
/// using such a selector does not compile (it is never treated as matching).
#[test]
fn invalid_selector_operators_are_rejected() {
    assert!(matches!(
        selector_err(
            json!({"matchExpressions": [{"key": "a", "operator": "Equals", "values": ["x"]}]})
        ),
        SelectorError::UnknownOperator { .. }
    ));
    assert!(matches!(
        selector_err(
            json!({"matchExpressions": [{"key": "a", "operator": "in", "values": ["x"]}]})
        ),
        SelectorError::UnknownOperator { .. }
    ));
    for op in ["In", "NotIn"] {
        assert!(matches!(
            selector_err(json!({"matchExpressions": [{"key": "a", "operator": op, "values": []}]})),
            SelectorError::MissingValues { .. }
        ));
    }
    for op in ["Exists", "DoesNotExist"] {
        assert!(matches!(
            selector_err(
                json!({"matchExpressions": [{"key": "a", "operator": op, "values": ["x"]}]})
            ),
            SelectorError::UnexpectedValues { .. }
        ));
        // Without values they are valid.
        selector(json!({"matchExpressions": [{"key": "a", "operator": op}]}));
    }

    let e = compile_err(np(
        "bad-selector",
        json!({"podSelector": {}, "ingress": [{"from": [{"podSelector": {"matchExpressions": [
            {"key": "app", "operator": "Equals", "values": ["web"]}
        ]}}]}]}),
    ));
    assert_eq!(e.path, "spec.ingress[0].from[0].podSelector");
    let e = compile_err(np(
        "bad-pod-selector",
        json!({"podSelector": {"matchExpressions": [{"key": "app", "operator": "Exists", "values": ["x"]}]}}),
    ));
    assert_eq!(e.path, "spec.podSelector");
}

// ---------------------------------------------------------------------------
// sandbox-lint reasoning (not documentation sentences)
// ---------------------------------------------------------------------------

/// sandbox-lint reasoning (not a documentation sentence): `a.implies(b)`
/// means every object `a` selects is also selected by `b` (one selector is
/// at least as narrow as another); `overlaps` means some object is selected
/// by both; `is_satisfiable`, `pinned_values` and `sample_labels` describe
/// what one selector can match. Checked on concrete label sets.
#[test]
fn selector_reasoning() {
    let cases = [
        (
            json!({"matchLabels": {"app": "web", "tier": "fe"}}),
            json!({"matchLabels": {"app": "web"}}),
            true,
        ),
        (
            json!({"matchLabels": {"app": "web"}}),
            json!({"matchLabels": {"app": "web", "tier": "fe"}}),
            false,
        ),
        (
            json!({"matchExpressions": [{"key": "env", "operator": "In", "values": ["prod"]}]}),
            json!({"matchExpressions": [{"key": "env", "operator": "NotIn", "values": ["dev"]}]}),
            true,
        ),
        (
            json!({"matchExpressions": [{"key": "env", "operator": "In", "values": ["prod", "dev"]}]}),
            json!({"matchExpressions": [{"key": "env", "operator": "In", "values": ["prod"]}]}),
            false,
        ),
        (
            json!({"matchExpressions": [{"key": "env", "operator": "Exists"}]}),
            json!({"matchExpressions": [{"key": "env", "operator": "In", "values": ["prod"]}]}),
            false,
        ),
        (
            json!({"matchExpressions": [{"key": "env", "operator": "DoesNotExist"}]}),
            json!({"matchExpressions": [{"key": "env", "operator": "NotIn", "values": ["prod"]}]}),
            true,
        ),
        (
            json!({"matchExpressions": [{"key": "env", "operator": "DoesNotExist"}]}),
            json!({"matchExpressions": [{"key": "env", "operator": "DoesNotExist"}]}),
            true,
        ),
        (
            json!({"matchExpressions": [{"key": "env", "operator": "DoesNotExist"}]}),
            json!({"matchExpressions": [{"key": "env", "operator": "Exists"}]}),
            false,
        ),
        (json!({"matchLabels": {"app": "web"}}), json!({}), true),
        (json!({}), json!({"matchLabels": {"app": "web"}}), false),
    ];
    for (a, b, expected) in cases {
        let (sa, sb) = (selector(a.clone()), selector(b.clone()));
        assert_eq!(sa.implies(&sb), expected, "{a} => {b}");
        let sample = sa.sample_labels().expect("satisfiable");
        assert!(sa.matches(&sample), "{a}: {sample:?}");
        if expected {
            assert!(sb.matches(&sample), "{a} => {b}: {sample:?}");
        }
    }
    // A counterexample for a non-implication: a selected by a, not by b.
    let a = selector(json!({"matchExpressions": [{"key": "env", "operator": "Exists"}]}));
    let b = selector(
        json!({"matchExpressions": [{"key": "env", "operator": "In", "values": ["prod"]}]}),
    );
    let sample = a.sample_labels().expect("satisfiable");
    assert!(a.matches(&sample) && !b.matches(&sample), "{sample:?}");

    // Overlap and satisfiability.
    let web = selector(json!({"matchLabels": {"app": "web"}}));
    let fe = selector(json!({"matchLabels": {"tier": "fe"}}));
    let db = selector(json!({"matchLabels": {"app": "db"}}));
    assert!(web.overlaps(&fe));
    assert!(!web.overlaps(&db));
    let prod = selector(
        json!({"matchExpressions": [{"key": "env", "operator": "In", "values": ["prod"]}]}),
    );
    let not_prod = selector(
        json!({"matchExpressions": [{"key": "env", "operator": "NotIn", "values": ["prod"]}]}),
    );
    let no_env =
        selector(json!({"matchExpressions": [{"key": "env", "operator": "DoesNotExist"}]}));
    assert!(!prod.overlaps(&not_prod));
    assert!(!prod.overlaps(&no_env));
    assert!(not_prod.overlaps(&no_env));

    let narrowed = selector(json!({"matchExpressions": [
        {"key": "env", "operator": "In", "values": ["prod", "staging", "dev"]},
        {"key": "env", "operator": "NotIn", "values": ["dev"]},
        {"key": "gpu", "operator": "Exists"},
        {"key": "legacy", "operator": "DoesNotExist"}
    ]}));
    assert!(narrowed.is_satisfiable());
    assert_eq!(
        narrowed.pinned_values("env"),
        Some(["prod".to_string(), "staging".to_string()].into())
    );
    assert_eq!(narrowed.pinned_values("gpu"), None);
    let sample = narrowed.sample_labels().expect("satisfiable");
    assert!(narrowed.matches(&sample));
    assert!(
        sample.contains_key("gpu") && !sample.contains_key("legacy"),
        "{sample:?}"
    );

    let contradiction = selector(json!({"matchExpressions": [
        {"key": "env", "operator": "In", "values": ["prod"]},
        {"key": "env", "operator": "In", "values": ["dev"]}
    ]}));
    assert!(!contradiction.is_satisfiable());
    assert_eq!(contradiction.sample_labels(), None);
    assert_eq!(contradiction.pinned_values("env"), Some(Default::default()));
}

/// sandbox-lint reasoning (not a documentation sentence): the ports a rule allows form a [`PortSet`];
/// union, intersection, difference and inclusion answer questions such as
/// "does this rule open more than TCP 32000-32768?".
#[test]
fn port_set_algebra() {
    let range =
        rule_ports(json!([{"protocol": "TCP", "port": 32000, "endPort": 32768}])).resolve(&[]);
    assert_eq!(range, PortSet::range(Tcp, 32000, 32768));
    assert!(
        range.contains(Tcp, 32768) && !range.contains(Tcp, 32769) && !range.contains(Udp, 32000)
    );

    let dns = rule_ports(json!([{"protocol": "UDP", "port": 53}, {"port": 53}])).resolve(&[]);
    let both = range.union(&dns);
    assert!(both.contains(Udp, 53) && both.contains(Tcp, 53) && both.contains(Tcp, 32100));
    assert!(range.is_subset(&both) && dns.is_subset(&both));
    assert!(!both.is_subset(&range));
    assert_eq!(
        both.intersect(&PortSet::protocol(Udp)),
        PortSet::single(Udp, 53)
    );
    assert!(range.intersect(&dns).is_empty());

    let holed = range.subtract(&PortSet::single(Tcp, 32100));
    assert_eq!(holed.ranges(Tcp), [(32000, 32099), (32101, 32768)]);
    assert!(!holed.contains(Tcp, 32100));
    assert!(holed.is_subset(&range) && !range.is_subset(&holed));

    // "All ports" (a rule without `ports`) contains everything.
    let all = RulePorts::all().resolve(&[]);
    assert!(all.is_all() && both.is_subset(&all) && !all.is_subset(&both));
    assert!(PortSet::empty().is_subset(&range));
}
