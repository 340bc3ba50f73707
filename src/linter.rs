//! The policies of a run, each with its engine, applied to the objects their
//! `match` selects. Built once before any input is read.

use crate::engine::{Engine, EngineError};
use crate::finding::Finding;
use crate::policy::{self, Policy};
use crate::resource::Resource;

/// Namespace assumed for namespaced objects that name none.
pub const DEFAULT_NAMESPACE: &str = "default";

struct Active {
    policy: Policy,
    engine: Engine,
}

/// Compiled policies.
pub struct Linter {
    active: Vec<Active>,
}

impl std::fmt::Debug for Linter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.active.iter().map(|a| &a.policy.name))
            .finish()
    }
}

impl Linter {
    /// Compiles the given policies (at least one).
    pub fn new(policies: Vec<Policy>) -> Result<Self, EngineError> {
        let active = policies
            .into_iter()
            .map(|policy| {
                Ok(Active {
                    engine: policy.engine()?,
                    policy,
                })
            })
            .collect::<Result<Vec<_>, EngineError>>()?;
        Ok(Self { active })
    }

    /// The default policy alone.
    pub fn with_default_policy() -> Self {
        let policy = policy::default_policy();
        let engine = policy
            .engine()
            .unwrap_or_else(|e| panic!("the built-in policy does not compile: {e}"));
        Self {
            active: vec![Active { policy, engine }],
        }
    }

    /// One engine with every rule at its defaults, under no policy file.
    pub fn from_engine(engine: Engine) -> Self {
        let mut policy = policy::default_policy();
        policy.name = "defaults".to_string();
        Self {
            active: vec![Active { policy, engine }],
        }
    }

    /// The engine that stamps findings about the input itself (the first policy's).
    pub fn primary(&self) -> &Engine {
        &self.active[0].engine
    }

    /// The policies, in the order given.
    pub fn policies(&self) -> impl Iterator<Item = &Policy> {
        self.active.iter().map(|a| &a.policy)
    }

    /// Lints one object with every policy that selects it. When several
    /// policies report the same rule at the same place, the most severe wins.
    pub fn lint_resource(&self, resource: &Resource) -> Vec<Finding> {
        let mut out: Vec<Finding> = Vec::new();
        for a in &self.active {
            if !matches(&a.policy, resource) {
                continue;
            }
            for f in a.engine.lint_resource(resource) {
                match out
                    .iter_mut()
                    .find(|o| o.code == f.code && o.pointer == f.pointer && o.message == f.message)
                {
                    Some(existing) => existing.severity = existing.severity.max(f.severity),
                    None => out.push(f),
                }
            }
        }
        out
    }
}

/// True when the policy's `match` selects the object (all objects without one).
///
/// `namespaceSelector` sees the automatic `kubernetes.io/metadata.name` label
/// only, until namespaces are indexed across the whole input set.
pub fn matches(policy: &Policy, r: &Resource) -> bool {
    let Some(m) = &policy.match_ else {
        return true;
    };
    let ns = r.namespace.as_deref().unwrap_or(DEFAULT_NAMESPACE);
    (m.kinds.is_empty() || m.kinds.iter().any(|k| k == &r.kind))
        && (m.namespaces.is_empty() || m.namespaces.iter().any(|n| n == ns))
        && m.label_selector
            .as_ref()
            .is_none_or(|s| s.matches(&r.labels))
        && m.namespace_selector.as_ref().is_none_or(|s| {
            let labels = [("kubernetes.io/metadata.name".to_string(), ns.to_string())]
                .into_iter()
                .collect();
            s.matches(&labels)
        })
}
