//! `sandbox-lint serve`: the validating admission webhook.
//!
//! Two listeners: HTTPS (rustls) for `POST /validate`, and plain HTTP for
//! `/healthz`, `/readyz` and `/metrics`, so probes and scrapes need no
//! certificate. Every review goes through [`review::review`], the same engine
//! and policies as the CLI.

pub mod context;
pub mod metrics;
pub mod review;
pub mod server;
pub mod tls;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum_server::Handle;
use axum_server::tls_rustls::{RustlsAcceptor, RustlsConfig};
use http_body_util::{BodyExt, Limited};
use tokio_util::sync::CancellationToken;

use crate::linter::Linter;
use metrics::Metrics;
use review::{Decision, Outcome};

/// What `serve` needs.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub listen: SocketAddr,
    pub health_listen: SocketAddr,
    pub tls: tls::TlsFiles,
    /// How often the TLS files are checked for new contents.
    pub reload_interval: Duration,
    /// Largest request body read; larger ones are refused with 413.
    pub max_body_bytes: usize,
    /// Bound on reading a request (headers and body) and on the TLS handshake.
    pub request_timeout: Duration,
    /// How long a keep-alive connection may sit idle between requests (also
    /// bounds the headers of every request after the first). Longer than the
    /// API server's own idle timeout (Go's 90 s), so the server never closes a
    /// connection the client is about to reuse.
    pub idle_timeout: Duration,
    /// How long in-flight requests may take to finish after SIGTERM.
    pub shutdown_grace: Duration,
    /// HTTPS connections served at once; more wait in the kernel's backlog.
    pub max_connections: usize,
    /// Watch the cluster for the cross-resource rules.
    pub cluster_context: bool,
}

/// Shared by every request.
pub struct AppState {
    pub linter: Arc<Linter>,
    pub metrics: Arc<Metrics>,
    /// True once the server can judge correctly (cluster context synced, when asked for).
    pub ready: Arc<AtomicBool>,
    /// True once shutdown has begun: readiness fails so no new traffic is routed.
    pub stopping: AtomicBool,
    pub max_body_bytes: usize,
    pub request_timeout: Duration,
}

/// The HTTPS routes.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/validate", post(validate))
        .with_state(state)
}

/// The plain-HTTP routes: probes and metrics.
pub fn health_router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
        .with_state(state)
}

async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    if state.stopping.load(Ordering::SeqCst) {
        (StatusCode::SERVICE_UNAVAILABLE, "shutting down\n").into_response()
    } else if state.ready.load(Ordering::SeqCst) {
        "ok\n".into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "cluster context not synced yet\n",
        )
            .into_response()
    }
}

async fn metrics_text(State(state): State<Arc<AppState>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.encode(),
    )
        .into_response()
}

/// Reads the body within the size and time limits, judges it, logs and counts.
async fn validate(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let started = Instant::now();
    let outcome = match read_body(&state, request.into_body()).await {
        Ok(body) => review::review(&state.linter, &body),
        Err(outcome) => outcome,
    };
    state
        .metrics
        .observe(&outcome, started.elapsed().as_secs_f64());
    log(&outcome, started);
    let content_type = if outcome.status == 200 {
        "application/json"
    } else {
        "text/plain; charset=utf-8"
    };
    Response::builder()
        .status(outcome.status)
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(outcome.body))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

async fn read_body(state: &AppState, body: Body) -> Result<Bytes, Outcome> {
    let limited = Limited::new(body, state.max_body_bytes);
    match tokio::time::timeout(state.request_timeout, limited.collect()).await {
        Err(_) => Err(review::http_error(
            408,
            &format!(
                "the request body did not arrive within {} s",
                state.request_timeout.as_secs_f64()
            ),
        )),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => Err(review::http_error(
            413,
            &format!(
                "the request body is larger than {} bytes (--max-body-bytes)",
                state.max_body_bytes
            ),
        )),
        Ok(Err(e)) => Err(review::http_error(
            400,
            &format!("the request body could not be read: {e}"),
        )),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
    }
}

/// One JSON log line per review; allows (clean or with warnings) only at debug level.
fn log(o: &Outcome, started: Instant) {
    let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    macro_rules! line {
        ($level:ident) => {
            tracing::$level!(
                uid = %o.uid,
                decision = o.decision.as_str(),
                kind = %o.kind,
                namespace = %o.namespace,
                name = %o.name,
                operation = %o.operation,
                dry_run = o.dry_run,
                policy = %o.policy,
                findings = o.findings.len(),
                duration_us = micros,
                message = %o.message,
                "admission review"
            )
        };
    }
    // Warnings reach the client itself; at info level they would cost a log
    // line per review on every compliant pod that cannot be fully verified.
    match o.decision {
        Decision::Allowed | Decision::Warned => line!(debug),
        Decision::Error | Decision::Invalid => line!(warn),
        _ => line!(info),
    }
}

/// Runs the webhook until SIGTERM or SIGINT, then lets in-flight requests finish.
pub async fn serve(linter: Linter, opts: ServeOptions) -> Result<(), String> {
    let (config, snapshot) = tls::load(&opts.tls)?;
    let rustls_config = RustlsConfig::from_config(config);
    let linter = Arc::new(linter);
    let metrics = Arc::new(Metrics::new());
    let ready = Arc::new(AtomicBool::new(!opts.cluster_context));
    let state = Arc::new(AppState {
        linter: linter.clone(),
        metrics: metrics.clone(),
        ready: ready.clone(),
        stopping: AtomicBool::new(false),
        max_body_bytes: opts.max_body_bytes,
        request_timeout: opts.request_timeout,
    });

    if opts.cluster_context {
        let client = kube::Client::try_default()
            .await
            .map_err(|e| format!("--cluster-context: cannot reach the Kubernetes API: {e}"))?;
        tokio::spawn(context::run(client, linter, ready, metrics));
    }
    tokio::spawn(tls::watch(
        opts.tls.clone(),
        snapshot,
        opts.reload_interval,
        rustls_config.clone(),
    ));

    let listener =
        listen(opts.listen).map_err(|e| format!("cannot listen: {}: {e}", opts.listen))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("cannot listen: {}: {e}", opts.listen))?;
    let acceptor = RustlsAcceptor::new(rustls_config).handshake_timeout(opts.request_timeout);
    let stop = CancellationToken::new();
    let limits = server::Limits {
        request_timeout: opts.request_timeout,
        idle_timeout: opts.idle_timeout,
        shutdown_grace: opts.shutdown_grace,
        max_connections: opts.max_connections,
    };
    let main = tokio::spawn(server::serve(
        listener,
        acceptor,
        router(state.clone()),
        stop.clone(),
        limits,
    ));

    let health_handle: Handle<SocketAddr> = Handle::new();
    let health = axum_server::bind(opts.health_listen)
        .handle(health_handle.clone())
        .http1_only();
    let health_app = health_router(state.clone());
    let health_task =
        tokio::spawn(async move { health.serve(health_app.into_make_service()).await });

    let Some(health_addr) = health_handle.listening().await else {
        stop.cancel();
        let why = match health_task.await {
            Ok(Err(e)) => format!("{}: {e}", opts.health_listen),
            _ => "unknown error".to_string(),
        };
        return Err(format!("cannot listen: {why}"));
    };
    tracing::info!(
        listen = %addr,
        health = %health_addr,
        cluster_context = opts.cluster_context,
        max_connections = opts.max_connections,
        policies = ?state.linter.policies().map(|p| p.name.as_str()).collect::<Vec<_>>(),
        "serving admission reviews"
    );

    shutdown_signal().await;
    state.stopping.store(true, Ordering::SeqCst);
    tracing::info!(
        grace_seconds = opts.shutdown_grace.as_secs_f64(),
        "shutting down: finishing in-flight reviews"
    );
    stop.cancel();
    let served = main.await;
    health_handle.shutdown();
    let _ = health_task.await;
    tracing::info!("stopped");
    served.map_err(|e| format!("server task failed: {e}"))
}

/// Connections the kernel may hold completed for the HTTPS listener (Linux
/// caps it at `net.core.somaxconn`): room for a burst past `--max-connections`
/// to wait instead of having its SYNs dropped.
const LISTEN_BACKLOG: u32 = 4096;

fn listen(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

async fn shutdown_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = term => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}
