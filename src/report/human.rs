//! Human output: each finding as a miette diagnostic with its source snippet.

use std::fmt;
use std::io::{self, Write};
use std::sync::Arc;

use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan,
};

use crate::check::RunResult;
use crate::finding::{Finding, Severity};

use super::RenderOptions;

struct Shown<'a> {
    finding: &'a Finding,
    source: Option<NamedSource<Arc<str>>>,
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
fn printable_source(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\n' | '\r' | '\t' => c,
            c if c.is_control() && c.len_utf8() == 1 => '?',
            c if c.is_control() => '\u{bf}',
            c => c,
        })
        .collect()
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
        self.source.as_ref()?;
        let loc = self.finding.location.as_ref()?;
        let span = SourceSpan::new(loc.start.into(), loc.end.saturating_sub(loc.start));
        Some(Box::new(std::iter::once(
            LabeledSpan::new_primary_with_span(Some("here".to_string()), span),
        )))
    }
}

/// The text shown in snippets: shared as is unless it holds control characters
/// or a lone `\r`. A lone `\r` ends a line (as in the line index) and is shown
/// as `\n`, one byte for one so that spans still fit: the snippet renderer
/// would otherwise print it raw, and the terminal would write the next line
/// over the one before.
fn source_text(text: &Arc<str>) -> Arc<str> {
    let bytes = text.as_bytes();
    let lone_cr = |i: usize| bytes[i] == b'\r' && bytes.get(i + 1) != Some(&b'\n');
    let has_lone_cr = (0..bytes.len()).any(lone_cr);
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        let shown = printable_source(text);
        if has_lone_cr {
            return lone_crs_as_lf(&shown).into();
        }
        shown.into()
    } else if has_lone_cr {
        lone_crs_as_lf(text).into()
    } else {
        text.clone()
    }
}

/// `s` with every `\r` not followed by `\n` replaced by `\n`.
fn lone_crs_as_lf(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' && chars.peek() != Some(&'\n') {
            out.push('\n');
        } else {
            out.push(c);
        }
    }
    out
}

pub fn render(run: &RunResult, opts: &RenderOptions, out: &mut dyn Write) -> io::Result<()> {
    let theme = if opts.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_links(false)
        .with_width(100);
    let orphans = run.orphans.iter().map(|f| (f, None));
    let per_file = run
        .files
        .iter()
        .flat_map(|file| file.findings.iter().map(move |f| (f, file.source.as_ref())));
    let shown = |f: &Finding| f.is_active() && !(opts.quiet && f.severity == Severity::Info);
    for (finding, source) in orphans.chain(per_file).filter(|(f, _)| shown(f)) {
        let shown = Shown {
            finding,
            source: source
                .filter(|s| !s.text.is_empty())
                .map(|s| NamedSource::new(printable(&s.name), source_text(&s.text))),
        };
        let mut text = String::new();
        if shown.source.is_none() {
            text.push_str(&format!("{}: ", printable(&super::position(finding))));
        }
        handler
            .render_report(&mut text, &shown)
            .map_err(|e| io::Error::other(e.to_string()))?;
        writeln!(out, "{text}")?;
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

    #[test]
    fn lone_carriage_returns_are_shown_as_line_breaks() {
        let src: std::sync::Arc<str> = "a: 1\rb: \"\u{1b}\"\r\nc: 3\r".into();
        let shown = super::source_text(&src);
        assert_eq!(&*shown, "a: 1\nb: \"?\"\r\nc: 3\n");
        assert_eq!(shown.len(), src.len(), "spans must still fit");
    }
}
