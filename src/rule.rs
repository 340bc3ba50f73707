//! Rule declarations: metadata, typed parameters and the check function, tied
//! together by `declare_rule!` so docs, `explain` and schemas come from one place.

use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::cluster::Cluster;
use crate::dockerfile::Dockerfile;
use crate::finding::Severity;
use crate::images::ImageIndex;
use crate::pointer::Pointer;
use crate::resource::{Resource, Workload};
use crate::source::Span;

/// What a rule is about; decides its code range and how `rules` groups it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    /// SL1xxx: pod and container security.
    PodSecurity,
    /// SL2xxx: workload shape, scheduling and identity.
    Workload,
    /// SL3xxx: network reachability and the objects around the pod.
    Network,
    /// SL4xxx: Dockerfiles, and pods checked against the Dockerfiles of their images.
    Dockerfile,
    /// SL9xxx, fatal: the input could not be read; the run exits 2.
    InputError,
    /// SL9xxx: the input was read, but something in it is not what it seems.
    Input,
}

impl Category {
    /// Human title used by `rules` and the docs.
    pub fn title(self) -> &'static str {
        match self {
            Category::PodSecurity => "Pod and container security",
            Category::Workload => "Workload, scheduling and identity",
            Category::Network => "Network and cluster objects",
            Category::Dockerfile => "Dockerfiles and images",
            Category::InputError => "Unreadable input",
            Category::Input => "Input",
        }
    }
}

/// Everything about a rule except its logic.
#[derive(Debug)]
pub struct RuleMeta {
    /// Stable code (`SL1002`); never reused.
    pub code: &'static str,
    /// Stable kebab-case name (`run-as-non-root`).
    pub name: &'static str,
    /// The rule's doc comment: a one-line summary, a blank line, then the rationale.
    pub doc: &'static str,
    /// How to fix a finding.
    pub remediation: &'static str,
    pub severity: Severity,
    pub category: Category,
    /// Whether the rule runs when a policy does not mention it. Rules that are
    /// off by default run only where a policy sets `enabled: true` (the
    /// `pod-security-*` packs do so for the Pod Security Standards rules).
    pub default_enabled: bool,
    /// Source file and line of the declaration (for `explain` and contributors).
    pub file: &'static str,
    pub line: u32,
}

impl RuleMeta {
    /// The first paragraph of the doc comment, on one line.
    pub fn summary(&self) -> String {
        paragraphs(self.doc).next().unwrap_or_default()
    }

    /// Everything after the summary: why the rule exists, trade-offs.
    pub fn rationale(&self) -> String {
        paragraphs(self.doc)
            .skip(1)
            .collect::<Vec<_>>()
            .join("\n\n")
    }

    /// The documentation URL stamped on every finding.
    pub fn docs_url(&self) -> String {
        format!("{DOCS_BASE}#{}", self.code.to_ascii_lowercase())
    }
}

/// Where the generated rules reference lives.
pub const DOCS_BASE: &str = "https://github.com/sandbox-lint/sandbox-lint/blob/main/docs/rules.md";

/// Doc-comment lines joined into paragraphs (blank lines separate them). Lines
/// starting with `-` or indented keep their line breaks.
fn paragraphs(doc: &str) -> impl Iterator<Item = String> + '_ {
    doc.split("\n\n").filter_map(|p| {
        let lines: Vec<&str> = p
            .lines()
            .map(|l| l.strip_prefix(' ').unwrap_or(l))
            .collect();
        let mut out = String::new();
        for l in lines.iter().filter(|l| !l.trim().is_empty()) {
            if !out.is_empty() {
                let keep_break = l.starts_with('-') || l.starts_with("  ");
                out.push(if keep_break { '\n' } else { ' ' });
            }
            out.push_str(l.trim_end());
        }
        (!out.is_empty()).then_some(out)
    })
}

/// A rule: metadata, parameter schema and defaults, and a constructor that
/// validates parameters once and returns the ready-to-run check.
pub struct RuleDef {
    pub meta: RuleMeta,
    /// JSON Schema of the parameters.
    pub schema: fn() -> schemars::Schema,
    /// Default parameters, serialized.
    pub defaults: fn() -> serde_json::Value,
    /// Validates parameters and builds the check.
    pub compile: fn(&serde_json::Value) -> Result<Box<dyn Check>, String>,
}

impl std::fmt::Debug for RuleDef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuleDef").field("meta", &self.meta).finish()
    }
}

/// A compiled rule: parameters resolved, ready to run on any number of inputs.
pub trait Check: Send + Sync {
    /// Checks one object that carries a pod spec.
    fn check_workload(&self, _cx: &mut Cx, _w: &Workload<'_>) {}
    /// Checks one Dockerfile.
    fn check_dockerfile(&self, _cx: &mut Cx, _d: &Dockerfile) {}
    /// Checks any object (NetworkPolicies, bindings, ...), workloads included.
    fn check_object(&self, _cx: &mut Cx, _r: &Resource) {}
}

/// A parameterless rule's parameters.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoParams {}

type WorkloadFn<P> = fn(&P, &mut Cx, &Workload<'_>);
type DockerfileFn<P> = fn(&P, &mut Cx, &Dockerfile);
type ObjectFn<P> = fn(&P, &mut Cx, &Resource);

struct Compiled<P> {
    params: P,
    workload: Option<WorkloadFn<P>>,
    dockerfile: Option<DockerfileFn<P>>,
    object: Option<ObjectFn<P>>,
}

impl<P: Send + Sync> Check for Compiled<P> {
    fn check_workload(&self, cx: &mut Cx, w: &Workload<'_>) {
        if let Some(f) = self.workload {
            f(&self.params, cx, w);
        }
    }
    fn check_dockerfile(&self, cx: &mut Cx, d: &Dockerfile) {
        if let Some(f) = self.dockerfile {
            f(&self.params, cx, d);
        }
    }
    fn check_object(&self, cx: &mut Cx, r: &Resource) {
        if let Some(f) = self.object {
            f(&self.params, cx, r);
        }
    }
}

/// Builds a check from JSON parameters (used by `declare_rule!`).
pub fn compile<P>(
    value: &serde_json::Value,
    workload: Option<WorkloadFn<P>>,
    dockerfile: Option<DockerfileFn<P>>,
    object: Option<ObjectFn<P>>,
) -> Result<Box<dyn Check>, String>
where
    P: DeserializeOwned + Send + Sync + 'static,
{
    let params = P::deserialize(value).map_err(|e| e.to_string())?;
    Ok(Box::new(Compiled {
        params,
        workload,
        dockerfile,
        object,
    }))
}

/// What a rule reported: a message and where, nothing else. The engine stamps
/// code, name and severity.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    pub pointer: Pointer,
    pub message: String,
    pub help: Option<String>,
    /// Where in a Dockerfile (reports about Dockerfiles have no pointer).
    pub span: Option<Span>,
    /// Other places that explain the finding (SARIF related locations).
    pub related: Vec<crate::finding::Related>,
    /// The verdict needs an object that is not among the inputs ("cannot
    /// verify"): the finding is at most a warning, whatever the rule's severity.
    pub unverified: bool,
}

/// The context a check reports into, and what it may consult beyond the
/// object itself.
#[derive(Debug, Default)]
pub struct Cx<'a> {
    reports: Vec<Report>,
    /// The Dockerfiles that build the images of this run's pods.
    pub images: Option<&'a ImageIndex>,
    /// The other objects of the run (and of `--context`).
    pub cluster: Option<&'a Cluster>,
    /// The namespace of objects that name none.
    pub default_namespace: &'a str,
}

impl<'a> Cx<'a> {
    /// A context whose checks can see the given images.
    pub fn with_images(images: Option<&'a ImageIndex>) -> Self {
        Self {
            reports: Vec::new(),
            images,
            cluster: None,
            default_namespace: crate::linter::DEFAULT_NAMESPACE,
        }
    }

    /// What the run knows about the cluster (nothing when the caller gave none).
    pub fn known(&self) -> &'a Cluster {
        static EMPTY: std::sync::LazyLock<Cluster> = std::sync::LazyLock::new(Cluster::default);
        self.cluster.unwrap_or(&EMPTY)
    }

    /// The namespace an object lives in.
    pub fn namespace_of<'r>(&self, r: &'r Resource) -> &'r str
    where
        'a: 'r,
    {
        r.namespace
            .as_deref()
            .filter(|n| !n.is_empty())
            .unwrap_or(self.default_namespace)
    }

    /// Reports a problem at `pointer` (the missing field itself when it is absent).
    pub fn report(&mut self, pointer: Pointer, message: impl Into<String>) -> &mut Report {
        self.reports.push(Report {
            pointer,
            message: message.into(),
            ..Report::default()
        });
        let last = self.reports.len() - 1;
        &mut self.reports[last]
    }

    /// Reports a problem at a span of the Dockerfile being checked.
    pub fn report_at(&mut self, span: Span, message: impl Into<String>) -> &mut Report {
        let r = self.report(Pointer::default(), message);
        r.span = Some(span);
        r
    }

    /// Takes what was reported so far.
    pub fn take(&mut self) -> Vec<Report> {
        std::mem::take(&mut self.reports)
    }
}

impl Report {
    /// Attaches a specific fix to this report (the rule's remediation is the default).
    pub fn help(&mut self, help: impl Into<String>) -> &mut Self {
        self.help = Some(help.into());
        self
    }

    /// Marks the report "cannot verify" (at most a warning).
    pub fn unverified(&mut self) -> &mut Self {
        self.unverified = true;
        self
    }

    /// Adds a related location.
    pub fn related(
        &mut self,
        location: crate::finding::Location,
        message: impl Into<String>,
    ) -> &mut Self {
        self.related.push(crate::finding::Related {
            location,
            message: message.into(),
        });
        self
    }
}

/// Declares a rule: its doc comment becomes summary and rationale, and
/// `file!()`/`line!()` are captured. `check` runs on objects with a pod spec,
/// `dockerfile` on Dockerfiles; a rule with neither is reported by the loader. An optional `enabled: false,` line (after
/// `category`) makes the rule off by default: it runs only where a policy
/// enables it explicitly.
#[macro_export]
macro_rules! declare_rule {
    (
        $(#[doc = $doc:literal])*
        $vis:vis static $ident:ident = {
            code: $code:literal,
            name: $name:literal,
            severity: $sev:ident,
            category: $cat:ident,
            $(enabled: $enabled:literal,)?
            remediation: $fix:literal,
            params: $params:ty,
            $(check: $check:path,)?
            $(dockerfile: $dcheck:path,)?
            $(object: $ocheck:path,)?
        }
    ) => {
        $(#[doc = $doc])*
        $vis static $ident: $crate::rule::RuleDef = $crate::rule::RuleDef {
            meta: $crate::rule::RuleMeta {
                code: $code,
                name: $name,
                doc: concat!($($doc, "\n"),*),
                remediation: $fix,
                severity: $crate::finding::Severity::$sev,
                category: $crate::rule::Category::$cat,
                default_enabled: $crate::declare_rule!(@enabled $($enabled)?),
                file: file!(),
                line: line!(),
            },
            schema: || ::schemars::schema_for!($params),
            defaults: || {
                ::serde_json::to_value(<$params as ::core::default::Default>::default())
                    .unwrap_or_default()
            },
            compile: |v| $crate::rule::compile::<$params>(
                v,
                $crate::declare_rule!(@check $($check)?),
                $crate::declare_rule!(@check $($dcheck)?),
                $crate::declare_rule!(@check $($ocheck)?),
            ),
        };
    };
    (@check $check:path) => { Some($check) };
    (@check) => { None };
    (@enabled $enabled:literal) => { $enabled };
    (@enabled) => { true };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doc_splits_into_summary_and_rationale() {
        let doc = " Containers must not run as root.\n\n The kernel is shared:\n - one\n - two\n\n Second paragraph\n wraps.\n";
        let parts: Vec<_> = paragraphs(doc).collect();
        assert_eq!(
            parts,
            [
                "Containers must not run as root.",
                "The kernel is shared:\n- one\n- two",
                "Second paragraph wraps."
            ]
        );
    }
}
