//! `sandbox-lint check`.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use miette::{IntoDiagnostic, WrapErr};

use crate::check::{self, Options};
use crate::finding::Severity;
use crate::linter::Linter;
use crate::policy;
use crate::report::{self, Format};
use crate::yaml::Limits;

use super::{EXIT_ERROR, EXIT_FINDINGS};

/// The lowest severity that fails the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
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
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value = "human")]
    pub format: Format,
    /// Exit 1 when a finding at or above this severity remains.
    #[arg(long, value_enum, default_value = "error")]
    pub fail_on: FailOn,
    /// Write the report to this file instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Largest input file read, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().max_file_bytes)]
    pub max_file_size: u64,
    /// Worker threads (default: one per core).
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
    /// Policy file, directory of policy files, or built-in pack name (repeatable).
    /// Default: the built-in `gvisor-sandbox` pack.
    #[arg(long, short = 'p', value_name = "POLICY")]
    pub policy: Vec<String>,
}

/// Loads every policy named on the command line (files, directories of
/// `*.yaml`, or built-in pack names), before any input is read.
fn load_policies(refs: &[String]) -> miette::Result<Linter> {
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

pub fn run(args: CheckArgs) -> miette::Result<ExitCode> {
    if let Some(jobs) = args.jobs {
        rayon::ThreadPoolBuilder::new()
            .num_threads(jobs.max(1))
            .build_global()
            .into_diagnostic()?;
    }
    let linter = load_policies(&args.policy)?;
    let opts = Options {
        limits: Limits {
            max_file_bytes: args.max_file_size,
            ..Limits::default()
        },
        keep_sources: args.format == Format::Human,
    };
    let result = check::run(&linter, &args.paths, &opts);
    let color = args.output.is_none()
        && std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let render = report::RenderOptions { color };
    match &args.output {
        Some(path) => {
            let mut file = std::io::BufWriter::new(
                std::fs::File::create(path)
                    .into_diagnostic()
                    .wrap_err_with(|| format!("cannot write {}", path.display()))?,
            );
            report::render(args.format, &result, &render, &mut file).into_diagnostic()?;
            file.flush().into_diagnostic()?;
        }
        None => {
            let mut out = std::io::stdout().lock();
            let written =
                report::render(args.format, &result, &render, &mut out).and_then(|()| out.flush());
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
    let failing = args
        .fail_on
        .threshold()
        .is_some_and(|t| result.findings().any(|f| f.is_active() && f.severity >= t));
    Ok(if failing {
        ExitCode::from(EXIT_FINDINGS)
    } else {
        ExitCode::SUCCESS
    })
}
