//! Custom rules declared in policies: JSON Schema checks on objects or
//! containers, reported at the schema error's instance path.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

const POD: &str = include_str!("../testdata/compliant/ok-runner-pod.yaml");

fn run(dir: &Path, args: &[&str]) -> (i32, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_sandbox-lint"))
        .current_dir(dir)
        .args(["check", "--no-config", "-f", "json"])
        .args(args)
        .output()
        .unwrap();
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), json)
}

fn example(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("policies/examples")
        .join(name)
        .display()
        .to_string()
}

fn findings(doc: &Value) -> Vec<(String, u64, String)> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                f["pointer"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// A container-target rule reports each offending container at its image, and passes compliant ones.
#[test]
fn approved_registry_checks_every_container() {
    let dir = tempfile::tempdir().unwrap();
    let image = POD.lines().find(|l| l.contains("image:")).unwrap();
    let bad = POD.replace(
        image,
        &format!(
            "{image}\n  initContainers:\n  - name: fetch\n    image: docker.io/library/busybox:1.36"
        ),
    );
    std::fs::write(dir.path().join("bad.yaml"), bad).unwrap();
    std::fs::write(dir.path().join("good.yaml"), POD).unwrap();
    let policy = example("approved-registry.yaml");
    let (code, doc) = run(dir.path(), &["--policy", &policy, "good.yaml"]);
    assert_eq!(code, 0, "{doc}");
    let (code, doc) = run(dir.path(), &["--policy", &policy, "bad.yaml"]);
    assert_eq!(code, 1);
    let got = findings(&doc);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, "ACME001");
    assert_eq!(got[0].2, "/spec/initContainers/0/image");
    let line = POD.lines().position(|l| l == image).unwrap() as u64 + 4;
    assert_eq!(got[0].1, line, "points at the init container's image");
    assert!(
        doc["findings"][0]["help"]
            .as_str()
            .unwrap()
            .contains("by digest")
    );
}

/// An object-target rule reports a missing label at the labels mapping, with its severity.
#[test]
fn ownership_labels_point_at_the_labels() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pod.yaml"), POD).unwrap();
    let (code, doc) = run(
        dir.path(),
        &["--policy", &example("ownership-labels.yaml"), "pod.yaml"],
    );
    assert_eq!(code, 0, "a warning does not fail the run");
    let f = &doc["findings"][0];
    assert_eq!(f["code"], "ACME002");
    assert_eq!(f["severity"], "warning");
    assert_eq!(f["pointer"], "/metadata/labels");
    assert!(f["message"].as_str().unwrap().contains("team"), "{f}");
    assert_eq!(f["line"], 8, "the `labels:` key");
}

/// Custom rules can be suppressed inline by code and exempted by name, like built-in ones.
#[test]
fn custom_rules_are_suppressible_and_exemptible() {
    let dir = tempfile::tempdir().unwrap();
    let pod = POD.replace(
        "  labels:\n",
        "  labels:  # sandbox-lint: ignore[ACME002] owned by the platform team\n",
    );
    std::fs::write(dir.path().join("pod.yaml"), pod).unwrap();
    let (_, doc) = run(
        dir.path(),
        &["--policy", &example("ownership-labels.yaml"), "pod.yaml"],
    );
    assert_eq!(doc["findings"][0]["suppressed"]["kind"], "inline", "{doc}");
    assert_eq!(doc["summary"]["warning"], 0);

    std::fs::write(dir.path().join("plain.yaml"), POD).unwrap();
    std::fs::write(
        dir.path().join("exempt.yaml"),
        format!(
            "apiVersion: sandbox-lint.dev/v1alpha1\nkind: Policy\nmetadata: {{name: x}}\nspec:\n  extends: [{}]\n  exemptions:\n  - rules: [ownership-labels]\n    names: [runner]\n    reason: a fixture\n",
            example("ownership-labels.yaml")
        ),
    )
    .unwrap();
    let (_, doc) = run(dir.path(), &["--policy", "exempt.yaml", "plain.yaml"]);
    assert_eq!(
        doc["findings"][0]["suppressed"]["kind"], "exemption",
        "{doc}"
    );
}

/// A broken schema, a reserved code or a duplicate is refused at load, at the rule.
#[test]
fn bad_custom_rules_are_refused_at_load() {
    let head = "apiVersion: sandbox-lint.dev/v1alpha1\nkind: Policy\nmetadata: {name: t}\nspec:\n  customRules:\n";
    let rule = |code: &str, schema: &str| {
        format!(
            "  - code: {code}\n    name: r-{}\n    message: m\n    remediation: r\n    schema: {schema}\n",
            code.to_lowercase()
        )
    };
    let load =
        |text: String| sandbox_lint::policy::load_text("t.yaml", &text, None, &mut Vec::new());
    let e = load(format!("{head}{}", rule("ACME1", "{type: nonsense}"))).unwrap_err();
    assert!(e.errors[0].message.contains("invalid JSON Schema"), "{e:?}");
    assert_eq!(e.errors[0].line, 10, "at the `schema:` key");
    let e = load(format!("{head}{}", rule("SL1234", "{}"))).unwrap_err();
    assert!(e.errors[0].message.contains("reserved"), "{e:?}");
    let e = load(format!(
        "{head}{}{}",
        rule("ACME1", "{}"),
        rule("ACME1", "{}")
    ))
    .unwrap_err();
    assert!(e.errors[0].message.contains("declared twice"), "{e:?}");
    assert!(load(format!("{head}{}", rule("ACME1", "{}"))).is_ok());
}
