//! Wall time, CPU time and peak RSS of one child process, shared by the
//! benchmarks. The bench executable re-runs itself as `__rss-probe PROGRAM
//! ARGS...`; that copy spawns PROGRAM, waits for it and reads its own
//! `getrusage(RUSAGE_CHILDREN)`, whose `ru_maxrss` is then that one child's peak.
//! A bench's `main` must call [`probe`] first when its first argument is [`PROBE`].

use std::ffi::OsString;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

pub const PROBE: &str = "__rss-probe";

/// `__rss-probe PROGRAM ARGS...`: prints `wall_ns maxrss_kib cpu_us exit_code`.
pub fn probe(cmd: &[OsString]) -> ExitCode {
    use nix::sys::resource::{UsageWho, getrusage};
    let Some((program, args)) = cmd.split_first() else {
        eprintln!("{PROBE}: no command");
        return ExitCode::from(2);
    };
    let start = Instant::now();
    let status = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status();
    let wall = start.elapsed();
    let status = match status {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{PROBE}: cannot run {}: {e}", program.to_string_lossy());
            return ExitCode::from(2);
        }
    };
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
        status.code().unwrap_or(-1)
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
    let me = std::env::current_exe().expect("own path");
    let out = Command::new(me)
        .arg(PROBE)
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
