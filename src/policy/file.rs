//! What users write: the policy file format (`kind: Policy`). Every field is
//! optional where a default exists, and unknown keys are rejected, so a typo
//! never silently turns a control off.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::finding::Severity;

/// The apiVersion of policy files.
pub const API_VERSION: &str = "sandbox-lint.dev/v1alpha1";

/// A policy pack.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(title = "sandbox-lint policy")]
pub struct PolicyFile {
    /// Always `sandbox-lint.dev/v1alpha1`.
    pub api_version: String,
    /// Always `Policy`.
    pub kind: String,
    pub metadata: PolicyMetadata,
    #[serde(default)]
    pub spec: PolicySpec,
}

/// Name and description of a policy.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PolicyMetadata {
    /// Unique name; other policies `extends` it by this name.
    pub name: String,
    /// What the policy is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// What happens to violations at admission.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Deny objects with error findings.
    #[default]
    Enforce,
    /// Allow, returning findings as warnings to the client.
    Warn,
    /// Allow, recording findings in audit annotations and logs.
    Audit,
}

/// The body of a policy.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PolicySpec {
    /// Admission mode (the CLI shows it; the webhook acts on it). Default: enforce.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<Mode>,
    /// Packs this one builds on: a built-in pack name (`gvisor-sandbox`) or a path
    /// relative to this file. Later entries and this file override earlier ones.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extends: Vec<String>,
    /// Which objects the policy applies to (all, when absent).
    #[serde(default, rename = "match", skip_serializing_if = "Option::is_none")]
    pub match_: Option<Match>,
    /// Per-rule settings, keyed by rule code (`SL1002`) or name (`run-as-non-root`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub rules: BTreeMap<String, RuleSetting>,
    /// When true, only rules listed under `rules` (or enabled by an extended pack) run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub only_listed_rules: Option<bool>,
    /// Objects or rules exempted, each with a reason.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exemptions: Vec<Exemption>,
    /// Object annotations that may suppress rules (none by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotation_suppressions: Option<AnnotationSuppressions>,
    /// Rules written as a JSON Schema that matched objects (or their containers) must satisfy.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub custom_rules: Vec<CustomRule>,
}

/// A rule declared in a policy: objects it matches must satisfy `schema`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CustomRule {
    /// Stable code, e.g. `ACME001` (upper case letters, digits and dashes; not `SL...`).
    #[schemars(regex(pattern = r"^[A-Z][A-Z0-9-]*[0-9]$"))]
    pub code: String,
    /// Kebab-case name, e.g. `approved-registry`.
    #[schemars(regex(pattern = r"^[a-z][a-z0-9-]*$"))]
    pub name: String,
    /// What a finding says; the schema error follows it.
    pub message: String,
    #[serde(default = "default_severity")]
    pub severity: Severity,
    /// How to fix a finding.
    pub remediation: String,
    /// Which objects it applies to (every object carrying a pod spec when absent).
    #[serde(default, rename = "match", skip_serializing_if = "Option::is_none")]
    pub match_: Option<Match>,
    /// `object` validates the whole object; `container` each container, init and ephemeral container.
    #[serde(default)]
    pub target: CustomTarget,
    /// The JSON Schema (draft 2020-12) every target must satisfy.
    pub schema: serde_json::Value,
}

fn default_severity() -> Severity {
    Severity::Error
}

/// What a custom rule's schema is applied to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CustomTarget {
    #[default]
    Object,
    Container,
}

/// Selects objects.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Match {
    /// Object kinds (`Pod`, `Job`, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kinds: Vec<String>,
    /// Namespace names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub namespaces: Vec<String>,
    /// Labels of the object's namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace_selector: Option<LabelSelector>,
    /// Labels of the object; a workload is also selected when its pod
    /// template's labels match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_selector: Option<LabelSelector>,
}

/// A Kubernetes label selector.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LabelSelector {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub match_labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub match_expressions: Vec<LabelSelectorRequirement>,
}

/// One expression of a label selector.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LabelSelectorRequirement {
    pub key: String,
    pub operator: SelectorOperator,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
}

/// Operators of a label selector expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum SelectorOperator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

/// How one rule is configured.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RuleSetting {
    /// False turns the rule off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Overrides the rule's default severity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    /// The rule's parameters (see `sandbox-lint explain <rule>`); unset ones keep their defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<serde_json::Value>,
}

/// An exception, with the reason it exists.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Exemption {
    /// Rules exempted (codes or names); all rules when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<String>,
    /// Namespaces exempted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub namespaces: Vec<String>,
    /// Object names exempted (`*` at the end matches a prefix).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<String>,
    /// Container images exempted (`*` at the end matches a prefix).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<String>,
    /// Objects whose labels match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_selector: Option<LabelSelector>,
    /// Why the exemption exists. Mandatory.
    #[schemars(length(min = 1))]
    pub reason: String,
    /// Date (YYYY-MM-DD) after which the exemption no longer applies and is itself reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^\d{4}-\d{2}-\d{2}$"))]
    pub expires: Option<String>,
}

/// Which object annotations may suppress rules.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AnnotationSuppressions {
    /// The annotation key, e.g. `sandbox-lint.dev/ignore`; its value lists
    /// `CODE: reason` entries separated by newlines or `;`.
    pub annotation: String,
    /// Rules that the annotation may suppress; none when empty.
    #[serde(default)]
    pub rules: Vec<String>,
}

impl LabelSelector {
    /// The selector as Kubernetes validates and evaluates it (`In`/`NotIn`
    /// without values are refused).
    pub fn to_selector(&self) -> Result<crate::netpol::Selector, crate::netpol::SelectorError> {
        use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;
        let k8s = meta::LabelSelector {
            match_labels: Some(self.match_labels.clone()),
            match_expressions: Some(
                self.match_expressions
                    .iter()
                    .map(|e| meta::LabelSelectorRequirement {
                        key: e.key.clone(),
                        operator: format!("{:?}", e.operator),
                        values: Some(e.values.clone()),
                    })
                    .collect(),
            ),
        };
        crate::netpol::Selector::compile(&k8s)
    }

    /// True when `labels` satisfy every matchLabels entry and every expression.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.match_labels
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v))
            && self.match_expressions.iter().all(|e| {
                let value = labels.get(&e.key);
                match e.operator {
                    SelectorOperator::In => value.is_some_and(|v| e.values.contains(v)),
                    SelectorOperator::NotIn => value.is_none_or(|v| !e.values.contains(v)),
                    SelectorOperator::Exists => value.is_some(),
                    SelectorOperator::DoesNotExist => value.is_none(),
                }
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_follow_kubernetes_semantics() {
        let labels: BTreeMap<String, String> = [("app".to_string(), "runner".to_string())]
            .into_iter()
            .collect();
        let sel = |yaml: serde_json::Value| serde_json::from_value::<LabelSelector>(yaml).unwrap();
        assert!(
            sel(serde_json::json!({})).matches(&labels),
            "empty selects all"
        );
        assert!(sel(serde_json::json!({"matchLabels": {"app": "runner"}})).matches(&labels));
        assert!(!sel(serde_json::json!({"matchLabels": {"app": "api"}})).matches(&labels));
        let expr = |op: &str, values: &[&str]| {
            sel(
                serde_json::json!({"matchExpressions": [{"key": "app", "operator": op, "values": values}]}),
            )
        };
        assert!(expr("In", &["runner", "x"]).matches(&labels));
        assert!(!expr("NotIn", &["runner"]).matches(&labels));
        assert!(
            expr("NotIn", &["x"]).matches(&BTreeMap::new()),
            "NotIn matches a missing key"
        );
        assert!(expr("Exists", &[]).matches(&labels));
        assert!(!expr("DoesNotExist", &[]).matches(&labels));
    }
}
