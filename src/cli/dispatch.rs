//! `sandbox-lint dispatch`: run untrusted code in a pod that is compliant by
//! construction and verified by the engine before launch.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use miette::IntoDiagnostic;
use tokio_util::sync::CancellationToken;

use crate::dispatch::pod::{Bounds, RunRequest, build_pod};
use crate::dispatch::{self, kube as kube_backend};

#[derive(Debug, clap::Subcommand)]
pub enum DispatchCommand {
    /// Run one request and exit with the workload's exit code.
    Run(RunArgs),
    /// Run many requests with a concurrency limit and print a summary.
    Batch(BatchArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Backend {
    /// A Kubernetes cluster (kubeconfig or in-cluster).
    Kube,
    /// This machine, in gVisor (`runsc`, as root): the same pod as an OCI bundle.
    Gvisor,
}

#[derive(Debug, clap::Args)]
pub struct Common {
    /// Policy whose parameters give the defaults and bounds (default: built-in).
    #[arg(short, long = "policy", value_name = "POLICY")]
    pub policies: Vec<String>,
    /// Where the pod runs.
    #[arg(long, value_enum, default_value = "kube")]
    pub backend: Backend,
    /// Leave the pod and its ConfigMap in place afterwards.
    #[arg(long)]
    pub keep: bool,
    /// Print the verified pod as JSON and stop (nothing is launched).
    #[arg(long)]
    pub print_pod: bool,
    /// gvisor backend: root filesystem for the workload (default: the host's, read-only).
    #[arg(long, value_name = "DIR")]
    pub rootfs: Option<PathBuf>,
    /// gvisor backend: a Secret key's value, read from a file (`NAME/KEY=PATH`;
    /// never the value itself on the command line). Repeatable.
    #[arg(long = "secret-file", value_name = "NAME/KEY=PATH")]
    pub secret_files: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// A run request file (YAML or JSON); flags override its fields.
    pub request: Option<PathBuf>,
    #[command(flatten)]
    pub common: Common,
    /// Container image, pinned by tag or digest (`latest` is refused).
    #[arg(long, value_name = "IMAGE")]
    pub image: Option<String>,
    /// Directory whose files are placed read-only at /work.
    #[arg(long, value_name = "DIR")]
    pub workspace: Option<PathBuf>,
    /// Namespace of the pod (default: workflows).
    #[arg(long, value_name = "NAME")]
    pub namespace: Option<String>,
    /// CPU, request = limit, e.g. 500m (default and maximum: the policy's).
    #[arg(long, value_name = "QUANTITY")]
    pub cpu: Option<String>,
    /// Memory, request = limit, e.g. 512Mi (default and maximum: the policy's).
    #[arg(long, value_name = "QUANTITY")]
    pub memory: Option<String>,
    /// Ephemeral storage, e.g. 1Gi (default and maximum: the policy's).
    #[arg(long, value_name = "QUANTITY")]
    pub ephemeral_storage: Option<String>,
    /// Seconds the run may take.
    #[arg(long, value_name = "SECS")]
    pub deadline: Option<i64>,
    /// Command and arguments (after `--`).
    #[arg(last = true)]
    pub command: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct BatchArgs {
    /// Run request files.
    #[arg(required = true)]
    pub requests: Vec<PathBuf>,
    #[command(flatten)]
    pub common: Common,
    /// Runs at once (1 to 4096).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=4096))]
    pub concurrency: u16,
}

fn load_request(path: &Path) -> miette::Result<RunRequest> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| miette::miette!("cannot read {}: {e}", path.display()))?;
    let mut req: RunRequest = serde_saphyr::from_str(&text)
        .map_err(|e| miette::miette!("{}: not a run request: {e}", path.display()))?;
    // Relative paths in a request file are relative to the file.
    let base = path.parent().unwrap_or(Path::new("."));
    if let Some(w) = req.workspace.as_mut().filter(|w| w.is_relative()) {
        *w = base.join(&*w);
    }
    for p in req.files.values_mut().filter(|p| p.is_relative()) {
        *p = base.join(&*p);
    }
    Ok(req)
}

/// The files a request places at /work, read by the one reader both backends
/// share ([`dispatch::workspace::read_request`]: no links, no special files,
/// no system directory, bounded).
pub fn workspace_files(req: &RunRequest) -> miette::Result<BTreeMap<String, Vec<u8>>> {
    dispatch::workspace::read_request(req).map_err(|e| miette::miette!("{e}"))
}

pub fn run(cmd: DispatchCommand) -> miette::Result<ExitCode> {
    match cmd {
        DispatchCommand::Run(args) => run_one(args),
        DispatchCommand::Batch(args) => batch(args),
    }
}

fn run_one(args: RunArgs) -> miette::Result<ExitCode> {
    let mut req = match &args.request {
        Some(p) => load_request(p)?,
        None => RunRequest::default(),
    };
    if let Some(v) = args.image {
        req.image = v;
    }
    if let Some(v) = args.workspace {
        req.workspace = Some(v);
    }
    if let Some(v) = args.namespace {
        req.namespace = Some(v);
    }
    if let Some(v) = args.cpu {
        req.resources.cpu = Some(v);
    }
    if let Some(v) = args.memory {
        req.resources.memory = Some(v);
    }
    if let Some(v) = args.ephemeral_storage {
        req.resources.ephemeral_storage = Some(v);
    }
    if let Some(v) = args.deadline {
        req.deadline_seconds = Some(v);
    }
    if !args.command.is_empty() {
        req.command = args.command;
    }
    let launcher = Arc::new(Launcher::new(args.common)?);
    let runtime = runtime()?;
    let ended = runtime.block_on(async {
        on_ctrl_c(launcher.cancel.clone(), None)?;
        launcher.launch(&req, None).await
    })?;
    Ok(ended.exit_code())
}

/// How a launched run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ended {
    /// The workload's exit code, or [`DEADLINE_EXIT`] when it was stopped at
    /// its deadline ([`Ended::of`]).
    Exit(i32),
    /// Stopped by Ctrl-C; cleaned up.
    Interrupted,
}

/// The exit code of a run stopped at its deadline, whatever the backend and
/// whatever the workload's own status (the kubelet or runsc kill it, 137, or it
/// never reports one): 124, as `timeout(1)` exits.
const DEADLINE_EXIT: i32 = 124;

impl Ended {
    /// How a run that was not interrupted ended: [`DEADLINE_EXIT`] when it
    /// was stopped at its deadline, else the workload's exit code (1 when it
    /// has none).
    fn of(deadline_exceeded: bool, exit_code: Option<i32>) -> Ended {
        Ended::Exit(if deadline_exceeded {
            DEADLINE_EXIT
        } else {
            exit_code.unwrap_or(1)
        })
    }

    /// The process exit code: the workload's, or 130 (128 + SIGINT, as shells
    /// report an interrupted command).
    fn exit_code(self) -> ExitCode {
        match self {
            Ended::Exit(code) => ExitCode::from(u8::try_from(code.clamp(0, 255)).unwrap_or(1)),
            Ended::Interrupted => ExitCode::from(130),
        }
    }
}

/// On the first Ctrl-C: cancel (runs stop and clean up; `semaphore`, when
/// given, is closed so that nothing new starts). On the second: exit now.
/// The handler is installed before this returns, so before anything is
/// created.
fn on_ctrl_c(
    cancel: CancellationToken,
    semaphore: Option<Arc<tokio::sync::Semaphore>>,
) -> miette::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut sigint = signal(SignalKind::interrupt())
        .map_err(|e| miette::miette!("cannot handle Ctrl-C: {e}"))?;
    tokio::spawn(async move {
        if sigint.recv().await.is_none() {
            return;
        }
        eprintln!("interrupted: stopping and cleaning up (Ctrl-C again to exit at once)");
        cancel.cancel();
        if let Some(s) = semaphore {
            s.close();
        }
        if sigint.recv().await.is_some() {
            std::process::exit(130);
        }
    });
    Ok(())
}

/// What every run of one command shares: the policy, the bounds it sets,
/// the options, the Ctrl-C token and, in a batch, each warning with the
/// requests it was found in.
struct Launcher {
    linter: crate::linter::Linter,
    bounds: Bounds,
    common: Common,
    cancel: CancellationToken,
    seen: std::sync::Mutex<BTreeMap<String, Vec<String>>>,
}

/// The "cannot verify" findings about the cluster objects around the pod: its
/// NetworkPolicy (SL3001), ServiceAccount (SL3006) and RuntimeClass (SL3008).
/// None of them exists for the local gVisor backend.
fn not_for_local(f: &crate::finding::Finding) -> bool {
    matches!(f.code, "SL3001" | "SL3006" | "SL3008") && f.message.starts_with("cannot verify")
}

/// What the local gVisor backend guarantees instead of those objects.
const LOCAL_INSTEAD: &str = "note: no NetworkPolicy, ServiceAccount or RuntimeClass applies to the \
local gVisor backend (SL3001, SL3006, SL3008 are not checked): the sandbox has no network at all \
(runsc --network=none), no Kubernetes API and no ServiceAccount token, and runs in runsc itself";

impl Launcher {
    fn new(common: Common) -> miette::Result<Launcher> {
        let linter = super::check::load_policies(&common.policies)?;
        Ok(Launcher {
            bounds: Bounds::from_linter(&linter),
            linter,
            common,
            cancel: CancellationToken::new(),
            seen: Default::default(),
        })
    }

    /// Builds, verifies and (unless `print_pod`) runs one request.
    async fn launch(
        self: &Arc<Self>,
        req: &RunRequest,
        label: Option<String>,
    ) -> miette::Result<Ended> {
        let pod = build_pod(req, &self.bounds, &dispatch::suffix())
            .map_err(|e| miette::miette!("{e}"))?;
        let warnings = dispatch::verify(&self.linter, &pod).map_err(|e| miette::miette!("{e}"))?;
        let prefix = label.as_ref().map(|l| format!("{l}: ")).unwrap_or_default();
        let local = self.common.backend == Backend::Gvisor;
        let mut lines: Vec<String> = Vec::new();
        if local && warnings.iter().any(not_for_local) {
            lines.push(LOCAL_INSTEAD.to_string());
        }
        lines.extend(
            warnings
                .iter()
                .filter(|f| !(local && not_for_local(f)))
                .map(|f| format!("warning: {} {}", f.code, f.message)),
        );
        match &label {
            // One run: its warnings, now.
            None => lines.iter().for_each(|l| eprintln!("{l}")),
            // A batch: each warning once, with every request it applies to,
            // when the batch ends ([`Launcher::print_warnings`]).
            Some(l) => {
                if let Ok(mut seen) = self.seen.lock() {
                    for line in lines {
                        seen.entry(line).or_default().push(l.clone());
                    }
                }
            }
        }
        if self.common.print_pod {
            use std::io::Write as _;
            // A closed pipe (`| head`) is not an error worth a panic.
            let _ = writeln!(
                std::io::stdout(),
                "{}",
                serde_json::to_string_pretty(&pod).into_diagnostic()?
            );
            return Ok(Ended::Exit(0));
        }
        let files = workspace_files(req)?;
        match self.common.backend {
            // runsc is waited for by polling: off the async workers.
            Backend::Gvisor => {
                let this = self.clone();
                tokio::task::spawn_blocking(move || this.run_local(pod, &files, &prefix))
                    .await
                    .map_err(|e| miette::miette!("the local run failed: {e}"))?
            }
            Backend::Kube => {
                let client = ::kube::Client::try_default()
                    .await
                    .map_err(|e| miette::miette!("cannot reach the Kubernetes API: {e}"))?;
                let opts = kube_backend::KubeOptions {
                    keep: self.common.keep,
                    stream_logs: label.is_none(),
                    cancel: self.cancel.clone(),
                    ..Default::default()
                };
                let outcome = kube_backend::run(client, pod, &files, &opts)
                    .await
                    .map_err(|e| miette::miette!("{e}"))?;
                eprintln!(
                    "{prefix}pod {}/{}: {} (exit code {})",
                    outcome.namespace,
                    outcome.pod,
                    outcome.reason,
                    outcome
                        .exit_code
                        .map_or_else(|| "none".to_string(), |c| c.to_string())
                );
                Ok(if outcome.reason == kube_backend::INTERRUPTED {
                    Ended::Interrupted
                } else {
                    Ended::of(outcome.reason == "DeadlineExceeded", outcome.exit_code)
                })
            }
        }
    }

    /// Runs the pod in gVisor on this machine; the workload's exit code.
    fn run_local(
        &self,
        pod: k8s_openapi::api::core::v1::Pod,
        files: &BTreeMap<String, Vec<u8>>,
        prefix: &str,
    ) -> miette::Result<Ended> {
        let common = &self.common;
        use crate::dispatch::gvisor;
        use std::io::Write as _;
        let work = std::env::temp_dir().join(format!("sandbox-lint-work-{}", dispatch::suffix()));
        // A new directory of this run's own (never one that already exists,
        // nor anything reached through a link), then new files in it.
        use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
        std::fs::DirBuilder::new()
            .mode(0o755)
            .create(&work)
            .map_err(|e| miette::miette!("creating {}: {e}", work.display()))?;
        let result = (|| {
            for (rel, bytes) in files {
                let path = work.join(rel);
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent).into_diagnostic()?;
                }
                std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .custom_flags(nix::libc::O_NOFOLLOW)
                    .mode(0o644)
                    .open(&path)
                    .and_then(|mut f| f.write_all(bytes))
                    .map_err(|e| miette::miette!("writing {}: {e}", path.display()))?;
            }
            let mut local = gvisor::LocalRun::new(pod, &work);
            // The runtime class the policy allows (and the pod was built with).
            local.runtime_class = self.bounds.runtime_class.clone();
            local.rootfs = common.rootfs.clone();
            local.cancel = Some(self.cancel.clone());
            for s in &common.secret_files {
                let (key, path) = s
                    .split_once('=')
                    .ok_or_else(|| miette::miette!("--secret-file {s}: expected NAME/KEY=PATH"))?;
                let (name, key) = key
                    .split_once('/')
                    .ok_or_else(|| miette::miette!("--secret-file {s}: expected NAME/KEY=PATH"))?;
                let value = std::fs::read_to_string(path)
                    .map_err(|e| miette::miette!("--secret-file {s}: {e}"))?;
                local = local.secret(name, key, value.trim_end_matches('\n'));
            }
            let r = gvisor::run(&local).map_err(|e| miette::miette!("{e}"))?;
            let _ = std::io::stdout().write_all(&r.stdout);
            let _ = std::io::stderr().write_all(&r.stderr);
            eprintln!(
                "{prefix}gvisor {}: {} (exit code {}) in {:.1} s",
                r.id,
                r.reason,
                r.exit_code
                    .map_or_else(|| "none".to_string(), |c| c.to_string()),
                r.duration.as_secs_f64()
            );
            Ok(if r.reason == gvisor::Reason::Interrupted {
                Ended::Interrupted
            } else {
                Ended::of(r.reason == gvisor::Reason::DeadlineExceeded, r.exit_code)
            })
        })();
        let _ = std::fs::remove_dir_all(&work);
        result
    }
}

impl Launcher {
    /// A batch's warnings, each once: `warning: ...` labelled with the one
    /// request it was found in, or followed by how many runs share it and
    /// which (in the order given, at most three named).
    fn print_warnings(&self, order: &[String]) {
        let Ok(seen) = self.seen.lock() else { return };
        let position = |l: &String| order.iter().position(|o| o == l).unwrap_or(usize::MAX);
        let mut entries: Vec<(&String, Vec<&String>)> = seen
            .iter()
            .map(|(line, labels)| {
                let mut labels: Vec<&String> = labels.iter().collect();
                labels.sort_by_key(|l| position(l));
                (line, labels)
            })
            .collect();
        entries.sort_by_key(|(_, labels)| labels.first().map(|l| position(l)));
        for (line, labels) in entries {
            eprintln!("{}", shared_line(line, &labels));
        }
    }
}

/// `line` for the requests `labels`: prefixed with the request when one, else
/// followed by how many runs share it.
fn shared_line(line: &str, labels: &[&String]) -> String {
    match labels {
        [one] => format!("{one}: {line}"),
        _ => {
            let named: Vec<&str> = labels.iter().take(3).map(|l| l.as_str()).collect();
            let more = labels.len() - named.len();
            let tail = if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            };
            format!("{line} ({} runs: {}{tail})", labels.len(), named.join(", "))
        }
    }
}

/// The labels of a batch's requests, in the order given.
fn args_order(results: &[(PathBuf, Result<Ended, String>)]) -> Vec<String> {
    results
        .iter()
        .map(|(p, _)| p.display().to_string())
        .collect()
}

fn runtime() -> miette::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| miette::miette!("cannot start the async runtime: {e}"))
}

/// Runs every request, at most `--concurrency` at once. A request that cannot
/// be read or is refused does not stop the others; it counts as not run. The
/// summary line goes to stdout, per-run lines to stderr. Exit: 0 when every
/// run exited 0, 130 when interrupted, 1 otherwise.
fn batch(args: BatchArgs) -> miette::Result<ExitCode> {
    let launcher = Arc::new(Launcher::new(args.common)?);
    let runtime = runtime()?;
    let limit = Arc::new(tokio::sync::Semaphore::new(usize::from(args.concurrency)));
    let results: Vec<(PathBuf, Result<Ended, String>)> = runtime.block_on(async {
        on_ctrl_c(launcher.cancel.clone(), Some(limit.clone()))?;
        let mut tasks = Vec::new();
        for path in args.requests {
            let (launcher, limit) = (launcher.clone(), limit.clone());
            let label = path.display().to_string();
            let task = tokio::spawn(async move {
                let req = load_request(Path::new(&label)).map_err(|e| e.to_string())?;
                let Ok(_permit) = limit.acquire_owned().await else {
                    return Err("not started (interrupted)".to_string());
                };
                if launcher.cancel.is_cancelled() {
                    return Err("not started (interrupted)".to_string());
                }
                launcher
                    .launch(&req, Some(label))
                    .await
                    .map_err(|e| e.to_string())
            });
            tasks.push((path, task));
        }
        let mut out = Vec::new();
        for (path, task) in tasks {
            let r = task
                .await
                .unwrap_or_else(|e| Err(format!("the run failed: {e}")));
            out.push((path, r));
        }
        Ok::<_, miette::Report>(out)
    })?;
    launcher.print_warnings(&args_order(&results));
    let (mut ok, mut failed, mut interrupted, mut not_run) = (0, 0, 0, 0);
    for (path, r) in &results {
        match r {
            Ok(Ended::Exit(0)) => ok += 1,
            Ok(Ended::Exit(code)) => {
                failed += 1;
                eprintln!("{}: exit code {code}", path.display());
            }
            Ok(Ended::Interrupted) => interrupted += 1,
            Err(e) => {
                not_run += 1;
                eprintln!("{}: not run: {e}", path.display());
            }
        }
    }
    println!(
        "{} runs: {ok} succeeded, {failed} failed, {interrupted} interrupted, {not_run} not run",
        results.len()
    );
    Ok(if launcher.cancel.is_cancelled() {
        ExitCode::from(130)
    } else if failed + not_run == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One convention for a run stopped at its deadline, whichever backend:
    /// 124, even when the backend saw the kill (137) or no status at all.
    #[test]
    fn a_deadline_exits_124_whatever_the_backend_reports() {
        assert_eq!(Ended::of(true, Some(137)), Ended::Exit(124));
        assert_eq!(Ended::of(true, None), Ended::Exit(124));
        assert_eq!(Ended::of(false, Some(137)), Ended::Exit(137));
        assert_eq!(Ended::of(false, Some(3)), Ended::Exit(3));
        assert_eq!(Ended::of(false, None), Ended::Exit(1));
    }

    #[test]
    fn a_shared_warning_names_every_run_it_applies_to() {
        let labels: Vec<String> = ["a.yaml", "b.yaml", "c.yaml", "d.yaml", "e.yaml"]
            .map(String::from)
            .to_vec();
        let refs: Vec<&String> = labels.iter().collect();
        assert_eq!(shared_line("warning: W", &refs[..1]), "a.yaml: warning: W");
        assert_eq!(
            shared_line("warning: W", &refs[..2]),
            "warning: W (2 runs: a.yaml, b.yaml)"
        );
        assert_eq!(
            shared_line("warning: W", &refs),
            "warning: W (5 runs: a.yaml, b.yaml, c.yaml and 2 more)"
        );
    }
}
