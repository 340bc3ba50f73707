//! Cross-resource checks end to end, through the binary: NetworkPolicies judged
//! for the runner pods of other files, `explain-network`, `--context`,
//! `--changed-since` with unchanged files as context, "cannot verify" when an
//! object is missing, and one broken file not hiding the others' findings.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_sandbox-lint");

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(dir: &Path, args: &[&str]) -> Run {
    let out = Command::new(BIN)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap(),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn json(r: &Run) -> Value {
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}{}", r.stdout, r.stderr))
}

/// `(file name, line, code, severity)` of every finding.
fn findings(doc: &Value) -> Vec<(String, u64, String, String)> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let file = f["file"].as_str().unwrap_or_default();
            let name = Path::new(file)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            (
                name,
                f["line"].as_u64().unwrap_or(0),
                f["code"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn compliant_pod() -> String {
    std::fs::read_to_string(root().join("testdata/compliant/ok-runner-pod.yaml")).unwrap()
}

fn seeds_policy() -> String {
    std::fs::read_to_string(root().join("testdata/seeds/network-policy.yaml")).unwrap()
}

/// A compliant runner pod checked alone: the objects it refers to are not
/// among the inputs, so isolation, its ServiceAccount and its RuntimeClass are
/// "cannot verify" warnings (exit 0 at the default threshold, 1 with
/// `--fail-on warning`); with `--context` they are verified and the run is clean.
#[test]
fn a_pod_alone_cannot_be_verified_and_context_verifies_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pod.yaml"), compliant_pod()).unwrap();
    let r = run(
        dir.path(),
        &["check", "--no-config", "-f", "json", "pod.yaml"],
    );
    assert_eq!(r.code, 0, "{}", r.stdout);
    let got = findings(&json(&r));
    let codes: Vec<&str> = got.iter().map(|f| f.2.as_str()).collect();
    assert!(codes.contains(&"SL3001"), "{got:?}");
    assert!(codes.contains(&"SL3008"), "{got:?}");
    assert!(
        got.iter().all(|f| f.3 == "warning"),
        "cannot verify is a warning: {got:?}"
    );
    let doc = json(&r);
    assert!(
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["message"].as_str().unwrap().starts_with("cannot verify")),
        "{doc}"
    );
    let r = run(
        dir.path(),
        &["check", "--no-config", "--fail-on", "warning", "pod.yaml"],
    );
    assert_eq!(r.code, 1);

    let context = root().join("testdata/context");
    let r = run(
        dir.path(),
        &[
            "check",
            "--no-config",
            "-f",
            "json",
            "--context",
            context.to_str().unwrap(),
            "pod.yaml",
        ],
    );
    assert_eq!(r.code, 0);
    assert_eq!(findings(&json(&r)), Vec::new(), "{}", r.stdout);
}

/// The seeds' policy in one file, the runner pod in another: the findings are
/// located at the policy's rules (the cause) and link the runner pod (SARIF
/// related locations); the pod gets the required-egress warning, pointing back
/// at the policy. Context objects are never reported on.
#[test]
fn policy_findings_point_at_the_rule_and_link_the_runner() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a-pod.yaml"), compliant_pod()).unwrap();
    std::fs::write(dir.path().join("z-policy.yaml"), seeds_policy()).unwrap();
    let r = run(
        dir.path(),
        &[
            "check",
            "--no-config",
            "-f",
            "sarif",
            "a-pod.yaml",
            "z-policy.yaml",
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    let sarif = json(&r);
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let rule2 = results
        .iter()
        .find(|r| {
            r["ruleId"] == "SL3003"
                && r["message"]["text"]
                    .as_str()
                    .unwrap()
                    .starts_with("egress rule 2 of workflows/runner-network-policy allows TCP/443 to every pod in namespace workflows: runners can reach other runners")
        })
        .unwrap_or_else(|| panic!("{}", r.stdout));
    let at = &rule2["locations"][0]["physicalLocation"];
    assert!(
        at["artifactLocation"]["uri"]
            .as_str()
            .unwrap()
            .ends_with("z-policy.yaml")
    );
    assert_eq!(
        at["region"]["startLine"], 34,
        "the `podSelector: {{}}` peer"
    );
    let related = rule2["relatedLocations"].as_array().unwrap();
    assert_eq!(related.len(), 1, "{related:?}");
    assert!(
        related[0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap()
            .ends_with("a-pod.yaml")
    );
    let https = results
        .iter()
        .find(|r| {
            r["ruleId"] == "SL3004"
                && r["message"]["text"]
                    .as_str()
                    .unwrap()
                    .starts_with("HTTPS (TCP/443) to public addresses is denied")
        })
        .unwrap_or_else(|| panic!("{}", r.stdout));
    assert_eq!(https["level"], "warning");
    assert!(
        https["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap()
            .ends_with("a-pod.yaml")
    );

    // The same policy as --context: used for lookups, not reported.
    let r = run(
        dir.path(),
        &[
            "check",
            "--no-config",
            "-f",
            "json",
            "--context",
            "z-policy.yaml",
            "a-pod.yaml",
        ],
    );
    let got = findings(&json(&r));
    assert!(got.iter().all(|f| f.0 == "a-pod.yaml"), "{got:?}");
    assert!(got.iter().any(|f| f.2 == "SL3004"), "{got:?}");
}

/// `explain-network` on the seeds: the table says which rule opens what. The
/// "Allow Claude API" rule (egress rule 2) lets runners reach other runners on
/// TCP/443, HTTPS to public addresses is denied (and required), and the
/// callback hangs on the labels of a namespace that is not among the inputs.
#[test]
fn explain_network_tables_the_seeds() {
    let r = run(root(), &["explain-network", "-f", "json", "testdata/seeds"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let doc = json(&r);
    let runners = doc["runners"].as_array().unwrap();
    assert_eq!(runners.len(), 2, "the seeds' two runner pods");
    let t = &runners[0];
    assert_eq!(t["name"], "workflow-run-12345");
    let columns: Vec<&str> = t["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(
        columns,
        ["TCP/53", "TCP/443", "TCP/4000", "UDP/53", "other ports"]
    );
    let cell = |row: &str, column: &str| {
        let row = t["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["destination"].as_str().unwrap().starts_with(row))
            .unwrap_or_else(|| panic!("row {row}"));
        let c = columns.iter().position(|c| *c == column).unwrap();
        row["cells"][c].clone()
    };
    let runners_443 = cell("other runners", "TCP/443");
    assert_eq!(runners_443["verdict"], "allowed");
    assert_eq!(runners_443["beyondAllowList"], true);
    assert!(
        runners_443["by"][0].as_str().unwrap().starts_with(
            "egress rule 2 of workflows/runner-network-policy (testdata/seeds/network-policy.yaml:"
        ),
        "{runners_443}"
    );
    let public_443 = cell("public addresses", "TCP/443");
    assert_eq!(public_443["verdict"], "denied");
    assert_eq!(public_443["required"], true);
    assert_eq!(cell("DNS", "UDP/53")["verdict"], "allowed");
    assert_eq!(cell("DNS", "TCP/53")["verdict"], "denied");
    assert_eq!(cell("callback API", "TCP/4000")["verdict"], "unknown");
    assert_eq!(cell("cloud metadata", "TCP/443")["verdict"], "denied");
    assert_eq!(
        cell("pods of other namespaces", "UDP/53")["verdict"],
        "allowed"
    );

    let human = run(root(), &["explain-network", "testdata/seeds"]);
    assert!(
        human
            .stdout
            .contains("Pod workflows/workflow-run-12345 (testdata/seeds/complete-pod.yaml:8:3)"),
        "{}",
        human.stdout
    );
    assert!(human.stdout.contains("deny!"), "{}", human.stdout);
}

/// With the corrected policy, every required destination is allowed and nothing
/// beyond the allow-list is.
#[test]
fn explain_network_on_the_corrected_policy_is_all_within_the_allow_list() {
    let r = run(
        root(),
        &[
            "explain-network",
            "-f",
            "json",
            "testdata/compliant/ok-runner-pod.yaml",
            "--context",
            "testdata/context",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let doc = json(&r);
    let t = &doc["runners"][0];
    for row in t["rows"].as_array().unwrap() {
        for cell in row["cells"].as_array().unwrap() {
            let allowed = cell["verdict"] == "allowed";
            assert!(
                !(allowed && cell["beyondAllowList"] == true),
                "{}: {cell}",
                row["destination"]
            );
            assert!(
                cell["required"] != true || allowed,
                "{}: {cell}",
                row["destination"]
            );
        }
    }
}

/// A broken YAML file neither hides the network findings of the others nor
/// passes silently (exit 2); `explain-network` reports it and exits 2 too.
#[test]
fn a_broken_file_does_not_hide_network_findings() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("broken.yaml"), "kind: [\n").unwrap();
    std::fs::write(dir.path().join("policy.yaml"), seeds_policy()).unwrap();
    std::fs::write(dir.path().join("pod.yaml"), compliant_pod()).unwrap();
    let r = run(dir.path(), &["check", "--no-config", "-f", "json", "."]);
    assert_eq!(r.code, 2);
    let got = findings(&json(&r));
    assert!(
        got.iter().any(|f| f.0 == "broken.yaml" && f.2 == "SL9002"),
        "{got:?}"
    );
    assert_eq!(
        got.iter()
            .filter(|f| f.0 == "policy.yaml" && f.2 == "SL3003")
            .count(),
        3,
        "{got:?}"
    );
    let r = run(dir.path(), &["explain-network", "."]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("broken.yaml:1:"), "{}", r.stderr);
    assert!(r.stdout.contains("Pod workflows/"), "{}", r.stdout);
}

/// `--changed-since`: only the changed pod is reported, and the unchanged files
/// under the given paths are its context: its NetworkPolicy is found (no
/// "cannot verify"), and the policy's own findings are not reported.
#[test]
fn changed_since_uses_unchanged_files_as_context() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .current_dir(repo)
            .args(args)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    git(&["init", "-q"]);
    std::fs::create_dir_all(repo.join("deploy")).unwrap();
    std::fs::write(
        repo.join("deploy/cluster.yaml"),
        std::fs::read_to_string(root().join("testdata/context/cluster.yaml")).unwrap(),
    )
    .unwrap();
    std::fs::write(
        repo.join("deploy/seed-policy.yaml"),
        seeds_policy().replace("runner-network-policy", "seed-policy"),
    )
    .unwrap();
    std::fs::write(repo.join("deploy/pod.yaml"), compliant_pod()).unwrap();
    git(&["add", "."]);
    git(&["commit", "-qm", "init"]);
    let image_line = compliant_pod()
        .lines()
        .find(|l| l.contains("image:"))
        .unwrap()
        .to_string();
    std::fs::write(
        repo.join("deploy/pod.yaml"),
        compliant_pod().replace(&image_line, "    image: runner:latest"),
    )
    .unwrap();
    let r = run(
        repo,
        &[
            "check",
            "--no-config",
            "-f",
            "json",
            "--changed-since",
            "HEAD",
            "deploy",
        ],
    );
    let got = findings(&json(&r));
    assert!(
        got.iter().all(|f| f.0 == "pod.yaml"),
        "only the changed file: {got:?}"
    );
    let codes: Vec<&str> = got.iter().map(|f| f.2.as_str()).collect();
    assert!(codes.contains(&"SL1019"), "{got:?}");
    assert!(
        !codes.contains(&"SL3001"),
        "the policy is found in the context: {got:?}"
    );
    assert!(!codes.contains(&"SL3008"), "the RuntimeClass too: {got:?}");
    // The unchanged seed policy (also selecting the pod) denies nothing that the
    // correct one allows: union semantics, so no required-egress warning either.
    assert!(!codes.contains(&"SL3004"), "{got:?}");
}

/// The runner selector is a parameter: a policy of one's own sets it once (a
/// YAML anchor) for the network rules. A pod labelled `role: sandbox` is no
/// runner under the default policy, and is one under the team's.
#[test]
fn the_runner_selector_is_a_policy_parameter() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("pod.yaml"),
        compliant_pod().replace("app: workflow-runner", "role: sandbox"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("team.yaml"),
        "apiVersion: sandbox-lint.dev/v1alpha1\nkind: Policy\nmetadata: {name: team}\nspec:\n  extends: [gvisor-sandbox]\n  rules:\n    runner-network-isolated:\n      parameters: &net\n        runnerSelector: {matchLabels: {role: sandbox}}\n    runner-egress: {parameters: *net}\n    runner-ingress: {parameters: *net}\n    runner-required-egress: {parameters: *net}\n",
    )
    .unwrap();
    let context = root().join("testdata/context");
    let ctx = context.to_str().unwrap();
    let codes = |extra: &[&str]| -> Vec<String> {
        let mut args = vec!["check", "--no-config", "-f", "json", "--context", ctx];
        args.extend_from_slice(extra);
        args.push("pod.yaml");
        findings(&json(&run(dir.path(), &args)))
            .into_iter()
            .map(|f| f.2)
            .collect()
    };
    assert_eq!(codes(&[]), Vec::<String>::new(), "not a runner by default");
    assert_eq!(
        codes(&["--policy", "team.yaml"]),
        ["SL3001", "SL3001"],
        "a runner under the team policy, and no policy of the context selects it (ingress, egress)"
    );
}
