//! Prometheus metrics of the webhook, in the text exposition format.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use super::review::Outcome;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    decision: &'static str,
    kind: String,
    policy: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FindingLabels {
    code: &'static str,
    severity: &'static str,
}

/// Every metric the webhook exports.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    findings: Family<FindingLabels, Counter>,
    latency: Histogram,
    cluster_objects: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("sandbox_lint");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "admission_requests",
            "Admission reviews answered, by decision, object kind and deciding policy",
            requests.clone(),
        );
        let findings = Family::<FindingLabels, Counter>::default();
        registry.register(
            "admission_findings",
            "Active findings in admission reviews, by rule code and severity",
            findings.clone(),
        );
        // 50 µs to about 1.6 s.
        let latency = Histogram::new(exponential_buckets(0.00005, 2.0, 16));
        registry.register(
            "admission_duration_seconds",
            "Time from the request's arrival to its answer (body read, judged, encoded)",
            latency.clone(),
        );
        let cluster_objects = Gauge::default();
        registry.register(
            "cluster_context_objects",
            "Objects in the cluster-context index (0 without --cluster-context)",
            cluster_objects.clone(),
        );
        Self {
            registry,
            requests,
            findings,
            latency,
            cluster_objects,
        }
    }

    /// Counts one answered request.
    pub fn observe(&self, outcome: &Outcome, seconds: f64) {
        // Kinds come from requests: only known ones become label values.
        let kind = match crate::resource::kind_info(&outcome.kind) {
            Some(info) => info.kind.to_string(),
            None if outcome.kind.is_empty() => "<none>".to_string(),
            None => "<other>".to_string(),
        };
        self.requests
            .get_or_create(&RequestLabels {
                decision: outcome.decision.as_str(),
                kind,
                policy: outcome.policy.clone(),
            })
            .inc();
        for (code, severity) in &outcome.findings {
            self.findings
                .get_or_create(&FindingLabels {
                    code,
                    severity: severity.as_str(),
                })
                .inc();
        }
        self.latency.observe(seconds);
    }

    /// Sets the size of the cluster-context index.
    pub fn set_cluster_objects(&self, n: usize) {
        self.cluster_objects
            .set(i64::try_from(n).unwrap_or(i64::MAX));
    }

    /// The text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}
