//! A stand-in for one kubelet endpoint, the container log stream
//! (`GET /containerLogs/{namespace}/{pod}/{container}`), served over TLS on
//! 127.0.0.1 so that the real API server proxies `pods/log` to it: the API
//! server reads the Node's InternalIP address and kubelet port
//! ([`crate::common::apiserver::ApiServer::node_with_kubelet`]) and, without
//! `--kubelet-certificate-authority`, does not verify the kubelet's
//! certificate. It streams what the test says ([`FakeKubelet::say`]) until the
//! test ends the container ([`FakeKubelet::end`]), and records every request
//! line so that tests can assert on the exact paths and queries.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::Uri;
use axum::routing::get;
use axum_server::Handle;
use axum_server::tls_rustls::RustlsConfig;
use sandbox_lint::webhook::tls::{TlsFiles, load};
use tokio::sync::mpsc;

use super::https::Ca;

type Lines = mpsc::UnboundedReceiver<String>;

#[derive(Clone)]
struct Shared {
    requests: Arc<Mutex<Vec<String>>>,
    lines: Arc<Mutex<Option<Lines>>>,
}

pub struct FakeKubelet {
    pub addr: SocketAddr,
    requests: Arc<Mutex<Vec<String>>>,
    say: Option<mpsc::UnboundedSender<String>>,
    handle: Handle<SocketAddr>,
    _dir: tempfile::TempDir,
}

impl FakeKubelet {
    /// Serves on a free port of 127.0.0.1 with a certificate of its own CA.
    pub async fn start() -> FakeKubelet {
        let dir = tempfile::tempdir().unwrap();
        let identity = Ca::new("fake-kubelet-ca").server_cert(&["127.0.0.1"]);
        let files = TlsFiles {
            cert: dir.path().join("tls.crt"),
            key: dir.path().join("tls.key"),
            client_ca: None,
        };
        std::fs::write(&files.cert, &identity.cert_pem).unwrap();
        std::fs::write(&files.key, &identity.key_pem).unwrap();
        let (config, _) = load(&files).unwrap();
        let (say, lines) = mpsc::unbounded_channel();
        let shared = Shared {
            requests: Arc::default(),
            lines: Arc::new(Mutex::new(Some(lines))),
        };
        let app = axum::Router::new()
            .route(
                "/containerLogs/{namespace}/{pod}/{container}",
                get(container_logs),
            )
            .with_state(shared.clone());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let handle = Handle::new();
        let server = axum_server::from_tcp_rustls(listener, RustlsConfig::from_config(config))
            .unwrap()
            .handle(handle.clone());
        tokio::spawn(async move { server.serve(app.into_make_service()).await });
        FakeKubelet {
            addr,
            requests: shared.requests,
            say: Some(say),
            handle,
            _dir: dir,
        }
    }

    /// Writes `line` (and a newline) to the container's log.
    pub fn say(&self, line: &str) {
        if let Some(say) = &self.say {
            let _ = say.send(format!("{line}\n"));
        }
    }

    /// The container ends: the log stream is closed after what was said.
    pub fn end(&mut self) {
        self.say = None;
    }

    /// The request lines served so far (`path?query`).
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for FakeKubelet {
    fn drop(&mut self) {
        self.handle.shutdown();
    }
}

/// One log stream: what the test says, as it says it. A second request for
/// the same log gets an empty body (the lines were consumed by the first).
async fn container_logs(State(shared): State<Shared>, uri: Uri) -> Body {
    shared.requests.lock().unwrap().push(uri.to_string());
    let Some(lines) = shared.lines.lock().unwrap().take() else {
        return Body::empty();
    };
    let stream = futures::stream::unfold(lines, |mut lines| async move {
        let line = lines.recv().await?;
        Some((Ok::<_, std::convert::Infallible>(Bytes::from(line)), lines))
    });
    Body::from_stream(stream)
}
