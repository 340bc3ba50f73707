//! The Dockerfile grammar as BuildKit reads it, down to instructions: parser
//! directives at the top (`# syntax=`, `# escape=`, `# check=`), comment and
//! blank lines, case-insensitive keywords, line continuations (the escape
//! character at the end of a line, comment lines between continued lines
//! skipped), and here-documents (`<<EOF`, `<<-EOF`, `<<'EOF'`, several per
//! line) for RUN, COPY and ADD. Every character keeps its byte offset in the
//! file, so each part of an instruction has an exact span even across
//! continuations.
//!
//! Written by hand: no maintained crate reads here-documents anywhere but at
//! the start of a RUN (`RUN python3 <<EOF` and `RUN cat <<EOF >file` are
//! common and valid), and one unknown instruction must not hide the rest of
//! the file.

use std::ops::Range;

use super::vars::excerpt;
use crate::source::Span;

/// Text with the file offset of each of its bytes, kept as the pieces it was
/// assembled from (one per physical line of a continued instruction), so that
/// the map costs a few words per line, not per byte.
#[derive(Debug, Clone, Default)]
pub struct Mapped {
    pub text: String,
    /// `(text offset, file offset)` where each piece starts, in order: byte
    /// `i` of `text` is at `file + (i - text)` of the last piece with `text <= i`.
    pieces: Vec<(usize, usize)>,
    /// File offset just past the last byte.
    end: usize,
}

impl Mapped {
    /// Text found at file offset `at`.
    pub fn at(text: &str, at: usize) -> Self {
        let mut m = Self::default();
        m.push_str(text, at);
        m
    }

    fn push_str(&mut self, s: &str, at: usize) {
        if !s.is_empty() {
            // A piece that continues the last one in the file extends it.
            let next = self.pieces.last().map(|&(t, f)| f + (self.text.len() - t));
            if next != Some(at) {
                self.pieces.push((self.text.len(), at));
            }
            self.text.push_str(s);
        }
        self.end = at + s.len();
    }

    /// The file offset of byte `i` of `text`.
    pub fn offset(&self, i: usize) -> Option<usize> {
        if i >= self.text.len() {
            return None;
        }
        let piece = self.pieces.partition_point(|p| p.0 <= i).checked_sub(1)?;
        let (t, f) = self.pieces[piece];
        Some(f + (i - t))
    }

    /// The file span of a byte range of `text`.
    pub fn span(&self, r: Range<usize>) -> Span {
        let start = self.offset(r.start).unwrap_or(self.end);
        let end = if r.end > r.start {
            self.offset(r.end - 1).map_or(self.end, |o| o + 1)
        } else {
            start
        };
        Span { start, end }
    }
}

/// One instruction before interpretation.
#[derive(Debug, Clone)]
pub struct Raw {
    /// The keyword, uppercased.
    pub keyword: String,
    pub keyword_span: Span,
    /// The logical line: the keyword and its arguments, continuations removed.
    pub line: Mapped,
    /// Byte range of the arguments in `line.text` (whitespace trimmed).
    pub args: Range<usize>,
    pub heredocs: Vec<Heredoc>,
}

/// A here-document of an instruction.
#[derive(Debug, Clone)]
pub struct Heredoc {
    /// The `<<EOF` marker's byte range in the instruction's line.
    pub marker: Range<usize>,
    pub delimiter: String,
    /// The body (tabs stripped for `<<-`), up to but not including the terminator.
    pub body: Mapped,
}

/// A problem BuildKit would refuse the file for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub message: String,
    pub span: Span,
}

/// A whole file, lexed.
#[derive(Debug, Clone, Default)]
pub struct Lexed {
    pub escape: char,
    pub instructions: Vec<Raw>,
    pub errors: Vec<ParseError>,
}

/// Every instruction BuildKit knows.
const KEYWORDS: &[&str] = &[
    "ADD",
    "ARG",
    "CMD",
    "COPY",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "FROM",
    "HEALTHCHECK",
    "LABEL",
    "MAINTAINER",
    "ONBUILD",
    "RUN",
    "SHELL",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
];

/// The physical line that starts at `start`: (start, end without the line
/// break, start of the next); `None` at the end of the text. Lines end at
/// `\r\n`, `\n` and a lone `\r`, as editors and the line index show them
/// ([`lone_carriage_return`] reports where BuildKit disagrees). Read one at a
/// time, not collected: a file of empty lines costs no index.
fn line_at(text: &str, start: usize) -> Option<(usize, usize, usize)> {
    let line = crate::source::lines_inclusive(text.get(start..)?).next()?;
    let body = crate::source::strip_break(line);
    Some((start, start + body.len(), start + line.len()))
}

/// The first lone `\r` (one not followed by `\n`), as an error: BuildKit
/// breaks lines at `\n` only, so it reads the lines on both sides of it as
/// one (a comment swallows the instructions after it, an instruction takes
/// the next as arguments), while editors, and this lexer, show two lines.
/// What BuildKit would build is not what was checked.
pub fn lone_carriage_return(text: &str) -> Option<ParseError> {
    let bytes = text.as_bytes();
    let at = (0..bytes.len()).find(|&i| bytes[i] == b'\r' && bytes.get(i + 1) != Some(&b'\n'))?;
    Some(ParseError {
        message: "a lone carriage return (\\r) ends this line, but BuildKit breaks lines only at \\n (or \\r\\n): it reads this line and the next as one, so it would not build what is checked here; save the file with \\n or \\r\\n line ends".into(),
        span: Span::new(at, 1),
    })
}

/// A parser directive line: `# name=value`.
fn directive(line: &str) -> Option<(String, &str)> {
    let rest = line.trim_start().strip_prefix('#')?;
    let (name, value) = rest.split_once('=')?;
    let name = name.trim();
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    Some((name.to_ascii_lowercase(), value.trim()))
}

/// Lexes a Dockerfile.
pub fn lex(text: &str) -> Lexed {
    let mut out = Lexed {
        escape: '\\',
        ..Lexed::default()
    };
    // A byte order mark is not part of the first line.
    let skip_bom = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let line_text = |l: &(usize, usize, usize)| &text[l.0.max(skip_bom).min(l.1)..l.1];
    // `i`: the file offset of the next line to read.
    let mut i = 0;
    // Parser directives: only at the very top, before any other line.
    let mut seen = std::collections::HashSet::new();
    while let Some(l) = line_at(text, i) {
        let Some((name, value)) = directive(line_text(&l)) else {
            break;
        };
        let span = Span {
            start: l.0,
            end: l.1,
        };
        if seen.contains(&name) {
            out.errors.push(ParseError {
                message: format!(
                    "the `{}` parser directive is given twice",
                    excerpt(&name, 64)
                ),
                span,
            });
        }
        if name == "escape" {
            match value {
                "\\" => out.escape = '\\',
                "`" => out.escape = '`',
                other => out.errors.push(ParseError {
                    message: format!(
                        "invalid escape character `{}`: it must be `\\` or `` ` ``",
                        excerpt(other, 64)
                    ),
                    span,
                }),
            }
        }
        seen.insert(name);
        i = l.2;
    }
    let escape = out.escape;
    while let Some(l) = line_at(text, i) {
        let body = line_text(&l);
        let trimmed = body.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            i = l.2;
            continue;
        }
        // The logical line: this line and the ones it continues onto.
        let mut line = Mapped::default();
        let mut at = l.1 - trimmed.len();
        let mut chunk = trimmed;
        let mut next = l.2;
        loop {
            // BuildKit continues a line whose escape character is followed by
            // spaces and tabs only (`\\[ \t]*$`); other whitespace after it
            // (a vertical tab, a no-break space) ends the instruction.
            let end_trimmed = chunk.trim_end_matches([' ', '\t']);
            i = next;
            if let Some(cont) = end_trimmed.strip_suffix(escape) {
                line.push_str(cont, at);
                // Skip comment and blank lines inside a continuation.
                while let Some(n) = line_at(text, i) {
                    let t = line_text(&n).trim_start();
                    if t.is_empty() || t.starts_with('#') {
                        i = n.2;
                    } else {
                        break;
                    }
                }
                match line_at(text, i) {
                    Some(n) => {
                        at = n.0;
                        chunk = line_text(&n);
                        next = n.2;
                    }
                    None => break,
                }
            } else {
                line.push_str(chunk, at);
                break;
            }
        }
        let kw_len = line
            .text
            .find(|c: char| c.is_whitespace())
            .unwrap_or(line.text.len());
        let keyword = line.text[..kw_len].to_ascii_uppercase();
        let keyword_span = line.span(0..kw_len);
        let args_start = line.text[kw_len..]
            .find(|c: char| !c.is_whitespace())
            .map_or(line.text.len(), |p| kw_len + p);
        let args_end = line.text.trim_end().len().max(args_start);
        if !KEYWORDS.contains(&keyword.as_str()) {
            out.errors.push(ParseError {
                message: format!(
                    "unknown instruction `{}`",
                    excerpt(&line.text[..kw_len], 64)
                ),
                span: keyword_span,
            });
            continue;
        }
        let mut raw = Raw {
            keyword,
            keyword_span,
            line,
            args: args_start..args_end,
            heredocs: Vec::new(),
        };
        if matches!(raw.keyword.as_str(), "RUN" | "COPY" | "ADD") {
            for (marker, delimiter, strip_tabs) in markers(&raw.line.text, raw.args.clone()) {
                let mut body = Mapped::default();
                let mut closed = false;
                while let Some(n) = line_at(text, i) {
                    i = n.2;
                    let mut t = &text[n.0..n.1];
                    let mut at = n.0;
                    if strip_tabs {
                        let stripped = t.trim_start_matches('\t');
                        at += t.len() - stripped.len();
                        t = stripped;
                    }
                    if t == delimiter {
                        closed = true;
                        break;
                    }
                    body.push_str(t, at);
                    if n.2 > n.1 {
                        body.push_str("\n", n.1);
                    }
                }
                if !closed {
                    out.errors.push(ParseError {
                        message: format!(
                            "here-document `{d}` is not terminated: no line `{d}` follows",
                            d = excerpt(&delimiter, 64)
                        ),
                        span: raw.line.span(marker.clone()),
                    });
                }
                raw.heredocs.push(Heredoc {
                    marker,
                    delimiter,
                    body,
                });
            }
        }
        out.instructions.push(raw);
    }
    out
}

/// Here-document markers in `text[range]`, outside quotes: (marker range,
/// delimiter, strip leading tabs).
fn markers(text: &str, range: Range<usize>) -> Vec<(Range<usize>, String, bool)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut quote = None;
    let mut i = range.start;
    while i < range.end {
        let b = bytes[i];
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'\'' || b == b'"' => quote = Some(b),
            None if b == b'<'
                && bytes.get(i + 1) == Some(&b'<')
                && bytes.get(i + 2) != Some(&b'<')
                && (i == 0 || bytes[i - 1] != b'<') =>
            {
                let start = i;
                let mut j = i + 2;
                let strip = bytes.get(j) == Some(&b'-');
                if strip {
                    j += 1;
                }
                let q = bytes.get(j).copied().filter(|c| *c == b'\'' || *c == b'"');
                if q.is_some() {
                    j += 1;
                }
                let name_start = j;
                while j < range.end && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_') {
                    j += 1;
                }
                let name = &text[name_start..j];
                if let Some(q) = q {
                    if bytes.get(j) != Some(&q) {
                        i += 2;
                        continue;
                    }
                    j += 1;
                }
                if !name.is_empty() {
                    out.push((start..j, name.to_string(), strip));
                }
                i = j;
                continue;
            }
            None => {}
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directives_continuations_and_spans() {
        let text = "# syntax=docker/dockerfile:1\n# escape=`\n\nfrom a\nRUN echo a `\n# note\n\n  && echo b\n";
        let l = lex(text);
        assert_eq!(l.escape, '`');
        assert!(l.errors.is_empty(), "{:?}", l.errors);
        assert_eq!(l.instructions.len(), 2);
        let run = &l.instructions[1];
        assert_eq!(run.keyword, "RUN");
        assert_eq!(&run.line.text[run.args.clone()], "echo a   && echo b");
        let b = run.line.text.rfind('b').unwrap();
        let s = run.line.span(b..b + 1);
        assert_eq!(&text[s.start..s.end], "b");
        assert_eq!(text[..s.start].matches('\n').count(), 7);
    }

    #[test]
    fn heredocs_anywhere_in_run_copy_and_add() {
        let text = "FROM a\nRUN python3 <<EOT\nimport os\nEOT\nRUN <<A cat >/a && <<-'B' cat >/b\none\nA\n\ttwo\n\tB\nCOPY <<EOF /x\nFROM not-an-instruction\nEOF\nUSER 1\n";
        let l = lex(text);
        assert!(l.errors.is_empty(), "{:?}", l.errors);
        let kinds: Vec<&str> = l.instructions.iter().map(|r| r.keyword.as_str()).collect();
        assert_eq!(kinds, ["FROM", "RUN", "RUN", "COPY", "USER"]);
        assert_eq!(l.instructions[1].heredocs[0].body.text, "import os\n");
        let h = &l.instructions[2].heredocs;
        assert_eq!(
            (h[0].body.text.as_str(), h[1].body.text.as_str()),
            ("one\n", "two\n")
        );
        let two = h[1].body.span(0..3);
        assert_eq!(&text[two.start..two.end], "two");
    }

    #[test]
    fn errors_do_not_stop_the_rest() {
        let l = lex("FROM a\nFOO bar\nRUN <<EOT\nno end\n");
        let messages: Vec<&str> = l.errors.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(messages[0].contains("unknown instruction `FOO`"));
        assert!(messages[1].contains("not terminated"));
        assert_eq!(l.instructions.len(), 2);
        let l = lex("# escape=x\nFROM a\n");
        assert!(l.errors[0].message.contains("invalid escape"));
    }

    /// Lines end at a lone `\r` and at `\r\n` as at `\n`, with the same spans;
    /// a lone `\r` is reported (BuildKit does not break lines there).
    #[test]
    fn carriage_returns_end_lines() {
        let lf = "FROM a\n# c\nRUN echo a \\\n  && echo b\nUSER 1\n";
        let kinds = |l: &Lexed| -> Vec<String> {
            l.instructions
                .iter()
                .map(|r| r.line.text[r.args.clone()].to_string())
                .collect()
        };
        let expected = kinds(&lex(lf));
        assert_eq!(expected, ["a", "echo a   && echo b", "1"]);
        for br in ["\r", "\r\n"] {
            let text = lf.replace('\n', br);
            let l = lex(&text);
            assert!(l.errors.is_empty(), "{:?}", l.errors);
            assert_eq!(kinds(&l), expected, "{text:?}");
            let user = &l.instructions[2];
            let s = user.line.span(user.args.clone());
            assert_eq!(&text[s.start..s.end], "1");
        }
        assert_eq!(lone_carriage_return(lf), None);
        assert_eq!(lone_carriage_return(&lf.replace('\n', "\r\n")), None);
        let e = lone_carriage_return("FROM a\r\nUSER 1\rRUN x\n").unwrap();
        assert_eq!(e.span, Span::new(14, 1));
        assert!(e.message.contains("BuildKit"), "{}", e.message);
    }

    /// Only spaces and tabs may follow a continuation's escape character.
    #[test]
    fn continuations_end_at_the_escape_and_blanks() {
        for after in ["\u{a0}", "\u{b}", "\u{c}"] {
            let text = format!("FROM a\nRUN echo \\{after}\nUSER root\n");
            let kinds: Vec<String> = lex(&text)
                .instructions
                .iter()
                .map(|r| r.keyword.clone())
                .collect();
            assert_eq!(kinds, ["FROM", "RUN", "USER"], "{text:?}");
        }
        let l = lex("FROM a\nRUN echo \\ \t\n  b\n");
        assert_eq!(l.instructions.len(), 2);
    }

    #[test]
    fn here_strings_and_quoted_markers_are_not_heredocs() {
        let l = lex("FROM a\nRUN cat <<<word && echo '<<EOT'\nUSER 1\n");
        assert!(l.instructions[1].heredocs.is_empty());
        assert_eq!(l.instructions.len(), 3);
    }
}
