//! SL3001-SL3005: what runner pods can reach, from the NetworkPolicies of the
//! run, against the allow-list of the runner checklist. The analysis itself is
//! in [`crate::network`]; these rules report it.
//!
//! The rules share one parameter set ([`NetworkParams`]): which pods are
//! runners, the allowed destinations and the address classes. A policy pack
//! that changes them writes them once with a YAML anchor and refers to it from
//! each rule (see `policies/gvisor-sandbox.yaml`).

pub mod egress;
pub mod ingress;
pub mod isolation;
pub mod required;
pub mod valid;

#[cfg(test)]
mod props;

use std::borrow::Cow;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::cluster::{Cluster, PodFacts};
use crate::finding::Location;
use crate::netpol::{IpSet, PortSet, Protocol};
use crate::network::{Class, Model, PodDestination, PublicDestination, Runner};
use crate::policy::file::LabelSelector;
use crate::resource::Workload;
use crate::rule::Cx;

/// One port or port range.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PortParam {
    /// TCP (default), UDP or SCTP.
    #[serde(default = "tcp")]
    pub protocol: String,
    pub port: u16,
    /// Last port of a range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_port: Option<u16>,
}

fn tcp() -> String {
    "TCP".into()
}

fn port(protocol: &str, port: u16) -> PortParam {
    PortParam {
        protocol: protocol.into(),
        port,
        end_port: None,
    }
}

/// Pods runners may reach.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PodDestinationParam {
    /// Name used in findings (`DNS`).
    pub name: String,
    /// The namespace of those pods.
    pub namespace: String,
    /// Their labels.
    pub pod_selector: LabelSelector,
    /// Ports runners may use.
    pub ports: Vec<PortParam>,
    /// Ports runners need: a warning when the policies deny them.
    #[serde(default)]
    pub required: Vec<PortParam>,
    /// What breaks when a required port is denied.
    #[serde(default)]
    pub purpose: String,
}

/// Traffic runners may send to public addresses.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PublicDestinationParam {
    /// Name used in findings (`HTTPS`).
    pub name: String,
    pub ports: Vec<PortParam>,
    #[serde(default)]
    pub required: Vec<PortParam>,
    #[serde(default)]
    pub purpose: String,
}

/// Parameters of the network rules, as written.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct RawNetworkParams {
    /// Pod labels that make a pod (or a workload's pod template) a runner.
    pub runner_selector: LabelSelector,
    /// Pods runners may reach (default: kube-dns in kube-system on UDP and TCP
    /// 53, the callback API `app: plue-api` in plue-system on TCP 4000).
    pub pods: Vec<PodDestinationParam>,
    /// What runners may send to public addresses (default: HTTPS, TCP 443).
    pub public: Vec<PublicDestinationParam>,
    /// Cloud metadata endpoints (addresses or CIDRs).
    pub metadata_endpoints: Vec<String>,
    /// Addresses of the Kubernetes API server (the `kubernetes` Service's
    /// ClusterIP and the control plane's endpoints).
    pub api_server: Vec<String>,
    /// The cluster's Service CIDRs.
    pub service_ranges: Vec<String>,
    /// Non-public ranges (RFC 1918, CGNAT, link-local, unique local).
    pub private_ranges: Vec<String>,
}

impl Default for RawNetworkParams {
    fn default() -> Self {
        let selector = |k: &str, v: &str| LabelSelector {
            match_labels: [(k.to_string(), v.to_string())].into_iter().collect(),
            match_expressions: Vec::new(),
        };
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect();
        Self {
            runner_selector: selector("app", "workflow-runner"),
            pods: vec![
                PodDestinationParam {
                    name: "DNS".into(),
                    namespace: "kube-system".into(),
                    pod_selector: selector("k8s-app", "kube-dns"),
                    ports: vec![port("UDP", 53), port("TCP", 53)],
                    required: vec![port("UDP", 53)],
                    purpose: "the runner cannot resolve names".into(),
                },
                PodDestinationParam {
                    name: "callback API".into(),
                    namespace: "plue-system".into(),
                    pod_selector: selector("app", "plue-api"),
                    ports: vec![port("TCP", 4000)],
                    required: vec![port("TCP", 4000)],
                    purpose: "the runner cannot stream its events back".into(),
                },
            ],
            public: vec![PublicDestinationParam {
                name: "HTTPS".into(),
                ports: vec![port("TCP", 443)],
                required: vec![port("TCP", 443)],
                purpose: "the runner cannot reach its API".into(),
            }],
            metadata_endpoints: s(&["169.254.169.254", "fd00:ec2::254", "100.100.100.200"]),
            api_server: s(&["10.96.0.1", "10.0.0.1", "172.20.0.1", "34.118.224.1"]),
            service_ranges: s(&[
                "10.96.0.0/12",
                "10.0.0.0/16",
                "172.20.0.0/16",
                "34.118.224.0/20",
            ]),
            private_ranges: s(&[
                "10.0.0.0/8",
                "172.16.0.0/12",
                "192.168.0.0/16",
                "100.64.0.0/10",
                "169.254.0.0/16",
                "fc00::/7",
                "fe80::/10",
            ]),
        }
    }
}

/// Parameters of the network rules, validated and compiled.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "RawNetworkParams", into = "RawNetworkParams")]
pub struct NetworkParams {
    raw: RawNetworkParams,
    pub model: Arc<Model>,
}

impl Default for NetworkParams {
    fn default() -> Self {
        // The defaults are tested to compile.
        Self::try_from(RawNetworkParams::default())
            .unwrap_or_else(|e| panic!("default network parameters: {e}"))
    }
}

impl From<NetworkParams> for RawNetworkParams {
    fn from(p: NetworkParams) -> Self {
        p.raw
    }
}

impl JsonSchema for NetworkParams {
    fn schema_name() -> Cow<'static, str> {
        RawNetworkParams::schema_name()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        RawNetworkParams::json_schema(generator)
    }
}

fn ports(list: &[PortParam], what: &str) -> Result<PortSet, String> {
    list.iter().try_fold(PortSet::empty(), |acc, p| {
        let protocol = Protocol::parse(&p.protocol).map_err(|e| format!("{what}: {e}"))?;
        let last = p.end_port.unwrap_or(p.port);
        if p.port == 0 || last < p.port {
            return Err(format!("{what}: invalid port range {}-{last}", p.port));
        }
        Ok(acc.union(&PortSet::range(protocol, p.port, last)))
    })
}

fn addresses(
    list: &[String],
    what: &str,
    class: Class,
    ranges: &mut Vec<(Class, String, IpSet)>,
) -> Result<IpSet, String> {
    list.iter().try_fold(IpSet::empty(), |acc, text| {
        let set = match text.parse::<std::net::IpAddr>() {
            Ok(addr) => IpSet::from_addr(addr),
            Err(_) => IpSet::parse_cidr(text).map_err(|e| format!("{what}: {e}"))?,
        };
        ranges.push((class, text.clone(), set.clone()));
        Ok(acc.union(&set))
    })
}

impl TryFrom<RawNetworkParams> for NetworkParams {
    type Error = String;
    fn try_from(raw: RawNetworkParams) -> Result<Self, String> {
        let runners = raw
            .runner_selector
            .to_selector()
            .map_err(|e| format!("runnerSelector: {e}"))?;
        let pods = raw
            .pods
            .iter()
            .map(|d| {
                Ok(PodDestination {
                    name: d.name.clone(),
                    namespace: d.namespace.clone(),
                    selector: d
                        .pod_selector
                        .to_selector()
                        .map_err(|e| format!("pods[{}].podSelector: {e}", d.name))?,
                    ports: ports(&d.ports, &d.name)?,
                    required: ports(&d.required, &d.name)?,
                    purpose: d.purpose.clone(),
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        let public = raw
            .public
            .iter()
            .map(|d| {
                Ok(PublicDestination {
                    name: d.name.clone(),
                    ports: ports(&d.ports, &d.name)?,
                    required: ports(&d.required, &d.name)?,
                    purpose: d.purpose.clone(),
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        let mut ranges = Vec::new();
        let model = Model {
            runners,
            pods,
            public,
            metadata: addresses(
                &raw.metadata_endpoints,
                "metadataEndpoints",
                Class::Metadata,
                &mut ranges,
            )?,
            api_server: addresses(&raw.api_server, "apiServer", Class::ApiServer, &mut ranges)?,
            services: addresses(
                &raw.service_ranges,
                "serviceRanges",
                Class::Services,
                &mut ranges,
            )?,
            private: addresses(
                &raw.private_ranges,
                "privateRanges",
                Class::Private,
                &mut ranges,
            )?,
            ranges,
        };
        Ok(Self {
            raw,
            model: Arc::new(model),
        })
    }
}

static NO_LABELS: crate::netpol::Labels = std::collections::BTreeMap::new();

/// A workload's namespace, pod labels and named ports, when its pod labels
/// make it a runner.
pub(crate) fn runner_parts<'a>(
    model: &Model,
    cx: &Cx<'_>,
    w: &'a Workload<'a>,
) -> Option<(
    String,
    &'a crate::netpol::Labels,
    Vec<crate::netpol::NamedPort>,
)> {
    let labels = w
        .pod
        .metadata
        .and_then(|m| m.labels.as_ref())
        .unwrap_or(&NO_LABELS);
    if !model.is_runner(labels) {
        return None;
    }
    let ports = crate::netpol::NamedPort::from_container_ports(
        w.pod.containers().flat_map(|c| c.ports.iter()),
    );
    Some((cx.namespace_of(w.resource).to_string(), labels, ports))
}

/// Where a workload's pod labels are (the field, or where it would go).
pub(crate) fn labels_pointer(w: &Workload<'_>) -> crate::pointer::Pointer {
    w.pod.base.parent().key("metadata").key("labels")
}

/// The runners a NetworkPolicy selects: those among the pods of the run, or,
/// when there are none, a runner as the policy and the runner selector
/// describe it, for policies meant for runners (so that a policy checked on
/// its own is still judged). Runners no selector tells apart come as one
/// class (see [`crate::runner_classes`]), in the order of their first pod.
pub(crate) fn subject_classes<'c>(
    model: &Arc<Model>,
    cluster: &'c Cluster,
    policy: &crate::netpol::CompiledPolicy,
) -> Vec<SubjectClass<'c>> {
    let analysis = cluster.analysis(model);
    let real: Vec<SubjectClass<'c>> = analysis
        .selected(cluster, policy)
        .into_iter()
        .map(|c| {
            let c = c.into_owned();
            SubjectClass {
                pods: c
                    .pods
                    .iter()
                    .filter_map(|&i| cluster.pods.get(i).map(|p| (i, p)))
                    .collect(),
                namespace: c.namespace,
                labels: c.labels,
                ports: c.ports,
            }
        })
        .collect();
    if !real.is_empty() {
        return real;
    }
    synthetic(model, policy)
        .map(|(namespace, labels)| SubjectClass {
            namespace,
            labels,
            ports: Vec::new(),
            pods: Vec::new(),
        })
        .into_iter()
        .collect()
}

/// Without runner pods among the inputs, a policy is judged for runners
/// when it is meant for them: its podSelector selects only runners, or
/// every pod of its namespace. (A policy for `tier: web` could select a
/// runner that carries that label too, but judging every such policy as a
/// runner policy would flag unrelated policies.)
fn synthetic(
    model: &Model,
    policy: &crate::netpol::CompiledPolicy,
) -> Option<(String, crate::netpol::Labels)> {
    if !(policy.pod_selector.is_everything() || policy.pod_selector.implies(&model.runners)) {
        return None;
    }
    let both = policy.pod_selector.and(&model.runners);
    both.sample_labels()
        .map(|labels| (policy.namespace.clone(), labels))
}

/// Runners a policy is judged for that no selector tells apart.
#[derive(Debug, Clone)]
pub(crate) struct SubjectClass<'c> {
    pub namespace: String,
    pub labels: crate::netpol::Labels,
    pub ports: Vec<crate::netpol::NamedPort>,
    /// Its pods among the inputs with their positions in the index, in index
    /// order (none: a runner as the policy describes it).
    pub pods: Vec<(usize, &'c PodFacts)>,
}

impl SubjectClass<'_> {
    pub fn runner(&self) -> Runner<'_> {
        Runner {
            namespace: &self.namespace,
            labels: &self.labels,
            ports: &self.ports,
        }
    }
}

/// The first `n` pods, in index order, of several classes.
pub(crate) fn first_pods<'c>(
    pods: impl IntoIterator<Item = (usize, &'c PodFacts)>,
    n: usize,
) -> Vec<&'c PodFacts> {
    let mut all: Vec<(usize, &'c PodFacts)> = pods.into_iter().collect();
    all.sort_by_key(|(i, _)| *i);
    all.into_iter().take(n).map(|(_, p)| p).collect()
}

/// The direct per-pod analysis the classes must agree with (the oracle of
/// the tests): every runner judged on its own.
#[cfg(test)]
pub(crate) mod direct {
    use super::*;

    /// A runner a policy is judged for.
    #[derive(Debug, Clone)]
    pub(crate) struct Subject<'c> {
        pub namespace: String,
        pub labels: crate::netpol::Labels,
        pub ports: Vec<crate::netpol::NamedPort>,
        /// The pod among the inputs, if it is one.
        pub pod: Option<&'c PodFacts>,
    }

    impl Subject<'_> {
        pub fn runner(&self) -> Runner<'_> {
            Runner {
                namespace: &self.namespace,
                labels: &self.labels,
                ports: &self.ports,
            }
        }
    }

    /// The runners a NetworkPolicy selects, one by one.
    pub(crate) fn subjects<'c>(
        model: &Model,
        cluster: &'c Cluster,
        policy: &crate::netpol::CompiledPolicy,
    ) -> Vec<Subject<'c>> {
        let real: Vec<Subject<'c>> = cluster
            .pods
            .iter()
            .filter(|p| model.is_runner(&p.labels) && policy.selects(&p.namespace, &p.labels))
            .map(|p| Subject {
                namespace: p.namespace.clone(),
                labels: p.labels.clone(),
                ports: p.ports.clone(),
                pod: Some(p),
            })
            .collect();
        if !real.is_empty() {
            return real;
        }
        synthetic(model, policy)
            .map(|(namespace, labels)| Subject {
                namespace,
                labels,
                ports: Vec::new(),
                pod: None,
            })
            .into_iter()
            .collect()
    }
}

/// `Pod workflows/runner-1` and where its labels are.
pub(crate) fn runner_related(p: &PodFacts) -> (Location, String) {
    (
        p.at.clone(),
        format!(
            "runner {} {}/{} is selected by this policy",
            p.object.kind, p.namespace, p.object.name
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_compile_and_round_trip() {
        let p = NetworkParams::default();
        assert_eq!(p.model.pods.len(), 2);
        let v = serde_json::to_value(&p).unwrap();
        assert_eq!(v["runnerSelector"]["matchLabels"]["app"], "workflow-runner");
        let back: NetworkParams = serde_json::from_value(v).unwrap();
        assert_eq!(back.model.pods[0].ports, p.model.pods[0].ports);
    }

    #[test]
    fn invalid_parameters_are_refused() {
        let mut v = serde_json::to_value(NetworkParams::default()).unwrap();
        v["privateRanges"] = serde_json::json!(["10.0.0.0/33"]);
        let e = serde_json::from_value::<NetworkParams>(v).unwrap_err();
        assert!(e.to_string().contains("privateRanges"), "{e}");
        let mut v = serde_json::to_value(NetworkParams::default()).unwrap();
        v["pods"][0]["ports"][0]["protocol"] = serde_json::json!("ICMP");
        assert!(serde_json::from_value::<NetworkParams>(v).is_err());
    }
}
