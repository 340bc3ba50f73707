//! A deterministic synthetic corpus of Kubernetes manifests for benchmarking.
//!
//! Resources come in three classes, recorded per resource so a run's findings can
//! be checked against them:
//! - compliant workloads (Pod, Job, CronJob) shaped like
//!   `testdata/compliant/ok-runner-pod.yaml`, with harmless variations;
//! - violating workloads (all seven workload kinds): either a near miss (the
//!   compliant shape with one to three realistic flaws) or a naive app manifest
//!   of the kind found in charts and tutorials;
//! - kinds that are not judged (ServiceAccount, NetworkPolicy, ConfigMap, Service).
//!
//! By default 30% of all resources are compliant workloads, 12% are unjudged
//! kinds and the remaining 58% are violating workloads.
//!
//! Files hold 1-20 `---`-separated documents. Everything is derived from one
//! seed through a SplitMix64 generator, so the same seed gives the same bytes.

pub mod dockerfiles;

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast and good enough for test data.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (multiply-shift; the bias is negligible for small `n`).
    pub fn below(&mut self, n: usize) -> usize {
        assert!(n > 0, "empty range");
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `p` percent.
    pub fn percent(&mut self, p: usize) -> bool {
        self.below(100) < p
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    /// Picks an item with probability proportional to its weight.
    pub fn weighted<T: Copy>(&mut self, items: &[(T, usize)]) -> T {
        let total: usize = items.iter().map(|(_, w)| w).sum();
        let mut x = self.below(total);
        for (item, w) in items {
            if x < *w {
                return *item;
            }
            x -= w;
        }
        unreachable!("weights sum to total")
    }

    fn hex(&mut self, len: usize) -> String {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        (0..len).map(|_| DIGITS[self.below(16)] as char).collect()
    }
}

/// The kinds the corpus contains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Pod,
    Deployment,
    StatefulSet,
    DaemonSet,
    ReplicaSet,
    Job,
    CronJob,
    ServiceAccount,
    NetworkPolicy,
    ConfigMap,
    Service,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Pod => "Pod",
            Kind::Deployment => "Deployment",
            Kind::StatefulSet => "StatefulSet",
            Kind::DaemonSet => "DaemonSet",
            Kind::ReplicaSet => "ReplicaSet",
            Kind::Job => "Job",
            Kind::CronJob => "CronJob",
            Kind::ServiceAccount => "ServiceAccount",
            Kind::NetworkPolicy => "NetworkPolicy",
            Kind::ConfigMap => "ConfigMap",
            Kind::Service => "Service",
        }
    }

    fn api_version(self) -> &'static str {
        match self {
            Kind::Pod | Kind::ServiceAccount | Kind::ConfigMap | Kind::Service => "v1",
            Kind::Deployment | Kind::StatefulSet | Kind::DaemonSet | Kind::ReplicaSet => "apps/v1",
            Kind::Job | Kind::CronJob => "batch/v1",
            Kind::NetworkPolicy => "networking.k8s.io/v1",
        }
    }

    /// Controllers that restart pods forever: never compliant.
    fn long_running(self) -> bool {
        matches!(
            self,
            Kind::Deployment | Kind::StatefulSet | Kind::DaemonSet | Kind::ReplicaSet
        )
    }
}

/// What the linter is expected to say about a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Class {
    /// A workload that must produce no finding.
    Compliant,
    /// A workload that must produce at least one finding.
    Violating,
    /// A kind no rule judges: no finding either.
    Unjudged,
}

/// One generated resource.
#[derive(Debug, Clone)]
pub struct Expected {
    pub kind: Kind,
    pub name: String,
    pub class: Class,
}

/// One generated file, its path relative to the corpus root.
#[derive(Debug, Clone)]
pub struct GeneratedFile {
    pub path: PathBuf,
    pub text: String,
    pub resources: Vec<Expected>,
}

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct Config {
    pub resources: usize,
    pub seed: u64,
    /// Percent of all resources that are compliant workloads.
    pub compliant_percent: usize,
    /// Percent of all resources that are kinds no rule judges.
    pub unjudged_percent: usize,
    pub max_docs_per_file: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            resources: 12_000,
            seed: 0x5EED_2026,
            compliant_percent: 30,
            unjudged_percent: 12,
            max_docs_per_file: 20,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Corpus {
    pub files: Vec<GeneratedFile>,
}

impl Corpus {
    pub fn resources(&self) -> impl Iterator<Item = &Expected> {
        self.files.iter().flat_map(|f| &f.resources)
    }

    pub fn resource_count(&self) -> usize {
        self.files.iter().map(|f| f.resources.len()).sum()
    }

    pub fn bytes(&self) -> usize {
        self.files.iter().map(|f| f.text.len()).sum()
    }

    pub fn largest_file(&self) -> usize {
        self.files.iter().map(|f| f.text.len()).max().unwrap_or(0)
    }

    pub fn by_kind(&self) -> BTreeMap<Kind, usize> {
        let mut m = BTreeMap::new();
        for r in self.resources() {
            *m.entry(r.kind).or_default() += 1;
        }
        m
    }

    pub fn by_class(&self) -> BTreeMap<Class, usize> {
        let mut m = BTreeMap::new();
        for r in self.resources() {
            *m.entry(r.class).or_default() += 1;
        }
        m
    }

    /// Writes every file under `dir` (created if missing).
    /// Writes the corpus under `dir`, and its cluster context next to it
    /// ([`context_path`]).
    pub fn write_to(&self, dir: &Path) -> io::Result<()> {
        for f in &self.files {
            let path = dir.join(&f.path);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(path, &f.text)?;
        }
        std::fs::write(context_path(dir), context_yaml())
    }
}

/// Where the corpus's cluster context is written: beside the corpus directory
/// (`corpus-context.yaml`), so that it is no input of the run.
pub fn context_path(dir: &Path) -> PathBuf {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    dir.with_file_name(format!("{name}-context.yaml"))
}

/// The objects the corpus's workloads refer to, passed as `--context`: the
/// RuntimeClass `gvisor` (handler runsc) and, in every namespace, the
/// ServiceAccounts compliant workloads name (automount off).
pub fn context_yaml() -> String {
    let mut out = String::from(
        "apiVersion: node.k8s.io/v1\nkind: RuntimeClass\nmetadata: {name: gvisor}\nhandler: runsc\n",
    );
    for ns in NAMESPACES {
        let names = std::iter::once("workflow-runner".to_string())
            .chain((0..24).map(|t| format!("team-{t:02}-runner")));
        for name in names {
            out.push_str(&format!(
                "---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: {name}, namespace: {ns}}}\nautomountServiceAccountToken: false\n"
            ));
        }
    }
    out
}

/// Generates a corpus of `cfg.resources` resources.
pub fn generate(cfg: &Config) -> Corpus {
    let mut rng = Rng::new(cfg.seed);
    let mut files = Vec::new();
    let mut made = 0;
    while made < cfg.resources {
        let docs = rng
            .range(1, cfg.max_docs_per_file)
            .min(cfg.resources - made);
        let team = rng.below(24);
        let ext = if rng.percent(10) { "yml" } else { "yaml" };
        let path = PathBuf::from(format!("team-{team:02}")).join(format!(
            "{}-{:04}.{ext}",
            rng.pick(STACKS),
            files.len()
        ));
        let mut w = W::default();
        let mut resources = Vec::with_capacity(docs);
        if rng.percent(30) {
            w.raw("# Generated by sandbox-lint's benchmark corpus; do not edit.\n");
        }
        for d in 0..docs {
            if d > 0 || rng.percent(20) {
                w.raw("---\n");
            }
            if rng.percent(25) {
                w.raw(&format!(
                    "# Source: {}/templates/{}.yaml\n",
                    rng.pick(STACKS),
                    rng.pick(APPS)
                ));
            }
            resources.push(resource(&mut rng, cfg, made, &mut w));
            made += 1;
        }
        files.push(GeneratedFile {
            path,
            text: w.out,
            resources,
        });
    }
    Corpus { files }
}

const STACKS: &[&str] = &[
    "runners", "ci", "batch", "platform", "agents", "evals", "ingest", "sandbox",
];
const APPS: &[&str] = &[
    "runner",
    "worker",
    "executor",
    "api",
    "scheduler",
    "indexer",
    "builder",
    "grader",
];
const NAMESPACES: &[&str] = &["workflows", "ci", "sandbox", "batch", "evals", "default"];

/// Writes one resource of a randomly chosen kind and class.
fn resource(rng: &mut Rng, cfg: &Config, index: usize, w: &mut W) -> Expected {
    let roll = rng.below(100);
    let (kind, class) = if roll < cfg.unjudged_percent {
        let kind = rng.weighted(&[
            (Kind::ServiceAccount, 3),
            (Kind::NetworkPolicy, 3),
            (Kind::ConfigMap, 4),
            (Kind::Service, 2),
        ]);
        (kind, Class::Unjudged)
    } else if roll < cfg.unjudged_percent + cfg.compliant_percent {
        let kind = rng.weighted(&[(Kind::Pod, 5), (Kind::Job, 3), (Kind::CronJob, 2)]);
        (kind, Class::Compliant)
    } else {
        let kind = rng.weighted(&[
            (Kind::Pod, 25),
            (Kind::Deployment, 25),
            (Kind::StatefulSet, 10),
            (Kind::DaemonSet, 8),
            (Kind::ReplicaSet, 7),
            (Kind::Job, 15),
            (Kind::CronJob, 10),
        ]);
        (kind, Class::Violating)
    };
    let prefix = match class {
        Class::Compliant => "ok",
        Class::Violating => "bad",
        Class::Unjudged => "aux",
    };
    let app = rng.pick(APPS);
    let name = format!(
        "{prefix}-{}-{app}-{index:05}",
        kind.name().to_ascii_lowercase()
    );
    let meta = Meta {
        name: name.clone(),
        namespace: rng.pick(NAMESPACES),
        app,
        team: rng.below(24),
    };
    match kind {
        Kind::ServiceAccount => service_account(rng, w, &meta),
        Kind::NetworkPolicy => network_policy(rng, w, &meta),
        Kind::ConfigMap => config_map(rng, w, &meta),
        Kind::Service => service(rng, w, &meta),
        _ => {
            let mut job_deadline = None;
            // Compliant Jobs never retry; others often keep a retry or the default (6).
            let backoff_limit = match class {
                Class::Compliant => Some(0),
                _ if rng.percent(60) => Some(0),
                _ if rng.percent(50) => None,
                _ => Some(rng.range(1, 6)),
            };
            let pod = match class {
                Class::Compliant => {
                    let mut pod = compliant_pod(rng, &meta);
                    // Jobs may carry the deadline on the Job spec instead.
                    if matches!(kind, Kind::Job | Kind::CronJob) && rng.percent(30) {
                        job_deadline = pod.deadline.take();
                    }
                    pod
                }
                _ if rng.percent(35) => naive_pod(rng, kind),
                _ => {
                    let mut pod = compliant_pod(rng, &meta);
                    if kind.long_running() {
                        // What the API server requires of these controllers' templates.
                        pod.restart_policy = rng.percent(50).then_some("Always");
                        pod.deadline = None;
                    }
                    let flaws = if kind.long_running() {
                        rng.range(0, 2)
                    } else {
                        rng.range(1, 3)
                    };
                    for _ in 0..flaws {
                        flaw(rng, &mut pod);
                    }
                    pod
                }
            };
            let job = JobOpts {
                deadline: job_deadline,
                backoff_limit,
            };
            workload(rng, w, kind, &meta, &pod, &job);
        }
    }
    Expected { kind, name, class }
}

/// Fields of a Job spec (Jobs and CronJobs' job templates).
struct JobOpts {
    deadline: Option<i64>,
    backoff_limit: Option<usize>,
}

struct Meta {
    name: String,
    namespace: &'static str,
    app: &'static str,
    team: usize,
}

// ---------------------------------------------------------------------------
// The pod spec model.

#[derive(Debug, Clone, Copy, PartialEq)]
enum ReadOnlyRoot {
    True,
    False,
    Missing,
    /// `readOnlyRootFileSystem`: an unknown field the API server drops.
    Typo,
}

#[derive(Debug, Clone)]
struct ContainerSc {
    allow_privilege_escalation: Option<bool>,
    privileged: Option<bool>,
    read_only_root: ReadOnlyRoot,
    drop_all: bool,
    add: Vec<&'static str>,
}

#[derive(Debug, Clone)]
enum Env {
    Value(&'static str, String),
    Secret(&'static str, &'static str, &'static str),
    Field(&'static str, &'static str),
}

#[derive(Debug, Clone)]
struct Limits {
    cpu: &'static str,
    memory: &'static str,
    ephemeral: Option<&'static str>,
}

#[derive(Debug, Clone)]
struct Container {
    name: &'static str,
    image: String,
    command: Option<Vec<&'static str>>,
    sc: Option<ContainerSc>,
    env: Vec<Env>,
    requests: Option<(&'static str, &'static str)>,
    limits: Option<Limits>,
    ports: Vec<(u16, Option<u16>)>,
    mounts: Vec<(&'static str, &'static str, bool)>,
    probes: bool,
}

#[derive(Debug, Clone)]
struct PodSc {
    run_as_non_root: Option<bool>,
    /// Writes `runAsNonroot`, an unknown field.
    non_root_typo: bool,
    run_as_user: Option<i64>,
    run_as_group: Option<i64>,
    fs_group: Option<i64>,
    seccomp: Option<&'static str>,
}

#[derive(Debug, Clone)]
enum Volume {
    EmptyDir {
        name: &'static str,
        size: Option<&'static str>,
        memory: bool,
    },
    HostPath(&'static str, &'static str),
    Secret(&'static str, &'static str),
    ConfigMap(&'static str, String),
}

#[derive(Debug, Clone)]
struct PodSpec {
    runtime_class: Option<&'static str>,
    restart_policy: Option<&'static str>,
    deadline: Option<i64>,
    service_account: Option<String>,
    automount: Option<bool>,
    host_network: bool,
    host_pid: bool,
    host_ipc: bool,
    sc: Option<PodSc>,
    affinity: bool,
    toleration: bool,
    node_selector: bool,
    init: Vec<Container>,
    containers: Vec<Container>,
    volumes: Vec<Volume>,
}

fn digest_image(rng: &mut Rng, repo: &str) -> String {
    format!(
        "gcr.io/plue-prod/{repo}:{}.{}.{}@sha256:{}",
        rng.range(1, 3),
        rng.range(0, 12),
        rng.range(0, 20),
        rng.hex(64)
    )
}

fn hardened_sc() -> ContainerSc {
    ContainerSc {
        allow_privilege_escalation: Some(false),
        privileged: None,
        read_only_root: ReadOnlyRoot::True,
        drop_all: true,
        add: Vec::new(),
    }
}

fn bounded_resources(rng: &mut Rng, c: &mut Container) {
    c.requests = Some((
        rng.pick(&["250m", "500m", "1"]),
        rng.pick(&["512Mi", "1Gi", "2Gi"]),
    ));
    c.limits = Some(Limits {
        cpu: rng.pick(&["1", "1500m", "2"]),
        memory: rng.pick(&["2Gi", "3Gi", "4Gi"]),
        ephemeral: Some(rng.pick(&["5Gi", "10Gi"])),
    });
}

/// A pod spec that passes every rule of the default policy.
fn compliant_pod(rng: &mut Rng, meta: &Meta) -> PodSpec {
    let id = rng.range(10_000, 99_999);
    let mut env = Vec::new();
    if rng.percent(70) {
        env.push(Env::Secret(
            "ANTHROPIC_API_KEY",
            "workflow-secrets",
            "anthropic-api-key",
        ));
    }
    env.push(Env::Value("TASK_ID", format!("\"{id}\"")));
    if rng.percent(60) {
        env.push(Env::Value(
            "CALLBACK_URL",
            format!("\"https://api.plue.dev/internal/tasks/{id}/stream\""),
        ));
    }
    for (k, v) in [
        ("LOG_LEVEL", "info"),
        ("WORKFLOW", "build-and-test"),
        ("GIT_REF", "refs/heads/main"),
    ] {
        if rng.percent(30) {
            env.push(Env::Value(k, v.to_string()));
        }
    }
    if rng.percent(25) {
        env.push(Env::Field("POD_NAME", "metadata.name"));
    }
    let mut runner = Container {
        name: "runner",
        image: digest_image(rng, meta.app),
        command: rng
            .percent(30)
            .then(|| vec!["/usr/local/bin/runner", "--workspace", "/workspace"]),
        sc: Some(hardened_sc()),
        env,
        requests: None,
        limits: None,
        ports: Vec::new(),
        mounts: vec![("workspace", "/workspace", false), ("tmp", "/tmp", false)],
        probes: false,
    };
    bounded_resources(rng, &mut runner);
    let mut volumes = vec![
        Volume::EmptyDir {
            name: "workspace",
            size: Some(rng.pick(&["5Gi", "10Gi"])),
            memory: false,
        },
        Volume::EmptyDir {
            name: "tmp",
            size: Some(rng.pick(&["512Mi", "1Gi"])),
            memory: rng.percent(20),
        },
    ];
    if rng.percent(20) {
        runner.mounts.push(("config", "/etc/runner", true));
        volumes.push(Volume::ConfigMap("config", format!("{}-config", meta.app)));
    }
    let mut containers = vec![runner];
    if rng.percent(20) {
        let mut sidecar = Container {
            name: "log-forwarder",
            image: digest_image(rng, "log-forwarder"),
            command: None,
            sc: Some(hardened_sc()),
            env: vec![Env::Value("OUTPUT", "stdout".to_string())],
            requests: None,
            limits: None,
            ports: Vec::new(),
            mounts: vec![("tmp", "/tmp", false)],
            probes: false,
        };
        bounded_resources(rng, &mut sidecar);
        containers.push(sidecar);
    }
    let mut init = Vec::new();
    if rng.percent(25) {
        let mut fetch = Container {
            name: "fetch-workspace",
            image: digest_image(rng, "git-fetch"),
            command: Some(vec!["git-fetch", "--into", "/workspace"]),
            sc: Some(hardened_sc()),
            env: vec![Env::Value("GIT_REF", "refs/heads/main".to_string())],
            requests: None,
            limits: None,
            ports: Vec::new(),
            mounts: vec![("workspace", "/workspace", false)],
            probes: false,
        };
        bounded_resources(rng, &mut fetch);
        init.push(fetch);
    }
    let uid = rng.pick(&[1000, 1001, 10001, 65532]);
    PodSpec {
        runtime_class: Some("gvisor"),
        restart_policy: Some("Never"),
        deadline: Some(rng.pick(&[600, 900, 1800, 3600])),
        service_account: Some(if rng.percent(50) {
            "workflow-runner".to_string()
        } else {
            format!("team-{:02}-runner", meta.team)
        }),
        automount: Some(false),
        host_network: false,
        host_pid: false,
        host_ipc: false,
        sc: Some(PodSc {
            run_as_non_root: Some(true),
            non_root_typo: false,
            run_as_user: Some(uid),
            run_as_group: Some(uid),
            fs_group: Some(uid),
            seccomp: Some("RuntimeDefault"),
        }),
        affinity: true,
        toleration: true,
        node_selector: false,
        init,
        containers,
        volumes,
    }
}

/// An application manifest written without the checklist in mind.
fn naive_pod(rng: &mut Rng, kind: Kind) -> PodSpec {
    let image = rng
        .pick(&[
            "nginx:1.25",
            "nginx:latest",
            "nginx",
            "redis:7.2-alpine",
            "python:3.12-slim",
            "ghcr.io/acme/api:v2.3.1",
            "busybox",
            "node:20",
            "gcr.io/plue-prod/runner:latest",
        ])
        .to_string();
    let port = rng.pick(&[80, 8080, 3000, 6379, 9090]);
    let mut c = Container {
        name: rng.pick(&["app", "web", "worker", "main"]),
        image,
        command: None,
        sc: None,
        env: vec![Env::Value("PORT", format!("\"{port}\""))],
        requests: None,
        limits: None,
        ports: vec![(port, None)],
        mounts: Vec::new(),
        probes: rng.percent(50),
    };
    if rng.percent(50) {
        c.requests = Some(("100m", "128Mi"));
    }
    if rng.percent(25) {
        c.limits = Some(Limits {
            cpu: "500m",
            memory: "512Mi",
            ephemeral: None,
        });
    }
    let mut volumes = Vec::new();
    if rng.percent(30) {
        c.mounts.push(("data", "/data", false));
        volumes.push(Volume::EmptyDir {
            name: "data",
            size: None,
            memory: false,
        });
    }
    let restart_policy = match kind {
        Kind::Job | Kind::CronJob => Some(rng.pick(&["OnFailure", "Never"])),
        _ if rng.percent(50) => Some("Always"),
        _ => None,
    };
    PodSpec {
        runtime_class: None,
        restart_policy,
        deadline: None,
        service_account: None,
        automount: None,
        host_network: false,
        host_pid: false,
        host_ipc: false,
        sc: None,
        affinity: false,
        toleration: false,
        node_selector: rng.percent(30),
        init: Vec::new(),
        containers: vec![c],
        volumes,
    }
}

/// Breaks one thing in a pod spec, the way manifests drift in practice.
fn flaw(rng: &mut Rng, p: &mut PodSpec) {
    let c = &mut p.containers[0];
    match rng.below(31) {
        0 => p.runtime_class = None,
        1 => p.runtime_class = Some(rng.pick(&["runc", "kata", "gvisor-debug"])),
        2 => {
            if let Some(sc) = &mut p.sc {
                sc.run_as_user = Some(0);
                sc.run_as_non_root = Some(false);
            }
        }
        3 => p.sc = None,
        4 => {
            if let Some(sc) = &mut p.sc {
                sc.seccomp = None;
            }
        }
        5 => {
            if let Some(sc) = &mut p.sc {
                sc.seccomp = Some("Unconfined");
            }
        }
        6 => {
            if let Some(sc) = &mut c.sc {
                sc.allow_privilege_escalation = Some(true);
            }
        }
        7 => {
            if let Some(sc) = &mut c.sc {
                sc.privileged = Some(true);
            }
        }
        8 => {
            if let Some(sc) = &mut c.sc {
                sc.drop_all = false;
            }
        }
        9 => {
            if let Some(sc) = &mut c.sc {
                sc.add = rng
                    .pick(&[
                        &["NET_ADMIN"][..],
                        &["SYS_ADMIN"][..],
                        &["SYS_PTRACE", "NET_RAW"][..],
                    ])
                    .to_vec();
            }
        }
        10 => {
            if let Some(sc) = &mut c.sc {
                sc.read_only_root = if rng.percent(50) {
                    ReadOnlyRoot::False
                } else {
                    ReadOnlyRoot::Missing
                };
            }
        }
        11 => {
            if let Some(sc) = &mut c.sc {
                sc.read_only_root = ReadOnlyRoot::Typo;
            }
        }
        12 => {
            if let Some(sc) = &mut p.sc {
                sc.non_root_typo = true;
            }
        }
        13 => {
            // Unset mounts the token unless the ServiceAccount opts out: the
            // context's do, so an unset pod names one that does not exist there.
            if rng.percent(50) {
                p.automount = Some(true);
            } else {
                p.automount = None;
                p.service_account = Some("legacy-default".to_string());
            }
        }
        14 => match rng.below(3) {
            0 => p.host_network = true,
            1 => p.host_pid = true,
            _ => p.host_ipc = true,
        },
        15 => c.ports.push((8080, Some(8080))),
        16 => {
            c.mounts
                .push(("docker-sock", "/var/run/docker.sock", false));
            p.volumes
                .push(Volume::HostPath("docker-sock", "/var/run/docker.sock"));
        }
        17 => {
            if let Some(Volume::EmptyDir { size, .. }) = p.volumes.first_mut() {
                *size = None;
            }
        }
        18 => {
            if let Some(Volume::EmptyDir { size, .. }) = p.volumes.first_mut() {
                *size = Some("50Gi");
            }
        }
        19 => {
            c.mounts.push(("cache", "/home/runner/.cache", false));
            p.volumes.push(Volume::EmptyDir {
                name: "cache",
                size: Some("1Gi"),
                memory: false,
            });
        }
        20 => {
            c.mounts
                .push(("credentials", "/var/run/secrets/workflow", true));
            p.volumes
                .push(Volume::Secret("credentials", "workflow-secrets"));
        }
        21 => {
            let repo = c.image.split(':').next().unwrap_or_default().to_string();
            c.image = format!("{repo}:latest");
        }
        22 => {
            let bare = c.image.split('@').next().unwrap_or_default().to_string();
            c.image = bare;
        }
        // Requests alone default to the limits, so drop the whole block.
        23 => {
            c.requests = None;
            c.limits = None;
        }
        24 => c.limits = None,
        25 => {
            if let Some(l) = &mut c.limits {
                l.cpu = "8";
                l.memory = "16Gi";
            }
        }
        26 => {
            if let Some(l) = &mut c.limits {
                l.ephemeral = None;
            }
        }
        27 => p.deadline = if rng.percent(50) { None } else { Some(86_400) },
        28 => {
            p.restart_policy = if rng.percent(50) {
                Some("OnFailure")
            } else {
                None
            }
        }
        29 => p.affinity = false,
        _ => p.toleration = false,
    }
}

// ---------------------------------------------------------------------------
// YAML writing.

/// A line writer; `item()` makes the next line start a block sequence entry.
#[derive(Default)]
struct W {
    out: String,
    dash: bool,
}

impl W {
    fn raw(&mut self, s: &str) {
        self.out.push_str(s);
    }

    /// Writes `text` at `indent` spaces (or `- ` two columns left after `item()`).
    fn line(&mut self, indent: usize, text: &str) {
        if self.dash {
            self.dash = false;
            self.pad(indent.saturating_sub(2));
            self.out.push_str("- ");
        } else {
            self.pad(indent);
        }
        self.out.push_str(text);
        self.out.push('\n');
    }

    fn item(&mut self) {
        self.dash = true;
    }

    fn pad(&mut self, n: usize) {
        self.out.extend(std::iter::repeat_n(' ', n));
    }
}

fn header(w: &mut W, kind: Kind, meta: &Meta, rng: &mut Rng) {
    w.line(0, &format!("apiVersion: {}", kind.api_version()));
    w.line(0, &format!("kind: {}", kind.name()));
    w.line(0, "metadata:");
    w.line(2, &format!("name: {}", meta.name));
    w.line(2, &format!("namespace: {}", meta.namespace));
    w.line(2, "labels:");
    w.line(4, &format!("app: {}", meta.app));
    w.line(4, &format!("team: team-{:02}", meta.team));
    if rng.percent(40) {
        w.line(4, "app.kubernetes.io/managed-by: Helm");
        w.line(
            4,
            &format!(
                "app.kubernetes.io/version: \"{}.{}\"",
                rng.range(1, 4),
                rng.range(0, 9)
            ),
        );
    }
    if rng.percent(25) {
        w.line(2, "annotations:");
        w.line(4, &format!("owner: team-{:02}@plue.dev", meta.team));
        w.line(4, "description: >-");
        w.line(6, "Generated for the sandbox-lint benchmark; the text");
        w.line(6, "is folded into a single line by the parser.");
    }
}

fn labels_block(w: &mut W, indent: usize, meta: &Meta) {
    w.line(indent, "labels:");
    w.line(indent + 2, &format!("app: {}", meta.app));
    w.line(indent + 2, "workload: runner");
}

fn workload(rng: &mut Rng, w: &mut W, kind: Kind, meta: &Meta, pod: &PodSpec, job: &JobOpts) {
    header(w, kind, meta, rng);
    w.line(0, "spec:");
    let selector = |w: &mut W| {
        w.line(2, "selector:");
        w.line(4, "matchLabels:");
        w.line(6, &format!("app: {}", meta.app));
        w.line(6, "workload: runner");
    };
    let job_spec = |w: &mut W, ind: usize, rng: &mut Rng| {
        if let Some(b) = job.backoff_limit {
            w.line(ind, &format!("backoffLimit: {b}"));
        }
        w.line(
            ind,
            &format!("ttlSecondsAfterFinished: {}", rng.pick(&[300, 600, 3600])),
        );
        if let Some(d) = job.deadline {
            w.line(ind, &format!("activeDeadlineSeconds: {d}"));
        }
        w.line(ind, "template:");
        w.line(ind + 2, "metadata:");
        labels_block(w, ind + 4, meta);
        w.line(ind + 2, "spec:");
    };
    let ind = match kind {
        Kind::Pod => 2,
        Kind::Deployment | Kind::ReplicaSet | Kind::StatefulSet | Kind::DaemonSet => {
            if kind != Kind::DaemonSet {
                w.line(2, &format!("replicas: {}", rng.range(1, 5)));
            }
            if kind == Kind::StatefulSet {
                w.line(2, &format!("serviceName: {}", meta.app));
            }
            selector(w);
            if kind == Kind::Deployment {
                w.line(2, "strategy:");
                w.line(4, "type: RollingUpdate");
                w.line(4, "rollingUpdate: {maxSurge: 1, maxUnavailable: 0}");
            }
            w.line(2, "template:");
            w.line(4, "metadata:");
            labels_block(w, 6, meta);
            w.line(4, "spec:");
            6
        }
        Kind::Job => {
            job_spec(w, 2, rng);
            6
        }
        Kind::CronJob => {
            w.line(
                2,
                &format!("schedule: \"*/{} * * * *\"", rng.pick(&[5, 10, 15, 30])),
            );
            w.line(2, "concurrencyPolicy: Forbid");
            w.line(2, "successfulJobsHistoryLimit: 3");
            w.line(2, "failedJobsHistoryLimit: 1");
            w.line(2, "jobTemplate:");
            w.line(4, "spec:");
            job_spec(w, 6, rng);
            10
        }
        _ => unreachable!("not a workload: {kind:?}"),
    };
    pod_spec(w, ind, pod);
    if kind == Kind::StatefulSet {
        w.line(2, "volumeClaimTemplates:");
        w.item();
        w.line(4, "metadata: {name: state}");
        w.line(4, "spec:");
        w.line(6, "accessModes: [ReadWriteOnce]");
        w.line(6, "resources: {requests: {storage: 10Gi}}");
    }
}

fn pod_spec(w: &mut W, i: usize, p: &PodSpec) {
    if let Some(rc) = p.runtime_class {
        w.line(i, &format!("runtimeClassName: {rc}"));
    }
    if let Some(rp) = p.restart_policy {
        w.line(i, &format!("restartPolicy: {rp}"));
    }
    if let Some(d) = p.deadline {
        w.line(i, &format!("activeDeadlineSeconds: {d}"));
    }
    if let Some(sa) = &p.service_account {
        w.line(i, &format!("serviceAccountName: {sa}"));
    }
    if let Some(a) = p.automount {
        w.line(i, &format!("automountServiceAccountToken: {a}"));
    }
    for (on, key) in [
        (p.host_network, "hostNetwork"),
        (p.host_pid, "hostPID"),
        (p.host_ipc, "hostIPC"),
    ] {
        if on {
            w.line(i, &format!("{key}: true"));
        }
    }
    if let Some(sc) = &p.sc {
        w.line(i, "securityContext:");
        if let Some(v) = sc.run_as_non_root {
            let key = if sc.non_root_typo {
                "runAsNonroot"
            } else {
                "runAsNonRoot"
            };
            w.line(i + 2, &format!("{key}: {v}"));
        }
        for (key, v) in [
            ("runAsUser", sc.run_as_user),
            ("runAsGroup", sc.run_as_group),
            ("fsGroup", sc.fs_group),
        ] {
            if let Some(v) = v {
                w.line(i + 2, &format!("{key}: {v}"));
            }
        }
        if let Some(t) = sc.seccomp {
            w.line(i + 2, "seccompProfile:");
            w.line(i + 4, &format!("type: {t}"));
        }
    }
    if p.node_selector {
        w.line(i, "nodeSelector:");
        w.line(i + 2, "kubernetes.io/os: linux");
    }
    if p.affinity {
        w.line(i, "affinity:");
        w.line(i + 2, "nodeAffinity:");
        w.line(i + 4, "requiredDuringSchedulingIgnoredDuringExecution:");
        w.line(i + 6, "nodeSelectorTerms:");
        w.item();
        w.line(i + 8, "matchExpressions:");
        w.item();
        w.line(i + 10, "key: workload-type");
        w.line(i + 10, "operator: In");
        w.line(i + 10, "values:");
        w.item();
        w.line(i + 12, "workflow-runner");
    }
    if p.toleration {
        w.line(i, "tolerations:");
        w.item();
        w.line(i + 2, "key: sandbox.gke.io/runtime");
        w.line(i + 2, "operator: Equal");
        w.line(i + 2, "value: gvisor");
        w.line(i + 2, "effect: NoSchedule");
    }
    if !p.init.is_empty() {
        w.line(i, "initContainers:");
        for c in &p.init {
            container(w, i + 2, c);
        }
    }
    w.line(i, "containers:");
    for c in &p.containers {
        container(w, i + 2, c);
    }
    if !p.volumes.is_empty() {
        w.line(i, "volumes:");
        for v in &p.volumes {
            w.item();
            match v {
                Volume::EmptyDir { name, size, memory } => {
                    w.line(i + 2, &format!("name: {name}"));
                    if size.is_none() && !memory {
                        w.line(i + 2, "emptyDir: {}");
                    } else {
                        w.line(i + 2, "emptyDir:");
                        if *memory {
                            w.line(i + 4, "medium: Memory");
                        }
                        if let Some(s) = size {
                            w.line(i + 4, &format!("sizeLimit: {s}"));
                        }
                    }
                }
                Volume::HostPath(name, path) => {
                    w.line(i + 2, &format!("name: {name}"));
                    w.line(i + 2, "hostPath:");
                    w.line(i + 4, &format!("path: {path}"));
                    w.line(i + 4, "type: Socket");
                }
                Volume::Secret(name, secret) => {
                    w.line(i + 2, &format!("name: {name}"));
                    w.line(i + 2, "secret:");
                    w.line(i + 4, &format!("secretName: {secret}"));
                }
                Volume::ConfigMap(name, cm) => {
                    w.line(i + 2, &format!("name: {name}"));
                    w.line(i + 2, "configMap:");
                    w.line(i + 4, &format!("name: {cm}"));
                }
            }
        }
    }
}

/// Writes one container as a block sequence entry whose content sits at `i`.
fn container(w: &mut W, i: usize, c: &Container) {
    w.item();
    w.line(i, &format!("name: {}", c.name));
    w.line(i, &format!("image: {}", c.image));
    if let Some(cmd) = &c.command {
        let quoted: Vec<String> = cmd.iter().map(|a| format!("\"{a}\"")).collect();
        w.line(i, &format!("command: [{}]", quoted.join(", ")));
    }
    if !c.ports.is_empty() {
        w.line(i, "ports:");
        for (port, host) in &c.ports {
            w.item();
            w.line(i + 2, &format!("containerPort: {port}"));
            if let Some(h) = host {
                w.line(i + 2, &format!("hostPort: {h}"));
            }
            w.line(i + 2, "protocol: TCP");
        }
    }
    if let Some(sc) = &c.sc {
        w.line(i, "securityContext:");
        if let Some(v) = sc.allow_privilege_escalation {
            w.line(i + 2, &format!("allowPrivilegeEscalation: {v}"));
        }
        if let Some(v) = sc.privileged {
            w.line(i + 2, &format!("privileged: {v}"));
        }
        match sc.read_only_root {
            ReadOnlyRoot::True => w.line(i + 2, "readOnlyRootFilesystem: true"),
            ReadOnlyRoot::False => w.line(i + 2, "readOnlyRootFilesystem: false"),
            ReadOnlyRoot::Typo => w.line(i + 2, "readOnlyRootFileSystem: true"),
            ReadOnlyRoot::Missing => {}
        }
        if sc.drop_all || !sc.add.is_empty() {
            w.line(i + 2, "capabilities:");
            if sc.drop_all {
                w.line(i + 4, "drop: [\"ALL\"]");
            }
            if !sc.add.is_empty() {
                w.line(i + 4, "add:");
                for cap in &sc.add {
                    w.item();
                    w.line(i + 6, cap);
                }
            }
        }
    }
    if !c.env.is_empty() {
        w.line(i, "env:");
        for e in &c.env {
            w.item();
            match e {
                Env::Value(k, v) => {
                    w.line(i + 2, &format!("name: {k}"));
                    w.line(i + 2, &format!("value: {v}"));
                }
                Env::Secret(k, secret, key) => {
                    w.line(i + 2, &format!("name: {k}"));
                    w.line(i + 2, "valueFrom:");
                    w.line(i + 4, "secretKeyRef:");
                    w.line(i + 6, &format!("name: {secret}"));
                    w.line(i + 6, &format!("key: {key}"));
                }
                Env::Field(k, path) => {
                    w.line(i + 2, &format!("name: {k}"));
                    w.line(i + 2, "valueFrom:");
                    w.line(i + 4, &format!("fieldRef: {{fieldPath: {path}}}"));
                }
            }
        }
    }
    if c.requests.is_some() || c.limits.is_some() {
        w.line(i, "resources:");
        if let Some((cpu, mem)) = c.requests {
            w.line(i + 2, "requests:");
            w.line(i + 4, &format!("cpu: {cpu}"));
            w.line(i + 4, &format!("memory: {mem}"));
        }
        if let Some(l) = &c.limits {
            w.line(i + 2, "limits:");
            w.line(i + 4, &format!("cpu: \"{}\"", l.cpu));
            w.line(i + 4, &format!("memory: {}", l.memory));
            if let Some(e) = l.ephemeral {
                w.line(i + 4, &format!("ephemeral-storage: {e}"));
            }
        }
    }
    if c.probes {
        for probe in ["livenessProbe", "readinessProbe"] {
            w.line(i, &format!("{probe}:"));
            w.line(i + 2, "httpGet:");
            w.line(i + 4, "path: /healthz");
            w.line(i + 4, "port: http");
            w.line(i + 2, "initialDelaySeconds: 5");
            w.line(i + 2, "periodSeconds: 10");
        }
    }
    if !c.mounts.is_empty() {
        w.line(i, "volumeMounts:");
        for (name, path, ro) in &c.mounts {
            w.item();
            w.line(i + 2, &format!("name: {name}"));
            w.line(i + 2, &format!("mountPath: {path}"));
            if *ro {
                w.line(i + 2, "readOnly: true");
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Kinds no rule judges.

fn service_account(rng: &mut Rng, w: &mut W, meta: &Meta) {
    header(w, Kind::ServiceAccount, meta, rng);
    w.line(0, "automountServiceAccountToken: false");
}

fn network_policy(rng: &mut Rng, w: &mut W, meta: &Meta) {
    header(w, Kind::NetworkPolicy, meta, rng);
    w.line(0, "spec:");
    w.line(2, "podSelector:");
    w.line(4, "matchLabels:");
    w.line(6, &format!("app: {}", meta.app));
    w.line(2, "policyTypes:");
    w.line(2, "- Ingress");
    w.line(2, "- Egress");
    w.line(2, "ingress: []");
    w.line(2, "egress:");
    w.line(2, "# Allow DNS resolution");
    w.item();
    w.line(4, "to:");
    w.item();
    w.line(6, "namespaceSelector: {}");
    w.line(6, "podSelector:");
    w.line(8, "matchLabels:");
    w.line(10, "k8s-app: kube-dns");
    w.line(4, "ports:");
    w.item();
    w.line(6, "port: 53");
    w.line(6, "protocol: UDP");
    for port in [443, 4000].iter().take(rng.range(1, 2)) {
        w.item();
        w.line(4, "to:");
        w.item();
        w.line(6, "podSelector: {}");
        w.line(4, "ports:");
        w.item();
        w.line(6, &format!("port: {port}"));
        w.line(6, "protocol: TCP");
    }
}

fn config_map(rng: &mut Rng, w: &mut W, meta: &Meta) {
    header(w, Kind::ConfigMap, meta, rng);
    w.line(0, "data:");
    w.line(
        2,
        &format!("LOG_LEVEL: {}", rng.pick(&["debug", "info", "warn"])),
    );
    w.line(2, &format!("MAX_PARALLEL: \"{}\"", rng.range(1, 16)));
    w.line(2, "runner.yaml: |");
    w.line(4, "# Runner settings, read at start-up.");
    w.line(4, "workspace: /workspace");
    w.line(
        4,
        &format!("timeoutSeconds: {}", rng.pick(&[600, 1800, 3600])),
    );
    w.line(4, "allowedHosts:");
    for host in ["api.anthropic.com", "api.plue.dev", "github.com"]
        .iter()
        .take(rng.range(1, 3))
    {
        w.line(4, &format!("  - {host}"));
    }
    if rng.percent(50) {
        w.line(2, "entrypoint.sh: |-");
        w.line(4, "#!/bin/sh");
        w.line(4, "set -eu");
        w.line(
            4,
            "exec /usr/local/bin/runner --workspace \"$WORKSPACE\" \"$@\"",
        );
    }
}

fn service(rng: &mut Rng, w: &mut W, meta: &Meta) {
    header(w, Kind::Service, meta, rng);
    w.line(0, "spec:");
    w.line(
        2,
        &format!(
            "type: {}",
            rng.pick(&["ClusterIP", "ClusterIP", "NodePort"])
        ),
    );
    w.line(2, "selector:");
    w.line(4, &format!("app: {}", meta.app));
    w.line(2, "ports:");
    w.item();
    w.line(4, "name: http");
    w.line(4, "port: 80");
    w.line(4, &format!("targetPort: {}", rng.pick(&[8080, 3000, 9090])));
    w.line(4, "protocol: TCP");
}
