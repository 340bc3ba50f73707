//! Reading YAML and JSON manifests: document splitting, parsing with budgets,
//! and decoding into k8s-openapi types with unknown-field detection.

mod build;
pub mod de;
#[cfg(test)]
mod equivalence;
pub mod node;
#[cfg(test)]
mod reference;

#[cfg(test)]
use reference::strip_trailing_position;

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
/// and lets one broken document be reported without hiding the others. Lines
/// end at `\r\n`, a lone `\r` or `\n`, as the parser reads them.
pub fn split_documents(text: &str) -> Vec<DocSlice<'_>> {
    let mut starts = vec![0usize];
    let mut offset = 0;
    for line in crate::source::lines_inclusive(text) {
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

/// True when the slice holds nothing but blank lines, comments and markers
/// (and a byte order mark).
pub fn is_blank_document(text: &str) -> bool {
    crate::source::lines(text).all(|l| {
        let t = l.trim().trim_start_matches(crate::source::BOM).trim_start();
        t.is_empty() || t.starts_with('#') || t == "---" || t == "..." || t.starts_with("--- #")
    })
}

/// Parses one document slice into its node trees (a slice may hold several
/// documents when `...` ends one without a following `---`).
///
/// Documents that are only a null (empty, `~`) are left out. Scalars resolve as
/// the API server's YAML decoder (go-yaml v2) resolves them: `yes`/`no`/`on`/
/// `off` are booleans and `0644` is octal. Duplicate keys are refused, merge
/// keys (`<<`) are expanded, and [`Limits`] bound the work (alias bombs
/// included).
pub fn parse_documents(text: &str, limits: &Limits) -> Result<Vec<Node>, YamlError> {
    build::parse(text, limits)
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
        // A number that is not a line we counted (it may quote the input,
        // `line 18446744073709551615`) is left as written.
        match after[..digits]
            .parse::<usize>()
            .ok()
            .and_then(|n| n.checked_add(by))
        {
            Some(n) => out.push_str(&n.to_string()),
            None => out.push_str(&after[..digits]),
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
    locate_with(root, pointer, |entries, token| {
        entries.iter().position(|e| e.key == token)
    })
}

/// Mappings with more entries than this get a key index in a [`Locator`].
const INDEXED_MAP: usize = 32;

/// [`locate`] for many pointers into one document: the entries of large
/// mappings are found through a key index built on first use, so locating a
/// finding for each of 50,000 keys of one mapping costs linear time, not
/// keys x findings.
pub struct Locator<'a> {
    root: &'a Node,
    /// Key indexes of large mappings, by the mapping node's address.
    maps: std::cell::RefCell<
        std::collections::HashMap<usize, std::collections::HashMap<&'a str, usize>>,
    >,
}

impl<'a> Locator<'a> {
    pub fn new(root: &'a Node) -> Self {
        Self {
            root,
            maps: Default::default(),
        }
    }

    /// Where `pointer` lands, as [`locate`] says.
    pub fn locate(&self, pointer: &Pointer) -> Located {
        let mut maps = self.maps.borrow_mut();
        locate_with(self.root, pointer, |entries: &'a [Entry], token| {
            if entries.len() <= INDEXED_MAP {
                return entries.iter().position(|e| e.key == token);
            }
            let index = maps.entry(entries.as_ptr() as usize).or_insert_with(|| {
                let mut index = std::collections::HashMap::with_capacity(entries.len());
                for (i, e) in entries.iter().enumerate() {
                    // The first of a repeated key, as the linear search finds.
                    index.entry(e.key.as_str()).or_insert(i);
                }
                index
            });
            index.get(token).copied()
        })
    }
}

fn locate_with<'a>(
    root: &'a Node,
    pointer: &Pointer,
    mut find: impl FnMut(&'a [Entry], &str) -> Option<usize>,
) -> Located {
    let mut node = root;
    let mut key = None;
    let mut exact = true;
    for token in pointer.tokens() {
        let next = match &node.value {
            Value::Map(entries) => {
                find(entries, &token).map(|i| (&entries[i].value, Some(entries[i].key_span)))
            }
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

    /// The indexed locator finds what the linear search finds, for present,
    /// repeated-looking, missing and nested keys of a mapping large enough to
    /// be indexed (the oracle is `locate`).
    #[test]
    fn locator_agrees_with_locate_on_large_mappings() {
        let mut text = String::from("spec:\n");
        for i in 0..200 {
            text.push_str(&format!("  k{i}: {{inner{i}: [a, b]}}\n"));
        }
        let root = parse_one(&text);
        let locator = Locator::new(&root);
        for p in [
            "/spec/k0",
            "/spec/k199/inner199/1",
            "/spec/k57/inner57",
            "/spec/k57/missing",
            "/spec/nope",
            "/spec/k3/inner3/9",
            "/other",
            "",
        ] {
            let p = Pointer::parse(p);
            let (a, b) = (locate(&root, &p), locator.locate(&p));
            assert_eq!(
                (a.value, a.key, a.exact),
                (b.value, b.key, b.exact),
                "{p:?}"
            );
        }
    }

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

    /// A lone `\r` and `\r\n` end lines as `\n` does (YAML 1.2): markers after
    /// them split documents, and comments end at them.
    #[test]
    fn lone_carriage_returns_end_lines_for_splitting_and_blank_checks() {
        for br in ["\r", "\r\n", "\n"] {
            let text = ["# c", "a: 1", "---", "b: 2", ""].join(br);
            let docs = split_documents(&text);
            assert_eq!(docs.len(), 2, "{text:?}");
            assert_eq!(docs[1].offset, text.find("---").unwrap(), "{text:?}");
            assert!(!is_blank_document(docs[0].text), "{text:?}");
            let blank = ["# c", "---", "# d", "...", ""].join(br);
            assert!(is_blank_document(&blank), "{blank:?}");
        }
        // Mixed breaks.
        let docs = split_documents("a: 1\r---\r\nb: 2\n---\rc: 3");
        let texts: Vec<_> = docs.iter().map(|d| d.text).collect();
        assert_eq!(texts, ["a: 1\r", "---\r\nb: 2\n", "---\rc: 3"]);
        assert!(is_blank_document("\u{feff}# only a comment\n"));
        assert!(!is_blank_document("\u{feff}a: 1\n"));
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

    /// Where go-yaml v2 (kubectl) and the YAML merge rules would build
    /// different objects, the document is refused; where they agree it is read.
    #[test]
    fn merge_keys_are_refused_where_parsers_disagree() {
        let refused = [
            // An explicit key above `<<`: kubectl takes the merged `true`.
            ("t:\n  a: false\n  <<: {a: true, b: 1}\n", "`a`", 16),
            (
                "m: &m {a: true}\nt:\n  a: false\n  <<: [{b: 1}, *m]\n",
                "`a`",
                32,
            ),
            // Inside a merged mapping too.
            ("t:\n  <<: {a: 1, <<: {a: 2}}\n", "`a`", 16),
            // Two merge keys in one mapping.
            ("t:\n  <<: {a: 1}\n  <<: {a: 2}\n", "`<<`", 18),
            ("t:\n  <<: {x: {<<: {a: 1}, <<: {b: 2}}}\n", "`<<`", 26),
        ];
        for (text, key, at) in refused {
            let err = parse_documents(text, &Limits::default()).unwrap_err();
            assert!(err.message.contains(key), "{text:?}: {}", err.message);
            let span = err.span.expect("located");
            assert_eq!(&text[span.start..span.end], "<<", "{text:?}");
            assert_eq!(span.start, at, "{text:?}");
        }
        // `<<` first, explicit keys below it win (in both readings).
        let root = parse_one("t:\n  <<: {a: true, b: 1}\n  a: false\n");
        let t = root.get("t").unwrap();
        assert_eq!(t.get("a").unwrap().value, Value::Bool(false));
        assert_eq!(t.get("b").unwrap().value, Value::Int(1));
        // Keys above `<<` that it does not set are fine.
        let root = parse_one("t:\n  c: 0\n  <<: {a: 1}\n");
        assert_eq!(
            root.get("t").unwrap().get("a").unwrap().value,
            Value::Int(1)
        );
        // A list of merged mappings: the earlier wins (in both readings).
        let root = parse_one("t:\n  <<: [{a: 1}, {a: 2, b: 2}]\n");
        assert_eq!(
            root.get("t").unwrap().get("a").unwrap().value,
            Value::Int(1)
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

    /// A tab indenting a line is the error, not a trailing tab before it
    /// (trailing whitespace is allowed).
    #[test]
    fn tab_errors_point_at_the_indenting_tab() {
        for text in [
            "metadata:\n  name: a\n\tnamespace: b\n",
            "metadata:\n  name: a \t\n\tnamespace: b\n",
            "metadata: \t\r  name: a \t\r\tnamespace: b\r",
        ] {
            let err = parse_documents(text, &Limits::default()).unwrap_err();
            assert!(err.message.ends_with("found a tab"), "{}", err.message);
            let at = err.span.unwrap().start;
            assert_eq!(at, text.find("\tnamespace").unwrap(), "{text:?}");
        }
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

    fn spanned(text: &str, span: Span) -> &str {
        &text[span.start..span.end]
    }

    #[test]
    fn aliased_and_merged_nodes_span_their_use_site() {
        let text = "base: &b {p: 1}\ncopy: *b\nuse:\n  <<: *b\n  q: 2\ninline:\n  <<: {r: 3}\n";
        let root = parse_one(text);
        let copy = root.get("copy").unwrap();
        assert_eq!(spanned(text, copy.span), "*b");
        let p = copy.entry("p").unwrap();
        assert_eq!(spanned(text, p.key_span), "*b");
        assert_eq!(spanned(text, p.value.span), "*b");
        let used = root.get("use").unwrap();
        assert_eq!(spanned(text, used.entry("p").unwrap().key_span), "*b");
        assert_eq!(spanned(text, used.entry("q").unwrap().key_span), "q");
        let r = root.get("inline").unwrap().entry("r").unwrap();
        assert_eq!(spanned(text, r.key_span), "{");
    }

    #[test]
    fn merge_keys_keep_explicit_and_earlier_entries() {
        let root = parse_one("t:\n  <<: [{a: 1, b: 1}, {b: 2, c: 2}, {c: 3, d: 3}]\n  a: 0\n");
        let t = root.get("t").unwrap();
        let keys: Vec<(&str, &Value)> = match &t.value {
            Value::Map(entries) => entries
                .iter()
                .map(|e| (e.key.as_str(), &e.value.value))
                .collect(),
            _ => panic!("a mapping"),
        };
        // Explicit entries first, then merged ones: earlier merges win.
        assert_eq!(
            keys,
            [
                ("a", &Value::Int(0)),
                ("b", &Value::Int(1)),
                ("c", &Value::Int(2)),
                ("d", &Value::Int(3)),
            ]
        );
        // A merged key that an explicit key below `<<` overrides is not a
        // duplicate (above it, see `merge_keys_are_refused_where_parsers_disagree`);
        // an explicit key repeated is, even with a merge key between.
        let text = "t:\n  a: 0\n  <<: {a: 1}\n  a: 2\n";
        let err = parse_documents(text, &Limits::default()).unwrap_err();
        assert!(
            err.message.starts_with("duplicate mapping key `a`"),
            "{}",
            err.message
        );
        assert_eq!(err.span.unwrap().start, 25);
    }

    #[test]
    fn keys_are_the_same_key_by_value_and_spelling() {
        for dup in [
            "a: 1\n\"a\": 2\n",
            "1: a\n01: b\n",
            "1: a\n0x1: b\n",
            "true: a\n'true': b\n",
        ] {
            assert!(parse_documents(dup, &Limits::default()).is_err(), "{dup:?}");
        }
        // Different YAML keys that read the same after conversion are kept, as before.
        let root = parse_one("yes: a\ntrue: b\n1: c\n\"1\": d\n~: e\nnull: f\n");
        let keys: Vec<&str> = match &root.value {
            Value::Map(entries) => entries.iter().map(|e| e.key.as_str()).collect(),
            _ => panic!("a mapping"),
        };
        assert_eq!(keys, ["true", "true", "1", "1", "null", "null"]);
    }

    #[test]
    fn numbers_resolve_like_before() {
        let root = parse_one(
            "a: 18446744073709551615\nb: 18446744073709551616\nc: 0x1F\nd: 1_000\ne: -0644\nf: 09\ng: inf\n",
        );
        assert_eq!(root.get("a").unwrap().value, Value::UInt(u64::MAX));
        assert_eq!(
            root.get("b").unwrap().value,
            Value::Float(18446744073709551616.0)
        );
        assert_eq!(root.get("c").unwrap().value, Value::Int(31));
        assert_eq!(root.get("d").unwrap().value, Value::Int(1000));
        assert_eq!(root.get("e").unwrap().value, Value::Int(-420));
        assert_eq!(root.get("f").unwrap().value, Value::Float(9.0));
        assert_eq!(root.get("g").unwrap().value, Value::Str("inf".into()));
        for refused in ["a: .inf\n", "a: .nan\n", "a: 1e999\n", "a: !!int 1.5\n"] {
            let err = parse_documents(refused, &Limits::default()).unwrap_err();
            assert_eq!(
                err.span.unwrap().start,
                refused.rfind(' ').unwrap() + 1,
                "{refused:?}"
            );
        }
    }

    #[test]
    fn null_documents_are_left_out() {
        let docs = parse_documents("---\n~\n---\na: 1\n---\n...\n", &Limits::default()).unwrap();
        assert_eq!(docs.len(), 1);
        assert!(
            parse_documents("# nothing\n", &Limits::default())
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn limits_refuse_deep_and_long_documents() {
        let deep = format!("{}{}", "[".repeat(6), "]".repeat(6));
        let limits = Limits {
            max_depth: 5,
            ..Limits::default()
        };
        let err = parse_documents(&deep, &limits).unwrap_err();
        assert!(err.message.contains("depth 6"), "{}", err.message);
        assert_eq!(err.span.unwrap().start, 5);
        let limits = Limits {
            max_events: 10,
            ..Limits::default()
        };
        let err = parse_documents("[a, b, c, d, e, f, g, h]", &limits).unwrap_err();
        assert!(err.message.contains("parser events"), "{}", err.message);
    }
}
