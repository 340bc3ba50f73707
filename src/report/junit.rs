//! JUnit XML: one test suite per file; per object one passing test case, or one
//! failing test case per rule it breaks. Notes (info) are not failures.

use std::collections::{BTreeMap, HashSet};
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

struct Case<'a> {
    name: String,
    failure_type: String,
    failures: Vec<&'a Finding>,
}

/// One test suite: a file's name, its findings and the objects it holds.
struct Suite<'a> {
    name: &'a str,
    findings: &'a [Finding],
    objects: &'a [std::sync::Arc<crate::finding::ObjectRef>],
}

impl<'a> Suite<'a> {
    /// (object, rule) -> the case and its failures; notes are not failures.
    fn cases(&self) -> BTreeMap<(String, &'static str), Case<'a>> {
        let mut cases: BTreeMap<(String, &'static str), Case<'a>> = BTreeMap::new();
        for f in self
            .findings
            .iter()
            .filter(|f| f.is_active() && f.severity > Severity::Info)
        {
            let object = f
                .object
                .as_ref()
                .map(|o| o.to_string())
                .unwrap_or_else(|| "input".to_string());
            cases
                .entry((object, f.code))
                .or_insert_with_key(|(object, _)| Case {
                    name: format!("{object}: {} {}", f.code, f.name),
                    failure_type: format!("{} {}", f.code, f.name),
                    failures: Vec::new(),
                })
                .failures
                .push(f);
        }
        cases
    }

    /// The objects without failures, in file order (a run of equal names once).
    fn passing(&self, cases: &BTreeMap<(String, &'static str), Case<'a>>) -> Vec<String> {
        let failing: HashSet<&str> = cases.keys().map(|k| k.0.as_str()).collect();
        let mut passing: Vec<String> = self
            .objects
            .iter()
            .map(|o| o.to_string())
            .filter(|o| !failing.contains(o.as_str()))
            .collect();
        passing.dedup();
        passing
    }

    /// (test cases, failures), as the suite's element counts them.
    fn counts(&self) -> (usize, usize) {
        let cases = self.cases();
        let tests = cases.len() + self.passing(&cases).len();
        (tests.max(1), cases.len())
    }

    fn write(&self, out: &mut dyn Write) -> io::Result<()> {
        let file = escape(self.name);
        let cases = self.cases();
        let passing = self.passing(&cases);
        let tests = (cases.len() + passing.len()).max(1);
        writeln!(
            out,
            "  <testsuite name=\"{file}\" tests=\"{tests}\" failures=\"{}\" errors=\"0\">",
            cases.len()
        )?;
        for case in cases.values() {
            let lines: Vec<String> = case.failures.iter().map(|f| failure_line(f)).collect();
            writeln!(
                out,
                "    <testcase classname=\"{file}\" name=\"{}\">\n      <failure type=\"{}\" message=\"{}\">{}</failure>\n    </testcase>",
                escape(&case.name),
                escape(&case.failure_type),
                escape(&lines[0]),
                escape(&lines.join("\n")),
            )?;
        }
        for o in &passing {
            writeln!(
                out,
                "    <testcase classname=\"{file}\" name=\"{}\"/>",
                escape(o)
            )?;
        }
        if cases.is_empty() && passing.is_empty() {
            // A file without objects or failures still shows up as checked.
            writeln!(out, "    <testcase classname=\"{file}\" name=\"{file}\"/>")?;
        }
        writeln!(out, "  </testsuite>")
    }
}

fn failure_line(f: &Finding) -> String {
    format!("{}: {}: {}", super::position(f), f.severity, f.message)
}

/// Streams the report: a first pass counts the test cases of every suite for the
/// root element, a second writes each suite as it is built, so memory stays that
/// of the largest file's cases, not of the whole report.
pub fn render(run: &RunResult, out: &mut dyn Write) -> io::Result<()> {
    let mut suites = Vec::new();
    if !run.orphans.is_empty() {
        suites.push(Suite {
            name: "<inputs>",
            findings: &run.orphans,
            objects: &[],
        });
    }
    for f in &run.files {
        suites.push(Suite {
            name: &f.name,
            findings: &f.findings,
            objects: &f.objects,
        });
    }
    let (mut total, mut failed) = (0, 0);
    for suite in &suites {
        let (tests, failures) = suite.counts();
        total += tests;
        failed += failures;
    }
    writeln!(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>")?;
    writeln!(
        out,
        "<testsuites name=\"sandbox-lint\" tests=\"{total}\" failures=\"{failed}\" errors=\"0\">"
    )?;
    for suite in &suites {
        suite.write(out)?;
    }
    writeln!(out, "</testsuites>")
}
