//! The command-line contract of `sandbox-lint`, through the real binary: exit
//! codes, `--fail-on`, inputs (stdin, directories, .gitignore, JSON), limits
//! (file size, alias bombs), `--output`, and the `rules` and `explain` commands.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const SEEDS: &str = "testdata/seeds";
const COMPLIANT: &str = "testdata/compliant";
const COMPLIANT_POD: &str = "testdata/compliant/ok-runner-pod.yaml";
const PINNED: &str = "gcr.io/plue-prod/runner:1.4.2@sha256:4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945";

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs `sandbox-lint ARGS` in `dir`, feeding `stdin`, with `NO_COLOR` set.
/// `check` runs in the cluster of `testdata/context` (`--context`), as the
/// fixtures do: the objects a pod refers to (its NetworkPolicy, ServiceAccount,
/// RuntimeClass) are there, so a compliant pod is clean. `tests/network.rs`
/// covers checks without context.
fn run_full(dir: &Path, args: &[&str], stdin: Option<&str>) -> Run {
    let context = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/context");
    let mut args: Vec<&str> = args.to_vec();
    if args.first() == Some(&"check") && !args.contains(&"--help") {
        args.splice(1..1, ["--context", context.to_str().unwrap()]);
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_sandbox-lint"))
        .args(&args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run sandbox-lint");
    if let Some(text) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        pipe.write_all(text.as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().expect("exit code"),
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn run_in(dir: &Path, args: &[&str]) -> Run {
    run_full(dir, args, None)
}

/// Runs `sandbox-lint ARGS` from the crate root.
fn run(args: &[&str]) -> Run {
    run_in(Path::new(env!("CARGO_MANIFEST_DIR")), args)
}

fn json_of(run: &Run) -> Value {
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}\nstderr: {}", run.stdout, run.stderr))
}

fn findings(doc: &Value) -> &Vec<Value> {
    doc["findings"].as_array().expect("findings")
}

fn codes(doc: &Value) -> BTreeSet<String> {
    findings(doc)
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

fn files(doc: &Value) -> BTreeSet<String> {
    findings(doc)
        .iter()
        .map(|f| f["file"].as_str().unwrap().to_string())
        .collect()
}

/// The compliant pod with its image replaced by `image`.
fn pod_with_image(image: &str) -> String {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(COMPLIANT_POD))
        .expect("compliant pod");
    assert!(text.contains(PINNED), "the compliant pod's image changed");
    text.replacen(PINNED, image, 1)
}

fn write(dir: &Path, name: &str, text: impl AsRef<[u8]>) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

// ---------------------------------------------------------------------------
// Exit codes
// ---------------------------------------------------------------------------

/// A compliant directory exits 0.
#[test]
fn compliant_input_exits_0() {
    let r = run(&["check", COMPLIANT]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("0 errors, 0 warnings"), "{}", r.stdout);
}

/// The seeds have error findings: exit 1.
#[test]
fn findings_exit_1() {
    let r = run(&["check", SEEDS]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let doc = json_of(&run(&["check", "-f", "json", SEEDS]));
    assert!(doc["summary"]["error"].as_u64().unwrap() > 0);
}

/// A path that does not exist exits 2 and names the path; the other inputs are still checked.
#[test]
fn nonexistent_path_exits_2() {
    let r = run(&["check", "no/such/file.yaml"]);
    assert_eq!(r.code, 2);
    assert!(r.stdout.contains("no/such/file.yaml"), "{}", r.stdout);

    let r = run(&["check", "-f", "json", "no/such/file.yaml", SEEDS]);
    assert_eq!(r.code, 2);
    let doc = json_of(&r);
    assert!(codes(&doc).contains("SL9001"));
    assert!(codes(&doc).contains("SL1019"), "seeds still checked");
}

/// A YAML syntax error exits 2 with an SL9002 at the error's line.
#[test]
fn yaml_syntax_error_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "bad.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: a\n  bad: [\n",
    );
    let r = run_in(dir.path(), &["check", "bad.yaml"]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    let doc = json_of(&run_in(dir.path(), &["check", "-f", "json", "bad.yaml"]));
    let f = &findings(&doc)[0];
    assert_eq!(f["code"], "SL9002");
    assert_eq!(f["severity"], "error");
    assert_eq!(f["file"], "bad.yaml");
    assert!(f["line"].as_u64().unwrap() >= 3, "{f}");
}

/// A file that is not UTF-8 exits 2 with an SL9001 saying so.
#[test]
fn non_utf8_file_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "latin1.yaml",
        b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: caf\xe9\n",
    );
    let r = run_in(dir.path(), &["check", "-f", "json", "latin1.yaml"]);
    assert_eq!(r.code, 2);
    let doc = json_of(&r);
    let f = &findings(&doc)[0];
    assert_eq!(f["code"], "SL9001");
    assert!(f["message"].as_str().unwrap().contains("UTF-8"), "{f}");
}

/// An unknown flag, a missing path or an unknown value is a usage error: exit 2 with the error on stderr.
#[test]
fn usage_errors_exit_2() {
    for args in [
        &["check", "--no-such-flag", SEEDS][..],
        &["check"],
        &["check", "-f", "yaml", SEEDS],
        &["check", "--fail-on", "sometimes", SEEDS],
        &["frobnicate"],
    ] {
        let r = run(args);
        assert_eq!(r.code, 2, "{args:?}");
        assert!(r.stdout.is_empty(), "{args:?}: {}", r.stdout);
        assert!(r.stderr.starts_with("error: "), "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains("--help"), "{args:?}: {}", r.stderr);
    }
    let r = run(&["check", "--no-such-flag", SEEDS]);
    assert!(r.stderr.contains("--no-such-flag"), "{}", r.stderr);
}

/// `--help` and `--version` print to stdout and exit 0.
#[test]
fn help_and_version_exit_0() {
    let r = run(&["check", "--help"]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("--fail-on"));
    let r = run(&["--version"]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains(env!("CARGO_PKG_VERSION")));
}

/// `--fail-on` moves the threshold: a warning-only file passes by default and fails at `warning`/`info`.
#[test]
fn fail_on_moves_the_threshold() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "tag-no-digest.yaml",
        pod_with_image("gcr.io/plue-prod/runner:1.4.2"),
    );
    let doc = json_of(&run_in(dir.path(), &["check", "-f", "json", "."]));
    assert_eq!(codes(&doc), BTreeSet::from(["SL1020".to_string()]));
    assert_eq!(findings(&doc)[0]["severity"], "warning");

    let code = |fail_on: &[&str]| {
        let mut args = vec!["check"];
        args.extend_from_slice(fail_on);
        args.push(".");
        run_in(dir.path(), &args).code
    };
    assert_eq!(code(&[]), 0);
    assert_eq!(code(&["--fail-on", "error"]), 0);
    assert_eq!(code(&["--fail-on", "warning"]), 1);
    assert_eq!(code(&["--fail-on", "info"]), 1);
    assert_eq!(code(&["--fail-on", "never"]), 0);
}

/// `--fail-on never` passes findings but not input errors, which still exit 2.
#[test]
fn fail_on_never_still_exits_2_on_input_errors() {
    assert_eq!(run(&["check", "--fail-on", "never", SEEDS]).code, 0);
    assert_eq!(
        run(&["check", "--fail-on", "never", SEEDS, "missing.yaml"]).code,
        2
    );
}

/// Notes (info) fail only with `--fail-on info`.
#[test]
fn notes_fail_only_at_info() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "values.yaml",
        "replicaCount: 2\nimage: {tag: latest}\n",
    );
    let doc = json_of(&run_in(dir.path(), &["check", "-f", "json", "."]));
    assert_eq!(codes(&doc), BTreeSet::from(["SL9005".to_string()]));
    assert_eq!(
        run_in(dir.path(), &["check", "--fail-on", "warning", "."]).code,
        0
    );
    assert_eq!(
        run_in(dir.path(), &["check", "--fail-on", "info", "."]).code,
        1
    );
}

// ---------------------------------------------------------------------------
// Inputs
// ---------------------------------------------------------------------------

/// One broken document does not hide the findings of the other documents of the same file.
#[test]
fn broken_document_does_not_hide_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "{}---\napiVersion: v1\nkind: Pod\nmetadata: {{name: broken\n  x: [\n---\n{}",
        pod_with_image("gcr.io/plue-prod/runner:1.4.2"),
        pod_with_image("busybox:latest"),
    );
    write(dir.path(), "multi.yaml", &text);
    let r = run_in(dir.path(), &["check", "-f", "json", "multi.yaml"]);
    assert_eq!(r.code, 2);
    let doc = json_of(&r);
    let line_of = |code: &str| {
        findings(&doc)
            .iter()
            .find(|f| f["code"] == code)
            .unwrap_or_else(|| panic!("no {code} in {doc:#}"))["line"]
            .as_u64()
            .unwrap() as usize
    };
    let lines: Vec<&str> = text.lines().collect();
    let broken_at = lines
        .iter()
        .position(|l| l.contains("name: broken"))
        .unwrap()
        + 1;
    let latest_at = lines
        .iter()
        .position(|l| l.contains("busybox:latest"))
        .unwrap()
        + 1;
    let tagged_at = lines
        .iter()
        .position(|l| l.contains("runner:1.4.2"))
        .unwrap()
        + 1;
    assert!(line_of("SL9002") >= broken_at && line_of("SL9002") < latest_at);
    assert_eq!(
        line_of("SL1019"),
        latest_at,
        "document after the broken one"
    );
    assert_eq!(
        line_of("SL1020"),
        tagged_at,
        "document before the broken one"
    );
}

/// `check -` reads one manifest from stdin and reports it as `<stdin>`.
#[test]
fn stdin_is_read_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let r = run_full(
        dir.path(),
        &["check", "-f", "json", "-"],
        Some(&pod_with_image("busybox:latest")),
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    let doc = json_of(&r);
    assert_eq!(codes(&doc), BTreeSet::from(["SL1019".to_string()]));
    assert_eq!(files(&doc), BTreeSet::from(["<stdin>".to_string()]));
    assert_eq!(doc["summary"]["files"], 1);

    let human = run_full(
        dir.path(),
        &["check", "-"],
        Some(&pod_with_image("busybox:latest")),
    );
    assert!(human.stdout.contains("[<stdin>:"), "{}", human.stdout);

    let clean = run_full(dir.path(), &["check", "-"], Some(&pod_with_image(PINNED)));
    assert_eq!(clean.code, 0, "{}", clean.stdout);
}

/// Directories are walked recursively for *.yaml, *.yml and *.json only, skipping hidden entries.
#[test]
fn directories_are_walked_for_manifests_only() {
    let dir = tempfile::tempdir().unwrap();
    let bad = pod_with_image("busybox:latest");
    write(dir.path(), "a/b/c/deep.yml", &bad);
    write(dir.path(), "top.yaml", &bad);
    write(dir.path(), "notes.txt", &bad);
    write(dir.path(), "manifest.yaml.bak", &bad);
    write(dir.path(), ".hidden.yaml", &bad);
    write(dir.path(), ".hidden-dir/x.yaml", &bad);
    write(dir.path(), "clean.yaml", pod_with_image(PINNED));
    let doc = json_of(&run_in(dir.path(), &["check", "-f", "json", "."]));
    assert_eq!(
        files(&doc),
        BTreeSet::from(["./a/b/c/deep.yml".to_string(), "./top.yaml".to_string()])
    );
    assert_eq!(doc["summary"]["files"], 3, "deep.yml, top.yaml, clean.yaml");
}

/// A link to a manifest in a walked directory is judged as the file it points
/// at (`kubectl apply -f DIR` applies it); a broken link is an input error, not
/// a file skipped; a link to a directory is not walked.
#[test]
fn links_in_directories_are_judged_or_refused() {
    let dir = tempfile::tempdir().unwrap();
    let bad = pod_with_image("busybox:latest");
    write(dir.path(), "elsewhere/pod.yaml", &bad);
    write(dir.path(), "elsewhere/sub/other.yaml", &bad);
    write(dir.path(), "ns/clean.yaml", pod_with_image(PINNED));
    let ns = dir.path().join("ns");
    std::os::unix::fs::symlink(
        dir.path().join("elsewhere/pod.yaml"),
        ns.join("linked.yaml"),
    )
    .unwrap();
    std::os::unix::fs::symlink(dir.path().join("elsewhere/sub"), ns.join("subdir.yaml")).unwrap();
    let r = run_in(dir.path(), &["check", "-f", "json", "ns"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let doc = json_of(&r);
    assert_eq!(files(&doc), BTreeSet::from(["ns/linked.yaml".to_string()]));
    assert!(codes(&doc).contains("SL1019"), "{:?}", codes(&doc));
    assert_eq!(doc["summary"]["files"], 2, "clean.yaml and linked.yaml");

    std::os::unix::fs::symlink(dir.path().join("gone.yaml"), ns.join("broken.yaml")).unwrap();
    let r = run_in(dir.path(), &["check", "-f", "short", "ns"]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    let all = format!("{}{}", r.stdout, r.stderr);
    assert!(
        all.contains("broken.yaml") && all.contains("broken symbolic link"),
        "{all}"
    );
    assert!(r.stdout.contains("ns/linked.yaml"), "{}", r.stdout);
}

/// `.gitignore` is honoured when walking a directory (outside a git repository too); a file named explicitly is still read.
#[test]
fn gitignore_is_honoured() {
    let dir = tempfile::tempdir().unwrap();
    let bad = pod_with_image("busybox:latest");
    write(dir.path(), ".gitignore", "ignored.yaml\nbuild/\n");
    write(dir.path(), "ignored.yaml", &bad);
    write(dir.path(), "build/generated.yaml", &bad);
    write(dir.path(), "kept/kept.yaml", &bad);
    write(dir.path(), "kept/also-ignored.yaml", &bad);
    write(dir.path(), "kept/.gitignore", "also-*.yaml\n");
    let r = run_in(dir.path(), &["check", "-f", "json", "."]);
    assert_eq!(r.code, 1);
    assert_eq!(
        files(&json_of(&r)),
        BTreeSet::from(["./kept/kept.yaml".to_string()])
    );

    let r = run_in(dir.path(), &["check", "-f", "json", "ignored.yaml"]);
    assert_eq!(
        files(&json_of(&r)),
        BTreeSet::from(["ignored.yaml".to_string()])
    );
}

/// A Pod written as JSON is checked like the same Pod in YAML, with locations in the JSON text.
#[test]
fn json_input_is_checked_like_yaml() {
    let dir = tempfile::tempdir().unwrap();
    let json = r#"{
  "apiVersion": "v1",
  "kind": "Pod",
  "metadata": {"name": "as-json", "namespace": "workflows"},
  "spec": {
    "containers": [
      {
        "name": "runner",
        "image": "busybox:latest",
        "securityContext": {"privileged": true}
      }
    ]
  }
}
"#;
    let yaml = "apiVersion: v1
kind: Pod
metadata: {name: as-json, namespace: workflows}
spec:
  containers:
  - name: runner
    image: busybox:latest
    securityContext: {privileged: true}
";
    write(dir.path(), "pod.json", json);
    write(dir.path(), "pod.yaml", yaml);
    let from_json = json_of(&run_in(dir.path(), &["check", "-f", "json", "pod.json"]));
    let from_yaml = json_of(&run_in(dir.path(), &["check", "-f", "json", "pod.yaml"]));
    let key = |doc: &Value| -> BTreeSet<(String, String)> {
        findings(doc)
            .iter()
            .map(|f| {
                (
                    f["code"].as_str().unwrap().to_string(),
                    f["pointer"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    assert!(key(&from_json).len() > 3, "{from_json:#}");
    assert_eq!(key(&from_json), key(&from_yaml));
    assert!(codes(&from_json).contains("SL1007"), "privileged");
    let image = findings(&from_json)
        .iter()
        .find(|f| f["code"] == "SL1019")
        .expect("SL1019");
    assert_eq!(image["file"], "pod.json");
    assert_eq!(image["line"], 9);
    assert_eq!(image["column"], 18);
    assert_eq!(image["pointer"], "/spec/containers/0/image");
}

// ---------------------------------------------------------------------------
// Limits
// ---------------------------------------------------------------------------

/// A 1 GiB (sparse) file is refused before it is read: exit 2, fast, with a message naming the limit.
#[test]
fn huge_file_is_refused_fast() {
    let dir = tempfile::tempdir().unwrap();
    let file = std::fs::File::create(dir.path().join("huge.yaml")).unwrap();
    file.set_len(1 << 30).unwrap();
    drop(file);
    let started = Instant::now();
    let r = run_in(dir.path(), &["check", "-f", "json", "huge.yaml"]);
    let took = started.elapsed();
    assert_eq!(r.code, 2);
    assert!(took < Duration::from_secs(5), "took {took:?}");
    let doc = json_of(&r);
    let f = &findings(&doc)[0];
    assert_eq!(f["code"], "SL9001");
    let message = f["message"].as_str().unwrap();
    assert!(message.contains("1073741824"), "{message}");
    assert!(
        message.contains("67108864"),
        "names the default limit: {message}"
    );
    assert!(message.contains("--max-file-size"), "{message}");

    let human = run_in(dir.path(), &["check", "huge.yaml"]);
    assert_eq!(human.code, 2);
    assert!(human.stdout.contains("size limit"), "{}", human.stdout);
}

/// `--max-file-size` lowers the limit: a small file over it is refused, one under it is checked.
#[test]
fn max_file_size_lowers_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let text = pod_with_image(PINNED);
    write(dir.path(), "pod.yaml", &text);
    let len = text.len().to_string();
    let below = (text.len() - 1).to_string();

    let r = run_in(
        dir.path(),
        &["check", "-f", "json", "--max-file-size", &below, "pod.yaml"],
    );
    assert_eq!(r.code, 2);
    let doc = json_of(&r);
    let f = &findings(&doc)[0];
    assert_eq!(f["code"], "SL9001");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains(&format!("limit of {below} bytes")),
        "{f}"
    );

    let r = run_in(dir.path(), &["check", "--max-file-size", &len, "pod.yaml"]);
    assert_eq!(
        r.code, 0,
        "a file exactly at the limit is read: {}",
        r.stdout
    );

    let r = run_full(
        dir.path(),
        &["check", "-f", "json", "--max-file-size", &below, "-"],
        Some(&text),
    );
    assert_eq!(r.code, 2, "the limit applies to stdin too");
}

/// A "billion laughs" document: nine aliases of nine, nine levels deep.
fn alias_bomb() -> String {
    let mut text = String::from("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: lol\ndata:\n");
    text.push_str(
        "  a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    let names: Vec<char> = "abcdefghi".chars().collect();
    for w in names.windows(2) {
        let refs = vec![format!("*{}", w[0]); 9].join(",");
        text.push_str(&format!("  {}: &{} [{refs}]\n", w[1], w[1]));
    }
    text
}

/// An alias bomb is refused within seconds with exit 2 and a message about the alias limit.
#[test]
fn alias_bomb_is_refused_fast() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "bomb.yaml", alias_bomb());
    let started = Instant::now();
    let r = run_in(dir.path(), &["check", "-f", "json", "bomb.yaml"]);
    let took = started.elapsed();
    assert_eq!(r.code, 2);
    assert!(took < Duration::from_secs(10), "took {took:?}");
    let doc = json_of(&r);
    let f = &findings(&doc)[0];
    assert_eq!(f["code"], "SL9002");
    let message = f["message"].as_str().unwrap().to_lowercase();
    assert!(message.contains("alias"), "{message}");
    assert!(
        message.contains("limit") || message.contains("budget"),
        "{message}"
    );
    assert_eq!(doc["summary"]["resources"], 0, "the bomb is not loaded");
}

/// The alias bomb's message is complete, not cut inside a parenthesis.
#[test]
fn alias_bomb_message_is_not_truncated() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "bomb.yaml", alias_bomb());
    let doc = json_of(&run_in(dir.path(), &["check", "-f", "json", "bomb.yaml"]));
    let message = findings(&doc)[0]["message"].as_str().unwrap().to_string();
    assert_eq!(
        message.matches('(').count(),
        message.matches(')').count(),
        "unbalanced parentheses: {message}"
    );
}

// ---------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------

/// `--output FILE` writes the report to FILE, not stdout, and keeps the exit code.
#[test]
fn output_flag_writes_the_report_to_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.json");
    let r = run(&["check", "-f", "json", "-o", out.to_str().unwrap(), SEEDS]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(written, json_of(&run(&["check", "-f", "json", SEEDS])));

    let human = dir.path().join("report.txt");
    let r = run(&["check", "--output", human.to_str().unwrap(), SEEDS]);
    assert_eq!(r.code, 1);
    let text = std::fs::read_to_string(&human).unwrap();
    assert!(text.contains("SL1019(image-tag)") && !text.contains('\u{1b}'));
}

/// An `--output` that cannot be created exits 2 and names the path.
#[test]
fn unwritable_output_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("no/such/dir/report.json");
    let r = run(&["check", "-o", out.to_str().unwrap(), COMPLIANT]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("report.json"), "{}", r.stderr);
}

// ---------------------------------------------------------------------------
// rules and explain
// ---------------------------------------------------------------------------

/// `rules` lists every rule code and name of `rules::ALL`, once each.
#[test]
fn rules_lists_every_rule() {
    let r = run(&["rules"]);
    assert_eq!(r.code, 0);
    for rule in sandbox_lint::rules::ALL {
        let line = r
            .stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(rule.meta.code))
            .unwrap_or_else(|| panic!("{} not listed:\n{}", rule.meta.code, r.stdout));
        assert!(line.contains(rule.meta.name), "{line}");
        assert_eq!(
            r.stdout.matches(rule.meta.code).count(),
            1,
            "{}",
            rule.meta.code
        );
    }
}

/// `rules --format json` is one JSON entry per rule, in `rules::ALL` order, with code, name and severity.
#[test]
fn rules_json_has_one_entry_per_rule() {
    let r = run(&["rules", "--format", "json"]);
    assert_eq!(r.code, 0);
    let all: Value = serde_json::from_str(&r.stdout).expect("rules JSON");
    let all = all.as_array().expect("an array");
    assert_eq!(all.len(), sandbox_lint::rules::ALL.len());
    for (entry, rule) in all.iter().zip(sandbox_lint::rules::ALL) {
        assert_eq!(entry["code"], rule.meta.code);
        assert_eq!(entry["name"], rule.meta.name);
        assert_eq!(entry["severity"], rule.meta.severity.as_str());
        assert_eq!(entry["summary"], rule.meta.summary());
        assert_eq!(entry["remediation"], rule.meta.remediation);
    }
}

/// `explain` by code and by name print the same text, with the rule's summary and remediation.
#[test]
fn explain_by_code_and_by_name_agree() {
    let by_code = run(&["explain", "SL1002"]);
    let by_name = run(&["explain", "run-as-non-root"]);
    assert_eq!(by_code.code, 0);
    assert_eq!(by_name.code, 0);
    assert_eq!(by_code.stdout, by_name.stdout);
    let rule = sandbox_lint::rules::find("SL1002").expect("SL1002");
    assert_eq!(rule.meta.name, "run-as-non-root");
    assert!(by_code.stdout.starts_with("SL1002 run-as-non-root"));
    assert!(by_code.stdout.contains(&rule.meta.summary()));
    assert!(by_code.stdout.contains(rule.meta.remediation));
}

/// Every rule can be explained.
#[test]
fn every_rule_can_be_explained() {
    for rule in sandbox_lint::rules::ALL {
        let r = run(&["explain", rule.meta.code]);
        assert_eq!(r.code, 0, "{}", rule.meta.code);
        assert!(
            r.stdout.contains(rule.meta.remediation),
            "{}",
            rule.meta.code
        );
    }
}

/// An unknown rule exits 2; a near miss gets a "did you mean".
#[test]
fn explain_unknown_rule_exits_2_with_suggestion() {
    let r = run(&["explain", "bogus-rule"]);
    assert_eq!(r.code, 2);
    assert!(r.stdout.is_empty());
    assert!(
        r.stderr.contains("unknown rule `bogus-rule`"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("sandbox-lint rules"), "{}", r.stderr);

    // O for 0: the code it looks like, not SL1102 (one edit away too).
    let r = run(&["explain", "SL1O02"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("did you mean `SL1002`"), "{}", r.stderr);

    let r = run(&["explain", "run-as-nonroot"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("did you mean `run-as-non-root`"),
        "{}",
        r.stderr
    );
}

/// Inputs built to break arithmetic or recursion are reported, never a
/// crash: a YAML error quoting `line <usize::MAX>` in a later document
/// (its line numbers are shifted by the documents before it), the largest
/// `--max-file-size`, a chain of 30,000 Dockerfile stages (more than 512 is
/// an error, and the file is read no further), and `${A:-...}` nested 5,000
/// deep.
#[test]
fn hostile_inputs_are_reported_not_crashed_on() {
    let dir = tempfile::tempdir().unwrap();
    let big = u64::MAX.to_string();
    write(
        dir.path(),
        "dup.yaml",
        format!("a: 1\n---\nline {big}: 1\nline {big}: 2\n"),
    );
    let r = run_in(dir.path(), &["check", "-f", "json", "dup.yaml"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let doc = json_of(&r);
    let f = findings(&doc)
        .iter()
        .find(|f| f["code"] == "SL9002")
        .unwrap_or_else(|| panic!("{doc}"));
    assert_eq!(f["line"], 4, "{f}");
    assert!(f["message"].as_str().unwrap().contains(&big), "{f}");

    let pod =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(COMPLIANT_POD)).unwrap();
    let r = run(&["check", "--max-file-size", &big, COMPLIANT_POD]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let r = run_full(
        Path::new(env!("CARGO_MANIFEST_DIR")),
        &["check", "--max-file-size", &big, "-"],
        Some(&pod),
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);

    let mut chain = String::from("FROM debian:12 AS s0\n");
    for i in 1..30_000 {
        chain.push_str(&format!("FROM s{} AS s{i}\n", i - 1));
    }
    write(dir.path(), "Dockerfile", chain);
    let r = run_in(dir.path(), &["check", "-f", "json", "Dockerfile"]);
    let doc = json_of(&r);
    let f = findings(&doc)
        .iter()
        .find(|f| f["code"] == "SL9011")
        .unwrap_or_else(|| panic!("{doc}"));
    assert_eq!(f["line"], 513, "the 513th FROM: {f}");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("more than 512 build stages"),
        "{f}"
    );
    assert_ne!(r.code, 0, "{}", r.stderr);

    let nested = format!("FROM {}debian{}\n", "${A:-".repeat(5000), "}".repeat(5000));
    std::fs::remove_file(dir.path().join("Dockerfile")).unwrap();
    write(dir.path(), "Dockerfile", nested);
    let r = run_in(dir.path(), &["check", "-f", "json", "Dockerfile"]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let messages = r.stdout.to_string();
    assert!(messages.contains("nested more than 16 deep"), "{messages}");
}

/// `dispatch batch --concurrency` is bounded (a huge value used to panic
/// inside the semaphore) and 0 is refused rather than silently made 1.
#[test]
fn batch_concurrency_is_bounded() {
    for value in ["0", "4097", "2305843009213693952"] {
        let r = run(&["dispatch", "batch", "--concurrency", value, "none.yaml"]);
        assert_eq!(r.code, 2, "{value}: {}", r.stderr);
        assert!(r.stderr.contains("1..=4096"), "{value}: {}", r.stderr);
        assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    }
}

/// A path that can be read only once (bash's `<(cat pod.yaml)`, a FIFO) is
/// read once and judged: the first pass used to drain the pipe, so the
/// judging pass read nothing and a privileged pod passed with exit 0. Its
/// snippets come from that one read too.
#[test]
fn a_fifo_input_is_read_once_and_judged() {
    let dir = tempfile::tempdir().unwrap();
    let pod = dir.path().join("pod.yaml");
    std::fs::write(
        &pod,
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  hostPID: true\n  containers: [{name: c, image: ubuntu}]\n",
    )
    .unwrap();
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "{} check <(cat '{}') 2>&1; echo \"exit $?\"",
            env!("CARGO_BIN_EXE_sandbox-lint"),
            pod.display()
        ))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("SL1013"), "{text}");
    assert!(
        text.contains("hostPID: true"),
        "snippet from the one read: {text}"
    );
    assert!(text.trim_end().ends_with("exit 1"), "{text}");
}

/// In a batch, a warning is labelled with the requests it was found in: the
/// unpinned image of one request with that request, the "cannot verify"
/// warnings both share with both (not with whichever came first).
#[test]
fn batch_warnings_name_the_requests_they_apply_to() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "a.yaml",
        "image: python:3.12\ncommand: ['true']\n",
    );
    write(
        dir.path(),
        "b.yaml",
        format!("image: {PINNED}\ncommand: ['true']\n"),
    );
    let r = run_in(
        dir.path(),
        &["dispatch", "batch", "--print-pod", "a.yaml", "b.yaml"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert!(
        lines.contains(&"a.yaml: warning: SL1020 container \"runner\" image python:3.12 is not pinned by digest"),
        "{}",
        r.stderr
    );
    let shared: Vec<&&str> = lines.iter().filter(|l| l.contains("SL3001")).collect();
    assert_eq!(shared.len(), 1, "{}", r.stderr);
    assert!(
        shared[0].starts_with("warning: SL3001 cannot verify")
            && shared[0].ends_with(" (2 runs: a.yaml, b.yaml)"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("b.yaml: warning"), "{}", r.stderr);
}

/// The local gVisor backend has no NetworkPolicy, ServiceAccount or
/// RuntimeClass to verify: instead of three "cannot verify" warnings it says
/// what holds there; the Kubernetes backend keeps them.
#[test]
fn local_gvisor_runs_say_what_applies_instead_of_cluster_objects() {
    let args = |backend| {
        run(&[
            "dispatch",
            "run",
            "--backend",
            backend,
            "--print-pod",
            "--image",
            PINNED,
            "--",
            "true",
        ])
    };
    let local = args("gvisor");
    assert_eq!(local.code, 0, "{}", local.stderr);
    for code in ["SL3001", "SL3006", "SL3008"] {
        assert!(
            !local.stderr.contains(&format!("warning: {code}")),
            "{}",
            local.stderr
        );
    }
    assert!(
        local
            .stderr
            .contains("the sandbox has no network at all (runsc --network=none)"),
        "{}",
        local.stderr
    );
    let kube = args("kube");
    assert_eq!(kube.code, 0, "{}", kube.stderr);
    for code in ["SL3001", "SL3006", "SL3008"] {
        assert!(
            kube.stderr
                .contains(&format!("warning: {code} cannot verify")),
            "{}",
            kube.stderr
        );
    }
    assert!(!kube.stderr.contains("runsc"), "{}", kube.stderr);
}

/// Every option and argument of every subcommand says what it is for in
/// `--help` (`dispatch run --image` and four others once had no text).
#[test]
fn every_option_of_every_subcommand_has_help_text() {
    use clap::CommandFactory as _;
    fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
        for arg in cmd.get_arguments() {
            let id = arg.get_id().as_str();
            if matches!(id, "help" | "version") {
                continue;
            }
            if arg.get_help().is_none() && arg.get_long_help().is_none() {
                missing.push(format!("{path} {id}"));
            }
        }
        for sub in cmd.get_subcommands() {
            let sub_path = format!("{path} {}", sub.get_name());
            if sub.get_about().is_none() {
                missing.push(format!("{sub_path} (no about)"));
            }
            walk(sub, &sub_path, missing);
        }
    }
    let mut cmd = sandbox_lint::cli::Cli::command();
    cmd.build();
    let mut missing = Vec::new();
    walk(&cmd, "sandbox-lint", &mut missing);
    assert_eq!(missing, Vec::<String>::new());
    // The walk sees the options it must: `dispatch run --image` among them.
    let run = cmd
        .find_subcommand("dispatch")
        .and_then(|d| d.find_subcommand("run"))
        .unwrap();
    let image = run.get_arguments().find(|a| a.get_id() == "image").unwrap();
    assert!(image.get_help().unwrap().to_string().contains("image"));
}

/// `check` that finds nothing to check says so: exit 2 when the paths named
/// hold no manifest and no Dockerfile (an empty or wrong directory), exit 0
/// with a note when the configuration excludes what was named (pre-commit
/// passing an excluded file), and no note with `--quiet` then.
#[test]
fn nothing_to_check_is_said_and_exits_2_for_named_paths() {
    let dir = tempfile::tempdir().unwrap();
    let r = run_in(dir.path(), &["check", "."]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains(
            "error: nothing checked: . holds no Kubernetes manifest (*.yaml, *.yml, *.json) and no Dockerfile"
        ),
        "{}",
        r.stderr
    );
    write(dir.path(), "notes/README.md", "# not a manifest\n");
    let r = run_in(dir.path(), &["check", "-f", "json", "notes"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("nothing checked: notes holds"),
        "{}",
        r.stderr
    );
    json_of(&r);

    write(
        dir.path(),
        ".sandbox-lint.yaml",
        "exclude: [\"vendor/**\"]\n",
    );
    write(dir.path(), "vendor/pod.yaml", "apiVersion: v1\nkind: Pod\n");
    let r = run_in(dir.path(), &["check", "vendor/pod.yaml"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("nothing checked: every file found is excluded by"),
        "{}",
        r.stderr
    );
    let r = run_in(dir.path(), &["check", "--quiet", "vendor/pod.yaml"]);
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));

    // Something checkable is checked as before.
    write(
        dir.path(),
        "k8s/pod.yaml",
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(COMPLIANT_POD)).unwrap(),
    );
    let r = run_in(dir.path(), &["check", "k8s"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stderr.contains("nothing checked"), "{}", r.stderr);
}
