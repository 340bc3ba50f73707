//! The event builder against the previous serde-saphyr path: the same trees
//! (values and spans, keys' spans included) and the same refusals, located at
//! the same place, on every YAML file under `testdata/`, on tricky inline
//! cases, on the benchmark's generated corpus and on generated stress documents.

use std::path::{Path, PathBuf};

use super::reference::parse_documents_reference;
use super::{Limits, parse_documents, split_documents};
use crate::test_rng::Rng;

/// Compares both parsers on `text`; describes the first difference.
fn differs(text: &str, limits: &Limits) -> Option<String> {
    let new = parse_documents(text, limits);
    let old = parse_documents_reference(text, limits);
    match (&new, &old) {
        (Ok(a), Ok(b)) if a == b => None,
        (Ok(a), Ok(b)) => Some(format!("trees differ\n  new: {a:?}\n  old: {b:?}")),
        (Err(a), Err(b)) if a.span == b.span => None,
        // Deliberately stricter than serde-saphyr: merge keys whose result
        // depends on the parser (tested in `super::tests`).
        (Err(a), _) if refused_merge(a) => None,
        (Err(a), Err(b)) => Some(format!(
            "errors at different places\n  new: {a:?}\n  old: {b:?}"
        )),
        _ => Some(format!(
            "outcomes differ\n  new: {}\n  old: {}",
            brief(&new),
            brief(&old)
        )),
    }
}

/// The builder's refusals of merge keys where parsers disagree.
fn refused_merge(e: &super::YamlError) -> bool {
    e.message.starts_with("the merge key `<<` sets")
        || e.message.starts_with("duplicate mapping key `<<`")
}

fn brief(r: &Result<Vec<super::Node>, super::YamlError>) -> String {
    match r {
        Ok(docs) => format!("Ok({} documents) {docs:?}", docs.len()),
        Err(e) => format!("Err({e:?})"),
    }
}

/// Checks every text (whole and, like the loader, slice by slice) and panics
/// with all differences.
fn check_all<'t>(named: impl IntoIterator<Item = (String, &'t str)>, limits: &Limits) -> usize {
    let mut failures = Vec::new();
    let mut checked = 0;
    for (name, text) in named {
        let mut texts = vec![text];
        let slices = split_documents(text);
        if slices.len() > 1 {
            texts.extend(slices.iter().map(|s| s.text));
        }
        for t in texts {
            checked += 1;
            if let Some(d) = differs(t, limits) {
                failures.push(format!("{name}: {t:?}\n  {d}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} texts differ:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    checked
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            yaml_files(&p, out);
        } else if matches!(
            p.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml" | "json")
        ) {
            out.push(p);
        }
    }
}

#[test]
fn same_as_before_on_testdata() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata");
    let mut files = Vec::new();
    yaml_files(&root, &mut files);
    let texts: Vec<(String, String)> = files
        .iter()
        .filter_map(|p| {
            let bytes = std::fs::read(p).ok()?;
            let text = String::from_utf8(bytes).ok()?;
            Some((p.display().to_string(), text))
        })
        .collect();
    assert!(texts.len() > 100, "found only {} files", texts.len());
    check_all(
        texts.iter().map(|(n, t)| (n.clone(), t.as_str())),
        &Limits::default(),
    );
}

/// Inline cases for every behaviour the linter relies on.
const CASES: &[&str] = &[
    // Documents.
    "",
    "# only a comment\n",
    "---\n",
    "---\n---\n",
    "...\n",
    "~\n",
    "null\n",
    "!!null x\n",
    "!foo ~\n",
    "\"null\"\n",
    "''\n",
    "--- 1\n--- \"x\"\n--- [a]\n",
    "a: 1\n...\n---\nb: 2\n",
    "a: 1\n...\nb: 2\n...\n",
    "a: 1\n---\n~\n---\nb: 2\n",
    "%YAML 1.2\n---\na: 1\n",
    "\u{feff}a: 1\n",
    "a: 1\r\nb: [x,\r\n  y]\r\n",
    // Booleans, YAML 1.1 and 1.2, every case variant.
    "a: yes\nb: Yes\nc: YES\nd: yEs\ne: y\nf: Y\ng: on\nh: ON\ni: On\nj: oN\n",
    "a: no\nb: No\nc: NO\nd: n\ne: N\nf: off\ng: Off\nh: OFF\ni: oFf\n",
    "a: true\nb: True\nc: TRUE\nd: tRuE\ne: false\nf: False\ng: FALSE\nh: fAlSe\n",
    "a: 'yes'\nb: \"no\"\nc: !!str on\nd: ! off\ne: yess\nf: o\ng: t\n",
    // Integers.
    "a: 0644\nb: -0644\nc: 09\nd: 0x1F\ne: 0o17\nf: 0b101\ng: 1_000\nh: +12\n",
    "a: 0\nb: -0\nc: +0\nd: 00\ne: 0_7\nf: 0x_1F\ng: 0b_1\nh: 0o_7\ni: 0X1f\nj: 0B11\nk: 0O7\n",
    "a: 1__0\nb: _1\nc: 1_\nd: 0x\ne: 0b2\nf: 0o8\ng: 08\nh: 0x1G\ni: +-1\nj: --1\nk: -x\nl: +\n",
    "a: 9223372036854775807\nb: 9223372036854775808\nc: 18446744073709551615\n",
    "a: 18446744073709551616\nb: -9223372036854775808\nc: -9223372036854775809\n",
    "a: 0xFFFFFFFFFFFFFFFF\nb: 0x10000000000000000\nc: -0x8000000000000000\nd: -0x8000000000000001\n",
    "a: 340282366920938463463374607431768211456\nb: -170141183460469231731687303715884105729\n",
    // Floats.
    "a: 1.5\nb: 1e3\nc: .5\nd: 1.\ne: -1.5e-3\nf: +2.5\ng: 1E10\nh: 6.02e+23\ni: 1_0.5\n",
    "a: inf\nb: nan\nc: Infinity\nd: -inf\ne: NaN\nf: .Inf\n",
    "a: .inf\n",
    "a: -.inf\n",
    "a: +.INF\n",
    "a: .nan\n",
    "a: .NaN\n",
    "a: 1e999\n",
    "a: -1e999\n",
    "a: 1e-999\n",
    "a: [1, .inf]\n",
    // Nulls.
    "a: ~\nb: null\nc: Null\nd: NULL\ne:\nf: \"null\"\ng: '~'\nh: !!str ~\ni: !!null foo\nj: nULL\n",
    "- ~\n- \n- null\n-\n",
    // Strings in every style.
    "a: |\n  block\n  text\nb: >\n  folded\n  text\nc: \"quoted\\tx\"\nd: 'single ''q'''\n",
    "a: |-\n  strip\nb: |+\n  keep\n\nc: >2\n    indented\n",
    "a: \"\\u00e9t\\u00e9\"\nb: été\nc: \"line\\nbreak\"\nd: \"\\x41\"\ne: 'it''s'\n",
    "a: \"0644\"\nb: '1.5'\nc: \"true\"\nd: \"~\"\ne: |\n  12\n",
    "a: plain text with: colon\nb: http://x.y/z\nc: -dash\nd: 'multi\n  line'\n",
    // Tags.
    "a: !!int \"12\"\nb: !!int -0644\nc: !!bool \"yes\"\nd: !!float 1\ne: !!float \"2.5\"\n",
    "f: !!binary aGVsbG8=\ng: !!merge foo\nh: !!value x\ni: !include file.yaml\nj: !foo 12\nk: !foo yes\n",
    "a: !!str 12\nb: ! 12\nc: !<tag:yaml.org,2002:int> 7\nd: !<tag:example.com,2000:x> 7\n",
    "%TAG !e! tag:example.com,2000:\n---\na: !e!thing 5\nb: !e!thing x\n",
    "%TAG !y! tag:yaml.org,2002:\n---\na: !y!int 5\nb: !y!str 5\n",
    "a: !!timestamp 2001-12-14\n",
    "a: !timestamp 2001-12-14\n",
    "a: !!int 1.5\n",
    "a: !!int -1.5\n",
    "a: !!int 99999999999999999999\n",
    "a: !!bool maybe\n",
    "a: !!float abc\n",
    "a: !!float .nan\n",
    "a: !!binary \"!!!\"\n",
    "a: !!binary /w==\n",
    "a: !!binary aGVsbG8\n",
    "a: !!binary aGVsbG9=\n",
    "a: !!binary |\n  aGVs\n  bG8=\n",
    "a: !!seq abc\n",
    "a: !!str [a]\n",
    "a: !!map [a]\n",
    "a: !!seq {b: 1}\n",
    "a: !!int {b: 1}\n",
    "a: !include [a]\n",
    "a: !!seq [a]\nb: !!map {c: 1}\nc: !foo [x]\nd: !foo {y: 1}\n",
    "a: !time 5\n",
    "a: !degrees 5\n",
    "a: !!null\n",
    "a: !!str\n",
    // Keys.
    "true: a\n1: b\n1.5: c\n~: d\n0x10: e\n1e3: f\n\"q\": g\n-3: h\n1e20: i\nn: j\nY: k\n",
    "1e-7: a\n0.1: b\n100000000000000000000000: c\n-0.0: d\n",
    ".inf: a\n",
    "!!binary aGk=: a\n",
    "!!timestamp 2001-01-01: a\n",
    "[a, b]: c\n",
    "{a: 1}: c\n",
    "? - a\n: b\n",
    "? |\n  block key\n: v\n",
    ": no key\n",
    "a: 1\n\"a\": 2\n",
    "a: 1\n'a': 2\n",
    "a: 1\n!!str a: 2\n",
    "1: a\n01: b\n",
    "1: a\n0x1: b\n",
    "1: a\n\"1\": b\n",
    "1: a\n!!int 1: b\n",
    "1: a\n!!str 1: b\n",
    "1: a\n1.0: b\n",
    "-0: a\n0: b\n",
    "true: a\n\"true\": b\n",
    "yes: a\ntrue: b\n",
    "~: a\nnull: b\n",
    "~: a\n~: b\n",
    ": a\n~: b\n",
    "!foo a: 1\n!bar a: 2\n",
    "!foo a: 1\n!foo a: 2\n",
    "!foo a: 1\na: 2\n",
    "a: {b: 1, b: 2}\n",
    "- {a: 1}\n- {a: 1, a: 2}\n",
    // Anchors and aliases.
    "a: &x 1\nb: *x\nc: [*x, *x]\nd: {k: *x}\n",
    "a: &m\n  x: 1\n  y: [1, 2]\nb: *m\nc:\n  - *m\n",
    "a: &s [1, &t {p: q}]\nb: *s\nc: *t\n",
    "a: &x 1\nb: &x 2\nc: *x\n",
    "a: &k key\n*k : v\n",
    "a: &k key\nkey: 1\n*k : 2\n",
    "a: &a [*a]\n",
    "a: &a {b: *a}\n",
    "a: &a {*a : 1}\n",
    "a: &a {b: {<<: *a}}\n",
    "a: *nope\n",
    "a: &x 1\n---\nb: *x\n",
    "&r\na: *r\n",
    "a: &x !!int 5\nb: *x\n",
    "a: &x !!str 5\nb: *x\n",
    "a: &x \"q\"\nb: [*x]\n",
    "a: &x |\n  text\nb: *x\n",
    "a: &e\nb: *e\n",
    "a: &x .inf\n",
    "a: &x [&y 1, *y]\nb: *x\n",
    // Merge keys.
    "base: &b {p: 1, q: 2}\nuse:\n  <<: *b\n  q: 3\ncopy: *b\n",
    "m1: &m1 {a: 1, b: 1}\nm2: &m2 {b: 2, c: 2}\nt:\n  <<: [*m1, *m2]\n  z: 0\n",
    "t:\n  <<: {a: 1, b: 2}\n  b: 3\n",
    "t:\n  <<: [{a: 1}, {a: 2, b: 2}]\n",
    "t:\n  <<: {a: 1}\n  <<: {a: 2, c: 3}\n",
    "t:\n  a: 0\n  <<: {a: 1}\n  a: 2\n",
    "t:\n  <<: {a: 1, a: 2}\n",
    "t:\n  <<: [{a: 1, a: 2}]\n",
    "t:\n  <<: 1\n",
    "t:\n  <<: \"x\"\n",
    "t:\n  <<: [1]\n",
    "t:\n  <<: ~\n  a: 1\n",
    "t:\n  <<:\n  a: 1\n",
    "t:\n  <<: []\n",
    "t:\n  <<: [~, {a: 1}]\n",
    "t:\n  <<: [[{a: 1}], {b: 2}]\n",
    "t:\n  \"<<\": {a: 1}\n",
    "t:\n  '<<': {a: 1}\n",
    "t:\n  !!merge <<: {a: 1}\n",
    "t:\n  !!str <<: {a: 1}\n",
    "t:\n  !foo <<: {a: 1}\n",
    "t:\n  <<: {a: 1, <<: {b: 2, a: 9}}\n",
    "t:\n  <<: {a: 1, <<: [{b: 2}, {b: 3, c: 3}]}\n  c: 0\n",
    "m: &m {a: 1, <<: {b: 2}}\nt:\n  <<: *m\n",
    "m: &m {a: .inf}\n",
    "t:\n  a: 1\n  <<: {a: .inf}\n",
    "t:\n  a: 1\n  <<: {a: !!int x}\n",
    "t:\n  <<: {a: .inf}\n",
    "t:\n  <<: {[x]: 1}\n",
    "t:\n  <<: {[x]: 1, [x]: 2}\n",
    "t:\n  <<: {{a: 1}: 1, {a: 1}: 2}\n",
    "t:\n  <<: {{a: 1, b: 2}: 1, {b: 2, a: 1}: 2}\n",
    "t:\n  <<: [{x: 1}, {x: .inf}]\n",
    "t:\n  <<: {.inf: 1}\n",
    "t:\n  x: 1\n  <<: {y: &q {z: .inf}}\n",
    "a: &x {p: 1}\nb:\n  <<: *x\n  p: 2\n  p: 3\n",
    "a: &x {p: 1}\nb:\n  <<: [*x, *x]\n",
    "a: &s [1]\nb:\n  <<: *s\n",
    "a: &s [{p: 1}]\nb:\n  <<: *s\n",
    "a: &v 5\nb:\n  <<: *v\n",
    "k: &k <<\nb:\n  *k : {p: 1}\n",
    "t:\n  <<: {a: 1}\n  <<: {a: 2}\n  a: 3\n",
    "- <<: {a: 1}\n  b: 2\n- <<: [{c: 3}]\n",
    "t: {<<: {a: 1}, b: 2}\n",
    "t:\n  <<: {a: 1}\n  b: *nope\n",
    "t:\n  <<: *nope\n",
    "m: &m {a: 1}\nt:\n  <<: *m\n  <<: *m\n",
    "m: &m\n  <<: {x: 1}\n  y: 2\nt:\n  <<: *m\n  z: 3\n",
    "m: &m {a: {b: 1}}\nt:\n  <<: *m\n  c: *m\n",
    "t:\n  <<: &i {a: 1}\nu: *i\n",
    "t:\n  <<: [&i {a: 1}, *i]\n",
    // Syntax errors.
    "a: [1, 2\nb: 3\n",
    "a:\tb\n",
    "a: b\t\n",
    "key:\n\tvalue\n",
    "a: 1\n  b: 2\n",
    "- a\nb: 1\n",
    "a: 'unterminated\n",
    "a: \"unterminated\n",
    "a: {b: 1\n",
    "a: [1, 2]]\n",
    "a: b: c\n",
    "a: &\n",
    "a: *\n",
    "a: !<>\n",
    "a: \"\\q\"\n",
    "%FOO\n---\na: 1\n",
    "--- a\nb: 1\n",
    "a: 1\n--- |\n  x\n...\nbad: [\n",
    "a:\n  - b\n  c: 1\n",
    "? a\n? a\n",
    "{a: 1, a: 2}\n",
    "[a, b]: [c\n",
    "a: >\n text\n  more\n less\n",
    "\ta: 1\n",
    "a: 1 # c\n#c\nb: 2 #c\n",
    "a:\n  b: one\n\ttwo\n",
    "- a\n\tb\n",
    "a:\n  b\n\tc\n",
    "a: x\n \ty\n",
    "a: 1\r\nb: {x: 1\r\n",
    "é: ü\nb: [ä, \"ö\nc: d\n",
];

#[test]
fn same_as_before_on_inline_cases() {
    check_all(
        CASES
            .iter()
            .enumerate()
            .map(|(i, c)| (format!("case {i}"), *c)),
        &Limits::default(),
    );
}

/// The one deliberate difference: the previous path located syntax errors from
/// a line and column counted over `\n` only, so with old Mac line breaks (a lone
/// `\r`) it pointed past the end of the text. The parser's byte offset is exact.
#[test]
fn lone_carriage_returns_are_located_exactly() {
    let text = "a: 1\rb: [x,\r  y\rc: d\r";
    let new = parse_documents(text, &Limits::default()).unwrap_err();
    let old = parse_documents_reference(text, &Limits::default()).unwrap_err();
    assert_eq!(new.message, old.message);
    assert_eq!(old.span.map(|s| s.start), Some(text.len()));
    let at = new.span.unwrap().start;
    assert_eq!(&text[at..at + 1], ":", "the misplaced `:` after `c`");
    assert_eq!(at, text.rfind(':').unwrap());
}

/// Alias bombs, deep nesting and large documents against small and default limits.
#[test]
fn same_as_before_at_the_limits() {
    // The previous parser recurses deeply in debug builds: give it room.
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(at_the_limits)
        .expect("spawn")
        .join()
        .expect("no difference");
}

fn at_the_limits() {
    let bomb = |width: usize, depth: usize| {
        let mut t = format!("a0: &a0 [{}]\n", vec!["x"; width].join(", "));
        for i in 1..depth {
            let refs = vec![format!("*a{}", i - 1); width].join(", ");
            t.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
        }
        t
    };
    let nested_flow = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
    let nested_block = |n: usize| {
        let mut t = String::new();
        for i in 0..n {
            t.push_str(&format!("{}k{i}:\n", "  ".repeat(i)));
        }
        t.push_str(&format!("{}v: 1\n", "  ".repeat(n)));
        t
    };
    let many_keys = |n: usize| (0..n).map(|i| format!("k{i}: {i}\n")).collect::<String>();
    let many_aliases = |anchors: usize, aliases: usize| {
        let mut t = String::new();
        for i in 0..anchors {
            t.push_str(&format!("a{i}: &a{i} v{i}\n"));
        }
        for i in 0..aliases {
            t.push_str(&format!("b{i}: *a{}\n", i % anchors));
        }
        t
    };
    let many_docs = |n: usize| "---\na: 1\n".repeat(n);
    let many_merges = |n: usize| {
        let mut t = String::from("m: &m {x: 1}\n");
        for i in 0..n {
            t.push_str(&format!("t{i}: {{<<: *m, y: {i}}}\n"));
        }
        t
    };
    let nested_anchors = |depth: usize, scalars: usize| {
        let mut t = String::from("a: ");
        for i in 0..depth {
            t.push_str(&format!("&n{i} ["));
        }
        t.push_str(&vec!["x"; scalars].join(", "));
        t.push_str(&"]".repeat(depth));
        t.push('\n');
        t
    };
    let flow_list = |item: &str, n: usize| format!("a: &a x\nb: [{}]\n", vec![item; n].join(", "));
    let many_anchors = |n: usize| {
        let items: Vec<String> = (0..n).map(|i| format!("&a{i} x")).collect();
        format!("a: [{}]\n", items.join(", "))
    };
    // The budget's fixed limits, at default limits only (large texts).
    let large = [
        ("nested anchors 20x60000", nested_anchors(20, 60_000)),
        ("nodes 250001", flow_list("x", 250_001)),
        ("aliases 50001", flow_list("*a", 50_001)),
        ("anchors 50001", many_anchors(50_001)),
        ("merges 10001", many_merges(10_001)),
    ];
    check_all(
        large.iter().map(|(n, t)| (n.to_string(), t.as_str())),
        &Limits::default(),
    );
    for (name, text) in &large {
        assert!(
            parse_documents(text, &Limits::default()).is_err(),
            "{name} is refused"
        );
    }
    let texts = vec![
        ("bomb 9x9".to_string(), bomb(9, 9)),
        ("bomb 10x10".to_string(), bomb(10, 10)),
        ("bomb 3x6".to_string(), bomb(3, 6)),
        ("flow 127".to_string(), nested_flow(127)),
        ("flow 128".to_string(), nested_flow(128)),
        ("flow 129".to_string(), nested_flow(129)),
        ("flow 300".to_string(), nested_flow(300)),
        ("block 127".to_string(), nested_block(127)),
        ("block 128".to_string(), nested_block(128)),
        ("block 200".to_string(), nested_block(200)),
        ("keys 3000".to_string(), many_keys(3000)),
        ("aliases 10x100".to_string(), many_aliases(10, 100)),
        ("aliases 10x101".to_string(), many_aliases(10, 101)),
        ("aliases 9x99".to_string(), many_aliases(9, 99)),
        ("aliases 1x100".to_string(), many_aliases(1, 100)),
        ("docs 1024".to_string(), many_docs(1024)),
        ("docs 1025".to_string(), many_docs(1025)),
        ("merges 50".to_string(), many_merges(50)),
    ];
    let named = || texts.iter().map(|(n, t)| (n.clone(), t.as_str()));
    check_all(named(), &Limits::default());
    for limits in [
        Limits {
            max_events: 40,
            ..Limits::default()
        },
        Limits {
            max_events: 1000,
            max_alias_replay: 50,
            max_depth: 5,
            ..Limits::default()
        },
        Limits {
            max_alias_replay: 0,
            ..Limits::default()
        },
        Limits {
            max_depth: 0,
            ..Limits::default()
        },
        Limits {
            max_depth: 400,
            ..Limits::default()
        },
    ] {
        check_all(named(), &limits);
        check_all(
            CASES
                .iter()
                .enumerate()
                .map(|(i, c)| (format!("case {i}"), *c)),
            &limits,
        );
    }
}

#[allow(dead_code, clippy::all)]
#[path = "../../benches/corpus/mod.rs"]
mod corpus;

#[test]
fn same_as_before_on_the_benchmark_corpus() {
    let cfg = corpus::Config {
        resources: 600,
        seed: 0x5EED_2026,
        ..corpus::Config::default()
    };
    let generated = corpus::generate(&cfg);
    let texts: Vec<(String, &str)> = generated
        .files
        .iter()
        .map(|f| (f.path.display().to_string(), f.text.as_str()))
        .collect();
    assert!(texts.len() > 20);
    check_all(texts, &Limits::default());
}

/// Random documents built from the constructs above (anchors, aliases, merges,
/// tags, every scalar style, flow and block collections), deterministic.
#[test]
fn same_as_before_on_generated_documents() {
    let mut rng = Rng(0x00C0_FFEE);
    let docs: Vec<String> = (0..3000).map(|_| random_document(&mut rng)).collect();
    check_all(
        docs.iter()
            .enumerate()
            .map(|(i, d)| (format!("generated {i}"), d.as_str())),
        &Limits::default(),
    );
    check_all(
        docs.iter()
            .enumerate()
            .map(|(i, d)| (format!("generated {i}"), d.as_str())),
        &Limits {
            max_events: 60,
            max_alias_replay: 12,
            max_depth: 4,
            ..Limits::default()
        },
    );
}

const SCALARS: &[&str] = &[
    "a",
    "b",
    "x",
    "yes",
    "No",
    "on",
    "y",
    "n",
    "true",
    "FALSE",
    "~",
    "null",
    "",
    "0644",
    "-0644",
    "09",
    "0x1F",
    "0o7",
    "0b11",
    "1_000",
    "12",
    "-3",
    "+4",
    "1.5",
    "1e3",
    ".5",
    "inf",
    "18446744073709551615",
    "9223372036854775808",
    "\"q\"",
    "'s'",
    "\"yes\"",
    "'0644'",
    "\"\"",
    "!!str 12",
    "!!int 7",
    "!!bool yes",
    "!!float 2",
    "!!null z",
    "!foo 5",
    "!foo ~",
    "! 5",
    "!!binary aGk=",
    "\"<<\"",
    "\"a b\"",
    "é",
    "\"\\u00e9\"",
    "k:v",
    "-x",
    "'it''s'",
];

/// Scalars that are refused (or refuse their mapping): rare, so most documents parse.
const BAD_SCALARS: &[&str] = &[
    ".inf",
    "-.inf",
    ".nan",
    "1e999",
    "!!int x",
    "<<",
    "!!merge <<",
];

const KEYS: &[&str] = &[
    "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "o", "p", "q", "r", "s", "t",
    "u", "v", "w", "image", "name", "spec",
];

/// Keys that collide with others (`1`, `01`, `0x1`; `a`, `"a"`, `!!str a`) or are unusual.
const ODD_KEYS: &[&str] = &[
    "1", "01", "\"1\"", "0x1", "true", "yes", "\"a\"", "~", "null", "", "1.5", "!!str a", "!foo a",
    "n", "\"<<\"", "'k'", "-1", "!!int 1",
];

fn scalar(rng: &mut Rng) -> &'static str {
    if rng.below(40) == 0 {
        rng.pick(BAD_SCALARS)
    } else {
        rng.pick(SCALARS)
    }
}

/// A key, now and then a merge key.
fn key(rng: &mut Rng) -> &'static str {
    match rng.below(12) {
        0 => "<<",
        1 if rng.below(4) == 0 => "!!merge <<",
        2 => rng.pick(ODD_KEYS),
        _ => rng.pick(KEYS),
    }
}

/// The value of a merge key: mostly mappings, aliases and lists of them.
fn merge_value(rng: &mut Rng, depth: usize, anchors: &mut Vec<String>, out: &mut String) {
    let maps: Vec<&String> = anchors.iter().filter(|a| a.ends_with('m')).collect();
    match rng.below(8) {
        0 | 1 if !maps.is_empty() => {
            let i = rng.below(maps.len());
            out.push_str(&format!("*{}", maps[i]));
        }
        2 if !anchors.is_empty() => {
            let i = rng.below(anchors.len());
            out.push_str(&format!("*{}", anchors[i]));
        }
        3 | 4 if depth < 4 => {
            out.push('[');
            for i in 0..rng.below(3) + 1 {
                if i > 0 {
                    out.push_str(", ");
                }
                merge_value(rng, depth + 1, anchors, out);
            }
            out.push(']');
        }
        5 if rng.below(3) == 0 => out.push_str(scalar(rng)),
        _ => mapping(rng, depth + 1, anchors, out),
    }
}

fn mapping(rng: &mut Rng, depth: usize, anchors: &mut Vec<String>, out: &mut String) {
    out.push('{');
    for i in 0..rng.below(4) {
        if i > 0 {
            out.push_str(", ");
        }
        let k = key(rng);
        out.push_str(k);
        out.push_str(": ");
        if k.ends_with("<<") && depth < 4 {
            merge_value(rng, depth + 1, anchors, out);
        } else {
            random_node(rng, depth + 1, anchors, out);
        }
    }
    out.push('}');
}

fn random_node(rng: &mut Rng, depth: usize, anchors: &mut Vec<String>, out: &mut String) {
    let roll = rng.below(10);
    let anchor = if rng.below(5) == 0 {
        // Anchors of mappings end in `m` (merge values alias them).
        let name = format!("n{}{}", anchors.len(), if roll >= 7 { "m" } else { "" });
        out.push_str(&format!("&{name} "));
        Some(name)
    } else {
        None
    };
    if roll < 2 && !anchors.is_empty() && anchor.is_none() {
        let i = rng.below(anchors.len());
        out.push_str(&format!("*{}", anchors[i]));
    } else if roll < 5 || depth > 3 {
        out.push_str(scalar(rng));
    } else if roll < 7 {
        out.push('[');
        for i in 0..rng.below(4) {
            if i > 0 {
                out.push_str(", ");
            }
            random_node(rng, depth + 1, anchors, out);
        }
        out.push(']');
    } else {
        mapping(rng, depth, anchors, out);
    }
    if let Some(name) = anchor {
        anchors.push(name);
    }
}

fn random_document(rng: &mut Rng) -> String {
    let mut anchors = Vec::new();
    let mut out = String::new();
    for _ in 0..rng.below(6) + 1 {
        let k = key(rng);
        out.push_str(k);
        out.push_str(": ");
        if rng.below(3) == 0 {
            // A block mapping value with a few entries.
            out.push('\n');
            for _ in 0..rng.below(3) + 1 {
                let k = key(rng);
                out.push_str("  ");
                out.push_str(k);
                out.push_str(": ");
                if k.ends_with("<<") {
                    merge_value(rng, 1, &mut anchors, &mut out);
                } else {
                    random_node(rng, 1, &mut anchors, &mut out);
                }
                out.push('\n');
            }
        } else if k.ends_with("<<") {
            merge_value(rng, 0, &mut anchors, &mut out);
            out.push('\n');
        } else {
            random_node(rng, 0, &mut anchors, &mut out);
            out.push('\n');
        }
    }
    if rng.below(8) == 0 {
        out.push_str(if rng.below(2) == 0 { "---\n" } else { "...\n" });
        out.push_str(&random_document(rng));
    }
    out
}
