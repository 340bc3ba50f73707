//! Command-line interface: typed clap definitions and the subcommands.

pub mod check;
pub mod dispatch;
pub mod network;
pub mod rules;
pub mod serve;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit code: findings at or above `--fail-on`.
pub const EXIT_FINDINGS: u8 = 1;
/// Exit code: usage, configuration or input error.
pub const EXIT_ERROR: u8 = 2;

/// Keeps untrusted-code sandboxes on Kubernetes honest.
#[derive(Debug, Parser)]
#[command(name = "sandbox-lint", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check Kubernetes manifests against the policy.
    Check(check::CheckArgs),
    /// List every rule.
    Rules(rules::RulesArgs),
    /// Print the full documentation of one rule.
    Explain(rules::ExplainArgs),
    /// Write a commented starter .sandbox-lint.yaml in the current directory.
    Init(InitArgs),
    /// Show what each runner can reach: destination classes x ports, allowed or
    /// denied, and which NetworkPolicy rule decides.
    ExplainNetwork(network::NetworkArgs),
    /// Run the validating admission webhook (HTTPS; probes and metrics on a
    /// separate plain-HTTP port).
    Serve(serve::ServeArgs),
    /// Run untrusted code in a pod built compliant from the policy and verified
    /// before launch.
    #[command(subcommand)]
    Dispatch(dispatch::DispatchCommand),
}

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// Overwrite an existing file.
    #[arg(long)]
    pub force: bool,
    /// Directory to write into.
    #[arg(long, default_value = ".")]
    pub dir: std::path::PathBuf,
}

fn init(args: InitArgs) -> miette::Result<ExitCode> {
    let path = args.dir.join(crate::config::FILE_NAME);
    if path.exists() && !args.force {
        return Err(miette::miette!(
            help = "use --force to overwrite it",
            "{} already exists",
            path.display()
        ));
    }
    std::fs::write(&path, crate::config::STARTER)
        .map_err(|e| miette::miette!("cannot write {}: {e}", path.display()))?;
    eprintln!("wrote {}", path.display());
    Ok(ExitCode::SUCCESS)
}

/// Parses the command line and runs it.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(EXIT_ERROR)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let result = match cli.command {
        Command::Check(args) => check::run(args),
        Command::Rules(args) => rules::list(args),
        Command::Explain(args) => rules::explain(args),
        Command::Init(args) => init(args),
        Command::ExplainNetwork(args) => network::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Dispatch(cmd) => dispatch::run(cmd),
    };
    match result {
        Ok(code) => code,
        Err(report) => {
            eprintln!("{report:?}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}
