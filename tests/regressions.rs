//! Replays `fuzz/regressions/TARGET/*`: every input that ever crashed, hung
//! or blew up sandbox-lint (found by the fuzz targets of `fuzz/`, by
//! tests/bounds.rs or by hand), through the same path its fuzz target takes,
//! with bounds on time and memory.
//!
//! Each input goes through the binary under `prlimit --data` (512 MiB) and a
//! wall-clock bound, named as its fuzz target names it (`manifest.yaml`,
//! `Dockerfile`, `network.yaml` beside the compliant runner pod and the seeds'
//! cluster, a policy checking the compliant examples); AdmissionReview bodies
//! go through `webhook::review::review` in a thread with the same time bound.
//! The run must end with exit 0, 1 or 2 and no panic; when `NAME.expect`
//! exists, each code it lists (one per line) must be among the findings: the
//! inputs that once passed silently must keep failing.

#[path = "common/bounded.rs"]
mod bounded;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

const WALL_LIMIT: Duration = Duration::from_secs(60);
const DATA_LIMIT: &str = "--data=536870912";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn inputs(target: &str) -> Vec<PathBuf> {
    let dir = root().join("fuzz/regressions").join(target);
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .filter(|p| p.extension().is_none_or(|e| e != "expect"))
        .filter(|p| p.file_name().is_some_and(|n| n != ".gitkeep"))
        .collect();
    v.sort();
    v
}

fn expected_codes(input: &Path) -> BTreeSet<String> {
    let mut p = input.as_os_str().to_owned();
    p.push(".expect");
    std::fs::read_to_string(PathBuf::from(p))
        .map(|s| {
            s.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Runs the binary with `args` under the bounds; returns (exit code, stdout, stderr).
fn run_bounded(args: &[&std::ffi::OsStr]) -> (Option<i32>, String, String) {
    let run = bounded::run(DATA_LIMIT, args, WALL_LIMIT);
    (run.code, run.stdout_text(), run.stderr)
}

fn codes_in(json: &str) -> BTreeSet<String> {
    let v: serde_json::Value = serde_json::from_str(json).unwrap_or_default();
    v["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["code"].as_str().map(str::to_string))
        .collect()
}

/// Replays the inputs of a target that goes through `check`.
fn replay_check(target: &str, name: &str, extra: &[PathBuf], policy: bool) {
    let inputs = inputs(target);
    let dir = tempfile::tempdir().unwrap();
    let mut problems = Vec::new();
    for input in &inputs {
        let copy = dir.path().join(name);
        std::fs::copy(input, &copy).unwrap();
        let mut args: Vec<&std::ffi::OsStr> = ["check", "--format", "json"]
            .map(std::ffi::OsStr::new)
            .to_vec();
        if policy {
            args.extend(["-p".as_ref(), copy.as_os_str()]);
        } else {
            args.push(copy.as_os_str());
        }
        args.extend(extra.iter().map(|p| p.as_os_str()));
        let (code, out, err) = run_bounded(&args);
        let label = input.strip_prefix(root()).unwrap_or(input).display();
        if !matches!(code, Some(0..=2)) || err.contains("panicked") {
            problems.push(format!(
                "{label}: exit {code:?}: {}",
                err.chars().take(300).collect::<String>()
            ));
            continue;
        }
        let found = codes_in(&out);
        let missing: Vec<_> = expected_codes(input)
            .into_iter()
            .filter(|c| !found.contains(c))
            .collect();
        if !missing.is_empty() {
            problems.push(format!("{label}: expected {missing:?} among {found:?}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn yaml_check_regressions() {
    replay_check("yaml_check", "manifest.yaml", &[], false);
}

#[test]
fn dockerfile_regressions() {
    replay_check("dockerfile", "Dockerfile", &[], false);
}

#[test]
fn netpol_regressions() {
    replay_check(
        "netpol",
        "network.yaml",
        &[
            root().join("testdata/compliant/ok-runner-pod.yaml"),
            root().join("testdata/context/cluster.yaml"),
        ],
        false,
    );
}

#[test]
fn policy_regressions() {
    replay_check(
        "policy",
        "policy.yaml",
        &[
            root().join("testdata/compliant/ok-runner-pod.yaml"),
            root().join("testdata/seeds"),
        ],
        true,
    );
}

#[test]
fn webhook_review_regressions() {
    let linter = std::sync::Arc::new(sandbox_lint::linter::Linter::with_default_policy());
    for input in inputs("webhook_review") {
        let body = std::fs::read(&input).unwrap();
        let l = linter.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                format!("{:?}", sandbox_lint::webhook::review::review(&l, &body))
            }));
            let _ = tx.send(outcome.is_ok());
        });
        match rx.recv_timeout(WALL_LIMIT) {
            Ok(true) => {}
            Ok(false) => panic!("{}: review panicked", input.display()),
            Err(_) => panic!("{}: review did not end in {WALL_LIMIT:?}", input.display()),
        }
    }
}

/// The replay is not vacuous: every target has inputs, and an input whose
/// expectation is not met is reported (a privileged pod does not give SL9002).
#[test]
fn replay_detects_a_missing_expectation() {
    for t in [
        "yaml_check",
        "dockerfile",
        "webhook_review",
        "policy",
        "netpol",
    ] {
        assert!(!inputs(t).is_empty(), "fuzz/regressions/{t} is empty");
    }
    let dir = tempfile::tempdir().unwrap();
    let pod = dir.path().join("pod.yaml");
    std::fs::write(&pod, "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {hostPID: true, containers: [{name: c, image: ubuntu}]}\n").unwrap();
    let (code, out, _) = run_bounded(&[
        "check".as_ref(),
        "--format".as_ref(),
        "json".as_ref(),
        pod.as_os_str(),
    ]);
    assert_eq!(code, Some(1));
    let found = codes_in(&out);
    assert!(
        found.contains("SL1013") && !found.contains("SL9002"),
        "{found:?}"
    );
}
