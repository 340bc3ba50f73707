//! Policy files: validation errors point at file:line:col before any input is
//! read; packs, `extends` and `match` behave as documented.

use std::path::Path;
use std::process::Command;

use sandbox_lint::policy::{self, Mode, PolicyErrors};

fn load(text: &str) -> Result<policy::Policy, PolicyErrors> {
    policy::load_text("test.yaml", text, None, &mut Vec::new())
}

fn errors(text: &str) -> Vec<(u32, u32, String, Option<String>)> {
    match load(text) {
        Ok(_) => panic!("expected errors"),
        Err(e) => e
            .errors
            .into_iter()
            .map(|e| (e.line, e.column, e.message, e.help))
            .collect(),
    }
}

const HEAD: &str = "apiVersion: sandbox-lint.dev/v1alpha1\nkind: Policy\nmetadata:\n  name: t\n";

/// A misspelt key is an error at the key, with the key it was meant to be.
#[test]
fn unknown_keys_point_at_the_key_with_a_suggestion() {
    let e = errors(&format!("{HEAD}spec:\n  mode: warn\n  exemtions: []\n"));
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!((e[0].0, e[0].1), (7, 3));
    assert!(e[0].2.contains("exemtions"), "{}", e[0].2);
    assert_eq!(e[0].3.as_deref(), Some("did you mean `exemptions`?"));
}

/// An unknown rule code or name is an error at its key, with "did you mean".
#[test]
fn unknown_rules_are_errors_with_suggestions() {
    let e = errors(&format!(
        "{HEAD}spec:\n  rules:\n    run-as-nonroot: {{enabled: false}}\n"
    ));
    assert_eq!((e[0].0, e[0].1), (7, 5), "{e:?}");
    assert!(
        e[0].2.contains("unknown rule `run-as-nonroot`"),
        "{}",
        e[0].2
    );
    assert_eq!(e[0].3.as_deref(), Some("did you mean `run-as-non-root`?"));
}

/// A parameter of the wrong type is an error at the parameter's value.
#[test]
fn wrongly_typed_parameters_point_at_the_value() {
    let e = errors(&format!(
        "{HEAD}spec:\n  rules:\n    active-deadline:\n      parameters:\n        maxSeconds: soon\n"
    ));
    assert_eq!((e[0].0, e[0].1), (9, 21), "{e:?}");
    assert!(e[0].2.contains("maxSeconds"), "{}", e[0].2);
}

/// A parameter the schema accepts but the rule cannot (a malformed quantity) is still refused at load.
#[test]
fn malformed_quantities_are_refused_at_load() {
    let e = errors(&format!(
        "{HEAD}spec:\n  rules:\n    SL1022:\n      parameters:\n        max: {{cpu: lots}}\n"
    ));
    assert!(e.iter().any(|x| x.2.contains("lots")), "{e:?}");
    assert!(e.iter().all(|x| x.0 >= 7), "{e:?}");
}

/// Wrong apiVersion or kind, a bad mode, a missing exemption reason and a bad date are all reported together.
#[test]
fn every_problem_is_reported_at_once() {
    let e = errors(
        "apiVersion: v1\nkind: Policy\nmetadata: {name: t}\nspec:\n  mode: block\n  exemptions:\n  - rules: [SL1018]\n",
    );
    let lines: Vec<u32> = e.iter().map(|x| x.0).collect();
    assert!(lines.contains(&1), "apiVersion: {e:?}");
    assert!(lines.contains(&5), "mode: {e:?}");
    assert!(e.iter().any(|x| x.2.contains("reason")), "reason: {e:?}");
}

/// A policy extends the built-in pack and overrides one parameter; the rest stays.
#[test]
fn extends_merges_settings_over_the_base() {
    let p = load(&format!(
        "{HEAD}spec:\n  mode: warn\n  extends: [gvisor-sandbox]\n  rules:\n    resource-limits:\n      parameters:\n        max: {{memory: 8Gi}}\n    secret-volume: {{enabled: false}}\n"
    ))
    .unwrap();
    assert_eq!(p.mode, Mode::Warn);
    let max = &p.rules["SL1022"].params.as_ref().unwrap()["max"];
    assert_eq!(max["memory"], "8Gi");
    assert_eq!(max["cpu"], "2", "the base's other limits are kept");
    assert_eq!(p.rules["SL1018"].enabled, Some(false));
}

/// A policy that extends itself (through a file) is refused.
#[test]
fn extends_cycles_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.yaml");
    std::fs::write(
        &a,
        "apiVersion: sandbox-lint.dev/v1alpha1\nkind: Policy\nmetadata: {name: a}\nspec:\n  extends: [b.yaml]\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("b.yaml"),
        "apiVersion: sandbox-lint.dev/v1alpha1\nkind: Policy\nmetadata: {name: b}\nspec:\n  extends: [a.yaml]\n",
    )
    .unwrap();
    let e = policy::load_file(&a).unwrap_err();
    assert!(
        e.errors
            .iter()
            .any(|x| x.message.contains("extends itself")),
        "{e:?}"
    );
}

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sandbox-lint"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1");
    c
}

/// An invalid policy stops the run with exit 2 and the policy's file:line:col, before inputs are read.
#[test]
fn invalid_policy_exits_2_with_its_location() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("p.yaml");
    std::fs::write(&p, format!("{HEAD}spec:\n  rules:\n    SL9999: {{}}\n")).unwrap();
    let out = bin()
        .args(["check", "--policy"])
        .arg(&p)
        .arg("does-not-exist.yaml")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown rule `SL9999`"), "{err}");
    assert!(err.contains("p.yaml:7:5"), "{err}");
    assert!(
        !err.contains("does-not-exist"),
        "inputs are not read: {err}"
    );
}

/// Disabling a rule in a policy removes its findings; `match` limits a policy to the objects it selects.
#[test]
fn policies_change_what_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let off = dir.path().join("off.yaml");
    std::fs::write(
        &off,
        format!("{HEAD}spec:\n  extends: [gvisor-sandbox]\n  rules:\n    image-tag: {{enabled: false}}\n"),
    )
    .unwrap();
    let seeds = Path::new("testdata/seeds/complete-pod.yaml");
    let out = bin().args(["check"]).arg(seeds).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "the default policy flags :latest"
    );
    let out = bin()
        .args(["check", "--policy"])
        .arg(&off)
        .arg(seeds)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    let elsewhere = dir.path().join("elsewhere.yaml");
    std::fs::write(
        &elsewhere,
        format!("{HEAD}spec:\n  extends: [gvisor-sandbox]\n  match:\n    namespaces: [other]\n"),
    )
    .unwrap();
    let out = bin()
        .args(["check", "--policy"])
        .arg(&elsewhere)
        .arg(seeds)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "the pod is in namespace workflows"
    );
}

/// Every pack in policies/ loads, and the default pack is the built-in one.
#[test]
fn shipped_packs_load() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) == Some("yaml") {
            policy::load_file(&path).unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
            n += 1;
        }
    }
    assert!(n >= 1);
    let from_file = policy::load_file(&dir.join("gvisor-sandbox.yaml")).unwrap();
    assert_eq!(from_file.rules.len(), policy::default_policy().rules.len());
}

/// A namespaceSelector sees the labels of Namespace objects anywhere in the run (other files, stdin).
#[test]
fn namespace_selectors_see_namespace_objects_in_the_inputs() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("policy.yaml"),
        format!("{HEAD}spec:\n  extends: [gvisor-sandbox]\n  match:\n    namespaceSelector:\n      matchLabels: {{tier: sandbox}}\n"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("ns.yaml"),
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: workflows\n  labels: {tier: sandbox}\n",
    )
    .unwrap();
    let seed = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/seeds/complete-pod.yaml");
    std::fs::copy(&seed, dir.path().join("pod.yaml")).unwrap();
    let status = |args: &[&str], stdin: Option<&str>| {
        let mut cmd = bin();
        cmd.current_dir(dir.path())
            .args(["check", "--no-config", "--policy", "policy.yaml"])
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null());
        let mut child = cmd.spawn().unwrap();
        let mut input = child.stdin.take().unwrap();
        input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
        drop(input);
        child.wait().unwrap().code()
    };
    assert_eq!(
        status(&["pod.yaml"], None),
        Some(0),
        "without the Namespace object the selector does not match"
    );
    assert_eq!(
        status(&["ns.yaml", "pod.yaml"], None),
        Some(1),
        "the Namespace in another file is seen"
    );
    let pod = std::fs::read_to_string(&seed).unwrap();
    assert_eq!(
        status(&["ns.yaml", "-"], Some(&pod)),
        Some(1),
        "stdin is read once and judged"
    );
}

/// A policy's `match.labelSelector` selects a workload by its own labels or
/// by its pod template's: a Job labelled `app: workflow-runner` only in its
/// template, running under runc, was judged by no rule at all and exited 0.
#[test]
fn label_selectors_see_pod_template_labels() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("policy.yaml"),
        format!("{HEAD}spec:\n  extends: [gvisor-sandbox]\n  match:\n    labelSelector:\n      matchLabels: {{app: workflow-runner}}\n"),
    )
    .unwrap();
    let job = |template_labels: &str| {
        format!(
            "apiVersion: batch/v1\nkind: Job\nmetadata: {{name: j, namespace: workflows}}\nspec:\n  template:\n    metadata:\n      labels: {template_labels}\n    spec:\n      runtimeClassName: runc\n      restartPolicy: Never\n      containers: [{{name: c, image: busybox}}]\n"
        )
    };
    let codes = |template_labels: &str| {
        std::fs::write(dir.path().join("job.yaml"), job(template_labels)).unwrap();
        let out = bin()
            .current_dir(dir.path())
            .args([
                "check",
                "--no-config",
                "-f",
                "json",
                "--policy",
                "policy.yaml",
                "job.yaml",
            ])
            .output()
            .unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let codes: Vec<String> = doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["code"].as_str().unwrap().to_string())
            .collect();
        (out.status.code(), codes)
    };
    let (code, found) = codes("{app: workflow-runner}");
    assert_eq!(code, Some(1), "{found:?}");
    assert!(
        found.iter().any(|c| c == "SL1001"),
        "runtimeClassName: {found:?}"
    );
    let (code, found) = codes("{app: other}");
    assert_eq!(code, Some(0), "not selected: {found:?}");
}
