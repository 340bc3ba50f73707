//! Reading YAML and JSON manifests: document splitting, parsing with budgets,
//! and decoding into k8s-openapi types with unknown-field detection.

pub mod de;
pub mod node;

pub use node::{Entry, Node, Value};

use crate::pointer::Pointer;
use crate::source::Span;

/// Limits applied to every document, so hostile input is refused in bounded memory.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest file (or stdin) read, in bytes.
    pub max_file_bytes: u64,
    /// Most parser events in one document.
    pub max_events: usize,
    /// Most events replayed through aliases in one document (alias bombs).
    pub max_alias_replay: usize,
    /// Deepest nesting of collections.
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_file_bytes: 64 << 20,
            max_events: 2_000_000,
            max_alias_replay: 200_000,
            max_depth: 128,
        }
    }
}

/// A YAML error with its location inside the text that was parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct YamlError {
    pub message: String,
    pub span: Option<Span>,
}

/// One `---`-separated slice of a stream and its byte offset in the file.
#[derive(Debug, Clone, Copy)]
pub struct DocSlice<'a> {
    pub offset: usize,
    pub text: &'a str,
}

/// Splits a YAML stream at document markers (`---` at the start of a line).
///
/// YAML forbids `---` at column 0 inside any scalar, so a line-level split is exact
/// and lets one broken document be reported without hiding the others.
pub fn split_documents(text: &str) -> Vec<DocSlice<'_>> {
    let mut starts = vec![0usize];
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if offset != 0 && is_doc_start(line) {
            starts.push(offset);
        }
        offset += line.len();
    }
    starts.push(text.len());
    starts
        .windows(2)
        .map(|w| DocSlice {
            offset: w[0],
            text: &text[w[0]..w[1]],
        })
        .collect()
}

fn is_doc_start(line: &str) -> bool {
    line.strip_prefix("---")
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '\r', '\n']))
}

/// True when the slice holds nothing but blank lines, comments and markers.
pub fn is_blank_document(text: &str) -> bool {
    text.lines().all(|l| {
        let t = l.trim();
        t.is_empty() || t.starts_with('#') || t == "---" || t == "..." || t.starts_with("--- #")
    })
}

fn options(limits: &Limits) -> serde_saphyr::Options {
    use serde_saphyr::options::{DuplicateKeyPolicy, MergeKeyPolicy};
    serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_events: limits.max_events,
            max_depth: limits.max_depth,
        },
        duplicate_keys: DuplicateKeyPolicy::Error,
        merge_keys: MergeKeyPolicy::Merge,
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: limits.max_alias_replay,
        },
        // The API server's YAML decoder (go-yaml v2) reads `0644` as octal and
        // `yes`/`no`/`on`/`off` as booleans: resolve scalars the same way.
        legacy_octal_numbers: true,
        strict_booleans: false,
        with_snippet: false,
        crop_radius: 0,
    }
}

/// Parses one document slice into its node trees (a slice may hold several
/// documents when `...` ends one without a following `---`).
pub fn parse_documents(text: &str, limits: &Limits) -> Result<Vec<Node>, YamlError> {
    serde_saphyr::from_multiple_with_options::<Node>(text, options(limits)).map_err(|e| {
        let span = e.location().and_then(|loc| {
            let s = loc.span();
            s.byte_offset()
                .map(|o| Span::new(o as usize, s.byte_len().unwrap_or(0) as usize))
                .or_else(|| byte_offset_of(text, loc.line(), loc.column()).map(|o| Span::new(o, 0)))
        });
        let message = plain_message(&e);
        // "while scanning a plain scalar, found a tab": the parser marks where the
        // scalar began; the tab that broke it is what the user must fix.
        let span = match span {
            Some(s) if message.ends_with("found a tab") => text[s.start.min(text.len())..]
                .find('\t')
                .map(|i| Span::new(s.start + i, 1))
                .or(Some(s)),
            other => other,
        };
        YamlError { message, span }
    })
}

fn byte_offset_of(text: &str, line: u64, column: u64) -> Option<usize> {
    if line == 0 {
        return None;
    }
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i as u64 + 1 == line {
            let col = l
                .char_indices()
                .nth(column.saturating_sub(1) as usize)
                .map_or(l.len(), |(b, _)| b);
            return Some(offset + col);
        }
        offset += l.len();
    }
    Some(text.len())
}

/// serde-saphyr's message in our words: without its trailing position (we print
/// locations ourselves, relative to the whole file) and without advice about
/// its own options.
fn plain_message(e: &serde_saphyr::Error) -> String {
    let msg = e.without_snippet().to_string();
    let msg = strip_trailing_position(&msg);
    if let Some(key) = msg.strip_prefix("duplicate mapping key: ") {
        let key = key.split(", set DuplicateKeyPolicy").next().unwrap_or(key);
        return format!(
            "duplicate mapping key `{key}` (parsers disagree on which value wins; the API server may not take the one you read)"
        );
    }
    msg.to_string()
}

/// Drops a final ` at line N, column M` (or ` at line N column M`), and nothing
/// else: positions inside the message (`defined at line 3`) stay.
fn strip_trailing_position(msg: &str) -> &str {
    let Some(i) = msg.rfind(" at line ") else {
        return msg;
    };
    let tail = &msg[i + " at line ".len()..];
    let only_position = tail
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ',' | ' ' | 'c' | 'o' | 'l' | 'u' | 'm' | 'n'));
    if only_position && tail.contains("column") {
        &msg[..i]
    } else {
        msg
    }
}

/// Adds `by` to every `line N` in a message, so positions that a parser counted
/// from the start of one document count from the start of the file.
pub fn shift_line_numbers(msg: &str, by: usize) -> String {
    if by == 0 {
        return msg.to_string();
    }
    let mut out = String::with_capacity(msg.len());
    let mut rest = msg;
    while let Some(i) = rest.find("line ") {
        let (before, after) = rest.split_at(i + "line ".len());
        out.push_str(before);
        let digits = after.chars().take_while(char::is_ascii_digit).count();
        match after[..digits].parse::<usize>() {
            Ok(n) => out.push_str(&(n + by).to_string()),
            Err(_) => out.push_str(&after[..digits]),
        }
        rest = &after[digits..];
    }
    out.push_str(rest);
    out
}

/// Where a pointer lands in a document: the value's span, and the key's span
/// when the value sits in a mapping.
#[derive(Debug, Clone, Copy)]
pub struct Located {
    pub value: Span,
    pub key: Option<Span>,
    /// False when the pointer went past the tree and the deepest existing node was used.
    pub exact: bool,
}

/// The node at `pointer`, if it exists.
pub fn node_at<'a>(root: &'a Node, pointer: &Pointer) -> Option<&'a Node> {
    let mut node = root;
    for token in pointer.tokens() {
        node = match &node.value {
            Value::Map(_) => node.get(&token)?,
            Value::Seq(items) => items.get(token.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(node)
}

/// Resolves a JSON Pointer against a node tree, falling back to the deepest
/// node that exists.
pub fn locate(root: &Node, pointer: &Pointer) -> Located {
    let mut node = root;
    let mut key = None;
    let mut exact = true;
    for token in pointer.tokens() {
        let next = match &node.value {
            Value::Map(entries) => entries
                .iter()
                .find(|e| e.key == token)
                .map(|e| (&e.value, Some(e.key_span))),
            Value::Seq(items) => token
                .parse::<usize>()
                .ok()
                .and_then(|i| items.get(i))
                .map(|n| (n, None)),
            _ => None,
        };
        match next {
            Some((n, k)) => {
                node = n;
                key = k;
            }
            None => {
                exact = false;
                break;
            }
        }
    }
    Located {
        value: node.span,
        key,
        exact,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_one(text: &str) -> Node {
        let mut docs = parse_documents(text, &Limits::default()).expect("parses");
        assert_eq!(docs.len(), 1);
        docs.remove(0)
    }

    #[test]
    fn splits_at_markers_only_at_line_start() {
        let text = "a: 1\n---\nb: 2\n  ---\n--- # c\nc: 3\n---x: 4\n";
        let docs = split_documents(text);
        let texts: Vec<_> = docs.iter().map(|d| d.text).collect();
        assert_eq!(
            texts,
            ["a: 1\n", "---\nb: 2\n  ---\n", "--- # c\nc: 3\n---x: 4\n"]
        );
        assert_eq!(docs[1].offset, 5);
    }

    #[test]
    fn spans_point_at_keys_and_values() {
        let text = "spec:\n  containers:\n  - name: runner\n    image: x:latest\n";
        let root = parse_one(text);
        let at = locate(&root, &Pointer::parse("/spec/containers/0/image"));
        assert!(at.exact);
        assert_eq!(&text[at.value.start..at.value.start + 8], "x:latest");
        assert_eq!(&text[at.key.unwrap().start..at.key.unwrap().end], "image");
        let missing = locate(&root, &Pointer::parse("/spec/containers/0/securityContext"));
        assert!(!missing.exact);
    }

    #[test]
    fn duplicate_keys_are_errors_with_location() {
        let text = "a: 1\nb: 2\na: 3\n";
        let err = parse_documents(text, &Limits::default()).unwrap_err();
        assert!(err.message.contains("duplicate"), "{}", err.message);
        let span = err.span.expect("located");
        assert_eq!(&text[span.start..span.start + 1], "a");
        assert_eq!(span.start, 10);
    }

    #[test]
    fn scalars_resolve_like_the_api_server_decoder() {
        let root = parse_one("a: yes\nb: 0644\nc: '0644'\nd: off\ne: 1.5\nf: ~\n");
        assert_eq!(root.get("a").unwrap().value, Value::Bool(true));
        assert_eq!(root.get("b").unwrap().value, Value::Int(0o644));
        assert_eq!(root.get("c").unwrap().value, Value::Str("0644".into()));
        assert_eq!(root.get("d").unwrap().value, Value::Bool(false));
        assert_eq!(root.get("e").unwrap().value, Value::Float(1.5));
        assert_eq!(root.get("f").unwrap().value, Value::Null);
    }

    #[test]
    fn anchors_aliases_and_merge_keys_expand() {
        let root = parse_one("base: &b {p: 1, q: 2}\nuse:\n  <<: *b\n  q: 3\ncopy: *b\n");
        let used = root.get("use").unwrap();
        assert_eq!(used.get("p").unwrap().value, Value::Int(1));
        assert_eq!(used.get("q").unwrap().value, Value::Int(3));
        assert_eq!(
            root.get("copy").unwrap().get("q").unwrap().value,
            Value::Int(2)
        );
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let prev = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
            ));
        }
        let err = parse_documents(&text, &Limits::default()).unwrap_err();
        assert!(
            err.message.to_lowercase().contains("alias") || err.message.contains("budget"),
            "{}",
            err.message
        );
    }

    #[test]
    fn messages_keep_inner_positions_and_shift_them_to_the_file() {
        assert_eq!(
            strip_trailing_position(
                "limit exceeded at line 2, column 19 (defined at line 6, column 9)"
            ),
            "limit exceeded at line 2, column 19 (defined at line 6, column 9)"
        );
        assert_eq!(
            strip_trailing_position("bad indent at line 4, column 1"),
            "bad indent"
        );
        assert_eq!(
            shift_line_numbers("at line 2, column 19 (defined at line 6, column 9)", 10),
            "at line 12, column 19 (defined at line 16, column 9)"
        );
        let err = parse_documents("a: 1\nb: 2\na: 3\n", &Limits::default()).unwrap_err();
        assert!(
            err.message.starts_with("duplicate mapping key `a`"),
            "{}",
            err.message
        );
        assert!(
            !err.message.contains("DuplicateKeyPolicy"),
            "{}",
            err.message
        );
    }

    #[test]
    fn syntax_errors_carry_a_location() {
        let text = "a: 1\nb: [1, 2\nc: 3\n";
        let err = parse_documents(text, &Limits::default()).unwrap_err();
        assert!(err.span.is_some(), "{err:?}");
    }

    #[test]
    fn json_parses_with_spans() {
        let text = "{\"kind\": \"Pod\", \"spec\": {\"hostPID\": true}}";
        let root = parse_one(text);
        let at = locate(&root, &Pointer::parse("/spec/hostPID"));
        assert_eq!(&text[at.value.start..at.value.start + 4], "true");
    }
}
