//! One line per finding, as compilers print them (`path:line:col: CODE message`),
//! so editors and terminals jump to the place; then the summary line.

use std::io::{self, Write};

use crate::check::RunResult;
use crate::finding::Severity;

use super::RenderOptions;

pub fn render(run: &RunResult, opts: &RenderOptions, out: &mut dyn Write) -> io::Result<()> {
    for f in run.findings().filter(|f| f.is_active()) {
        if opts.quiet && f.severity == Severity::Info {
            continue;
        }
        // One line, whatever the message holds.
        let message = f.message.replace(['\n', '\r'], " ");
        writeln!(
            out,
            "{}: {} {} [{}, {}]",
            super::position(f),
            f.code,
            message,
            f.severity,
            f.name
        )?;
    }
    if !opts.quiet {
        writeln!(out, "{}", super::summary_line(run))?;
    }
    Ok(())
}
