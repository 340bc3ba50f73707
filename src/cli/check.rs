//! `sandbox-lint check`.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use miette::{IntoDiagnostic, WrapErr};

use crate::check::{self, Options};
use crate::config::{self, Config};
use crate::finding::Severity;
use crate::linter::Linter;
use crate::policy;
use crate::report::{self, Format};
use crate::yaml::Limits;

use super::{EXIT_ERROR, EXIT_FINDINGS};

/// The lowest severity that fails the run.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    ValueEnum,
    serde::Deserialize,
    serde::Serialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum FailOn {
    Error,
    Warning,
    Info,
    /// Never fail on findings (input errors still exit 2).
    Never,
}

impl FailOn {
    fn threshold(self) -> Option<Severity> {
        match self {
            FailOn::Error => Some(Severity::Error),
            FailOn::Warning => Some(Severity::Warning),
            FailOn::Info => Some(Severity::Info),
            FailOn::Never => None,
        }
    }
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Files and directories to check (directories recursively, honouring .gitignore); `-` reads stdin.
    /// Default: the configuration's `include`.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Output format [default: human].
    #[arg(long, short = 'f', value_enum)]
    pub format: Option<Format>,
    /// Exit 1 when a finding at or above this severity remains [default: error].
    #[arg(long, value_enum)]
    pub fail_on: Option<FailOn>,
    /// Configuration file (default: the nearest .sandbox-lint.yaml above the first path).
    #[arg(long, value_name = "FILE", conflicts_with = "no_config")]
    pub config: Option<PathBuf>,
    /// Ignore any .sandbox-lint.yaml.
    #[arg(long)]
    pub no_config: bool,
    /// Namespace assumed for objects that name none [default: default].
    #[arg(long, short = 'n', value_name = "NAMESPACE")]
    pub namespace: Option<String>,
    /// Check only the manifests that `git diff REF` names (added, copied, modified,
    /// renamed) plus untracked ones, within the given paths. The unchanged files
    /// under those paths become context: the objects a changed file refers to
    /// (its ServiceAccount, NetworkPolicies, RuntimeClass, ...) are still found.
    #[arg(long, value_name = "REF")]
    pub changed_since: Option<String>,
    /// Files or directories whose objects cross-resource rules look up
    /// (Namespaces, NetworkPolicies, ServiceAccounts, RBAC bindings,
    /// RuntimeClasses, runner pods) but which are not reported on (repeatable).
    #[arg(long, value_name = "PATH")]
    pub context: Vec<PathBuf>,
    /// Print findings only: no summary line, no notes, no progress.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Write the report to this file instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Largest input file read, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().max_file_bytes)]
    pub max_file_size: u64,
    /// Worker threads (default: one per core).
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
    /// Check FILE as a Dockerfile whatever its name (repeatable; `-` reads stdin).
    /// Files named Dockerfile, Dockerfile.*, *.Dockerfile, Containerfile or
    /// Containerfile.* are Dockerfiles anyway.
    #[arg(long, value_name = "FILE")]
    pub dockerfile: Vec<PathBuf>,
    /// Read `# sandbox-lint: ignore[...]` comments as plain comments: every finding
    /// counts (for gates where authors must not silence checks; policy
    /// exemptions still apply).
    #[arg(long)]
    pub no_inline_suppressions: bool,
    /// Policy file, directory of policy files, or built-in pack name (repeatable).
    /// Default: the built-in `gvisor-sandbox` pack.
    #[arg(long, short = 'p', value_name = "POLICY")]
    pub policy: Vec<String>,
}

/// Loads every policy named on the command line (files, directories of
/// `*.yaml`, or built-in pack names), before any input is read.
pub(crate) fn load_policies(refs: &[String]) -> miette::Result<Linter> {
    if refs.is_empty() {
        return Ok(Linter::with_default_policy());
    }
    let mut policies = Vec::new();
    let mut errors = Vec::new();
    for r in refs {
        let path = std::path::Path::new(r);
        let mut files = Vec::new();
        if path.is_dir() {
            let mut entries: Vec<_> = std::fs::read_dir(path)
                .into_diagnostic()?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")))
                .collect();
            entries.sort();
            files.extend(entries.into_iter().map(|p| p.display().to_string()));
        } else {
            files.push(r.clone());
        }
        for f in files {
            match policy::load_reference(&f) {
                Ok(p) => policies.push(p),
                Err(e) => errors.push(e),
            }
        }
    }
    if let Some(first) = errors.into_iter().next() {
        return Err(first.into());
    }
    if policies.is_empty() {
        return Err(miette::miette!(
            "no policy files found in {}",
            refs.join(", ")
        ));
    }
    Linter::new(policies).map_err(Into::into)
}

/// The configuration in effect: `--config`, or the nearest file above the first path.
fn find_config(args: &CheckArgs) -> miette::Result<Option<Config>> {
    if args.no_config {
        return Ok(None);
    }
    let path = match &args.config {
        Some(p) => Some(p.clone()),
        None => {
            let start = args
                .paths
                .iter()
                .find(|p| p.as_os_str() != "-")
                .cloned()
                .unwrap_or_else(|| PathBuf::from("."));
            config::discover(&start)
        }
    };
    match path {
        Some(p) => Ok(Some(Config::load(&p).map_err(|e| miette::Report::new(*e))?)),
        None => Ok(None),
    }
}

pub fn run(mut args: CheckArgs) -> miette::Result<ExitCode> {
    // Paths named on the command line (not an `include` list).
    let explicit = !args.paths.is_empty() || !args.dockerfile.is_empty();
    let config = find_config(&args)?;
    if let Some(c) = &config {
        if args.paths.is_empty() {
            args.paths = c.file.include.iter().map(|p| c.resolve(p)).collect();
        }
        if args.policy.is_empty() {
            args.policy = c
                .file
                .policies
                .iter()
                .map(|p| {
                    let local = c.resolve(p);
                    if local.exists() || policy::BUILTIN.iter().all(|(n, _)| n != p) {
                        local.display().to_string()
                    } else {
                        p.clone()
                    }
                })
                .collect();
        }
        args.format = args.format.or(c.file.format);
        args.fail_on = args.fail_on.or(c.file.fail_on);
        args.namespace = args.namespace.clone().or(c.file.namespace.clone());
    }
    if args.paths.is_empty() && args.dockerfile.is_empty() {
        use clap::CommandFactory;
        let _ = super::Cli::command()
            .error(
                clap::error::ErrorKind::MissingRequiredArgument,
                "no paths to check: give files or directories, `-` for stdin, or an `include` list in .sandbox-lint.yaml",
            )
            .print();
        return Ok(ExitCode::from(EXIT_ERROR));
    }
    if let Some(reference) = &args.changed_since {
        let scope = if args.paths.is_empty() {
            vec![PathBuf::from(".")]
        } else {
            args.paths.clone()
        };
        args.context.extend(scope);
        args.paths = changed_files(reference, &args.paths)?;
    }
    let format = args.format.unwrap_or(Format::Human);
    let fail_on = args.fail_on.unwrap_or(FailOn::Error);
    if let Some(jobs) = args.jobs {
        rayon::ThreadPoolBuilder::new()
            .num_threads(jobs.max(1))
            .build_global()
            .into_diagnostic()?;
    }
    let mut linter = load_policies(&args.policy)?;
    if let Some(ns) = &args.namespace {
        linter = linter.with_default_namespace(ns);
    }
    if args.no_inline_suppressions {
        linter = linter.without_inline_suppressions();
    }
    let images = config
        .as_ref()
        .map(|c| {
            c.file
                .images
                .iter()
                .map(|(pattern, path)| (pattern.clone(), c.dir.join(path)))
                .collect()
        })
        .unwrap_or_default();
    if let Some(c) = &config {
        args.context
            .extend(c.file.context.iter().map(|p| c.dir.join(p)));
    }
    let dockerfiles = args
        .dockerfile
        .iter()
        .map(|p| crate::input::Input::from_arg(p).display_name())
        .collect();
    args.paths.extend(args.dockerfile.iter().cloned());
    let opts = Options {
        limits: Limits {
            max_file_bytes: args.max_file_size,
            ..Limits::default()
        },
        keep_sources: format == Format::Human,
        config: config.map(std::sync::Arc::new),
        progress: Some(Default::default()),
        dockerfiles,
        images,
        context: args.context.clone(),
    };
    let show_progress = !args.quiet && std::io::stderr().is_terminal();
    let progress = opts.progress.clone().filter(|_| show_progress);
    let result = with_progress(progress, || check::run(&linter, &args.paths, &opts));
    let color = args.output.is_none()
        && std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let render = report::RenderOptions {
        color,
        quiet: args.quiet,
    };
    match &args.output {
        Some(path) => {
            let mut file = std::io::BufWriter::new(
                std::fs::File::create(path)
                    .into_diagnostic()
                    .wrap_err_with(|| format!("cannot write {}", path.display()))?,
            );
            report::render(format, &result, &render, &mut file).into_diagnostic()?;
            file.flush().into_diagnostic()?;
        }
        None => {
            let mut out = std::io::stdout().lock();
            let written =
                report::render(format, &result, &render, &mut out).and_then(|()| out.flush());
            // A reader that stops early (`| head`) is not an error of ours.
            match written {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                    return Err(e).into_diagnostic();
                }
                _ => {}
            }
        }
    }
    if result.input_errors() {
        return Ok(ExitCode::from(EXIT_ERROR));
    }
    if result.files.is_empty() {
        return Ok(nothing_checked(&args, explicit, opts.config.as_deref()));
    }
    let failing = fail_on
        .threshold()
        .is_some_and(|t| result.findings().any(|f| f.is_active() && f.severity >= t));
    Ok(if failing {
        ExitCode::from(EXIT_FINDINGS)
    } else {
        ExitCode::SUCCESS
    })
}

/// A run that found no file to check says so on stderr. Exit 2 when the paths
/// named on the command line hold no manifest and no Dockerfile (a typo, the
/// wrong directory); 0 when that is expected: nothing changed since
/// `--changed-since`, every file found is excluded by the configuration (as
/// when pre-commit passes an excluded file), or an `include` list is empty.
fn nothing_checked(args: &CheckArgs, explicit: bool, config: Option<&Config>) -> ExitCode {
    let paths = args
        .paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let found = crate::input::discover(&args.paths).0.len();
    let (message, code) = if let Some(reference) = &args.changed_since {
        (
            format!("nothing checked: no file changed since {reference}"),
            ExitCode::SUCCESS,
        )
    } else if let (true, Some(c)) = (found > 0, config) {
        (
            format!(
                "nothing checked: every file found is excluded by {}",
                c.path.display()
            ),
            ExitCode::SUCCESS,
        )
    } else if explicit {
        (
            format!(
                "nothing checked: {paths} holds no Kubernetes manifest (*.yaml, *.yml, *.json) and no Dockerfile"
            ),
            ExitCode::from(EXIT_ERROR),
        )
    } else {
        (
            format!(
                "nothing checked: the include paths of the configuration ({paths}) hold no Kubernetes manifest and no Dockerfile"
            ),
            ExitCode::SUCCESS,
        )
    };
    if code != ExitCode::SUCCESS {
        eprintln!("error: {message}");
    } else if !args.quiet {
        eprintln!("{message}");
    }
    code
}

/// Runs `work`, and when it takes longer than a second, shows `checked N/M files`
/// on stderr until it is done (only when stderr is a terminal).
fn with_progress<T>(
    progress: Option<std::sync::Arc<check::Progress>>,
    work: impl FnOnce() -> T,
) -> T {
    use std::sync::atomic::{AtomicBool, Ordering};
    let Some(progress) = progress else {
        return work();
    };
    let done = std::sync::Arc::new(AtomicBool::new(false));
    let watcher = {
        let done = done.clone();
        std::thread::spawn(move || {
            let start = std::time::Instant::now();
            let mut shown = false;
            while !done.load(Ordering::Relaxed) {
                std::thread::sleep(std::time::Duration::from_millis(100));
                if start.elapsed() >= std::time::Duration::from_secs(1) {
                    eprint!("\r{}", progress.line());
                    shown = true;
                }
            }
            if shown {
                eprint!("\r\x1b[K");
            }
        })
    };
    let result = work();
    done.store(true, Ordering::Relaxed);
    let _ = watcher.join();
    result
}

/// The manifests that changed since `reference` (git diff, plus untracked files),
/// limited to those under `paths` (everything when no paths are given).
fn changed_files(reference: &str, paths: &[PathBuf]) -> miette::Result<Vec<PathBuf>> {
    let git = |args: &[&str]| -> miette::Result<String> {
        let out = std::process::Command::new("git")
            .args(args)
            .output()
            .into_diagnostic()
            .wrap_err("cannot run git for --changed-since")?;
        if !out.status.success() {
            return Err(miette::miette!(
                "git {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let root = PathBuf::from(git(&["rev-parse", "--show-toplevel"])?.trim());
    let diff = git(&["diff", "--name-only", "--diff-filter=ACMR", reference, "--"])?;
    let untracked = git(&[
        "ls-files",
        "--others",
        "--exclude-standard",
        "--full-name",
        ":/",
    ])?;
    let scopes: Vec<PathBuf> = paths
        .iter()
        .filter_map(|p| std::fs::canonicalize(p).ok())
        .collect();
    let mut files: Vec<PathBuf> = diff
        .lines()
        .chain(untracked.lines())
        .map(|l| root.join(l))
        .filter(|p| {
            p.is_file()
                && (crate::input::is_manifest_name(p) || crate::dockerfile::is_dockerfile_name(p))
        })
        .filter(|p| {
            scopes.is_empty()
                || std::fs::canonicalize(p)
                    .is_ok_and(|abs| scopes.iter().any(|s| abs.starts_with(s)))
        })
        .collect();
    files.sort();
    files.dedup();
    Ok(files)
}
