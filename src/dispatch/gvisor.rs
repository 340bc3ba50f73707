//! The local gVisor backend of the dispatcher: the Pod the dispatcher builds,
//! translated into an OCI runtime bundle and run on this machine with `runsc`.
//!
//! # What a run does
//!
//! [`run`] validates the Pod ([`oci_spec`] refuses anything the dispatcher
//! does not build: fail closed), resolves the secrets its environment refers
//! to (a missing one is an error before anything runs), writes the bundle to a
//! private temporary directory (mode 0700, `config.json` mode 0600: it may hold
//! secret values) and runs
//!
//! ```text
//! runsc --root <state> --platform ptrace --network none run --bundle <bundle> <id>
//! ```
//!
//! with the container's stdin on `/dev/null` and its stdout and stderr captured
//! through pipes (at most [`LocalRun::output_limit`] bytes each are kept; the
//! rest is read and dropped, and the result says it was truncated).
//! `runsc run` is used rather than `create`/`start`/`wait` because only the
//! process that created the sandbox can reap it: with this runsc (release
//! 20221219) a separate `runsc wait` loses the exit status of a workload that
//! ends quickly ("sandbox no longer running and its exit status is
//! unavailable").
//!
//! * `--root`: a private state directory in the run's temporary directory,
//!   removed afterwards (or [`LocalRun::state_root`] when the caller wants to
//!   watch it), so runs never see each other's containers.
//! * `--platform ptrace`: works everywhere, also without `/dev/kvm` (on the
//!   development machine `/dev/kvm` exists but `--platform kvm` hangs).
//! * `--network none`: the sandbox gets a loopback device only; connections
//!   fail with "no route to host". Runners of the seeds reach the network only
//!   through NetworkPolicies the local backend has no equivalent for, so the
//!   local backend gives none at all.
//!
//! # What is enforced, and how
//!
//! | Pod field | enforced by |
//! | --- | --- |
//! | `runAsUser`/`runAsGroup`/`fsGroup`/`supplementalGroups` | OCI `process.user` (container context over pod context) |
//! | `capabilities.drop: [ALL]` | every OCI capability set empty |
//! | `allowPrivilegeEscalation: false` | `noNewPrivileges: true` |
//! | `readOnlyRootFilesystem: true` | `root.readonly` (the root is served read-only by the gofer) |
//! | `emptyDir.sizeLimit` | a gVisor tmpfs with `size=` (writes past it fail with ENOSPC), owned by the pod's user, mode 0770 |
//! | the `work` configMap volume | [`LocalRun::work_dir`] bind-mounted read-only |
//! | `limits.memory` | the memory cgroup (v1): `memory.limit_in_bytes` (and `memsw` when swap accounting exists) |
//! | `limits.cpu` | the cpu cgroup: `cfs_quota_us` over a 100 ms period (runsc writes it from `linux.resources.cpu`) |
//! | [`LocalRun::pids_limit`] | `RLIMIT_NPROC` inside the sandbox (gVisor enforces it: `fork` fails with EAGAIN) plus a host pids cgroup backstop (see below) |
//! | `activeDeadlineSeconds` | a timer from the start of [`run`]; when it passes, `runsc kill --all <id> KILL` |
//!
//! Memory: runsc (this release) writes resource limits only into cgroups it
//! creates itself and removes them when the container is destroyed, which
//! would remove the evidence of an OOM kill before anyone can read it. So the
//! memory cgroup `sandbox-lint-<id>` is created here, under this process's
//! own memory cgroup, and its limit written here; runsc joins the sandbox and
//! gofer processes to it (it uses a pre-created cgroup as is) and creates and
//! removes the other controllers' cgroups itself. After the run,
//! `memory.oom_control`'s `oom_kill` counter says whether the kernel killed a
//! process of the sandbox for memory. The Sentry's and the Gofer's own memory
//! is charged to the same cgroup (GKE adds it through the RuntimeClass
//! overhead instead), and gVisor's tmpfs lives in Sentry memory, so files in
//! the emptyDirs count against the memory limit too. runsc also reads the
//! limit to size the sandbox's `--total-memory`.
//!
//! Pids: the host pids cgroup counts host threads, and the ptrace platform
//! spends several host threads per sandboxed process (stub processes, Sentry
//! threads): with `pids.max = 128` a sandbox dies (the Sentry panics) after
//! about 25 forks. The per-pod limit is therefore `RLIMIT_NPROC` inside the
//! sandbox, and the host cgroup gets `64 + 8 × pids_limit` as a backstop
//! ([`host_pids_limit`]); hitting the backstop kills the sandbox (reason
//! `Error`), it never affects the host.
//!
//! Only cgroup v1 hierarchies (this machine's) are supported for the memory
//! cgroup; on a cgroup v2 host [`run`] refuses unless
//! [`LocalRun::ignore_cgroups`] is set, which passes `--ignore-cgroups` and
//! leaves memory, cpu and host pids unlimited and OOM kills undetectable.
//!
//! # What the result can and cannot say
//!
//! * `exit_code` is what `runsc run` reports: the workload's exit status, or
//!   128 + the signal number when it was killed by a signal (as Kubernetes
//!   reports it). `signal` is derived from a status above 128, so a workload
//!   that calls `exit(137)` is indistinguishable from one killed by SIGKILL.
//!   When `runsc run` itself had to be killed, both are `None`.
//! * `OOMKilled`: the memory cgroup recorded an OOM kill and the workload did
//!   not exit 0. The host OOM killer picks the largest process of the cgroup,
//!   normally the Sentry, so the whole sandbox dies (exit 137). Not
//!   detectable: an allocation the workload sees fail (`MemoryError`,
//!   `ENOMEM`) without anything being killed (reason `Error`), and any OOM with
//!   `ignore_cgroups`.
//! * `DeadlineExceeded`: the deadline passed and the sandbox was killed; the
//!   deadline counts from the start of [`run`] (validation, bundle and sandbox
//!   start included), like `activeDeadlineSeconds` counts from the pod's start.
//! * runsc's own errors (a binary that cannot be loaded, a bad bundle) are
//!   printed on the same stderr as the workload's, with exit code 128.
//!
//! # Cleanup
//!
//! A guard owns everything a run creates (the `runsc run` child, the
//! container's state, the cgroups, the temporary directory) and releases it on
//! every path: success, error, deadline, cancellation ([`LocalRun::cancel`])
//! and panic (its `Drop`). It kills the container if it still runs,
//! `runsc delete --force`s any state left, waits
//! until no process of the sandbox is left (the memory cgroup's `cgroup.procs`
//! and a `/proc` scan for the state root; a process still there after 5 s is
//! sent SIGKILL), removes the cgroups and the temporary
//! directory. On the success path a cleanup that could not complete is an
//! [`Error::Cleanup`].
//!
//! # What differs from the cluster
//!
//! The image is not pulled: [`LocalRun::rootfs`] stands in for it (default:
//! the host root, read-only, so every world-readable host file is visible;
//! give a root directory with only the runner's files in production), and
//! since no image entrypoint is known, the container must have a `command`.
//! There is no Kubernetes API: no service account token (the Pod must say
//! `automountServiceAccountToken: false`), no downward API, no probes. The OCI
//! seccomp profile is not loaded (runsc needs `--oci-seccomp` for that); the
//! workload's system calls are served by the Sentry, which runs under its own
//! seccomp filter.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Component, Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use k8s_openapi::api::core::v1::{Container, Pod, PodSecurityContext, SecurityContext};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::quantity::Quantity;

/// The name of the volume whose files are [`LocalRun::work_dir`]'s.
pub const WORK_VOLUME: &str = "work";
/// Default [`LocalRun::pids_limit`].
pub const DEFAULT_PIDS_LIMIT: u32 = 128;
/// Default [`LocalRun::output_limit`]: 16 MiB for each of stdout and stderr.
pub const DEFAULT_OUTPUT_LIMIT: usize = 16 << 20;
/// `PATH` when the Pod sets none (an image would normally provide it).
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// The CFS period the cpu limit is expressed in, in microseconds.
pub const CPU_PERIOD_US: u64 = 100_000;
/// `RLIMIT_NOFILE` of the workload (soft and hard).
pub const NOFILE_LIMIT: u64 = 4096;
/// Size of the `/dev` and `/dev/shm` tmpfs mounts.
const DEV_SIZE: &str = "size=65536k";
/// How often [`run`] looks at the `runsc run` child.
const POLL: Duration = Duration::from_millis(2);
/// How long a `runsc kill`/`delete` may take before it is given up.
const RUNSC_CMD_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the sandbox may take to die after `runsc kill` before it is
/// deleted by force.
const KILL_GRACE: Duration = Duration::from_secs(5);
/// How long cleanup waits for the sandbox's processes to go.
const PROCESS_GRACE: Duration = Duration::from_secs(5);

/// Secret values for `valueFrom.secretKeyRef`: (secret name, key) → value.
pub type Secrets = BTreeMap<(String, String), String>;

/// Called once the sandbox is being started; see [`LocalRun::on_start`].
pub type StartHook = Arc<dyn Fn(&Started) + Send + Sync>;

/// One local run of a dispatcher Pod.
#[derive(Clone)]
pub struct LocalRun {
    /// The Pod; its only container is the workload.
    pub pod: Pod,
    /// The files of the `work` volume: this directory is mounted read-only at
    /// the `work` volume's mount path. Must be absolute.
    pub work_dir: PathBuf,
    /// The root filesystem (stands in for the image), mounted read-only.
    /// `None`: the host root `/`.
    pub rootfs: Option<PathBuf>,
    /// The runsc binary: a path, or a name looked up on `PATH`.
    pub runsc: PathBuf,
    /// Values for the container's `valueFrom.secretKeyRef` variables.
    pub secrets: Secrets,
    /// Processes and threads the workload may have at once (`RLIMIT_NPROC`).
    pub pids_limit: u32,
    /// The runtimeClassName the Pod must name.
    pub runtime_class: String,
    /// runsc's `--platform`.
    pub platform: String,
    /// runsc's `--root`. `None` (the default): a private directory inside the
    /// run's temporary directory, removed with it. When set, the directory is
    /// kept; only this run's container is removed from it.
    pub state_root: Option<PathBuf>,
    /// Where the run's temporary directory is created. `None`: the system's.
    pub scratch_dir: Option<PathBuf>,
    /// Bytes of stdout and of stderr kept in memory.
    pub output_limit: usize,
    /// Pass `--ignore-cgroups`: no memory, cpu or host pids limit and no OOM
    /// detection. For hosts without a usable cgroup v1 memory hierarchy only.
    pub ignore_cgroups: bool,
    /// When set, runsc writes debug logs into this directory.
    pub debug_log: Option<PathBuf>,
    /// Called right after `runsc run` is spawned (e.g. to watch the sandbox's
    /// memory), on the thread of [`run`]: the deadline is not watched while it
    /// runs, so it should return quickly. A panic in it is a panic of [`run`]:
    /// the sandbox is cleaned up.
    pub on_start: Option<StartHook>,
    /// When cancelled (the CLI does so on Ctrl-C), the sandbox is killed as
    /// at the deadline, cleaned up, and the result says [`Reason::Interrupted`].
    pub cancel: Option<CancellationToken>,
}

impl fmt::Debug for LocalRun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secrets: Vec<String> = self
            .secrets
            .keys()
            .map(|(name, key)| format!("{name}/{key}"))
            .collect();
        f.debug_struct("LocalRun")
            .field("pod", &self.pod.metadata.name)
            .field("work_dir", &self.work_dir)
            .field("rootfs", &self.rootfs)
            .field("runsc", &self.runsc)
            .field("secrets", &secrets)
            .field("pids_limit", &self.pids_limit)
            .field("runtime_class", &self.runtime_class)
            .field("platform", &self.platform)
            .field("state_root", &self.state_root)
            .field("scratch_dir", &self.scratch_dir)
            .field("output_limit", &self.output_limit)
            .field("ignore_cgroups", &self.ignore_cgroups)
            .field("debug_log", &self.debug_log)
            .finish_non_exhaustive()
    }
}

impl LocalRun {
    /// A run of `pod` with `work_dir` as its `work` volume and every other
    /// setting at its default.
    pub fn new(pod: Pod, work_dir: impl Into<PathBuf>) -> Self {
        LocalRun {
            pod,
            work_dir: work_dir.into(),
            rootfs: None,
            runsc: PathBuf::from("runsc"),
            secrets: Secrets::new(),
            pids_limit: DEFAULT_PIDS_LIMIT,
            runtime_class: "gvisor".to_string(),
            platform: "ptrace".to_string(),
            state_root: None,
            scratch_dir: None,
            output_limit: DEFAULT_OUTPUT_LIMIT,
            ignore_cgroups: false,
            debug_log: None,
            on_start: None,
            cancel: None,
        }
    }

    /// Adds the value of key `key` of Secret `name`.
    pub fn secret(mut self, name: &str, key: &str, value: &str) -> Self {
        self.secrets
            .insert((name.to_string(), key.to_string()), value.to_string());
        self
    }
}

/// What [`LocalRun::on_start`] is told.
#[derive(Debug, Clone)]
pub struct Started {
    /// The container (and sandbox) id.
    pub id: String,
    /// runsc's `--root`.
    pub state_root: PathBuf,
    /// The bundle directory.
    pub bundle: PathBuf,
    /// The memory cgroup the sandbox's processes join (`None` with
    /// `ignore_cgroups`).
    pub memory_cgroup: Option<PathBuf>,
    /// The pid of the `runsc run` process.
    pub runsc_pid: u32,
}

/// Why the workload ended, in Kubernetes' words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// Exit status 0.
    Completed,
    /// Any other end: a non-zero exit, a signal, a sandbox that died.
    Error,
    /// Killed by the kernel for exceeding the memory limit.
    OOMKilled,
    /// Still running at `activeDeadlineSeconds`; killed.
    DeadlineExceeded,
    /// Stopped because [`LocalRun::cancel`] was cancelled (Ctrl-C); killed.
    Interrupted,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Reason::Completed => "Completed",
            Reason::Error => "Error",
            Reason::OOMKilled => "OOMKilled",
            Reason::DeadlineExceeded => "DeadlineExceeded",
            Reason::Interrupted => "Interrupted",
        })
    }
}

/// How a run ended.
#[derive(Debug, Clone)]
pub struct RunResult {
    /// The container id the run had.
    pub id: String,
    /// The workload's exit status as runsc reports it (128 + n for signal n).
    pub exit_code: Option<i32>,
    /// The signal that ended the workload, when `exit_code` is above 128.
    pub signal: Option<i32>,
    pub reason: Reason,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// Stdout went past [`LocalRun::output_limit`]; the rest was dropped.
    pub stdout_truncated: bool,
    pub stderr_truncated: bool,
    /// OOM kills the memory cgroup recorded.
    pub oom_kills: u64,
    /// From the start of [`run`] to the end of the workload (cleanup excluded).
    pub duration: Duration,
}

impl RunResult {
    /// Stdout as text (lossy).
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// Stderr as text (lossy).
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

/// Why a run did not happen or could not be cleaned up.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The Pod is not one the dispatcher builds.
    #[error("refused: {0}")]
    Refused(String),
    /// An environment variable refers to a secret value the caller did not give.
    #[error(
        "environment variable {var} refers to key `{key}` of Secret `{name}`, which was not supplied"
    )]
    MissingSecret {
        var: String,
        name: String,
        key: String,
    },
    /// A path given by the caller is unusable.
    #[error("{0}")]
    Input(String),
    /// The runsc binary is missing.
    #[error(
        "runsc not found ({0}): install gVisor's runsc (Debian/Ubuntu: `apt-get install runsc`)"
    )]
    RunscNotFound(String),
    /// The memory cgroup could not be set up.
    #[error("cgroup: {0}")]
    Cgroup(String),
    /// A file system or process operation failed.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
    /// The run ended but left something behind.
    #[error("cleanup incomplete: {}", .0.join("; "))]
    Cleanup(Vec<String>),
}

fn io_err(context: impl Into<String>) -> impl FnOnce(io::Error) -> Error {
    let context = context.into();
    move |source| Error::Io { context, source }
}

fn refuse<T>(message: impl Into<String>) -> Result<T, Error> {
    Err(Error::Refused(message.into()))
}

/// The host pids cgroup limit for a sandbox whose workload may have
/// `pids_limit` tasks: the ptrace platform needs several host threads per
/// sandboxed task, and the Sentry and Gofer about 30 of their own.
pub fn host_pids_limit(pids_limit: u32) -> u64 {
    64 + 8 * u64::from(pids_limit)
}

// ---------------------------------------------------------------------------
// The Pod, validated

/// An emptyDir, as a tmpfs.
#[derive(Debug, Clone)]
struct Scratch {
    path: String,
    size: u64,
    read_only: bool,
}

/// Where an environment variable's value comes from.
#[derive(Debug, Clone)]
enum EnvValue {
    Plain(String),
    Secret { name: String, key: String },
}

/// Everything of the Pod the bundle needs, checked.
#[derive(Debug, Clone)]
struct Workload {
    hostname: String,
    uid: u32,
    gid: u32,
    additional_gids: Vec<u32>,
    args: Vec<String>,
    env: Vec<(String, EnvValue)>,
    cwd: String,
    memory: u64,
    cpu_millis: u64,
    deadline: u64,
    scratch: Vec<Scratch>,
    work_mount: String,
}

const POD_SPEC_KEYS: &[&str] = &[
    "activeDeadlineSeconds",
    "affinity",
    "automountServiceAccountToken",
    "containers",
    "dnsPolicy",
    "enableServiceLinks",
    "hostIPC",
    "hostNetwork",
    "hostPID",
    "imagePullSecrets",
    "nodeName",
    "nodeSelector",
    "preemptionPolicy",
    "priority",
    "priorityClassName",
    "restartPolicy",
    "runtimeClassName",
    "schedulerName",
    "securityContext",
    "serviceAccount",
    "serviceAccountName",
    "shareProcessNamespace",
    "terminationGracePeriodSeconds",
    "tolerations",
    "topologySpreadConstraints",
    "volumes",
];

const CONTAINER_KEYS: &[&str] = &[
    "args",
    "command",
    "env",
    "image",
    "imagePullPolicy",
    "name",
    "ports",
    "resources",
    "securityContext",
    "stdin",
    "stdinOnce",
    "terminationMessagePath",
    "terminationMessagePolicy",
    "tty",
    "volumeMounts",
    "workingDir",
];

const POD_SECURITY_KEYS: &[&str] = &[
    "fsGroup",
    "fsGroupChangePolicy",
    "runAsGroup",
    "runAsNonRoot",
    "runAsUser",
    "seccompProfile",
    "supplementalGroups",
    "supplementalGroupsPolicy",
];

const CONTAINER_SECURITY_KEYS: &[&str] = &[
    "allowPrivilegeEscalation",
    "capabilities",
    "privileged",
    "procMount",
    "readOnlyRootFilesystem",
    "runAsGroup",
    "runAsNonRoot",
    "runAsUser",
    "seccompProfile",
];

const MOUNT_KEYS: &[&str] = &["mountPath", "name", "readOnly"];

/// Refuses keys of `object` outside `allowed`, and `true` for the keys in
/// `must_not_be_true` (which are allowed when false).
fn only_keys(
    object: &Value,
    allowed: &[&str],
    must_not_be_true: &[&str],
    at: &str,
) -> Result<(), Error> {
    let Some(map) = object.as_object() else {
        return Ok(());
    };
    for (key, value) in map {
        if must_not_be_true.contains(&key.as_str()) {
            if value.as_bool() == Some(true) {
                return refuse(format!("{at}.{key} is true"));
            }
        } else if !allowed.contains(&key.as_str()) {
            return refuse(format!(
                "{at}.{key} is not something the dispatcher sets; the local backend does not run it"
            ));
        }
    }
    Ok(())
}

/// An id that must be set and positive, as a u32.
fn positive_id(value: Option<i64>, what: &str) -> Result<u32, Error> {
    match value {
        None => refuse(format!(
            "{what} is not set (neither in the container nor in the pod)"
        )),
        Some(v) if v <= 0 => refuse(format!("{what} is {v}: the workload must not run as root")),
        Some(v) => {
            u32::try_from(v).map_err(|_| Error::Refused(format!("{what} {v} is out of range")))
        }
    }
}

/// The smallest whole number of millicores not below `q`.
fn cpu_millis(q: &Quantity) -> u64 {
    q.milli_units_ceil().clamp(0, i128::from(u64::MAX)) as u64
}

fn quantity(text: &str, what: &str) -> Result<Quantity, Error> {
    let q = Quantity::parse(text).map_err(|e| Error::Refused(format!("{what}: {e}")))?;
    if !q.is_positive() {
        return refuse(format!("{what} is {text}: it must be positive"));
    }
    Ok(q)
}

/// Whole bytes, at most `i64::MAX` (the OCI spec's limits are int64).
fn byte_count(q: &Quantity) -> u64 {
    q.whole_units().clamp(0, i128::from(i64::MAX)) as u64
}

/// An absolute path without `.`/`..`, not inside the mounts the runtime owns.
fn check_mount_path(path: &str, at: &str) -> Result<(), Error> {
    let p = Path::new(path);
    if !p.is_absolute()
        || p.components()
            .any(|c| !matches!(c, Component::RootDir | Component::Normal(_)))
    {
        return refuse(format!("{at} `{path}` is not a clean absolute path"));
    }
    if path == "/" {
        return refuse(format!("{at} is /"));
    }
    for owned in ["/proc", "/dev", "/sys"] {
        if p.starts_with(owned) {
            return refuse(format!("{at} `{path}` is inside {owned}"));
        }
    }
    Ok(())
}

fn hostname(pod: &Pod) -> String {
    let name = pod.metadata.name.as_deref().unwrap_or("");
    let ok = !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if ok {
        name.to_string()
    } else {
        "sandbox".to_string()
    }
}

/// Validates the Pod; fail closed: anything the dispatcher does not build is
/// refused with the field that made it so.
fn workload(run: &LocalRun) -> Result<Workload, Error> {
    let pod = &run.pod;
    let Some(spec) = pod.spec.as_ref() else {
        return refuse("the pod has no spec");
    };
    let spec_json = serde_json::to_value(spec).map_err(|e| Error::Refused(format!("spec: {e}")))?;
    only_keys(
        &spec_json,
        POD_SPEC_KEYS,
        &["hostIPC", "hostNetwork", "hostPID", "shareProcessNamespace"],
        "spec",
    )?;
    match spec.runtime_class_name.as_deref() {
        Some(rc) if rc == run.runtime_class => {}
        other => {
            return refuse(format!(
                "spec.runtimeClassName is {other:?}, not `{}`",
                run.runtime_class
            ));
        }
    }
    if spec.restart_policy.as_deref() != Some("Never") {
        return refuse(format!(
            "spec.restartPolicy is {:?}, not Never",
            spec.restart_policy
        ));
    }
    let deadline = match spec.active_deadline_seconds {
        Some(d) if d > 0 => d as u64,
        other => {
            return refuse(format!(
                "spec.activeDeadlineSeconds is {other:?}: a run needs a deadline"
            ));
        }
    };
    if spec.automount_service_account_token != Some(false) {
        return refuse("spec.automountServiceAccountToken is not false");
    }
    let [container] = spec.containers.as_slice() else {
        return refuse(format!(
            "the pod has {} containers; the local backend runs exactly one",
            spec.containers.len()
        ));
    };
    let c_json =
        serde_json::to_value(container).map_err(|e| Error::Refused(format!("container: {e}")))?;
    only_keys(&c_json, CONTAINER_KEYS, &[], "container")?;
    for flag in ["stdin", "stdinOnce", "tty"] {
        if c_json.get(flag).and_then(Value::as_bool) == Some(true) {
            return refuse(format!(
                "container.{flag} is true; the local backend gives no input"
            ));
        }
    }
    let empty_psc = PodSecurityContext::default();
    let psc = spec.security_context.as_ref().unwrap_or(&empty_psc);
    only_keys(
        &serde_json::to_value(psc).unwrap_or(Value::Null),
        POD_SECURITY_KEYS,
        &[],
        "spec.securityContext",
    )?;
    let empty_sc = SecurityContext::default();
    let sc = container.security_context.as_ref().unwrap_or(&empty_sc);
    only_keys(
        &serde_json::to_value(sc).unwrap_or(Value::Null),
        CONTAINER_SECURITY_KEYS,
        &["privileged"],
        "container.securityContext",
    )?;
    let (uid, gid, additional_gids) = identity(psc, sc)?;
    security(psc, sc)?;
    let (memory, cpu_millis, ephemeral) = limits(container)?;
    let (scratch, work_mount) = volumes(spec, container, ephemeral)?;
    let args = argv(container)?;
    let env = environment(container)?;
    let cwd = container
        .working_dir
        .clone()
        .unwrap_or_else(|| "/".to_string());
    if !Path::new(&cwd).is_absolute() {
        return refuse(format!("container.workingDir `{cwd}` is not absolute"));
    }
    Ok(Workload {
        hostname: hostname(pod),
        uid,
        gid,
        additional_gids,
        args,
        env,
        cwd,
        memory,
        cpu_millis,
        deadline,
        scratch,
        work_mount,
    })
}

/// uid, gid and supplementary groups: the container's context over the pod's.
fn identity(psc: &PodSecurityContext, sc: &SecurityContext) -> Result<(u32, u32, Vec<u32>), Error> {
    if sc.run_as_non_root.or(psc.run_as_non_root) != Some(true) {
        return refuse("runAsNonRoot is not true");
    }
    let uid = positive_id(sc.run_as_user.or(psc.run_as_user), "runAsUser")?;
    let gid = positive_id(sc.run_as_group.or(psc.run_as_group), "runAsGroup")?;
    let mut groups = BTreeSet::new();
    for g in psc.supplemental_groups.iter().flatten() {
        groups.insert(positive_id(Some(*g), "a supplemental group")?);
    }
    if let Some(fs_group) = psc.fs_group {
        groups.insert(positive_id(Some(fs_group), "fsGroup")?);
    }
    groups.remove(&gid);
    Ok((uid, gid, groups.into_iter().collect()))
}

/// Privilege settings: the runner checklist, fail closed.
fn security(psc: &PodSecurityContext, sc: &SecurityContext) -> Result<(), Error> {
    if sc.allow_privilege_escalation != Some(false) {
        return refuse("container.securityContext.allowPrivilegeEscalation is not false");
    }
    if sc.read_only_root_filesystem != Some(true) {
        return refuse("container.securityContext.readOnlyRootFilesystem is not true");
    }
    let caps = sc.capabilities.as_ref();
    if caps
        .and_then(|c| c.add.as_ref())
        .is_some_and(|a| !a.is_empty())
    {
        return refuse("container.securityContext.capabilities.add is not empty");
    }
    let drops_all = caps
        .and_then(|c| c.drop.as_ref())
        .is_some_and(|d| d.iter().any(|x| x.eq_ignore_ascii_case("ALL")));
    if !drops_all {
        return refuse("container.securityContext.capabilities.drop does not contain ALL");
    }
    if let Some(pm) = sc.proc_mount.as_deref()
        && pm != "Default"
    {
        return refuse(format!("container.securityContext.procMount is {pm}"));
    }
    let seccomp = sc.seccomp_profile.as_ref().or(psc.seccomp_profile.as_ref());
    match seccomp.map(|s| s.type_.as_str()) {
        Some("RuntimeDefault") | Some("Localhost") => Ok(()),
        other => refuse(format!(
            "seccompProfile.type is {other:?}, not RuntimeDefault"
        )),
    }
}

/// Memory bytes, cpu millicores and the ephemeral-storage bytes, if any.
fn limits(container: &Container) -> Result<(u64, u64, Option<u64>), Error> {
    let limits = container.resources.as_ref().and_then(|r| r.limits.as_ref());
    let get = |name: &str| limits.and_then(|l| l.get(name)).map(|q| q.0.as_str());
    let Some(memory) = get("memory") else {
        return refuse("container.resources.limits.memory is not set");
    };
    let Some(cpu) = get("cpu") else {
        return refuse("container.resources.limits.cpu is not set");
    };
    let memory = byte_count(&quantity(memory, "limits.memory")?);
    let cpu = cpu_millis(&quantity(cpu, "limits.cpu")?);
    let ephemeral = match get("ephemeral-storage") {
        Some(e) => Some(byte_count(&quantity(e, "limits.ephemeral-storage")?)),
        None => None,
    };
    Ok((memory, cpu, ephemeral))
}

/// The emptyDirs as tmpfs mounts (each capped by ephemeral-storage), and the
/// mount path of the `work` volume.
fn volumes(
    spec: &k8s_openapi::api::core::v1::PodSpec,
    container: &Container,
    ephemeral: Option<u64>,
) -> Result<(Vec<Scratch>, String), Error> {
    // name -> Some(size) for an emptyDir, None for the work configMap
    let mut kinds: BTreeMap<String, Option<u64>> = BTreeMap::new();
    for v in spec.volumes.iter().flatten() {
        let vj = serde_json::to_value(v).map_err(|e| Error::Refused(format!("volume: {e}")))?;
        let sources: Vec<&String> = vj
            .as_object()
            .map(|m| m.keys().filter(|k| *k != "name").collect())
            .unwrap_or_default();
        let at = format!("volume {}", v.name);
        let kind = match (sources.as_slice(), &v.empty_dir, &v.config_map) {
            ([_], Some(ed), _) => {
                match ed.medium.as_deref() {
                    None | Some("") | Some("Memory") => {}
                    Some(m) => return refuse(format!("{at}: emptyDir medium {m}")),
                }
                let Some(size) = &ed.size_limit else {
                    return refuse(format!("{at}: emptyDir has no sizeLimit"));
                };
                let size = byte_count(&quantity(&size.0, &format!("{at} sizeLimit"))?);
                Some(ephemeral.map_or(size, |e| size.min(e)))
            }
            ([_], _, Some(_)) if v.name == WORK_VOLUME => None,
            ([_], _, Some(_)) => {
                return refuse(format!(
                    "{at}: configMap volumes other than `{WORK_VOLUME}` have no local content"
                ));
            }
            _ => {
                let names: Vec<&str> = sources.iter().map(|s| s.as_str()).collect();
                return refuse(format!(
                    "{at}: type {} is not an emptyDir or the `{WORK_VOLUME}` configMap",
                    names.join("+")
                ));
            }
        };
        if kinds.insert(v.name.clone(), kind).is_some() {
            return refuse(format!("{at} is declared twice"));
        }
    }
    let mut scratch = Vec::new();
    let mut work_mount = None;
    let mut seen_paths = BTreeSet::new();
    let mut seen_volumes = BTreeSet::new();
    for m in container.volume_mounts.iter().flatten() {
        let at = format!("volumeMount {}", m.name);
        let mj = serde_json::to_value(m).map_err(|e| Error::Refused(format!("{at}: {e}")))?;
        only_keys(&mj, MOUNT_KEYS, &[], &at)?;
        check_mount_path(&m.mount_path, &format!("{at} mountPath"))?;
        if !seen_paths.insert(m.mount_path.clone()) {
            return refuse(format!("{at}: mountPath {} is used twice", m.mount_path));
        }
        if !seen_volumes.insert(m.name.clone()) {
            return refuse(format!("{at}: the volume is mounted twice"));
        }
        match kinds.get(&m.name) {
            None => return refuse(format!("{at}: no volume of that name")),
            Some(Some(size)) => scratch.push(Scratch {
                path: m.mount_path.clone(),
                size: *size,
                read_only: m.read_only == Some(true),
            }),
            Some(None) => {
                if m.read_only != Some(true) {
                    return refuse(format!("{at}: the `{WORK_VOLUME}` volume must be readOnly"));
                }
                work_mount = Some(m.mount_path.clone());
            }
        }
    }
    // A mount inside another mount would depend on mount order; refuse it.
    let paths: Vec<&String> = seen_paths.iter().collect();
    for a in &paths {
        for b in &paths {
            if a != b && Path::new(b.as_str()).starts_with(a.as_str()) {
                return refuse(format!("mountPath {b} is inside mountPath {a}"));
            }
        }
    }
    let Some(work_mount) = work_mount else {
        return refuse(format!(
            "the container does not mount the `{WORK_VOLUME}` configMap volume"
        ));
    };
    Ok((scratch, work_mount))
}

fn argv(container: &Container) -> Result<Vec<String>, Error> {
    let command = container.command.clone().unwrap_or_default();
    if command.is_empty() {
        return refuse("the container has no command; the local backend knows no image entrypoint");
    }
    let mut args = command;
    args.extend(container.args.iter().flatten().cloned());
    Ok(args)
}

fn environment(container: &Container) -> Result<Vec<(String, EnvValue)>, Error> {
    let mut out = Vec::new();
    for e in container.env.iter().flatten() {
        if e.name.is_empty() || e.name.contains('=') || e.name.contains('\0') {
            return refuse(format!("bad environment variable name `{}`", e.name));
        }
        let value = match (&e.value, &e.value_from) {
            (_, None) => EnvValue::Plain(e.value.clone().unwrap_or_default()),
            (None, Some(from)) => {
                let from_json = serde_json::to_value(from).unwrap_or(Value::Null);
                let keys: Vec<&String> = from_json
                    .as_object()
                    .map(|m| m.keys().collect())
                    .unwrap_or_default();
                match (&from.secret_key_ref, keys.len()) {
                    (Some(s), 1) => {
                        if s.optional == Some(true) {
                            return refuse(format!(
                                "environment variable {}: optional secret references are not supported",
                                e.name
                            ));
                        }
                        EnvValue::Secret {
                            name: s.name.clone(),
                            key: s.key.clone(),
                        }
                    }
                    _ => {
                        return refuse(format!(
                            "environment variable {}: only valueFrom.secretKeyRef is supported",
                            e.name
                        ));
                    }
                }
            }
            (Some(_), Some(_)) => {
                return refuse(format!(
                    "environment variable {} has both value and valueFrom",
                    e.name
                ));
            }
        };
        if e.value.as_deref().is_some_and(|v| v.contains('\0')) {
            return refuse(format!("environment variable {} holds a NUL byte", e.name));
        }
        out.push((e.name.clone(), value));
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// The bundle

/// The OCI runtime spec (`config.json`) for `run`: pure, no file system or
/// process access. Refuses a Pod the dispatcher would not build and a secret
/// reference without a value. `linux.cgroupsPath` is left out; [`run`] adds
/// it.
pub fn oci_spec(run: &LocalRun) -> Result<Value, Error> {
    let w = workload(run)?;
    spec_of(run, &w)
}

fn spec_of(run: &LocalRun, w: &Workload) -> Result<Value, Error> {
    if !run.work_dir.is_absolute() {
        return Err(Error::Input(format!(
            "the work directory {} is not absolute",
            run.work_dir.display()
        )));
    }
    let rootfs = run.rootfs.clone().unwrap_or_else(|| PathBuf::from("/"));
    if !rootfs.is_absolute() {
        return Err(Error::Input(format!(
            "the root filesystem {} is not absolute",
            rootfs.display()
        )));
    }
    if run.pids_limit == 0 {
        return Err(Error::Input("pids_limit is 0".into()));
    }
    let mut env: Vec<String> = Vec::new();
    let mut names = BTreeSet::new();
    for (name, value) in &w.env {
        let value = match value {
            EnvValue::Plain(v) => v.clone(),
            EnvValue::Secret { name: secret, key } => {
                match run.secrets.get(&(secret.clone(), key.clone())) {
                    Some(v) if !v.contains('\0') => v.clone(),
                    Some(_) => {
                        return Err(Error::Input(format!(
                            "the value of Secret {secret} key {key} holds a NUL byte"
                        )));
                    }
                    None => {
                        return Err(Error::MissingSecret {
                            var: name.clone(),
                            name: secret.clone(),
                            key: key.clone(),
                        });
                    }
                }
            }
        };
        names.insert(name.clone());
        env.push(format!("{name}={value}"));
    }
    if !names.contains("PATH") {
        env.insert(0, format!("PATH={DEFAULT_PATH}"));
    }
    if !names.contains("HOSTNAME") {
        env.push(format!("HOSTNAME={}", w.hostname));
    }
    let fs_gid = w.additional_gids.first().copied().unwrap_or(w.gid);
    let mut mounts = vec![
        json!({"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]}),
        json!({"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", DEV_SIZE]}),
        json!({"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", DEV_SIZE]}),
        json!({"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]}),
    ];
    for s in &w.scratch {
        let mut options = vec![
            "nosuid".to_string(),
            "nodev".to_string(),
            format!("size={}", s.size),
            "mode=0770".to_string(),
            format!("uid={}", w.uid),
            format!("gid={fs_gid}"),
        ];
        if s.read_only {
            options.push("ro".into());
        }
        mounts.push(
            json!({"destination": s.path, "type": "tmpfs", "source": "tmpfs", "options": options}),
        );
    }
    mounts.push(json!({
        "destination": w.work_mount,
        "type": "bind",
        "source": run.work_dir,
        "options": ["rbind", "ro", "nosuid", "nodev"],
    }));
    // cfs_quota_us for the period; int64 in the OCI spec, at least 1 ms.
    let quota = w
        .cpu_millis
        .saturating_mul(CPU_PERIOD_US / 1000)
        .clamp(1000, i64::MAX as u64);
    Ok(json!({
        "ociVersion": "1.0.2",
        "process": {
            "terminal": false,
            "user": {"uid": w.uid, "gid": w.gid, "additionalGids": w.additional_gids},
            "args": w.args,
            "env": env,
            "cwd": w.cwd,
            "capabilities": {"bounding": [], "effective": [], "inheritable": [], "permitted": [], "ambient": []},
            "rlimits": [
                {"type": "RLIMIT_NOFILE", "hard": NOFILE_LIMIT, "soft": NOFILE_LIMIT},
                {"type": "RLIMIT_NPROC", "hard": run.pids_limit, "soft": run.pids_limit},
                {"type": "RLIMIT_CORE", "hard": 0, "soft": 0},
            ],
            "noNewPrivileges": true,
        },
        "root": {"path": rootfs, "readonly": true},
        "hostname": w.hostname,
        "mounts": mounts,
        "linux": {
            "resources": {
                "memory": {"limit": w.memory, "swap": w.memory},
                "cpu": {"quota": quota, "period": CPU_PERIOD_US},
                "pids": {"limit": host_pids_limit(run.pids_limit)},
            },
            "namespaces": [
                {"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}, {"type": "network"},
            ],
        },
    }))
}

// ---------------------------------------------------------------------------
// cgroups

/// The cgroup v1 directories of one run.
#[derive(Debug)]
struct Cgroup {
    /// The memory cgroup created here (and removed here).
    memory: PathBuf,
    /// The same leaf in the other hierarchies, which runsc creates and
    /// normally removes; removed here if left over.
    others: Vec<PathBuf>,
}

/// One line of /proc/self/mountinfo that mounts a cgroup v1 hierarchy.
struct CgroupMount {
    root: String,
    mount_point: PathBuf,
    options: Vec<String>,
}

fn cgroup_mounts() -> Result<(Vec<CgroupMount>, bool), Error> {
    let text = fs::read_to_string("/proc/self/mountinfo")
        .map_err(io_err("reading /proc/self/mountinfo"))?;
    let mut v1 = Vec::new();
    let mut unified_at_root = false;
    for line in text.lines() {
        let Some((left, right)) = line.split_once(" - ") else {
            continue;
        };
        let l: Vec<&str> = left.split(' ').collect();
        let r: Vec<&str> = right.split(' ').collect();
        if l.len() < 5 || r.len() < 3 {
            continue;
        }
        match r[0] {
            "cgroup" => v1.push(CgroupMount {
                root: l[3].to_string(),
                mount_point: PathBuf::from(l[4]),
                options: r[2].split(',').map(str::to_string).collect(),
            }),
            "cgroup2" if l[4] == "/sys/fs/cgroup" => unified_at_root = true,
            _ => {}
        }
    }
    Ok((v1, unified_at_root))
}

impl Cgroup {
    /// Creates the memory cgroup `leaf` under this process's memory cgroup
    /// (where runsc puts a relative `cgroupsPath`); its limit is set by
    /// [`Cgroup::limit_memory`] once the guard owns it.
    fn create(leaf: &str) -> Result<Cgroup, Error> {
        let (mounts, unified) = cgroup_mounts()?;
        if unified {
            return Err(Error::Cgroup(
                "this host uses cgroup v2 only; the local backend manages memory through a cgroup v1 \
                 memory hierarchy (set ignore_cgroups to run without memory, cpu and pids limits)"
                    .into(),
            ));
        }
        let own =
            fs::read_to_string("/proc/self/cgroup").map_err(io_err("reading /proc/self/cgroup"))?;
        let mut memory_dir = None;
        let mut others = Vec::new();
        for line in own.lines() {
            let mut parts = line.splitn(3, ':');
            let (Some(_), Some(controllers), Some(path)) =
                (parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            if controllers.is_empty() {
                continue;
            }
            let wanted: Vec<&str> = controllers.split(',').collect();
            let Some(mount) = mounts
                .iter()
                .find(|m| wanted.iter().all(|c| m.options.iter().any(|o| o == c)))
            else {
                continue;
            };
            let relative = path
                .strip_prefix(mount.root.trim_end_matches('/'))
                .unwrap_or(path)
                .trim_start_matches('/');
            let dir = mount.mount_point.join(relative).join(leaf);
            if wanted.contains(&"memory") {
                memory_dir = Some(dir);
            } else {
                others.push(dir);
            }
        }
        let Some(memory_dir) = memory_dir else {
            return Err(Error::Cgroup(
                "no cgroup v1 memory hierarchy is mounted (set ignore_cgroups to run without limits)".into(),
            ));
        };
        fs::create_dir(&memory_dir)
            .map_err(|e| Error::Cgroup(format!("creating {}: {e}", memory_dir.display())))?;
        Ok(Cgroup {
            memory: memory_dir,
            others,
        })
    }

    /// Limits memory (and memory + swap, where swap is accounted) to `bytes`.
    fn limit_memory(&self, bytes: u64) -> Result<(), Error> {
        self.write("memory.limit_in_bytes", bytes)?;
        if self.memory.join("memory.memsw.limit_in_bytes").exists() {
            self.write("memory.memsw.limit_in_bytes", bytes)?;
        }
        Ok(())
    }

    fn write(&self, file: &str, value: u64) -> Result<(), Error> {
        let path = self.memory.join(file);
        fs::write(&path, value.to_string())
            .map_err(|e| Error::Cgroup(format!("writing {value} to {}: {e}", path.display())))
    }

    /// OOM kills recorded in the memory cgroup.
    fn oom_kills(&self) -> u64 {
        fs::read_to_string(self.memory.join("memory.oom_control"))
            .ok()
            .and_then(|text| {
                text.lines().find_map(|l| {
                    l.strip_prefix("oom_kill ")
                        .and_then(|n| n.trim().parse().ok())
                })
            })
            .unwrap_or(0)
    }

    fn pids(&self) -> Vec<u32> {
        fs::read_to_string(self.memory.join("cgroup.procs"))
            .map(|t| t.lines().filter_map(|l| l.trim().parse().ok()).collect())
            .unwrap_or_default()
    }
}

/// Removes a cgroup directory, retrying while its last processes exit.
fn remove_cgroup_dir(dir: &Path) -> Result<(), String> {
    let until = Instant::now() + Duration::from_secs(2);
    loop {
        match fs::remove_dir(dir) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) if Instant::now() >= until => {
                return Err(format!("removing cgroup {}: {e}", dir.display()));
            }
            Err(_) => thread::sleep(Duration::from_millis(10)),
        }
    }
}

// ---------------------------------------------------------------------------
// Running

/// A unique container id: pid, a counter and the time.
fn new_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "sl-{}-{n}-{:x}",
        std::process::id(),
        nanos & 0xffff_ffff_ffff
    )
}

/// The runsc binary as a path: looked up on `PATH` when it has no `/`.
pub fn find_runsc(runsc: &Path) -> Result<PathBuf, Error> {
    if runsc.components().count() > 1 || runsc.is_absolute() {
        return if runsc.is_file() {
            Ok(runsc.to_path_buf())
        } else {
            Err(Error::RunscNotFound(format!(
                "{} does not exist",
                runsc.display()
            )))
        };
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(runsc))
        .find(|p| p.is_file())
        .ok_or_else(|| Error::RunscNotFound(format!("`{}` is not on PATH", runsc.display())))
}

/// Output of a pipe, bounded.
#[derive(Debug, Default)]
struct Captured {
    bytes: Vec<u8>,
    truncated: bool,
}

fn capture(mut pipe: impl Read + Send + 'static, limit: usize) -> mpsc::Receiver<Captured> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut out = Captured::default();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match pipe.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    let room = limit.saturating_sub(out.bytes.len());
                    if n > room {
                        out.truncated = true;
                    }
                    out.bytes.extend_from_slice(&buf[..n.min(room)]);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        let _ = tx.send(out);
    });
    rx
}

/// Waits for `child` at most `timeout`; `None` when it still runs.
fn wait_timeout(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let until = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if Instant::now() < until => thread::sleep(POLL),
            _ => return None,
        }
    }
}

/// Sends SIGKILL to each of `pids`. A process already gone (ESRCH) is left
/// to the caller's re-check; 0 and 1 are never signalled (0 would be our own
/// process group, and 1 init).
fn sigkill(pids: &[u32]) {
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;
    for &pid in pids {
        if let Ok(pid) = i32::try_from(pid)
            && pid > 1
        {
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
    }
}

/// Everything one run has created; released by [`Sandbox::cleanup`], which
/// `Drop` calls on every path that did not.
struct Sandbox {
    runsc: PathBuf,
    global: Vec<String>,
    root: PathBuf,
    private_root: bool,
    id: String,
    scratch: Option<PathBuf>,
    bundle: PathBuf,
    cgroup: Option<Cgroup>,
    child: Option<Child>,
    done: bool,
}

impl Sandbox {
    /// A runsc command (global flags, then `args`) with output captured,
    /// given up after [`RUNSC_CMD_TIMEOUT`].
    fn runsc(&self, args: &[&str]) -> Result<(), String> {
        let what = format!("runsc {}", args.join(" "));
        let mut child = Command::new(&self.runsc)
            .args(&self.global)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("{what}: {e}"))?;
        let stderr = capture(child.stderr.take().expect("piped"), 64 * 1024);
        match wait_timeout(&mut child, RUNSC_CMD_TIMEOUT) {
            Some(status) if status.success() => Ok(()),
            Some(status) => {
                let err = stderr
                    .recv_timeout(Duration::from_secs(1))
                    .unwrap_or_default();
                Err(format!(
                    "{what}: {status}: {}",
                    String::from_utf8_lossy(&err.bytes).trim()
                ))
            }
            None => {
                let _ = child.kill();
                let _ = child.wait();
                Err(format!("{what}: no answer in {RUNSC_CMD_TIMEOUT:?}"))
            }
        }
    }

    /// State files runsc keeps for this container in the state root.
    fn state_files(&self) -> Vec<PathBuf> {
        let prefix = format!("{}_", self.id);
        fs::read_dir(&self.root)
            .map(|rd| {
                rd.filter_map(Result::ok)
                    .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
                    .map(|e| e.path())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Processes of this sandbox: those in its memory cgroup, and those whose
    /// command line names its state root and its id or bundle.
    fn processes(&self) -> Vec<u32> {
        let mut pids: BTreeSet<u32> = self
            .cgroup
            .as_ref()
            .map(Cgroup::pids)
            .unwrap_or_default()
            .into_iter()
            .collect();
        let root = self.root.to_string_lossy().into_owned();
        let bundle = self.bundle.to_string_lossy().into_owned();
        for pid in runsc_processes(&root) {
            let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let cmdline = String::from_utf8_lossy(&cmdline);
            if self.private_root || cmdline.contains(&self.id) || cmdline.contains(&bundle) {
                pids.insert(pid);
            }
        }
        pids.remove(&std::process::id());
        pids.into_iter().collect()
    }

    /// Kills the workload (all its processes).
    fn kill_container(&self) -> Result<(), String> {
        self.runsc(&["kill", "--all", &self.id, "KILL"])
    }

    /// Stops a sandbox that did not die when killed: `runsc delete --force`,
    /// then SIGKILL to `runsc run` itself, which is reaped.
    fn force_stop(&self, child: &mut Child) -> io::Result<ExitStatus> {
        let _ = self.runsc(&["delete", "--force", &self.id]);
        let _ = child.kill();
        child.wait()
    }

    /// Releases everything; returns what could not be released.
    fn cleanup(&mut self) -> Vec<String> {
        if self.done {
            return Vec::new();
        }
        self.done = true;
        let mut problems = Vec::new();
        if let Some(mut child) = self.child.take()
            && wait_timeout(&mut child, Duration::ZERO).is_none()
        {
            let _ = self.kill_container();
            if wait_timeout(&mut child, KILL_GRACE).is_none() {
                let _ = self.force_stop(&mut child);
            }
        }
        if !self.state_files().is_empty() {
            if let Err(e) = self.runsc(&["delete", "--force", &self.id]) {
                problems.push(e);
            }
            if !self.private_root {
                for f in self.state_files() {
                    if let Err(e) = fs::remove_file(&f)
                        && e.kind() != io::ErrorKind::NotFound
                    {
                        problems.push(format!("removing {}: {e}", f.display()));
                    }
                }
            }
        }
        let until = Instant::now() + PROCESS_GRACE;
        let mut left = self.processes();
        while !left.is_empty() && Instant::now() < until {
            thread::sleep(Duration::from_millis(5));
            left = self.processes();
        }
        if !left.is_empty() {
            sigkill(&left);
            let until = Instant::now() + Duration::from_secs(2);
            while !left.is_empty() && Instant::now() < until {
                thread::sleep(Duration::from_millis(10));
                left = self.processes();
            }
            if !left.is_empty() {
                problems.push(format!("sandbox processes still running: {left:?}"));
            }
        }
        if let Some(cgroup) = self.cgroup.take() {
            for dir in cgroup.others.iter().chain([&cgroup.memory]) {
                if let Err(e) = remove_cgroup_dir(dir) {
                    problems.push(e);
                }
            }
        }
        if let Some(scratch) = self.scratch.take()
            && let Err(e) = fs::remove_dir_all(&scratch)
            && e.kind() != io::ErrorKind::NotFound
        {
            problems.push(format!("removing {}: {e}", scratch.display()));
        }
        problems
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.cleanup();
    }
}

/// Pids of processes whose command line holds `root` (a runsc state root).
fn runsc_processes(root: &str) -> Vec<u32> {
    let Ok(rd) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for entry in rd.filter_map(Result::ok) {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(cmdline) = fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
        let names_root = args.iter().enumerate().any(|(i, a)| {
            *a == format!("--root={root}").as_bytes()
                || (*a == b"--root" && args.get(i + 1) == Some(&root.as_bytes()))
        });
        if names_root {
            out.push(pid);
        }
    }
    out
}

/// Pids of the runsc processes (runsc, sandbox, gofer) that use the state
/// root `root`, for checking that nothing is left behind.
pub fn processes_using_root(root: &Path) -> Vec<u32> {
    let mut pids = runsc_processes(&root.to_string_lossy());
    pids.retain(|p| *p != std::process::id());
    pids
}

/// Creates a private directory (mode 0700) with a unique name under `parent`.
fn private_dir(parent: &Path, id: &str) -> Result<PathBuf, Error> {
    let dir = parent.join(format!("sandbox-lint-{id}"));
    fs::DirBuilder::new()
        .mode(0o700)
        .create(&dir)
        .map_err(io_err(format!("creating {}", dir.display())))?;
    Ok(dir)
}

/// Runs the Pod's workload in a gVisor sandbox and cleans everything up; see
/// the module documentation.
pub fn run(cfg: &LocalRun) -> Result<RunResult, Error> {
    let started = Instant::now();
    let workload = workload(cfg)?;
    let mut spec = spec_of(cfg, &workload)?;
    let runsc = find_runsc(&cfg.runsc)?;
    if !cfg.work_dir.is_dir() {
        return Err(Error::Input(format!(
            "the work directory {} is not a directory",
            cfg.work_dir.display()
        )));
    }
    // The work directory is mounted as it is: it must hold what a workspace
    // may (the reader both backends share), before anything runs.
    super::workspace::check_dir(&cfg.work_dir).map_err(|e| Error::Input(e.to_string()))?;
    if let Some(rootfs) = &cfg.rootfs
        && !rootfs.is_dir()
    {
        return Err(Error::Input(format!(
            "the root filesystem {} is not a directory",
            rootfs.display()
        )));
    }
    let parent = match &cfg.scratch_dir {
        Some(p) => p.clone(),
        None => std::env::temp_dir(),
    };
    let parent = parent
        .canonicalize()
        .map_err(io_err(format!("scratch directory {}", parent.display())))?;
    let id = new_id();
    let scratch = private_dir(&parent, &id)?;
    let bundle = scratch.join("bundle");
    let (root, private_root) = match &cfg.state_root {
        Some(r) => (r.clone(), false),
        None => (scratch.join("state"), true),
    };
    let mut global = vec![
        format!("--root={}", root.display()),
        format!("--platform={}", cfg.platform),
        "--network=none".to_string(),
    ];
    if cfg.ignore_cgroups {
        global.push("--ignore-cgroups".into());
    }
    if let Some(dir) = &cfg.debug_log {
        global.push("--debug".into());
        global.push(format!("--debug-log={}/", dir.display()));
    }
    let mut sandbox = Sandbox {
        runsc,
        global,
        root: root.clone(),
        private_root,
        id: id.clone(),
        scratch: Some(scratch),
        bundle: bundle.clone(),
        cgroup: None,
        child: None,
        done: false,
    };
    fs::DirBuilder::new()
        .mode(0o700)
        .recursive(true)
        .create(&bundle)
        .map_err(io_err("creating the bundle directory"))?;
    fs::DirBuilder::new()
        .mode(0o700)
        .recursive(true)
        .create(&root)
        .map_err(io_err(format!(
            "creating the state root {}",
            root.display()
        )))?;
    if !cfg.ignore_cgroups {
        let leaf = format!("sandbox-lint-{id}");
        // owned by the guard before anything else can fail
        let cgroup = sandbox.cgroup.insert(Cgroup::create(&leaf)?);
        cgroup.limit_memory(workload.memory)?;
        spec["linux"]["cgroupsPath"] = json!(leaf);
    }
    let config = serde_json::to_vec_pretty(&spec).map_err(|e| Error::Input(e.to_string()))?;
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(bundle.join("config.json"))
        .and_then(|mut f| f.write_all(&config))
        .map_err(io_err("writing config.json"))?;

    let mut child = Command::new(&sandbox.runsc)
        .args(&sandbox.global)
        .arg("run")
        .arg(format!("--bundle={}", bundle.display()))
        .arg(&id)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(io_err(format!("starting {}", sandbox.runsc.display())))?;
    let stdout = capture(child.stdout.take().expect("piped"), cfg.output_limit);
    let stderr = capture(child.stderr.take().expect("piped"), cfg.output_limit);
    let runsc_pid = child.id();
    sandbox.child = Some(child);
    if let Some(hook) = &cfg.on_start {
        hook(&Started {
            id: id.clone(),
            state_root: root,
            bundle,
            memory_cgroup: sandbox.cgroup.as_ref().map(|c| c.memory.clone()),
            runsc_pid,
        });
    }

    // `Instant + Duration` panics on overflow: a deadline of i64::MAX seconds
    // is as good as none, so it is capped at a century.
    let deadline = workload.deadline.min(100 * 365 * 24 * 3600);
    let deadline_at = started + Duration::from_secs(deadline);
    let mut killed_at: Option<Instant> = None;
    let mut forced = false;
    let mut interrupted = false;
    let status = loop {
        let child = sandbox.child.as_mut().expect("spawned");
        if let Some(status) = child.try_wait().map_err(io_err("waiting for runsc"))? {
            break status;
        }
        let now = Instant::now();
        let cancelled = cfg
            .cancel
            .as_ref()
            .is_some_and(CancellationToken::is_cancelled);
        match killed_at {
            None if now >= deadline_at || cancelled => {
                interrupted = now < deadline_at;
                killed_at = Some(now);
                if sandbox.kill_container().is_err() {
                    forced = true;
                }
            }
            Some(at) if !forced && now >= at + KILL_GRACE => forced = true,
            _ => {}
        }
        if forced {
            let mut child = sandbox.child.take().expect("spawned");
            let status = sandbox.force_stop(&mut child);
            sandbox.child = Some(child);
            break status.map_err(io_err("waiting for runsc"))?;
        }
        let left = deadline_at.saturating_duration_since(now);
        thread::sleep(if left.is_zero() { POLL } else { left.min(POLL) });
    };
    let duration = started.elapsed();
    sandbox.child = None;
    let oom_kills = sandbox.cgroup.as_ref().map_or(0, Cgroup::oom_kills);
    let problems = sandbox.cleanup();
    // The pipes are closed once the sandbox is gone; a reader that still has
    // not finished has lost its output, which is then marked truncated.
    let lost = || Captured {
        bytes: Vec::new(),
        truncated: true,
    };
    let out = stdout
        .recv_timeout(Duration::from_secs(5))
        .unwrap_or_else(|_| lost());
    let err = stderr
        .recv_timeout(Duration::from_secs(5))
        .unwrap_or_else(|_| lost());
    if !problems.is_empty() {
        return Err(Error::Cleanup(problems));
    }
    let exit_code = status.code();
    let signal = exit_code
        .filter(|c| (129..=128 + 64).contains(c))
        .map(|c| c - 128);
    let reason = if interrupted {
        Reason::Interrupted
    } else if killed_at.is_some() {
        Reason::DeadlineExceeded
    } else if oom_kills > 0 && exit_code != Some(0) {
        Reason::OOMKilled
    } else if exit_code == Some(0) {
        Reason::Completed
    } else {
        Reason::Error
    };
    Ok(RunResult {
        id,
        exit_code,
        signal,
        reason,
        stdout: out.bytes,
        stderr: err.bytes,
        stdout_truncated: out.truncated,
        stderr_truncated: err.truncated,
        oom_kills,
        duration,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod() -> Pod {
        serde_json::from_value(json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "runner", "namespace": "workflows"},
            "spec": {
                "runtimeClassName": "gvisor",
                "restartPolicy": "Never",
                "activeDeadlineSeconds": 60,
                "automountServiceAccountToken": false,
                "securityContext": {
                    "runAsNonRoot": true, "runAsUser": 1000, "runAsGroup": 1000, "fsGroup": 2000,
                    "seccompProfile": {"type": "RuntimeDefault"},
                },
                "containers": [{
                    "name": "runner",
                    "image": "runner:1",
                    "command": ["python3", "main.py"],
                    "args": ["--verbose"],
                    "workingDir": "/work",
                    "env": [
                        {"name": "MODE", "value": "test"},
                        {"name": "API_KEY", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}},
                    ],
                    "securityContext": {
                        "runAsUser": 1001,
                        "allowPrivilegeEscalation": false,
                        "readOnlyRootFilesystem": true,
                        "capabilities": {"drop": ["ALL"]},
                    },
                    "resources": {"limits": {"cpu": "1500m", "memory": "512Mi", "ephemeral-storage": "1Gi"}},
                    "volumeMounts": [
                        {"name": "workspace", "mountPath": "/workspace"},
                        {"name": "tmp", "mountPath": "/tmp"},
                        {"name": "work", "mountPath": "/work", "readOnly": true},
                    ],
                }],
                "volumes": [
                    {"name": "workspace", "emptyDir": {"sizeLimit": "10Gi"}},
                    {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}},
                    {"name": "work", "configMap": {"name": "run-work"}},
                ],
            },
        }))
        .unwrap()
    }

    fn local(pod: Pod) -> LocalRun {
        LocalRun::new(pod, "/srv/work").secret("s", "k", "sekret")
    }

    fn with(change: impl FnOnce(&mut Value)) -> LocalRun {
        let mut v = serde_json::to_value(pod()).unwrap();
        change(&mut v);
        local(serde_json::from_value(v).unwrap())
    }

    fn refused(run: &LocalRun, needle: &str) {
        match oci_spec(run) {
            Err(Error::Refused(m)) => assert!(m.contains(needle), "{m:?} lacks {needle:?}"),
            other => panic!("expected a refusal mentioning {needle:?}, got {other:?}"),
        }
    }

    #[test]
    fn process_follows_the_pod() {
        let s = oci_spec(&local(pod())).unwrap();
        let p = &s["process"];
        assert_eq!(
            p["user"],
            json!({"uid": 1001, "gid": 1000, "additionalGids": [2000]})
        );
        assert_eq!(p["args"], json!(["python3", "main.py", "--verbose"]));
        assert_eq!(p["cwd"], "/work");
        assert_eq!(p["noNewPrivileges"], true);
        for set in [
            "bounding",
            "effective",
            "inheritable",
            "permitted",
            "ambient",
        ] {
            assert_eq!(p["capabilities"][set], json!([]), "{set}");
        }
        let env: Vec<&str> = p["env"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e.as_str().unwrap())
            .collect();
        assert!(env.contains(&"MODE=test"));
        assert!(env.contains(&"API_KEY=sekret"));
        assert!(env.iter().any(|e| e.starts_with("PATH=/")));
        assert!(env.contains(&"HOSTNAME=runner"));
        assert_eq!(s["root"], json!({"path": "/", "readonly": true}));
        let nproc = p["rlimits"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["type"] == "RLIMIT_NPROC")
            .unwrap();
        assert_eq!(nproc["hard"], DEFAULT_PIDS_LIMIT);
    }

    #[test]
    fn mounts_and_limits() {
        let s = oci_spec(&local(pod())).unwrap();
        let mounts = s["mounts"].as_array().unwrap();
        let at = |d: &str| {
            mounts
                .iter()
                .find(|m| m["destination"] == d)
                .unwrap()
                .clone()
        };
        assert_eq!(at("/proc")["type"], "proc");
        assert_eq!(at("/dev")["type"], "tmpfs");
        let ws = at("/workspace");
        assert_eq!(ws["type"], "tmpfs");
        // capped by ephemeral-storage (1Gi) below its 10Gi sizeLimit
        assert!(
            ws["options"]
                .as_array()
                .unwrap()
                .contains(&json!("size=1073741824"))
        );
        assert!(
            ws["options"]
                .as_array()
                .unwrap()
                .contains(&json!("uid=1001"))
        );
        assert!(
            ws["options"]
                .as_array()
                .unwrap()
                .contains(&json!("gid=2000"))
        );
        assert!(
            at("/tmp")["options"]
                .as_array()
                .unwrap()
                .contains(&json!("size=67108864"))
        );
        let work = at("/work");
        assert_eq!(work["type"], "bind");
        assert_eq!(work["source"], "/srv/work");
        assert!(work["options"].as_array().unwrap().contains(&json!("ro")));
        let r = &s["linux"]["resources"];
        assert_eq!(r["memory"]["limit"], 512u64 << 20);
        assert_eq!(r["cpu"], json!({"quota": 150_000, "period": 100_000}));
        assert_eq!(r["pids"]["limit"], host_pids_limit(DEFAULT_PIDS_LIMIT));
        let ns: Vec<&str> = s["linux"]["namespaces"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["type"].as_str().unwrap())
            .collect();
        assert_eq!(ns, ["pid", "ipc", "uts", "mount", "network"]);
        assert!(s["linux"].get("cgroupsPath").is_none());
    }

    #[test]
    fn sigkill_kills_the_given_processes() {
        let mut child = Command::new("sleep").arg("60").spawn().unwrap();
        sigkill(&[child.id()]);
        let status = wait_timeout(&mut child, Duration::from_secs(10)).expect("killed");
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(9));
    }

    /// Absurd limits saturate at the OCI spec's int64 instead of
    /// overflowing (a cpu of 1e13 cores used to overflow the quota).
    #[test]
    fn huge_limits_saturate() {
        let s =
            oci_spec(&with(
                |v| {
                    v["spec"]["containers"][0]["resources"]["limits"] =
                        json!({"cpu": "1e30", "memory": "1e30", "ephemeral-storage": "1e30"})
                },
            ))
            .unwrap();
        let r = &s["linux"]["resources"];
        assert_eq!(r["cpu"]["quota"], i64::MAX);
        let s = oci_spec(&with(|v| {
            v["spec"]["containers"][0]["resources"]["limits"]["cpu"] = json!("1e13")
        }))
        .unwrap();
        assert_eq!(
            s["linux"]["resources"]["cpu"]["quota"],
            1_000_000_000_000_000_000u64
        );
        assert_eq!(r["memory"]["limit"], i64::MAX);
        let s = oci_spec(&with(|v| {
            v["spec"]["containers"][0]["resources"]["limits"]["cpu"] = json!("1m")
        }))
        .unwrap();
        assert_eq!(
            s["linux"]["resources"]["cpu"]["quota"], 1000,
            "at least 1 ms"
        );
    }

    #[test]
    fn cpu_rounds_up_to_millicores() {
        for (text, millis) in [
            ("2", 2000),
            ("500m", 500),
            ("0.25", 250),
            ("1.0001", 1001),
            ("100u", 1),
            ("1n", 1),
            ("999999n", 1),
            ("1000001n", 2),
            ("1e-3", 1),
            ("0", 0),
            ("1e100", u64::MAX),
        ] {
            assert_eq!(
                cpu_millis(&Quantity::parse(text).unwrap()),
                millis,
                "{text}"
            );
        }
    }

    #[test]
    fn a_missing_secret_is_an_error() {
        let run = LocalRun::new(pod(), "/srv/work");
        match oci_spec(&run) {
            Err(Error::MissingSecret { var, name, key }) => {
                assert_eq!(
                    (var.as_str(), name.as_str(), key.as_str()),
                    ("API_KEY", "s", "k")
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn refuses_what_the_dispatcher_does_not_build() {
        refused(
            &with(|v| {
                v["spec"]["volumes"][0] = json!({"name": "workspace", "hostPath": {"path": "/"}})
            }),
            "hostPath",
        );
        refused(
            &with(|v| v["spec"]["containers"][0]["securityContext"]["privileged"] = json!(true)),
            "privileged",
        );
        refused(
            &with(|v| {
                v["spec"]
                    .as_object_mut()
                    .unwrap()
                    .remove("activeDeadlineSeconds");
            }),
            "deadline",
        );
        refused(
            &with(|v| {
                v["spec"]["containers"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("resources");
            }),
            "limits.memory",
        );
        refused(
            &with(|v| {
                v["spec"]["containers"][0]["resources"]["limits"]
                    .as_object_mut()
                    .unwrap()
                    .remove("cpu");
            }),
            "limits.cpu",
        );
        refused(
            &with(|v| v["spec"]["volumes"][1]["emptyDir"] = json!({})),
            "sizeLimit",
        );
        refused(
            &with(|v| v["spec"]["hostNetwork"] = json!(true)),
            "hostNetwork",
        );
        refused(
            &with(|v| v["spec"]["runtimeClassName"] = json!("runc")),
            "runtimeClassName",
        );
        refused(
            &with(|v| {
                v["spec"]["containers"][0]["securityContext"]["allowPrivilegeEscalation"] =
                    json!(true)
            }),
            "allowPrivilegeEscalation",
        );
        refused(
            &with(|v| {
                v["spec"]["containers"][0]["securityContext"]["capabilities"] =
                    json!({"drop": ["ALL"], "add": ["NET_ADMIN"]})
            }),
            "add",
        );
        refused(
            &with(|v| {
                v["spec"]["containers"][0]["securityContext"]["readOnlyRootFilesystem"] =
                    json!(false)
            }),
            "readOnlyRootFilesystem",
        );
        refused(
            &with(|v| v["spec"]["containers"][0]["securityContext"]["runAsUser"] = json!(0)),
            "root",
        );
        refused(
            &with(|v| v["spec"]["securityContext"]["runAsNonRoot"] = json!(false)),
            "runAsNonRoot",
        );
        refused(
            &with(|v| v["spec"]["securityContext"]["seccompProfile"]["type"] = json!("Unconfined")),
            "seccomp",
        );
        refused(
            &with(|v| v["spec"]["containers"][0]["volumeMounts"][2]["readOnly"] = json!(false)),
            "readOnly",
        );
        refused(
            &with(|v| {
                v["spec"]["containers"][0]["volumeMounts"][0]["mountPath"] = json!("/proc/x")
            }),
            "/proc",
        );
        refused(
            &with(|v| v["spec"]["containers"][0]["volumeMounts"][0]["subPath"] = json!("a")),
            "subPath",
        );
        refused(
            &with(|v| {
                v["spec"]["containers"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("command");
            }),
            "command",
        );
        refused(
            &with(|v| {
                v["spec"]["containers"][0]["env"][0] =
                    json!({"name": "N", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}})
            }),
            "secretKeyRef",
        );
        refused(
            &with(|v| v["spec"]["initContainers"] = v["spec"]["containers"].clone()),
            "initContainers",
        );
        refused(
            &with(|v| v["spec"]["restartPolicy"] = json!("Always")),
            "restartPolicy",
        );
        refused(
            &with(|v| v["spec"]["automountServiceAccountToken"] = json!(true)),
            "automountServiceAccountToken",
        );
        refused(
            &with(|v| v["spec"]["volumes"][2]["name"] = json!("other")),
            "configMap",
        );
        refused(
            &with(|v| {
                v["spec"]["containers"][0]["volumeMounts"][1]["mountPath"] = json!("/workspace/tmp")
            }),
            "inside",
        );
    }

    #[test]
    fn the_dispatchers_false_flags_are_accepted() {
        let run = with(|v| {
            v["spec"]["hostNetwork"] = json!(false);
            v["spec"]["enableServiceLinks"] = json!(false);
            v["spec"]["containers"][0]["securityContext"]["privileged"] = json!(false);
        });
        oci_spec(&run).unwrap();
    }

    #[test]
    fn debug_output_hides_secret_values() {
        let text = format!("{:?}", local(pod()));
        assert!(text.contains("s/k"));
        assert!(!text.contains("sekret"));
    }
}
