//! A real Kubernetes API server on 127.0.0.1 for integration tests.
//!
//! [`ApiServer::start`] runs a private etcd and a kube-apiserver 1.20 (built
//! by `.ci/kube-apiserver`, or the binary named by `SANDBOX_LINT_KUBE_APISERVER`)
//! in a fresh temporary directory, on free loopback ports, and hands back an
//! admin [`kube::Client`]. There is no controller-manager, scheduler or
//! kubelet: nothing creates ServiceAccounts, schedules or runs pods, which is
//! why [`ApiServer::namespace`] creates the `default` ServiceAccount itself and
//! [`ApiServer::play_kubelet`] moves pods through their phases by hand.
//!
//! Dropping the [`ApiServer`] kills and reaps both processes and removes the
//! directory, also when the test panics. Should the test process die without
//! unwinding (SIGKILL, a harness timeout), the processes still go: they are
//! started through `setpriv --pdeathsig KILL` from a thread that lives as long
//! as the test process; only the temporary directory is then left in `/tmp`.
//!
//! Several servers may run at once (parallel test threads): each has its own
//! directory, ports and etcd. A start that loses a port to someone else between
//! the harness choosing it and the process binding it is retried with new
//! ports.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Read as _;
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Mutex, OnceLock, mpsc};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Namespace, Node, Pod, ServiceAccount};
use k8s_openapi::api::node::v1::RuntimeClass;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use kube::api::{Api, GetParams, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// How long the API server may take to answer `/readyz` with `ok`.
const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// How long etcd may take to report itself healthy.
const ETCD_TIMEOUT: Duration = Duration::from_secs(20);
/// Starts that lost a port to another process are retried this many times in all.
const START_ATTEMPTS: usize = 3;
/// The issuer of service-account tokens: any stable URL will do, nothing fetches it.
const SA_ISSUER: &str = "https://kubernetes.default.svc.cluster.local";
const SETPRIV: &str = "/usr/bin/setpriv";

/// A running etcd + kube-apiserver pair; see the module documentation.
pub struct ApiServer {
    /// A client authenticated as an admin (group `system:masters`), trusting
    /// the cluster CA.
    pub client: Client,
    /// `https://127.0.0.1:PORT`.
    pub url: String,
    /// The PEM of the CA that signed the API server's serving certificate
    /// (and the certificates of [`ApiServer::issue_serving_cert`]).
    pub ca_pem: String,
    /// The admin's bearer token (also in the kubeconfig).
    pub token: String,
    ca: Issuer<'static, KeyPair>,
    port: u16,
    etcd_ports: [u16; 2],
    // Field order matters: the processes die before their directory goes.
    processes: Processes,
    dir: TempDir,
}

/// How the containers of a pod end when [`ApiServer::play_kubelet`] or
/// [`ApiServer::set_pod_terminated`] plays the kubelet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exit {
    /// The exit code of every container. 0 makes the pod `Succeeded`, anything
    /// else `Failed` (the kubelet's rule for `restartPolicy: Never`).
    pub code: i32,
    /// `state.terminated.reason`, e.g. `Completed`, `Error`, `OOMKilled`.
    pub reason: String,
    /// `state.terminated.message`, if any.
    pub message: Option<String>,
}

impl Exit {
    /// Exit code 0, reason `Completed`, as the kubelet reports a clean exit.
    pub fn completed() -> Exit {
        Exit {
            code: 0,
            reason: "Completed".into(),
            message: None,
        }
    }

    /// A non-zero exit code with reason `Error`, as the kubelet reports it.
    pub fn error(code: i32) -> Exit {
        Exit {
            code,
            reason: "Error".into(),
            message: None,
        }
    }

    /// Killed for exceeding its memory limit: 137, `OOMKilled`.
    pub fn oom_killed() -> Exit {
        Exit {
            code: 137,
            reason: "OOMKilled".into(),
            message: None,
        }
    }
}

impl ApiServer {
    /// Starts etcd and kube-apiserver and waits until `/readyz` says `ok`.
    ///
    /// Panics (with the tail of the process's log) if either process dies or
    /// the API server is not ready within 60 s. Besides what the API server
    /// bootstraps itself (namespaces `default`, `kube-system`, `kube-public`,
    /// `kube-node-lease`, RBAC roles, priority classes), it creates the
    /// RuntimeClass `gvisor` (handler `runsc`) that the compliant fixtures
    /// name: the RuntimeClass admission plugin rejects pods naming a missing one.
    ///
    /// The 60 s start only after the binary is found: on a machine without
    /// the cached build, the first start runs `.ci/kube-apiserver`'s build
    /// (about 9 minutes), once per test binary.
    pub async fn start() -> ApiServer {
        let binary = kube_apiserver_binary();
        let mut lost_ports = Vec::new();
        for _ in 0..START_ATTEMPTS {
            match try_start(&binary).await {
                Ok(server) => return server,
                Err(failure) if failure.port_taken => lost_ports.push(failure.message),
                Err(failure) => panic!("{}", failure.message),
            }
        }
        panic!(
            "the API server could not start in {START_ATTEMPTS} attempts, each losing a port:\n{}",
            lost_ports.join("\n---\n")
        )
    }

    /// A kubeconfig for this server (admin token, CA file, namespace
    /// `default`), usable by kubectl and by [`kube::Config`].
    pub fn kubeconfig_path(&self) -> PathBuf {
        self.dir.path().join("kubeconfig")
    }

    /// `kubectl` with this server's kubeconfig and a discovery cache inside
    /// the temporary directory (not `~/.kube/cache`); add arguments and run.
    pub fn kubectl(&self) -> Command {
        let mut cmd = Command::new("kubectl");
        cmd.arg(format!("--kubeconfig={}", self.kubeconfig_path().display()))
            .arg(format!(
                "--cache-dir={}",
                self.dir.path().join("kubectl-cache").display()
            ));
        cmd
    }

    /// The temporary directory holding data, certificates and the logs
    /// `etcd.log` and `kube-apiserver.log`.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The process ids of etcd and kube-apiserver.
    pub fn pids(&self) -> Vec<u32> {
        self.processes
            .children
            .iter()
            .map(|(_, child)| child.id())
            .collect()
    }

    /// Every port the server and its etcd listen on: the API server's, etcd's
    /// client and peer ports.
    pub fn ports(&self) -> [u16; 3] {
        [self.port, self.etcd_ports[0], self.etcd_ports[1]]
    }

    /// The last `lines` lines of the API server's log (stdout and stderr).
    pub fn log_tail(&self, lines: usize) -> String {
        tail(&self.dir.path().join("kube-apiserver.log"), lines)
    }

    /// A serving certificate and its key (both PEM) for `names` (DNS names or
    /// IP addresses; the first is also the common name), signed by the cluster
    /// CA: a webhook serving it is trusted with `caBundle` = [`Self::ca_pem`].
    /// The API server (Go) ignores the common name: the address in the webhook
    /// URL must be among `names`.
    pub fn issue_serving_cert(&self, names: &[&str]) -> (String, String) {
        issue_serving_cert(&self.ca, names)
    }

    /// Creates the namespace `name` with `labels`, plus its `default`
    /// ServiceAccount (a controller-manager would create that; there is none).
    ///
    /// Also sets the label `kubernetes.io/metadata.name: NAME`, which API
    /// servers from 1.21 on add to every namespace and NetworkPolicies select
    /// namespaces by; 1.20 does not add it.
    ///
    /// The ServiceAccount admission plugin needs nothing else: it requires the
    /// pod's ServiceAccount to exist (looked up live when its cache lags), and
    /// for pods with `automountServiceAccountToken: false` that is all. Pods
    /// that do mount a token get the projected token volume of
    /// `BoundServiceAccountTokenVolume` (enabled by the harness), which needs
    /// no token Secret either; without that gate, 1.20 would refuse them
    /// ("No API token found for service account") before any webhook saw them.
    pub async fn namespace(&self, name: &str, labels: &[(&str, &str)]) -> Namespace {
        let mut all: BTreeMap<String, String> = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        all.insert("kubernetes.io/metadata.name".into(), name.into());
        let namespace = Namespace {
            metadata: ObjectMeta {
                name: Some(name.into()),
                labels: Some(all),
                ..ObjectMeta::default()
            },
            ..Namespace::default()
        };
        let created = Api::<Namespace>::all(self.client.clone())
            .create(&PostParams::default(), &namespace)
            .await
            .unwrap_or_else(|e| panic!("creating namespace {name}: {e}"));
        self.service_account(name, "default").await;
        created
    }

    /// Creates the ServiceAccount `namespace/name`, as a bare object (no
    /// `automountServiceAccountToken`, no secrets).
    pub async fn service_account(&self, namespace: &str, name: &str) -> ServiceAccount {
        let account = ServiceAccount {
            metadata: ObjectMeta {
                name: Some(name.into()),
                ..ObjectMeta::default()
            },
            ..ServiceAccount::default()
        };
        Api::<ServiceAccount>::namespaced(self.client.clone(), namespace)
            .create(&PostParams::default(), &account)
            .await
            .unwrap_or_else(|e| panic!("creating ServiceAccount {namespace}/{name}: {e}"))
    }

    /// Creates the RuntimeClass `name` with `handler`.
    pub async fn runtime_class(&self, name: &str, handler: &str) -> RuntimeClass {
        let class = RuntimeClass {
            metadata: ObjectMeta {
                name: Some(name.into()),
                ..ObjectMeta::default()
            },
            handler: handler.into(),
            ..RuntimeClass::default()
        };
        Api::<RuntimeClass>::all(self.client.clone())
            .create(&PostParams::default(), &class)
            .await
            .unwrap_or_else(|e| panic!("creating RuntimeClass {name}: {e}"))
    }

    /// Plays the scheduler and the kubelet for the pod `namespace/pod`, the
    /// way a dispatcher sees them work: binds it to `node`
    /// ([`Self::bind_pod`]), reports it `Running` ([`Self::set_pod_running`])
    /// and, given an `exit`, reports its containers terminated and the pod
    /// `Succeeded` or `Failed` ([`Self::set_pod_terminated`]). Returns the pod
    /// as the API server has it afterwards. Tests that need to act between
    /// the steps call them one by one.
    pub async fn play_kubelet(
        &self,
        namespace: &str,
        pod: &str,
        node: &str,
        exit: Option<&Exit>,
    ) -> Pod {
        self.bind_pod(namespace, pod, node).await;
        let running = self.set_pod_running(namespace, pod).await;
        match exit {
            Some(exit) => self.set_pod_terminated(namespace, pod, exit).await,
            None => running,
        }
    }

    /// Binds the pod to `node` through the `pods/binding` subresource, as the
    /// scheduler does (which also sets the `PodScheduled` condition). Creates
    /// the Node object first if there is none; does nothing if the pod is
    /// already on `node`.
    pub async fn bind_pod(&self, namespace: &str, pod: &str, node: &str) {
        self.node(node).await;
        let pods = Api::<Pod>::namespaced(self.client.clone(), namespace);
        let current = get_pod(&pods, namespace, pod).await;
        if current.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some(node) {
            return;
        }
        let binding = json!({
            "apiVersion": "v1",
            "kind": "Binding",
            "metadata": {"name": pod, "namespace": namespace},
            "target": {"apiVersion": "v1", "kind": "Node", "name": node},
        });
        let _: Value = pods
            .create_subresource("binding", pod, &PostParams::default(), &binding)
            .await
            .unwrap_or_else(|e| panic!("binding pod {namespace}/{pod} to node {node}: {e}"));
    }

    /// Reports the pod `Running` with every container running and ready,
    /// through the `pods/status` subresource, as the kubelet does.
    pub async fn set_pod_running(&self, namespace: &str, pod: &str) -> Pod {
        let pods = Api::<Pod>::namespaced(self.client.clone(), namespace);
        let current = get_pod(&pods, namespace, pod).await;
        let now = now();
        let statuses: Vec<Value> = containers(&current)
            .into_iter()
            .map(|(name, image)| {
                json!({
                    "name": name,
                    "image": image,
                    "imageID": image,
                    "ready": true,
                    "started": true,
                    "restartCount": 0,
                    "state": {"running": {"startedAt": now}},
                })
            })
            .collect();
        let status = json!({
            "phase": "Running",
            "startTime": now,
            "hostIP": "127.0.0.1",
            "conditions": [
                {"type": "Initialized", "status": "True", "lastTransitionTime": now},
                {"type": "ContainersReady", "status": "True", "lastTransitionTime": now},
                {"type": "Ready", "status": "True", "lastTransitionTime": now},
            ],
            "containerStatuses": statuses,
        });
        patch_status(&pods, namespace, pod, status).await
    }

    /// Reports every container of the pod terminated with `exit` and the pod
    /// `Succeeded` (exit code 0) or `Failed`, through the `pods/status`
    /// subresource, as the kubelet does for `restartPolicy: Never`.
    pub async fn set_pod_terminated(&self, namespace: &str, pod: &str, exit: &Exit) -> Pod {
        let pods = Api::<Pod>::namespaced(self.client.clone(), namespace);
        let current = get_pod(&pods, namespace, pod).await;
        let now = now();
        let started: BTreeMap<String, Value> = current
            .status
            .iter()
            .flat_map(|s| s.container_statuses.iter().flatten())
            .filter_map(|s| {
                let at = s.state.as_ref()?.running.as_ref()?.started_at.as_ref()?;
                Some((s.name.clone(), serde_json::to_value(at).unwrap()))
            })
            .collect();
        let statuses: Vec<Value> = containers(&current)
            .into_iter()
            .map(|(name, image)| {
                let mut terminated = json!({
                    "exitCode": exit.code,
                    "reason": exit.reason,
                    "startedAt": started.get(&name).unwrap_or(&now),
                    "finishedAt": now,
                });
                if let Some(message) = &exit.message {
                    terminated["message"] = json!(message);
                }
                json!({
                    "name": name,
                    "image": image,
                    "imageID": image,
                    "ready": false,
                    "started": false,
                    "restartCount": 0,
                    "state": {"terminated": terminated},
                })
            })
            .collect();
        let phase = if exit.code == 0 {
            "Succeeded"
        } else {
            "Failed"
        };
        let not_ready = |kind: &str| json!({"type": kind, "status": "False", "reason": "PodCompleted", "lastTransitionTime": now});
        let status = json!({
            "phase": phase,
            "conditions": [not_ready("ContainersReady"), not_ready("Ready")],
            "containerStatuses": statuses,
        });
        patch_status(&pods, namespace, pod, status).await
    }

    /// Creates the Node `name` (unless it exists) and reports, as its kubelet
    /// would, that the kubelet listens on 127.0.0.1:`port`, where the API
    /// server then sends `pods/log` and other kubelet calls for its pods
    /// (see `tests/common/kubelet.rs`).
    pub async fn node_with_kubelet(&self, name: &str, port: u16) {
        self.node(name).await;
        let status = json!({"status": {
            "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": port}},
        }});
        Api::<Node>::all(self.client.clone())
            .patch_status(name, &PatchParams::default(), &Patch::Merge(status))
            .await
            .unwrap_or_else(|e| panic!("reporting the kubelet of node {name}: {e}"));
    }

    /// Creates the Node `name` unless it exists.
    async fn node(&self, name: &str) {
        let labels = BTreeMap::from([("kubernetes.io/hostname".to_string(), name.to_string())]);
        let node = Node {
            metadata: ObjectMeta {
                name: Some(name.into()),
                labels: Some(labels),
                ..ObjectMeta::default()
            },
            ..Node::default()
        };
        match Api::<Node>::all(self.client.clone())
            .create(&PostParams::default(), &node)
            .await
        {
            Ok(_) => {}
            Err(kube::Error::Api(status)) if status.is_already_exists() => {}
            Err(e) => panic!("creating node {name}: {e}"),
        }
    }
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        // The logs go with the directory: show the end of the API server's if
        // the test failed, it often says why (e.g. a webhook call that failed).
        if std::thread::panicking() {
            eprintln!(
                "--- last lines of {}/kube-apiserver.log ---\n{}",
                self.dir().display(),
                self.log_tail(30)
            );
        }
        // Then the fields drop: `processes` kills and reaps, `dir` is removed.
    }
}

/// The children, killed (SIGKILL) and reaped in reverse start order on drop.
#[derive(Default)]
struct Processes {
    children: Vec<(&'static str, Child)>,
}

impl Processes {
    /// The first child that has exited, with its status.
    fn exited(&mut self) -> Option<(&'static str, ExitStatus)> {
        self.children.iter_mut().find_map(|(name, child)| {
            child
                .try_wait()
                .ok()
                .flatten()
                .map(|status| (*name, status))
        })
    }
}

impl Drop for Processes {
    fn drop(&mut self) {
        for (_, child) in self.children.iter_mut().rev() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Why a start attempt failed; `port_taken` ones are worth another attempt.
struct StartFailure {
    port_taken: bool,
    message: String,
}

impl StartFailure {
    fn died(name: &str, status: ExitStatus, log: &Path) -> StartFailure {
        let tail = tail(log, 40);
        StartFailure {
            port_taken: tail.contains("address already in use"),
            message: format!(
                "{name} exited during startup ({status}); last lines of {}:\n{tail}",
                log.display()
            ),
        }
    }
}

async fn try_start(binary: &Path) -> Result<ApiServer, StartFailure> {
    let dir = tempfile::Builder::new()
        .prefix("sandbox-lint-apiserver-")
        .tempdir()
        .expect("creating the API server's temporary directory");
    let path = dir.path();
    let [port, etcd_client, etcd_peer] = free_ports();

    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::default();
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "sandbox-lint test cluster CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_pem = ca_params.self_signed(&ca_key).unwrap().pem();
    let ca = Issuer::new(ca_params, ca_key);
    let (serving_cert, serving_key) = issue_serving_cert(&ca, &["127.0.0.1", "localhost"]);
    // Service-account tokens are signed with an ECDSA P-256 key.
    let sa_key = KeyPair::generate().unwrap();
    let token = random_hex(16);

    let write = |name: &str, contents: &str| {
        let file = path.join(name);
        fs::write(&file, contents).unwrap_or_else(|e| panic!("writing {}: {e}", file.display()));
        file.display().to_string()
    };
    let ca_file = write("ca.crt", &ca_pem);
    let cert_file = write("apiserver.crt", &serving_cert);
    let key_file = write("apiserver.key", &serving_key);
    let sa_private = write("sa.key", &sa_key.serialize_pem());
    let sa_public = write("sa.pub", &sa_key.public_key_pem());
    // token,user,uid,"groups"
    let tokens = write(
        "tokens.csv",
        &format!("{token},admin,admin,\"system:masters\"\n"),
    );
    let url = format!("https://127.0.0.1:{port}");
    write("kubeconfig", &kubeconfig(&url, &ca_file, &token));

    let mut processes = Processes::default();

    let etcd_log = path.join("etcd.log");
    let client_url = format!("http://127.0.0.1:{etcd_client}");
    let peer_url = format!("http://127.0.0.1:{etcd_peer}");
    let etcd_args = [
        "--name=default".to_string(),
        format!("--data-dir={}", path.join("etcd").display()),
        format!("--listen-client-urls={client_url}"),
        format!("--advertise-client-urls={client_url}"),
        format!("--listen-peer-urls={peer_url}"),
        format!("--initial-advertise-peer-urls={peer_url}"),
        format!("--initial-cluster=default={peer_url}"),
        "--initial-cluster-state=new".to_string(),
        format!("--initial-cluster-token={}", random_hex(8)),
        "--logger=zap".to_string(),
    ];
    processes
        .children
        .push(("etcd", spawn(Path::new("etcd"), &etcd_args, &etcd_log)));
    wait_for_etcd(etcd_client, &mut processes, &etcd_log).await?;

    let apiserver_log = path.join("kube-apiserver.log");
    let apiserver_args = [
        // Loopback only, one TLS port. There is no unauthenticated HTTP port
        // to close: 1.20 removed it (`--insecure-port` only accepts 0 and
        // warns that it has no effect).
        "--bind-address=127.0.0.1".to_string(),
        "--advertise-address=127.0.0.1".to_string(),
        format!("--secure-port={port}"),
        format!("--tls-cert-file={cert_file}"),
        format!("--tls-private-key-file={key_file}"),
        format!("--etcd-servers={client_url}"),
        format!("--token-auth-file={tokens}"),
        "--authorization-mode=RBAC".to_string(),
        // Required since 1.20 (TokenRequest went GA).
        format!("--service-account-issuer={SA_ISSUER}"),
        format!("--service-account-key-file={sa_public}"),
        format!("--service-account-signing-key-file={sa_private}"),
        "--service-cluster-ip-range=10.0.0.0/24".to_string(),
        // The `kubernetes` Service's endpoints would be 127.0.0.1, which
        // Endpoints validation refuses (loopback): do not maintain them.
        "--endpoint-reconciler-type=none".to_string(),
        // Let privileged pods pass object validation so that validating
        // webhooks get to judge them, as on clusters that allow them.
        "--allow-privileged=true".to_string(),
        // Pods that mount a token get a projected one instead of needing a
        // token Secret that no controller would create (see `namespace`).
        "--feature-gates=BoundServiceAccountTokenVolume=true".to_string(),
    ];
    processes.children.push((
        "kube-apiserver",
        spawn(binary, &apiserver_args, &apiserver_log),
    ));

    let client = client_from_kubeconfig(&path.join("kubeconfig")).await;
    wait_for_ready(&client, &mut processes, &apiserver_log).await?;

    let server = ApiServer {
        client,
        url,
        ca_pem,
        token,
        ca,
        port,
        etcd_ports: [etcd_client, etcd_peer],
        processes,
        dir,
    };
    server.runtime_class("gvisor", "runsc").await;
    Ok(server)
}

/// The kube-apiserver binary: `SANDBOX_LINT_KUBE_APISERVER`, else the last
/// line printed by `.ci/kube-apiserver` (which returns at once once built).
/// Looked up once per test binary, by one thread, so that parallel tests do
/// not start several builds.
fn kube_apiserver_binary() -> PathBuf {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY
        .get_or_init(|| {
            if let Some(path) = std::env::var_os("SANDBOX_LINT_KUBE_APISERVER") {
                return PathBuf::from(path);
            }
            let root = env!("CARGO_MANIFEST_DIR");
            let out = Command::new("bash")
                .arg(".ci/kube-apiserver")
                .current_dir(root)
                .stdin(Stdio::null())
                .output()
                .unwrap_or_else(|e| panic!("running {root}/.ci/kube-apiserver: {e}"));
            let stdout = String::from_utf8_lossy(&out.stdout);
            let stderr = String::from_utf8_lossy(&out.stderr);
            let last = stdout
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or_default()
                .trim();
            if !out.status.success() || !Path::new(last).is_file() {
                let lines: Vec<&str> = stderr.lines().collect();
                panic!(
                    ".ci/kube-apiserver failed ({}), printed {last:?}; stderr ends:\n{}",
                    out.status,
                    lines[lines.len().saturating_sub(40)..].join("\n")
                );
            }
            PathBuf::from(last)
        })
        .clone()
}

/// `N` distinct free ports on 127.0.0.1 (all bound at once, then released).
fn free_ports<const N: usize>() -> [u16; N] {
    let listeners: Vec<TcpListener> = (0..N)
        .map(|_| TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("binding 127.0.0.1:0"))
        .collect();
    std::array::from_fn(|i| listeners[i].local_addr().unwrap().port())
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .expect("reading /dev/urandom");
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

fn issue_serving_cert(ca: &Issuer<'static, KeyPair>, names: &[&str]) -> (String, String) {
    let key = KeyPair::generate().unwrap();
    let mut params =
        CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
    params.distinguished_name.push(DnType::CommonName, names[0]);
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let cert = params.signed_by(&key, ca).unwrap();
    (cert.pem(), key.serialize_pem())
}

fn kubeconfig(url: &str, ca_file: &str, token: &str) -> String {
    format!(
        "apiVersion: v1
kind: Config
clusters:
- name: sandbox-lint-test
  cluster:
    server: {url}
    certificate-authority: {ca_file}
users:
- name: admin
  user:
    token: {token}
contexts:
- name: sandbox-lint-test
  context:
    cluster: sandbox-lint-test
    user: admin
    namespace: default
current-context: sandbox-lint-test
"
    )
}

async fn client_from_kubeconfig(path: &Path) -> Client {
    let kubeconfig = Kubeconfig::read_from(path).expect("reading the harness's kubeconfig");
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("loading the harness's kubeconfig");
    Client::try_from(config).expect("building the admin client")
}

/// Starts `program` with its stdout and stderr in `log`, without the proxy
/// variables (everything it talks to is on loopback), through `setpriv
/// --pdeathsig KILL` when available.
fn spawn(program: &Path, args: &[String], log: &Path) -> Child {
    let out = File::create(log).unwrap_or_else(|e| panic!("creating {}: {e}", log.display()));
    let err = out.try_clone().unwrap();
    let mut cmd = if Path::new(SETPRIV).is_file() {
        let mut cmd = Command::new(SETPRIV);
        cmd.args(["--pdeathsig", "KILL", "--"]).arg(program);
        cmd
    } else {
        Command::new(program)
    };
    cmd.args(args).stdin(Stdio::null()).stdout(out).stderr(err);
    for var in ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"] {
        cmd.env_remove(var).env_remove(var.to_lowercase());
    }
    spawn_from_keeper(cmd).unwrap_or_else(|e| panic!("starting {}: {e}", program.display()))
}

/// Spawns `cmd` from a thread that lives as long as the test process. The
/// parent-death signal fires when the *thread* that forked the child ends, so
/// children forked by a test's own thread would die with that test even if a
/// server outlived it (say, one shared through a static).
fn spawn_from_keeper(cmd: Command) -> std::io::Result<Child> {
    type Request = (Command, mpsc::Sender<std::io::Result<Child>>);
    static KEEPER: OnceLock<Mutex<mpsc::Sender<Request>>> = OnceLock::new();
    let keeper = KEEPER.get_or_init(|| {
        let (requests, incoming) = mpsc::channel::<Request>();
        std::thread::Builder::new()
            .name("apiserver-process-keeper".into())
            .spawn(move || {
                for (mut cmd, reply) in incoming {
                    let _ = reply.send(cmd.spawn());
                }
            })
            .expect("starting the process keeper thread");
        Mutex::new(requests)
    });
    let (reply, answer) = mpsc::channel();
    keeper
        .lock()
        .unwrap()
        .send((cmd, reply))
        .expect("the process keeper thread is gone");
    answer.recv().expect("the process keeper thread is gone")
}

async fn wait_for_etcd(
    port: u16,
    processes: &mut Processes,
    log: &Path,
) -> Result<(), StartFailure> {
    let deadline = Instant::now() + ETCD_TIMEOUT;
    loop {
        if let Some((name, status)) = processes.exited() {
            return Err(StartFailure::died(name, status, log));
        }
        if etcd_healthy(port).await {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(StartFailure {
                port_taken: false,
                message: format!(
                    "etcd not healthy after {ETCD_TIMEOUT:?}; last lines of {}:\n{}",
                    log.display(),
                    tail(log, 40)
                ),
            });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `GET /health` on etcd's client port, in plain HTTP/1.0.
async fn etcd_healthy(port: u16) -> bool {
    let probe = async {
        let mut stream = tokio::net::TcpStream::connect((Ipv4Addr::LOCALHOST, port)).await?;
        stream
            .write_all(b"GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            .await?;
        let mut response = String::new();
        stream.read_to_string(&mut response).await?;
        Ok::<_, std::io::Error>(response.contains("\"health\":\"true\""))
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(2), probe).await,
        Ok(Ok(true))
    )
}

async fn wait_for_ready(
    client: &Client,
    processes: &mut Processes,
    log: &Path,
) -> Result<(), StartFailure> {
    let deadline = Instant::now() + READY_TIMEOUT;
    let mut last;
    loop {
        if let Some((name, status)) = processes.exited() {
            let log = if name == "etcd" {
                log.with_file_name("etcd.log")
            } else {
                log.to_path_buf()
            };
            return Err(StartFailure::died(name, status, &log));
        }
        // `Request::new("").get("readyz")` is a plain `GET /readyz`.
        let request = kube::core::Request::new("")
            .get("readyz", &GetParams::default())
            .unwrap();
        match tokio::time::timeout(Duration::from_secs(5), client.request_text(request)).await {
            Ok(Ok(body)) if body.trim() == "ok" => return Ok(()),
            Ok(Ok(body)) => last = body,
            Ok(Err(e)) => last = e.to_string(),
            Err(_) => last = "GET /readyz timed out".into(),
        }
        if Instant::now() > deadline {
            return Err(StartFailure {
                port_taken: false,
                message: format!(
                    "kube-apiserver not ready after {READY_TIMEOUT:?} (last /readyz: {last}); last lines of {}:\n{}",
                    log.display(),
                    tail(log, 40)
                ),
            });
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The last `lines` lines of the file at `path`.
fn tail(path: &Path, lines: usize) -> String {
    let text = fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Now, serialised as the API server expects timestamps.
fn now() -> Value {
    serde_json::to_value(Time(k8s_openapi::jiff::Timestamp::now())).unwrap()
}

async fn get_pod(pods: &Api<Pod>, namespace: &str, pod: &str) -> Pod {
    pods.get(pod)
        .await
        .unwrap_or_else(|e| panic!("getting pod {namespace}/{pod}: {e}"))
}

/// The (name, image) of each of the pod's containers.
fn containers(pod: &Pod) -> Vec<(String, String)> {
    pod.spec
        .iter()
        .flat_map(|s| &s.containers)
        .map(|c| (c.name.clone(), c.image.clone().unwrap_or_default()))
        .collect()
}

/// A strategic-merge patch of the pod's status: conditions merge by type,
/// `containerStatuses` is replaced whole.
async fn patch_status(pods: &Api<Pod>, namespace: &str, pod: &str, status: Value) -> Pod {
    pods.patch_status(
        pod,
        &PatchParams::default(),
        &Patch::Strategic(json!({"status": status})),
    )
    .await
    .unwrap_or_else(|e| panic!("patching the status of pod {namespace}/{pod}: {e}"))
}
