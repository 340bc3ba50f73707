//! Source files: their text, a display name and a line index for byte offset -> line:column.
//!
//! Line breaks are read as YAML 1.2 reads them (and as editors show them):
//! `\r\n`, a lone `\r` and `\n` each end one line. Every place that splits a
//! text into lines uses [`lines_inclusive`] or [`lines`], so that a line number
//! means the same line for the parser, the line index, suppressions and
//! reports. (`str::lines` does not break at a lone `\r`.)

use std::sync::Arc;

/// Index of a source file within one run.
pub type FileId = u32;

/// One input file (or stdin) as read.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Display name: the path as given, or `<stdin>`.
    pub name: Arc<str>,
    /// The text, exactly as read.
    pub text: Arc<str>,
    line_starts: Vec<usize>,
    /// `(byte offset, characters before it in its line)` every
    /// [`COLUMN_STEP`] bytes or so of lines longer than that, in order: a
    /// column is counted from the nearest one, not from the start of a long
    /// line (thousands of findings on one 1 MiB line stay linear).
    marks: Vec<(usize, usize)>,
}

/// Bytes between column marks of long lines.
const COLUMN_STEP: usize = 4096;

/// A 1-based line and column (columns count Unicode scalar values, as SARIF
/// `unicodeCodePoints` and editors do).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct LineCol {
    pub line: u32,
    pub column: u32,
}

impl SourceFile {
    /// Wraps text read from `name`.
    pub fn new(name: impl Into<Arc<str>>, text: impl Into<Arc<str>>) -> Self {
        let text: Arc<str> = text.into();
        let mut line_starts = vec![0];
        let mut marks = Vec::new();
        let mut offset = 0;
        for line in lines_inclusive(&text) {
            if line.len() > COLUMN_STEP {
                marks.extend(column_marks(line, offset));
            }
            offset += line.len();
            if break_len(line) > 0 {
                line_starts.push(offset);
            }
        }
        Self {
            name: name.into(),
            text,
            line_starts,
            marks,
        }
    }

    /// Line and column of a byte offset (clamped to the text). A byte order
    /// mark is not a column: editors do not show it, so the first character
    /// after it is in column 1.
    pub fn line_col(&self, offset: usize) -> LineCol {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&s| s <= offset) - 1;
        let mut start = self.line_starts[line];
        if line == 0 && self.text.starts_with(BOM) {
            start = BOM.len_utf8().min(offset);
        }
        // Count from the last mark of this line at or before `offset`.
        let (from, before) = match self.marks.partition_point(|&(at, _)| at <= offset) {
            0 => (start, 0),
            n => match self.marks[n - 1] {
                (at, chars) if at > start => (at, chars),
                _ => (start, 0),
            },
        };
        let column = match self.text.get(from..offset) {
            Some(s) => before + s.chars().count(),
            None => offset - start,
        };
        LineCol {
            line: line as u32 + 1,
            column: column as u32 + 1,
        }
    }

    /// Byte offset of the start of a 1-based line (the end of the text past the last line).
    pub fn line_start(&self, line: u32) -> usize {
        let idx = (line.max(1) - 1) as usize;
        self.line_starts
            .get(idx)
            .copied()
            .unwrap_or(self.text.len())
    }

    /// Number of lines.
    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }
}

/// Column marks of one long line starting at `base`: `(offset, characters of
/// the line before it)` at character boundaries about [`COLUMN_STEP`] apart.
/// A byte order mark at the start of the file is not counted (see
/// [`SourceFile::line_col`]).
fn column_marks(line: &str, base: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut chars = 0;
    let mut from = if base == 0 && line.starts_with(BOM) {
        BOM.len_utf8()
    } else {
        0
    };
    let mut at = from + COLUMN_STEP;
    while at < line.len() {
        while !line.is_char_boundary(at) {
            at += 1;
        }
        chars += line[from..at].chars().count();
        out.push((base + at, chars));
        from = at;
        at += COLUMN_STEP;
    }
    out
}

/// The byte order mark (U+FEFF).
pub const BOM: char = '\u{feff}';

/// The lines of `text`, each with the line break that ends it (the last may
/// have none), as `str::split_inclusive('\n')` gives them but breaking at a
/// lone `\r` too: `\r\n`, `\r` and `\n` each end one line. Concatenated,
/// the lines are `text`, so offsets can be summed over them.
pub fn lines_inclusive(text: &str) -> LinesInclusive<'_> {
    LinesInclusive { rest: text }
}

/// The lines of `text` without their line breaks (as `str::lines`, but a lone
/// `\r` ends a line too).
pub fn lines(text: &str) -> impl Iterator<Item = &str> + '_ {
    lines_inclusive(text).map(strip_break)
}

/// Length in bytes of the line break `line` ends with (0, 1 or 2).
pub fn break_len(line: &str) -> usize {
    let b = line.as_bytes();
    match b {
        [.., b'\r', b'\n'] => 2,
        [.., b'\r' | b'\n'] => 1,
        _ => 0,
    }
}

/// `line` without the line break it ends with.
pub fn strip_break(line: &str) -> &str {
    &line[..line.len() - break_len(line)]
}

/// Iterator of [`lines_inclusive`].
#[derive(Debug, Clone)]
pub struct LinesInclusive<'a> {
    rest: &'a str,
}

impl<'a> Iterator for LinesInclusive<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        if self.rest.is_empty() {
            return None;
        }
        let bytes = self.rest.as_bytes();
        let end = match bytes.iter().position(|&b| b == b'\r' || b == b'\n') {
            Some(i) if bytes[i] == b'\r' && bytes.get(i + 1) == Some(&b'\n') => i + 2,
            Some(i) => i + 1,
            None => bytes.len(),
        };
        // The break is ASCII, so `end` is on a character boundary.
        let (line, rest) = self.rest.split_at(end);
        self.rest = rest;
        Some(line)
    }
}

/// A byte range within a source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    /// A span from `start` of `len` bytes.
    pub fn new(start: usize, len: usize) -> Self {
        Self {
            start,
            end: start + len,
        }
    }
    /// Shifts the span by `base` bytes (document offset inside its file).
    pub fn shifted(self, base: usize) -> Self {
        Self {
            start: self.start + base,
            end: self.end + base,
        }
    }
    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.end - self.start
    }
    /// True for a zero-length span.
    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The column marks agree with counting from the line's start, at every
    /// 13th offset of texts with long lines, multi-byte characters straddling the
    /// marks, a BOM and every kind of line break (the oracle is the direct count).
    #[test]
    fn line_col_with_marks_matches_direct_count() {
        let direct = |text: &str, offset: usize| {
            let mut line_start = 0;
            let mut at = 0;
            for l in lines_inclusive(text) {
                at += l.len();
                if break_len(l) > 0 && at <= offset {
                    line_start = at;
                }
            }
            let start = if line_start == 0 && text.starts_with(BOM) {
                BOM.len_utf8().min(offset)
            } else {
                line_start
            };
            text.get(start..offset)
                .map_or(offset - start, |s| s.chars().count()) as u32
                + 1
        };
        let long: String = "aé€😀".repeat(1200);
        for text in [
            format!("{long}\n{long}\r\n{long}\rend"),
            format!("\u{feff}{long}"),
            "x".repeat(1000),
            String::new(),
        ] {
            let f = SourceFile::new("t", text.as_str());
            for offset in (0..=text.len()).step_by(13).chain([text.len()]) {
                assert_eq!(
                    f.line_col(offset).column,
                    direct(&text, offset),
                    "offset {offset}"
                );
            }
        }
    }

    #[test]
    fn line_col_counts_from_one_and_in_chars() {
        let f = SourceFile::new("x", "ab\nçd: e\n");
        assert_eq!(f.line_col(0), LineCol { line: 1, column: 1 });
        assert_eq!(f.line_col(3), LineCol { line: 2, column: 1 });
        // 'ç' is two bytes: byte 6 is the ':' at column 3.
        assert_eq!(&f.text[6..7], ":");
        assert_eq!(f.line_col(6), LineCol { line: 2, column: 3 });
        assert_eq!(f.line_start(2), 3);
    }

    #[test]
    fn lone_cr_crlf_and_lf_each_end_one_line() {
        let text = "a\rb\r\nc\nd\r\re";
        let inclusive: Vec<_> = lines_inclusive(text).collect();
        assert_eq!(inclusive, ["a\r", "b\r\n", "c\n", "d\r", "\r", "e"]);
        assert_eq!(inclusive.concat(), text);
        let plain: Vec<_> = lines(text).collect();
        assert_eq!(plain, ["a", "b", "c", "d", "", "e"]);
        assert_eq!(lines("x\n").collect::<Vec<_>>(), ["x"]);
        assert_eq!(lines("").count(), 0);
        let f = SourceFile::new("x", text);
        assert_eq!(f.line_count(), 6);
        let at = |s: &str| f.line_col(text.find(s).unwrap());
        assert_eq!(at("b"), LineCol { line: 2, column: 1 });
        assert_eq!(at("c"), LineCol { line: 3, column: 1 });
        assert_eq!(at("e"), LineCol { line: 6, column: 1 });
        // The `\n` of a `\r\n` is on the line the `\r` ends.
        assert_eq!(f.line_col(4), LineCol { line: 2, column: 3 });
        assert_eq!(f.line_start(3), text.find('c').unwrap());
    }

    /// Columns on long lines (counted from the column marks) are the
    /// characters before the offset, as counted from the line start.
    #[test]
    fn columns_on_long_lines_count_characters() {
        let long: String = (0..20_000)
            .map(|i| if i % 7 == 0 { 'é' } else { 'a' })
            .collect();
        let text = format!("\u{feff}{long}\nshort\n{long}x\n");
        let f = SourceFile::new("x", text.as_str());
        assert!(!f.marks.is_empty());
        let naive = |offset: usize| {
            let line_start = text[..offset].rfind('\n').map_or(0, |p| p + 1);
            let from = if line_start == 0 { 3 } else { line_start };
            text[from..offset].chars().count() as u32 + 1
        };
        for (offset, _) in text.char_indices().skip(1).step_by(97) {
            assert_eq!(f.line_col(offset).column, naive(offset), "{offset}");
        }
        let x = text.rfind('x').unwrap();
        assert_eq!(
            f.line_col(x),
            LineCol {
                line: 3,
                column: 20_001
            }
        );
    }

    #[test]
    fn a_byte_order_mark_is_not_a_column() {
        let f = SourceFile::new("x", "\u{feff}ab: c\nd: e\n");
        assert_eq!(f.line_col(0), LineCol { line: 1, column: 1 });
        assert_eq!(f.line_col(3), LineCol { line: 1, column: 1 });
        assert_eq!(f.line_col(5), LineCol { line: 1, column: 3 });
        assert_eq!(f.line_col(9), LineCol { line: 2, column: 1 });
    }
}
