//! JUnit XML: one test suite per file; per object one passing test case, or one
//! failing test case per rule it breaks. Notes (info) are not failures.

use std::collections::BTreeMap;
use std::io::{self, Write};

use crate::check::RunResult;
use crate::finding::{Finding, Severity};

/// Escapes text for XML attributes and content.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            c if (c as u32) < 0x20 && c != '\t' => out.push_str(&format!("&#{};", c as u32)),
            c => out.push(c),
        }
    }
    out
}

struct Case {
    name: String,
    failures: Vec<String>,
    failure_type: String,
}

pub fn render(run: &RunResult, out: &mut dyn Write) -> io::Result<()> {
    let mut suites = Vec::new();
    let mut files: Vec<(&str, Vec<&Finding>)> = Vec::new();
    if !run.orphans.is_empty() {
        files.push(("<inputs>", run.orphans.iter().collect()));
    }
    for f in &run.files {
        files.push((&f.name, f.findings.iter().collect()));
    }
    let (mut total, mut failed) = (0, 0);
    for (file, findings) in files {
        // object -> rule -> case
        let mut cases: BTreeMap<(String, &str), Case> = BTreeMap::new();
        for f in findings.iter().filter(|f| f.severity > Severity::Info) {
            let object = f
                .object
                .as_ref()
                .map(|o| o.to_string())
                .unwrap_or_else(|| "input".to_string());
            let case = cases
                .entry((object.clone(), f.code))
                .or_insert_with(|| Case {
                    name: format!("{object}: {} {}", f.code, f.name),
                    failures: Vec::new(),
                    failure_type: format!("{} {}", f.code, f.name),
                });
            case.failures.push(format!(
                "{}: {}: {}",
                super::position(f),
                f.severity,
                f.message
            ));
        }
        let mut body = String::new();
        let mut seen_objects: Vec<String> = cases.keys().map(|k| k.0.clone()).collect();
        seen_objects.dedup();
        let suite_failures = cases.len();
        for case in cases.values() {
            body.push_str(&format!(
                "    <testcase classname=\"{}\" name=\"{}\">\n      <failure type=\"{}\" message=\"{}\">{}</failure>\n    </testcase>\n",
                escape(file),
                escape(&case.name),
                escape(&case.failure_type),
                escape(&case.failures[0]),
                escape(&case.failures.join("\n")),
            ));
        }
        let clean: Vec<String> = findings_objects(run, file)
            .into_iter()
            .filter(|o| !seen_objects.contains(o))
            .collect();
        for o in &clean {
            body.push_str(&format!(
                "    <testcase classname=\"{}\" name=\"{}\"/>\n",
                escape(file),
                escape(o)
            ));
        }
        let tests = suite_failures + clean.len();
        total += tests;
        failed += suite_failures;
        suites.push(format!(
            "  <testsuite name=\"{}\" tests=\"{tests}\" failures=\"{suite_failures}\" errors=\"0\">\n{body}  </testsuite>\n",
            escape(file)
        ));
    }
    writeln!(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>")?;
    writeln!(
        out,
        "<testsuites name=\"sandbox-lint\" tests=\"{total}\" failures=\"{failed}\" errors=\"0\">"
    )?;
    for s in suites {
        out.write_all(s.as_bytes())?;
    }
    writeln!(out, "</testsuites>")
}

/// Objects of a file that have findings or not: from the findings of the file
/// plus a placeholder for a clean file, so every file has at least one case.
fn findings_objects(run: &RunResult, file: &str) -> Vec<String> {
    let Some(f) = run.files.iter().find(|f| &*f.name == file) else {
        return Vec::new();
    };
    let mut objects: Vec<String> = f
        .findings
        .iter()
        .filter_map(|x| x.object.as_ref().map(|o| o.to_string()))
        .collect();
    objects.dedup();
    if f.findings.iter().all(|x| x.severity == Severity::Info) {
        objects = vec![format!("{} ({} resources)", file, f.resources)];
    }
    objects
}
