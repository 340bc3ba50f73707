//! Metamorphic test: every fixture of `tests/fixtures.rs` (YAML and
//! Dockerfiles under `testdata/rules`, `testdata/seeds`, `testdata/compliant`)
//! re-encoded in a way that does not change what the API server or BuildKit
//! reads must give the same findings: the same codes at the same line and
//! column, checked through the library as `fixtures.rs` checks (same policy,
//! same `--context`). The re-encodings, and exactly what each may change:
//!
//! - **cr**: every line break (`\n`, `\r\n`) becomes a lone `\r` (YAML 1.2
//!   and editors read it as a line break). Nothing may change in YAML. In a
//!   Dockerfile BuildKit breaks lines at `\n` only, so the file then means
//!   something else to it: exactly one more finding, SL9011 at the first lone
//!   `\r` (the end of line 1), and otherwise the same findings.
//! - **crlf**: every `\n` becomes `\r\n`. Nothing may change.
//! - **bom**: a UTF-8 byte order mark is added (or, for the fixture that has
//!   one, removed). A BOM is not a column, so nothing may change, line 1
//!   included.
//! - **trailing**: a space and a tab are appended to every non-blank line.
//!   Nothing may change. In Dockerfiles, lines that are a bare word are left
//!   alone: they may end a here-document, and BuildKit compares that line
//!   exactly (`EOF \t` does not end `<<EOF`).
//! - **flow** (YAML only): block sequences whose items are one-line scalars,
//!   found with the library's own parser, are rewritten as flow sequences
//!   that keep every item where it was: `key:\n  - a\n  - b  # c` becomes
//!   `key: [\n    a,\n    b]  # c`. Item positions do not move, so findings
//!   on items keep their line:col; a finding at the sequence itself moves from
//!   its first `-` to the `[`, and text after an item on its line (a comment,
//!   where a suppression may be reported) moves right by the one inserted
//!   character. That is all that may change.

use std::path::{Path, PathBuf};

use sandbox_lint::check::Options;
use sandbox_lint::linter::Linter;
use sandbox_lint::pointer::Pointer;
use sandbox_lint::yaml::{self, Limits, Node, Value};

// ---------------------------------------------------------------------------
// The fixtures and how each is checked (as tests/fixtures.rs does).

fn fixture_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            fixture_files(&p, out);
        } else if matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"))
            || sandbox_lint::dockerfile::is_dockerfile_name(&p)
        {
            out.push(p);
        }
    }
}

fn linter_for(path: &Path, text: &str) -> Option<Linter> {
    let first = text.lines().next()?;
    let name = first.strip_prefix("# policy:")?.trim();
    let local = path.parent().unwrap().join(name);
    let policy = if local.exists() {
        sandbox_lint::policy::load_file(&local)
    } else {
        sandbox_lint::policy::load_reference(name)
    };
    let linter = Linter::new(vec![policy.unwrap()]).unwrap();
    sandbox_lint::check::prepare_images(&linter, &Options::default());
    Some(linter)
}

fn linter_for_off_rule(path: &Path) -> Option<Linter> {
    let code = path.parent()?.file_name()?.to_str()?;
    let rule = sandbox_lint::rules::find(code).filter(|r| r.meta.code == code)?;
    if rule.meta.default_enabled {
        return None;
    }
    let text = format!(
        "apiVersion: sandbox-lint.dev/v1alpha1\nkind: Policy\nmetadata: {{name: only-{code}}}\nspec:\n  onlyListedRules: true\n  rules:\n    {code}: {{enabled: true}}\n"
    );
    let policy = sandbox_lint::policy::load_text(code, &text, None, &mut Vec::new()).unwrap();
    Some(Linter::new(vec![policy]).unwrap())
}

fn is_policy(text: &str) -> bool {
    text.lines().any(|l| l.trim_end() == "kind: Policy")
}

fn context_for(path: &Path, text: &str) -> Vec<PathBuf> {
    let named = text
        .lines()
        .take(5)
        .find_map(|l| l.strip_prefix("# context:").map(str::trim));
    match named {
        Some("none") => Vec::new(),
        Some(rel) => vec![path.parent().unwrap().join(rel)],
        None => vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/context")],
    }
}

/// One active finding: whether it is in the checked file (not in a policy or
/// a Dockerfile the policy maps), its line, column, code and pointer.
type Found = (bool, u32, u32, String, String);

/// How one fixture is checked, whatever file holds its text.
struct Harness<'a> {
    linter: &'a Linter,
    context: Vec<PathBuf>,
    policy: bool,
}

impl Harness<'_> {
    fn findings(&self, path: &Path) -> Vec<Found> {
        let name = path.display().to_string();
        let mut out: Vec<Found> = if self.policy {
            let policy = match sandbox_lint::policy::load_file(path) {
                Ok(p) => p,
                Err(e) => panic!("{name}: {e:?}"),
            };
            Linter::new(vec![policy])
                .unwrap()
                .policy_findings()
                .iter()
                .map(|f| {
                    let lc = f.location.as_ref().map(|l| l.start_lc);
                    (
                        true,
                        lc.map_or(0, |l| l.line),
                        lc.map_or(0, |l| l.column),
                        f.code.to_string(),
                        f.pointer.as_str().to_string(),
                    )
                })
                .collect()
        } else {
            let opts = Options {
                context: self.context.clone(),
                ..Options::default()
            };
            sandbox_lint::check::run(self.linter, &[path.to_path_buf()], &opts)
                .findings()
                .filter(|f| f.is_active())
                .map(|f| {
                    let at = f.location.as_ref();
                    (
                        at.is_some_and(|l| *l.file == *name),
                        at.map_or(0, |l| l.start_lc.line),
                        at.map_or(0, |l| l.start_lc.column),
                        f.code.to_string(),
                        f.pointer.as_str().to_string(),
                    )
                })
                .collect()
        };
        out.sort();
        out
    }
}

// ---------------------------------------------------------------------------
// Lines and columns, counted here independently of the library: `\r\n`, `\r`
// and `\n` end a line; columns count characters.

/// Byte offsets where lines start.
fn line_starts(text: &str) -> Vec<usize> {
    let b = text.as_bytes();
    let mut starts = vec![0];
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\r' if b.get(i + 1) == Some(&b'\n') => {
                starts.push(i + 2);
                i += 2;
                continue;
            }
            b'\r' | b'\n' => starts.push(i + 1),
            _ => {}
        }
        i += 1;
    }
    starts
}

/// 1-based line and column of a byte offset.
fn line_col(text: &str, starts: &[usize], offset: usize) -> (u32, u32) {
    let line = starts.partition_point(|&s| s <= offset) - 1;
    let col = text[starts[line]..offset].chars().count();
    (line as u32 + 1, col as u32 + 1)
}

// ---------------------------------------------------------------------------
// The re-encodings (on bytes: a fixture may deliberately not be UTF-8).

fn breaks_to(bytes: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() * 2);
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\r' if bytes.get(i + 1) == Some(&b'\n') => {
                out.extend_from_slice(to);
                i += 2;
                continue;
            }
            b'\r' | b'\n' => out.extend_from_slice(to),
            b => out.push(b),
        }
        i += 1;
    }
    out
}

const BOM: &[u8] = "\u{feff}".as_bytes();

fn toggle_bom(bytes: &[u8]) -> Vec<u8> {
    match bytes.strip_prefix(BOM) {
        Some(rest) => rest.to_vec(),
        None => [BOM, bytes].concat(),
    }
}

/// A bare word (with leading tabs): a line that may end a here-document.
fn bare_word(line: &[u8]) -> bool {
    let word: Vec<u8> = line.iter().copied().skip_while(|&b| b == b'\t').collect();
    !word.is_empty() && word.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_')
}

fn trailing_whitespace(bytes: &[u8], dockerfile: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() * 2);
    for line in bytes.split_inclusive(|&b| b == b'\n') {
        let body_len = line.len()
            - match line {
                [.., b'\r', b'\n'] => 2,
                [.., b'\n'] => 1,
                _ => 0,
            };
        let (body, brk) = line.split_at(body_len);
        out.extend_from_slice(body);
        let blank = body.iter().all(|b| b.is_ascii_whitespace());
        let keep = dockerfile && bare_word(body);
        if !blank && !keep {
            out.extend_from_slice(b" \t");
        }
        out.extend_from_slice(brk);
    }
    out
}

/// A rewritten sequence: where the parser placed it (its first item, or the
/// `-` of an alias item), its pointer and item count, and where its `[` is.
#[derive(Debug)]
struct Rewritten {
    from: (u32, u32),
    pointer: String,
    items: usize,
    to: (u32, u32),
}

impl Rewritten {
    /// True for a finding located at the sequence itself: its pointer is the
    /// sequence's, or a missing field below it (not one of its items).
    fn holds(&self, at: (u32, u32), pointer: &str) -> bool {
        if at != self.from {
            return false;
        }
        match pointer.strip_prefix(&self.pointer) {
            Some("") => true,
            Some(rest) => rest.strip_prefix('/').is_some_and(|r| {
                let token = r.split('/').next().unwrap_or_default();
                token.parse::<usize>().map_or(true, |i| i >= self.items)
            }),
            None => false,
        }
    }
}

/// What the flow re-encoding may change in a finding's position.
#[derive(Debug, Default)]
struct Moves {
    /// A finding at a rewritten sequence is now at its `[`.
    exact: Vec<Rewritten>,
    /// On `line`, from column `from` on, text moved right by `by`.
    shifts: Vec<(u32, u32, u32)>,
}

impl Moves {
    fn apply(&self, (line, col): (u32, u32), pointer: &str) -> (u32, u32) {
        if let Some(r) = self.exact.iter().find(|r| r.holds((line, col), pointer)) {
            return r.to;
        }
        let by: u32 = self
            .shifts
            .iter()
            .filter(|(l, from, _)| *l == line && col >= *from)
            .map(|s| s.2)
            .sum();
        (line, col + by)
    }
}

/// One edit: at byte `at`, replace `len` bytes by `with`.
struct Edit {
    at: usize,
    len: usize,
    with: &'static str,
}

/// A one-line scalar that reads the same in a flow sequence.
fn flow_safe_scalar(s: &str) -> bool {
    if s.is_empty() || s.contains(['\n', '\r']) {
        return false;
    }
    let first = s.chars().next().unwrap();
    if first == '"' || first == '\'' {
        return s.len() >= 2 && s.ends_with(first);
    }
    !"&*!|>%@`?-#[]{},".contains(first)
        && !s.contains([',', '[', ']', '{', '}'])
        && !s.contains(": ")
        && !s.contains(" #")
        && !s.ends_with(':')
}

/// The edits that rewrite the block sequence under an entry as a flow
/// sequence, or None when it is not one this re-encoding handles.
fn flow_edits(
    text: &str,
    starts: &[usize],
    key_end: usize,
    seq: &Node,
    at: &Pointer,
    base: usize,
    moves: &mut Moves,
) -> Option<Vec<Edit>> {
    let Value::Seq(items) = &seq.value else {
        return None;
    };
    if items.is_empty() {
        return None;
    }
    // The parser places a block sequence at its first item (or at the `-`
    // of an alias item): the `-` is the first non-blank before it.
    let placed = seq.span.start + base;
    let seq_start = if text.as_bytes().get(placed) == Some(&b'-') {
        placed
    } else if placed == items[0].span.start + base {
        text[..placed]
            .trim_end_matches(' ')
            .strip_suffix('-')?
            .len()
    } else {
        return None;
    };
    // `key:` then the break, then the indentation of the first `-`.
    let gap = text.get(key_end..seq_start)?;
    let after_colon = gap.trim_start_matches([' ', '\t']).strip_prefix(':')?;
    let colon = key_end + gap.len() - after_colon.len() - 1;
    let rest = after_colon.trim_start_matches([' ', '\t']);
    let rest = rest
        .strip_prefix("\r\n")
        .or_else(|| rest.strip_prefix('\n'))?;
    if !rest.bytes().all(|b| b == b' ') {
        return None;
    }
    let (dash_line, dash_col) = line_col(text, starts, seq_start);
    let mut edits = vec![Edit {
        at: colon + 1,
        len: 0,
        with: " [",
    }];
    let mut item_moves = Vec::new();
    for (i, item) in items.iter().enumerate() {
        if matches!(item.value, Value::Seq(_) | Value::Map(_)) {
            return None;
        }
        let (s, e) = (item.span.start + base, item.span.end + base);
        if !flow_safe_scalar(text.get(s..e)?) {
            return None;
        }
        let (line, _) = line_col(text, starts, s);
        if line != dash_line + i as u32 {
            return None;
        }
        let line_start = starts[line as usize - 1];
        let prefix = &text[line_start..s];
        let dash = line_start + prefix.find('-')?;
        if line_col(text, starts, dash).1 != dash_col || prefix.trim() != "-" {
            return None;
        }
        let line_end = starts.get(line as usize).copied().unwrap_or(text.len());
        let after = text[e..line_end].trim_end_matches(['\r', '\n']);
        let after_blank = after.trim_start_matches([' ', '\t']);
        if !(after_blank.is_empty() || (after_blank.starts_with('#') && after_blank != after)) {
            return None;
        }
        edits.push(Edit {
            at: dash,
            len: 1,
            with: " ",
        });
        edits.push(Edit {
            at: e,
            len: 0,
            with: if i + 1 == items.len() { "]" } else { "," },
        });
        item_moves.push((line, line_col(text, starts, e).1, 1));
    }
    let (colon_line, colon_col) = line_col(text, starts, colon);
    moves.exact.push(Rewritten {
        from: line_col(text, starts, placed),
        pointer: at.as_str().to_string(),
        items: items.len(),
        to: (colon_line, colon_col + 2),
    });
    moves.shifts.push((colon_line, colon_col + 1, 2));
    moves.shifts.extend(item_moves);
    Some(edits)
}

struct Walk<'a> {
    text: &'a str,
    starts: &'a [usize],
    base: usize,
    edits: Vec<Edit>,
    moves: Moves,
}

impl Walk<'_> {
    fn node(&mut self, node: &Node, at: &Pointer) {
        match &node.value {
            Value::Map(entries) => {
                for e in entries {
                    let here = at.key(&e.key);
                    let key_end = e.key_span.end + self.base;
                    let (text, starts, base) = (self.text, self.starts, self.base);
                    match flow_edits(
                        text,
                        starts,
                        key_end,
                        &e.value,
                        &here,
                        base,
                        &mut self.moves,
                    ) {
                        Some(found) => self.edits.extend(found),
                        None => self.node(&e.value, &here),
                    }
                }
            }
            Value::Seq(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.node(item, &at.index(i));
                }
            }
            _ => {}
        }
    }
}

/// The flow re-encoding of a YAML text, what it may move, and how many
/// sequences it rewrote.
fn flow_style(text: &str) -> (String, Moves, usize) {
    let starts = line_starts(text);
    let mut walk = Walk {
        text,
        starts: &starts,
        base: 0,
        edits: Vec::new(),
        moves: Moves::default(),
    };
    for slice in yaml::split_documents(text) {
        let Ok(roots) = yaml::parse_documents(slice.text, &Limits::default()) else {
            continue;
        };
        walk.base = slice.offset;
        for root in &roots {
            walk.node(root, &Pointer::root());
        }
    }
    let Walk {
        mut edits, moves, ..
    } = walk;
    let rewritten = moves.exact.len();
    // Aliased nodes span their use site: an edit seen twice is made once.
    edits.sort_by_key(|e| (e.at, e.len));
    edits.dedup_by_key(|e| (e.at, e.len));
    let mut out = text.to_string();
    for e in edits.iter().rev() {
        out.replace_range(e.at..e.at + e.len, e.with);
    }
    (out, moves, rewritten)
}

// ---------------------------------------------------------------------------

#[test]
fn re_encoded_fixtures_give_the_same_findings_at_the_same_places() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata");
    let mut files = Vec::new();
    for dir in ["rules", "seeds", "compliant"] {
        fixture_files(&root.join(dir), &mut files);
    }
    assert!(files.len() > 100, "fixtures not found");
    let default = Linter::with_default_policy();
    let tmp = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    let mut flow_rewritten = 0;
    let mut flow_files = 0;
    for (n, path) in files.iter().enumerate() {
        let bytes = std::fs::read(path).unwrap();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let dockerfile = sandbox_lint::dockerfile::is_dockerfile_name(path);
        let own = linter_for(path, &text).or_else(|| linter_for_off_rule(path));
        let harness = Harness {
            linter: own.as_ref().unwrap_or(&default),
            context: context_for(path, &text),
            policy: is_policy(&text),
        };
        let original = harness.findings(path);
        let mut variants: Vec<(&str, Vec<u8>, Vec<Found>)> = Vec::new();
        let cr = breaks_to(&bytes, b"\r");
        let mut cr_expected = original.clone();
        if dockerfile && let Some(first) = text.find(['\r', '\n']) {
            let line1 = text[..first].trim_start_matches('\u{feff}');
            let col = line1.chars().count() as u32 + 1;
            cr_expected.push((true, 1, col, "SL9011".into(), String::new()));
            cr_expected.sort();
        }
        variants.push(("cr", cr, cr_expected));
        variants.push(("crlf", breaks_to(&bytes, b"\r\n"), original.clone()));
        variants.push(("bom", toggle_bom(&bytes), original.clone()));
        variants.push((
            "trailing",
            trailing_whitespace(&bytes, dockerfile),
            original.clone(),
        ));
        if !dockerfile && let Ok(utf8) = std::str::from_utf8(&bytes) {
            let (flow, moves, rewritten) = flow_style(utf8);
            if rewritten > 0 {
                flow_rewritten += rewritten;
                flow_files += 1;
                let mut expected: Vec<Found> = original
                    .iter()
                    .map(|(here, line, col, code, pointer)| {
                        let (line, col) = if *here {
                            moves.apply((*line, *col), pointer)
                        } else {
                            (*line, *col)
                        };
                        (*here, line, col, code.clone(), pointer.clone())
                    })
                    .collect();
                expected.sort();
                variants.push(("flow", flow.into_bytes(), expected));
            }
        }
        for (name, encoded, expected) in variants {
            let dir = tmp.path().join(format!("{n}-{name}"));
            std::fs::create_dir_all(&dir).unwrap();
            let copy = dir.join(path.file_name().unwrap());
            std::fs::write(&copy, &encoded).unwrap();
            let got = harness.findings(&copy);
            if got != expected {
                let missing: Vec<_> = expected.iter().filter(|f| !got.contains(f)).collect();
                let extra: Vec<_> = got.iter().filter(|f| !expected.contains(f)).collect();
                failures.push(format!(
                    "{} ({name}):\n    expected but not reported: {missing:?}\n    reported but not expected: {extra:?}",
                    path.strip_prefix(&root).unwrap_or(path).display()
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} re-encoding(s) changed the findings:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // The flow re-encoding is not vacuous.
    assert!(
        flow_files >= 15 && flow_rewritten >= 20,
        "flow style rewrote {flow_rewritten} sequences in {flow_files} files"
    );
}

/// The flow re-encoding itself, on a small text.
#[test]
fn flow_style_keeps_items_in_place() {
    let text = "e: &e v\na:\n  b:\n  - x\n  - \"y, z\"  # c\n  c: [1]\n  d:\n    - *e\n";
    let (flow, moves, rewritten) = flow_style(text);
    assert_eq!(rewritten, 1);
    assert_eq!(
        flow,
        "e: &e v\na:\n  b: [\n    x,\n    \"y, z\"]  # c\n  c: [1]\n  d:\n    - *e\n"
    );
    // The sequence (placed at its first item) moves to the `[`, items stay,
    // the comment moves right.
    assert_eq!(moves.apply((4, 5), "/a/b"), (3, 6));
    assert_eq!(moves.apply((4, 5), "/a/b/9"), (3, 6));
    assert_eq!(moves.apply((4, 5), "/a/b/0"), (4, 5));
    assert_eq!(moves.apply((5, 13), "/a/b/1"), (5, 14));
}
