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

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_sandbox-lint");
const BUDGET: usize = (1 << 20) - 1;
const DATA_LIMIT: &str = "--data=268435456";
/// Debug builds are many times slower than release; this only catches a run
/// that does not end (the quadratic cases took minutes before).
const WALL_LIMIT: Duration = Duration::from_secs(60);

struct Outcome {
    code: Option<i32>,
    stdout_len: usize,
    stderr: String,
    wall: Duration,
}

fn run_bounded(path: &Path, format: &str) -> Outcome {
    let start = Instant::now();
    let mut child = Command::new("prlimit")
        .arg(DATA_LIMIT)
        .arg("--")
        .arg(BIN)
        .args(["check", "--format", format, "-j", "1"])
        .arg(path)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("prlimit (util-linux) runs");
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut n = 0usize;
        let mut buf = vec![0u8; 1 << 16];
        loop {
            match stdout.read(&mut buf) {
                Ok(0) | Err(_) => return n,
                Ok(k) => n += k,
            }
        }
    });
    let mut stderr = child.stderr.take().unwrap();
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > WALL_LIMIT {
            let _ = child.kill();
            break child.wait().unwrap();
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Outcome {
        code: status.code(),
        stdout_len: reader.join().unwrap(),
        stderr: err_reader.join().unwrap(),
        wall: start.elapsed(),
    }
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
            let ok =
                matches!(o.code, Some(0..=2)) && o.stdout_len > 0 && !o.stderr.contains("panicked");
            eprintln!(
                "{:<30} {:<7} exit {:?} in {:>6.2?} ({} bytes of report)",
                shape.name, format, o.code, o.wall, o.stdout_len
            );
            if !ok {
                failures.push(format!(
                    "{} --format {format}: exit {:?} after {:?}, {} bytes of report, stderr: {}",
                    shape.name,
                    o.code,
                    o.wall,
                    o.stdout_len,
                    o.stderr.chars().take(400).collect::<String>()
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
    let out = Command::new("prlimit")
        .arg("--data=16777216")
        .arg("--")
        .arg(BIN)
        .args(["check", "--format", "json"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        !matches!(out.status.code(), Some(0 | 1)),
        "a 16 MiB data limit should not be enough: {:?}",
        out.status
    );
}
