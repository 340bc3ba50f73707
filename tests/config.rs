//! `.sandbox-lint.yaml` discovery and precedence, and `sandbox-lint init`.

use std::path::Path;
use std::process::{Command, Output};

const POD: &str = include_str!("../testdata/compliant/ok-runner-pod.yaml");

fn bin(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sandbox-lint"))
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .unwrap()
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn latest() -> String {
    let image = POD.lines().find(|l| l.contains("image:")).unwrap();
    POD.replace(image, "    image: runner:latest")
}

/// The nearest config above the first path is used: its exclude globs, format and policies apply.
#[test]
fn discovered_config_applies_and_flags_override_it() {
    let repo = tempfile::tempdir().unwrap();
    let root = repo.path();
    write(
        &root.join(".sandbox-lint.yaml"),
        "format: json\nexclude: [\"deploy/testdata/**\"]\npolicies: [policy/team.yaml]\ncontext: [cluster]\n",
    );
    // The objects the pod refers to live outside the checked paths.
    write(
        &root.join("cluster/cluster.yaml"),
        include_str!("../testdata/context/cluster.yaml"),
    );
    write(
        &root.join("policy/team.yaml"),
        "apiVersion: sandbox-lint.dev/v1alpha1\nkind: Policy\nmetadata: {name: team}\nspec:\n  extends: [gvisor-sandbox]\n  rules:\n    image-tag: {severity: warning}\n",
    );
    write(&root.join("deploy/runner.yaml"), &latest());
    write(&root.join("deploy/testdata/bad.yaml"), "kind: [\n");
    let out = bin(root, &["check", "deploy"]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    assert_eq!(doc["summary"]["files"], 1, "testdata is excluded: {doc}");
    assert_eq!(doc["findings"][0]["code"], "SL1019");
    assert_eq!(
        doc["findings"][0]["severity"], "warning",
        "the config's policy applies"
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "a warning does not fail at the default threshold"
    );

    let out = bin(
        root,
        &[
            "check",
            "deploy",
            "--format",
            "github",
            "--fail-on",
            "warning",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("::warning "),
        "flags override the config"
    );

    let out = bin(root, &["check", "--no-config", "-f", "json", "deploy"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "without the config the excluded broken file is read"
    );
}

/// With no paths, the config's `include` list is checked.
#[test]
fn include_gives_default_paths() {
    let repo = tempfile::tempdir().unwrap();
    write(&repo.path().join(".sandbox-lint.yaml"), "include: [k8s]\n");
    write(&repo.path().join("k8s/pod.yaml"), &latest());
    let out = bin(repo.path(), &["check"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("SL1019"));
    let empty = tempfile::tempdir().unwrap();
    let out = bin(empty.path(), &["check"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "no paths and no config is a usage error"
    );
}

/// The configured default namespace decides which policies and exemptions select an object without one.
#[test]
fn default_namespace_feeds_matching() {
    let repo = tempfile::tempdir().unwrap();
    let root = repo.path();
    write(
        &root.join("p.yaml"),
        "apiVersion: sandbox-lint.dev/v1alpha1\nkind: Policy\nmetadata: {name: t}\nspec:\n  extends: [gvisor-sandbox]\n  match: {namespaces: [workflows]}\n",
    );
    write(
        &root.join("pod.yaml"),
        &latest().replace("  namespace: workflows\n", ""),
    );
    let out = bin(
        root,
        &["check", "--no-config", "--policy", "p.yaml", "pod.yaml"],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "the pod is in `default`, outside the policy"
    );
    let out = bin(
        root,
        &[
            "check",
            "--no-config",
            "--policy",
            "p.yaml",
            "-n",
            "workflows",
            "pod.yaml",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
}

/// An unknown key in the config is an error at its line with a suggestion.
#[test]
fn config_errors_are_located() {
    let repo = tempfile::tempdir().unwrap();
    write(
        &repo.path().join(".sandbox-lint.yaml"),
        "format: json\nexcludes: [x]\n",
    );
    write(&repo.path().join("pod.yaml"), POD);
    let out = bin(repo.path(), &["check", "pod.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown key `excludes`"), "{err}");
    assert!(err.contains("did you mean `exclude`?"), "{err}");
    assert!(err.contains(".sandbox-lint.yaml:2:1"), "{err}");
}

/// `init` writes a starter file that the next run picks up, and refuses to overwrite it.
#[test]
fn init_writes_a_working_starter() {
    let repo = tempfile::tempdir().unwrap();
    let out = bin(repo.path(), &["init"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(repo.path().join(".sandbox-lint.yaml")).unwrap();
    assert!(text.contains("policies:"));
    let out = bin(repo.path(), &["init"]);
    assert_eq!(out.status.code(), Some(2), "no silent overwrite");
    write(&repo.path().join("pod.yaml"), POD);
    let out = bin(repo.path(), &["check"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
