//! JUnit XML: one test suite per file; per object one passing test case, or one
//! failing test case per rule it breaks. Notes (info) are not failures.

use std::collections::BTreeMap;
use std::io::{self, Write};

use crate::check::RunResult;
use crate::finding::{Finding, Severity};

/// Escapes text for XML attributes and content. Characters XML 1.0 cannot carry
/// at all, not even as references (C0 controls but tab, line feed and carriage
/// return; U+FFFE, U+FFFF), are written as the text `\u{..}`.
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
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {
                out.push_str(&format!("\\u{{{:x}}}", c as u32))
            }
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

/// One test suite: a file's name, its findings and the objects it holds.
struct Suite<'a> {
    name: &'a str,
    findings: Vec<&'a Finding>,
    objects: Vec<String>,
}

pub fn render(run: &RunResult, out: &mut dyn Write) -> io::Result<()> {
    let mut suites = Vec::new();
    if !run.orphans.is_empty() {
        suites.push(Suite {
            name: "<inputs>",
            findings: run.orphans.iter().collect(),
            objects: Vec::new(),
        });
    }
    for f in &run.files {
        suites.push(Suite {
            name: &f.name,
            findings: f.findings.iter().collect(),
            objects: f.objects.iter().map(|o| o.to_string()).collect(),
        });
    }
    let mut rendered = Vec::new();
    let (mut total, mut failed) = (0, 0);
    for suite in suites {
        let file = suite.name;
        // (object, rule) -> case; notes are not failures
        let mut cases: BTreeMap<(String, &str), Case> = BTreeMap::new();
        for f in suite
            .findings
            .iter()
            .filter(|f| f.is_active() && f.severity > Severity::Info)
        {
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
        let failing: Vec<&String> = cases.keys().map(|k| &k.0).collect();
        let mut passing: Vec<&String> = suite
            .objects
            .iter()
            .filter(|o| !failing.contains(o))
            .collect();
        passing.dedup();
        for o in &passing {
            body.push_str(&format!(
                "    <testcase classname=\"{}\" name=\"{}\"/>\n",
                escape(file),
                escape(o)
            ));
        }
        let mut tests = cases.len() + passing.len();
        if tests == 0 {
            // A file without objects or failures still shows up as checked.
            body.push_str(&format!(
                "    <testcase classname=\"{0}\" name=\"{0}\"/>\n",
                escape(file)
            ));
            tests = 1;
        }
        total += tests;
        failed += cases.len();
        rendered.push(format!(
            "  <testsuite name=\"{}\" tests=\"{tests}\" failures=\"{}\" errors=\"0\">\n{body}  </testsuite>\n",
            escape(file),
            cases.len()
        ));
    }
    writeln!(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>")?;
    writeln!(
        out,
        "<testsuites name=\"sandbox-lint\" tests=\"{total}\" failures=\"{failed}\" errors=\"0\">"
    )?;
    for s in rendered {
        out.write_all(s.as_bytes())?;
    }
    writeln!(out, "</testsuites>")
}
