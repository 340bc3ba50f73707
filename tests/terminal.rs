//! Editor and terminal friendliness: the short format, `--quiet`, the progress
//! line on a terminal, and `--changed-since` for large repositories.

use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_sandbox-lint");
const POD: &str = include_str!("../testdata/compliant/ok-runner-pod.yaml");

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .unwrap()
}

fn latest() -> String {
    let image = POD.lines().find(|l| l.contains("image:")).unwrap();
    POD.replace(image, "    image: runner:latest")
}

/// `--format short` prints `path:line:col: CODE message` lines, then the summary; `--quiet` drops the summary and notes.
#[test]
fn short_format_is_one_line_per_finding() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = run(
        root,
        &["check", "--no-config", "-f", "short", "testdata/seeds"],
    );
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[3],
        "testdata/seeds/complete-pod.yaml:45:12: SL1019 container \"runner\" uses the mutable tag `latest` (gcr.io/plue-prod/runner:latest) [error, image-tag]"
    );
    // The seeds' NetworkPolicy, judged for the seeds' runner pods: its "Allow
    // Claude API" rule opens the runners' own namespace, and HTTPS to public
    // addresses is denied to the runners.
    assert_eq!(
        lines[5],
        "testdata/seeds/network-policy.yaml:34:7: SL3003 egress rule 2 of workflows/runner-network-policy allows TCP/443 to every pod in namespace workflows: runners can reach other runners and every other pod of namespace workflows [error, runner-egress]"
    );
    assert_eq!(
        lines[1],
        "testdata/seeds/complete-pod.yaml:8:3: SL3004 HTTPS (TCP/443) to public addresses is denied: the runner cannot reach its API [warning, runner-required-egress]"
    );
    assert_eq!(
        lines[9],
        "testdata/seeds/runner-python/Dockerfile:14:6: SL4002 USER runner gives a user `runner` by name: the kubelet cannot verify runAsNonRoot against a name and will not start the pod unless it sets runAsUser [error, image-numeric-user]"
    );
    assert_eq!(lines.len(), 18, "17 findings and the summary: {text}");
    assert!(
        lines[17].starts_with("9 errors, 7 warnings, 1 note in 5 files (4 resources)"),
        "{text}"
    );

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("values.yaml"), "replicaCount: 1\n").unwrap();
    std::fs::write(dir.path().join("pod.yaml"), latest()).unwrap();
    // In the cluster the pod refers to, so that only the pod's own error remains.
    let context = root.join("testdata/context");
    let out = run(
        dir.path(),
        &[
            "check",
            "--no-config",
            "-f",
            "short",
            "-q",
            "--context",
            context.to_str().unwrap(),
            ".",
        ],
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        text.lines().count(),
        1,
        "only the error, no note, no summary: {text}"
    );
    assert!(
        text.starts_with("./pod.yaml:") && text.contains(": SL1019 "),
        "{text}"
    );
}

/// On a terminal, a run longer than a second shows `checked N/M files` on stderr; off a terminal it stays silent.
#[test]
fn progress_shows_only_on_a_terminal_after_a_second() {
    let dir = tempfile::tempdir().unwrap();
    // stdin stays open for 1.5 s, so the run lasts longer than a second.
    let script = format!("sleep 1.5 | {BIN} check --no-config - >/dev/null");
    let out = Command::new("script")
        .current_dir(dir.path())
        .args(["-qec", &script, "/dev/null"])
        .output()
        .unwrap();
    let tty = String::from_utf8_lossy(&out.stdout);
    assert!(
        tty.contains("checked 0/1 files"),
        "progress on the terminal: {tty:?}"
    );

    let out = Command::new("sh")
        .current_dir(dir.path())
        .args(["-c", &format!("sleep 1.5 | {BIN} check --no-config -")])
        .output()
        .unwrap();
    assert!(
        out.stderr.is_empty(),
        "no progress off a terminal: {:?}",
        String::from_utf8_lossy(&out.stderr)
    );

    let quiet = format!("sleep 1.5 | {BIN} check --no-config -q - >/dev/null");
    let out = Command::new("script")
        .current_dir(dir.path())
        .args(["-qec", &quiet, "/dev/null"])
        .output()
        .unwrap();
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("checked"),
        "--quiet hides progress"
    );
}

fn git(dir: &Path, args: &[&str]) {
    let ok = Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&ok.stderr)
    );
}

/// `--changed-since REF` checks only manifests changed since REF (and new untracked ones), within the given paths.
#[test]
fn changed_since_limits_the_run_to_changed_manifests() {
    let repo = tempfile::tempdir().unwrap();
    let root = repo.path();
    git(root, &["init", "-q"]);
    std::fs::create_dir_all(root.join("k8s")).unwrap();
    std::fs::create_dir_all(root.join("other")).unwrap();
    std::fs::write(root.join("k8s/old-bad.yaml"), latest()).unwrap();
    std::fs::write(root.join("k8s/edited.yaml"), POD).unwrap();
    std::fs::write(root.join("other/bad.yaml"), latest()).unwrap();
    git(root, &["add", "."]);
    git(root, &["commit", "-q", "-m", "base"]);
    std::fs::write(root.join("k8s/edited.yaml"), latest()).unwrap();
    std::fs::write(root.join("k8s/new.yaml"), latest()).unwrap();
    std::fs::write(root.join("other/new-bad.yaml"), latest()).unwrap();
    std::fs::write(root.join("k8s/notes.txt"), "not a manifest").unwrap();

    let out = run(
        root,
        &[
            "check",
            "--no-config",
            "-f",
            "json",
            "--changed-since",
            "HEAD",
            "k8s",
        ],
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut files: Vec<String> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            f["file"]
                .as_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    files.dedup();
    assert_eq!(files, ["edited.yaml", "new.yaml"], "{doc}");
    assert_eq!(out.status.code(), Some(1));

    git(root, &["add", "."]);
    git(root, &["commit", "-q", "-m", "next"]);
    let out = run(
        root,
        &["check", "--no-config", "--changed-since", "HEAD", "."],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "nothing changed: {}",
        String::from_utf8_lossy(&out.stdout)
    );

    let out = run(
        root,
        &[
            "check",
            "--no-config",
            "--changed-since",
            "no-such-ref",
            ".",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-ref"));
}
