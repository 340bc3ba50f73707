//! The output formats of `sandbox-lint check`, through the real binary: SARIF
//! against the official OASIS schema plus what GitHub code scanning needs, JUnit
//! XML structure, GitHub workflow commands, the documented JSON and the human
//! (miette) report.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

const SEEDS: &str = "testdata/seeds";
const COMPLETE_POD: &str = "testdata/seeds/complete-pod.yaml";
const COMPLIANT: &str = "testdata/compliant";
const COMPLIANT_POD: &str = "testdata/compliant/ok-runner-pod.yaml";

// ---------------------------------------------------------------------------
// Running the binary
// ---------------------------------------------------------------------------

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs `sandbox-lint check ARGS` in `dir` with `NO_COLOR` set, in the cluster
/// of `testdata/context` (`--context`), so that a compliant pod is clean (see
/// `tests/network.rs` for checks without context).
fn check_in(dir: &Path, args: &[&str]) -> Run {
    let context = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/context");
    let out = Command::new(env!("CARGO_BIN_EXE_sandbox-lint"))
        .arg("check")
        .arg("--context")
        .arg(&context)
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("run sandbox-lint");
    Run {
        code: out.status.code().expect("exit code"),
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `sandbox-lint check ARGS` from the crate root.
fn check(args: &[&str]) -> Run {
    check_in(Path::new(env!("CARGO_MANIFEST_DIR")), args)
}

fn json_of(run: &Run) -> Value {
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}\nstderr: {}", run.stdout, run.stderr))
}

/// The compliant pod with its image replaced by `image`.
fn pod_with_image(image: &str) -> String {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(COMPLIANT_POD))
        .expect("compliant pod");
    let old = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("image: "))
        .expect("compliant pod has an image line")
        .to_string();
    text.replacen(&old, image, 1)
}

/// A temp dir holding inputs that go wrong in different ways: a file with one
/// broken document between good ones, a non-UTF-8 file, and a file whose name
/// needs escaping everywhere.
fn troubled_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let broken = format!(
        "{}---\napiVersion: v1\nkind: Pod\nmetadata: {{name: broken\n  x: [\n---\n{}",
        pod_with_image("gcr.io/plue-prod/runner:1.4.2"),
        pod_with_image("gcr.io/plue-prod/runner:latest"),
    );
    std::fs::write(dir.path().join("broken.yaml"), broken).unwrap();
    std::fs::write(
        dir.path().join("latin1.yaml"),
        b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: caf\xe9\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("100% a:b,c.yaml"),
        pod_with_image("busybox:latest"),
    )
    .unwrap();
    std::fs::write(dir.path().join("values.yaml"), "replicaCount: 2\n").unwrap();
    dir
}

// ---------------------------------------------------------------------------
// SARIF
// ---------------------------------------------------------------------------

fn sarif_schema() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/schemas/sarif-2.1.0.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("vendored SARIF schema"))
        .expect("schema is JSON")
}

fn sarif_validator() -> jsonschema::Validator {
    jsonschema::draft4::options()
        .should_validate_formats(true)
        .build(&sarif_schema())
        .expect("the SARIF schema compiles")
}

/// Panics with every schema violation of `log`.
fn assert_valid_sarif(validator: &jsonschema::Validator, log: &Value) {
    let errors: Vec<String> = validator
        .iter_errors(log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "SARIF violates the 2.1.0 schema:\n{}\n{}",
        errors.join("\n"),
        serde_json::to_string_pretty(log).unwrap()
    );
}

fn results(log: &Value) -> &Vec<Value> {
    log["runs"][0]["results"].as_array().expect("results")
}

fn sarif_result<'a>(log: &'a Value, rule: &str, uri: &str) -> &'a Value {
    results(log)
        .iter()
        .find(|r| {
            r["ruleId"] == rule
                && r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == uri
        })
        .unwrap_or_else(|| panic!("no {rule} result for {uri}"))
}

/// The vendored file is the OASIS SARIF 2.1.0 schema (errata 01), and it rejects what it must.
#[test]
fn vendored_schema_is_the_oasis_one_and_has_teeth() {
    let schema = sarif_schema();
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-04/schema#");
    assert_eq!(
        schema["id"],
        "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
    );
    let validator = sarif_validator();
    let log = json_of(&check(&["-f", "sarif", SEEDS]));
    assert!(validator.is_valid(&log));
    for (pointer, bad) in [
        ("/version", Value::from("2.0.0")),
        ("/runs/0/results/0/level", Value::from("critical")),
        (
            "/runs/0/results/0/locations/0/physicalLocation/region/startColumn",
            Value::from(0),
        ),
    ] {
        let mut broken = log.clone();
        *broken.pointer_mut(pointer).expect(pointer) = bad;
        assert!(
            !validator.is_valid(&broken),
            "schema accepted a bad {pointer}"
        );
    }
}

/// SARIF for the seeds and for broken, unreadable and oddly named inputs validates against the schema.
#[test]
fn sarif_validates_against_the_oasis_schema() {
    let validator = sarif_validator();
    let seeds = check(&["-f", "sarif", SEEDS, COMPLIANT]);
    assert_eq!(seeds.code, 1, "{}", seeds.stderr);
    assert_valid_sarif(&validator, &json_of(&seeds));

    let dir = troubled_dir();
    let troubled = check_in(dir.path(), &["-f", "sarif", ".", "missing.yaml"]);
    assert_eq!(troubled.code, 2, "{}", troubled.stderr);
    let log = json_of(&troubled);
    assert_valid_sarif(&validator, &log);
    let rules: BTreeSet<&str> = results(&log)
        .iter()
        .map(|r| r["ruleId"].as_str().unwrap())
        .collect();
    for code in ["SL1019", "SL1020", "SL9001", "SL9002", "SL9005"] {
        assert!(rules.contains(code), "{code} missing from {rules:?}");
    }
}

/// Every result carries what GitHub code scanning needs: ruleId, a matching ruleIndex, level, message, relative URI and a region.
#[test]
fn sarif_results_have_the_code_scanning_essentials() {
    let dir = troubled_dir();
    for log in [
        json_of(&check(&["-f", "sarif", SEEDS])),
        json_of(&check_in(dir.path(), &["-f", "sarif", ".", "missing.yaml"])),
    ] {
        let run = &log["runs"][0];
        assert_eq!(log["version"], "2.1.0");
        assert_eq!(run["tool"]["driver"]["name"], "sandbox-lint");
        let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
        assert!(!results(&log).is_empty());
        for r in results(&log) {
            let id = r["ruleId"].as_str().expect("ruleId");
            let index = r["ruleIndex"].as_u64().expect("ruleIndex") as usize;
            assert_eq!(rules[index]["id"], id, "ruleIndex of {id} points elsewhere");
            assert!(
                ["error", "warning", "note"].contains(&r["level"].as_str().expect("level")),
                "{r}"
            );
            assert!(
                !r["message"]["text"]
                    .as_str()
                    .expect("message.text")
                    .is_empty()
            );
            let physical = &r["locations"][0]["physicalLocation"];
            let uri = physical["artifactLocation"]["uri"].as_str().expect("uri");
            assert!(
                !uri.is_empty() && !uri.starts_with('/') && !uri.contains("://"),
                "URI is not relative: {uri}"
            );
            assert!(!uri.starts_with("./"), "URI keeps a ./ prefix: {uri}");
            let region = &physical["region"];
            assert!(
                region["startLine"].as_u64().expect("region.startLine") >= 1,
                "{r}"
            );
            assert!(
                region["startColumn"].as_u64().expect("region.startColumn") >= 1,
                "{r}"
            );
        }
    }
}

/// The `:latest` image of the seed pod is SL1019 at 45:12-45:42 with a relative URI.
#[test]
fn sarif_region_matches_the_finding() {
    let log = json_of(&check(&["-f", "sarif", SEEDS]));
    let r = sarif_result(&log, "SL1019", COMPLETE_POD);
    assert_eq!(r["level"], "error");
    assert!(
        r["message"]["text"]
            .as_str()
            .unwrap()
            .contains("gcr.io/plue-prod/runner:latest")
    );
    let region = &r["locations"][0]["physicalLocation"]["region"];
    assert_eq!(region["startLine"], 45);
    assert_eq!(region["startColumn"], 12);
    assert_eq!(region["endLine"], 45);
    assert_eq!(region["endColumn"], 42, "end column is exclusive");
    assert_eq!(log["runs"][0]["columnKind"], "unicodeCodePoints");
}

/// `tool.driver.rules` lists every rule, in `rules::ALL` order, with its level.
#[test]
fn sarif_driver_lists_every_rule() {
    let log = json_of(&check(&["-f", "sarif", COMPLIANT]));
    let rules = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let expected: Vec<&str> = sandbox_lint::rules::ALL
        .iter()
        .map(|r| r.meta.code)
        .collect();
    assert_eq!(ids, expected);
    for (r, def) in rules.iter().zip(sandbox_lint::rules::ALL) {
        assert_eq!(r["name"], def.meta.name);
        assert_eq!(r["shortDescription"]["text"], def.meta.summary());
        assert!(r["helpUri"].as_str().unwrap().starts_with("https://"));
    }
    assert!(results(&log).is_empty(), "compliant input has results");
}

/// Columns count Unicode code points, not bytes, in SARIF and in the JSON and GitHub formats alike.
#[test]
fn columns_count_code_points() {
    let dir = tempfile::tempdir().unwrap();
    let prefix = "  - {name: \"räksmörgås-λ\", image: ";
    let text = format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: unicode\nspec:\n  containers:\n{prefix}\"busybox:latest\"}}\n"
    );
    let line = 7;
    let column = prefix.chars().count() + 1;
    assert_ne!(column, prefix.len() + 1, "the test needs non-ASCII text");
    std::fs::write(dir.path().join("pod.yaml"), text).unwrap();

    let log = json_of(&check_in(dir.path(), &["-f", "sarif", "pod.yaml"]));
    let region =
        &sarif_result(&log, "SL1019", "pod.yaml")["locations"][0]["physicalLocation"]["region"];
    assert_eq!(region["startLine"], line);
    assert_eq!(region["startColumn"], column);
    assert_eq!(region["endColumn"], column + "\"busybox:latest\"".len());

    let json = json_of(&check_in(dir.path(), &["-f", "json", "pod.yaml"]));
    let finding = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "SL1019")
        .expect("SL1019 in JSON");
    assert_eq!(finding["line"], line);
    assert_eq!(finding["column"], column);

    let github = check_in(dir.path(), &["-f", "github", "pod.yaml"]).stdout;
    assert!(
        github.contains(&format!("line={line},col={column},")),
        "{github}"
    );
}

/// A finding about a whole file (unreadable, not Kubernetes) still has a region: 1:1, or the bad byte of a non-UTF-8 file.
#[test]
fn sarif_file_level_findings_have_a_region() {
    let dir = troubled_dir();
    let log = json_of(&check_in(dir.path(), &["-f", "sarif", ".", "missing.yaml"]));
    for (rule, uri, line, column) in [
        ("SL9001", "latin1.yaml", 4, 12),
        ("SL9001", "missing.yaml", 1, 1),
        ("SL9005", "values.yaml", 1, 1),
    ] {
        let region = &sarif_result(&log, rule, uri)["locations"][0]["physicalLocation"]["region"];
        assert_eq!(region["startLine"], line, "{rule} {uri}");
        assert_eq!(region["startColumn"], column, "{rule} {uri}");
    }
    let odd = sarif_result(&log, "SL1019", "100%25%20a%3Ab%2Cc.yaml");
    assert_eq!(odd["level"], "error");
}

/// `executionSuccessful` is false exactly when some input could not be read or parsed.
#[test]
fn sarif_invocation_reports_input_errors() {
    let ok = json_of(&check(&["-f", "sarif", SEEDS]));
    assert_eq!(ok["runs"][0]["invocations"][0]["executionSuccessful"], true);
    let dir = troubled_dir();
    let bad = json_of(&check_in(dir.path(), &["-f", "sarif", "broken.yaml"]));
    assert_eq!(
        bad["runs"][0]["invocations"][0]["executionSuccessful"],
        false
    );
}

// ---------------------------------------------------------------------------
// JUnit XML
// ---------------------------------------------------------------------------

#[derive(Debug, Default)]
struct Element {
    name: String,
    attrs: BTreeMap<String, String>,
    children: Vec<Element>,
    text: String,
}

impl Element {
    fn attr(&self, name: &str) -> &str {
        self.attrs
            .get(name)
            .unwrap_or_else(|| panic!("<{}> has no {name}", self.name))
    }
    fn count_attr(&self, name: &str) -> usize {
        self.attr(name).parse().expect("a count")
    }
    fn kids<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }
}

/// XML 1.0's Char production.
fn legal_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
}

/// Checks that every character and every character reference of `xml` is legal XML 1.0.
fn assert_legal_chars(xml: &str) {
    if let Some(c) = xml.chars().find(|&c| !legal_xml_char(c)) {
        panic!("illegal character {c:?} in XML:\n{xml}");
    }
    for chunk in xml.split("&#").skip(1) {
        let reference = chunk.split(';').next().unwrap();
        let code = match reference.strip_prefix('x') {
            Some(hex) => u32::from_str_radix(hex, 16),
            None => reference.parse(),
        }
        .unwrap_or_else(|_| panic!("bad character reference &#{reference};"));
        let c = char::from_u32(code).expect("a character");
        assert!(
            legal_xml_char(c),
            "character reference to illegal {c:?} in XML:\n{xml}"
        );
    }
}

/// Parses well-formed XML into a tree (quick-xml checks nesting and end names).
fn parse_xml(xml: &str) -> Element {
    use quick_xml::events::Event;
    assert_legal_chars(xml);
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut stack: Vec<Element> = vec![Element::default()];
    let open = |e: &quick_xml::events::BytesStart<'_>| {
        let mut el = Element {
            name: e.name().as_ref().to_string(),
            ..Element::default()
        };
        for a in e.attributes() {
            let a = a.expect("well-formed attribute");
            let value = a
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .expect("attribute value unescapes");
            let key = a.key.as_ref().to_string();
            assert!(el.attrs.insert(key, value.into_owned()).is_none());
        }
        el
    };
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => stack.push(open(&e)),
            Ok(Event::Empty(e)) => {
                let el = open(&e);
                stack.last_mut().unwrap().children.push(el);
            }
            Ok(Event::End(_)) => {
                let el = stack.pop().unwrap();
                stack.last_mut().expect("balanced").children.push(el);
            }
            Ok(Event::Text(t)) => stack.last_mut().unwrap().text.push_str(&t.xml10_content()),
            Ok(Event::GeneralRef(r)) => {
                let c = match r.resolve_char_ref().expect("valid character reference") {
                    Some(c) => c.to_string(),
                    None => quick_xml::escape::resolve_predefined_entity(&r.xml10_content())
                        .expect("predefined entity")
                        .to_string(),
                };
                stack.last_mut().unwrap().text.push_str(&c);
            }
            Ok(Event::Decl(_)) => {}
            Ok(Event::Eof) => break,
            Ok(other) => panic!("unexpected XML event {other:?}"),
            Err(e) => panic!("malformed XML at {}: {e}\n{xml}", reader.error_position()),
        }
    }
    assert_eq!(stack.len(), 1, "unclosed elements");
    let mut doc = stack.pop().unwrap();
    assert_eq!(doc.children.len(), 1, "exactly one root element");
    doc.children.pop().unwrap()
}

fn junit(dir: &Path, args: &[&str]) -> Element {
    let mut all = vec!["-f", "junit"];
    all.extend_from_slice(args);
    let run = check_in(dir, &all);
    assert!(
        run.stdout
            .starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>")
    );
    parse_xml(&run.stdout)
}

fn suite<'a>(root: &'a Element, file: &str) -> &'a Element {
    root.kids("testsuite")
        .find(|s| s.attr("name") == file)
        .unwrap_or_else(|| panic!("no testsuite for {file}"))
}

/// Checks the counts of every suite and of the root against the elements.
fn assert_counts_consistent(root: &Element) {
    assert_eq!(root.name, "testsuites");
    let (mut tests, mut failures) = (0, 0);
    for s in root.kids("testsuite") {
        let cases: Vec<&Element> = s.kids("testcase").collect();
        let failing = cases
            .iter()
            .filter(|c| c.kids("failure").count() > 0)
            .count();
        assert_eq!(
            s.count_attr("tests"),
            cases.len(),
            "tests of {}",
            s.attr("name")
        );
        assert_eq!(
            s.count_attr("failures"),
            failing,
            "failures of {}",
            s.attr("name")
        );
        assert_eq!(s.count_attr("errors"), 0);
        assert!(s.kids("testcase").all(|c| c.kids("failure").count() <= 1));
        assert!(s.children.iter().all(|c| c.name == "testcase"));
        tests += cases.len();
        failures += failing;
    }
    assert_eq!(root.count_attr("tests"), tests);
    assert_eq!(root.count_attr("failures"), failures);
}

/// JUnit output is well-formed XML with consistent counts, for good, bad and hostile input.
#[test]
fn junit_is_well_formed_with_consistent_counts() {
    let root = junit(
        Path::new(env!("CARGO_MANIFEST_DIR")),
        &[SEEDS, COMPLIANT, "missing.yaml"],
    );
    assert_counts_consistent(&root);
    assert!(root.count_attr("failures") > 0);

    let dir = troubled_dir();
    // Keys that bring markup and control characters into messages and names.
    std::fs::write(
        dir.path().join("hostile.yaml"),
        pod_with_image("busybox:latest").replace(
            "  - name: runner\n",
            "  - name: runner\n    \"<b>&amp;\\\"x\\x07\\x1b[31m\": 1\n",
        ),
    )
    .unwrap();
    let root = junit(dir.path(), &["."]);
    assert_counts_consistent(&root);
    let hostile = suite(&root, "./hostile.yaml");
    let failure = hostile
        .kids("testcase")
        .flat_map(|c| c.kids("failure"))
        .find(|f| f.attr("type").starts_with("SL9004"))
        .expect("SL9004 failure for the hostile key");
    assert!(
        failure.attr("message").contains("<b>&amp;\"x"),
        "{failure:?}"
    );
    assert!(failure.text.contains("<b>&amp;\"x"), "{failure:?}");
}

/// The SL1019 finding is one failing test case carrying its position and message.
#[test]
fn junit_sl1019_is_one_failing_testcase() {
    let root = junit(Path::new(env!("CARGO_MANIFEST_DIR")), &[SEEDS]);
    let s = suite(&root, COMPLETE_POD);
    let failing: Vec<&Element> = s
        .kids("testcase")
        .filter(|c| c.kids("failure").count() > 0)
        .collect();
    assert_eq!(failing.len(), 1, "{s:?}");
    let case = failing[0];
    assert_eq!(case.attr("classname"), COMPLETE_POD);
    assert!(case.attr("name").contains("SL1019"), "{case:?}");
    assert!(case.attr("name").contains("workflow-run-12345"), "{case:?}");
    let failure = case.kids("failure").next().unwrap();
    assert_eq!(failure.attr("type"), "SL1019 image-tag");
    assert!(
        failure
            .attr("message")
            .starts_with("testdata/seeds/complete-pod.yaml:45:12: error: "),
        "{failure:?}"
    );
    assert!(failure.text.contains(":45:12:"), "{failure:?}");
}

/// A clean file is one suite with a passing test case and no failures.
#[test]
fn junit_clean_file_is_a_passing_testcase() {
    let root = junit(Path::new(env!("CARGO_MANIFEST_DIR")), &[COMPLIANT]);
    let s = suite(&root, COMPLIANT_POD);
    assert_eq!(s.count_attr("failures"), 0);
    let cases: Vec<&Element> = s.kids("testcase").collect();
    assert_eq!(cases.len(), 1);
    assert_eq!(cases[0].kids("failure").count(), 0);
    assert_eq!(root.count_attr("failures"), 0);
}

/// Notes (info findings) are not failures.
#[test]
fn junit_notes_are_not_failures() {
    let dir = troubled_dir();
    let root = junit(dir.path(), &["values.yaml"]);
    let s = suite(&root, "values.yaml");
    assert_eq!(s.count_attr("failures"), 0);
    assert!(s.count_attr("tests") >= 1);
    assert!(s.kids("testcase").all(|c| c.kids("failure").count() == 0));
}

/// In a file with a failing and a clean object, the clean object still gets a passing test case (README: "per object one passing test case").
#[test]
fn junit_clean_object_next_to_a_failing_one_passes() {
    let dir = tempfile::tempdir().unwrap();
    let clean = pod_with_image("gcr.io/plue-prod/runner:1.4.2@sha256:4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945")
        .replace("name: runner\n  namespace", "name: clean-pod\n  namespace");
    let bad = pod_with_image("busybox:latest")
        .replace("name: runner\n  namespace", "name: bad-pod\n  namespace");
    assert!(clean.contains("clean-pod") && bad.contains("bad-pod"));
    std::fs::write(dir.path().join("two.yaml"), format!("{bad}---\n{clean}")).unwrap();
    let root = junit(dir.path(), &["two.yaml"]);
    assert_counts_consistent(&root);
    let s = suite(&root, "two.yaml");
    assert!(
        s.kids("testcase")
            .any(|c| c.attr("name").contains("bad-pod") && c.kids("failure").count() == 1),
        "{s:#?}"
    );
    assert!(
        s.kids("testcase")
            .any(|c| c.attr("name").contains("clean-pod") && c.kids("failure").count() == 0),
        "no passing test case for the clean pod: {s:#?}"
    );
}

// ---------------------------------------------------------------------------
// GitHub workflow commands
// ---------------------------------------------------------------------------

struct Annotation {
    level: String,
    props: BTreeMap<String, String>,
    message: String,
}

/// Parses `::level k=v,k=v::message` lines; every line but the last (the summary) must be one.
fn annotations(stdout: &str) -> Vec<Annotation> {
    let lines: Vec<&str> = stdout.lines().collect();
    let (summary, commands) = lines.split_last().expect("output");
    assert!(
        summary.ends_with(')') && summary.contains(" in "),
        "{summary}"
    );
    commands
        .iter()
        .map(|line| {
            let rest = line
                .strip_prefix("::")
                .unwrap_or_else(|| panic!("not a workflow command: {line}"));
            let (head, message) = rest.split_once("::").expect("command has a message");
            let (level, props) = head.split_once(' ').expect("command has properties");
            let props = props
                .split(',')
                .map(|p| {
                    let (k, v) = p.split_once('=').expect("property is k=v");
                    (k.to_string(), v.to_string())
                })
                .collect();
            Annotation {
                level: level.to_string(),
                props,
                message: message.to_string(),
            }
        })
        .collect()
}

/// The SL1019 finding is one exact `::error` line at 45:12.
#[test]
fn github_annotation_for_sl1019_is_exact() {
    let run = check(&["-f", "github", SEEDS]);
    assert_eq!(run.code, 1);
    let line = run
        .stdout
        .lines()
        .find(|l| l.contains("title=SL1019 image-tag::"))
        .expect("SL1019 annotation");
    assert!(
        line.starts_with("::error file=testdata/seeds/complete-pod.yaml,line=45,col=12,"),
        "{line}"
    );
    assert_eq!(
        line,
        "::error file=testdata/seeds/complete-pod.yaml,line=45,col=12,endColumn=42,endLine=45,\
         title=SL1019 image-tag::container \"runner\" uses the mutable tag `latest` \
         (gcr.io/plue-prod/runner:latest)"
    );
    let all = annotations(&run.stdout);
    let json = json_of(&check(&["-f", "json", SEEDS]));
    assert_eq!(all.len(), json["findings"].as_array().unwrap().len());
}

/// `%`, line breaks, `:` and `,` are escaped as the runner expects (properties escape `:` and `,` too).
#[test]
fn github_escapes_special_characters() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("100%:a,b.yaml"),
        pod_with_image("gcr.io/plue-prod/runner:1.4.2@sha256:4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945")
            .replace(
                "  - name: runner\n",
                "  - name: runner\n    \"we%ird:key,\\nx\\ry\": 1\n",
            ),
    )
    .unwrap();
    let run = check_in(dir.path(), &["-f", "github", "100%:a,b.yaml"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    let all = annotations(&run.stdout);
    let a = all
        .iter()
        .find(|a| a.props["title"] == "SL9004 unknown-field")
        .expect("SL9004 annotation");
    assert_eq!(a.level, "error");
    assert_eq!(a.props["file"], "100%25%3Aa%2Cb.yaml");
    assert!(
        a.message.contains("we%25ird:key,%0Ax%0Dy"),
        "message not escaped: {}",
        a.message
    );
    assert!(!a.message.contains('\n') && !a.message.contains('\r'));
    let text = std::fs::read_to_string(dir.path().join("100%:a,b.yaml")).unwrap();
    let line = text.lines().position(|l| l.contains("we%ird")).unwrap() + 1;
    assert_eq!(a.props["line"], line.to_string());
}

/// Severities map to `::error`, `::warning` and `::notice`; a help text follows the message after an escaped newline.
#[test]
fn github_levels_follow_severity() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("warn.yaml"),
        pod_with_image("gcr.io/plue-prod/runner:1.4.2"),
    )
    .unwrap();
    std::fs::write(dir.path().join("values.yaml"), "replicaCount: 2\n").unwrap();
    let run = check_in(dir.path(), &["-f", "github", "."]);
    let all = annotations(&run.stdout);
    let level_of = |title: &str| {
        all.iter()
            .find(|a| a.props["title"].starts_with(title))
            .unwrap_or_else(|| panic!("no {title} in\n{}", run.stdout))
            .level
            .clone()
    };
    assert_eq!(level_of("SL1020"), "warning");
    assert_eq!(level_of("SL9005"), "notice");

    let seeds = annotations(&check(&["-f", "github", SEEDS]).stdout);
    let json = json_of(&check(&["-f", "json", SEEDS]));
    for (a, f) in seeds.iter().zip(json["findings"].as_array().unwrap()) {
        let mut expected = github_data(f["message"].as_str().unwrap());
        if let Some(help) = f["help"].as_str() {
            expected.push_str("%0A");
            expected.push_str(&github_data(help));
        }
        assert_eq!(a.message, expected);
    }
}

fn github_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

// ---------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------

fn keys(v: &Value) -> BTreeSet<&str> {
    v.as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect()
}

/// The JSON report has the documented top-level shape, summary and finding fields.
#[test]
fn json_has_the_documented_shape() {
    let run = check(&["-f", "json", SEEDS]);
    assert_eq!(run.code, 1);
    let doc = json_of(&run);
    assert_eq!(
        keys(&doc),
        BTreeSet::from(["version", "tool", "policies", "summary", "findings"])
    );
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["tool"]["name"], "sandbox-lint");
    assert_eq!(
        doc["policies"],
        serde_json::json!([{"name": "gvisor-sandbox", "mode": "enforce"}])
    );
    assert_eq!(doc["tool"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(
        keys(&doc["summary"]),
        BTreeSet::from([
            "files",
            "documents",
            "resources",
            "findings",
            "error",
            "warning",
            "info",
            "suppressed"
        ])
    );
    let documented = BTreeSet::from([
        "code",
        "name",
        "severity",
        "message",
        "file",
        "line",
        "column",
        "endLine",
        "endColumn",
        "pointer",
        "object",
        "docs",
    ]);
    let findings = doc["findings"].as_array().unwrap();
    assert!(!findings.is_empty());
    for f in findings {
        let k = keys(f);
        assert!(documented.is_subset(&k), "missing fields in {f}");
        assert!(
            k.difference(&documented)
                .all(|extra| *extra == "help" || *extra == "related"),
            "undocumented fields in {f}"
        );
        assert!(["error", "warning", "info"].contains(&f["severity"].as_str().unwrap()));
        assert!(f["line"].as_u64().unwrap() >= 1 && f["column"].as_u64().unwrap() >= 1);
        assert!(f["pointer"].is_string());
        assert!(f["docs"].as_str().unwrap().ends_with(&format!(
            "#{}",
            f["code"].as_str().unwrap().to_ascii_lowercase()
        )));
        if !f["object"].is_null() {
            assert_eq!(
                keys(&f["object"]),
                BTreeSet::from(["apiVersion", "kind", "namespace", "name"])
            );
        }
    }
}

/// The summary counts agree with the findings and the inputs.
#[test]
fn json_summary_counts_match() {
    let doc = json_of(&check(&["-f", "json", SEEDS]));
    let findings = doc["findings"].as_array().unwrap();
    let summary = &doc["summary"];
    assert_eq!(summary["findings"], findings.len());
    for severity in ["error", "warning", "info"] {
        let n = findings
            .iter()
            .filter(|f| f["severity"] == severity)
            .count();
        assert_eq!(summary[severity], n, "{severity}");
    }
    let (files, manifests) = seed_counts();
    assert_eq!(summary["files"], files);
    assert_eq!(summary["documents"], files, "one document per seed");
    assert_eq!(summary["resources"], manifests, "one resource per manifest");

    let clean = json_of(&check(&["-f", "json", COMPLIANT]));
    assert_eq!(clean["summary"]["findings"], 0);
    assert_eq!(clean["findings"], Value::Array(vec![]));
}

/// The SL1019 finding of the seed pod has its documented concrete values.
#[test]
fn json_sl1019_finding_has_concrete_values() {
    let doc = json_of(&check(&["-f", "json", SEEDS]));
    let f = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "SL1019")
        .expect("SL1019");
    assert_eq!(f["name"], "image-tag");
    assert_eq!(f["severity"], "error");
    assert_eq!(f["file"], COMPLETE_POD);
    assert_eq!(f["line"], 45);
    assert_eq!(f["column"], 12);
    assert_eq!(f["endLine"], 45);
    assert_eq!(f["endColumn"], 42);
    assert_eq!(f["pointer"], "/spec/containers/0/image");
    assert_eq!(
        f["object"],
        serde_json::json!({"apiVersion": "v1", "kind": "Pod", "namespace": "workflows", "name": "workflow-run-12345"})
    );
    assert!(f["message"].as_str().unwrap().contains("latest"));
    assert!(
        f["docs"]
            .as_str()
            .unwrap()
            .ends_with("docs/rules.md#sl1019")
    );
}

/// A finding about a file rather than an object has `object: null`, an empty pointer, and the position of the first byte that is not UTF-8.
#[test]
fn json_file_findings_have_null_object() {
    let dir = troubled_dir();
    let doc = json_of(&check_in(dir.path(), &["-f", "json", "latin1.yaml"]));
    let f = &doc["findings"][0];
    assert_eq!(f["code"], "SL9001");
    assert_eq!(f["file"], "latin1.yaml");
    assert!(f["object"].is_null());
    assert_eq!(f["pointer"], "");
    assert_eq!(
        (f["line"].as_u64(), f["column"].as_u64()),
        (Some(4), Some(12))
    );
}

// ---------------------------------------------------------------------------
// Human
// ---------------------------------------------------------------------------

/// The summary line printed after human and GitHub output, computed from the JSON report.
fn expected_summary(doc: &Value) -> String {
    let s = &doc["summary"];
    let n = |key: &str| s[key].as_u64().unwrap();
    let word = |n: u64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let policies: Vec<String> = doc["policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            format!(
                "{} ({})",
                p["name"].as_str().unwrap(),
                p["mode"].as_str().unwrap()
            )
        })
        .collect();
    format!(
        "{}, {}, {} in {} ({}); policy {}",
        word(n("error"), "error", "errors"),
        word(n("warning"), "warning", "warnings"),
        word(n("info"), "note", "notes"),
        word(n("files"), "file", "files"),
        word(n("resources"), "resource", "resources"),
        policies.join(", "),
    )
}

/// Without colour, human output has no ANSI escapes and shows code, `file:line:col` and the summary line.
#[test]
fn human_output_has_locations_codes_and_summary() {
    let run = check(&[SEEDS]);
    assert_eq!(run.code, 1);
    assert!(
        !run.stdout.contains('\u{1b}'),
        "ANSI escape in:\n{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("[testdata/seeds/complete-pod.yaml:45:12]")
    );
    assert!(run.stdout.contains("SL1019(image-tag)"));
    assert!(run.stdout.contains("gcr.io/plue-prod/runner:latest"));
    let last = run.stdout.lines().last().unwrap();
    let doc = json_of(&check(&["-f", "json", SEEDS]));
    assert_eq!(last, expected_summary(&doc));
    let (files, manifests) = seed_counts();
    assert!(
        last.contains(&format!("in {files} files ({manifests} resources);")),
        "summary line: {last}"
    );
    let headers = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("SL") && l.ends_with(')') && l.contains('('))
        .count();
    assert_eq!(
        headers,
        doc["summary"]["findings"].as_u64().unwrap() as usize,
        "one diagnostic per finding"
    );
}

/// Human output is plain when stdout is a pipe, even without NO_COLOR.
#[test]
fn human_output_to_a_pipe_is_not_coloured() {
    let out = Command::new(env!("CARGO_BIN_EXE_sandbox-lint"))
        .args(["check", SEEDS])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("SL1019(image-tag)"));
    assert!(!stdout.contains('\u{1b}'), "ANSI escape in:\n{stdout}");
}

/// Control characters from a manifest (raw, or escaped in a quoted key) never reach the terminal.
#[test]
fn human_output_does_not_pass_control_characters_through() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("raw.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: \"a\u{1b}[31mred\u{9b}2J\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("escaped.yaml"),
        pod_with_image("busybox:latest").replace(
            "  - name: runner\n",
            "  - name: runner\n    \"k\\x1b[2J\\x07\": 1\n",
        ),
    )
    .unwrap();
    let run = check_in(dir.path(), &["."]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    for bad in ['\u{1b}', '\u{7}', '\u{9b}'] {
        assert!(!run.stdout.contains(bad), "{bad:?} in:\n{}", run.stdout);
    }
    assert!(run.stdout.contains("SL9002(yaml-syntax)"), "{}", run.stdout);
    assert!(
        run.stdout.contains("SL9004(unknown-field)"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("[./raw.yaml:4:"), "{}", run.stdout);
}

/// An input without source text (unreadable) is shown as `file:line:col:` before the diagnostic.
#[test]
fn human_output_names_unreadable_files() {
    let dir = troubled_dir();
    let run = check_in(dir.path(), &["latin1.yaml"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stdout
            .starts_with("latin1.yaml:4:12: SL9001(unreadable-input)"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("not UTF-8"));
    assert!(run.stdout.ends_with(
        "1 error, 0 warnings, 0 notes in 1 file (0 resources); policy gvisor-sandbox (enforce)\n"
    ));
}

/// The seed files (manifests with one object each, and the runner Dockerfile),
/// and how many of them are manifests.
fn seed_counts() -> (usize, usize) {
    fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join(SEEDS),
        &mut files,
    );
    let manifests = files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .count();
    assert!(
        manifests < files.len(),
        "the seeds include the runner Dockerfile"
    );
    (files.len(), manifests)
}

/// A pod whose image a Dockerfile builds: SARIF links the Dockerfile's findings
/// as related locations (valid against the schema, each with its own region),
/// and the Dockerfile's own results point into it with their regions.
#[test]
fn sarif_links_dockerfile_findings_from_the_pod() {
    let run = check(&[
        "-f",
        "sarif",
        "-p",
        "testdata/rules/SL4017/policy.yaml",
        "testdata/rules/SL4017/findings.yaml",
        "testdata/rules/SL4017/runner.Dockerfile",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let log: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_valid_sarif(&sarif_validator(), &log);
    let pod = sarif_result(&log, "SL4017", "testdata/rules/SL4017/findings.yaml");
    let related = pod["relatedLocations"]
        .as_array()
        .expect("related locations");
    let places: Vec<(String, u64, String)> = related
        .iter()
        .map(|r| {
            let p = &r["physicalLocation"];
            (
                p["artifactLocation"]["uri"].as_str().unwrap().to_string(),
                p["region"]["startLine"].as_u64().unwrap(),
                r["message"]["text"].as_str().unwrap()[..6].to_string(),
            )
        })
        .collect();
    let dockerfile = "testdata/rules/SL4017/runner.Dockerfile".to_string();
    assert_eq!(
        places,
        [
            (dockerfile.clone(), 6, "SL4015".to_string()),
            (dockerfile.clone(), 9, "SL4002".to_string())
        ]
    );
    // The same two findings are results of their own, at the same places.
    let own = sarif_result(&log, "SL4002", &dockerfile);
    assert_eq!(
        own["locations"][0]["physicalLocation"]["region"],
        related[1]["physicalLocation"]["region"]
    );
    // Findings without an object are told apart by file and message.
    let prints: BTreeSet<&str> = results(&log)
        .iter()
        .map(|r| r["partialFingerprints"]["sandboxLint/v1"].as_str().unwrap())
        .collect();
    assert_eq!(prints.len(), results(&log).len());
}
