//! Where users run it: the pre-commit hook (with the real `pre-commit` from
//! PyPI, running the `sandbox-lint` that `cargo install --locked` put on PATH,
//! as the README says) and the composite GitHub
//! action (its metadata shape, and its shell steps run here as the runner would).
//! Both build sandbox-lint in release mode into one shared target directory
//! (`target/integrations`), so the second build reuses the first. That build
//! is made cheap with `CARGO_PROFILE_RELEASE_*` variables ([`quick_release`]):
//! the commands are the ones users run, only the optimisation they would get
//! is skipped, since these tests look at behaviour, not speed.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn checkout() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn shared_target() -> PathBuf {
    checkout().join("target/integrations")
}

/// Points cargo at the shared target directory and makes its release profile
/// compile like the dev profile (no optimisation, no debug info, many codegen
/// units): about a third of an optimised build of kube, axum and k8s-openapi.
fn quick_release(cmd: &mut Command) -> &mut Command {
    cmd.env("CARGO_TARGET_DIR", shared_target())
        .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "0")
        .env("CARGO_PROFILE_RELEASE_DEBUG", "false")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "256")
        .env("CARGO_PROFILE_RELEASE_LTO", "false")
}

const POD: &str = include_str!("../testdata/compliant/ok-runner-pod.yaml");

fn latest() -> String {
    let image = POD.lines().find(|l| l.contains("image:")).unwrap();
    POD.replace(image, "    image: runner:latest")
}

fn ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn action() -> Value {
    let text = std::fs::read_to_string(checkout().join("action.yml")).unwrap();
    serde_saphyr::from_str(&text).unwrap()
}

fn keys(v: &Value) -> BTreeSet<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

/// action.yml has the shape GitHub's action metadata syntax defines for a composite action.
#[test]
fn action_yml_has_the_composite_action_shape() {
    let a = action();
    let top = BTreeSet::from([
        "name",
        "author",
        "description",
        "inputs",
        "outputs",
        "runs",
        "branding",
    ]);
    assert!(keys(&a).is_subset(&top), "{:?}", keys(&a));
    assert!(a["name"].is_string() && a["description"].is_string());
    let inputs = a["inputs"].as_object().unwrap();
    for (name, input) in inputs {
        assert!(
            keys(input).is_subset(&BTreeSet::from([
                "description",
                "required",
                "default",
                "deprecationMessage"
            ])),
            "{name}"
        );
        assert!(
            input["description"].is_string(),
            "input {name} needs a description"
        );
        assert!(
            input.get("required").is_none_or(Value::is_boolean),
            "{name}"
        );
    }
    assert_eq!(a["runs"]["using"], "composite");
    let steps = a["runs"]["steps"].as_array().unwrap();
    let step_keys = BTreeSet::from([
        "name",
        "id",
        "if",
        "run",
        "shell",
        "env",
        "working-directory",
        "uses",
        "with",
        "continue-on-error",
    ]);
    let mut ids = BTreeSet::new();
    let all_text = serde_json::to_string(&a).unwrap();
    for s in steps {
        assert!(keys(s).is_subset(&step_keys), "{:?}", keys(s));
        if s.get("run").is_some() {
            assert!(
                s["shell"].is_string(),
                "composite run steps need a shell: {s}"
            );
        }
        if let Some(id) = s["id"].as_str() {
            ids.insert(id.to_string());
        }
    }
    for (name, output) in a["outputs"].as_object().unwrap() {
        let value = output["value"].as_str().unwrap();
        let id = value
            .split("steps.")
            .nth(1)
            .unwrap()
            .split('.')
            .next()
            .unwrap();
        assert!(
            ids.contains(id),
            "output {name} refers to unknown step {id}"
        );
    }
    for reference in all_text.split("inputs.").skip(1) {
        let name: String = reference
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '-')
            .collect();
        assert!(inputs.contains_key(&name), "unknown input {name}");
    }
}

/// Runs the action's steps with bash as the runner would: install from this checkout, write SARIF, annotate.
#[test]
fn action_steps_run_locally() {
    let a = action();
    let tmp = tempfile::tempdir().unwrap();
    let workspace = tmp.path().join("workspace");
    std::fs::create_dir_all(workspace.join("k8s")).unwrap();
    std::fs::write(workspace.join("k8s/pod.yaml"), latest()).unwrap();
    let runner_temp = tmp.path().join("runner");
    std::fs::create_dir_all(&runner_temp).unwrap();
    let github_path = tmp.path().join("github_path");
    let github_output = tmp.path().join("github_output");
    std::fs::write(&github_path, "").unwrap();
    std::fs::write(&github_output, "").unwrap();
    let inputs = [
        ("paths", "k8s"),
        ("policy", ""),
        ("fail-on", "error"),
        ("sarif-file", "out.sarif"),
    ];
    let expand = |v: &str| {
        let mut v = v.replace(
            "${{ github.action_path }}",
            &checkout().display().to_string(),
        );
        for (k, val) in inputs {
            v = v.replace(&format!("${{{{ inputs.{k} }}}}"), val);
        }
        v
    };
    let mut codes = Vec::new();
    let mut annotations = String::new();
    for step in a["runs"]["steps"].as_array().unwrap() {
        let mut cmd = Command::new("bash");
        cmd.arg("-c")
            .arg(step["run"].as_str().unwrap())
            .current_dir(&workspace);
        cmd.env("RUNNER_TEMP", &runner_temp)
            .env("GITHUB_PATH", &github_path)
            .env("GITHUB_OUTPUT", &github_output);
        quick_release(&mut cmd);
        let extra: Vec<String> = std::fs::read_to_string(&github_path)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect();
        let path = std::env::var("PATH").unwrap_or_default();
        cmd.env("PATH", format!("{}:{path}", extra.join(":")));
        for (k, v) in step["env"].as_object().into_iter().flatten() {
            cmd.env(k, expand(v.as_str().unwrap()));
        }
        let out = cmd.output().unwrap();
        codes.push(out.status.code());
        annotations.push_str(&String::from_utf8_lossy(&out.stdout));
        if codes.len() == 1 {
            ok(&out, "install step");
        }
    }
    assert_eq!(
        codes,
        [Some(0), Some(0), Some(1)],
        "install, SARIF (never fails), annotate (fails on the error)"
    );
    let sarif: Value =
        serde_json::from_str(&std::fs::read_to_string(workspace.join("out.sarif")).unwrap())
            .unwrap();
    // The pod's error; its cross-resource checks are "cannot verify" warnings
    // (the workspace holds no NetworkPolicy, ServiceAccount or RuntimeClass).
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert!(
        results
            .iter()
            .any(|r| r["ruleId"] == "SL1019" && r["level"] == "error"),
        "{sarif}"
    );
    assert!(
        results
            .iter()
            .filter(|r| r["ruleId"] != "SL1019")
            .all(|r| r["level"] == "warning"),
        "{sarif}"
    );
    assert!(
        std::fs::read_to_string(&github_output)
            .unwrap()
            .contains("sarif-file=out.sarif")
    );
    assert!(
        annotations.contains("::error file=k8s/pod.yaml,line="),
        "{annotations}"
    );
}

/// `pre-commit` from PyPI: a venv under target/ (built once), or one named by SANDBOX_LINT_PRE_COMMIT.
fn pre_commit() -> PathBuf {
    if let Some(p) = std::env::var_os("SANDBOX_LINT_PRE_COMMIT") {
        return PathBuf::from(p);
    }
    let venv = checkout().join("target/pre-commit-venv");
    let bin = venv.join("bin/pre-commit");
    if !bin.exists() {
        let out = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .output()
            .unwrap();
        ok(&out, "python3 -m venv");
        let out = Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "pre-commit"])
            .output()
            .unwrap();
        ok(&out, "pip install pre-commit");
    }
    bin
}

fn git(dir: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new("git");
    cmd.current_dir(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
        .args(args)
        .env("PRE_COMMIT_HOME", checkout().join("target/pre-commit-home"));
    quick_release(&mut cmd).output().unwrap()
}

/// A runner image ending with `user`.
fn dockerfile(user: &str) -> String {
    format!(
        "FROM python:3.12-slim@sha256:{}\nRUN useradd -u 10001 runner\nHEALTHCHECK CMD [\"true\"]\n{user}\n",
        "3f".repeat(32)
    )
}

/// The version of `name` that Cargo.lock pins (the only one in the lock).
fn locked_version(name: &str) -> String {
    let lock = std::fs::read_to_string(checkout().join("Cargo.lock")).unwrap();
    let versions: Vec<&str> = lock
        .split("[[package]]")
        .filter(|p| p.contains(&format!("name = \"{name}\"\n")))
        .map(|p| {
            let v = p.split("version = \"").nth(1).unwrap();
            &v[..v.find('"').unwrap()]
        })
        .collect();
    assert_eq!(versions.len(), 1, "{name}: {versions:?}");
    versions[0].to_string()
}

/// The versions of crate `name` whose sources were compiled into `binary`:
/// panic locations name the registry source directory (`name-1.2.3/src/...`),
/// and they are data, kept by `strip`.
fn compiled_versions(binary: &Path, name: &str) -> BTreeSet<String> {
    let bytes = std::fs::read(binary).unwrap();
    let needle = format!("{name}-");
    let mut found = BTreeSet::new();
    let mut at = 0;
    while let Some(i) = bytes[at..]
        .windows(needle.len())
        .position(|w| w == needle.as_bytes())
    {
        let start = at + i + needle.len();
        let rest = &bytes[start..];
        let len = rest
            .iter()
            .take_while(|b| b.is_ascii_digit() || **b == b'.')
            .count();
        if len > 0 && rest[len..].starts_with(b"/src/") {
            found.insert(String::from_utf8_lossy(&rest[..len]).into_owned());
        }
        at = start;
    }
    found
}

/// What the README says to run before the hook: `cargo install --locked` (here
/// into a root of the shared target directory, as the action does).
fn install_locked() -> PathBuf {
    let root = shared_target().join("pre-commit-root");
    let mut cmd = Command::new(env!("CARGO"));
    cmd.args(["install", "--locked", "--quiet", "--root"])
        .arg(&root)
        .arg("--path")
        .arg(checkout());
    ok(&quick_release(&mut cmd).output().unwrap(), "cargo install");
    root.join("bin")
}

/// The README's hook snippet, pointed at this checkout, with the binary the
/// README's `cargo install --locked` builds on PATH: that binary was compiled
/// from the dependency versions Cargo.lock pins (serde-saphyr, which an
/// unlocked `cargo install` resolved to a newer release); a non-compliant pod
/// and a Dockerfile running as root are blocked with our messages (the
/// Dockerfile's `.dockerignore` twin is not checked), compliant ones pass, and
/// the "cannot verify" warnings of the passing commit are shown.
#[test]
fn pre_commit_hook_blocks_non_compliant_manifests() {
    let pre_commit = pre_commit();
    let bin = install_locked();
    let saphyr = compiled_versions(&bin.join("sandbox-lint"), "serde-saphyr");
    assert_eq!(
        saphyr,
        BTreeSet::from([locked_version("serde-saphyr")]),
        "the installed binary is built from the locked serde-saphyr"
    );
    let path = std::env::join_paths(
        std::iter::once(bin).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    let commit = |root: &Path, message: &str| {
        let mut cmd = Command::new("git");
        cmd.current_dir(root)
            .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
            .args(["commit", "-q", "-m", message])
            .env("PATH", &path)
            .env("PRE_COMMIT_HOME", checkout().join("target/pre-commit-home"));
        let out = cmd.output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out, text)
    };
    let rev = String::from_utf8(git(&checkout(), &["rev-parse", "HEAD"]).stdout).unwrap();
    let repo = tempfile::tempdir().unwrap();
    let root = repo.path();
    ok(&git(root, &["init", "-q"]), "git init");
    std::fs::write(
        root.join(".pre-commit-config.yaml"),
        format!(
            "repos:\n- repo: {}\n  rev: {}\n  hooks:\n  - id: sandbox-lint\n  - id: sandbox-lint-dockerfile\n",
            checkout().display(),
            rev.trim()
        ),
    )
    .unwrap();
    let install = Command::new(&pre_commit)
        .current_dir(root)
        .arg("install")
        .output()
        .unwrap();
    ok(&install, "pre-commit install");
    std::fs::write(root.join("runner.yaml"), latest()).unwrap();
    std::fs::write(root.join("values.yaml"), "replicaCount: 1\n").unwrap();
    std::fs::create_dir_all(root.join("image")).unwrap();
    std::fs::write(root.join("image/Dockerfile"), dockerfile("USER root")).unwrap();
    std::fs::write(root.join("image/Dockerfile.dockerignore"), "*.pyc\n").unwrap();
    ok(&git(root, &["add", "."]), "git add");
    let (blocked, output) = commit(root, "bad");
    assert!(
        !blocked.status.success(),
        "the commit must be blocked: {output}"
    );
    assert!(
        output.contains("runner.yaml:") && output.contains("SL1019"),
        "{output}"
    );
    assert!(
        !output.contains("values.yaml"),
        "notes are quiet in the hook: {output}"
    );
    assert!(
        output.contains("image/Dockerfile:4:6: SL4001 USER root"),
        "the Dockerfile hook reports the root user: {output}"
    );
    assert!(!output.contains("dockerignore"), "{output}");

    std::fs::write(root.join("runner.yaml"), POD).unwrap();
    std::fs::write(
        root.join("image/Dockerfile"),
        dockerfile("USER 10001:10001"),
    )
    .unwrap();
    ok(&git(root, &["add", "."]), "git add");
    let (passed, output) = commit(root, "good");
    ok(&passed, "the compliant commit");
    assert!(
        output.contains("runner.yaml:8:3: SL3001 cannot verify that a NetworkPolicy isolates")
            && output.contains("[warning, runner-network-isolated]"),
        "the warnings of a passing commit are shown (verbose: true): {output}"
    );
}
