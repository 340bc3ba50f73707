//! Black-box tests of `sandbox-lint serve`: the real binary runs as a
//! subprocess on 127.0.0.1 with certificates made by rcgen, and a real HTTPS
//! client (hyper over tokio-rustls, see `common/https.rs`) talks to it.
//!
//! Each test starts its own server on ports the kernel picks (`--listen
//! 127.0.0.1:0`), learns them from the server's first log line, and kills the
//! server when it ends (also on a panic). The server's stderr, JSON lines, goes
//! to a file in the test's temporary directory and is printed when a test
//! fails while waiting on it.

mod common;

use common::admission::create_review as review;

use std::collections::BTreeMap;
use std::fs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use common::https::{self, Ca, Client, Identity, Versions, error_chain};
use hyper::Method;
use rustls::ProtocolVersion;
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

const BIN: &str = env!("CARGO_BIN_EXE_sandbox-lint");
const SETPRIV: &str = "/usr/bin/setpriv";
/// How long the server may take to log that it is serving.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// The field path SL1007 names for the privileged variant of the runner pod.
const PRIVILEGED_PATH: &str = "spec.containers[0].securityContext.privileged";
/// The built-in policy's name (the `policy` label of a denial).
const DEFAULT_POLICY: &str = "gvisor-sandbox";

// ---------------------------------------------------------------------------
// The server under test.

/// A running `sandbox-lint serve`; killed and reaped on drop.
struct Server {
    child: Child,
    /// The exit status, once reaped.
    exited: Option<ExitStatus>,
    /// HTTPS `/validate`.
    addr: SocketAddr,
    /// Plain HTTP: `/healthz`, `/readyz`, `/metrics`.
    health: SocketAddr,
    cert: PathBuf,
    key: PathBuf,
    log: PathBuf,
    _dir: TempDir,
}

impl Server {
    /// Starts the server with `identity` as its serving certificate, requiring
    /// client certificates from `client_ca` when given, with `args` added.
    async fn start(identity: &Identity, client_ca: Option<&str>, args: &[&str]) -> Server {
        let dir = tempfile::Builder::new()
            .prefix("sandbox-lint-serve-")
            .tempdir()
            .expect("temporary directory");
        let cert = dir.path().join("tls.crt");
        let key = dir.path().join("tls.key");
        let log = dir.path().join("stderr.jsonl");
        fs::write(&cert, &identity.cert_pem).unwrap();
        fs::write(&key, &identity.key_pem).unwrap();
        // The server dies with the thread that started it should this process
        // die without unwinding (setpriv execs, so the pid stays the server's).
        let mut cmd = if Path::new(SETPRIV).exists() {
            let mut c = Command::new(SETPRIV);
            c.args(["--pdeathsig", "KILL", "--", BIN]);
            c
        } else {
            Command::new(BIN)
        };
        cmd.arg("serve")
            .args(["--listen", "127.0.0.1:0", "--health-listen", "127.0.0.1:0"])
            .arg("--tls-cert")
            .arg(&cert)
            .arg("--tls-key")
            .arg(&key);
        if let Some(pem) = client_ca {
            let path = dir.path().join("client-ca.crt");
            fs::write(&path, pem).unwrap();
            cmd.arg("--client-ca").arg(path);
        }
        cmd.args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(fs::File::create(&log).unwrap());
        let child = cmd.spawn().expect("starting sandbox-lint serve");
        let mut server = Server {
            child,
            exited: None,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            health: SocketAddr::from(([127, 0, 0, 1], 0)),
            cert,
            key,
            log,
            _dir: dir,
        };
        let started = Instant::now();
        loop {
            if let Some(line) = server
                .log_lines()
                .into_iter()
                .find(|l| message(l) == "serving admission reviews")
            {
                let addr = |name: &str| -> SocketAddr {
                    line["fields"][name]
                        .as_str()
                        .and_then(|s| s.parse().ok())
                        .unwrap_or_else(|| panic!("no `{name}` address in {line}"))
                };
                server.addr = addr("listen");
                server.health = addr("health");
                return server;
            }
            if let Some(status) = server.child.try_wait().unwrap() {
                panic!(
                    "sandbox-lint serve exited with {status} before serving:\n{}",
                    server.log_text()
                );
            }
            assert!(
                started.elapsed() < START_TIMEOUT,
                "sandbox-lint serve did not start within {START_TIMEOUT:?}:\n{}",
                server.log_text()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn pid(&self) -> nix::unistd::Pid {
        nix::unistd::Pid::from_raw(i32::try_from(self.child.id()).unwrap())
    }

    fn log_text(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The complete log lines so far, each parsed; a line that is not JSON
    /// fails the test.
    fn log_lines(&self) -> Vec<Value> {
        let text = self.log_text();
        let complete = text.rfind('\n').map_or("", |end| &text[..end]);
        complete
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                serde_json::from_str(l)
                    .unwrap_or_else(|e| panic!("log line is not JSON ({e}): {l}"))
            })
            .collect()
    }

    /// Waits for a log line matching `want`.
    async fn wait_for_log(&self, what: &str, timeout: Duration, want: impl Fn(&Value) -> bool) {
        let deadline = Instant::now() + timeout;
        while !self.log_lines().iter().any(&want) {
            assert!(
                Instant::now() < deadline,
                "no log line {what} within {timeout:?}:\n{}",
                self.log_text()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits up to `timeout` for the process to exit.
    async fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                self.exited = Some(status);
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.exited.is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn message(line: &Value) -> &str {
    line["fields"]["message"].as_str().unwrap_or("")
}

// ---------------------------------------------------------------------------
// Admission reviews.

/// The compliant runner pod of the test data, as JSON.
fn runner_pod() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/compliant/ok-runner-pod.yaml");
    let text = fs::read_to_string(&path).unwrap();
    let docs = sandbox_lint::yaml::parse_documents(&text, &Default::default()).unwrap();
    assert_eq!(docs.len(), 1, "{}", path.display());
    docs[0].to_json()
}

/// The runner pod with its container privileged (SL1007).
fn privileged_pod() -> Value {
    let mut pod = runner_pod();
    pod["spec"]["containers"][0]["securityContext"]["privileged"] = json!(true);
    pod
}

/// A ClusterIP Service: a kind sandbox-lint does not judge.
fn service() -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "runner", "namespace": "workflows"},
        "spec": {"selector": {"app": "workflow-runner"}, "ports": [{"port": 80}]}
    })
}

fn body(review: &Value) -> Vec<u8> {
    serde_json::to_vec(review).unwrap()
}

/// Checks a 200 review answer for `uid` and returns its `response`.
fn answer_for(a: &https::Answer, uid: &str) -> Value {
    assert_eq!(a.status, 200, "{}", a.text());
    assert!(
        a.content_type().starts_with("application/json"),
        "content type {:?}",
        a.content_type()
    );
    let review = a.json();
    assert_eq!(review["kind"], "AdmissionReview", "{review}");
    let response = review["response"].clone();
    assert_eq!(response["uid"], uid, "{review}");
    response
}

fn assert_allowed(a: &https::Answer, uid: &str) {
    let r = answer_for(a, uid);
    assert_eq!(r["allowed"], true, "{r}");
}

fn assert_denied_privileged(a: &https::Answer, uid: &str) {
    let r = answer_for(a, uid);
    assert_eq!(r["allowed"], false, "{r}");
    assert_eq!(r["status"]["code"], 403, "{r}");
    let msg = r["status"]["message"].as_str().unwrap_or("");
    assert!(
        msg.contains("SL1007") && msg.contains(PRIVILEGED_PATH),
        "the denial does not name SL1007 at {PRIVILEGED_PATH}: {msg}"
    );
}

/// A connection that trusts `ca` and speaks any version.
async fn connect(ca: &Ca, addr: SocketAddr) -> https::Connection {
    Client::new(&ca.pem, Versions::Any, None)
        .connect(addr)
        .await
        .unwrap_or_else(|e| panic!("connecting to {addr}: {}", error_chain(&*e)))
}

/// Connects with `client` and sends one review: any failure, handshake or
/// request, is the error.
async fn try_review(client: &Client, addr: SocketAddr, uid: &str) -> Result<https::Answer, String> {
    let mut conn = client.connect(addr).await.map_err(|e| error_chain(&*e))?;
    conn.post("/validate", body(&review(uid, &runner_pod())))
        .await
        .map_err(|e| error_chain(&*e))
}

/// Reads from `stream` until the peer closes it, at most `limit`; returns what
/// arrived and how long it took, or `None` if the stream was still open.
async fn read_until_closed<S: tokio::io::AsyncRead + Unpin>(
    stream: &mut S,
    limit: Duration,
) -> Option<(Vec<u8>, Duration)> {
    let start = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let left = limit.checked_sub(start.elapsed())?;
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some((got, start.elapsed())),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
}

// ---------------------------------------------------------------------------
// 1. Reviews.

/// Shows the main path end to end over both TLS versions the server offers:
/// with the client restricted to TLS 1.3, then to TLS 1.2 (and the negotiated
/// version checked), one keep-alive connection carries 20 reviews in turn; the
/// compliant runner pod is allowed, its privileged variant denied with code
/// 403 and a message naming SL1007 and the field, and every answer echoes its
/// request's uid.
#[tokio::test]
async fn reviews_over_tls13_and_tls12_on_one_keep_alive_connection() {
    let ca = Ca::new("sandbox-lint test CA");
    let server = Server::start(&ca.server_cert(&["127.0.0.1"]), None, &[]).await;
    let (good, bad) = (runner_pod(), privileged_pod());
    for (versions, expected) in [
        (Versions::Tls13, ProtocolVersion::TLSv1_3),
        (Versions::Tls12, ProtocolVersion::TLSv1_2),
    ] {
        let mut conn = Client::new(&ca.pem, versions, None)
            .connect(server.addr)
            .await
            .unwrap_or_else(|e| panic!("{versions:?}: {}", error_chain(&*e)));
        assert_eq!(conn.tls_version, Some(expected));
        for i in 0..20 {
            let uid = format!("{versions:?}-{i}");
            let privileged = i % 2 == 1;
            let object = if privileged { &bad } else { &good };
            // A closed connection would fail here: hyper does not reconnect.
            let a = conn
                .post("/validate", body(&review(&uid, object)))
                .await
                .unwrap_or_else(|e| panic!("{uid}: {}", error_chain(&*e)));
            if privileged {
                assert_denied_privileged(&a, &uid);
            } else {
                assert_allowed(&a, &uid);
            }
        }
        assert!(
            !conn.is_closed(),
            "{versions:?}: the server closed the keep-alive connection"
        );
    }
}

// ---------------------------------------------------------------------------
// 2. Client certificates.

/// Shows that `--client-ca` makes client certificates mandatory: a client
/// with no certificate, or with one from another CA, is refused by a TLS alert
/// (over 1.3 and 1.2) and gets no answer; a client whose certificate the CA
/// signed is served.
#[tokio::test]
async fn client_ca_admits_only_clients_it_signed() {
    let server_ca = Ca::new("serving CA");
    let client_ca = Ca::new("API server client CA");
    let stranger_ca = Ca::new("some other CA");
    let server = Server::start(
        &server_ca.server_cert(&["127.0.0.1"]),
        Some(&client_ca.pem),
        &[],
    )
    .await;
    let signed = client_ca.client_cert("kube-apiserver");
    let stranger = stranger_ca.client_cert("kube-apiserver");
    for versions in [Versions::Tls13, Versions::Tls12] {
        for (who, identity, alert) in [
            ("no certificate", None, "CertificateRequired"),
            ("another CA's", Some(&stranger), "UnknownCA"),
        ] {
            let client = Client::new(&server_ca.pem, versions, identity);
            match try_review(&client, server.addr, "refused").await {
                Ok(a) => panic!(
                    "{versions:?}, {who}: served ({}) instead of refused",
                    a.status
                ),
                Err(e) => assert!(
                    e.contains(&format!("alert: {alert}")),
                    "{versions:?}, {who}: not refused by a TLS alert {alert}: {e}"
                ),
            }
        }
        let client = Client::new(&server_ca.pem, versions, Some(&signed));
        let a = try_review(&client, server.addr, "signed")
            .await
            .unwrap_or_else(|e| panic!("{versions:?}, signed client refused: {e}"));
        assert_allowed(&a, "signed");
    }
}

// ---------------------------------------------------------------------------
// 3. Certificate reload.

/// Shows certificate rotation by polling (`--reload-interval 0.2`): after the
/// certificate and key files are rewritten with a certificate of a second CA,
/// new connections that trust only the new CA are served within seconds and
/// ones that trust only the old CA are refused, while a request whose
/// connection was opened before the rewrite and whose body was still arriving
/// during it completes with its answer. Then garbage in the key file is
/// rejected with a warning and the new certificate keeps serving.
#[tokio::test]
async fn certificate_files_are_reloaded_without_dropping_requests() {
    let old_ca = Ca::new("old CA");
    let new_ca = Ca::new("new CA");
    let server = Server::start(
        &old_ca.server_cert(&["127.0.0.1"]),
        None,
        &["--reload-interval", "0.2"],
    )
    .await;

    // A connection from before the rotation, with a request trickling across it.
    let mut early = connect(&old_ca, server.addr).await;
    assert_allowed(
        &early
            .post("/validate", body(&review("before", &runner_pod())))
            .await
            .unwrap(),
        "before",
    );
    let in_flight = tokio::spawn(async move {
        let body = https::trickle(
            body(&review("across", &runner_pod())),
            16,
            Duration::from_millis(100),
        );
        early.send(Method::POST, "/validate", body).await
    });
    tokio::time::sleep(Duration::from_millis(300)).await;

    let rotated = new_ca.server_cert(&["127.0.0.1"]);
    fs::write(&server.cert, &rotated.cert_pem).unwrap();
    fs::write(&server.key, &rotated.key_pem).unwrap();
    let new_client = Client::new(&new_ca.pem, Versions::Any, None);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match try_review(&new_client, server.addr, "after").await {
            Ok(a) => {
                assert_allowed(&a, "after");
                break;
            }
            Err(e) => assert!(
                Instant::now() < deadline,
                "the new certificate is not served 5 s after the rewrite: {e}\n{}",
                server.log_text()
            ),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server
        .wait_for_log("`TLS certificate reloaded`", Duration::from_secs(2), |l| {
            message(l) == "TLS certificate reloaded"
        })
        .await;
    assert!(
        !in_flight.is_finished(),
        "the request meant to span the reload finished before it"
    );
    let old_client = Client::new(&old_ca.pem, Versions::Any, None);
    let e = try_review(&old_client, server.addr, "old")
        .await
        .expect_err("a client trusting only the old CA was still served");
    assert!(
        e.contains("certificate"),
        "refused for another reason than the certificate: {e}"
    );

    let a = in_flight.await.unwrap().unwrap_or_else(|e| {
        panic!(
            "the request in flight across the reload failed: {}",
            error_chain(&*e)
        )
    });
    assert_allowed(&a, "across");

    // A broken key file: rejected, logged, the current certificate stays.
    fs::write(&server.key, "-----BEGIN PRIVATE KEY-----\nnot a key\n").unwrap();
    server
        .wait_for_log(
            "warning that the new TLS files were rejected",
            Duration::from_secs(5),
            |l| l["level"] == "WARN" && message(l).contains("keeping the current certificate"),
        )
        .await;
    for uid in ["garbage-1", "garbage-2"] {
        let a = try_review(&new_client, server.addr, uid)
            .await
            .unwrap_or_else(|e| panic!("not served after a broken key file: {e}"));
        assert_allowed(&a, uid);
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

// ---------------------------------------------------------------------------
// 4. Limits.

/// Shows the answers to requests that are not plain reviews: a body over
/// `--max-body-bytes` gets 413 with a plain-text reason, malformed JSON 400,
/// an AdmissionReview v1beta1 a 200 answer in v1beta1 that denies, and an
/// object of a kind sandbox-lint does not judge (a Service) a denial that says
/// so.
#[tokio::test]
async fn oversized_malformed_and_unjudged_requests() {
    let ca = Ca::new("limits CA");
    let server = Server::start(
        &ca.server_cert(&["127.0.0.1"]),
        None,
        &["--max-body-bytes", "16384"],
    )
    .await;

    let mut big = runner_pod();
    big["metadata"]["annotations"] = json!({"filler": "x".repeat(64 * 1024)});
    let a = connect(&ca, server.addr)
        .await
        .post("/validate", body(&review("big", &big)))
        .await
        .unwrap_or_else(|e| panic!("no answer to an oversized body: {}", error_chain(&*e)));
    assert_eq!(a.status, 413, "{}", a.text());
    assert!(
        a.content_type().starts_with("text/plain"),
        "{:?}",
        a.headers
    );
    assert!(a.text().contains("--max-body-bytes"), "{}", a.text());

    let mut conn = connect(&ca, server.addr).await;
    let a = conn
        .post(
            "/validate",
            &b"{\"apiVersion\": \"admission.k8s.io/v1\", \"kind\""[..],
        )
        .await
        .unwrap();
    assert_eq!(a.status, 400, "{}", a.text());
    assert!(
        a.content_type().starts_with("text/plain"),
        "{:?}",
        a.headers
    );

    let mut old = review("beta", &runner_pod());
    old["apiVersion"] = json!("admission.k8s.io/v1beta1");
    let a = conn.post("/validate", body(&old)).await.unwrap();
    let r = answer_for(&a, "beta");
    assert_eq!(a.json()["apiVersion"], "admission.k8s.io/v1beta1");
    assert_eq!(r["allowed"], false, "{r}");
    assert!(
        r["status"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("admission.k8s.io/v1")),
        "{r}"
    );

    let a = conn
        .post("/validate", body(&review("svc", &service())))
        .await
        .unwrap();
    let r = answer_for(&a, "svc");
    assert_eq!(r["allowed"], false, "{r}");
    let msg = r["status"]["message"].as_str().unwrap_or("");
    assert!(
        msg.contains("does not judge") && msg.contains("Service"),
        "unclear denial of a Service: {msg}"
    );
}

/// Shows that `--request-timeout 1` bounds what a client may hold: a request
/// whose body never finishes is answered 408 or closed, a request whose
/// headers never finish is closed, and a TCP connection that never starts the
/// TLS handshake is closed, each after about a second and well within five,
/// while the server keeps serving others.
#[tokio::test]
async fn slow_clients_are_cut_off_after_the_request_timeout() {
    let ca = Ca::new("timeout CA");
    let server = Server::start(
        &ca.server_cert(&["127.0.0.1"]),
        None,
        &["--request-timeout", "1"],
    )
    .await;
    let client = Client::new(&ca.pem, Versions::Any, None);
    let limit = Duration::from_secs(5);
    let head = format!(
        "POST /validate HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\ncontent-length: 4000\r\n\r\n",
        server.addr
    );

    let slow_body = async {
        let mut tls = client.tls(server.addr).await.unwrap();
        tls.write_all(head.as_bytes()).await.unwrap();
        tls.write_all(b"{\"apiVersion\":").await.unwrap();
        tls.flush().await.unwrap();
        read_until_closed(&mut tls, limit).await
    };
    let slow_head = async {
        let mut tls = client.tls(server.addr).await.unwrap();
        tls.write_all(b"POST /validate HTTP/1.1\r\nhost: x\r\n")
            .await
            .unwrap();
        tls.flush().await.unwrap();
        read_until_closed(&mut tls, limit).await
    };
    let no_handshake = async {
        let mut tcp = TcpStream::connect(server.addr).await.unwrap();
        read_until_closed(&mut tcp, limit).await
    };
    let meanwhile = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        try_review(&client, server.addr, "meanwhile").await
    };
    let (slow_body, slow_head, no_handshake, meanwhile) =
        tokio::join!(slow_body, slow_head, no_handshake, meanwhile);

    let (got, took) = slow_body.expect("a request with an unfinished body hung past 5 s");
    let text = String::from_utf8_lossy(&got);
    assert!(
        got.is_empty() || text.starts_with("HTTP/1.1 408"),
        "unfinished body answered with: {text}"
    );
    assert!(
        took >= Duration::from_millis(900),
        "cut off early: {took:?}"
    );

    let (got, took) = slow_head.expect("a request with unfinished headers hung past 5 s");
    let text = String::from_utf8_lossy(&got);
    assert!(
        got.is_empty() || text.starts_with("HTTP/1.1 408"),
        "unfinished headers answered with: {text}"
    );
    assert!(
        took >= Duration::from_millis(900),
        "cut off early: {took:?}"
    );

    let (got, took) = no_handshake.expect("a connection without a handshake hung past 5 s");
    assert!(got.is_empty(), "{got:?}");
    assert!(
        took >= Duration::from_millis(900),
        "cut off early: {took:?}"
    );

    assert_allowed(
        &meanwhile.expect("not served while slow clients wait"),
        "meanwhile",
    );
}

// ---------------------------------------------------------------------------
// 5. Probes, metrics and logs.

/// One sample of the text exposition: metric name and labels.
type Sample = (String, BTreeMap<String, String>);

/// An idle keep-alive connection outlives `--request-timeout`: the API server
/// reuses its connections after up to 90 s of idleness, and a connection the
/// server cut just then would refuse an object under `failurePolicy: Fail`.
/// Only `--idle-timeout` closes it.
#[tokio::test]
async fn idle_keep_alive_connections_outlive_the_request_timeout() {
    let ca = Ca::new("idle CA");
    let cert = ca.server_cert(&["127.0.0.1"]);
    let server = Server::start(&cert, None, &["--request-timeout", "1"]).await;
    let mut conn = connect(&ca, server.addr).await;
    let a = conn
        .post("/validate", body(&review("first", &runner_pod())))
        .await
        .unwrap();
    assert_allowed(&a, "first");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let a = conn
        .post("/validate", body(&review("after-idle", &runner_pod())))
        .await
        .unwrap_or_else(|e| panic!("idle connection was cut: {}", error_chain(&*e)));
    assert_allowed(&a, "after-idle");

    let short = Server::start(&cert, None, &["--idle-timeout", "1"]).await;
    let mut conn = connect(&ca, short.addr).await;
    conn.post("/validate", body(&review("first", &runner_pod())))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(
        conn.post("/validate", body(&review("late", &runner_pod())))
            .await
            .is_err(),
        "--idle-timeout 1 should have closed the connection"
    );
}

/// Parses `name{a="b",...} value` lines (label values without `"` or `,`).
fn parse_metrics(text: &str) -> BTreeMap<Sample, f64> {
    let mut out = BTreeMap::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let (series, value) = line.rsplit_once(' ').unwrap();
        let (name, labels) = match series.split_once('{') {
            Some((n, rest)) => (n, rest.trim_end_matches('}')),
            None => (series, ""),
        };
        let labels = labels
            .split(',')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap();
                (k.to_string(), v.trim_matches('"').to_string())
            })
            .collect();
        out.insert((name.to_string(), labels), value.parse().unwrap());
    }
    out
}

fn sample(name: &str, labels: &[(&str, &str)]) -> Sample {
    (
        name.to_string(),
        labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

/// Shows what operators see: `/healthz` and `/readyz` answer 200 on the
/// plain-HTTP port; `/metrics` counts exactly the requests made by decision,
/// kind and deciding policy, counts the SL1007 findings, and its latency
/// histogram holds one observation per request; every stderr line is a JSON
/// object and the denial is logged with its request's uid.
#[tokio::test]
async fn probes_metrics_and_json_logs() {
    let ca = Ca::new("ops CA");
    let server = Server::start(&ca.server_cert(&["127.0.0.1"]), None, &[]).await;
    let mut plain = https::connect_plain(server.health).await.unwrap();
    for path in ["/healthz", "/readyz"] {
        let a = plain.get(path).await.unwrap();
        assert_eq!(a.status, 200, "{path}: {}", a.text());
    }

    let mut conn = connect(&ca, server.addr).await;
    for i in 0..3 {
        let uid = format!("ok-{i}");
        assert_allowed(
            &conn
                .post("/validate", body(&review(&uid, &runner_pod())))
                .await
                .unwrap(),
            &uid,
        );
    }
    let denied = ["denied-7f3a", "denied-91c2"];
    for uid in denied {
        assert_denied_privileged(
            &conn
                .post("/validate", body(&review(uid, &privileged_pod())))
                .await
                .unwrap(),
            uid,
        );
    }
    let a = conn
        .post("/validate", body(&review("svc", &service())))
        .await
        .unwrap();
    assert_eq!(answer_for(&a, "svc")["allowed"], false);
    let a = conn.post("/validate", &b"not json"[..]).await.unwrap();
    assert_eq!(a.status, 400);
    // A DELETE is allowed without judging.
    let mut delete = review("gone", &runner_pod());
    delete["request"]["operation"] = json!("DELETE");
    delete["request"]["oldObject"] = delete["request"]["object"].take();
    let r = answer_for(
        &conn.post("/validate", body(&delete)).await.unwrap(),
        "gone",
    );
    assert_eq!(r["allowed"], true, "{r}");
    let requests = 8.0;

    let a = plain.get("/metrics").await.unwrap();
    assert_eq!(a.status, 200);
    let text = a.text();
    let m = parse_metrics(&text);
    let get = |s: Sample| m.get(&s).copied().unwrap_or(0.0);
    let total = "sandbox_lint_admission_requests_total";
    // Requests by decision and kind, whatever the policy label.
    let by = |decision: &str, kind: &str| -> f64 {
        m.iter()
            .filter(|((name, l), _)| {
                name == total && l["decision"] == decision && l["kind"] == kind
            })
            .map(|(_, v)| v)
            .sum()
    };
    // Without --cluster-context the compliant pod draws warnings (its
    // NetworkPolicy, ServiceAccount and RuntimeClass cannot be checked).
    assert_eq!(by("warned", "Pod"), 3.0, "{text}");
    assert_eq!(
        get(sample(
            total,
            &[("decision", "allowed"), ("kind", "Pod"), ("policy", "")]
        )),
        1.0,
        "{text}"
    );
    assert_eq!(
        get(sample(
            total,
            &[
                ("decision", "denied"),
                ("kind", "Pod"),
                ("policy", DEFAULT_POLICY)
            ]
        )),
        2.0,
        "{text}"
    );
    assert_eq!(by("invalid", "<other>"), 1.0, "{text}");
    assert_eq!(by("error", "<none>"), 1.0, "{text}");
    let counted: f64 = m
        .iter()
        .filter(|((name, _), _)| name == total)
        .map(|(_, v)| v)
        .sum();
    assert_eq!(counted, requests, "requests counted in all:\n{text}");
    assert_eq!(
        get(sample(
            "sandbox_lint_admission_findings_total",
            &[("code", "SL1007"), ("severity", "error")]
        )),
        2.0,
        "{text}"
    );
    assert_eq!(
        get(sample("sandbox_lint_admission_duration_seconds_count", &[])),
        requests,
        "{text}"
    );
    let inf = get(sample(
        "sandbox_lint_admission_duration_seconds_bucket",
        &[("le", "+Inf")],
    ));
    assert_eq!(inf, requests, "{text}");

    // Logs: JSON lines; the denials carry their uids.
    server
        .wait_for_log("for the second denial", Duration::from_secs(2), |l| {
            l["fields"]["uid"] == denied[1]
        })
        .await;
    let lines = server.log_lines();
    assert!(lines.iter().all(Value::is_object));
    for uid in denied {
        let line = lines
            .iter()
            .find(|l| l["fields"]["uid"] == uid)
            .unwrap_or_else(|| panic!("no log line for {uid}:\n{}", server.log_text()));
        assert_eq!(line["fields"]["decision"], "denied", "{line}");
        assert_eq!(line["level"], "INFO", "{line}");
    }
    // The log file ends with a complete line: nothing was left unparsed.
    assert!(server.log_text().ends_with('\n'));
}

// ---------------------------------------------------------------------------
// 6. Graceful shutdown.

/// Shows a graceful SIGTERM: with a review in flight (its body still
/// trickling in), the server stops accepting connections and fails `/readyz`
/// (or closes its port), still answers the review in flight with 200, then
/// exits 0 well within `--shutdown-grace`, after which its ports refuse.
#[tokio::test]
async fn sigterm_finishes_in_flight_reviews_then_exits_zero() {
    let ca = Ca::new("shutdown CA");
    let grace = Duration::from_secs(10);
    let mut server = Server::start(
        &ca.server_cert(&["127.0.0.1"]),
        None,
        &["--shutdown-grace", "10"],
    )
    .await;
    let mut conn = connect(&ca, server.addr).await;
    let in_flight = tokio::spawn(async move {
        let body = https::trickle(
            body(&review("last", &runner_pod())),
            12,
            Duration::from_millis(150),
        );
        conn.send(Method::POST, "/validate", body).await
    });
    tokio::time::sleep(Duration::from_millis(300)).await;

    let signalled = Instant::now();
    nix::sys::signal::kill(server.pid(), nix::sys::signal::Signal::SIGTERM).unwrap();
    server
        .wait_for_log("`shutting down`", Duration::from_secs(3), |l| {
            message(l).starts_with("shutting down")
        })
        .await;
    assert!(
        !in_flight.is_finished(),
        "the review meant to be in flight at SIGTERM finished before it"
    );
    // A closed probe port also means "not ready".
    if let Ok(mut plain) = https::connect_plain(server.health).await
        && let Ok(a) = plain.get("/readyz").await
    {
        assert_eq!(a.status, 503, "/readyz while stopping: {}", a.text());
    }
    let deadline = Instant::now() + Duration::from_secs(2);
    while TcpStream::connect(server.addr).await.is_ok() {
        assert!(
            Instant::now() < deadline,
            "new connections are still accepted 2 s after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let answer = in_flight.await.unwrap();
    let a =
        answer.unwrap_or_else(|e| panic!("the review in flight was dropped: {}", error_chain(&*e)));
    assert_allowed(&a, "last");
    let status = server.wait_exit(grace).await.unwrap_or_else(|| {
        panic!(
            "still running {grace:?} after SIGTERM:\n{}",
            server.log_text()
        )
    });
    let exited = Instant::now();
    assert!(
        status.success(),
        "exit status {status}:\n{}",
        server.log_text()
    );
    assert!(
        exited.duration_since(signalled) < grace,
        "took {:?} to exit",
        exited.duration_since(signalled)
    );
    assert!(TcpStream::connect(server.addr).await.is_err());
    assert!(TcpStream::connect(server.health).await.is_err());
    assert!(
        server.log_lines().iter().any(|l| message(l) == "stopped"),
        "{}",
        server.log_text()
    );
}

/// One request of the shutdown test (or the connection it never got).
struct Sent {
    /// When its connection's TCP handshake completed (for a refused
    /// connection: when the refusal came).
    established: Instant,
    /// When its answer (or error) came.
    done: Instant,
    /// The error: a refused or broken connection, no answer, or a wrong one.
    error: Option<String>,
}

/// Shows that SIGTERM drops nothing. In each of 5 rounds 48 clients load a
/// server (`--shutdown-grace 10`): a third send up to 20 reviews back to back
/// on a keep-alive connection, a third open a new connection for every review
/// (so that at the signal connections wait in the accept queue or are in
/// their TLS handshake), a third pause up to 300 ms between reviews (so that
/// keep-alive connections are idle at the signal and send just after it).
/// SIGTERM comes in the middle. Every request on a connection whose TCP
/// handshake completed before the signal gets a complete 200 AdmissionReview
/// answering its uid (a client stops using a connection once an answer says
/// `Connection: close`, as HTTP/1.1 wants); requests were in flight across
/// the signal in every round; the server exits 0 each time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_answers_every_request_on_connections_made_before_it() {
    const ROUNDS: usize = 5;
    const CLIENTS: usize = 48;
    let ca = Ca::new("drain CA");
    let cert = ca.server_cert(&["127.0.0.1"]);
    let client = Client::new(&ca.pem, Versions::Any, None);
    let pod = std::sync::Arc::new(runner_pod());
    let mut across_signal = 0;
    for round in 0..ROUNDS {
        let mut server = Server::start(&cert, None, &["--shutdown-grace", "10"]).await;
        let addr = server.addr;
        let signalled = std::sync::Arc::new(std::sync::OnceLock::<Instant>::new());
        let mut workers = Vec::new();
        for w in 0..CLIENTS {
            let (client, pod, signalled) = (client.clone(), pod.clone(), signalled.clone());
            workers.push(tokio::spawn(async move {
                let mut sent: Vec<Sent> = Vec::new();
                let mut seq = 0u64;
                let per_connection = if w % 3 == 1 { 1 } else { 20 };
                let hard_stop = Instant::now() + Duration::from_secs(20);
                while Instant::now() < hard_stop {
                    let (mut conn, established) = match client.connect_noting_tcp(addr).await {
                        Ok(c) => c,
                        Err((at, e)) => {
                            let now = Instant::now();
                            sent.push(Sent {
                                established: at.unwrap_or(now),
                                done: now,
                                error: Some(format!("connecting: {}", error_chain(&*e))),
                            });
                            if signalled.get().is_some() {
                                break;
                            }
                            continue;
                        }
                    };
                    for i in 0..per_connection {
                        if w % 3 == 2 && i > 0 {
                            let pause = (w as u64 * 7919 + seq * 104_729) % 300;
                            tokio::time::sleep(Duration::from_millis(pause)).await;
                        }
                        seq += 1;
                        let uid = format!("r{round}-w{w}-{seq}");
                        let answer = conn.post("/validate", body(&review(&uid, &pod))).await;
                        let (error, close) = match answer {
                            Err(e) => (Some(error_chain(&*e)), true),
                            Ok(a) => {
                                let close = a
                                    .headers
                                    .get("connection")
                                    .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"close"));
                                let v: Value = serde_json::from_slice(&a.body).unwrap_or_default();
                                let ok = a.status == 200
                                    && v["kind"] == "AdmissionReview"
                                    && v["response"]["uid"] == uid.as_str();
                                let error = (!ok).then(|| format!("{} {}", a.status, a.text()));
                                (error, close)
                            }
                        };
                        sent.push(Sent {
                            established,
                            done: Instant::now(),
                            error,
                        });
                        if close {
                            break;
                        }
                    }
                    if signalled
                        .get()
                        .is_some_and(|s| s.elapsed() > Duration::from_secs(3))
                    {
                        break;
                    }
                }
                sent
            }));
        }
        tokio::time::sleep(Duration::from_millis(400 + 50 * round as u64)).await;
        let at = Instant::now();
        signalled.set(at).unwrap();
        nix::sys::signal::kill(server.pid(), nix::sys::signal::Signal::SIGTERM).unwrap();
        let mut sent = Vec::new();
        for w in workers {
            sent.extend(w.await.unwrap());
        }
        let status = server
            .wait_exit(Duration::from_secs(15))
            .await
            .unwrap_or_else(|| panic!("round {round}: still running after SIGTERM"));
        assert!(
            status.success(),
            "round {round}: exit {status}:\n{}",
            server.log_text()
        );

        let before: Vec<&Sent> = sent.iter().filter(|s| s.established < at).collect();
        let dropped: Vec<String> = before
            .iter()
            .filter_map(|s| s.error.clone())
            .take(10)
            .collect();
        let answered = before.iter().filter(|s| s.error.is_none()).count();
        let late = before
            .iter()
            .filter(|s| s.error.is_none() && s.done > at)
            .count();
        assert!(
            dropped.is_empty(),
            "round {round}: of {} requests on connections made before SIGTERM, {} got no answer, e.g. {dropped:#?}",
            before.len(),
            before.len() - answered
        );
        assert!(
            answered >= CLIENTS,
            "round {round}: only {answered} answers"
        );
        across_signal += late;
        eprintln!(
            "round {round}: {answered} answered on connections made before SIGTERM, {late} of them after it"
        );
    }
    assert!(
        across_signal >= ROUNDS,
        "only {across_signal} answers came after the signal: the test did not exercise shutdown"
    );
}

/// `VmRSS` of a process, in MiB.
fn rss_mib(pid: u32) -> f64 {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no VmRSS in {status}"));
    kib / 1024.0
}

/// Shows memory bounded per connection: 4 bursts of 2,000 connections (1,000
/// open at a time, at most `--max-connections` 256 served at once, each a TLS handshake, one review and a close) leave the
/// server's RSS after the last burst within 30 MiB of what it was after the
/// first (nothing is kept per connection served), and every review is
/// answered. Loopback only; the whole test takes well under a minute on an
/// idle machine.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_returns_after_bursts_of_connections() {
    use futures::StreamExt as _;
    const BURSTS: usize = 4;
    const CONNECTIONS: usize = 2000;
    let at_once: usize = 1000;
    let ca = Ca::new("burst CA");
    let server = Server::start(&ca.server_cert(&["127.0.0.1"]), None, &[]).await;
    let client = Client::new(&ca.pem, Versions::Any, None);
    let addr = server.addr;
    let pid = server.child.id();
    let body = hyper::body::Bytes::from(body(&review("burst", &runner_pod())));
    assert_allowed(
        &connect(&ca, addr)
            .await
            .post("/validate", body.clone())
            .await
            .unwrap(),
        "burst",
    );
    let baseline = rss_mib(pid);
    let mut after = Vec::new();
    let mut failures = Vec::new();
    for burst in 0..BURSTS {
        let failed = futures::stream::iter(0..CONNECTIONS)
            .map(|_| {
                let (client, body) = (client.clone(), body.clone());
                async move {
                    let mut conn = client.connect(addr).await.map_err(|e| error_chain(&*e))?;
                    let a = conn
                        .post("/validate", body)
                        .await
                        .map_err(|e| error_chain(&*e))?;
                    if a.status == 200 {
                        Ok(())
                    } else {
                        Err(a.text())
                    }
                }
            })
            .buffer_unordered(at_once)
            .filter_map(|r: Result<(), String>| async move { r.err() })
            .collect::<Vec<_>>()
            .await;
        // Connections close on both ends; freed memory goes back.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        after.push(rss_mib(pid));
        eprintln!(
            "burst {burst}: RSS {:.1} MiB (baseline {baseline:.1}), {} of {CONNECTIONS} failed",
            after[burst],
            failed.len()
        );
        failures.extend(failed);
    }
    assert!(
        failures.is_empty(),
        "{} of {} connections failed, e.g. {:?}",
        failures.len(),
        BURSTS * CONNECTIONS,
        &failures[..failures.len().min(5)]
    );
    let growth = after[BURSTS - 1] - after[0];
    assert!(
        growth < 30.0,
        "RSS grew by {growth:.1} MiB from the first burst to the last: {after:.1?} (baseline {baseline:.1})"
    );
}
