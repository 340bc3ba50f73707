//! Custom rules declared in a policy: a match and a JSON Schema that each
//! matched object (or each of its containers) must satisfy. Schema errors are
//! reported at their instance path, so they land on file:line:col like any rule.

use std::sync::Arc;

use serde_json::Value;

use super::file::{CustomRule, CustomTarget, Match};
use crate::finding::{Finding, Severity};
use crate::pointer::Pointer;
use crate::resource::Resource;

/// A custom rule ready to run: its schema compiled once, at load.
#[derive(Clone)]
pub struct CompiledCustom {
    /// Code and name live as long as the program (leaked once per policy load).
    pub code: &'static str,
    pub name: &'static str,
    pub message: String,
    pub severity: Severity,
    pub remediation: String,
    pub match_: Option<Match>,
    pub target: CustomTarget,
    validator: Arc<jsonschema::Validator>,
}

impl std::fmt::Debug for CompiledCustom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledCustom")
            .field("code", &self.code)
            .field("name", &self.name)
            .finish()
    }
}

impl CompiledCustom {
    /// Compiles a declaration; `Err` holds the schema's compile error.
    pub fn compile(rule: &CustomRule) -> Result<Self, String> {
        let validator = jsonschema::validator_for(&rule.schema).map_err(|e| e.to_string())?;
        Ok(Self {
            code: Box::leak(rule.code.clone().into_boxed_str()),
            name: Box::leak(rule.name.clone().into_boxed_str()),
            message: rule.message.clone(),
            severity: rule.severity,
            remediation: rule.remediation.clone(),
            match_: rule.match_.clone(),
            target: rule.target,
            validator: Arc::new(validator),
        })
    }

    /// Checks one object, given as JSON (the object the resource was decoded from).
    pub fn check(
        &self,
        r: &Resource,
        object: &Value,
        linter: &crate::linter::Linter,
    ) -> Vec<Finding> {
        let selected = match &self.match_ {
            Some(m) => crate::linter::match_selects(m, r, linter),
            None => r.workload().is_some(),
        };
        if !selected {
            return Vec::new();
        }
        let mut targets: Vec<(Pointer, &Value)> = Vec::new();
        match self.target {
            CustomTarget::Object => targets.push((r.base.clone(), object)),
            CustomTarget::Container => {
                let Some(Ok(w)) = r.workload() else {
                    return Vec::new();
                };
                let base = r.base.as_str();
                for c in w.pod.containers() {
                    let relative = c.pointer.as_str().strip_prefix(base).unwrap_or_default();
                    if let Some(v) = object.pointer(relative) {
                        targets.push((c.pointer.clone(), v));
                    }
                }
            }
        }
        let mut out = Vec::new();
        for (at, value) in targets {
            for e in self.validator.iter_errors(value) {
                let mut pointer = at.clone();
                for token in Pointer::parse(e.instance_path().as_str()).tokens() {
                    pointer = pointer.key(&token);
                }
                out.push(Finding {
                    code: self.code,
                    name: self.name,
                    severity: self.severity,
                    message: format!("{}: {e}", self.message),
                    help: Some(self.remediation.clone()),
                    pointer,
                    object: Some(r.object_ref()),
                    location: None,
                    suppressed: None,
                    related: Vec::new(),
                });
            }
        }
        out
    }
}
