//! `sandbox-lint serve`: the validating admission webhook.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use crate::webhook::{self, ServeOptions, tls::TlsFiles};

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// HTTPS address for `POST /validate`.
    #[arg(long, default_value = "0.0.0.0:8443", value_name = "ADDR")]
    pub listen: SocketAddr,
    /// Plain-HTTP address for /healthz, /readyz and /metrics.
    #[arg(long, default_value = "0.0.0.0:8080", value_name = "ADDR")]
    pub health_listen: SocketAddr,
    /// PEM certificate chain (reloaded when its contents change).
    #[arg(long, value_name = "PATH")]
    pub tls_cert: PathBuf,
    /// PEM private key (reloaded when its contents change).
    #[arg(long, value_name = "PATH")]
    pub tls_key: PathBuf,
    /// Require client certificates signed by a CA of this PEM bundle.
    #[arg(long, value_name = "PATH")]
    pub client_ca: Option<PathBuf>,
    /// Seconds between checks of the TLS files.
    #[arg(long, default_value_t = 10.0, value_name = "SECS")]
    pub reload_interval: f64,
    /// Policy file, built-in policy name or directory of policy files
    /// (repeatable; default: the built-in gvisor-sandbox policy).
    #[arg(short, long = "policy", value_name = "POLICY")]
    pub policies: Vec<String>,
    /// Watch ServiceAccounts, RoleBindings, ClusterRoleBindings,
    /// NetworkPolicies, Namespaces and RuntimeClasses (read-only) for the
    /// cross-resource rules; not ready until the watches have synced.
    #[arg(long)]
    pub cluster_context: bool,
    /// Largest request body accepted, in bytes (an UPDATE review carries the
    /// object and the old object, each up to the API server's 3 MiB).
    #[arg(long, default_value_t = 8 * 1024 * 1024, value_name = "BYTES")]
    pub max_body_bytes: usize,
    /// Seconds a client may take to send a request (and the TLS handshake).
    #[arg(long, default_value_t = 10.0, value_name = "SECS")]
    pub request_timeout: f64,
    /// Seconds a keep-alive connection may stay idle between requests (keep it
    /// above the API server's 90 s, or a reused connection can be cut under it).
    #[arg(long, default_value_t = 120.0, value_name = "SECS")]
    pub idle_timeout: f64,
    /// HTTPS connections served at once (each holds TLS and HTTP buffers);
    /// further connections wait in the kernel's accept queue until one ends.
    #[arg(long, default_value_t = 256, value_name = "N")]
    pub max_connections: usize,
    /// Seconds in-flight reviews may take to finish after SIGTERM.
    #[arg(long, default_value_t = 30.0, value_name = "SECS")]
    pub shutdown_grace: f64,
    /// Log level (error, warn, info, debug); logs are JSON lines on stderr.
    #[arg(long, default_value = "info", value_name = "LEVEL")]
    pub log_level: String,
}

fn seconds(name: &str, s: f64) -> miette::Result<Duration> {
    Duration::try_from_secs_f64(s)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| miette::miette!("--{name} must be a positive number of seconds, not {s}"))
}

pub fn run(args: ServeArgs) -> miette::Result<ExitCode> {
    let filter = tracing_subscriber::EnvFilter::try_new(&args.log_level)
        .map_err(|e| miette::miette!("--log-level {}: {e}", args.log_level))?;
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .with_writer(std::io::stderr)
        .init();
    let linter = super::check::load_policies(&args.policies)?;
    let opts = ServeOptions {
        listen: args.listen,
        health_listen: args.health_listen,
        tls: TlsFiles {
            cert: args.tls_cert,
            key: args.tls_key,
            client_ca: args.client_ca,
        },
        reload_interval: seconds("reload-interval", args.reload_interval)?,
        max_body_bytes: args.max_body_bytes,
        request_timeout: seconds("request-timeout", args.request_timeout)?,
        shutdown_grace: seconds("shutdown-grace", args.shutdown_grace)?,
        idle_timeout: seconds("idle-timeout", args.idle_timeout)?,
        max_connections: match args.max_connections {
            0 => miette::bail!("--max-connections must be at least 1"),
            n => n,
        },
        cluster_context: args.cluster_context,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| miette::miette!("cannot start the async runtime: {e}"))?;
    match runtime.block_on(webhook::serve(linter, opts)) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) => {
            tracing::error!(error = %e, "serve failed");
            Err(miette::miette!("{e}"))
        }
    }
}
