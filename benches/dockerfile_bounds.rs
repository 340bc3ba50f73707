//! Hostile Dockerfiles through the release binary: time and peak RSS of
//! `sandbox-lint check` on each generated shape (doubling ARG, ENV bomb, many
//! ARG lines, a long `&&` chain, many flags, one huge line, many
//! continuations, many stages, many findings on one line, deep nesting) at
//! several sizes.
//!
//! ```text
//! cargo bench --bench dockerfile_bounds                          # measure, judge the targets
//! cargo bench --bench dockerfile_bounds -- --before OLD-BINARY   # and the same for another build
//! cargo bench --bench dockerfile_bounds -- --timeout 60 --big    # also a 20 MiB line
//! ```
//!
//! Each run is one process under `prlimit --as` (4 GiB: a runaway binary
//! fails instead of taking the machine) with a wall-clock timeout (default
//! 30 s); peak RSS comes from the probe shared with `benches/check.rs`
//! (`benches/corpus/probe.rs`). Targets for this build: every input
//! under 1 MiB in under 2 s and 256 MiB (exits 1 when one is missed); an
//! input over 3 x its size + 64 MiB (the corpus target of `benches/check.rs`)
//! is noted.
//!
//! Run without `--bench` (as `cargo test --benches` does), it only checks that
//! the generators make files of the sizes asked.

mod hostile;
// Shared with the benches that also run without a timeout.
#[allow(dead_code)]
#[path = "corpus/probe.rs"]
mod probe;

use std::ffi::OsString;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use hostile::Shape;
use probe::{PROBE, Sample, probe, run_probed_within};

const BIN: &str = env!("CARGO_BIN_EXE_sandbox-lint");
const MIB: u64 = 1 << 20;
/// The address-space limit every run gets.
const AS_LIMIT: u64 = 4 << 30;

fn main() -> ExitCode {
    let raw: Vec<OsString> = std::env::args_os().skip(1).collect();
    if raw.first().is_some_and(|a| a == PROBE) {
        return probe(&raw[1..]);
    }
    let argv: Vec<String> = raw
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let mut before = None;
    let mut timeout = Duration::from_secs(30);
    let mut big = false;
    let mut bench = false;
    let mut it = argv.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--bench" => bench = true,
            "--big" => big = true,
            "--before" => before = it.next().cloned(),
            "--timeout" => match it.next().and_then(|s| s.parse().ok()) {
                Some(s) => timeout = Duration::from_secs(s),
                None => {
                    eprintln!("--timeout takes seconds");
                    return ExitCode::from(2);
                }
            },
            _ => {}
        }
    }
    if !bench {
        return smoke();
    }
    run(before.as_deref(), timeout, big)
}

/// The size parameter that makes `shape` about `bytes` long.
fn sized(shape: &Shape, bytes: usize) -> String {
    let unit = (shape.generate)(1001).len() - (shape.generate)(1).len();
    let n = (bytes * 1000 / unit.max(1)).max(1);
    (shape.generate)(n)
}

/// The generators make what they say, at the sizes asked.
fn smoke() -> ExitCode {
    for shape in hostile::shapes() {
        let text = sized(&shape, 64 << 10);
        let ok = text.len() > 32 << 10 && text.len() < 128 << 10 && text.contains("FROM");
        if !ok {
            eprintln!("{}: {} bytes", shape.name, text.len());
            return ExitCode::FAILURE;
        }
    }
    println!("dockerfile_bounds smoke test: ok");
    ExitCode::SUCCESS
}

/// One run of `bin` on `file` under the address-space limit and `timeout`.
fn run_limited(bin: &str, file: &Path, timeout: Duration) -> Sample {
    let args: Vec<OsString> = [
        format!("--as={AS_LIMIT}").into(),
        bin.into(),
        "check".into(),
        "-f".into(),
        "json".into(),
        "-j".into(),
        "1".into(),
        "--dockerfile".into(),
        file.as_os_str().to_owned(),
    ]
    .into();
    run_probed_within("prlimit", &args, Some(timeout))
}

fn show(s: &Sample) -> String {
    let outcome = match s.code {
        -2 => " (timed out)".to_string(),
        0..=2 => String::new(),
        c => format!(" (exit {c})"),
    };
    format!(
        "{:>9.3} s {:>8.1} MiB{outcome}",
        s.wall.as_secs_f64(),
        s.max_rss as f64 / MIB as f64
    )
}

fn run(before: Option<&str>, timeout: Duration, big: bool) -> ExitCode {
    let dir = tempfile::tempdir().expect("scratch directory");
    let mut cases: Vec<(String, String)> = Vec::new();
    for shape in hostile::shapes() {
        match shape.name {
            // The sizes that first showed the problem, then the common ones.
            "doubling ARG" => cases.push((shape.name.into(), hostile::doubling_arg(30))),
            "ENV bomb" => {
                cases.push((shape.name.into(), hostile::env_bomb(16)));
                cases.push((shape.name.into(), hostile::env_bomb(25)));
            }
            "long && chain" => cases.push((shape.name.into(), hostile::and_chain(16_000))),
            "many ARG lines" => cases.push((shape.name.into(), hostile::many_args(16_000))),
            "many flags" => cases.push((shape.name.into(), hostile::many_flags(50_000))),
            "many findings" => cases.push((shape.name.into(), hostile::many_findings(16_000))),
            // The 20 MiB line is `--big`.
            "too many words" => continue,
            _ => {}
        }
        for bytes in [64 << 10, 1000 << 10] {
            cases.push((shape.name.into(), sized(&shape, bytes)));
        }
    }
    if big {
        cases.push(("huge single line".into(), hostile::huge_line(20 << 20)));
    }
    println!(
        "{:<20} {:>10}  {:>28}  {:>28}",
        "shape",
        "bytes",
        "this build (wall, peak RSS)",
        if before.is_some() { "before" } else { "" }
    );
    let mut failed = Vec::new();
    let mut notes = Vec::new();
    for (i, (name, text)) in cases.iter().enumerate() {
        let file = dir.path().join(format!("case{i}.Dockerfile"));
        std::fs::write(&file, text).expect("write case");
        let now = run_limited(BIN, &file, timeout);
        let old = before.map(|b| run_limited(b, &file, timeout));
        println!(
            "{:<20} {:>10}  {:>28}  {:>28}",
            name,
            text.len(),
            show(&now),
            old.as_ref().map(show).unwrap_or_default()
        );
        let len = text.len() as u64;
        let small = len < MIB;
        if !(0..=2).contains(&now.code) {
            failed.push(format!("{name} ({len} bytes): exit {}", now.code));
        }
        if small && now.wall > Duration::from_secs(2) {
            failed.push(format!("{name} ({len} bytes): {:?} >= 2 s", now.wall));
        }
        if small && now.max_rss > 256 * MIB {
            failed.push(format!("{name} ({len} bytes): RSS above 256 MiB"));
        }
        if now.max_rss > 3 * len + 64 * MIB {
            notes.push(format!(
                "{name} ({len} bytes): RSS {:.1} MiB above 3 x size + 64 MiB",
                now.max_rss as f64 / MIB as f64
            ));
        }
    }
    for n in &notes {
        println!("note: {n}");
    }
    if failed.is_empty() {
        println!("targets met: every input under 1 MiB in < 2 s and < 256 MiB");
        ExitCode::SUCCESS
    } else {
        for f in failed {
            println!("MISSED: {f}");
        }
        ExitCode::FAILURE
    }
}
