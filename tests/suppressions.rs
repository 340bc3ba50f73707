//! Suppressions and exemptions: inline comments (with a mandatory reason),
//! policy exemptions (with expiry), and annotations only where a policy allows
//! them. Suppressed findings stay visible in json and SARIF.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

const POD: &str = include_str!("../testdata/compliant/ok-runner-pod.yaml");

/// The cluster the test pods refer to (NetworkPolicy, ServiceAccount,
/// RuntimeClass), passed as `--context` so that only what a test plants is found.
fn context() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/context")
}

fn run(dir: &Path, args: &[&str]) -> (i32, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_sandbox-lint"))
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .args(["check", "-f", "json"])
        .arg("--context")
        .arg(context())
        .args(args)
        .output()
        .unwrap();
    let json = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    (out.status.code().unwrap_or(-1), json)
}

fn codes(doc: &Value, active: bool) -> Vec<String> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["suppressed"].is_null() == active)
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

/// The compliant pod with its image made `:latest` (one SL1019 error) and `line` inserted before it.
fn latest_pod(line_above: &str, trailing: &str) -> String {
    let image = POD.lines().find(|l| l.contains("image:")).unwrap();
    let replaced = format!("{line_above}    image: gcr.io/plue-prod/runner:latest{trailing}",);
    POD.replace(image, &replaced)
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

/// A trailing or line-above comment with a reason suppresses the finding; it stays in json as suppressed and the run passes.
#[test]
fn inline_comments_suppress_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "trailing.yaml",
        &latest_pod(
            "",
            "  # sandbox-lint: ignore[SL1019] pinned by the deploy job",
        ),
    );
    write(
        dir.path(),
        "above.yaml",
        &latest_pod(
            "    # sandbox-lint: ignore[image-tag] pinned by the deploy job\n",
            "",
        ),
    );
    for f in ["trailing.yaml", "above.yaml"] {
        let (code, doc) = run(dir.path(), &[f]);
        assert_eq!(code, 0, "{f}: {doc}");
        assert_eq!(codes(&doc, true), Vec::<String>::new(), "{f}");
        assert_eq!(codes(&doc, false), ["SL1019"], "{f}");
        let s = &doc["findings"][0]["suppressed"];
        assert_eq!(s["kind"], "inline");
        assert_eq!(s["reason"], "pinned by the deploy job");
        assert_eq!(doc["summary"]["suppressed"], 1);
        assert_eq!(doc["summary"]["error"], 0);
    }
}

/// `--no-inline-suppressions` reads suppression comments as plain comments:
/// the findings they covered (in YAML and in a Dockerfile) count and fail the
/// run, and a comment that matches nothing is not reported either.
#[test]
fn inline_suppressions_can_be_switched_off() {
    let dir = tempfile::tempdir().unwrap();
    let pod = latest_pod(
        "",
        "  # sandbox-lint: ignore[SL1019] pinned by the deploy job",
    );
    write(
        dir.path(),
        "p.yaml",
        &format!("# sandbox-lint: ignore[SL1001] matches nothing\n{pod}"),
    );
    write(
        dir.path(),
        "Dockerfile",
        "# sandbox-lint: ignore[SL4005] the mirror pins it by digest\nFROM python:3.12-slim\nUSER 1000\nHEALTHCHECK CMD true\n",
    );
    let (code, doc) = run(dir.path(), &["p.yaml", "Dockerfile"]);
    assert_eq!(code, 0, "{doc}");
    assert_eq!(codes(&doc, true), ["SL9009"], "{doc}");
    let mut suppressed = codes(&doc, false);
    suppressed.sort();
    assert_eq!(suppressed, ["SL1019", "SL4005"], "{doc}");

    let (code, doc) = run(
        dir.path(),
        &["--no-inline-suppressions", "p.yaml", "Dockerfile"],
    );
    assert_eq!(code, 1, "{doc}");
    let mut active = codes(&doc, true);
    active.sort();
    assert_eq!(active, ["SL1019", "SL4005"], "{doc}");
    assert_eq!(doc["summary"]["suppressed"], 0);
}

/// A comment without a reason suppresses nothing and is itself an error.
#[test]
fn a_reason_is_mandatory() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "p.yaml",
        &latest_pod("", "  # sandbox-lint: ignore[SL1019]"),
    );
    let (code, doc) = run(dir.path(), &["p.yaml"]);
    assert_eq!(code, 1);
    let mut got = codes(&doc, true);
    got.sort();
    assert_eq!(got, ["SL1019", "SL9008"]);
}

/// A suppression that matches nothing is reported as unused; one two lines above does not reach.
#[test]
fn unused_suppressions_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "p.yaml",
        &latest_pod(
            "    # sandbox-lint: ignore[SL1019] too far away\n    imagePullPolicy: Always\n",
            "",
        ),
    );
    let (_, doc) = run(dir.path(), &["p.yaml"]);
    let mut got = codes(&doc, true);
    got.sort();
    assert_eq!(got, ["SL1019", "SL9009"]);
}

/// Input errors cannot be suppressed.
#[test]
fn unreadable_input_is_not_suppressible() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "p.yaml",
        "# sandbox-lint: ignore[SL9002] broken on purpose\na: [\n",
    );
    let (code, doc) = run(dir.path(), &["p.yaml"]);
    assert_eq!(code, 2);
    assert!(codes(&doc, true).contains(&"SL9002".to_string()), "{doc}");
}

fn policy(extra: &str) -> String {
    format!(
        "apiVersion: sandbox-lint.dev/v1alpha1\nkind: Policy\nmetadata: {{name: team}}\nspec:\n  extends: [gvisor-sandbox]\n{extra}"
    )
}

/// A live exemption suppresses the findings it names for the objects it selects; an expired one does not and is reported.
#[test]
fn exemptions_apply_until_they_expire() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "pod.yaml", &latest_pod("", ""));
    write(
        dir.path(),
        "live.yaml",
        &policy(
            "  exemptions:\n  - rules: [image-tag]\n    namespaces: [workflows]\n    images: ['gcr.io/plue-prod/*']\n    reason: the registry rewrites tags to digests\n    expires: '2999-01-01'\n",
        ),
    );
    let (code, doc) = run(dir.path(), &["--policy", "live.yaml", "pod.yaml"]);
    assert_eq!(code, 0, "{doc}");
    assert_eq!(codes(&doc, false), ["SL1019"]);
    assert_eq!(doc["findings"][0]["suppressed"]["kind"], "exemption");

    write(
        dir.path(),
        "other-ns.yaml",
        &policy(
            "  exemptions:\n  - rules: [image-tag]\n    namespaces: [elsewhere]\n    reason: not this namespace\n",
        ),
    );
    let (code, _) = run(dir.path(), &["--policy", "other-ns.yaml", "pod.yaml"]);
    assert_eq!(code, 1, "an exemption for another namespace does not apply");

    write(
        dir.path(),
        "expired.yaml",
        &policy(
            "  exemptions:\n  - rules: [SL1019]\n    reason: until the pipeline pins digests\n    expires: '2020-01-01'\n",
        ),
    );
    let (code, doc) = run(dir.path(), &["--policy", "expired.yaml", "pod.yaml"]);
    assert_eq!(code, 1);
    let mut got = codes(&doc, true);
    got.sort();
    assert_eq!(got, ["SL1019", "SL9010"]);
    let expired = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "SL9010")
        .unwrap();
    assert_eq!(expired["file"], "expired.yaml");
    assert_eq!(expired["line"], 7, "points at the exemption in the policy");
}

/// Annotations suppress nothing unless the policy names the annotation and the rule.
#[test]
fn annotations_need_the_policy_to_allow_them() {
    let dir = tempfile::tempdir().unwrap();
    let annotated = latest_pod("", "").replace(
        "  labels:\n",
        "  annotations:\n    sandbox-lint.dev/ignore: 'SL1019: digest added at deploy; SL1001: no gvisor here'\n  labels:\n",
    );
    write(dir.path(), "pod.yaml", &annotated);
    let (code, doc) = run(dir.path(), &["pod.yaml"]);
    assert_eq!(code, 1, "the default policy ignores annotations");
    assert_eq!(codes(&doc, true), ["SL1019"]);

    write(
        dir.path(),
        "allow.yaml",
        &policy(
            "  annotationSuppressions:\n    annotation: sandbox-lint.dev/ignore\n    rules: [image-tag]\n",
        ),
    );
    let (code, doc) = run(dir.path(), &["--policy", "allow.yaml", "pod.yaml"]);
    assert_eq!(codes(&doc, false), ["SL1019"], "{doc}");
    assert_eq!(
        codes(&doc, true),
        ["SL9008"],
        "SL1001 is not allowed: {doc}"
    );
    assert_eq!(code, 1);
}

/// SARIF carries suppressed results with `suppressions` (inSource for comments).
#[test]
fn sarif_marks_suppressed_results() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "p.yaml",
        &latest_pod("", "  # sandbox-lint: ignore[SL1019] pinned at deploy"),
    );
    let out = Command::new(env!("CARGO_BIN_EXE_sandbox-lint"))
        .current_dir(dir.path())
        .args(["check", "-f", "sarif", "p.yaml", "--context"])
        .arg(context())
        .output()
        .unwrap();
    let log: Value = serde_json::from_slice(&out.stdout).unwrap();
    let result = &log["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "SL1019");
    assert_eq!(result["suppressions"][0]["kind"], "inSource");
    assert!(
        result["suppressions"][0]["justification"]
            .as_str()
            .unwrap()
            .contains("pinned at deploy")
    );
}
