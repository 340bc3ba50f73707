//! Line breaks as the API server reads them, through the real binary: a lone
//! `\r` and `\r\n` end lines as `\n` does (YAML 1.2), for parsing, document
//! splitting, line:col and inline suppressions; input with content that gives
//! no document is an input error (exit 2); `%YAML` directives are refused as
//! kubectl refuses them.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

const POD: &str = include_str!("../testdata/compliant/ok-runner-pod.yaml");

/// Runs `sandbox-lint check -f json --context testdata/context ARGS` in `dir`.
fn check(dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> (i32, Value) {
    let context = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/context");
    let mut child = Command::new(env!("CARGO_BIN_EXE_sandbox-lint"))
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .args(["check", "-f", "json", "--context"])
        .arg(context)
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(bytes) = stdin {
        child.stdin.take().unwrap().write_all(bytes).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), json)
}

/// (code, line, column, suppressed) of every finding.
fn findings(doc: &Value) -> Vec<(String, u64, u64, bool)> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap_or(0),
                f["column"].as_u64().unwrap_or(0),
                !f["suppressed"].is_null(),
            )
        })
        .collect()
}

/// The compliant pod with a second container, both privileged (SL1007 on
/// each `privileged: true`), starting with a comment. `mark` goes at the end
/// of the first container's `privileged: true` line.
fn privileged_pod(mark: &str) -> String {
    let container = "  containers:\n  - name: runner\n";
    assert!(POD.contains(container));
    let sc = "    securityContext:\n      allowPrivilegeEscalation: false\n";
    let first = format!(
        "    securityContext:\n      privileged: true{mark}\n      allowPrivilegeEscalation: false\n"
    );
    let second =
        "    securityContext:\n      privileged: true\n      allowPrivilegeEscalation: false\n";
    let mut text = POD.replacen(sc, &first, 1);
    // A copy of the first container, renamed, appended as the second.
    let start = text.find("  - name: runner\n").unwrap();
    let end = text.find("  volumes:\n").unwrap();
    let copy = text[start..end]
        .replacen("name: runner", "name: second", 1)
        .replacen(&first, second, 1);
    text.insert_str(end, &copy);
    assert!(text.starts_with('#'));
    text
}

fn with_breaks(text: &str, br: &str) -> String {
    text.replace('\n', br)
}

/// The 1-based line of the first line of `text` containing `needle`, counting
/// every `\n` (the fixtures are written with `\n`).
fn line_of(text: &str, needle: &str, nth: usize) -> u64 {
    text.lines()
        .enumerate()
        .filter(|(_, l)| l.contains(needle))
        .nth(nth)
        .map(|(i, _)| i as u64 + 1)
        .unwrap()
}

/// A CR-only (and a CRLF) privileged Pod that starts with a comment is read
/// as the Pod it is: both SL1007 findings, at the lines and columns of the
/// `\n` file. Before, the CR file was one comment line: no document, exit 0.
#[test]
fn carriage_return_files_fail_with_the_findings_of_the_lf_file() {
    let dir = tempfile::tempdir().unwrap();
    let lf = privileged_pod("");
    std::fs::write(dir.path().join("lf.yaml"), &lf).unwrap();
    let (code, doc) = check(dir.path(), &["lf.yaml"], None);
    assert_eq!(code, 1, "{doc}");
    let expected = findings(&doc);
    let privileged: Vec<_> = expected.iter().filter(|f| f.0 == "SL1007").collect();
    assert_eq!(
        privileged.iter().map(|f| (f.1, f.2)).collect::<Vec<_>>(),
        [
            (line_of(&lf, "privileged: true", 0), 19),
            (line_of(&lf, "privileged: true", 1), 19)
        ],
        "{doc}"
    );
    for br in ["\r", "\r\n", "\r\n\r"] {
        let text = with_breaks(&lf, br);
        std::fs::write(dir.path().join("pod.yaml"), &text).unwrap();
        let (code, doc) = check(dir.path(), &["pod.yaml"], None);
        // `\r\n\r` is two breaks: every line number doubles, less one.
        let expected: Vec<_> = expected
            .iter()
            .map(|f| {
                let line = if br == "\r\n\r" { 2 * f.1 - 1 } else { f.1 };
                (f.0.clone(), line, f.2, f.3)
            })
            .collect();
        assert_eq!(code, 1, "{br:?}: {doc}");
        assert_eq!(findings(&doc), expected, "{br:?}");
        // On stdin too.
        let (code, doc) = check(dir.path(), &["-"], Some(text.as_bytes()));
        assert_eq!(code, 1, "{br:?}: {doc}");
        assert_eq!(findings(&doc), expected, "{br:?}");
    }
}

/// An inline suppression in a CR-only file covers its own line only: the
/// second container's SL1007 is still reported. Before, every location of a
/// CR-only file was line 1, so the comment silenced the rule for the file.
#[test]
fn carriage_return_suppressions_cover_their_own_line() {
    let dir = tempfile::tempdir().unwrap();
    let lf = privileged_pod("  # sandbox-lint: ignore[SL1007] debugging the runner image");
    for br in ["\n", "\r", "\r\n"] {
        let text = with_breaks(&lf, br);
        std::fs::write(dir.path().join("pod.yaml"), &text).unwrap();
        let (code, doc) = check(dir.path(), &["pod.yaml"], None);
        let privileged: Vec<_> = findings(&doc)
            .into_iter()
            .filter(|f| f.0 == "SL1007")
            .map(|f| (f.1, f.3))
            .collect();
        assert_eq!(
            privileged,
            [
                (line_of(&lf, "privileged: true", 0), true),
                (line_of(&lf, "privileged: true", 1), false)
            ],
            "{br:?}: {doc}"
        );
        assert_eq!(code, 1, "{br:?}: {doc}");
    }
}

/// A file or stdin with content but no document is an input error (exit 2),
/// not a clean pass; comments and markers alone are still nothing to check.
#[test]
fn content_without_a_document_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    for text in ["~\n", "# only nulls\n--- null\n---\n~\n"] {
        std::fs::write(dir.path().join("x.yaml"), text).unwrap();
        for args in [&["x.yaml"][..], &["-"][..]] {
            let stdin = (args == ["-"]).then_some(text.as_bytes());
            let (code, doc) = check(dir.path(), args, stdin);
            assert_eq!(code, 2, "{text:?} {args:?}: {doc}");
            let f = findings(&doc);
            assert_eq!(f.len(), 1, "{doc}");
            assert_eq!(f[0].0, "SL9002");
            assert!(
                doc["findings"][0]["message"]
                    .as_str()
                    .unwrap()
                    .contains("no YAML document"),
                "{doc}"
            );
        }
    }
    for text in ["", "# a comment\r# another\r", "---\n# nothing\n...\n"] {
        let (code, doc) = check(dir.path(), &["-"], Some(text.as_bytes()));
        assert_eq!((code, findings(&doc)), (0, vec![]), "{text:?}");
    }
}

/// `%YAML` directives are refused (SL9002), saying that kubectl refuses them
/// too; the document after a `%YAML 1.1` still is checked.
#[test]
fn yaml_directives_are_refused_as_kubectl_refuses_them() {
    let dir = tempfile::tempdir().unwrap();
    for (directive, br) in [("%YAML 1.2", "\n"), ("%YAML 1.1", "\r")] {
        let text = with_breaks(&format!("{directive}\n---\n{POD}"), br);
        let (code, doc) = check(dir.path(), &["-"], Some(text.as_bytes()));
        assert_eq!(code, 2, "{doc}");
        let f = findings(&doc);
        assert_eq!(f[0].0, "SL9002", "{doc}");
        assert_eq!((f[0].1, f[0].2), (1, 1), "{doc}");
        let message = doc["findings"][0]["message"].as_str().unwrap();
        assert!(message.contains("kubectl"), "{message}");
    }
}

/// The human report shows a CR-only file's snippet at the right line, with
/// no raw `\r` that would make the terminal overwrite what it printed.
#[test]
fn human_snippets_of_carriage_return_files() {
    let dir = tempfile::tempdir().unwrap();
    let lf = privileged_pod("");
    std::fs::write(dir.path().join("pod.yaml"), with_breaks(&lf, "\r")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_sandbox-lint"))
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .args(["check", "pod.yaml", "--context"])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/context"))
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(!stdout.contains('\r'), "{stdout:?}");
    let line = line_of(&lf, "privileged: true", 0);
    assert!(
        stdout.contains(&format!("[pod.yaml:{line}:19]")),
        "{stdout}"
    );
    assert!(stdout.contains("privileged: true"), "{stdout}");
}
