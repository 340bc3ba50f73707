//! Label selectors (`metav1.LabelSelector`) as Kubernetes evaluates them.
//!
//! Semantics follow `metav1.LabelSelectorAsSelector` and
//! `ValidateLabelSelector` in Kubernetes:
//!
//! * every `matchLabels` pair and every `matchExpressions` requirement must
//!   hold (logical AND);
//! * an empty selector `{}` matches every object;
//! * `In` / `NotIn` need at least one value, `Exists` / `DoesNotExist` must
//!   have none, and any other operator is invalid;
//! * `NotIn` matches when the key is absent, `In` does not.
//!
//! Invalid selectors are rejected when compiled; they never match anything
//! (fail closed) because no [`Selector`] can be built from them.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

/// Labels of a Kubernetes object (pod or namespace).
pub type Labels = BTreeMap<String, String>;

/// One condition of a compiled selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requirement {
    /// `matchLabels: {key: value}`: the label is present with exactly this value.
    Equals {
        /// Label key.
        key: String,
        /// Required value.
        value: String,
    },
    /// `operator: In`: the label is present and its value is one of `values`.
    In {
        /// Label key.
        key: String,
        /// Accepted values (never empty).
        values: BTreeSet<String>,
    },
    /// `operator: NotIn`: the label is absent, or its value is not in `values`.
    NotIn {
        /// Label key.
        key: String,
        /// Rejected values (never empty).
        values: BTreeSet<String>,
    },
    /// `operator: Exists`: the label is present, whatever its value.
    Exists {
        /// Label key.
        key: String,
    },
    /// `operator: DoesNotExist`: the label is absent.
    DoesNotExist {
        /// Label key.
        key: String,
    },
}

impl Requirement {
    /// Whether this requirement holds for an object whose label lookup is `get`.
    fn holds<'a>(&self, get: &impl Fn(&str) -> Option<&'a str>) -> bool {
        match self {
            Requirement::Equals { key, value } => get(key) == Some(value.as_str()),
            Requirement::In { key, values } => get(key).is_some_and(|v| values.contains(v)),
            Requirement::NotIn { key, values } => get(key).is_none_or(|v| !values.contains(v)),
            Requirement::Exists { key } => get(key).is_some(),
            Requirement::DoesNotExist { key } => get(key).is_none(),
        }
    }
}

impl Requirement {
    /// The label key this requirement is about.
    pub fn key(&self) -> &str {
        match self {
            Requirement::Equals { key, .. }
            | Requirement::In { key, .. }
            | Requirement::NotIn { key, .. }
            | Requirement::Exists { key }
            | Requirement::DoesNotExist { key } => key,
        }
    }
}

/// Whether every label set satisfying `have` satisfies `want`.
fn entails(have: &Requirement, want: &Requirement) -> bool {
    use Requirement as R;
    if have.key() != want.key() {
        return false;
    }
    // The values `have` admits when the label is present (None: any value),
    // and whether it admits the label's absence.
    let (admitted, absent_ok): (Option<BTreeSet<&String>>, bool) = match have {
        R::Equals { value, .. } => (Some(BTreeSet::from([value])), false),
        R::In { values, .. } => (Some(values.iter().collect()), false),
        R::Exists { .. } => (None, false),
        R::DoesNotExist { .. } => (Some(BTreeSet::new()), true),
        R::NotIn { values, .. } => {
            // Absent or any value outside `values`: only a NotIn over a subset
            // of `values` (or the same requirement) follows.
            return match want {
                R::NotIn { values: w, .. } => w.is_subset(values),
                _ => false,
            };
        }
    };
    match want {
        R::Equals { value, .. } => {
            !absent_ok && admitted.is_some_and(|a| a.len() == 1 && a.contains(value))
        }
        R::In { values, .. } => {
            !absent_ok && admitted.is_some_and(|a| a.iter().all(|v| values.contains(*v)))
        }
        R::Exists { .. } => !absent_ok,
        R::DoesNotExist { .. } => absent_ok,
        R::NotIn { values, .. } => admitted.is_some_and(|a| a.iter().all(|v| !values.contains(*v))),
    }
}

impl fmt::Display for Requirement {
    /// Renders in the `kubectl -l` syntax used by `labels.Selector.String()`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let join = |values: &BTreeSet<String>| {
            values
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join(",")
        };
        match self {
            Requirement::Equals { key, value } => write!(f, "{key}={value}"),
            Requirement::In { key, values } => write!(f, "{key} in ({})", join(values)),
            Requirement::NotIn { key, values } => write!(f, "{key} notin ({})", join(values)),
            Requirement::Exists { key } => write!(f, "{key}"),
            Requirement::DoesNotExist { key } => write!(f, "!{key}"),
        }
    }
}

/// Why a `LabelSelector` is invalid. Kubernetes rejects such objects, so they
/// must never be treated as matching.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectorError {
    /// The operator is not one of In, NotIn, Exists, DoesNotExist.
    #[error(
        "matchExpressions[{index}] (key `{key}`): unknown operator `{operator}` (valid operators: In, NotIn, Exists, DoesNotExist)"
    )]
    UnknownOperator {
        /// Position in `matchExpressions`.
        index: usize,
        /// Label key of the expression.
        key: String,
        /// The operator as written.
        operator: String,
    },
    /// `In` / `NotIn` without values.
    #[error(
        "matchExpressions[{index}] (key `{key}`): operator `{operator}` requires at least one value"
    )]
    MissingValues {
        /// Position in `matchExpressions`.
        index: usize,
        /// Label key of the expression.
        key: String,
        /// `In` or `NotIn`.
        operator: String,
    },
    /// `Exists` / `DoesNotExist` with values.
    #[error(
        "matchExpressions[{index}] (key `{key}`): operator `{operator}` must not have values (found {count})"
    )]
    UnexpectedValues {
        /// Position in `matchExpressions`.
        index: usize,
        /// Label key of the expression.
        key: String,
        /// `Exists` or `DoesNotExist`.
        operator: String,
        /// How many values were given.
        count: usize,
    },
}

/// A validated label selector: the AND of its requirements. No requirements
/// means "select everything" (the empty selector `{}`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selector {
    requirements: Vec<Requirement>,
}

impl Selector {
    /// The empty selector `{}`, which Kubernetes treats as matching every object.
    pub fn everything() -> Self {
        Self::default()
    }

    /// Validates and compiles a `LabelSelector` as `metav1.LabelSelectorAsSelector`
    /// does: matchLabels become equality requirements, matchExpressions keep their
    /// operator. Operators are case-sensitive, as in Kubernetes.
    pub fn compile(selector: &LabelSelector) -> Result<Self, SelectorError> {
        let mut requirements = Vec::new();
        for (key, value) in selector.match_labels.iter().flatten() {
            requirements.push(Requirement::Equals {
                key: key.clone(),
                value: value.clone(),
            });
        }
        for (index, expr) in selector.match_expressions.iter().flatten().enumerate() {
            let values = expr.values.as_deref().unwrap_or_default();
            let key = expr.key.clone();
            let operator = expr.operator.as_str();
            let requirement = match operator {
                "In" | "NotIn" => {
                    if values.is_empty() {
                        return Err(SelectorError::MissingValues {
                            index,
                            key,
                            operator: operator.to_string(),
                        });
                    }
                    let values = values.iter().cloned().collect();
                    if operator == "In" {
                        Requirement::In { key, values }
                    } else {
                        Requirement::NotIn { key, values }
                    }
                }
                "Exists" | "DoesNotExist" => {
                    if !values.is_empty() {
                        return Err(SelectorError::UnexpectedValues {
                            index,
                            key,
                            operator: operator.to_string(),
                            count: values.len(),
                        });
                    }
                    if operator == "Exists" {
                        Requirement::Exists { key }
                    } else {
                        Requirement::DoesNotExist { key }
                    }
                }
                _ => {
                    return Err(SelectorError::UnknownOperator {
                        index,
                        key,
                        operator: operator.to_string(),
                    });
                }
            };
            requirements.push(requirement);
        }
        Ok(Self { requirements })
    }

    /// True for the empty selector `{}`, which selects every object.
    pub fn is_everything(&self) -> bool {
        self.requirements.is_empty()
    }

    /// The requirements, all of which must hold.
    pub fn requirements(&self) -> &[Requirement] {
        &self.requirements
    }

    /// The values `key` is pinned to: `Some(values)` when some requirement
    /// (`key=value` or `key in (...)`) admits only these values (the
    /// intersection when several do), `None` when any value, or none, may pass.
    pub fn pinned_values(&self, key: &str) -> Option<BTreeSet<String>> {
        let mut pinned: Option<BTreeSet<String>> = None;
        for r in &self.requirements {
            let values: BTreeSet<String> = match r {
                Requirement::Equals { key: k, value } if k == key => {
                    BTreeSet::from([value.clone()])
                }
                Requirement::In { key: k, values } if k == key => values.clone(),
                _ => continue,
            };
            pinned = Some(match pinned {
                None => values,
                Some(p) => p.intersection(&values).cloned().collect(),
            });
        }
        if let Some(p) = &mut pinned {
            for r in &self.requirements {
                if let Requirement::NotIn { key: k, values } = r
                    && k == key
                {
                    p.retain(|v| !values.contains(v));
                }
            }
        }
        pinned
    }

    /// Whether every object this selector matches is also matched by `other`
    /// (`self` is at least as narrow). Decided requirement by requirement: each
    /// requirement of `other` must follow from a single requirement of `self`.
    /// This is sound (a `true` is always right) and complete for selectors
    /// that do not combine several requirements on one key.
    pub fn implies(&self, other: &Selector) -> bool {
        other
            .requirements
            .iter()
            .all(|want| self.requirements.iter().any(|have| entails(have, want)))
    }

    /// Whether some set of labels satisfies every requirement. Only
    /// contradictions between requirements on the same key make a selector
    /// unsatisfiable.
    pub fn is_satisfiable(&self) -> bool {
        let keys: BTreeSet<&str> = self.requirements.iter().map(Requirement::key).collect();
        keys.into_iter().all(|key| {
            let reqs: Vec<&Requirement> = self
                .requirements
                .iter()
                .filter(|r| r.key() == key)
                .collect();
            let absent_ok = reqs.iter().all(|r| {
                matches!(
                    r,
                    Requirement::NotIn { .. } | Requirement::DoesNotExist { .. }
                )
            });
            if absent_ok {
                return true;
            }
            // Present: some value must pass every requirement. Candidates are the
            // values named anywhere, plus one named nowhere.
            let mut candidates: BTreeSet<String> = reqs
                .iter()
                .flat_map(|r| match r {
                    Requirement::Equals { value, .. } => vec![value.clone()],
                    Requirement::In { values, .. } | Requirement::NotIn { values, .. } => {
                        values.iter().cloned().collect()
                    }
                    _ => Vec::new(),
                })
                .collect();
            let fresh = (0..)
                .map(|i| format!("value-{i}"))
                .find(|v| !candidates.contains(v))
                .unwrap_or_default();
            candidates.insert(fresh);
            candidates.iter().any(|v| {
                reqs.iter()
                    .all(|r| r.holds(&|k: &str| (k == key).then_some(v.as_str())))
            })
        })
    }

    /// A smallest set of labels this selector matches, when it is satisfiable:
    /// each pinned key gets its first allowed value, each `Exists` key a value
    /// named by no requirement.
    pub fn sample_labels(&self) -> Option<Labels> {
        if !self.is_satisfiable() {
            return None;
        }
        let mut labels = Labels::new();
        for r in &self.requirements {
            let key = r.key();
            if labels.contains_key(key) {
                continue;
            }
            match r {
                Requirement::Equals { .. } | Requirement::In { .. } => {
                    if let Some(v) = self.pinned_values(key).and_then(|p| p.into_iter().next()) {
                        labels.insert(key.to_string(), v);
                    }
                }
                Requirement::Exists { .. } => {
                    let named: BTreeSet<&String> = self
                        .requirements
                        .iter()
                        .filter(|x| x.key() == key)
                        .flat_map(|x| match x {
                            Requirement::NotIn { values, .. } => values.iter().collect(),
                            _ => Vec::new(),
                        })
                        .collect();
                    let v = (0..)
                        .map(|i| format!("value-{i}"))
                        .find(|v| !named.contains(v))
                        .unwrap_or_default();
                    labels.insert(key.to_string(), v);
                }
                Requirement::NotIn { .. } | Requirement::DoesNotExist { .. } => {}
            }
        }
        self.matches(&labels).then_some(labels)
    }

    /// The selector matching what both `self` and `other` match.
    pub fn and(&self, other: &Selector) -> Selector {
        let mut requirements = self.requirements.clone();
        requirements.extend(other.requirements.iter().cloned());
        Selector { requirements }
    }

    /// Whether some object is matched by both selectors.
    pub fn overlaps(&self, other: &Selector) -> bool {
        self.and(other).is_satisfiable()
    }

    /// Whether an object with these labels is selected.
    pub fn matches(&self, labels: &Labels) -> bool {
        self.matches_with(|key| labels.get(key).map(String::as_str))
    }

    /// Like [`Selector::matches`], with labels given by a lookup function
    /// (used to overlay automatic labels without copying maps).
    pub fn matches_with<'a>(&self, get: impl Fn(&str) -> Option<&'a str>) -> bool {
        self.requirements.iter().all(|r| r.holds(&get))
    }
}

impl fmt::Display for Selector {
    /// `kubectl -l` syntax (`app=web,tier in (a,b),!legacy`); the empty
    /// selector renders as `{}` (everything).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.requirements.is_empty() {
            return f.write_str("{}");
        }
        for (i, r) in self.requirements.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

/// Convenience: validates `selector` and matches it against `labels`.
/// Invalid selectors return an error, never a match.
pub fn selector_matches(selector: &LabelSelector, labels: &Labels) -> Result<bool, SelectorError> {
    Ok(Selector::compile(selector)?.matches(labels))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sel(v: serde_json::Value) -> LabelSelector {
        serde_json::from_value(v).expect("test selector")
    }

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn empty_selector_matches_everything() {
        let s = Selector::compile(&sel(json!({}))).unwrap();
        assert!(s.is_everything());
        assert!(s.matches(&labels(&[])));
        assert!(s.matches(&labels(&[("app", "x")])));
        assert_eq!(s.to_string(), "{}");
        // Empty lists are the same as absent ones.
        let s =
            Selector::compile(&sel(json!({"matchLabels": {}, "matchExpressions": []}))).unwrap();
        assert!(s.is_everything());
        assert_eq!(s, Selector::everything());
    }

    #[test]
    fn match_labels_are_anded() {
        let s =
            Selector::compile(&sel(json!({"matchLabels": {"app": "web", "tier": "fe"}}))).unwrap();
        assert!(s.matches(&labels(&[("app", "web"), ("tier", "fe"), ("x", "y")])));
        assert!(!s.matches(&labels(&[("app", "web")])));
        assert!(!s.matches(&labels(&[("app", "web"), ("tier", "be")])));
        assert!(!s.matches(&labels(&[])));
    }

    #[test]
    fn match_labels_and_expressions_are_anded() {
        let s = Selector::compile(&sel(json!({
            "matchLabels": {"app": "web"},
            "matchExpressions": [{"key": "env", "operator": "In", "values": ["prod", "staging"]}]
        })))
        .unwrap();
        assert!(s.matches(&labels(&[("app", "web"), ("env", "prod")])));
        assert!(!s.matches(&labels(&[("app", "web"), ("env", "dev")])));
        assert!(!s.matches(&labels(&[("app", "db"), ("env", "prod")])));
        assert!(!s.matches(&labels(&[("app", "web")])));
        assert_eq!(s.to_string(), "app=web,env in (prod,staging)");
    }

    #[test]
    fn not_in_matches_missing_key() {
        let s = Selector::compile(&sel(json!({
            "matchExpressions": [{"key": "env", "operator": "NotIn", "values": ["prod"]}]
        })))
        .unwrap();
        assert!(
            s.matches(&labels(&[])),
            "NotIn matches when the key is absent"
        );
        assert!(s.matches(&labels(&[("env", "dev")])));
        assert!(!s.matches(&labels(&[("env", "prod")])));
    }

    #[test]
    fn in_does_not_match_missing_key() {
        let s = Selector::compile(&sel(json!({
            "matchExpressions": [{"key": "env", "operator": "In", "values": ["prod"]}]
        })))
        .unwrap();
        assert!(!s.matches(&labels(&[])));
    }

    #[test]
    fn exists_and_does_not_exist() {
        let exists = Selector::compile(&sel(json!({
            "matchExpressions": [{"key": "gpu", "operator": "Exists"}]
        })))
        .unwrap();
        assert!(exists.matches(&labels(&[("gpu", "")])));
        assert!(!exists.matches(&labels(&[("cpu", "x")])));
        let absent = Selector::compile(&sel(json!({
            "matchExpressions": [{"key": "gpu", "operator": "DoesNotExist", "values": []}]
        })))
        .unwrap();
        assert!(!absent.matches(&labels(&[("gpu", "a100")])));
        assert!(absent.matches(&labels(&[])));
        assert_eq!(absent.to_string(), "!gpu");
        assert_eq!(exists.to_string(), "gpu");
    }

    #[test]
    fn unknown_operator_is_an_error_naming_it() {
        let err = Selector::compile(&sel(json!({
            "matchExpressions": [{"key": "app", "operator": "Equals", "values": ["x"]}]
        })))
        .unwrap_err();
        assert!(matches!(err, SelectorError::UnknownOperator { .. }));
        let msg = err.to_string();
        assert!(msg.contains("`Equals`"), "{msg}");
        assert!(msg.contains("`app`"), "{msg}");
        // Operators are case-sensitive.
        let err = Selector::compile(&sel(json!({
            "matchExpressions": [{"key": "app", "operator": "in", "values": ["x"]}]
        })))
        .unwrap_err();
        assert!(err.to_string().contains("`in`"));
    }

    #[test]
    fn in_and_not_in_without_values_are_errors() {
        for op in ["In", "NotIn"] {
            for values in [json!(null), json!([])] {
                let err = Selector::compile(&sel(json!({
                    "matchExpressions": [{"key": "k", "operator": op, "values": values}]
                })))
                .unwrap_err();
                assert!(matches!(err, SelectorError::MissingValues { .. }));
                assert!(err.to_string().contains(&format!("`{op}`")));
            }
        }
    }

    #[test]
    fn exists_with_values_is_an_error() {
        for op in ["Exists", "DoesNotExist"] {
            let err = Selector::compile(&sel(json!({
                "matchExpressions": [{"key": "k", "operator": op, "values": ["v"]}]
            })))
            .unwrap_err();
            assert!(matches!(
                err,
                SelectorError::UnexpectedValues { count: 1, .. }
            ));
            assert!(err.to_string().contains(&format!("`{op}`")));
        }
    }

    #[test]
    fn invalid_selector_never_matches_via_convenience() {
        let bad = sel(json!({"matchExpressions": [{"key": "k", "operator": "Bogus"}]}));
        assert!(selector_matches(&bad, &labels(&[("k", "v")])).is_err());
        let good = sel(json!({"matchLabels": {"k": "v"}}));
        assert_eq!(selector_matches(&good, &labels(&[("k", "v")])), Ok(true));
    }

    #[test]
    fn matches_with_overlay() {
        let s = Selector::compile(&sel(
            json!({"matchLabels": {"kubernetes.io/metadata.name": "ns1"}}),
        ))
        .unwrap();
        assert!(s.matches_with(|k| (k == "kubernetes.io/metadata.name").then_some("ns1")));
        assert!(!s.matches_with(|_| None));
    }
}
