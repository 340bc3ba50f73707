//! Bounds on hostile manifests: time and peak RSS of the release binary on
//! every shape of `corpus/hostile_yaml.rs`, in every report format.
//!
//! ```text
//! cargo bench --bench bounds                         # 256 KiB and 1 MiB shapes, every format
//! cargo bench --bench bounds -- --shapes privileged-pods,tiny-documents --formats json
//! cargo bench --bench bounds -- --budgets 65536,131072,262144     # scaling of each shape
//! cargo bench --bench bounds -- --generate DIR [--budgets N]      # only write the inputs
//! ```
//!
//! Each run is `sandbox-lint check --format F -o /dev/null -j 1 FILE` under the
//! RSS probe. Targets (issue 17): every input under 1 MiB ends in under 2 s and
//! under 256 MB with exit 0, 1 or 2. Exits 1 when one is missed. Run without
//! `--bench` (as `cargo test --benches` does), it only checks the generator.

#[path = "corpus/hostile_yaml.rs"]
mod hostile_yaml;
#[path = "corpus/probe.rs"]
mod probe;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use probe::{PROBE, probe, run_probed};

const BIN: &str = env!("CARGO_BIN_EXE_sandbox-lint");
const FORMATS: [&str; 6] = ["human", "json", "sarif", "junit", "github", "short"];
const TIME_TARGET: Duration = Duration::from_secs(2);
const RSS_TARGET: u64 = 256 << 20;
const TARGET_BUDGET: usize = (1 << 20) - 1;

fn list(v: &str) -> Vec<String> {
    v.split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn main() -> ExitCode {
    let argv: Vec<OsString> = std::env::args_os().skip(1).collect();
    if argv.first().is_some_and(|a| a == PROBE) {
        return probe(&argv[1..]);
    }
    let args: Vec<String> = argv
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let value = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let budgets: Vec<usize> = value("--budgets")
        .map(|v| {
            list(&v)
                .iter()
                .map(|n| n.parse().expect("--budgets: numbers"))
                .collect()
        })
        .unwrap_or_else(|| vec![256 << 10, TARGET_BUDGET]);
    if let Some(dir) = value("--generate") {
        let dir = PathBuf::from(dir);
        for &b in &budgets {
            for s in hostile_yaml::shapes(b) {
                let p = dir.join(format!("{}-{b}.yaml", s.name));
                std::fs::create_dir_all(&dir).expect("create the directory");
                std::fs::write(&p, &s.text).expect("write a shape");
                println!("{}", p.display());
            }
        }
        return ExitCode::SUCCESS;
    }
    if !args.iter().any(|a| a == "--bench") {
        // Smoke test: every shape is generated within its budget, and is not trivially small.
        for s in hostile_yaml::shapes(64 << 10) {
            assert!(
                s.text.len() > 1000,
                "{} is only {} bytes",
                s.name,
                s.text.len()
            );
        }
        return ExitCode::SUCCESS;
    }
    let shapes_filter = value("--shapes").map(|v| list(&v));
    let formats: Vec<String> = value("--formats")
        .map(|v| list(&v))
        .unwrap_or_else(|| FORMATS.iter().map(|s| s.to_string()).collect());
    let dir = std::env::temp_dir().join(format!("sandbox-lint-bounds-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch directory");
    println!(
        "{:<30} {:>9} {:<7} {:>9} {:>9} {:>10} exit",
        "shape", "bytes", "format", "wall", "CPU", "peak RSS"
    );
    let mut missed = Vec::new();
    for &budget in &budgets {
        for shape in hostile_yaml::shapes(budget) {
            if shapes_filter
                .as_ref()
                .is_some_and(|f| !f.iter().any(|n| n == shape.name))
            {
                continue;
            }
            let path = dir.join(format!("{}.yaml", shape.name));
            std::fs::write(&path, &shape.text).expect("write a shape");
            for format in &formats {
                let args: Vec<OsString> =
                    ["check", "--format", format, "-o", "/dev/null", "-j", "1"]
                        .iter()
                        .map(OsString::from)
                        .chain([path.clone().into_os_string()])
                        .collect();
                let s = run_probed(BIN, &args);
                let verdict = if !(0..=2).contains(&s.code) {
                    "CRASH"
                } else if shape.text.len() < (1 << 20)
                    && (s.wall > TIME_TARGET || s.max_rss > RSS_TARGET)
                {
                    "MISSED"
                } else {
                    ""
                };
                println!(
                    "{:<30} {:>9} {:<7} {:>7.0}ms {:>7.0}ms {:>7.1}MiB {:>4} {verdict}",
                    shape.name,
                    shape.text.len(),
                    format,
                    s.wall.as_secs_f64() * 1000.0,
                    s.cpu.as_secs_f64() * 1000.0,
                    s.max_rss as f64 / (1 << 20) as f64,
                    s.code
                );
                if !verdict.is_empty() {
                    missed.push(format!(
                        "{} ({} bytes) --format {format}",
                        shape.name,
                        shape.text.len()
                    ));
                }
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    if missed.is_empty() {
        println!("\nall under {TIME_TARGET:?} and {} MiB", RSS_TARGET >> 20);
        ExitCode::SUCCESS
    } else {
        println!("\nmissed:\n  {}", missed.join("\n  "));
        ExitCode::from(1)
    }
}
