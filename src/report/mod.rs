//! Rendering a run's findings: human (miette), json, SARIF 2.1.0, JUnit XML and
//! GitHub workflow annotations.

mod github;
mod human;
mod json;
mod junit;
mod sarif;
mod short;

use std::io::{self, Write};

use clap::ValueEnum;

use crate::check::RunResult;
use crate::finding::{Finding, Severity};

/// Output formats of `check`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    ValueEnum,
    serde::Deserialize,
    serde::Serialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Source snippets with the offending value underlined.
    Human,
    /// One line per finding: `path:line:col: CODE message`, as compilers print.
    Short,
    /// Stable JSON (see README, "JSON output").
    Json,
    /// SARIF 2.1.0 for code scanning.
    Sarif,
    /// JUnit XML for CI test reports.
    Junit,
    /// GitHub Actions workflow commands (annotations on the diff).
    Github,
}

/// Options that affect rendering but not the findings.
#[derive(Debug, Clone, Copy, Default)]
pub struct RenderOptions {
    /// ANSI colours (human format only).
    pub color: bool,
    /// Findings only: no summary line, no notes (human and short formats).
    pub quiet: bool,
}

/// Writes the report in `format`.
pub fn render(
    format: Format,
    run: &RunResult,
    opts: &RenderOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Human => human::render(run, opts, out),
        Format::Json => json::render(run, out),
        Format::Sarif => sarif::render(run, out),
        Format::Junit => junit::render(run, out),
        Format::Github => github::render(run, out),
        Format::Short => short::render(run, opts, out),
    }
}

/// Counts of findings by severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    pub error: usize,
    pub warning: usize,
    pub info: usize,
    /// Findings a suppression or exemption covers (not in the counts above).
    pub suppressed: usize,
}

impl Counts {
    /// Counts the given findings: active ones by severity, suppressed ones apart.
    pub fn of<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> Self {
        let mut c = Counts::default();
        for f in findings {
            if !f.is_active() {
                c.suppressed += 1;
                continue;
            }
            match f.severity {
                Severity::Error => c.error += 1,
                Severity::Warning => c.warning += 1,
                Severity::Info => c.info += 1,
            }
        }
        c
    }
}

/// `path:line:col` of a finding (just the path when it has no position).
pub fn position(f: &Finding) -> String {
    match &f.location {
        Some(l) => format!("{}:{}:{}", l.file, l.start_lc.line, l.start_lc.column),
        None => "<unknown>".to_string(),
    }
}

/// The one-line summary printed after human output.
pub fn summary_line(run: &RunResult) -> String {
    let c = Counts::of(run.findings());
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let resources: usize = run.files.iter().map(|f| f.resources).sum();
    let suppressed = if c.suppressed > 0 {
        format!(", {} suppressed", c.suppressed)
    } else {
        String::new()
    };
    let policies = if run.policies.is_empty() {
        String::new()
    } else {
        let list: Vec<String> = run
            .policies
            .iter()
            .map(|p| {
                format!(
                    "{} ({})",
                    p.name,
                    serde_json::to_value(p.mode)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default()
                )
            })
            .collect();
        format!("; policy {}", list.join(", "))
    };
    format!(
        "{}, {}, {}{suppressed} in {} ({}){policies}",
        plural(c.error, "error", "errors"),
        plural(c.warning, "warning", "warnings"),
        plural(c.info, "note", "notes"),
        plural(run.files.len(), "file", "files"),
        plural(resources, "resource", "resources"),
    )
}
