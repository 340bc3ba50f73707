//! The engine: compiled rules applied to loaded objects. Pure and synchronous,
//! built once and shared by the CLI, the webhook and the dispatcher.

use std::collections::BTreeMap;

use crate::cluster::Cluster;
use crate::dockerfile::Dockerfile;
use crate::finding::{Finding, Location, ObjectRef, Severity};
use crate::images::ImageIndex;
use crate::resource::Resource;
use crate::rule::{Cx, Report, RuleDef};
use crate::rules;
use crate::source::SourceFile;

/// How one rule is configured (all optional: defaults come from the declaration).
#[derive(Debug, Clone, Default)]
pub struct RuleConfig {
    pub enabled: Option<bool>,
    pub severity: Option<Severity>,
    pub params: Option<serde_json::Value>,
}

/// A configuration problem found while building the engine.
#[derive(Debug, Clone, PartialEq, thiserror::Error, miette::Diagnostic)]
pub enum EngineError {
    #[error("unknown rule `{name}`{}", suggestion.map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
    #[diagnostic(code(sandbox_lint::unknown_rule))]
    UnknownRule {
        name: String,
        suggestion: Option<&'static str>,
    },
    #[error("invalid parameters for rule {code}: {message}")]
    #[diagnostic(code(sandbox_lint::invalid_params))]
    InvalidParams { code: &'static str, message: String },
}

struct Active {
    def: &'static RuleDef,
    severity: Severity,
    /// The parameters the check was compiled with.
    params: serde_json::Value,
    check: Box<dyn crate::rule::Check>,
}

impl Active {
    /// A report of this rule as a finding.
    fn finding(
        &self,
        report: Report,
        object: Option<std::sync::Arc<ObjectRef>>,
        location: Option<Location>,
    ) -> Finding {
        let severity = if report.unverified {
            self.severity.min(Severity::Warning)
        } else {
            self.severity
        };
        Finding {
            code: self.def.meta.code,
            name: self.def.meta.name,
            severity,
            message: report.message,
            help: report.help,
            pointer: report.pointer,
            object,
            location,
            suppressed: None,
            related: report.related,
        }
    }
}

/// What checks may consult beyond the object they judge.
#[derive(Debug, Clone, Copy)]
pub struct Lookups<'a> {
    /// The Dockerfiles that build the run's images.
    pub images: Option<&'a ImageIndex>,
    /// The run's other objects.
    pub cluster: Option<&'a Cluster>,
    /// The namespace of objects that name none.
    pub default_namespace: &'a str,
}

impl Default for Lookups<'_> {
    fn default() -> Self {
        Self {
            images: None,
            cluster: None,
            default_namespace: crate::linter::DEFAULT_NAMESPACE,
        }
    }
}

impl<'a> Lookups<'a> {
    fn cx(&self) -> Cx<'a> {
        let mut cx = Cx::with_images(self.images);
        cx.cluster = self.cluster;
        cx.default_namespace = self.default_namespace;
        cx
    }
}

/// Compiled rules, ready to lint any number of objects from any number of threads.
pub struct Engine {
    active: Vec<Active>,
    /// Severity of every enabled rule by code (loader rules included).
    severities: BTreeMap<&'static str, Severity>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("rules", &self.severities)
            .finish()
    }
}

impl Engine {
    /// Every rule that is on by default, with its default severity and parameters.
    pub fn with_defaults() -> Self {
        // Default parameters are tested to compile, so this cannot fail.
        Self::new(&BTreeMap::new()).unwrap_or_else(|e| panic!("default rules: {e}"))
    }

    /// Builds the engine from per-rule configuration keyed by code or name.
    pub fn new(config: &BTreeMap<String, RuleConfig>) -> Result<Self, EngineError> {
        let mut resolved: BTreeMap<&'static str, &RuleConfig> = BTreeMap::new();
        for (key, cfg) in config {
            let def = rules::find(key).ok_or_else(|| EngineError::UnknownRule {
                name: key.clone(),
                suggestion: rules::suggest(key),
            })?;
            resolved.insert(def.meta.code, cfg);
        }
        let mut active = Vec::new();
        let mut severities = BTreeMap::new();
        for def in rules::ALL.iter().copied() {
            let cfg = resolved.get(def.meta.code);
            // Rules that are off by default run only when enabled explicitly.
            if !cfg
                .and_then(|c| c.enabled)
                .unwrap_or(def.meta.default_enabled)
            {
                continue;
            }
            let severity = cfg.and_then(|c| c.severity).unwrap_or(def.meta.severity);
            let params = cfg
                .and_then(|c| c.params.clone())
                .unwrap_or_else(|| (def.defaults)());
            let check = (def.compile)(&params).map_err(|message| EngineError::InvalidParams {
                code: def.meta.code,
                message,
            })?;
            severities.insert(def.meta.code, severity);
            active.push(Active {
                def,
                severity,
                params,
                check,
            });
        }
        Ok(Self { active, severities })
    }

    /// The severity of a rule, or `None` when it is disabled.
    pub fn severity(&self, def: &RuleDef) -> Option<Severity> {
        self.severities.get(def.meta.code).copied()
    }

    /// The parameters of an enabled rule.
    pub fn params(&self, def: &RuleDef) -> Option<&serde_json::Value> {
        self.active
            .iter()
            .find(|a| a.def.meta.code == def.meta.code)
            .map(|a| &a.params)
    }

    /// Turns a report of `def` into a finding, unless the rule is disabled.
    pub fn stamp(
        &self,
        def: &'static RuleDef,
        report: Report,
        object: Option<std::sync::Arc<ObjectRef>>,
    ) -> Option<Finding> {
        let severity = self.severity(def)?;
        Some(Finding {
            code: def.meta.code,
            name: def.meta.name,
            severity,
            message: report.message,
            help: report.help,
            pointer: report.pointer,
            object,
            location: None,
            suppressed: None,
            related: report.related,
        })
    }

    /// Lints one object. Findings carry pointers; locating them is the caller's job.
    pub fn lint_resource(&self, resource: &Resource) -> Vec<Finding> {
        self.lint_resource_with(resource, &Lookups::default())
    }

    /// Lints one object, with the Dockerfiles of the run's images and the
    /// rest of the cluster in view.
    pub fn lint_resource_with(&self, resource: &Resource, lookups: &Lookups<'_>) -> Vec<Finding> {
        let mut out = Vec::new();
        let object = resource.object_ref();
        let mut cx = lookups.cx();
        for rule in &self.active {
            rule.check.check_object(&mut cx, resource);
            for report in cx.take() {
                out.push(rule.finding(report, Some(object.clone()), None));
            }
        }
        let Some(workload) = resource.workload() else {
            return out;
        };
        let workload = match workload {
            Ok(w) => w,
            Err(missing) => {
                let report = Report {
                    pointer: missing.pointer,
                    message: format!(
                        "{} has no pod spec: nothing in it can be checked",
                        resource.kind
                    ),
                    ..Report::default()
                };
                out.extend(self.stamp(&rules::input::MISSING_POD_SPEC, report, Some(object)));
                return out;
            }
        };
        for rule in &self.active {
            rule.check.check_workload(&mut cx, &workload);
            for report in cx.take() {
                out.push(rule.finding(report, Some(object.clone()), None));
            }
        }
        out
    }

    /// Lints one Dockerfile; findings are located in `source`.
    pub fn lint_dockerfile(&self, d: &Dockerfile, source: &SourceFile) -> Vec<Finding> {
        let mut out = Vec::new();
        let mut cx = Cx::default();
        for rule in &self.active {
            rule.check.check_dockerfile(&mut cx, d);
            for report in cx.take() {
                let at = Location::of(source, report.span.unwrap_or_default());
                out.push(rule.finding(report, None, Some(at)));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(key: &str, enabled: Option<bool>) -> BTreeMap<String, RuleConfig> {
        BTreeMap::from([(
            key.to_string(),
            RuleConfig {
                enabled,
                ..RuleConfig::default()
            },
        )])
    }

    /// A rule declared `enabled: false` runs only when configuration enables it;
    /// configuring something else about it (or nothing) leaves it off.
    #[test]
    fn rules_off_by_default_run_only_when_enabled_explicitly() {
        let off = &rules::pss::host::HOST_NAMESPACES;
        assert!(!off.meta.default_enabled);
        assert_eq!(Engine::with_defaults().severity(off), None);
        let engine = Engine::new(&config("pss-host-namespaces", None)).unwrap();
        assert_eq!(engine.severity(off), None, "a setting without `enabled`");
        let engine = Engine::new(&config("SL1102", Some(true))).unwrap();
        assert_eq!(engine.severity(off), Some(Severity::Error));
        let engine = Engine::new(&config("SL1102", Some(false))).unwrap();
        assert_eq!(engine.severity(off), None);
    }

    /// Rules on by default stay on unless disabled.
    #[test]
    fn rules_on_by_default_run_unless_disabled() {
        let on = &rules::pod::host::HOST_NAMESPACES;
        assert!(on.meta.default_enabled);
        assert!(Engine::with_defaults().severity(on).is_some());
        let engine = Engine::new(&config("host-namespaces", Some(false))).unwrap();
        assert_eq!(engine.severity(on), None);
    }
}
