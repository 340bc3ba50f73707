//! The local gVisor backend: what the dispatcher adds over a bare `runsc run`,
//! and how many runner sandboxes fit on this machine at once.
//!
//! ```text
//! cargo bench --bench gvisor                     # both parts
//! cargo bench --bench gvisor -- --runs 50        # 50 runs of each in part 1
//! cargo bench --bench gvisor -- --max 32         # at most 32 sandboxes in part 2 (default 128)
//! ```
//!
//! 1. Overhead: the seeds' runner Pod (`testdata/compliant/ok-runner-pod.yaml`
//!    plus the `work` volume) running `/bin/true`, `--runs` times through
//!    [`gvisor::run`] (validation, bundle, cgroup, capture, cleanup) and as
//!    many times as a bare `runsc run` of the same bundle, interleaved.
//!    Median and p90 of both, their difference, and the median of the
//!    run-by-run differences, which is judged: the target is under 50 ms.
//! 2. Density: K concurrent sandboxes of the seeds' size (2 CPUs, 4 GiB
//!    limits) each running `sleep 3600` (idle; stopped with `runsc kill`), for K = 1, 2,
//!    4, ... up to `--max` (128), until a run fails or the next step would
//!    pass half of the available memory. With all K up, per sandbox: memory
//!    charged to its memory cgroup, and RSS and PSS of its processes (the
//!    Sentry, the Gofer, the ptrace stubs, plus the `runsc run` parent).
//!
//! Needs root and runsc (`apt-get install runsc`). Exits 1 when the overhead
//! (median paired difference) is 50 ms or more or a run fails. Run without `--bench` (as
//! `cargo test --benches` does), it makes 3 runs of each and K up to 2.

use std::collections::HashSet;
use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Pod;
use sandbox_lint::dispatch::gvisor::{self, LocalRun, Reason};
use serde_json::{Value, json};

const TARGET: Duration = Duration::from_millis(50);

fn pod(command: &[&str]) -> Pod {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/compliant/ok-runner-pod.yaml");
    let mut v: Value = serde_saphyr::from_str(&fs::read_to_string(path).unwrap()).unwrap();
    v["spec"]["volumes"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "work", "configMap": {"name": "runner-work"}}));
    let c = &mut v["spec"]["containers"][0];
    c["command"] = json!(command);
    c["workingDir"] = json!("/work");
    c["volumeMounts"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "work", "mountPath": "/work", "readOnly": true}));
    serde_json::from_value(v).unwrap()
}

fn local(pod: Pod, work: &Path, scratch: &Path) -> LocalRun {
    let mut run = LocalRun::new(pod, work).secret("workflow-secrets", "anthropic-api-key", "bench");
    run.scratch_dir = Some(scratch.to_path_buf());
    run
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn signed_ms(a: Duration, b: Duration) -> String {
    format!("{:+.1} ms", (a.as_secs_f64() - b.as_secs_f64()) * 1000.0)
}

fn arg(args: &[String], name: &str) -> Option<usize> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(|v| {
            v.parse()
                .unwrap_or_else(|_| panic!("{name} takes a number"))
        })
}

/// Part 1; returns the median overhead.
fn overhead(runs: usize, tmp: &Path) -> Result<Duration, String> {
    let work = tmp.join("work1");
    let scratch = tmp.join("scratch1");
    fs::create_dir_all(&work).unwrap();
    fs::create_dir_all(&scratch).unwrap();
    let run = local(pod(&["/bin/true"]), &work, &scratch);
    // The bare bundle: the same config.json, cgroups created by runsc itself.
    let bundle = tmp.join("bare-bundle");
    let state = tmp.join("bare-state");
    fs::create_dir_all(&bundle).unwrap();
    fs::create_dir_all(&state).unwrap();
    let mut spec = gvisor::oci_spec(&run).map_err(|e| e.to_string())?;
    spec["linux"]["cgroupsPath"] = json!(format!("sandbox-lint-bench-bare-{}", std::process::id()));
    fs::write(
        bundle.join("config.json"),
        serde_json::to_vec(&spec).unwrap(),
    )
    .unwrap();

    let (mut bare, mut ours, mut paired) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..runs + 1 {
        let t = Instant::now();
        let out = Command::new("runsc")
            .arg(format!("--root={}", state.display()))
            .args(["--platform=ptrace", "--network=none", "run"])
            .arg(format!("--bundle={}", bundle.display()))
            .arg(format!("bare-{}-{i}", std::process::id()))
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("runsc: {e}"))?;
        let bare_t = t.elapsed();
        if !out.status.success() {
            return Err(format!(
                "bare runsc run: {} {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let t = Instant::now();
        let r = gvisor::run(&run).map_err(|e| e.to_string())?;
        let ours_t = t.elapsed();
        if r.reason != Reason::Completed {
            return Err(format!("run: {:?}: {}", r.reason, r.stderr_text()));
        }
        if i > 0 {
            // the first pair warms caches up
            bare.push(bare_t);
            ours.push(ours_t);
            paired.push(ours_t.as_secs_f64() - bare_t.as_secs_f64());
        }
    }
    bare.sort();
    ours.sort();
    let (bm, b9) = (percentile(&bare, 0.5), percentile(&bare, 0.9));
    let (om, o9) = (percentile(&ours, 0.5), percentile(&ours, 0.9));
    println!("## 1. Overhead over a bare `runsc run` (/bin/true, {runs} runs each, interleaved)\n");
    println!("| | median | p90 | min | max |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    println!(
        "| bare `runsc run` | {} | {} | {} | {} |",
        ms(bm),
        ms(b9),
        ms(bare[0]),
        ms(bare[bare.len() - 1])
    );
    println!(
        "| `gvisor::run` | {} | {} | {} | {} |",
        ms(om),
        ms(o9),
        ms(ours[0]),
        ms(ours[ours.len() - 1])
    );
    println!(
        "| difference | {} | {} | | |",
        signed_ms(om, bm),
        signed_ms(o9, b9)
    );
    // Per pair (run i of each, back to back), which cancels slow drifts of
    // the machine's load: the overhead the target is judged on.
    paired.sort_by(f64::total_cmp);
    let pm = paired[paired.len() / 2];
    let p9 = paired[((paired.len() as f64 * 0.9).ceil() as usize).clamp(1, paired.len()) - 1];
    println!(
        "| paired difference (ours − bare, run by run) | {:+.1} ms | {:+.1} ms | {:+.1} ms | {:+.1} ms |",
        pm * 1000.0,
        p9 * 1000.0,
        paired[0] * 1000.0,
        paired[paired.len() - 1] * 1000.0
    );
    let over = Duration::from_secs_f64(pm.max(0.0));
    println!(
        "\noverhead (median of the paired differences): {:+.1} ms — target < {}: {}\n",
        pm * 1000.0,
        ms(TARGET),
        if over < TARGET { "met" } else { "MISSED" }
    );
    Ok(over)
}

/// kB of `field` (VmRSS, Pss) of a process, 0 when it is gone.
fn kb(pid: u32, file: &str, field: &str) -> u64 {
    fs::read_to_string(format!("/proc/{pid}/{file}"))
        .ok()
        .and_then(|t| {
            t.lines().find_map(|l| {
                l.strip_prefix(field).and_then(|r| {
                    r.trim_start_matches(':')
                        .split_whitespace()
                        .next()?
                        .parse()
                        .ok()
                })
            })
        })
        .unwrap_or(0)
}

fn read_u64(path: &Path) -> u64 {
    fs::read_to_string(path)
        .ok()
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or(0)
}

/// A /proc/meminfo field in bytes.
fn mem_info(field: &str) -> u64 {
    fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| {
            t.lines().find_map(|l| {
                l.strip_prefix(field).and_then(|r| {
                    r.trim_start_matches(':')
                        .split_whitespace()
                        .next()?
                        .parse::<u64>()
                        .ok()
                })
            })
        })
        .unwrap_or(0)
        * 1024
}

#[derive(Default, Clone, Copy)]
struct Sample {
    cgroup: u64,
    rss: u64,
    pss: u64,
    tasks: u64,
}

/// `runsc ps` lists the workload (`sleep`) in the sandbox.
fn workload_running(s: &gvisor::Started) -> bool {
    Command::new("runsc")
        .arg(format!("--root={}", s.state_root.display()))
        .args(["ps", &s.id])
        .stderr(Stdio::null())
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .skip(1)
                .any(|l| l.split_whitespace().last() == Some("sleep"))
        })
        .unwrap_or(false)
}

/// One density step: K sandboxes up at once. Returns per-sandbox samples and
/// the time until all were up.
fn step(k: usize, tmp: &Path) -> Result<(Vec<Sample>, Duration), String> {
    let work = tmp.join("work2");
    let scratch = tmp.join("scratch2");
    fs::create_dir_all(&work).unwrap();
    fs::create_dir_all(&scratch).unwrap();
    let started: Arc<Mutex<Vec<gvisor::Started>>> = Arc::default();
    let mut run = local(pod(&["sleep", "3600"]), &work, &scratch);
    let s = started.clone();
    run.on_start = Some(Arc::new(move |st: &gvisor::Started| {
        s.lock().unwrap().push(st.clone())
    }));
    let t0 = Instant::now();
    let handles: Vec<_> = (0..k)
        .map(|_| {
            let run = run.clone();
            thread::spawn(move || gvisor::run(&run))
        })
        .collect();
    // Up: every sandbox has been started and `runsc ps` shows its `sleep`.
    let up_by = Instant::now() + Duration::from_secs(10 + k as u64);
    let mut ready: HashSet<String> = HashSet::new();
    let up = loop {
        let all = started.lock().unwrap().clone();
        for s in &all {
            if !ready.contains(&s.id) && workload_running(s) {
                ready.insert(s.id.clone());
            }
        }
        if ready.len() == k {
            break Some(t0.elapsed());
        }
        if Instant::now() > up_by || handles.iter().any(|h| h.is_finished()) {
            break None;
        }
        thread::sleep(Duration::from_millis(100));
    };
    let mut samples = Vec::new();
    if up.is_some() {
        // let the last ones settle (page faults of a fresh Sentry)
        thread::sleep(Duration::from_millis(300));
        for s in started.lock().unwrap().iter() {
            let cg = s.memory_cgroup.as_ref().unwrap();
            let pids: Vec<u32> = fs::read_to_string(cg.join("cgroup.procs"))
                .unwrap_or_default()
                .lines()
                .filter_map(|l| l.parse().ok())
                .chain([s.runsc_pid])
                .collect();
            let mut sample = Sample {
                cgroup: read_u64(&cg.join("memory.usage_in_bytes")),
                ..Sample::default()
            };
            for pid in pids {
                sample.rss += kb(pid, "status", "VmRSS") * 1024;
                sample.pss += kb(pid, "smaps_rollup", "Pss") * 1024;
                sample.tasks += kb(pid, "status", "Threads");
            }
            samples.push(sample);
        }
    }
    // Stop: SIGKILL to each workload; its run ends with exit 137.
    for s in started.lock().unwrap().iter() {
        let _ = Command::new("runsc")
            .arg(format!("--root={}", s.state_root.display()))
            .args(["kill", &s.id, "KILL"])
            .stderr(Stdio::null())
            .status();
    }
    let mut failure = None;
    for h in handles {
        match h.join() {
            Ok(Ok(r)) if r.exit_code == Some(137) && r.reason == Reason::Error => {}
            Ok(Ok(r)) => failure = Some(format!("{:?}: {}", r.reason, r.stderr_text())),
            Ok(Err(e)) => failure = Some(e.to_string()),
            Err(_) => failure = Some("a run panicked".into()),
        }
    }
    if let Some(f) = failure {
        return Err(f);
    }
    match up {
        Some(up) => Ok((samples, up)),
        None => Err(format!("not all sandboxes came up within {} s", 10 + k)),
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1 << 20) as f64)
}

fn median(mut v: Vec<u64>) -> u64 {
    v.sort_unstable();
    v[v.len() / 2]
}

/// Part 2.
fn density(max: usize, tmp: &Path) -> Result<(), String> {
    let available = mem_info("MemAvailable");
    let total = mem_info("MemTotal");
    let budget = available / 2;
    println!(
        "## 2. Concurrent sandboxes of the seeds' size (limits: 2 CPUs, 4 GiB; each running `sleep 3600`, idle)\n"
    );
    println!(
        "machine: {} CPUs, {} total, {} available; memory budget for the sandboxes: {}\n",
        thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        mib(total),
        mib(available),
        mib(budget)
    );
    println!(
        "| K | all up after | cgroup memory / sandbox (median) | RSS / sandbox | PSS / sandbox | host tasks / sandbox | PSS total |"
    );
    println!("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    let mut k = 1;
    let mut best: Option<(usize, u64, u64, u64)> = None;
    let mut stopped_by = format!("--max {max}");
    while k <= max {
        match step(k, tmp) {
            Ok((samples, up)) => {
                let cg = median(samples.iter().map(|s| s.cgroup).collect());
                let rss = median(samples.iter().map(|s| s.rss).collect());
                let pss = median(samples.iter().map(|s| s.pss).collect());
                let tasks = median(samples.iter().map(|s| s.tasks).collect());
                let pss_total: u64 = samples.iter().map(|s| s.pss).sum();
                println!(
                    "| {k} | {} | {} | {} | {} | {tasks} | {} |",
                    ms(up),
                    mib(cg),
                    mib(rss),
                    mib(pss),
                    mib(pss_total)
                );
                best = Some((k, pss.max(cg), rss, tasks));
                let per = pss.max(cg).max(1);
                if (k as u64 * 2) * per > budget {
                    stopped_by = format!("memory budget ({} for {} sandboxes)", mib(budget), k * 2);
                    break;
                }
            }
            Err(e) => {
                println!("| {k} | failed: {e} | | | | | |");
                stopped_by = format!("a failure at K = {k}");
                break;
            }
        }
        k *= 2;
    }
    let Some((k, per, rss, tasks)) = best else {
        return Err("not even one sandbox ran".into());
    };
    println!("\nstopped by: {stopped_by}");
    println!(
        "ran at once: {k} sandboxes; actual memory per idle sandbox ≈ {} (max of cgroup charge and PSS; RSS {})",
        mib(per),
        mib(rss)
    );
    println!(
        "fit by actual use: ≈ {} sandboxes in the {} available; by the seeds' limits (4 GiB each): {}; by their requests (1 GiB): {}",
        available / per.max(1),
        mib(available),
        total / (4 << 30),
        total / (1 << 30)
    );
    let pid_max = read_u64(Path::new("/proc/sys/kernel/pid_max"));
    println!(
        "other bounds of idle sandboxes: host tasks {tasks} per sandbox against kernel.pid_max {pid_max}: ≈ {}; \
         CPU: each start costs the time in the table, an idle sandbox none",
        pid_max / tasks.max(1)
    );
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let bench = args.iter().any(|a| a == "--bench");
    let runs = arg(&args, "--runs").unwrap_or(if bench { 30 } else { 3 });
    let max = arg(&args, "--max").unwrap_or(if bench { 128 } else { 2 });
    if let Err(e) = gvisor::find_runsc(Path::new("runsc")) {
        eprintln!("{e}");
        std::process::exit(1);
    }
    let tmp = tempfile::tempdir().unwrap();
    let mut failed = false;
    match overhead(runs, tmp.path()) {
        Ok(over) if over >= TARGET && bench => failed = true,
        Ok(_) => {}
        Err(e) => {
            eprintln!("overhead: {e}");
            failed = true;
        }
    }
    if let Err(e) = density(max, tmp.path()) {
        eprintln!("density: {e}");
        failed = true;
    }
    let leftovers = gvisor::processes_using_root(&tmp.path().join("bare-state"));
    if !leftovers.is_empty() {
        eprintln!("bare runsc processes left: {leftovers:?}");
        failed = true;
    }
    drop(tmp);
    if failed {
        std::process::exit(1);
    }
}
