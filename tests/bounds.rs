//! Every input under 1 MiB is checked in bounded time and memory, in every
//! report format, and ends with an answer: exit 0, 1 or 2 with a report,
//! never a crash, a kill or a run away.
//!
//! The inputs are the shapes of `benches/corpus/hostile_yaml.rs` (many
//! documents, dense findings, deep nesting, one huge line, aliases, syntax
//! errors, lone CRs, ...), each filling just under 1 MiB. The debug binary
//! runs under `prlimit --data` (heap and anonymous mappings, 256 MiB: the
//! issue's target, which the release build meets with room to spare; see
//! `cargo bench --bench bounds` for its times and peak RSS) and is killed
//! after a generous wall-clock bound: the time target (2 s) is for the
//! release build and is measured by the benchmark, not here.

#[path = "../benches/corpus/hostile_yaml.rs"]
mod hostile_yaml;

#[path = "common/bounded.rs"]
mod bounded;

use std::path::Path;
use std::time::Duration;

const BUDGET: usize = (1 << 20) - 1;
const DATA_LIMIT: &str = "--data=268435456";
/// Debug builds are many times slower than release; this only catches a run
/// that does not end (the quadratic cases took minutes before).
const WALL_LIMIT: Duration = Duration::from_secs(60);

fn run_bounded(path: &Path, format: &str) -> bounded::Bounded {
    let args = ["check", "--format", format, "-j", "1"]
        .map(std::ffi::OsStr::new)
        .into_iter()
        .chain([path.as_os_str()])
        .collect::<Vec<_>>();
    bounded::run(DATA_LIMIT, &args, WALL_LIMIT)
}

fn check_shapes(formats: &[&str], only: Option<&[&str]>) {
    let dir = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for shape in hostile_yaml::shapes(BUDGET) {
        if only.is_some_and(|o| !o.contains(&shape.name)) {
            continue;
        }
        let path = dir.path().join(format!("{}.yaml", shape.name));
        std::fs::write(&path, &shape.text).unwrap();
        for format in formats {
            let o = run_bounded(&path, format);
            eprintln!("{:<30} {:<7} {}", shape.name, format, o.describe());
            if !o.answered() || o.stdout.is_empty() {
                failures.push(format!(
                    "{} --format {format}: {}",
                    shape.name,
                    o.describe()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "unbounded:\n{}", failures.join("\n"));
}

/// Every shape, in the default (human) format and as JSON.
#[test]
fn every_shape_is_bounded_in_human_and_json() {
    check_shapes(&["human", "json"], None);
}

/// The finding-dense shapes in the other formats (SARIF, JUnit, GitHub,
/// short): the reporters were where the quadratic costs were.
#[test]
fn finding_dense_shapes_are_bounded_in_every_format() {
    check_shapes(
        &["sarif", "junit", "github", "short"],
        Some(&[
            "privileged-pods",
            "one-pod-many-containers",
            "syntax-error-documents",
            "tiny-documents",
        ]),
    );
}

/// The limit is real: the same binary under a limit far below what a
/// finding-dense input needs fails (so the bound above is not vacuous).
#[test]
fn the_memory_limit_is_enforced() {
    let dir = tempfile::tempdir().unwrap();
    let shape = hostile_yaml::shapes(BUDGET)
        .into_iter()
        .find(|s| s.name == "privileged-pods")
        .unwrap();
    let path = dir.path().join("dense.yaml");
    std::fs::write(&path, &shape.text).unwrap();
    let out = bounded::run(
        "--data=16777216",
        &[
            "check".as_ref(),
            "--format".as_ref(),
            "json".as_ref(),
            path.as_os_str(),
        ],
        WALL_LIMIT,
    );
    assert!(
        !matches!(out.code, Some(0 | 1)),
        "a 16 MiB data limit should not be enough: {}",
        out.describe()
    );
}
