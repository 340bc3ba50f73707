//! Wall time, CPU time and peak RSS of one child process, shared by the
//! benchmarks. The bench executable re-runs itself as `__rss-probe TIMEOUT_MS
//! PROGRAM ARGS...`; that copy spawns PROGRAM, waits for it (killing it at the
//! timeout) and reads its own
//! `getrusage(RUSAGE_CHILDREN)`, whose `ru_maxrss` is then that one child's peak.
//! A bench's `main` must call [`probe`] first when its first argument is [`PROBE`].

use std::ffi::OsString;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

pub const PROBE: &str = "__rss-probe";

/// `__rss-probe TIMEOUT_MS PROGRAM ARGS...`: prints `wall_ns maxrss_kib cpu_us
/// exit_code`; the exit code is -1 after a signal, -2 when killed at the timeout.
pub fn probe(cmd: &[OsString]) -> ExitCode {
    use nix::sys::resource::{UsageWho, getrusage};
    let [timeout, program, args @ ..] = cmd else {
        eprintln!("{PROBE}: no command");
        return ExitCode::from(2);
    };
    let timeout = timeout
        .to_str()
        .and_then(|t| t.parse().ok())
        .map(Duration::from_millis)
        .unwrap_or(Duration::MAX);
    let start = Instant::now();
    let mut child = match Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{PROBE}: cannot run {}: {e}", program.to_string_lossy());
            return ExitCode::from(2);
        }
    };
    let code = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status.code().unwrap_or(-1),
            Ok(None) if start.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                break -2;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(2)),
            Err(_) => break -1,
        }
    };
    let wall = start.elapsed();
    // This process has waited for exactly one child, so the children's
    // maximum resident set size is that child's (Linux reports KiB).
    let usage = match getrusage(UsageWho::RUSAGE_CHILDREN) {
        Ok(u) => u,
        Err(e) => {
            eprintln!("{PROBE}: getrusage: {e}");
            return ExitCode::from(2);
        }
    };
    let micros = |t: nix::sys::time::TimeVal| t.tv_sec() * 1_000_000 + t.tv_usec();
    let cpu_us = micros(usage.user_time()) + micros(usage.system_time());
    println!(
        "{} {} {} {}",
        wall.as_nanos(),
        usage.max_rss(),
        cpu_us,
        code
    );
    ExitCode::SUCCESS
}

#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub wall: Duration,
    /// Bytes.
    pub max_rss: u64,
    pub cpu: Duration,
    pub code: i32,
}

/// Runs `program` with `args` under the probe.
pub fn run_probed(program: &str, args: &[OsString]) -> Sample {
    run_probed_within(program, args, None)
}

/// Runs `program` with `args` under the probe, killed after `timeout` (then
/// the sample's code is -2).
pub fn run_probed_within(program: &str, args: &[OsString], timeout: Option<Duration>) -> Sample {
    let me = std::env::current_exe().expect("own path");
    let timeout = timeout.map_or("none".to_string(), |t| t.as_millis().to_string());
    let out = Command::new(me)
        .arg(PROBE)
        .arg(timeout)
        .arg(program)
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .expect("run probe");
    let text = String::from_utf8_lossy(&out.stdout);
    let f: Vec<i64> = text
        .split_whitespace()
        .map(|x| x.parse().expect("probe output"))
        .collect();
    assert!(
        out.status.success() && f.len() == 4,
        "probe failed: {text:?}"
    );
    Sample {
        wall: Duration::from_nanos(f[0] as u64),
        max_rss: f[1] as u64 * 1024,
        cpu: Duration::from_micros(f[2] as u64),
        code: f[3] as i32,
    }
}
