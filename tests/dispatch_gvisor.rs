//! The local gVisor backend against a real `runsc` (as root, `--platform=ptrace`).
//!
//! Every test builds its Pod from `testdata/compliant/ok-runner-pod.yaml` plus
//! the dispatcher's `work` configMap volume, runs it with
//! [`sandbox_lint::dispatch::gvisor::run`] and then checks that nothing is
//! left: no container in the private runsc state root, no runsc process using
//! it, no cgroup, no temporary directory. Without runsc these tests fail
//! (install it with `apt-get install runsc`); they do not skip.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use sandbox_lint::dispatch::gvisor::{self, Error, LocalRun, Reason, RunResult};
use serde_json::{Value, json};

const SECRET: &str = "sk-test-not-a-real-key";

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Fails (never skips) when the machine cannot run these tests.
fn require_runsc() -> PathBuf {
    let uid = fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| {
            l.strip_prefix("Uid:")
                .map(|r| r.split_whitespace().next().unwrap().to_string())
        })
        .unwrap();
    assert_eq!(uid, "0", "the gVisor tests need root (runsc with cgroups)");
    match gvisor::find_runsc(Path::new("runsc")) {
        Ok(p) => p,
        Err(e) => panic!("runsc is not installed: apt-get install runsc ({e})"),
    }
}

/// The compliant runner Pod of the seeds, as the dispatcher completes it: a
/// `work` configMap volume mounted read-only at /work, a command, /work as
/// working directory, a 30 s deadline. `change` edits the JSON afterwards.
fn pod(command: &[&str], change: impl FnOnce(&mut Value)) -> Pod {
    let text =
        fs::read_to_string(manifest_dir().join("testdata/compliant/ok-runner-pod.yaml")).unwrap();
    let mut v: Value = serde_saphyr::from_str(&text).unwrap();
    let spec = &mut v["spec"];
    spec["activeDeadlineSeconds"] = json!(30);
    spec["volumes"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "work", "configMap": {"name": "runner-work"}}));
    let c = &mut spec["containers"][0];
    c["command"] = json!(command);
    c["workingDir"] = json!("/work");
    c["env"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "PYTHONDONTWRITEBYTECODE", "value": "1"}));
    c["volumeMounts"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "work", "mountPath": "/work", "readOnly": true}));
    change(&mut v);
    serde_json::from_value(v).unwrap()
}

/// A private place for one test: scratch (the runs' temporary directories),
/// the runsc state root, and a work directory for scripts.
struct Fixture {
    dir: tempfile::TempDir,
    ids: Arc<Mutex<Vec<String>>>,
}

impl Fixture {
    fn new() -> Self {
        require_runsc();
        let dir = tempfile::tempdir().unwrap();
        for sub in ["scratch", "state", "work"] {
            fs::create_dir(dir.path().join(sub)).unwrap();
        }
        Fixture {
            dir,
            ids: Arc::default(),
        }
    }

    fn path(&self, sub: &str) -> PathBuf {
        self.dir.path().join(sub)
    }

    /// Writes a script into the work directory.
    fn script(&self, name: &str, text: &str) {
        fs::write(self.path("work").join(name), text).unwrap();
    }

    /// A run of `pod` with this fixture's work directory.
    fn local(&self, pod: Pod) -> LocalRun {
        self.local_with_work(pod, &self.path("work"))
    }

    fn local_with_work(&self, pod: Pod, work: &Path) -> LocalRun {
        let mut run =
            LocalRun::new(pod, work).secret("workflow-secrets", "anthropic-api-key", SECRET);
        run.scratch_dir = Some(self.path("scratch"));
        run.state_root = Some(self.path("state"));
        let ids = self.ids.clone();
        run.on_start = Some(Arc::new(move |s: &gvisor::Started| {
            ids.lock().unwrap().push(s.id.clone())
        }));
        run
    }

    /// Runs and checks that nothing was left behind.
    fn run(&self, run: &LocalRun) -> RunResult {
        let result = gvisor::run(run);
        self.assert_clean();
        match result {
            Ok(r) => r,
            Err(e) => panic!("run failed: {e}"),
        }
    }

    /// No container, runsc process, cgroup, state file or temporary
    /// directory of this fixture is left.
    fn assert_clean(&self) {
        let state = self.path("state");
        let out = Command::new("runsc")
            .arg(format!("--root={}", state.display()))
            .args(["list", "-quiet"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "runsc list: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let listed = String::from_utf8_lossy(&out.stdout);
        assert!(listed.trim().is_empty(), "containers left: {listed}");
        assert_eq!(
            gvisor::processes_using_root(&state),
            Vec::<u32>::new(),
            "runsc processes left"
        );
        let left: Vec<_> = fs::read_dir(&state)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert!(left.is_empty(), "state files left: {left:?}");
        let left: Vec<_> = fs::read_dir(self.path("scratch"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert!(left.is_empty(), "temporary directories left: {left:?}");
        for id in self.ids.lock().unwrap().iter() {
            let leaf = format!("sandbox-lint-{id}");
            let found = find_dir(Path::new("/sys/fs/cgroup"), &leaf, 5);
            assert!(found.is_empty(), "cgroups left: {found:?}");
        }
    }
}

/// Directories named `name` under `dir`, at most `depth` levels down.
fn find_dir(dir: &Path, name: &str, depth: u32) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(rd) = fs::read_dir(dir) else {
        return found;
    };
    for e in rd.flatten() {
        if !e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
            continue;
        }
        if e.file_name() == name {
            found.push(e.path());
        } else if depth > 0 {
            found.extend(find_dir(&e.path(), name, depth - 1));
        }
    }
    found
}

/// `python3 -c <code>` (the host's /usr/bin/python3, through the read-only root).
fn python(code: &str) -> Vec<&str> {
    vec!["python3", "-c", code]
}

/// The last line of stdout, as JSON.
fn json_out(r: &RunResult) -> Value {
    let text = r.stdout_text();
    let line = text
        .lines()
        .last()
        .unwrap_or_else(|| panic!("no output; stderr: {}", r.stderr_text()));
    serde_json::from_str(line)
        .unwrap_or_else(|e| panic!("{e}: {text:?}; stderr: {}", r.stderr_text()))
}

/// The seeds' runner scenario: `python3 /work/main.py` reads `tests.json`,
/// runs the tests against the submitted module and prints a JSON report,
/// as the Pod's user, with the secret in its environment and /workspace as
/// scratch.
#[test]
fn runner_scenario_runs_the_tests_and_reports_json() {
    let f = Fixture::new();
    let work = manifest_dir().join("testdata/dispatch/runner");
    let run = f.local_with_work(pod(&["python3", "/work/main.py"], |_| {}), &work);
    let r = f.run(&run);
    assert_eq!(r.reason, Reason::Completed, "stderr: {}", r.stderr_text());
    assert_eq!(r.exit_code, Some(0));
    let report = json_out(&r);
    assert_eq!(report["passed"], 5, "{report}");
    assert_eq!(report["failed"], 0, "{report}");
    let names: Vec<&str> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "add small numbers",
            "add negatives",
            "fizzbuzz 15",
            "fizzbuzz 7",
            "word count"
        ]
    );
    assert_eq!(report["uid"], 1000);
    assert_eq!(report["gid"], 1000);
    assert_eq!(report["cwd"], "/work");
    assert_eq!(report["secret_present"], true);
    assert_eq!(report["scratch_roundtrip"], true);
    assert!(!r.stdout_text().contains(SECRET));
}

/// The root file system and /work are read-only: writes fail with EROFS even
/// where the permissions would allow them (the host's world-writable
/// /var/tmp, a work directory of mode 0777), and both are mounted `ro`; the
/// emptyDirs /workspace and /tmp are writable.
#[test]
fn root_is_read_only_and_workspace_is_writable() {
    use std::os::unix::fs::PermissionsExt;
    let f = Fixture::new();
    f.script("input.txt", "hello\n");
    fs::set_permissions(f.path("work"), fs::Permissions::from_mode(0o777)).unwrap();
    let code = r#"
import json, os
def attempt(path):
    try:
        with open(path, "w") as fh:
            fh.write("x")
        return "ok"
    except OSError as e:
        return os.strerror(e.errno)
paths = ["/evil", "/var/tmp/evil", "/work/evil", "/workspace/out.txt", "/tmp/out.txt"]
out = {p: attempt(p) for p in paths}
out["read"] = open("/work/input.txt").read()
out["mounts"] = {m[1]: m[3].split(",")[0] for m in (l.split() for l in open("/proc/mounts"))}
print(json.dumps(out))
"#;
    let r = f.run(&f.local(pod(&python(code), |_| {})));
    let out = json_out(&r);
    // / is not writable by uid 1000 anyway; read-only or not, the write fails
    assert_ne!(out["/evil"], "ok", "{out}");
    assert_eq!(out["/var/tmp/evil"], "Read-only file system", "{out}");
    assert_eq!(out["/work/evil"], "Read-only file system", "{out}");
    assert_eq!(out["/workspace/out.txt"], "ok", "{out}");
    assert_eq!(out["/tmp/out.txt"], "ok", "{out}");
    assert_eq!(out["read"], "hello\n");
    assert_eq!(out["mounts"]["/"], "ro", "{out}");
    assert_eq!(out["mounts"]["/work"], "ro", "{out}");
    assert_eq!(out["mounts"]["/workspace"], "rw", "{out}");
    for host in ["/evil", "/var/tmp/evil"] {
        assert!(
            !Path::new(host).exists(),
            "a write reached the host's {host}"
        );
    }
    assert!(
        !f.path("work").join("evil").exists(),
        "a write reached the work directory"
    );
    assert_eq!(r.reason, Reason::Completed);
}

/// Writing to /tmp past its emptyDir sizeLimit (8 MiB here) fails with
/// ENOSPC inside the sandbox; the workload goes on and the host is untouched.
#[test]
fn tmp_is_bounded_by_its_size_limit() {
    let f = Fixture::new();
    let p = pod(
        &python(
            r#"
import json, os
written = 0
err = None
try:
    with open("/tmp/fill", "wb") as fh:
        while written < (64 << 20):
            fh.write(b"x" * 65536)
            fh.flush()
            written += 65536
except OSError as e:
    err = os.strerror(e.errno)
print(json.dumps({"written": os.path.getsize("/tmp/fill"), "error": err}))
"#,
        ),
        |v| v["spec"]["volumes"][1]["emptyDir"]["sizeLimit"] = json!("8Mi"),
    );
    let r = f.run(&f.local(p));
    let out = json_out(&r);
    assert_eq!(out["error"], "No space left on device", "{out}");
    let written = out["written"].as_u64().unwrap();
    assert!(
        ((7 << 20)..=(8 << 20)).contains(&written),
        "wrote {written} bytes"
    );
    assert_eq!(r.reason, Reason::Completed);
}

/// No network: only a loopback device, and connecting out fails.
#[test]
fn there_is_no_network() {
    let f = Fixture::new();
    let code = r#"
import json, socket
out = {"interfaces": [n for _, n in socket.if_nameindex()]}
for host, port in [("1.1.1.1", 53), ("8.8.8.8", 443), ("10.0.0.1", 80)]:
    try:
        socket.create_connection((host, port), timeout=3).close()
        out[host] = "connected"
    except OSError as e:
        out[host] = type(e).__name__
print(json.dumps(out))
"#;
    let r = f.run(&f.local(pod(&python(code), |_| {})));
    let out = json_out(&r);
    assert_eq!(out["interfaces"], json!(["lo"]), "{out}");
    for host in ["1.1.1.1", "8.8.8.8", "10.0.0.1"] {
        assert_ne!(out[host], "connected", "{out}");
    }
}

/// A workload that allocates past limits.memory (256 MiB) is killed by the
/// memory cgroup; the result says OOMKilled (exit 137, SIGKILL).
#[test]
fn memory_limit_kills_and_reports_oom() {
    let f = Fixture::new();
    let p = pod(
        &python(
            r#"
chunks = []
for i in range(64):
    chunks.append(bytearray(b"x" * (16 << 20)))
    print("allocated", (i + 1) * 16, "MiB", flush=True)
print("survived")
"#,
        ),
        |v| v["spec"]["containers"][0]["resources"]["limits"]["memory"] = json!("256Mi"),
    );
    let r = f.run(&f.local(p));
    assert_eq!(
        r.reason,
        Reason::OOMKilled,
        "stdout: {} stderr: {}",
        r.stdout_text(),
        r.stderr_text()
    );
    assert!(r.oom_kills >= 1);
    assert_eq!(r.exit_code, Some(137));
    assert_eq!(r.signal, Some(9));
    assert!(!r.stdout_text().contains("survived"));
    assert!(
        r.stdout_text().contains("allocated 16 MiB"),
        "{}",
        r.stdout_text()
    );
}

/// A workload still running at activeDeadlineSeconds (2 s) is killed at
/// about that time; the result says DeadlineExceeded.
#[test]
fn deadline_kills_the_sandbox() {
    let f = Fixture::new();
    let p = pod(&["sh", "-c", "echo started; sleep 60; echo never"], |v| {
        v["spec"]["activeDeadlineSeconds"] = json!(2)
    });
    let r = f.run(&f.local(p));
    assert_eq!(r.reason, Reason::DeadlineExceeded);
    assert!(r.duration >= Duration::from_secs(2), "{:?}", r.duration);
    assert!(r.duration < Duration::from_secs(4), "{:?}", r.duration);
    assert_eq!(r.stdout_text(), "started\n");
    assert_eq!(r.exit_code, Some(137));
}

/// A deadline too far away to add to a clock (i64::MAX seconds) is no
/// deadline: the run completes instead of panicking.
#[test]
fn a_deadline_beyond_the_clock_is_no_deadline() {
    let f = Fixture::new();
    let p = pod(&["sh", "-c", "echo done"], |v| {
        v["spec"]["activeDeadlineSeconds"] = json!(i64::MAX)
    });
    let r = f.run(&f.local(p));
    assert_eq!(r.reason, Reason::Completed, "{}", r.stderr_text());
    assert_eq!(r.stdout_text(), "done\n");
}

/// The workload runs as the Pod's uid/gid (fsGroup as a supplementary
/// group), with no capabilities and no_new_privs set.
#[test]
fn runs_as_the_pods_user_without_privileges() {
    let f = Fixture::new();
    let script = r#"
id -u; id -g; id -G
grep -E '^Cap(Inh|Prm|Eff|Bnd|Amb):' /proc/self/status
grep '^NoNewPrivs:' /proc/self/status || true
python3 -c 'import ctypes; print("prctl_no_new_privs", ctypes.CDLL(None).prctl(39, 0, 0, 0, 0))'
"#;
    let p = pod(&["sh", "-c", script], |v| {
        v["spec"]["securityContext"]["fsGroup"] = json!(2000)
    });
    let r = f.run(&f.local(p));
    assert_eq!(r.reason, Reason::Completed, "stderr: {}", r.stderr_text());
    let out = r.stdout_text();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "1000");
    assert_eq!(lines[1], "1000");
    let groups: Vec<&str> = lines[2].split_whitespace().collect();
    assert!(
        groups.contains(&"1000") && groups.contains(&"2000"),
        "{groups:?}"
    );
    let caps: Vec<&str> = lines
        .iter()
        .filter(|l| l.starts_with("Cap"))
        .copied()
        .collect();
    assert!(caps.iter().any(|l| l.starts_with("CapEff:")), "{out}");
    for cap in &caps {
        assert!(cap.ends_with("0000000000000000"), "{cap}");
    }
    // gVisor (this release) has no NoNewPrivs line; prctl is the authority.
    if let Some(l) = lines.iter().find(|l| l.starts_with("NoNewPrivs:")) {
        assert!(l.ends_with('1'), "{l}");
    }
    assert!(lines.contains(&"prctl_no_new_privs 1"), "{out}");
}

/// pids_limit is RLIMIT_NPROC inside the sandbox: forking past it fails with
/// EAGAIN, and the sandbox survives.
#[test]
fn pids_limit_stops_forks() {
    let f = Fixture::new();
    let code = r#"
import json, os, time
pids = []
err = None
try:
    for _ in range(200):
        pid = os.fork()
        if pid == 0:
            time.sleep(30)
            os._exit(0)
        pids.append(pid)
except OSError as e:
    err = os.strerror(e.errno)
for p in pids:
    os.kill(p, 9)
    os.waitpid(p, 0)
print(json.dumps({"forked": len(pids), "error": err}))
"#;
    let mut run = f.local(pod(&python(code), |_| {}));
    run.pids_limit = 32;
    let r = f.run(&run);
    assert_eq!(r.reason, Reason::Completed, "stderr: {}", r.stderr_text());
    let out = json_out(&r);
    assert_eq!(out["error"], "Resource temporarily unavailable", "{out}");
    let forked = out["forked"].as_u64().unwrap();
    assert!((16..32).contains(&forked), "forked {forked}");
}

/// Output past output_limit is dropped and flagged, and a non-zero exit is
/// reason Error with its exit code.
#[test]
fn output_is_bounded_and_exit_codes_are_reported() {
    let f = Fixture::new();
    let code =
        "import sys; sys.stdout.write('y' * 3_000_000); sys.stderr.write('bad\\n'); sys.exit(3)";
    let mut run = f.local(pod(&python(code), |_| {}));
    run.output_limit = 1000;
    let r = f.run(&run);
    assert_eq!(r.reason, Reason::Error);
    assert_eq!(r.exit_code, Some(3));
    assert_eq!(r.signal, None);
    assert_eq!(r.stdout.len(), 1000);
    assert!(r.stdout_truncated);
    assert_eq!(r.stderr_text(), "bad\n");
    assert!(!r.stderr_truncated);
}

/// A Pod the dispatcher does not build (a hostPath volume) is refused before
/// anything is created.
#[test]
fn a_hostpath_pod_is_refused_before_anything_runs() {
    let f = Fixture::new();
    let p = pod(&["true"], |v| {
        v["spec"]["volumes"][0] = json!({"name": "workspace", "hostPath": {"path": "/etc"}})
    });
    match gvisor::run(&f.local(p)) {
        Err(Error::Refused(m)) => assert!(m.contains("hostPath"), "{m}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    f.assert_clean();
    assert!(f.ids.lock().unwrap().is_empty(), "a sandbox was started");
}

/// A secret reference without a value is an error before anything runs.
#[test]
fn a_missing_secret_is_an_error_before_anything_runs() {
    let f = Fixture::new();
    let mut run = f.local(pod(&["true"], |_| {}));
    run.secrets.clear();
    match gvisor::run(&run) {
        Err(Error::MissingSecret { name, key, .. }) => {
            assert_eq!(
                (name.as_str(), key.as_str()),
                ("workflow-secrets", "anthropic-api-key")
            );
        }
        other => panic!("expected MissingSecret, got {other:?}"),
    }
    f.assert_clean();
    assert!(f.ids.lock().unwrap().is_empty(), "a sandbox was started");
}

/// A panic while the sandbox runs (here in the on_start hook) still removes
/// the container, its processes, cgroups and directories.
#[test]
fn a_panic_still_cleans_up() {
    let f = Fixture::new();
    let mut run = f.local(pod(&["sleep", "30"], |_| {}));
    let ids = f.ids.clone();
    run.on_start = Some(Arc::new(move |s: &gvisor::Started| {
        ids.lock().unwrap().push(s.id.clone());
        // let the sandbox come up before panicking
        std::thread::sleep(Duration::from_millis(500));
        panic!("hook failed");
    }));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| gvisor::run(&run)));
    assert!(result.is_err(), "the panic did not propagate");
    assert_eq!(f.ids.lock().unwrap().len(), 1);
    f.assert_clean();
}

/// A missing runsc binary is an error that says how to install it.
#[test]
fn missing_runsc_says_how_to_install_it() {
    let f = Fixture::new();
    let mut run = f.local(pod(&["true"], |_| {}));
    run.runsc = PathBuf::from("/nonexistent/runsc");
    let err = gvisor::run(&run).unwrap_err();
    assert!(err.to_string().contains("apt-get install runsc"), "{err}");
    f.assert_clean();
}

/// `sandbox-lint dispatch run --backend gvisor` end to end: the request is built
/// into a verified pod, run in runsc with the seeds' runner scenario at /work,
/// its output printed, and the CLI exits with the workload's exit code.
#[test]
fn cli_runs_the_seeds_scenario_and_exits_with_its_code() {
    let bin = env!("CARGO_BIN_EXE_sandbox-lint");
    let run = |cmd: &[&str]| {
        std::process::Command::new(bin)
            .args([
                "dispatch",
                "run",
                "--backend",
                "gvisor",
                "--image",
                "python:3.12",
                "--workspace",
                "testdata/dispatch/runner",
                "--deadline",
                "60",
                "--memory",
                "512Mi",
                "--",
            ])
            .args(cmd)
            .output()
            .unwrap()
    };
    let out = run(&["/usr/bin/python3", "/work/main.py"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("\"passed\": 5, \"failed\": 0"), "{stdout}");
    let out = run(&["/bin/sh", "-c", "exit 3"]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Cancelling the run (what Ctrl-C does in the CLI) kills the sandbox at
/// once, cleans everything up and reports Interrupted, not DeadlineExceeded.
#[test]
fn cancel_kills_the_sandbox_and_reports_interrupted() {
    let f = Fixture::new();
    let p = pod(&["sh", "-c", "sleep 60"], |_| {});
    let mut run = f.local(p);
    let cancel = tokio_util::sync::CancellationToken::new();
    run.cancel = Some(cancel.clone());
    let record = run.on_start.take().unwrap();
    run.on_start = Some(Arc::new(move |s: &gvisor::Started| {
        record(s);
        let cancel = cancel.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(500));
            cancel.cancel();
        });
    }));
    let r = f.run(&run);
    assert_eq!(r.reason, Reason::Interrupted, "{}", r.stderr_text());
    assert!(r.duration < Duration::from_secs(10), "{:?}", r.duration);
    assert_ne!(r.exit_code, Some(0));
}

/// A private TMPDIR for one CLI run: the CLI's work directory and its runs'
/// temporary directories (with their runsc state roots) all go there.
fn private_tmp() -> tempfile::TempDir {
    require_runsc();
    tempfile::tempdir().unwrap()
}

/// Nothing of the CLI's runs is left in `tmp`: no directory, no runsc
/// process using a state root there, no cgroup of theirs.
fn assert_tmp_clean(tmp: &Path, ids: &[String]) {
    let left: Vec<_> = fs::read_dir(tmp)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "left in TMPDIR: {left:?}");
    for id in ids {
        let root = tmp.join(format!("sandbox-lint-{id}/state"));
        assert_eq!(gvisor::processes_using_root(&root), Vec::<u32>::new());
        let found = find_dir(
            Path::new("/sys/fs/cgroup"),
            &format!("sandbox-lint-{id}"),
            5,
        );
        assert!(found.is_empty(), "cgroups left: {found:?}");
    }
}

/// `dispatch batch --backend gvisor`: the seeds' runner scenario succeeds, a
/// workload exiting 3 fails; a request over the memory bound, one with an
/// unknown field and one whose workspace file name climbs out of /work are
/// not run (and stop nothing else); the summary counts them, the exit code is
/// 1, and nothing is left behind.
#[test]
fn cli_batch_runs_every_request_and_summarises() {
    let tmp = private_tmp();
    let req = tempfile::tempdir().unwrap();
    let runner = manifest_dir().join("testdata/dispatch/runner");
    let write = |file: &str, body: &str| {
        let path = req.path().join(file);
        fs::write(
            &path,
            format!("image: python:3.12\ndeadlineSeconds: 60\n{body}"),
        )
        .unwrap();
        path
    };
    let files = [
        write(
            "ok.yaml",
            &format!(
                "name: ok\nworkspace: {}\ncommand: [/usr/bin/python3, /work/main.py]\nresources: {{memory: 512Mi}}\n",
                runner.display()
            ),
        ),
        write("three.yaml", "name: three\ncommand: [sh, -c, 'exit 3']\n"),
        write(
            "greedy.yaml",
            "name: greedy\ncommand: ['true']\nresources: {memory: 64Gi}\n",
        ),
        write("typo.yaml", "name: typo\ncommand: ['true']\nimagee: x\n"),
        write(
            "escape.yaml",
            &format!(
                "name: escape\ncommand: ['true']\nfiles: {{'../escape.py': {}}}\n",
                runner.join("main.py").display()
            ),
        ),
    ];
    let out = Command::new(env!("CARGO_BIN_EXE_sandbox-lint"))
        .args([
            "dispatch",
            "batch",
            "--backend",
            "gvisor",
            "--concurrency",
            "2",
        ])
        .args(&files)
        .env("TMPDIR", tmp.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stdout.contains("\"passed\": 5, \"failed\": 0"),
        "{stdout}\n{stderr}"
    );
    assert_eq!(
        stdout.lines().last(),
        Some("5 runs: 1 succeeded, 1 failed, 0 interrupted, 3 not run"),
        "{stderr}"
    );
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let name = |i: usize| files[i].display().to_string();
    assert!(
        stderr.contains(&format!("{}: exit code 3", name(1))),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "{}: not run: run request refused: memory",
            name(2)
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("{}: not run:", name(3))) && stderr.contains("imagee"),
        "{stderr}"
    );
    // A workspace name that climbs out of /work is refused before anything is
    // written: it would have landed in TMPDIR, which must be empty.
    assert!(
        stderr.contains(&format!(
            "{}: not run: workspace file \"../escape.py\": every path component",
            name(4)
        )),
        "{stderr}"
    );
    assert_tmp_clean(tmp.path(), &[]);
}

/// Ctrl-C (SIGINT to the CLI) while `dispatch run --backend gvisor` waits for
/// its sandbox: the sandbox is killed and removed with its temporary
/// directories and cgroups, the run is reported Interrupted, exit code 130.
#[test]
fn cli_ctrl_c_kills_the_sandbox_and_cleans_up() {
    let tmp = private_tmp();
    let mut child = Command::new(env!("CARGO_BIN_EXE_sandbox-lint"))
        .args([
            "dispatch",
            "run",
            "--backend",
            "gvisor",
            "--image",
            "python:3.12",
            "--deadline",
            "60",
            "--",
            "sh",
            "-c",
            "sleep 60",
        ])
        .env("TMPDIR", tmp.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the sandbox's processes run.
    let started = std::time::Instant::now();
    let id = loop {
        let running = fs::read_dir(tmp.path()).unwrap().find_map(|e| {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            let id = name.strip_prefix("sandbox-lint-")?.to_string();
            let root = tmp.path().join(&name).join("state");
            (!id.starts_with("work-") && !gvisor::processes_using_root(&root).is_empty())
                .then_some(id)
        });
        if let Some(id) = running {
            break id;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the sandbox never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    std::thread::sleep(Duration::from_millis(300));
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap());
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
    let waited = std::time::Instant::now();
    let code = child.wait().unwrap().code();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(code, Some(130), "{stderr}");
    assert!(
        waited.elapsed() < Duration::from_secs(15),
        "{:?}",
        waited.elapsed()
    );
    assert!(
        stderr.contains(&format!("gvisor {id}: Interrupted")),
        "{stderr}"
    );
    assert_tmp_clean(tmp.path(), &[id]);
}

/// A policy that names another sandboxing RuntimeClass: the CLI builds the pod
/// with it and the gVisor backend accepts that class (it took only `gvisor`).
#[test]
fn cli_uses_the_policys_runtime_class() {
    let tmp = private_tmp();
    let policy = tmp.path().join("policy.yaml");
    fs::write(
        &policy,
        "apiVersion: sandbox-lint.dev/v1alpha1\nkind: Policy\nmetadata: {name: runsc}\nspec:\n  extends: [gvisor-sandbox]\n  rules:\n    runtime-class:\n      parameters: {allowed: [gvisor-runsc]}\n",
    )
    .unwrap();
    let work = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_sandbox-lint"))
        .args(["dispatch", "run", "--backend", "gvisor", "-p"])
        .arg(&policy)
        .args([
            "--image",
            "python:3.12",
            "--deadline",
            "60",
            "--",
            "sh",
            "-c",
            "exit 4",
        ])
        .env("TMPDIR", work.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert_tmp_clean(work.path(), &[]);
}

/// `dispatch run --backend gvisor` with a workspace holding `leak ->
/// /etc/shadow` (and, separately, `host -> /etc`): refused with exit code 2
/// and a message naming the link, before anything is created (TMPDIR, where
/// the run's files and sandbox would go, stays empty), and nothing of
/// /etc/shadow reaches the output. The same command over the workspace
/// without the link runs and prints every file at /work: with the link
/// followed (as it was), the workload printed the host's /etc/shadow.
#[test]
fn cli_refuses_a_workspace_linking_out_before_launch() {
    let tmp = private_tmp();
    let shadow = fs::read_to_string("/etc/shadow").unwrap();
    assert!(!shadow.trim().is_empty());
    let ws = tempfile::tempdir().unwrap();
    fs::write(ws.path().join("main.txt"), "harmless\n").unwrap();
    let run = || {
        Command::new(env!("CARGO_BIN_EXE_sandbox-lint"))
            .args([
                "dispatch",
                "run",
                "--backend",
                "gvisor",
                "--image",
                "python:3.12",
                "--deadline",
                "60",
                "--workspace",
            ])
            .arg(ws.path())
            .args(["--", "sh", "-c", "cat /work/*"])
            .env("TMPDIR", tmp.path())
            .output()
            .unwrap()
    };
    let leaked = |out: &std::process::Output| {
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        shadow
            .lines()
            .filter(|l| !l.trim().is_empty())
            .any(|l| text.contains(l))
    };
    for (link, target) in [("leak", "/etc/shadow"), ("host", "/etc")] {
        std::os::unix::fs::symlink(target, ws.path().join(link)).unwrap();
        let out = run();
        let stderr = unwrapped(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains(&format!(
                "workspace {}: {link}: a symbolic link to {target}",
                ws.path().display()
            )),
            "{stderr}"
        );
        assert!(
            out.stdout.is_empty(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert!(!leaked(&out));
        assert!(!stderr.contains("gvisor "), "a sandbox ran: {stderr}");
        assert_tmp_clean(tmp.path(), &[]);
        fs::remove_file(ws.path().join(link)).unwrap();
    }
    let out = run();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.starts_with("harmless\n"), "{stdout}");
    assert!(!leaked(&out));
    assert_tmp_clean(tmp.path(), &[]);
}

/// stderr with miette's line wrapping undone (its report is wrapped at 80
/// columns, with `│` in the margin).
fn unwrapped(stderr: &[u8]) -> String {
    String::from_utf8_lossy(stderr)
        .replace('│', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// A hard link to a host file, a FIFO and a request whose `files` entry is a
/// link are refused by the CLI before launch as well (exit code 2).
#[test]
fn cli_refuses_hard_links_fifos_and_linked_files() {
    let tmp = private_tmp();
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws");
    fs::create_dir(&ws).unwrap();
    let secret = dir.path().join("secret");
    fs::write(&secret, "host-secret\n").unwrap();
    let run = |extra: &[&std::ffi::OsStr]| {
        Command::new(env!("CARGO_BIN_EXE_sandbox-lint"))
            .args(["dispatch", "run", "--backend", "gvisor"])
            .args(["--image", "python:3.12", "--deadline", "60"])
            .args(extra)
            .args(["--", "sh", "-c", "cat /work/*"])
            .env("TMPDIR", tmp.path())
            .output()
            .unwrap()
    };
    let with_workspace = |needle: &str| {
        let out = run(&["--workspace".as_ref(), ws.as_os_str()]);
        let stderr = unwrapped(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(needle), "{stderr}");
        assert!(!String::from_utf8_lossy(&out.stdout).contains("host-secret"));
        assert_tmp_clean(tmp.path(), &[]);
    };
    fs::hard_link(&secret, ws.join("hard")).unwrap();
    with_workspace("hard: a hard link (2 links, 1 in the workspace)");
    fs::remove_file(ws.join("hard")).unwrap();
    nix::unistd::mkfifo(
        &ws.join("pipe"),
        nix::sys::stat::Mode::from_bits_truncate(0o644),
    )
    .unwrap();
    with_workspace("pipe: a FIFO");
    fs::remove_file(ws.join("pipe")).unwrap();
    // A request file whose explicit file is a link to /etc/shadow.
    std::os::unix::fs::symlink("/etc/shadow", dir.path().join("leak")).unwrap();
    let request = dir.path().join("run.yaml");
    fs::write(
        &request,
        "image: python:3.12\ndeadlineSeconds: 60\nfiles: {main.txt: leak}\n",
    )
    .unwrap();
    let out = run(&[request.as_os_str()]);
    let stderr = unwrapped(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("leak: a symbolic link to /etc/shadow"),
        "{stderr}"
    );
    assert_tmp_clean(tmp.path(), &[]);
}

/// The library's own entry point checks the work directory it mounts with
/// the same rules: a link in it is refused before any sandbox is started.
#[test]
fn a_work_directory_with_a_link_is_refused_before_anything_runs() {
    let f = Fixture::new();
    f.script("main.py", "print(1)\n");
    std::os::unix::fs::symlink("/etc/shadow", f.path("work").join("leak")).unwrap();
    match gvisor::run(&f.local(pod(&["cat", "/work/leak"], |_| {}))) {
        Err(Error::Input(m)) => assert!(m.contains("leak: a symbolic link to /etc/shadow"), "{m}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    f.assert_clean();
    assert!(f.ids.lock().unwrap().is_empty(), "a sandbox was started");
}
