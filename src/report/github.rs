//! GitHub Actions workflow commands: one `::error`/`::warning`/`::notice` line per finding.

use std::io::{self, Write};

use crate::check::RunResult;
use crate::finding::Severity;

/// Escapes a workflow command's message.
pub fn escape_data(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            // Other control characters would reach the Actions log raw.
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Escapes a workflow command's property value.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

pub fn render(run: &RunResult, out: &mut dyn Write) -> io::Result<()> {
    for f in run.findings().filter(|f| f.is_active()) {
        let level = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        let mut props = Vec::new();
        if let Some(l) = &f.location {
            props.push(format!("file={}", escape_property(&l.file)));
            props.push(format!("line={}", l.start_lc.line));
            props.push(format!("col={}", l.start_lc.column));
            if l.end_lc.line == l.start_lc.line && l.end > l.start {
                props.push(format!("endColumn={}", l.end_lc.column));
            }
            props.push(format!("endLine={}", l.end_lc.line));
        }
        props.push(format!(
            "title={}",
            escape_property(&format!("{} {}", f.code, f.name))
        ));
        let mut message = f.message.clone();
        if let Some(h) = &f.help {
            message.push_str(&format!("\n{h}"));
        }
        writeln!(
            out,
            "::{level} {}::{}",
            props.join(","),
            escape_data(&message)
        )?;
    }
    writeln!(out, "{}", super::summary_line(run))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_as_the_runner_expects() {
        assert_eq!(escape_data("a%b\nc\r"), "a%25b%0Ac%0D");
        assert_eq!(escape_property("x:y,z"), "x%3Ay%2Cz");
        assert_eq!(escape_data("k\u{1b}[31m"), "k\\u{1b}[31m");
    }
}
