//! Human output: each finding as a miette diagnostic with its source snippet.

use std::fmt;
use std::io::{self, Write};

use miette::{Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, SourceSpan};

use crate::check::RunResult;
use crate::finding::{Finding, Location, Severity};
use crate::source::SourceFile;

use super::RenderOptions;

struct Shown<'a> {
    finding: &'a Finding,
    source: Option<Window>,
}

/// The few lines of a file around one finding, as miette reads them.
///
/// miette's own `SourceCode` for a whole text finds a span by scanning the text
/// from its first byte, so a report of many findings in one large file (20,000
/// small documents, 4,000 pods) cost findings × file size. A window is cut with
/// the file's line index instead, holds at most [`WINDOW_CAP`] bytes on each side
/// of the span (a 20 MiB one-line RUN is not printed whole, once per finding) and
/// answers miette in the file's own offsets, lines and columns.
#[derive(Debug)]
struct Window {
    name: String,
    /// The window's text, made printable; lone CRs shown as line breaks.
    text: String,
    /// Byte offset of the window in the file.
    base: usize,
    /// 0-based line and column (in bytes, as miette counts) of the window's first byte.
    line: usize,
    column: usize,
    /// The finding's span, clamped to the window (file offsets).
    span: (usize, usize),
}

/// Bytes of a file kept on each side of a finding's span (and of the span itself).
const WINDOW_CAP: usize = 160;

impl Window {
    fn new(file: &SourceFile, loc: &Location) -> Self {
        let text: &str = &file.text;
        let start = floor_boundary(text, loc.start.min(text.len()));
        let end = floor_boundary(text, loc.end.clamp(start, text.len()));
        let end = if end - start > WINDOW_CAP {
            floor_boundary(text, start + WINDOW_CAP)
        } else {
            end
        };
        let first = file.line_col(start).line;
        let last = file.line_col(end.saturating_sub(1).max(start)).line;
        // One line of context on each side, as the handler is configured.
        let from = file.line_start(first.saturating_sub(1).max(1));
        let from = if start - from > WINDOW_CAP {
            ceil_boundary(text, start - WINDOW_CAP)
        } else {
            from
        };
        let to = file.line_start(last.saturating_add(2)).min(text.len());
        let to = if to.saturating_sub(end) > WINDOW_CAP {
            floor_boundary(text, end + WINDOW_CAP)
        } else {
            to
        };
        let line = file.line_col(from).line;
        Self {
            name: printable(&file.name),
            text: printable_source(&text[from..to]),
            base: from,
            line: line as usize - 1,
            column: from - file.line_start(line),
            span: (start, end),
        }
    }
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_boundary(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

impl miette::SourceCode for Window {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        let offset = span
            .offset()
            .checked_sub(self.base)
            .filter(|o| o + span.len() <= self.text.len())
            .ok_or(miette::MietteError::OutOfBounds)?;
        let inner = self.text.as_str().read_span(
            &SourceSpan::new(offset.into(), span.len()),
            before,
            after,
        )?;
        let line = self.line + inner.line();
        // miette counts columns in bytes from the start of the line.
        let column = if inner.line() == 0 {
            self.column + inner.column()
        } else {
            inner.column()
        };
        let at = SourceSpan::new(
            (inner.span().offset() + self.base).into(),
            inner.span().len(),
        );
        Ok(Box::new(miette::MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            at,
            line,
            column,
            inner.line_count(),
        )))
    }
}

impl fmt::Debug for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&printable(&self.finding.message))
    }
}

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&printable(&self.finding.message))
    }
}

/// Text from the checked files (messages quote keys and values) with control
/// characters but newline and tab written as `\u{..}`, so a manifest cannot send
/// escape sequences to the terminal.
fn printable(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() && c != '\n' && c != '\t' {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// A source file's text for snippets, control characters but line breaks and tab
/// replaced by a character of the same UTF-8 length, so that spans still fit.
/// A lone CR (a line break in YAML 1.2 and in Dockerfiles) is shown as LF, which
/// miette's snippet renderer reads as the line break it is.
fn printable_source(s: &str) -> String {
    let mut chars = s.chars().peekable();
    let mut out = String::with_capacity(s.len());
    while let Some(c) = chars.next() {
        out.push(match c {
            '\r' if chars.peek() == Some(&'\n') => c,
            '\r' => '\n',
            '\n' | '\t' => c,
            c if c.is_control() && c.len_utf8() == 1 => '?',
            c if c.is_control() => '\u{bf}',
            c => c,
        });
    }
    out
}

impl std::error::Error for Shown<'_> {}

impl Diagnostic for Shown<'_> {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(format!(
            "{}({})",
            self.finding.code, self.finding.name
        )))
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.finding.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Info => miette::Severity::Advice,
        })
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        let f = self.finding;
        let mut help = f
            .help
            .clone()
            .or_else(|| crate::rules::find(f.code).map(|r| r.meta.remediation.to_string()))?;
        if let Some(o) = &f.object {
            help = format!("{help}\n(in {o}, at {})", f.pointer);
        }
        for r in &f.related {
            let at = &r.location;
            help.push_str(&format!(
                "\nsee {}:{}:{}: {}",
                at.file, at.start_lc.line, at.start_lc.column, r.message
            ));
        }
        Some(Box::new(printable(&help)))
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let (start, end) = self.source.as_ref()?.span;
        let span = SourceSpan::new(start.into(), end - start);
        Some(Box::new(std::iter::once(
            LabeledSpan::new_primary_with_span(Some("here".to_string()), span),
        )))
    }
}

pub fn render(run: &RunResult, opts: &RenderOptions, out: &mut dyn Write) -> io::Result<()> {
    let theme = if opts.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_context_lines(1)
        .with_links(false)
        .with_width(100);
    let shown = |f: &Finding| f.is_active() && !(opts.quiet && f.severity == Severity::Info);
    let render_one = |finding: &Finding, source: Option<&SourceFile>, out: &mut dyn Write| {
        let source = source.filter(|s| !s.text.is_empty());
        let shown = Shown {
            finding,
            source: source
                .zip(finding.location.as_ref())
                .map(|(s, loc)| Window::new(s, loc)),
        };
        let mut text = String::new();
        if source.is_none() {
            text.push_str(&format!("{}: ", printable(&super::position(finding))));
        }
        handler
            .render_report(&mut text, &shown)
            .map_err(|e| io::Error::other(e.to_string()))?;
        writeln!(out, "{text}")
    };
    for f in run.orphans.iter().filter(|f| shown(f)) {
        render_one(f, None, out)?;
    }
    // One file's text at a time: read again for its snippets, then dropped.
    for file in &run.files {
        if !file.findings.iter().any(&shown) {
            continue;
        }
        let reread = match (&file.source, &file.reread) {
            (None, Some(r)) => r.read(),
            _ => None,
        };
        if file.source.is_none() && file.reread.is_some() && reread.is_none() {
            writeln!(
                out,
                "note: {} changed after it was checked; its findings are shown without snippets\n",
                printable(&file.name)
            )?;
        }
        let source = file.source.as_ref().or(reread.as_ref());
        for f in file.findings.iter().filter(|f| shown(f)) {
            render_one(f, source, out)?;
        }
    }
    if opts.quiet {
        return Ok(());
    }
    writeln!(out, "{}", super::summary_line(run))
}

#[cfg(test)]
mod tests {
    use super::{printable, printable_source};

    #[test]
    fn control_characters_never_reach_the_terminal() {
        assert_eq!(
            printable("a\u{1b}[31mb\u{9b}\nc\td"),
            "a\\u{1b}[31mb\\u{9b}\nc\td"
        );
        let src = "name: \"a\u{1b}[31m\u{9b}red\"\r\nx: 1\n";
        let shown = printable_source(src);
        assert_eq!(shown, "name: \"a?[31m\u{bf}red\"\r\nx: 1\n");
        assert_eq!(shown.len(), src.len(), "spans must still fit");
    }

    /// A file's snippets come from reading it again; a file changed since it
    /// was checked is shown without them (and says so) rather than with
    /// another text's lines under the finding.
    #[test]
    fn snippets_are_read_again_and_never_from_a_changed_file() {
        use crate::check::{Options, run};
        use crate::linter::Linter;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pod.yaml");
        std::fs::write(
            &path,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  hostPID: true\n  containers: [{name: c, image: ubuntu}]\n",
        )
        .unwrap();
        let opts = Options {
            keep_sources: true,
            ..Options::default()
        };
        let result = run(
            &Linter::with_default_policy(),
            std::slice::from_ref(&path),
            &opts,
        );
        assert!(result.files[0].source.is_none(), "the text is not kept");
        assert!(result.files[0].reread.is_some());
        let render = || {
            let mut out = Vec::new();
            super::render(&result, &Default::default(), &mut out).unwrap();
            String::from_utf8(out).unwrap()
        };
        let before = render();
        assert!(before.contains("hostPID: true"), "{before}");
        assert!(!before.contains("changed after it was checked"));
        std::fs::write(&path, "kind: Pod\n# something else entirely\n").unwrap();
        let after = render();
        assert!(after.contains("changed after it was checked"), "{after}");
        assert!(!after.contains("something else"), "{after}");
        assert!(after.contains("SL1013"), "{after}");
    }

    #[test]
    fn lone_carriage_returns_are_shown_as_line_breaks() {
        let src = "a: 1\rb: \"\u{1b}\"\r\nc: 3\r";
        let shown = printable_source(src);
        assert_eq!(shown, "a: 1\nb: \"?\"\r\nc: 3\n");
        assert_eq!(shown.len(), src.len(), "spans must still fit");
    }
}
