//! Load benchmark of `sandbox-lint serve`, the validating admission webhook.
//!
//! ```text
//! cargo bench --bench webhook                                  # full run, about 2 minutes
//! SANDBOX_LINT_BENCH_QUICK=1 cargo bench --bench webhook       # shortened, about 30 s
//! cargo bench --bench webhook -- --connections 4,8,16 --rate 2000 --sustain-secs 60
//! ```
//!
//! The release binary serves on 127.0.0.1 with an rcgen certificate, logging
//! at its default level (info) to a file. The load generator is this process:
//! HTTPS (hyper over tokio-rustls, ring) on keep-alive connections, all on one
//! thread (a current-thread tokio runtime), sending pre-serialized
//! AdmissionReview v1 bodies made from the test data: compliant and
//! privileged Pods, a Deployment, a Job, a CronJob, a NetworkPolicy, a
//! ServiceAccount and a RoleBinding. Only the uid is patched into each body
//! (every request has its own); every answer is checked: HTTP 200, its uid,
//! and `allowed` as `webhook::review::review` decides in this process.
//!
//! Phases:
//! (a) closed loop: N connections each send the next review as soon as the
//!     last is answered, for each N of `--connections`; the best is the
//!     throughput;
//! (b) open loop at `--rate` (2,000) reviews/s for 20 s: a pacer thread fixes
//!     every send time in advance and latency counts from that time, so a
//!     stalled server is charged for the requests it delayed (no coordinated
//!     omission); p50, p99, p99.9 and max from an HDR histogram;
//! (c) open loop for `--sustain-secs` (60) at 10,000/s when (a) reached it
//!     (at 90% of (a)'s best, rounded down to 500, otherwise, so that errors
//!     and memory are still measured): the rate counts as sustained when at
//!     least 99% of the scheduled reviews were answered within the window
//!     (plus 0.5 s) and p99 stayed under 50 ms; errors counted;
//! (d) in-process, one thread: `webhook::review::review` alone over the same
//!     bodies, per kind: what judging costs without TLS, HTTP and logging;
//!     then the same with a cluster context (as `--cluster-context` builds it
//!     from its watches) of one namespace with 250 NetworkPolicies and 1,000
//!     runner pods: a runner Pod review and a NetworkPolicy review, which the
//!     cross-resource rules judge against it (target: under 1 ms each; the
//!     context's indexes are built once, not per review).
//!
//! The server's CPU time per phase comes from /proc/PID/stat, its peak RSS
//! from VmHWM in /proc/PID/status; at the end its `/metrics` must count
//! exactly the reviews sent.
//!
//! Targets (exit 1 when one is missed): >= 10,000 reviews/s sustained in (c);
//! p99 < 5 ms in (b); peak RSS < 64 MiB; zero errors in (c) (and none
//! anywhere). `SANDBOX_LINT_BENCH_QUICK=1` shortens every phase (the verdicts
//! then come from short runs).
//!
//! Run without `--bench` (as `cargo test --benches` does), it only checks the
//! bodies and the expected decisions in-process.

#[path = "../tests/common/admission.rs"]
mod admission;

use std::cell::{Cell, RefCell};
use std::ffi::OsString;
use std::hint::black_box;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use http_body_util::{BodyExt as _, Empty, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{CONTENT_TYPE, HOST};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName};
use sandbox_lint::linter::Linter;
use sandbox_lint::webhook::review;
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

const BIN: &str = env!("CARGO_BIN_EXE_sandbox-lint");
/// The uid every body is made with; its last 12 characters are patched per request.
const UID_TEMPLATE: &str = "00000000-0000-4000-8000-000000000000";

const TARGET_RATE: f64 = 10_000.0;
const TARGET_P99: Duration = Duration::from_millis(5);
const TARGET_RSS_MIB: f64 = 64.0;
/// Phase (c) counts as sustained when at least this share of the reviews
/// scheduled in the window was answered in it...
const SUSTAINED_SHARE: f64 = 0.99;
/// ...and when its p99 latency from the scheduled send time stayed under this.
const SUSTAINED_P99: Duration = Duration::from_millis(50);
/// Open loop: answers later than this after the window count as late.
const LATE_AFTER: Duration = Duration::from_millis(500);
/// The pacer's shortest sleep.
const PACER_TICK: Duration = Duration::from_micros(200);

fn main() -> ExitCode {
    let argv: Vec<OsString> = std::env::args_os().skip(1).collect();
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
    if !args.bench {
        return smoke();
    }
    if args.context_only {
        let ok = print_context_rows(Duration::from_millis(400));
        return if ok {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        };
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(bench(&args))
}

const USAGE: &str = "\
usage: cargo bench --bench webhook -- [OPTIONS]
  --quick             shorten every phase (env SANDBOX_LINT_BENCH_QUICK=1)
  --context-only      only the in-process reviews with a cluster context of 250 policies
  --connections LIST  closed-loop connection counts, comma-separated (default 4,8,16)
  --rate N            open-loop rate of phase (b), reviews/s (default 2000)
  --latency-secs S    length of phase (b) (default 20; quick 5)
  --sustain-rate N    rate of phase (c), reviews/s (default: from phase (a))
  --sustain-secs S    length of phase (c) (default 60; quick 10)";

#[derive(Debug)]
struct Args {
    bench: bool,
    help: bool,
    quick: bool,
    /// Only the in-process rows with a cluster context.
    context_only: bool,
    connections: Vec<usize>,
    rate: f64,
    latency_secs: f64,
    sustain_rate: Option<f64>,
    sustain_secs: f64,
}

impl Args {
    fn parse(argv: &[OsString]) -> Result<Args, String> {
        let quick =
            std::env::var("SANDBOX_LINT_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
        let mut a = Args {
            bench: false,
            help: false,
            quick,
            context_only: false,
            connections: vec![4, 8, 16],
            rate: 2000.0,
            latency_secs: 0.0,
            sustain_rate: None,
            sustain_secs: 0.0,
        };
        let (mut latency, mut sustain) = (None, None);
        let mut it = argv.iter();
        while let Some(arg) = it.next() {
            let arg = arg.to_string_lossy();
            let mut value = |flag: &str| {
                it.next()
                    .map(|v| v.to_string_lossy().into_owned())
                    .ok_or_else(|| format!("{flag} needs a value"))
            };
            let number = |flag: &str, v: String| -> Result<f64, String> {
                v.trim()
                    .replace('_', "")
                    .parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite() && *x > 0.0)
                    .ok_or_else(|| format!("{flag}: not a positive number: {v:?}"))
            };
            match arg.as_ref() {
                // Passed by `cargo bench`; `cargo test --benches` does not pass it.
                "--bench" => a.bench = true,
                "-h" | "--help" => a.help = true,
                "--quick" => a.quick = true,
                "--context-only" => a.context_only = true,
                "--connections" => {
                    let v = value("--connections")?;
                    a.connections = v
                        .split(',')
                        .map(|n| n.trim().parse::<usize>().ok().filter(|n| *n > 0))
                        .collect::<Option<Vec<_>>>()
                        .ok_or_else(|| format!("--connections: not a list of counts: {v:?}"))?;
                }
                "--rate" => a.rate = number("--rate", value("--rate")?)?,
                "--latency-secs" => {
                    latency = Some(number("--latency-secs", value("--latency-secs")?)?)
                }
                "--sustain-rate" => {
                    a.sustain_rate = Some(number("--sustain-rate", value("--sustain-rate")?)?)
                }
                "--sustain-secs" => {
                    sustain = Some(number("--sustain-secs", value("--sustain-secs")?)?)
                }
                // Bench-name filters from `cargo bench NAME`: this file has one benchmark.
                other if !other.starts_with('-') => {}
                other => return Err(format!("unknown option {other}")),
            }
        }
        a.latency_secs = latency.unwrap_or(if a.quick { 5.0 } else { 20.0 });
        a.sustain_secs = sustain.unwrap_or(if a.quick { 10.0 } else { 60.0 });
        Ok(a)
    }
}

// ---------------------------------------------------------------------------
// The reviews sent.

/// One kind of review in the mix.
struct Case {
    name: &'static str,
    /// The serialized AdmissionReview, with [`UID_TEMPLATE`] as its uid.
    body: Vec<u8>,
    /// Where the uid's last 12 characters start in `body`.
    uid_at: usize,
    /// What the webhook must answer, as decided in this process.
    allowed: bool,
    decision: &'static str,
    /// Share of the mix, in slots.
    weight: usize,
}

/// The cases, their expected decisions and the order requests cycle through.
struct Mix {
    cases: Vec<Case>,
    slots: Vec<usize>,
}

impl Mix {
    fn new() -> Mix {
        // (name, file, which document of that kind, weight)
        let sources: [(&str, &str, &str, usize); 8] = [
            (
                "Pod, compliant",
                "testdata/compliant/ok-runner-pod.yaml",
                "Pod",
                6,
            ),
            (
                "Pod, privileged",
                "testdata/rules/SL1007/fail-privileged.yaml",
                "Pod",
                2,
            ),
            (
                "Deployment",
                "testdata/rules/SL2003/fail-deployment.yaml",
                "Deployment",
                1,
            ),
            ("Job", "testdata/compliant/ok-job.yaml", "Job", 1),
            (
                "CronJob",
                "testdata/compliant/ok-cronjob.yaml",
                "CronJob",
                1,
            ),
            (
                "NetworkPolicy",
                "testdata/rules/SL3001/ok-default-deny-plus-allowlist.yaml",
                "NetworkPolicy",
                1,
            ),
            (
                "ServiceAccount",
                "testdata/rules/SL3001/ok-default-deny-plus-allowlist.yaml",
                "ServiceAccount",
                1,
            ),
            (
                "RoleBinding",
                "testdata/rules/SL3007/fail-rolebinding-to-runner-sa.yaml",
                "RoleBinding",
                1,
            ),
        ];
        let linter = Linter::with_default_policy();
        let mut cases = Vec::new();
        for (name, file, kind, weight) in sources {
            let object = document(file, kind);
            let body =
                serde_json::to_vec(&admission::create_review(UID_TEMPLATE, &object)).unwrap();
            let uid_at = find(&body, UID_TEMPLATE.as_bytes())
                .unwrap_or_else(|| panic!("{name}: uid not in the body"))
                + UID_TEMPLATE.len()
                - 12;
            let outcome = review::review(&linter, &body);
            assert_eq!(
                outcome.status,
                200,
                "{name}: {}",
                String::from_utf8_lossy(&outcome.body)
            );
            let answer: Value = serde_json::from_slice(&outcome.body).unwrap();
            let allowed = answer["response"]["allowed"].as_bool().unwrap();
            cases.push(Case {
                name,
                body,
                uid_at,
                allowed,
                decision: outcome.decision.as_str(),
                weight,
            });
        }
        // Interleave the kinds: round-robin over what each still has to give.
        let mut left: Vec<usize> = cases.iter().map(|c| c.weight).collect();
        let mut slots = Vec::new();
        while left.iter().any(|&n| n > 0) {
            for (i, n) in left.iter_mut().enumerate() {
                if *n > 0 {
                    *n -= 1;
                    slots.push(i);
                }
            }
        }
        Mix { cases, slots }
    }

    /// The body of request number `seq` and its case.
    fn request(&self, seq: u64) -> (Bytes, &Case) {
        let case = &self.cases[self.slots[(seq % self.slots.len() as u64) as usize]];
        let mut body = case.body.clone();
        body[case.uid_at..case.uid_at + 12].copy_from_slice(format!("{seq:012x}").as_bytes());
        (Bytes::from(body), case)
    }

    fn mean_body_bytes(&self) -> f64 {
        let total: usize = self.slots.iter().map(|&i| self.cases[i].body.len()).sum();
        total as f64 / self.slots.len() as f64
    }
}

/// The first document of `kind` in `file` (relative to the crate), as JSON.
fn document(file: &str, kind: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
    sandbox_lint::yaml::parse_documents(&text, &Default::default())
        .unwrap_or_else(|e| panic!("{file}: {e:?}"))
        .iter()
        .map(|d| d.to_json())
        .find(|d| d["kind"] == kind)
        .unwrap_or_else(|| panic!("{file}: no {kind}"))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Checks one answer: HTTP 200, the request's uid, the expected `allowed`.
fn check_answer(status: u16, body: &[u8], seq: u64, case: &Case) -> Result<(), String> {
    if status != 200 {
        return Err(format!(
            "{}: HTTP {status}: {}",
            case.name,
            String::from_utf8_lossy(body)
        ));
    }
    let uid = format!(
        "\"uid\":\"{}{seq:012x}\"",
        &UID_TEMPLATE[..UID_TEMPLATE.len() - 12]
    );
    if find(body, uid.as_bytes()).is_none() {
        return Err(format!("{}: answer without {uid}", case.name));
    }
    let allowed = format!("\"allowed\":{}", case.allowed);
    if find(body, allowed.as_bytes()).is_none() {
        return Err(format!(
            "{}: expected {allowed}: {}",
            case.name,
            String::from_utf8_lossy(body)
        ));
    }
    Ok(())
}

/// Without `--bench`: the bodies and expectations only, in-process.
fn smoke() -> ExitCode {
    let mix = Mix::new();
    assert!(mix.cases.iter().any(|c| c.allowed) && mix.cases.iter().any(|c| !c.allowed));
    let compliant = &mix.cases[0];
    let privileged = &mix.cases[1];
    assert!(compliant.allowed && !privileged.allowed);
    let linter = Linter::with_default_policy();
    for seq in [0, 1, 2, 0xabc_def] {
        let (body, case) = mix.request(seq);
        let out = review::review(&linter, &body);
        if let Err(e) = check_answer(out.status, &out.body, seq, case) {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    }
    for (name, _, findings) in in_process_with_context(Duration::ZERO) {
        println!(
            "bench webhook: {name} review with a cluster context: {findings} network findings"
        );
    }
    println!(
        "bench webhook: smoke test passed ({} kinds of review; run `cargo bench --bench webhook` to measure)",
        mix.cases.len()
    );
    ExitCode::SUCCESS
}

// ---------------------------------------------------------------------------
// The server.

struct Server {
    child: Child,
    addr: SocketAddr,
    health: SocketAddr,
    log: PathBuf,
    dir: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A CA and a serving certificate for 127.0.0.1: (CA PEM, cert PEM, key PEM).
fn certificates() -> (String, String, String) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::default();
    ca.distinguished_name
        .push(DnType::CommonName, "sandbox-lint bench CA");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_pem = ca.self_signed(&ca_key).unwrap().pem();
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "127.0.0.1");
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let cert = params.signed_by(&key, &issuer).unwrap();
    (ca_pem, cert.pem(), key.serialize_pem())
}

async fn start_server(cert: &str, key: &str) -> Result<Server, String> {
    let dir =
        std::env::temp_dir().join(format!("sandbox-lint-bench-webhook-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let (cert_path, key_path, log) = (
        dir.join("tls.crt"),
        dir.join("tls.key"),
        dir.join("stderr.jsonl"),
    );
    std::fs::write(&cert_path, cert)
        .and_then(|_| std::fs::write(&key_path, key))
        .map_err(|e| e.to_string())?;
    let stderr = std::fs::File::create(&log).map_err(|e| e.to_string())?;
    let child = Command::new(BIN)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--health-listen",
            "127.0.0.1:0",
        ])
        .arg("--tls-cert")
        .arg(&cert_path)
        .arg("--tls-key")
        .arg(&key_path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .map_err(|e| format!("cannot start {BIN}: {e}"))?;
    let mut server = Server {
        child,
        addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        health: SocketAddr::from(([127, 0, 0, 1], 0)),
        log,
        dir,
    };
    let started = Instant::now();
    loop {
        let text = std::fs::read_to_string(&server.log).unwrap_or_default();
        let serving = text
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|l| l["fields"]["message"] == "serving admission reviews");
        if let Some(line) = serving {
            let addr = |name: &str| line["fields"][name].as_str().and_then(|s| s.parse().ok());
            match (addr("listen"), addr("health")) {
                (Some(a), Some(h)) => {
                    server.addr = a;
                    server.health = h;
                    return Ok(server);
                }
                _ => return Err(format!("no addresses in {line}")),
            }
        }
        if let Ok(Some(status)) = server.child.try_wait() {
            return Err(format!("the server exited with {status}:\n{text}"));
        }
        if started.elapsed() > Duration::from_secs(30) {
            return Err(format!("the server did not start within 30 s:\n{text}"));
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// CPU times at the start of a phase: the server's, this process's, the whole machine's.
struct CpuClock {
    pid: u32,
    server: Duration,
    own: Duration,
    machine: Duration,
}

impl CpuClock {
    fn now(pid: u32) -> CpuClock {
        CpuClock {
            pid,
            server: cpu_time(pid),
            own: own_cpu_time(),
            machine: machine_busy(),
        }
    }

    fn server_since(&self) -> Duration {
        cpu_time(self.pid).saturating_sub(self.server)
    }

    fn own_since(&self) -> Duration {
        own_cpu_time().saturating_sub(self.own)
    }

    /// Busy time of all cores not spent by the server or this process.
    fn other_since(&self) -> Duration {
        machine_busy()
            .saturating_sub(self.machine)
            .saturating_sub(self.server_since())
            .saturating_sub(self.own_since())
    }
}

/// Busy time of all cores so far (the `cpu` line of /proc/stat, less idle and iowait).
fn machine_busy() -> Duration {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let ticks: u64 = stat
        .lines()
        .find(|l| l.starts_with("cpu "))
        .map(|l| {
            l.split_whitespace()
                .skip(1)
                .take(8)
                .enumerate()
                // user nice system idle iowait irq softirq steal
                .filter(|(i, _)| *i != 3 && *i != 4)
                .map(|(_, v)| v.parse::<u64>().unwrap_or(0))
                .sum()
        })
        .unwrap_or(0);
    Duration::from_secs_f64(ticks as f64 / clock_ticks())
}

/// The server's user + system CPU time so far.
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) start at `) `.
    let rest = stat.rsplit_once(") ").map_or("", |(_, r)| r);
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 here; in clock ticks.
    let ticks = f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0);
    Duration::from_secs_f64(ticks as f64 / clock_ticks())
}

/// `/proc` reports CPU times in USER_HZ ticks, 100 per second on Linux.
fn clock_ticks() -> f64 {
    100.0
}

/// This process's own CPU time (the generator, pacer included).
fn own_cpu_time() -> Duration {
    use nix::sys::resource::{UsageWho, getrusage};
    let u = getrusage(UsageWho::RUSAGE_SELF).expect("getrusage");
    let d =
        |t: nix::sys::time::TimeVal| Duration::new(t.tv_sec() as u64, t.tv_usec() as u32 * 1000);
    d(u.user_time()) + d(u.system_time())
}

/// `VmHWM` and `VmRSS` of a process, in MiB.
fn memory(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(f64::NAN, |kib| kib / 1024.0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

// ---------------------------------------------------------------------------
// The generator.

type Sender = SendRequest<Full<Bytes>>;

/// Everything the connections share (one thread: plain cells).
struct Load<'a> {
    mix: &'a Mix,
    tls: TlsConnector,
    addr: SocketAddr,
    host: String,
    next_seq: Cell<u64>,
    stats: RefCell<Stats>,
    /// Open loop: answers after this instant are counted as late.
    window_end: Cell<Option<Instant>>,
}

struct Stats {
    ok: u64,
    /// Answered after the open-loop window (plus a grace of [`LATE_AFTER`]).
    late: u64,
    errors: u64,
    first_errors: Vec<String>,
    latency: Histogram<u64>,
}

impl Stats {
    fn new() -> Stats {
        Stats {
            ok: 0,
            late: 0,
            errors: 0,
            first_errors: Vec::new(),
            // 1 µs to 60 s, 3 significant figures.
            latency: Histogram::new_with_bounds(1, 60_000_000, 3).unwrap(),
        }
    }

    fn error(&mut self, e: String) {
        self.errors += 1;
        if self.first_errors.len() < 5 {
            self.first_errors.push(e);
        }
    }
}

impl Load<'_> {
    fn seq(&self) -> u64 {
        let s = self.next_seq.get();
        self.next_seq.set(s + 1);
        s
    }

    async fn connect(&self) -> Result<Sender, String> {
        let tcp = TcpStream::connect(self.addr)
            .await
            .map_err(|e| format!("connect: {e}"))?;
        tcp.set_nodelay(true).map_err(|e| e.to_string())?;
        let tls = self
            .tls
            .connect(ServerName::IpAddress(self.addr.ip().into()), tcp)
            .await
            .map_err(|e| format!("TLS handshake: {e}"))?;
        let (sender, conn) = http1::handshake(TokioIo::new(tls))
            .await
            .map_err(|e| format!("HTTP handshake: {e}"))?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(sender)
    }

    /// Sends review `seq` and checks its answer.
    async fn one(&self, sender: &mut Sender, seq: u64) -> Result<(), String> {
        let (body, case) = self.mix.request(seq);
        sender
            .ready()
            .await
            .map_err(|e| format!("connection: {e}"))?;
        let request = Request::builder()
            .method(Method::POST)
            .uri("/validate")
            .header(HOST, &self.host)
            .header(CONTENT_TYPE, "application/json")
            .body(Full::new(body))
            .map_err(|e| e.to_string())?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| format!("request: {e}"))?;
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("answer: {e}"))?
            .to_bytes();
        check_answer(status, &body, seq, case)
    }

    /// One connection's loop: `next` gives the scheduled send time of the next
    /// review (now, in a closed loop) or `None` when done.
    async fn run_connection<F, Fut>(&self, mut sender: Option<Sender>, mut next: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Option<Instant>>,
    {
        while let Some(scheduled) = next().await {
            let seq = self.seq();
            let result = match &mut sender {
                Some(s) => self.one(s, seq).await,
                None => match self.connect().await {
                    Ok(mut s) => {
                        let r = self.one(&mut s, seq).await;
                        sender = Some(s);
                        r
                    }
                    Err(e) => Err(e),
                },
            };
            let done = Instant::now();
            let took = done.duration_since(scheduled);
            let mut stats = self.stats.borrow_mut();
            match result {
                Ok(()) => {
                    stats.ok += 1;
                    if self.window_end.get().is_some_and(|end| done > end) {
                        stats.late += 1;
                    }
                    let _ = stats.latency.record(took.as_micros().max(1) as u64);
                }
                Err(e) => {
                    stats.error(e);
                    // Start over on a new connection.
                    sender = None;
                }
            }
        }
    }

    fn take_stats(&self) -> Stats {
        self.stats.replace(Stats::new())
    }

    /// `n` connections, opened before a phase so that it does not time handshakes.
    async fn open(&self, n: usize) -> Vec<Option<Sender>> {
        let opened = futures::future::join_all((0..n).map(|_| self.connect())).await;
        let mut stats = self.stats.borrow_mut();
        opened
            .into_iter()
            .map(|r| r.map_err(|e| stats.error(e)).ok())
            .collect()
    }
}

/// What one phase measured.
struct Phase {
    label: String,
    elapsed: Duration,
    stats: Stats,
    server_cpu: Duration,
    own_cpu: Duration,
    /// CPU time of everything else on the machine (other processes, the kernel's own work).
    other_cpu: Duration,
    /// Open loop: reviews scheduled in the window.
    scheduled: Option<u64>,
}

impl Phase {
    fn rate(&self) -> f64 {
        self.stats.ok as f64 / self.elapsed.as_secs_f64()
    }

    fn pct(&self, q: f64) -> Duration {
        Duration::from_micros(self.stats.latency.value_at_quantile(q))
    }

    fn max(&self) -> Duration {
        Duration::from_micros(self.stats.latency.max())
    }
}

/// Closed loop: `conns` connections, each sending as soon as it is answered.
async fn closed_loop(load: &Load<'_>, pid: u32, conns: usize, secs: f64) -> Phase {
    let senders = load.open(conns).await;
    let cpu = CpuClock::now(pid);
    let start = Instant::now();
    let end = start + Duration::from_secs_f64(secs);
    let loops = senders.into_iter().map(|sender| {
        load.run_connection(sender, move || async move {
            (Instant::now() < end).then(Instant::now)
        })
    });
    futures::future::join_all(loops).await;
    let elapsed = start.elapsed();
    Phase {
        label: format!("(a) closed loop, {conns} connections"),
        elapsed,
        stats: load.take_stats(),
        server_cpu: cpu.server_since(),
        own_cpu: cpu.own_since(),
        other_cpu: cpu.other_since(),
        scheduled: None,
    }
}

/// Open loop: a pacer thread releases one send time every `1/rate` s for
/// `secs`; whichever of `conns` connections is free takes the next one, and
/// latency counts from that time.
async fn open_loop(
    load: &Load<'_>,
    pid: u32,
    conns: usize,
    rate: f64,
    secs: f64,
    label: String,
) -> Phase {
    let senders = load.open(conns).await;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Instant>();
    let total = (rate * secs).round() as u64;
    let window = Duration::from_secs_f64(secs);
    let start = Instant::now() + Duration::from_millis(20);
    load.window_end.set(Some(start + window + LATE_AFTER));
    let interval = 1e9 / rate;
    let pacer = std::thread::spawn(move || {
        let at = |i: u64| start + Duration::from_nanos((i as f64 * interval) as u64);
        let mut i = 0;
        while i < total {
            // Release every send time that has come, then sleep until the
            // next one, but not less than PACER_TICK: a few thousand wake-ups
            // a second at most, each late by the kernel's timer slack.
            let now = Instant::now();
            while i < total && at(i) <= now {
                if tx.send(at(i)).is_err() {
                    return;
                }
                i += 1;
            }
            if i < total {
                let next = at(i).max(now + PACER_TICK);
                std::thread::sleep(next.saturating_duration_since(Instant::now()));
            }
        }
    });
    let rx = tokio::sync::Mutex::new(rx);
    let cpu = CpuClock::now(pid);
    let rx = &rx;
    let loops = senders.into_iter().map(|sender| {
        load.run_connection(sender, move || async move { rx.lock().await.recv().await })
    });
    futures::future::join_all(loops).await;
    let _ = pacer.join();
    load.window_end.set(None);
    // Every review is answered, the last ones perhaps after the window: the
    // rate is over the window or the time taken, whichever is longer.
    let elapsed = start.elapsed().max(window);
    Phase {
        label,
        elapsed,
        stats: load.take_stats(),
        server_cpu: cpu.server_since(),
        own_cpu: cpu.own_since(),
        other_cpu: cpu.other_since(),
        scheduled: Some(total),
    }
}

/// Fetches `/metrics` and sums `sandbox_lint_admission_requests_total`.
async fn requests_counted(health: SocketAddr) -> Result<u64, String> {
    let tcp = TcpStream::connect(health)
        .await
        .map_err(|e| e.to_string())?;
    let (mut sender, conn) = http1::handshake::<_, Empty<Bytes>>(TokioIo::new(tcp))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let request = Request::builder()
        .uri("/metrics")
        .header(HOST, health.to_string())
        .body(Empty::new())
        .map_err(|e| e.to_string())?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| e.to_string())?;
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    let text = String::from_utf8_lossy(&body);
    let mut total = 0.0;
    for line in text
        .lines()
        .filter(|l| l.starts_with("sandbox_lint_admission_requests_total{"))
    {
        total += line
            .rsplit_once(' ')
            .and_then(|(_, v)| v.parse::<f64>().ok())
            .unwrap_or(0.0);
    }
    Ok(total as u64)
}

/// Mean time per call of `f`: a warm-up, then as many calls as fit in
/// `budget` (at least 200).
fn time_per_call(budget: Duration, mut f: impl FnMut()) -> Duration {
    for _ in 0..50 {
        f();
    }
    let start = Instant::now();
    let mut n = 0u32;
    while n < 200 || start.elapsed() < budget {
        f();
        n += 1;
    }
    start.elapsed() / n
}

/// In-process, per case, on this thread: `review::review` alone, and only its
/// first step, the body parsed into a `yaml::Node` tree by serde_json.
fn in_process(mix: &Mix, budget: Duration) -> Vec<(Duration, Duration)> {
    let linter = Linter::with_default_policy();
    mix.cases
        .iter()
        .map(|case| {
            let review = time_per_call(budget, || {
                black_box(review::review(&linter, black_box(&case.body)));
            });
            let parse = time_per_call(budget / 2, || {
                let node: sandbox_lint::yaml::Node =
                    serde_json::from_slice(black_box(&case.body)).expect("a JSON body");
                black_box(node);
            });
            (review, parse)
        })
        .collect()
}

/// Policies and runner pods of the cluster context of [`with_context`].
const CONTEXT_POLICIES: usize = 250;
const CONTEXT_RUNNERS: usize = 1000;

/// One of the context's NetworkPolicies of namespace `wf-0`, by shape.
fn context_policy(i: usize) -> String {
    let t = i % 4;
    let spec = match i % 5 {
        0 => "  podSelector: {}\n  policyTypes: [Ingress, Egress]\n".to_string(),
        1 => "  podSelector: {matchLabels: {app: workflow-runner}}\n  policyTypes: [Egress]\n  egress:\n  - to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}, podSelector: {matchLabels: {k8s-app: kube-dns}}}]\n    ports: [{protocol: UDP, port: 53}]\n  - to: [{ipBlock: {cidr: 0.0.0.0/0, except: [10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 169.254.0.0/16, 100.64.0.0/10]}}]\n    ports: [{port: 443}]\n".to_string(),
        2 => format!("  podSelector: {{matchLabels: {{app: workflow-runner, tier: t{t}}}}}\n  policyTypes: [Egress]\n  egress:\n  - to: [{{podSelector: {{matchLabels: {{app: workflow-runner}}}}}}]\n    ports: [{{port: metrics}}]\n"),
        3 => format!("  podSelector: {{matchExpressions: [{{key: tier, operator: In, values: [t{t}]}}]}}\n  policyTypes: [Ingress, Egress]\n  egress:\n  - to: [{{namespaceSelector: {{matchLabels: {{kubernetes.io/metadata.name: plue-system}}}}, podSelector: {{matchLabels: {{app: plue-api}}}}}}]\n    ports: [{{port: 4000}}]\n"),
        _ => format!("  podSelector: {{matchLabels: {{app: web-{t}}}}}\n  policyTypes: [Ingress]\n  ingress:\n  - from: [{{podSelector: {{matchLabels: {{app: workflow-runner}}}}}}]\n"),
    };
    format!(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: p{i}, namespace: wf-0}}\nspec:\n{spec}"
    )
}

/// A runner Pod of namespace `wf-0` with a unique `run-id`.
fn context_runner(i: usize) -> Value {
    let mut container = serde_json::json!({
        "name": "runner",
        "image": "ghcr.io/example/runner@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    });
    if i % 2 == 1 {
        container["ports"] = serde_json::json!([{"name": "metrics", "containerPort": 9090}]);
    }
    serde_json::json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": format!("runner-{i}"),
            "namespace": "wf-0",
            "labels": {"app": "workflow-runner", "tier": format!("t{}", i % 4), "run-id": format!("r{i}")},
        },
        "spec": {"runtimeClassName": "gvisor", "containers": [container]},
    })
}

/// A linter whose cluster context holds [`CONTEXT_POLICIES`] policies and
/// [`CONTEXT_RUNNERS`] runner pods of one namespace (plus kube-dns and the
/// callback API), as a synced live index; and the bodies of a runner Pod
/// review and a NetworkPolicy review.
fn with_context() -> (Linter, Vec<(&'static str, Vec<u8>)>) {
    use sandbox_lint::cluster::Cluster;
    use sandbox_lint::finding::Location;
    use sandbox_lint::source::LineCol;
    let mut texts: Vec<String> = (0..CONTEXT_POLICIES).map(context_policy).collect();
    for i in 0..CONTEXT_RUNNERS {
        texts.push(serde_json::to_string(&context_runner(i)).unwrap());
    }
    texts.push("{apiVersion: v1, kind: Pod, metadata: {name: dns, namespace: kube-system, labels: {k8s-app: kube-dns}}, spec: {containers: [{name: c, image: dns}]}}".into());
    texts.push("{apiVersion: v1, kind: Pod, metadata: {name: api, namespace: plue-system, labels: {app: plue-api}}, spec: {containers: [{name: c, image: api, ports: [{name: http, containerPort: 4000}]}]}}".into());
    let limits = sandbox_lint::yaml::Limits::default();
    let mut cluster = Cluster::default();
    for text in &texts {
        let loaded = sandbox_lint::load::load_text(text, &limits);
        assert!(loaded.diagnostics.is_empty(), "context object: {text}");
        for doc in &loaded.docs {
            for r in &doc.resources {
                let file: Arc<str> = Arc::from(format!("cluster: {}", r.object_ref()));
                let locate = |_: &sandbox_lint::pointer::Pointer| Location {
                    file: file.clone(),
                    start: 0,
                    end: 0,
                    start_lc: LineCol { line: 1, column: 1 },
                    end_lc: LineCol { line: 1, column: 1 },
                };
                cluster.add(r, "default", true, &locate);
            }
        }
    }
    assert_eq!(cluster.policies.len(), CONTEXT_POLICIES);
    cluster.live = true;
    let linter = Linter::with_default_policy();
    linter.set_cluster(cluster);
    let mut pod = context_runner(CONTEXT_RUNNERS + 7);
    pod["metadata"]["name"] = Value::from("runner-under-review");
    let policy: Value = {
        let loaded = sandbox_lint::load::load_text(&context_policy(CONTEXT_POLICIES + 1), &limits);
        loaded.docs[0].root.to_json()
    };
    let bodies = [("runner Pod", pod), ("NetworkPolicy", policy)]
        .into_iter()
        .map(|(name, object)| {
            (
                name,
                serde_json::to_vec(&admission::create_review(UID_TEMPLATE, &object)).unwrap(),
            )
        })
        .collect();
    (linter, bodies)
}

/// Judging with a cluster context must cost microseconds: under this.
const TARGET_CONTEXT_REVIEW: Duration = Duration::from_millis(1);

/// Prints the rows with a cluster context; whether each is under
/// [`TARGET_CONTEXT_REVIEW`].
fn print_context_rows(budget: Duration) -> bool {
    let start = Instant::now();
    let rows = in_process_with_context(budget);
    println!(
        "  with a cluster context of {CONTEXT_POLICIES} NetworkPolicies and {CONTEXT_RUNNERS} runner pods in the namespace (built in {:.0} ms with the measurements):",
        start.elapsed().as_secs_f64() * 1e3
    );
    let mut ok = true;
    for (name, per, findings) in rows {
        let pass = per < TARGET_CONTEXT_REVIEW;
        ok &= pass;
        println!(
            "  {:<18} {:>8} findings {:>12.1} µs/review {:>10.0} reviews/s  [{}] < {} µs",
            name,
            findings,
            micros(per),
            1.0 / per.as_secs_f64(),
            if pass { "PASS" } else { "FAIL" },
            TARGET_CONTEXT_REVIEW.as_micros()
        );
    }
    ok
}

/// Per review with the cluster context: (name, µs per review, findings).
fn in_process_with_context(budget: Duration) -> Vec<(&'static str, Duration, usize)> {
    let (linter, bodies) = with_context();
    bodies
        .iter()
        .map(|(name, body)| {
            let outcome = review::review(&linter, body);
            assert_eq!(
                outcome.status,
                200,
                "{name}: {}",
                String::from_utf8_lossy(&outcome.body)
            );
            let findings = outcome.message.matches("SL300").count();
            assert!(
                findings > 0,
                "{name}: no network finding: {}",
                outcome.message
            );
            let per = time_per_call(budget, || {
                black_box(review::review(&linter, black_box(body)));
            });
            (*name, per, findings)
        })
        .collect()
}

// ---------------------------------------------------------------------------
// The run.

async fn bench(args: &Args) -> ExitCode {
    let mix = Mix::new();
    let (ca_pem, cert, key) = certificates();
    let mut server = match start_server(&cert, &key).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let pid = server.child.id();
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(c.unwrap()).unwrap();
    }
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let load = Load {
        mix: &mix,
        tls: TlsConnector::from(Arc::new(config)),
        addr: server.addr,
        host: server.addr.to_string(),
        next_seq: Cell::new(0),
        stats: RefCell::new(Stats::new()),
        window_end: Cell::new(None),
    };

    println!(
        "== sandbox-lint serve load benchmark{}",
        if args.quick {
            " (quick: shortened phases)"
        } else {
            ""
        }
    );
    println!(
        "  server: {BIN} (pid {pid}) on https://{}, probes on http://{}, log level info",
        server.addr, server.health
    );
    println!(
        "  generator: this process, one thread (current-thread tokio), HTTP/1.1 keep-alive over TLS ({} cores on the machine)",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "  mix ({} requests per cycle, mean body {:.0} bytes):",
        mix.slots.len(),
        mix.mean_body_bytes()
    );
    for c in &mix.cases {
        println!(
            "    {:<18} x{}  {:>5} bytes  expect {} ({})",
            c.name,
            c.weight,
            c.body.len(),
            if c.allowed { "allowed" } else { "denied" },
            c.decision
        );
    }
    let load_before = load_average();
    let mut phases: Vec<Phase> = Vec::new();

    // Warm-up: connections, caches, the server's allocator.
    let warm = closed_loop(&load, pid, 4, if args.quick { 0.5 } else { 1.0 }).await;
    if warm.stats.errors > 0 {
        println!("warm-up errors: {:?}", warm.stats.first_errors);
    }
    let mut all_errors = warm.stats.errors;
    let mut sent = warm.stats.ok + warm.stats.errors;

    // (a)
    println!("\n== (a) closed loop");
    let closed_secs = if args.quick { 2.0 } else { 5.0 };
    let mut best_rate = 0.0f64;
    for &n in &args.connections {
        let p = closed_loop(&load, pid, n, closed_secs).await;
        print_phase(&p);
        best_rate = best_rate.max(p.rate());
        phases.push(p);
    }

    // (b)
    println!(
        "\n== (b) open loop at {:.0}/s for {:.0} s",
        args.rate, args.latency_secs
    );
    let p = open_loop(
        &load,
        pid,
        8,
        args.rate,
        args.latency_secs,
        format!("(b) open loop {:.0}/s, 8 connections", args.rate),
    )
    .await;
    print_phase(&p);
    let latency_phase = phases.len();
    phases.push(p);

    // (c)
    let sustain_rate = args.sustain_rate.unwrap_or_else(|| {
        let ninety = (best_rate * 0.9 / 500.0).floor() * 500.0;
        if best_rate >= TARGET_RATE {
            TARGET_RATE
        } else {
            ninety.max(500.0)
        }
    });
    // Enough connections to keep 2 ms of reviews in flight.
    let sustain_conns = ((sustain_rate * 0.002).ceil() as usize).clamp(8, 32);
    println!(
        "\n== (c) open loop at {sustain_rate:.0}/s for {:.0} s, {sustain_conns} connections (best closed loop: {best_rate:.0}/s)",
        args.sustain_secs
    );
    let p = open_loop(
        &load,
        pid,
        sustain_conns,
        sustain_rate,
        args.sustain_secs,
        format!("(c) open loop {sustain_rate:.0}/s, {sustain_conns} connections"),
    )
    .await;
    print_phase(&p);
    let sustain_phase = phases.len();
    phases.push(p);
    let (hwm, rss) = memory(pid);
    let server_alive = matches!(server.child.try_wait(), Ok(None));

    for p in &phases {
        all_errors += p.stats.errors;
        sent += p.stats.ok + p.stats.errors;
    }
    let counted = requests_counted(server.health).await;
    let log_bytes = std::fs::metadata(&server.log).map_or(0, |m| m.len());
    let log_problems = std::fs::read_to_string(&server.log)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.contains("\"level\":\"INFO\""))
        .take(3)
        .map(str::to_string)
        .collect::<Vec<_>>();
    drop(server);

    // (d)
    println!("\n== (d) in-process: webhook::review::review alone, one thread");
    let rows = in_process(
        &mix,
        Duration::from_millis(if args.quick { 100 } else { 400 }),
    );
    println!(
        "  {:<18} {:<8} {:>11} {:>12} {:>12} {:>19}",
        "kind", "decision", "body bytes", "µs/review", "reviews/s", "of which JSON parse"
    );
    let (mut review_sum, mut parse_sum) = (Duration::ZERO, Duration::ZERO);
    for (case, (review, parse)) in mix.cases.iter().zip(&rows) {
        println!(
            "  {:<18} {:<8} {:>11} {:>12.1} {:>12.0} {:>11.1} µs {:>3.0}%",
            case.name,
            case.decision,
            case.body.len(),
            micros(*review),
            1.0 / review.as_secs_f64(),
            micros(*parse),
            100.0 * parse.as_secs_f64() / review.as_secs_f64()
        );
        review_sum += *review * case.weight as u32;
        parse_sum += *parse * case.weight as u32;
    }
    let (mix_review, mix_parse) = (
        review_sum / mix.slots.len() as u32,
        parse_sum / mix.slots.len() as u32,
    );
    println!(
        "  {:<18} {:<8} {:>11.0} {:>12.1} {:>12.0} {:>11.1} µs {:>3.0}%",
        "mix (weighted)",
        "",
        mix.mean_body_bytes(),
        micros(mix_review),
        1.0 / mix_review.as_secs_f64(),
        micros(mix_parse),
        100.0 * mix_parse.as_secs_f64() / mix_review.as_secs_f64()
    );
    let context_ok = print_context_rows(Duration::from_millis(if args.quick { 100 } else { 400 }));

    // Summary.
    println!(
        "\n{:<44} {:>10} {:>8} {:>9} {:>9} {:>9} {:>9} {:>7} {:>11} {:>8} {:>8}",
        "phase",
        "reviews/s",
        "errors",
        "p50",
        "p99",
        "p99.9",
        "max",
        "srv CPU",
        "srv µs/rev",
        "gen CPU",
        "others"
    );
    println!("{}", "-".repeat(145));
    for p in &phases {
        println!(
            "{:<44} {:>10.0} {:>8} {:>9} {:>9} {:>9} {:>9} {:>6.0}% {:>11.1} {:>7.0}% {:>7.0}%",
            p.label,
            p.rate(),
            p.stats.errors,
            fmt_dur(p.pct(0.5)),
            fmt_dur(p.pct(0.99)),
            fmt_dur(p.pct(0.999)),
            fmt_dur(p.max()),
            100.0 * p.server_cpu.as_secs_f64() / p.elapsed.as_secs_f64(),
            micros(p.server_cpu) / p.stats.ok.max(1) as f64,
            100.0 * p.own_cpu.as_secs_f64() / p.elapsed.as_secs_f64(),
            100.0 * p.other_cpu.as_secs_f64() / p.elapsed.as_secs_f64(),
        );
    }
    println!(
        "(latency: closed loop from send, open loop from the scheduled send time; CPU: % of one core, `others` = every other process and the kernel's own work; server peak RSS {hwm:.1} MiB, RSS at the end {rss:.1} MiB; server log {:.1} MB)",
        log_bytes as f64 / 1e6
    );
    if let Some(best) = phases[..latency_phase]
        .iter()
        .max_by(|x, y| x.rate().total_cmp(&y.rate()))
    {
        let per = micros(best.server_cpu) / best.stats.ok.max(1) as f64;
        println!(
            "server CPU per review at the best closed loop: {per:.1} µs; judging alone (d): {:.1} µs ({:.0}%); the rest: TLS, HTTP, the log line, metrics, scheduling",
            micros(mix_review),
            100.0 * micros(mix_review) / per
        );
    }
    if let (Some(before), Some(after)) = (load_before, load_average()) {
        println!("load average (1 min) before/after: {before:.2} / {after:.2}");
    }
    for p in &phases {
        let others = p.other_cpu.as_secs_f64() / p.elapsed.as_secs_f64();
        if others > 0.15 {
            println!(
                "  warning: other processes used {:.0}% of a core during {}: its figures understate the server",
                100.0 * others,
                p.label
            );
        }
    }
    for p in &phases {
        for e in &p.stats.first_errors {
            println!("  error in {}: {e}", p.label);
        }
    }
    for l in &log_problems {
        println!("  server log line above info: {l}");
    }

    // Targets.
    let c = &phases[sustain_phase];
    let b = &phases[latency_phase];
    let scheduled = c.scheduled.unwrap_or(0) as f64;
    let answered_share = (c.stats.ok - c.stats.late) as f64 / scheduled.max(1.0);
    let sustained =
        answered_share >= SUSTAINED_SHARE && c.pct(0.99) < SUSTAINED_P99 && c.stats.errors == 0;
    let counted_ok = matches!(counted, Ok(n) if n == sent);
    let targets = [
        (
            format!(
                "sustained >= {TARGET_RATE:.0} reviews/s for {:.0} s: offered {sustain_rate:.0}/s, answered {:.0}/s ({:.2}% of scheduled in the window, p99 {} from schedule){}",
                args.sustain_secs,
                c.rate(),
                100.0 * answered_share,
                fmt_dur(c.pct(0.99)),
                if sustained { "" } else { ": not sustained" }
            ),
            sustained && sustain_rate >= TARGET_RATE,
        ),
        (
            format!(
                "p99 < {} at {:.0}/s: p99 {} (p50 {}, p99.9 {}, max {})",
                fmt_dur(TARGET_P99),
                args.rate,
                fmt_dur(b.pct(0.99)),
                fmt_dur(b.pct(0.5)),
                fmt_dur(b.pct(0.999)),
                fmt_dur(b.max())
            ),
            b.stats.ok > 0 && b.pct(0.99) < TARGET_P99,
        ),
        (
            format!("server peak RSS < {TARGET_RSS_MIB:.0} MiB: VmHWM {hwm:.1} MiB"),
            hwm < TARGET_RSS_MIB,
        ),
        (
            format!(
                "zero errors over the {:.0} s run: {} errors",
                args.sustain_secs, c.stats.errors
            ),
            c.stats.errors == 0 && c.stats.ok > 0,
        ),
        (
            format!(
                "no errors in any phase, server alive, /metrics counts every review sent: {all_errors} errors, {sent} sent, {} counted",
                match &counted {
                    Ok(n) => n.to_string(),
                    Err(e) => format!("unknown ({e})"),
                }
            ),
            all_errors == 0 && server_alive && counted_ok,
        ),
        (
            format!(
                "in-process review with a cluster context of {CONTEXT_POLICIES} policies < {} µs (rows of (d))",
                TARGET_CONTEXT_REVIEW.as_micros()
            ),
            context_ok,
        ),
    ];
    println!(
        "\n== targets{}",
        if args.quick {
            " (quick run: short phases)"
        } else {
            ""
        }
    );
    for (what, ok) in &targets {
        println!("  [{}] {what}", if *ok { "PASS" } else { "FAIL" });
    }
    if targets.iter().all(|(_, ok)| *ok) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn print_phase(p: &Phase) {
    println!(
        "  {}: {} answered in {:.1} s = {:.0}/s, {} errors; latency p50 {} p99 {} p99.9 {} max {}; CPU: server {:.0}%, generator {:.0}%, others {:.0}%",
        p.label,
        p.stats.ok,
        p.elapsed.as_secs_f64(),
        p.rate(),
        p.stats.errors,
        fmt_dur(p.pct(0.5)),
        fmt_dur(p.pct(0.99)),
        fmt_dur(p.pct(0.999)),
        fmt_dur(p.max()),
        100.0 * p.server_cpu.as_secs_f64() / p.elapsed.as_secs_f64(),
        100.0 * p.own_cpu.as_secs_f64() / p.elapsed.as_secs_f64(),
        100.0 * p.other_cpu.as_secs_f64() / p.elapsed.as_secs_f64(),
    );
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn fmt_dur(d: Duration) -> String {
    if d < Duration::from_millis(10) {
        format!("{:.2} ms", d.as_secs_f64() * 1e3)
    } else {
        format!("{:.1} ms", d.as_secs_f64() * 1e3)
    }
}

/// The 1-minute load average (Linux), to tell a busy machine from a slow server.
fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}
