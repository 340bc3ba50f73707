//! The policies of a run, each with its engine, applied to the objects their
//! `match` selects. Built once before any input is read.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

use crate::cluster::Cluster;
use crate::dockerfile::Dockerfile;
use crate::engine::Lookups;
use crate::engine::{Engine, EngineError};
use crate::finding::{Finding, Location, Suppressed, SuppressionKind};
use crate::images::ImageIndex;
use crate::policy::{self, Exemption, Policy};
use crate::resource::Resource;
use crate::rule::Report;
use crate::rules;
use crate::source::LineCol;
use crate::source::SourceFile;
use crate::suppress::unsuppressible;

/// Namespace assumed for namespaced objects that name none.
pub const DEFAULT_NAMESPACE: &str = "default";

struct Active {
    policy: Policy,
    engine: Engine,
}

/// Compiled policies.
pub struct Linter {
    active: Vec<Active>,
    /// Today, as days since 1970-01-01, for exemption expiry.
    today: i64,
    /// Namespace assumed for objects that name none.
    default_namespace: String,
    /// Labels of the namespaces known to this run (Namespace objects in the inputs).
    /// The Dockerfiles that build the images of this run's pods.
    images: RwLock<Arc<ImageIndex>>,
    cluster: RwLock<Arc<Cluster>>,
    /// Whether `# sandbox-lint: ignore[...]` comments suppress findings.
    inline_suppressions: bool,
}

/// Namespace name -> its labels.
/// The pods cross-resource rules look at (see [`Linter::pod_interest`]).
#[derive(Debug, Clone, Default)]
pub struct PodInterest {
    pub runners: Vec<crate::netpol::Selector>,
    /// `(namespace, pod selector)` of allowed destinations.
    pub destinations: Vec<(String, crate::netpol::Selector)>,
}

impl PodInterest {
    /// Whether a pod of `namespace` with `labels` is looked at.
    pub fn wants(&self, namespace: &str, labels: &BTreeMap<String, String>) -> bool {
        self.runners.iter().any(|s| s.matches(labels))
            || self
                .destinations
                .iter()
                .any(|(ns, s)| ns == namespace && s.matches(labels))
    }
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
        Ok(Self {
            active,
            today: policy::today(),
            default_namespace: DEFAULT_NAMESPACE.to_string(),
            images: Default::default(),
            cluster: Default::default(),
            inline_suppressions: true,
        })
    }

    /// The default policy alone.
    pub fn with_default_policy() -> Self {
        let policy = policy::default_policy();
        let engine = policy
            .engine()
            .unwrap_or_else(|e| panic!("the built-in policy does not compile: {e}"));
        Self {
            active: vec![Active { policy, engine }],
            today: policy::today(),
            default_namespace: DEFAULT_NAMESPACE.to_string(),
            images: Default::default(),
            cluster: Default::default(),
            inline_suppressions: true,
        }
    }

    /// The same linter assuming `namespace` for objects that name none.
    pub fn with_default_namespace(mut self, namespace: &str) -> Self {
        self.default_namespace = namespace.to_string();
        self
    }

    /// The same linter reading suppression comments as plain comments: every
    /// finding counts (`check --no-inline-suppressions`); policy exemptions and
    /// allowed annotations still apply.
    pub fn without_inline_suppressions(mut self) -> Self {
        self.inline_suppressions = false;
        self
    }

    /// Whether suppression comments in the inputs are honoured.
    pub fn inline_suppressions(&self) -> bool {
        self.inline_suppressions
    }

    /// The engine that stamps findings about the input itself (the first policy's).
    pub fn primary(&self) -> &Engine {
        &self.active[0].engine
    }

    /// The policies, in the order given.
    pub fn policies(&self) -> impl Iterator<Item = &Policy> {
        self.active.iter().map(|a| &a.policy)
    }

    /// The labels of a namespace: those of its Namespace object when the run has
    /// one, plus the automatic `kubernetes.io/metadata.name`.
    pub fn namespace_labels(&self, namespace: &str) -> BTreeMap<String, String> {
        self.cluster().namespace_labels(namespace)
    }

    /// Sets the Dockerfiles that build the images of this run's pods.
    /// Which pods cross-resource rules look at: runners (the runner selectors
    /// of every active policy's network and RBAC rules) and the pods of the
    /// allowed destinations (for their named ports). Other pods need not be
    /// indexed. Invalid parameters are the rules' concern; they add nothing here.
    pub fn pod_interest(&self) -> PodInterest {
        let mut out = PodInterest::default();
        for a in &self.active {
            for def in [
                &rules::network::isolation::RUNNER_ISOLATED,
                &rules::network::ingress::RUNNER_INGRESS,
                &rules::network::egress::RUNNER_EGRESS,
                &rules::network::required::RUNNER_REQUIRED_EGRESS,
            ] {
                let Some(params) = a.engine.params(def).and_then(|v| {
                    serde_json::from_value::<rules::network::NetworkParams>(v.clone()).ok()
                }) else {
                    continue;
                };
                out.runners.push(params.model.runners.clone());
                for d in &params.model.pods {
                    out.destinations
                        .push((d.namespace.clone(), d.selector.clone()));
                }
            }
            if let Some(sel) = a
                .engine
                .params(&rules::cluster::rbac::RUNNER_RBAC)
                .and_then(|p| p.get("runnerSelector"))
                .and_then(|v| serde_json::from_value::<policy::file::LabelSelector>(v.clone()).ok())
                .and_then(|s| s.to_selector().ok())
            {
                out.runners.push(sel);
            }
        }
        out.runners.dedup();
        out.destinations.dedup();
        out
    }

    /// Hands the linter what the run knows about the cluster (Namespaces,
    /// NetworkPolicies, ServiceAccounts, ...); Namespace labels feed policy
    /// `match` by namespace selector too.
    pub fn set_cluster(&self, cluster: Cluster) {
        if let Ok(mut slot) = self.cluster.write() {
            *slot = Arc::new(cluster);
        }
    }

    /// What the run knows about the cluster.
    pub fn cluster(&self) -> Arc<Cluster> {
        self.cluster
            .read()
            .map(|c| Arc::clone(&c))
            .unwrap_or_default()
    }

    /// The namespace of objects that name none.
    pub fn default_namespace(&self) -> &str {
        &self.default_namespace
    }

    pub fn set_images(&self, images: ImageIndex) {
        if let Ok(mut slot) = self.images.write() {
            *slot = Arc::new(images);
        }
    }

    /// Image patterns mapped to Dockerfile paths by the `images` parameter of
    /// rule SL4016 in the policies (paths relative to the working directory).
    pub fn image_map(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        for a in &self.active {
            let Some(map) = a
                .engine
                .params(&rules::dockerfile::cross::POD_USER_MATCHES_IMAGE)
                .and_then(|p| p.get("images"))
                .and_then(|m| m.as_object())
            else {
                continue;
            };
            for (pattern, path) in map {
                if let Some(path) = path.as_str()
                    && !out.iter().any(|(p, _)| p == pattern)
                {
                    out.push((pattern.clone(), path.to_string()));
                }
            }
        }
        out
    }

    /// Lints a Dockerfile with every policy that judges Dockerfiles (those
    /// without `match`, or whose `match.kinds` lists `Dockerfile`).
    pub fn lint_dockerfile(&self, d: &Dockerfile, source: &SourceFile) -> Vec<Finding> {
        let mut out = Merged::default();
        for a in &self.active {
            let judges = a
                .policy
                .match_
                .as_ref()
                .is_none_or(|m| m.kinds.iter().any(|k| k == "Dockerfile"));
            if !judges {
                continue;
            }
            for mut f in a.engine.lint_dockerfile(d, source) {
                // Exemptions that name nothing but rules apply to Dockerfiles too.
                let live = a.policy.exemptions.iter().enumerate().find(|(_, ex)| {
                    ex.names.is_empty()
                        && ex.namespaces.is_empty()
                        && ex.images.is_empty()
                        && ex.label_selector.is_none()
                        && !ex.rules.is_empty()
                        && names_rule(ex, &f)
                        && self.is_live(ex)
                });
                if let Some((i, ex)) = live
                    && !unsuppressible(f.code)
                {
                    f.suppressed = Some(exempted(&a.policy, i, ex));
                }
                out.add(f);
            }
        }
        out.out
    }

    /// True when some policy declares custom rules, which need each object as JSON.
    pub fn needs_json(&self) -> bool {
        self.active
            .iter()
            .any(|a| !a.policy.custom_rules.is_empty())
    }

    /// The code of a built-in or custom rule named by code or name.
    pub fn rule_code(&self, code_or_name: &str) -> Option<&'static str> {
        rules::find(code_or_name).map(|d| d.meta.code).or_else(|| {
            self.active
                .iter()
                .flat_map(|a| &a.policy.custom_rules)
                .find(|c| c.code == code_or_name || c.name == code_or_name)
                .map(|c| c.code)
        })
    }

    /// A loader diagnostic (unknown field, unreadable document) as a finding of
    /// the first policy, not yet located in a file; `None` when that rule is off.
    pub fn diagnostic_finding(&self, d: &crate::load::Diagnostic) -> Option<Finding> {
        use crate::load::At;
        let report = Report {
            pointer: match &d.at {
                At::Pointer { pointer, .. } | At::Key { pointer, .. } => pointer.clone(),
                At::Span(_) => Default::default(),
            },
            message: d.message.clone(),
            help: d.help.clone(),
            ..Report::default()
        };
        self.primary().stamp(d.rule, report, d.object.clone())
    }

    /// Lints one object with every policy that selects it. When several
    /// policies report the same rule at the same place, the most severe wins.
    pub fn lint_resource(&self, resource: &Resource) -> Vec<Finding> {
        self.lint_resource_json(resource, None)
    }

    /// Like [`Linter::lint_resource`], with the object as JSON for custom rules.
    pub fn lint_resource_json(
        &self,
        resource: &Resource,
        json: Option<&serde_json::Value>,
    ) -> Vec<Finding> {
        let mut out = Merged::default();
        self.lint_per_policy(resource, json, |_, found| {
            for f in found {
                out.add(f);
            }
        });
        out.out
    }

    /// Lints one object with every policy that selects it and hands each
    /// policy's findings (suppressions applied, not merged) to `each`, for the
    /// webhook, which acts on every policy's mode.
    pub fn lint_per_policy(
        &self,
        resource: &Resource,
        json: Option<&serde_json::Value>,
        mut each: impl FnMut(&Policy, Vec<Finding>),
    ) {
        let images = self.images.read().ok().map(|i| Arc::clone(&i));
        let images = images.as_deref().filter(|i| !i.is_empty());
        let cluster = self.cluster();
        let lookups = Lookups {
            images,
            cluster: Some(&cluster),
            default_namespace: &self.default_namespace,
        };
        for a in &self.active {
            if !matches(&a.policy, resource, self) {
                continue;
            }
            let mut found = a.engine.lint_resource_with(resource, &lookups);
            if let Some(json) = json {
                for c in &a.policy.custom_rules {
                    found.extend(c.check(resource, json, self));
                }
            }
            self.apply_policy_suppressions(a, resource, &mut found);
            each(&a.policy, found);
        }
    }
}

/// Findings of several policies, merged: a finding the same as one already
/// there (same rule, pointer, message and start) is merged into it, the most
/// severe wins, and it stays suppressed only when every policy agrees. An
/// index by hash finds the same finding in constant time, so thousands of
/// findings in one file merge in linear time.
#[derive(Default)]
struct Merged {
    out: Vec<Finding>,
    /// Hash of a finding's identity -> its indices in `out`.
    index: HashMap<u64, Vec<usize>>,
}

impl Merged {
    fn identity(f: &Finding) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (
            f.code,
            &f.pointer,
            &f.message,
            f.location.as_ref().map(|l| l.start),
        )
            .hash(&mut h);
        h.finish()
    }

    fn add(&mut self, f: Finding) {
        let same = |o: &Finding| {
            o.code == f.code
                && o.pointer == f.pointer
                && o.message == f.message
                && o.location.as_ref().map(|l| l.start) == f.location.as_ref().map(|l| l.start)
        };
        let slot = self.index.entry(Self::identity(&f)).or_default();
        match slot.iter().copied().find(|&i| same(&self.out[i])) {
            Some(i) => {
                let existing = &mut self.out[i];
                existing.severity = existing.severity.max(f.severity);
                if f.suppressed.is_none() {
                    existing.suppressed = None;
                }
            }
            None => {
                slot.push(self.out.len());
                self.out.push(f);
            }
        }
    }
}

impl Linter {
    /// True unless the exemption's `expires` date has passed.
    fn is_live(&self, ex: &Exemption) -> bool {
        ex.expires
            .as_deref()
            .and_then(policy::parse_date)
            .is_none_or(|d| d >= self.today)
    }

    /// Findings about the policies themselves: exemptions past their date.
    pub fn policy_findings(&self) -> Vec<Finding> {
        let mut out = Vec::new();
        for a in &self.active {
            for (ex, site) in a.policy.exemptions.iter().zip(&a.policy.exemption_sites) {
                let Some(expires) = ex.expires.as_deref() else {
                    continue;
                };
                if self.is_live(ex) {
                    continue;
                }
                let report = Report {
                    pointer: Default::default(),
                    message: format!(
                        "exemption of policy {} expired on {expires} and no longer applies (reason given: {})",
                        a.policy.name, ex.reason
                    ),
                    ..Report::default()
                };
                if let Some(mut f) = a
                    .engine
                    .stamp(&rules::input::EXPIRED_EXEMPTION, report, None)
                {
                    let lc = LineCol {
                        line: site.line,
                        column: site.column,
                    };
                    f.location = Some(Location {
                        file: site.file.as_str().into(),
                        start: 0,
                        end: 0,
                        start_lc: lc,
                        end_lc: lc,
                    });
                    out.push(f);
                }
            }
        }
        out
    }

    /// Marks findings that a live exemption or an allowed annotation covers,
    /// and reports annotation entries the policy does not allow.
    fn apply_policy_suppressions(&self, a: &Active, r: &Resource, found: &mut Vec<Finding>) {
        let images: Vec<&str> = match r.workload() {
            Some(Ok(w)) => w.pod.containers().filter_map(|c| c.image).collect(),
            _ => Vec::new(),
        };
        for f in found.iter_mut() {
            if unsuppressible(f.code) {
                continue;
            }
            let live = a.policy.exemptions.iter().enumerate().find(|(_, ex)| {
                self.is_live(ex) && exemption_applies(ex, r, f, &images, &self.default_namespace)
            });
            if let Some((i, ex)) = live {
                f.suppressed = Some(exempted(&a.policy, i, ex));
            }
        }
        let Some(allow) = &a.policy.annotation_suppressions else {
            return;
        };
        let Some(value) = r.annotations.get(&allow.annotation) else {
            return;
        };
        let pointer = r
            .base
            .key("metadata")
            .key("annotations")
            .key(&allow.annotation);
        let allowed: Vec<&str> = allow
            .rules
            .iter()
            .filter_map(|x| rules::find(x).map(|d| d.meta.code))
            .collect();
        let mut reasons: BTreeMap<&'static str, String> = BTreeMap::new();
        let mut problems = Vec::new();
        for entry in value
            .split([';', '\n', '\r'])
            .map(str::trim)
            .filter(|e| !e.is_empty())
        {
            let (rule, reason) = entry.split_once(':').unwrap_or((entry, ""));
            let (rule, reason) = (rule.trim(), reason.trim());
            match rules::find(rule) {
                None => problems.push(format!(
                    "annotation {} names unknown rule `{rule}`",
                    allow.annotation
                )),
                Some(d) if !allowed.contains(&d.meta.code) => problems.push(format!(
                    "annotation {} may not suppress {} under policy {}",
                    allow.annotation, d.meta.code, a.policy.name
                )),
                Some(d) if reason.is_empty() => problems.push(format!(
                    "annotation {} suppresses {} without a reason (`{}: why`)",
                    allow.annotation, d.meta.code, d.meta.code
                )),
                Some(d) => {
                    reasons.insert(d.meta.code, reason.to_string());
                }
            }
        }
        for f in found
            .iter_mut()
            .filter(|f| f.is_active() && !unsuppressible(f.code))
        {
            if let Some(reason) = reasons.get(f.code) {
                f.suppressed = Some(Suppressed {
                    kind: SuppressionKind::Annotation,
                    reason: reason.clone(),
                    source: format!("annotation {}", allow.annotation),
                });
            }
        }
        for message in problems {
            let report = Report {
                pointer: pointer.clone(),
                message,
                ..Report::default()
            };
            found.extend(a.engine.stamp(
                &rules::input::INVALID_SUPPRESSION,
                report,
                Some(r.object_ref()),
            ));
        }
    }
}

/// `*` at the end matches a prefix; anything else matches exactly.
fn glob(pattern: &str, value: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => value.starts_with(prefix),
        None => pattern == value,
    }
}

/// True when the exemption lists the finding's rule (by code or name).
fn names_rule(ex: &Exemption, f: &Finding) -> bool {
    ex.rules.iter().any(|x| {
        x == f.code || x == f.name || rules::find(x).is_some_and(|d| d.meta.code == f.code)
    })
}

/// How a finding covered by exemption `i` of `policy` is marked.
fn exempted(policy: &Policy, i: usize, ex: &Exemption) -> Suppressed {
    Suppressed {
        kind: SuppressionKind::Exemption,
        reason: ex.reason.clone(),
        source: format!("policy {}, exemption {}", policy.name, i + 1),
    }
}

/// True when every criterion the exemption sets holds for this finding.
fn exemption_applies(
    ex: &Exemption,
    r: &Resource,
    f: &Finding,
    images: &[&str],
    default_namespace: &str,
) -> bool {
    let ns = r.namespace.as_deref().unwrap_or(default_namespace);
    (ex.rules.is_empty() || names_rule(ex, f))
        && (ex.namespaces.is_empty() || ex.namespaces.iter().any(|n| n == ns))
        && (ex.names.is_empty() || ex.names.iter().any(|n| glob(n, &r.name)))
        && (ex.images.is_empty() || images.iter().any(|i| ex.images.iter().any(|p| glob(p, i))))
        && ex
            .label_selector
            .as_ref()
            .is_none_or(|s| s.matches(&r.labels))
}

/// True when the policy's `match` selects the object (all objects without one).
///
/// `namespaceSelector` sees the automatic `kubernetes.io/metadata.name` label
/// only, until namespaces are indexed across the whole input set.
pub fn matches(policy: &Policy, r: &Resource, linter: &Linter) -> bool {
    policy
        .match_
        .as_ref()
        .is_none_or(|m| match_selects(m, r, linter))
}

/// True when a `match` block selects the object. A namespaceSelector sees the
/// labels of the namespace's Namespace object when the run has one, plus the
/// automatic `kubernetes.io/metadata.name` label.
pub fn match_selects(m: &policy::Match, r: &Resource, linter: &Linter) -> bool {
    let ns = r.namespace.as_deref().unwrap_or(&linter.default_namespace);
    (m.kinds.is_empty() || m.kinds.iter().any(|k| k == &r.kind))
        && (m.namespaces.is_empty() || m.namespaces.iter().any(|n| n == ns))
        && m.label_selector.as_ref().is_none_or(|s| {
            // A workload is selected by its own labels or its pod template's:
            // a Job labelled only in its template is still a runner's Job.
            s.matches(&r.labels)
                || r.workload()
                    .and_then(Result::ok)
                    .and_then(|w| w.pod.metadata?.labels.as_ref())
                    .is_some_and(|labels| s.matches(labels))
        })
        && m.namespace_selector
            .as_ref()
            .is_none_or(|s| s.matches(&linter.namespace_labels(ns)))
}
