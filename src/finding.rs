//! Findings: what a rule reported, stamped by the engine, located by the loader.

use std::fmt;
use std::str::FromStr;

use crate::pointer::Pointer;
use crate::source::LineCol;

/// How serious a finding is. Ordered: `Info < Warning < Error`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    /// The lowercase name used in every output format.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "info" | "note" => Ok(Severity::Info),
            "warning" | "warn" => Ok(Severity::Warning),
            "error" => Ok(Severity::Error),
            other => Err(format!(
                "unknown severity `{other}` (expected error, warning or info)"
            )),
        }
    }
}

/// The Kubernetes object a finding is about.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct ObjectRef {
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {}/{}", self.kind, ns, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

/// Where a finding is, in its file. `start`/`end` are byte offsets into the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file's display name (a path as given, or `<stdin>`).
    pub file: std::sync::Arc<str>,
    pub start: usize,
    pub end: usize,
    pub start_lc: LineCol,
    pub end_lc: LineCol,
}

/// One reported problem.
#[derive(Debug, Clone)]
pub struct Finding {
    /// Stable rule code such as `SL1002`.
    pub code: &'static str,
    /// Kebab-case rule name such as `run-as-non-root`.
    pub name: &'static str,
    pub severity: Severity,
    pub message: String,
    /// How to fix it.
    pub help: Option<String>,
    /// JSON Pointer of the offending field inside the document (the missing
    /// field itself when it is absent; the location then falls back to its parent).
    pub pointer: Pointer,
    pub object: Option<std::sync::Arc<ObjectRef>>,
    pub location: Option<Location>,
    /// Set when a suppression or exemption covers the finding: it stays in
    /// json and SARIF output but does not fail the run.
    pub suppressed: Option<Suppressed>,
    /// Other places that explain it (a pod's finding links the Dockerfile of
    /// its image): SARIF `relatedLocations`, `related` in JSON.
    pub related: Vec<Related>,
}

/// A place related to a finding, with what it shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Related {
    pub location: Location,
    pub message: String,
}

impl Location {
    /// The location of a byte span of a source file.
    pub fn of(source: &crate::source::SourceFile, span: crate::source::Span) -> Self {
        Location {
            file: source.name.clone(),
            start: span.start,
            end: span.end,
            start_lc: source.line_col(span.start),
            end_lc: source.line_col(span.end),
        }
    }
}

/// How a finding was suppressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SuppressionKind {
    /// A `# sandbox-lint: ignore[...]` comment in the file.
    Inline,
    /// An object annotation the policy allows.
    Annotation,
    /// An exemption in the policy.
    Exemption,
}

/// A suppression applied to a finding.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Suppressed {
    pub kind: SuppressionKind,
    /// The reason written with the suppression.
    pub reason: String,
    /// Where it is declared: `file:line` of the comment, or the policy's name.
    pub source: String,
}

impl Finding {
    /// Sort key: file order, then position, then code.
    pub fn sort_key(&self) -> (usize, &'static str) {
        (self.location.as_ref().map_or(0, |l| l.start), self.code)
    }

    /// True unless a suppression covers the finding.
    pub fn is_active(&self) -> bool {
        self.suppressed.is_none()
    }
}
