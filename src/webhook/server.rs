//! The HTTPS side of `serve`: the accept loop and each connection, written
//! for what SIGTERM must not drop and for memory that does not grow with the
//! connections served.
//!
//! Shutdown, once [`serve`]'s token is cancelled:
//!
//! - the listener stops taking new connections, but first accepts every
//!   connection already waiting in the kernel's backlog (the client saw those
//!   established before the signal), then closes;
//! - a connection still in its TLS handshake finishes it (within the
//!   handshake timeout) and is served like the others;
//! - every response from then on carries `Connection: close`, so a client
//!   learns from an answer, not from a reset, that the connection is done;
//! - a connection is closed only after it has been quiet for [`SHUTDOWN_QUIET`]
//!   (no byte read, no request in progress): a request whose bytes are on
//!   their way, or already read but whose headers are not complete, is
//!   answered, not cut;
//! - whatever is still open when the grace period ends is cut.
//!
//! Memory: at most `max_connections` connections are served at once (the
//! rest wait in the kernel's backlog), finished connection tasks are reaped as
//! they end, and nothing per connection outlives it.

use std::io;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum_server::accept::Accept;
use axum_server::tls_rustls::RustlsAcceptor;
use hyper::body::Incoming;
use hyper::service::Service as _;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// After the signal, a connection with nothing read and nothing in progress
/// for this long is closed. Longer than a client needs to put a request it
/// has started on the wire; short enough that idle keep-alive connections do
/// not hold the shutdown for the whole grace period.
pub const SHUTDOWN_QUIET: Duration = Duration::from_millis(1000);

/// The bounds of the HTTPS listener.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Bound on the TLS handshake (in the acceptor) and on the first request's headers.
    pub request_timeout: Duration,
    /// Bound on the headers of every later request, counted from the last answer.
    pub idle_timeout: Duration,
    /// How long connections may take to finish once shutdown begins.
    pub shutdown_grace: Duration,
    /// Connections served at once.
    pub max_connections: usize,
}

/// What a connection has done, for deciding when it is quiet.
#[derive(Default)]
struct Activity {
    /// Bytes read from the socket (TLS records included).
    bytes: AtomicU64,
    /// Requests whose headers were read.
    requests: AtomicU64,
    /// Requests not yet answered.
    in_flight: AtomicU64,
}

impl Activity {
    fn snapshot(&self) -> (u64, u64, u64) {
        (
            self.bytes.load(Ordering::SeqCst),
            self.requests.load(Ordering::SeqCst),
            self.in_flight.load(Ordering::SeqCst),
        )
    }
}

/// Marks a request answered when dropped (also when hyper drops it unanswered).
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A TCP stream that counts the bytes read from it.
struct Counted {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        let read = buf.filled().len().saturating_sub(before);
        if read > 0 {
            self.activity
                .bytes
                .fetch_add(u64::try_from(read).unwrap_or(u64::MAX), Ordering::SeqCst);
        }
        polled
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Serves `app` over TLS on `listener` until `stop` is cancelled, then
/// finishes as the module says. Returns when every connection has ended or
/// was cut at the end of the grace period.
pub async fn serve(
    listener: TcpListener,
    acceptor: RustlsAcceptor,
    app: Router,
    stop: CancellationToken,
    limits: Limits,
) {
    let limits = Arc::new(limits);
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let mut conns: JoinSet<()> = JoinSet::new();
    let spawn = |conns: &mut JoinSet<()>, tcp: TcpStream, permit: Option<OwnedSemaphorePermit>| {
        conns.spawn(connection(
            tcp,
            acceptor.clone(),
            app.clone(),
            stop.clone(),
            limits.clone(),
            permit,
        ));
    };
    loop {
        // A permit before accepting: past the bound, connections wait in the backlog.
        let permit = tokio::select! {
            biased;
            () = stop.cancelled() => break,
            Some(_) = conns.join_next(), if !conns.is_empty() => continue,
            p = permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let accepted = tokio::select! {
            biased;
            () = stop.cancelled() => break,
            Some(_) = conns.join_next(), if !conns.is_empty() => continue,
            a = listener.accept() => a,
        };
        match accepted {
            Ok((tcp, _)) => spawn(&mut conns, tcp, Some(permit)),
            Err(e) => {
                // EMFILE and the like: do not spin.
                tracing::warn!(error = %e, "cannot accept a connection");
                tokio::select! {
                    () = stop.cancelled() => break,
                    () = tokio::time::sleep(Duration::from_millis(50)) => {}
                }
            }
        }
    }

    // Everything the kernel already completed is the signal's past: serve it.
    let mut backlog = 0usize;
    match listener.into_std() {
        Ok(std_listener) => loop {
            match std_listener.accept() {
                Ok((tcp, _)) => {
                    let tcp = tcp
                        .set_nonblocking(true)
                        .and_then(|()| TcpStream::from_std(tcp));
                    match tcp {
                        Ok(tcp) => {
                            backlog += 1;
                            spawn(&mut conns, tcp, None);
                        }
                        Err(e) => tracing::warn!(error = %e, "cannot serve a queued connection"),
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot accept a queued connection");
                    break;
                }
            }
        },
        Err(e) => tracing::warn!(error = %e, "cannot drain the accept queue"),
    }
    tracing::info!(
        connections = conns.len(),
        from_backlog = backlog,
        "listener closed: finishing open connections"
    );

    let drained = tokio::time::timeout(limits.shutdown_grace, async {
        while conns.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            connections = conns.len(),
            "shutdown grace period over: cutting the connections still open"
        );
        conns.abort_all();
        while conns.join_next().await.is_some() {}
    }
}

/// One connection: TLS handshake, then HTTP/1.1 requests until the client
/// closes, a timeout fires, or shutdown finds it quiet.
async fn connection(
    tcp: TcpStream,
    acceptor: RustlsAcceptor,
    app: Router,
    stop: CancellationToken,
    limits: Arc<Limits>,
    _permit: Option<OwnedSemaphorePermit>,
) {
    let _ = tcp.set_nodelay(true);
    let activity = Arc::new(Activity::default());
    let io = Counted {
        inner: tcp,
        activity: activity.clone(),
    };
    // Not interrupted by shutdown: the acceptor bounds it.
    let (tls, router) = match acceptor.accept(io, app).await {
        Ok(accepted) => accepted,
        Err(e) => {
            tracing::debug!(error = %e, "TLS handshake failed");
            return;
        }
    };
    let inner = TowerToHyperService::new(router);
    let service = {
        let activity = activity.clone();
        let stop = stop.clone();
        hyper::service::service_fn(move |request: axum::http::Request<Incoming>| {
            activity.requests.fetch_add(1, Ordering::SeqCst);
            activity.in_flight.fetch_add(1, Ordering::SeqCst);
            let guard = InFlight(activity.clone());
            let answer = inner.call(request);
            let stop = stop.clone();
            async move {
                let mut response = answer.await?;
                if stop.is_cancelled() {
                    response
                        .headers_mut()
                        .insert(header::CONNECTION, HeaderValue::from_static("close"));
                }
                drop(guard);
                Ok::<_, std::convert::Infallible>(response)
            }
        })
    };
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.idle_timeout)
        .keep_alive(true);
    let mut conn = pin!(builder.serve_connection(TokioIo::new(tls), service));

    let first_request = tokio::time::sleep(limits.request_timeout);
    let mut first_request = pin!(first_request);
    let mut waiting_first = true;
    // Set once shutdown has begun: the activity seen at the last check.
    let mut stopping: Option<(u64, u64, u64)> = None;
    let quiet = tokio::time::sleep(SHUTDOWN_QUIET);
    let mut quiet = pin!(quiet);
    loop {
        tokio::select! {
            biased;
            done = &mut conn => {
                if let Err(e) = done {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                return;
            }
            () = &mut first_request, if waiting_first => {
                waiting_first = false;
                if activity.requests.load(Ordering::SeqCst) == 0 {
                    tracing::debug!("no request within the request timeout: closing");
                    return;
                }
            }
            () = stop.cancelled(), if stopping.is_none() => {
                stopping = Some(activity.snapshot());
                quiet.as_mut().reset(tokio::time::Instant::now() + SHUTDOWN_QUIET);
            }
            () = &mut quiet, if stopping.is_some() => {
                let now = activity.snapshot();
                let (_, requests, in_flight) = now;
                if stopping == Some(now) && in_flight == 0 {
                    if requests == 0 {
                        // Handshake done, nothing sent since: nothing to answer.
                        return;
                    }
                    // Idle between requests: hyper closes it; mid-request it
                    // finishes the answer first.
                    conn.as_mut().graceful_shutdown();
                    break;
                }
                stopping = Some(now);
                quiet.as_mut().reset(tokio::time::Instant::now() + SHUTDOWN_QUIET);
            }
        }
    }
    if let Err(e) = conn.await {
        tracing::debug!(error = %e, "connection ended with an error");
    }
}
