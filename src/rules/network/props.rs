//! Property test: the class-based network analysis (runners no selector tells
//! apart judged once) renders exactly the findings of the direct per-runner
//! analysis, on small random clusters.

use std::fmt::Write as _;
use std::sync::Arc;

use super::direct;
use super::{NetworkParams, egress, required, runner_related, subject_classes};
use crate::cluster::{Cluster, PodFacts};
use crate::finding::Location;
use crate::load::load_text;
use crate::netpol::CompiledPolicy;
use crate::network::Runner;
use crate::pointer::Pointer;
use crate::resource::Object;
use crate::source::LineCol;
use crate::test_rng::Rng;
use crate::yaml::Limits;

const NAMESPACES: [&str; 5] = ["wf-a", "wf-b", "wf-c", "kube-system", "plue-system"];
const KEYS: [&str; 3] = ["tier", "role", "app"];
const VALUES: [&str; 4] = ["x", "y", "z", "workflow-runner"];

/// A label selector (flow YAML) from a small alphabet: empty, matchLabels,
/// matchExpressions of every operator, or both.
fn selector(rng: &mut Rng, runnerish: bool) -> String {
    let mut parts: Vec<String> = Vec::new();
    if runnerish && rng.chance(60) {
        parts.push("matchLabels: {app: workflow-runner}".into());
    } else if rng.chance(40) {
        let k = rng.pick(&KEYS);
        let v = rng.pick(&VALUES);
        parts.push(format!("matchLabels: {{{k}: {v}}}"));
    }
    if rng.chance(40) {
        let k = rng.pick(&KEYS);
        let expr = match rng.below(4) {
            0 => format!(
                "{{key: {k}, operator: In, values: [{}, {}]}}",
                rng.pick(&VALUES),
                rng.pick(&VALUES)
            ),
            1 => format!(
                "{{key: {k}, operator: NotIn, values: [{}]}}",
                rng.pick(&VALUES)
            ),
            2 => format!("{{key: {k}, operator: Exists}}"),
            _ => format!("{{key: {k}, operator: DoesNotExist}}"),
        };
        parts.push(format!("matchExpressions: [{expr}]"));
    }
    format!("{{{}}}", parts.join(", "))
}

fn namespace_selector(rng: &mut Rng) -> String {
    match rng.below(4) {
        0 => "{}".into(),
        1 => format!(
            "{{matchLabels: {{kubernetes.io/metadata.name: {}}}}}",
            rng.pick(&NAMESPACES)
        ),
        2 => format!("{{matchLabels: {{team: {}}}}}", rng.pick(&["x", "y"])),
        _ => format!(
            "{{matchExpressions: [{{key: kubernetes.io/metadata.name, operator: In, values: [{}, {}]}}]}}",
            rng.pick(&NAMESPACES),
            rng.pick(&NAMESPACES)
        ),
    }
}

fn peer(rng: &mut Rng) -> String {
    match rng.below(5) {
        0 => format!("{{podSelector: {}}}", selector(rng, true)),
        1 => format!("{{namespaceSelector: {}}}", namespace_selector(rng)),
        2 => format!(
            "{{namespaceSelector: {}, podSelector: {}}}",
            namespace_selector(rng),
            selector(rng, false)
        ),
        3 => {
            let (cidr, except) = *[
                ("0.0.0.0/0", "[10.0.0.0/8, 169.254.0.0/16, 172.16.0.0/12]"),
                ("10.0.0.0/8", "[10.96.0.0/12]"),
                ("169.254.169.254/32", "[]"),
                ("0.0.0.0/0", "[]"),
                ("::/0", "[fc00::/7]"),
            ]
            .get(rng.below(5))
            .unwrap_or(&("0.0.0.0/0", "[]"));
            format!("{{ipBlock: {{cidr: {cidr}, except: {except}}}}}")
        }
        _ => "{podSelector: {}}".into(),
    }
}

fn ports(rng: &mut Rng) -> String {
    let n = rng.below(3);
    let list: Vec<String> = (0..n)
        .map(|_| match rng.below(5) {
            0 => "{port: 443}".to_string(),
            1 => "{protocol: UDP, port: 53}".to_string(),
            2 => format!("{{port: {}}}", rng.pick(&["metrics", "http", "dns"])),
            3 => "{port: 4000, endPort: 4100}".to_string(),
            _ => "{protocol: TCP}".to_string(),
        })
        .collect();
    if list.is_empty() && rng.chance(50) {
        String::new()
    } else {
        format!(", ports: [{}]", list.join(", "))
    }
}

fn rules(rng: &mut Rng, side: &str) -> String {
    let n = rng.below(3);
    let rules: Vec<String> = (0..n)
        .map(|_| {
            let peers = if rng.chance(20) {
                String::new()
            } else {
                let peers: Vec<String> = (0..1 + rng.below(2)).map(|_| peer(rng)).collect();
                format!("{side}: [{}]", peers.join(", "))
            };
            let ports = ports(rng);
            let body = format!("{peers}{ports}");
            format!("{{{}}}", body.trim_start_matches(", "))
        })
        .collect();
    format!("[{}]", rules.join(", "))
}

fn policy(rng: &mut Rng, name: &str, ns: &str) -> String {
    let mut spec = format!("  podSelector: {}\n", selector(rng, true));
    match rng.below(4) {
        0 => spec.push_str("  policyTypes: [Ingress, Egress]\n"),
        1 => spec.push_str("  policyTypes: [Egress]\n"),
        2 => spec.push_str("  policyTypes: [Ingress]\n"),
        _ => {}
    }
    if rng.chance(60) {
        let _ = writeln!(spec, "  ingress: {}", rules(rng, "from"));
    }
    if rng.chance(85) {
        let _ = writeln!(spec, "  egress: {}", rules(rng, "to"));
    }
    format!(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: {name}\n  namespace: {ns}\nspec:\n{spec}"
    )
}

fn pod(rng: &mut Rng, name: &str, ns: &str, labels: &[(String, String)]) -> String {
    let labels: Vec<String> = labels.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    let ports = if rng.chance(50) {
        let name = rng.pick(&["metrics", "http", "dns"]);
        let number = rng.pick(&["9090", "4000", "53", "443"]);
        let protocol = rng.pick(&["TCP", "UDP"]);
        format!(", ports: [{{name: {name}, containerPort: {number}, protocol: {protocol}}}]")
    } else {
        String::new()
    };
    let containers = format!("[{{name: c, image: i{ports}}}]");
    if rng.chance(25) {
        format!(
            "apiVersion: batch/v1\nkind: Job\nmetadata: {{name: {name}, namespace: {ns}}}\nspec:\n  template:\n    metadata: {{labels: {{{}}}}}\n    spec: {{containers: {containers}}}\n",
            labels.join(", ")
        )
    } else {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: {ns}, labels: {{{}}}}}\nspec: {{containers: {containers}}}\n",
            labels.join(", ")
        )
    }
}

/// A random cluster as documents, and one more policy that is not among them
/// (an admission review of a new policy).
fn cluster_docs(rng: &mut Rng) -> (Vec<String>, String) {
    let mut docs = Vec::new();
    for ns in NAMESPACES {
        if rng.chance(50) {
            docs.push(format!(
                "apiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}, labels: {{team: {}}}}}\n",
                rng.pick(&["x", "y"])
            ));
        }
    }
    if rng.chance(80) {
        let labels = [("k8s-app".to_string(), "kube-dns".to_string())];
        docs.push(pod(rng, "dns", "kube-system", &labels));
    }
    if rng.chance(80) {
        let labels = [("app".to_string(), "plue-api".to_string())];
        docs.push(pod(rng, "api", "plue-system", &labels));
    }
    for i in 0..rng.below(14) {
        let ns = rng.pick(&NAMESPACES[..3]);
        let mut labels = vec![("run-id".to_string(), format!("r{i}"))];
        if rng.chance(85) {
            labels.push(("app".into(), "workflow-runner".into()));
        }
        for key in ["tier", "role"] {
            if rng.chance(50) {
                labels.push((key.into(), rng.pick(&VALUES[..3]).into()));
            }
        }
        docs.push(pod(rng, &format!("p{i}"), ns, &labels));
    }
    for i in 0..rng.below(7) {
        let ns = rng.pick(&NAMESPACES);
        docs.push(policy(rng, &format!("np{i}"), ns));
    }
    let ns = rng.pick(&NAMESPACES[..3]);
    let extra = policy(rng, "new", ns);
    (docs, extra)
}

fn index(docs: &[String]) -> Cluster {
    let limits = Limits::default();
    let mut cluster = Cluster::default();
    for (n, text) in docs.iter().enumerate() {
        let loaded = load_text(text, &limits);
        let file: Arc<str> = Arc::from(format!("doc{n}.yaml"));
        let locate = |p: &Pointer| Location {
            file: file.clone(),
            start: p.as_str().len(),
            end: p.as_str().len(),
            start_lc: LineCol { line: 1, column: 1 },
            end_lc: LineCol { line: 1, column: 1 },
        };
        for doc in &loaded.docs {
            for r in &doc.resources {
                cluster.add(r, "default", true, &locate);
            }
        }
    }
    cluster
}

fn compile(text: &str) -> Option<CompiledPolicy> {
    let loaded = load_text(text, &Limits::default());
    let r = loaded.docs.first()?.resources.first()?;
    let Object::NetworkPolicy(np) = &r.object else {
        return None;
    };
    CompiledPolicy::compile(np, r.namespace.as_deref().unwrap_or("default")).ok()
}

fn render(paths: &[(egress::PathKey, Vec<&PodFacts>)]) -> Vec<String> {
    paths
        .iter()
        .map(|((rule, peer, message), pods)| {
            let related: Vec<String> = pods
                .iter()
                .map(|p| {
                    let (at, why) = runner_related(p);
                    format!("{at:?} {why}")
                })
                .collect();
            format!("{rule} {peer:?} {message} {related:?}")
        })
        .collect()
}

fn render_required(r: &crate::runner_classes::Required) -> String {
    format!("{:?} {:?}", r.findings, r.related)
}

#[test]
fn classes_render_what_the_direct_analysis_renders() {
    let params = NetworkParams::default();
    let model = &params.model;
    let mut judged = (0usize, 0usize, 0usize);
    for case in 0..700u64 {
        let mut rng = Rng(case.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ 19);
        let (docs, extra) = cluster_docs(&mut rng);
        let cluster = index(&docs);
        let mut policies: Vec<CompiledPolicy> = cluster
            .policies
            .iter()
            .map(|p| (*p.policy).clone())
            .collect();
        policies.extend(compile(&extra));
        for policy in &policies {
            // SL3003: paths, messages and the first three runners of each.
            let fast = render(&egress::paths(model, &cluster, policy));
            let slow = render(&egress::paths_direct(model, &cluster, policy));
            assert_eq!(
                fast,
                slow,
                "case {case}, policy {}:\n{}",
                policy.id(),
                docs.join("---\n")
            );
            judged.0 += fast.len();
            // SL3002: which runners (in order) and whether any.
            let classes = subject_classes(model, &cluster, policy);
            let mut fast: Vec<(usize, &PodFacts)> = classes
                .iter()
                .flat_map(|c| c.pods.iter().copied())
                .collect();
            fast.sort_by_key(|(i, _)| *i);
            let fast: Vec<&str> = fast.iter().map(|(_, p)| p.object.name.as_str()).collect();
            let subjects = direct::subjects(model, &cluster, policy);
            let slow: Vec<&str> = subjects
                .iter()
                .filter_map(|s| s.pod)
                .map(|p| p.object.name.as_str())
                .collect();
            assert_eq!(fast, slow, "case {case}, policy {}", policy.id());
            assert_eq!(classes.is_empty(), subjects.is_empty(), "case {case}");
            judged.1 += fast.len();
        }
        // SL3004, runners judged in a shuffled order so that a class's
        // remembered verdict is not always its first pod's.
        let mut order: Vec<usize> = (0..cluster.pods.len()).collect();
        for i in (1..order.len()).rev() {
            order.swap(i, rng.below(i + 1));
        }
        let analysis = cluster.analysis(model);
        for i in order {
            let p = &cluster.pods[i];
            if !model.is_runner(&p.labels) {
                continue;
            }
            let runner = Runner {
                namespace: &p.namespace,
                labels: &p.labels,
                ports: &p.ports,
            };
            let fast = analysis.required(&runner, || required::verdict(model, &cluster, &runner));
            let slow = required::verdict(model, &cluster, &runner);
            assert_eq!(
                render_required(&fast),
                render_required(&slow),
                "case {case}, pod {}:\n{}",
                p.object.name,
                docs.join("---\n")
            );
            judged.2 += slow.findings.len();
        }
    }
    // The cases must exercise every finding kind.
    assert!(
        judged.0 > 200 && judged.1 > 200 && judged.2 > 200,
        "{judged:?}"
    );
}
