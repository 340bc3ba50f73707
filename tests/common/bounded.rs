//! Runs the sandbox-lint binary under a memory limit (`prlimit`, util-linux)
//! and a wall-clock bound, reading its output while it runs. Shared by the
//! tests that prove bounds (tests/bounds.rs, tests/dockerfile.rs,
//! tests/regressions.rs); included with `#[path]` so that they do not build
//! the other helpers of `common`. Each uses only a part, hence `dead_code`.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How a bounded run ended.
pub struct Bounded {
    /// The exit code; `None` when a signal ended it (the memory limit's abort)
    /// or it was killed at the bound.
    pub code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: String,
    pub wall: Duration,
    /// Killed at the wall-clock bound.
    pub timed_out: bool,
}

impl Bounded {
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// Exit 0, 1 or 2 and no panic message: an answer, not a crash.
    pub fn answered(&self) -> bool {
        matches!(self.code, Some(0..=2)) && !self.stderr.contains("panicked")
    }

    /// One line for a failure message.
    pub fn describe(&self) -> String {
        format!(
            "exit {:?} after {:.2?}{}, {} bytes of report, stderr: {}",
            self.code,
            self.wall,
            if self.timed_out {
                " (killed at the bound)"
            } else {
                ""
            },
            self.stdout.len(),
            self.stderr.chars().take(400).collect::<String>()
        )
    }
}

/// Runs the binary with `args` under `prlimit LIMIT` (for example
/// `--data=268435456` or `--as=536870912`), killing it after `bound`.
pub fn run<S: AsRef<OsStr>>(limit: &str, args: &[S], bound: Duration) -> Bounded {
    let start = Instant::now();
    let mut child = Command::new("prlimit")
        .arg(limit)
        .arg("--")
        .arg(env!("CARGO_BIN_EXE_sandbox-lint"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("prlimit (util-linux) runs");
    // Read the pipes while waiting, so a large report cannot block the child.
    let read = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            buf
        })
    };
    let out = read(Box::new(child.stdout.take().unwrap()));
    let err = read(Box::new(child.stderr.take().unwrap()));
    let mut timed_out = false;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > bound {
            timed_out = true;
            let _ = child.kill();
            break child.wait().unwrap();
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Bounded {
        code: if timed_out { None } else { status.code() },
        stdout: out.join().unwrap(),
        stderr: String::from_utf8_lossy(&err.join().unwrap()).into_owned(),
        wall: start.elapsed(),
        timed_out,
    }
}
