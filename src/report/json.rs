//! The stable JSON format (version 1). Documented in README.md, "JSON output".

use std::io::{self, Write};

use serde::Serialize;

use crate::check::RunResult;
use crate::finding::{Finding, ObjectRef, Severity};

use super::Counts;

#[derive(Serialize)]
struct Document<'a> {
    version: u32,
    tool: Tool,
    policies: &'a [crate::check::PolicyRef],
    summary: Summary,
    findings: Findings<'a>,
}

/// The findings, serialized one by one straight from the run (no second copy).
struct Findings<'a>(&'a RunResult);

impl Serialize for Findings<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.findings().map(JsonFinding::new))
    }
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct Summary {
    files: usize,
    documents: usize,
    resources: usize,
    findings: usize,
    #[serde(flatten)]
    counts: Counts,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonFinding<'a> {
    code: &'static str,
    name: &'static str,
    severity: Severity,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    help: Option<&'a str>,
    file: Option<&'a str>,
    line: Option<u32>,
    column: Option<u32>,
    end_line: Option<u32>,
    end_column: Option<u32>,
    pointer: &'a str,
    object: Option<&'a ObjectRef>,
    docs: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    suppressed: Option<&'a crate::finding::Suppressed>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related: Vec<JsonRelated<'a>>,
}

/// A related location: `file`, `line`, `column` and what it shows.
#[derive(Serialize)]
struct JsonRelated<'a> {
    file: &'a str,
    line: u32,
    column: u32,
    message: &'a str,
}

impl<'a> JsonFinding<'a> {
    fn new(f: &'a Finding) -> Self {
        let loc = f.location.as_ref();
        JsonFinding {
            code: f.code,
            name: f.name,
            severity: f.severity,
            message: &f.message,
            help: f.help.as_deref(),
            file: loc.map(|l| &*l.file),
            line: loc.map(|l| l.start_lc.line),
            column: loc.map(|l| l.start_lc.column),
            end_line: loc.map(|l| l.end_lc.line),
            end_column: loc.map(|l| l.end_lc.column),
            pointer: f.pointer.as_str(),
            object: f.object.as_deref(),
            docs: crate::rules::find(f.code)
                .map(|r| r.meta.docs_url())
                .unwrap_or_default(),
            suppressed: f.suppressed.as_ref(),
            related: f
                .related
                .iter()
                .map(|r| JsonRelated {
                    file: &r.location.file,
                    line: r.location.start_lc.line,
                    column: r.location.start_lc.column,
                    message: &r.message,
                })
                .collect(),
        }
    }
}

pub fn render(run: &RunResult, out: &mut dyn Write) -> io::Result<()> {
    let counts = Counts::of(run.findings());
    let doc = Document {
        version: 1,
        tool: Tool {
            name: "sandbox-lint",
            version: env!("CARGO_PKG_VERSION"),
        },
        policies: &run.policies,
        summary: Summary {
            files: run.files.len(),
            documents: run.files.iter().map(|f| f.documents).sum(),
            resources: run.files.iter().map(|f| f.resources).sum(),
            findings: run.findings().count(),
            counts,
        },
        findings: Findings(run),
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}
