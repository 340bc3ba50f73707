//! Smoke tests of the API-server harness (`tests/common/apiserver.rs`): a real
//! etcd + kube-apiserver 1.20 on loopback, which the admission-webhook and
//! dispatcher tests build on. Each test starts its own server; they run in
//! parallel.

mod common;

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum_server::tls_rustls::RustlsConfig;
use common::apiserver::{ApiServer, Exit};
use k8s_openapi::ByteString;
use k8s_openapi::api::admissionregistration::v1::{
    RuleWithOperations, ValidatingWebhook, ValidatingWebhookConfiguration, WebhookClientConfig,
};
use k8s_openapi::api::core::v1::{Pod, ServiceAccount};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::ResourceExt as _;
use kube::api::{Api, PostParams};
use kube::core::DynamicObject;
use kube::core::admission::{AdmissionRequest, AdmissionResponse, AdmissionReview};
use serde_json::Value;

/// The compliant runner pod of `testdata/compliant/`, as the API server gets
/// it from a client (namespace `workflows`, ServiceAccount `workflow-runner`).
fn compliant_pod() -> Pod {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/compliant/ok-runner-pod.yaml");
    let yaml = std::fs::read_to_string(&path).unwrap();
    let value: Value = serde_saphyr::from_str(&yaml).unwrap();
    serde_json::from_value(value).unwrap()
}

/// A namespace `workflows` with the compliant pod's ServiceAccount.
async fn workflows(server: &ApiServer) {
    server
        .namespace("workflows", &[("purpose", "untrusted-code")])
        .await;
    server.service_account("workflows", "workflow-runner").await;
}

async fn create(server: &ApiServer, pod: &Pod) -> Pod {
    let namespace = pod.metadata.namespace.as_deref().unwrap();
    Api::<Pod>::namespaced(server.client.clone(), namespace)
        .create(&PostParams::default(), pod)
        .await
        .unwrap_or_else(|e| panic!("creating pod: {e}\n{}", server.log_tail(20)))
}

/// The server starts and answers; `namespace` creates the namespace with its
/// labels plus `kubernetes.io/metadata.name`, and its `default`
/// ServiceAccount; the compliant runner pod is admitted by the real admission
/// chain (RuntimeClass `gvisor` exists, the ServiceAccount is found) and reads
/// back as sent. A pod that does mount a token is admitted too (projected
/// token, no token Secret needed).
#[tokio::test(flavor = "multi_thread")]
async fn starts_and_admits_the_compliant_pod() {
    let server = ApiServer::start().await;
    assert!(
        server.url.starts_with("https://127.0.0.1:"),
        "{}",
        server.url
    );
    assert!(server.ca_pem.starts_with("-----BEGIN CERTIFICATE-----"));

    let namespace = server
        .namespace("workflows", &[("purpose", "untrusted-code")])
        .await;
    let labels = namespace.metadata.labels.unwrap();
    assert_eq!(labels["purpose"], "untrusted-code");
    assert_eq!(labels["kubernetes.io/metadata.name"], "workflows");
    let accounts = Api::<ServiceAccount>::namespaced(server.client.clone(), "workflows");
    accounts
        .get("default")
        .await
        .expect("the default ServiceAccount");
    server.service_account("workflows", "workflow-runner").await;

    let sent = compliant_pod();
    create(&server, &sent).await;
    let pods = Api::<Pod>::namespaced(server.client.clone(), "workflows");
    let read = pods.get("runner").await.unwrap();
    let (spec, sent_spec) = (read.spec.unwrap(), sent.spec.unwrap());
    assert_eq!(spec.runtime_class_name.as_deref(), Some("gvisor"));
    assert_eq!(
        spec.service_account_name.as_deref(),
        Some("workflow-runner")
    );
    assert_eq!(spec.automount_service_account_token, Some(false));
    assert_eq!(spec.containers[0].image, sent_spec.containers[0].image);
    assert_eq!(
        spec.containers[0].security_context,
        sent_spec.containers[0].security_context
    );
    assert_eq!(spec.volumes, sent_spec.volumes, "no token volume was added");
    assert_eq!(read.status.unwrap().phase.as_deref(), Some("Pending"));

    let mut mounting = compliant_pod();
    mounting.metadata.name = Some("mounting".into());
    mounting
        .spec
        .as_mut()
        .unwrap()
        .automount_service_account_token = None;
    let mounting = create(&server, &mounting).await;
    let volumes = mounting.spec.unwrap().volumes.unwrap();
    assert!(
        volumes
            .iter()
            .any(|v| v.projected.is_some() && v.name.starts_with("kube-api-access-")),
        "{volumes:?}"
    );
}

/// kubectl (1.32) works against the server with `kubeconfig_path()`:
/// `get pods` lists the pod created through the API, and `kubectl()` runs it
/// with that kubeconfig and a private cache.
#[tokio::test(flavor = "multi_thread")]
async fn kubectl_uses_the_kubeconfig() {
    let server = ApiServer::start().await;
    workflows(&server).await;
    create(&server, &compliant_pod()).await;

    let out = std::process::Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(server.kubeconfig_path())
        .arg(format!(
            "--cache-dir={}",
            server.dir().join("kubectl-cache").display()
        ))
        .args(["get", "pods", "--namespace=workflows", "--output=name"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "pod/runner\n",
        "{stderr}"
    );

    let out = server
        .kubectl()
        .args([
            "get",
            "namespace",
            "workflows",
            "--output=jsonpath={.metadata.labels}",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let labels: BTreeMap<String, String> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(labels["kubernetes.io/metadata.name"], "workflows");
}

/// `play_kubelet` does what scheduler and kubelet would: binds the pod to a
/// node (creating the Node), reports it Running, then Succeeded with exit
/// code 0 or Failed with the exit code and reason, all visible through the
/// API as a dispatcher reads them.
#[tokio::test(flavor = "multi_thread")]
async fn play_kubelet_moves_pods_through_their_phases() {
    let server = ApiServer::start().await;
    workflows(&server).await;
    let pods = Api::<Pod>::namespaced(server.client.clone(), "workflows");
    for name in ["running", "succeeds", "fails"] {
        let mut pod = compliant_pod();
        pod.metadata.name = Some(name.into());
        create(&server, &pod).await;
    }

    let running = server
        .play_kubelet("workflows", "running", "node-a", None)
        .await;
    assert_eq!(running.spec.unwrap().node_name.as_deref(), Some("node-a"));
    let status = running.status.unwrap();
    assert_eq!(status.phase.as_deref(), Some("Running"));
    let conditions = status.conditions.unwrap();
    let scheduled = conditions
        .iter()
        .find(|c| c.type_ == "PodScheduled")
        .expect("set by the binding");
    assert_eq!(scheduled.status, "True");
    let state = status.container_statuses.unwrap()[0].state.clone().unwrap();
    assert!(state.running.is_some(), "{state:?}");

    server
        .play_kubelet("workflows", "succeeds", "node-a", Some(&Exit::completed()))
        .await;
    let succeeded = pods.get("succeeds").await.unwrap().status.unwrap();
    assert_eq!(succeeded.phase.as_deref(), Some("Succeeded"));
    let terminated = succeeded.container_statuses.unwrap()[0]
        .state
        .clone()
        .unwrap()
        .terminated
        .unwrap();
    assert_eq!(
        (terminated.exit_code, terminated.reason.as_deref()),
        (0, Some("Completed"))
    );

    let exit = Exit {
        message: Some("out of memory".into()),
        ..Exit::oom_killed()
    };
    server
        .play_kubelet("workflows", "fails", "node-b", Some(&exit))
        .await;
    let failed = pods.get("fails").await.unwrap();
    assert_eq!(failed.spec.unwrap().node_name.as_deref(), Some("node-b"));
    let failed = failed.status.unwrap();
    assert_eq!(failed.phase.as_deref(), Some("Failed"));
    let terminated = failed.container_statuses.unwrap()[0]
        .state
        .clone()
        .unwrap()
        .terminated
        .unwrap();
    assert_eq!(terminated.exit_code, 137);
    assert_eq!(terminated.reason.as_deref(), Some("OOMKilled"));
    assert_eq!(terminated.message.as_deref(), Some("out of memory"));
    assert!(terminated.started_at.is_some() && terminated.finished_at.is_some());

    // Running, then terminated by itself: the steps work one at a time too.
    let pod = server
        .set_pod_terminated("workflows", "running", &Exit::error(2))
        .await;
    let status = pod.status.unwrap();
    assert_eq!(status.phase.as_deref(), Some("Failed"));
    let terminated = status.container_statuses.unwrap()[0]
        .state
        .clone()
        .unwrap()
        .terminated
        .unwrap();
    assert_eq!(
        (terminated.exit_code, terminated.reason.as_deref()),
        (2, Some("Error"))
    );
}

/// What a dropped server leaves: nothing. Processes, ports, directory.
struct Traces {
    pids: Vec<u32>,
    ports: [u16; 3],
    dir: PathBuf,
}

impl Traces {
    fn of(server: &ApiServer) -> Traces {
        Traces {
            pids: server.pids(),
            ports: server.ports(),
            dir: server.dir().to_path_buf(),
        }
    }

    /// No process left (reaped, not zombies), none with the directory on its
    /// command line, every port free, the directory gone.
    fn assert_gone(&self) {
        assert_eq!(self.pids.len(), 2);
        for pid in &self.pids {
            assert!(
                !Path::new(&format!("/proc/{pid}")).exists(),
                "process {pid} is still there"
            );
        }
        let dir = self.dir.display().to_string();
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
            assert!(
                !String::from_utf8_lossy(&cmdline).contains(&dir),
                "process {:?} still runs in {dir}",
                entry.file_name()
            );
        }
        for port in self.ports {
            TcpListener::bind((Ipv4Addr::LOCALHOST, port))
                .unwrap_or_else(|e| panic!("port {port}: {e}"));
        }
        assert!(!self.dir.exists(), "{dir} is still there");
    }
}

/// Dropping the server kills and reaps etcd and kube-apiserver, frees their
/// ports and removes the temporary directory.
#[tokio::test(flavor = "multi_thread")]
async fn drop_leaves_nothing_behind() {
    let server = ApiServer::start().await;
    let traces = Traces::of(&server);
    for pid in &traces.pids {
        assert!(Path::new(&format!("/proc/{pid}")).exists());
    }
    drop(server);
    traces.assert_gone();
}

/// The same when the test holding the server panics: unwinding drops it.
#[tokio::test(flavor = "multi_thread")]
async fn a_panicking_test_leaves_nothing_behind() {
    let (sender, receiver) = std::sync::mpsc::channel();
    let test = tokio::spawn(async move {
        let server = ApiServer::start().await;
        sender.send(Traces::of(&server)).unwrap();
        panic!("the test fails while the server runs");
    });
    assert!(test.await.unwrap_err().is_panic());
    receiver.recv().unwrap().assert_gone();
}

/// The API server calls a validating admission webhook registered with `url:
/// https://127.0.0.1:PORT/validate` and `caBundle` = `ca_pem`, served with a
/// certificate from `issue_serving_cert`: it obeys the webhook's denial and
/// admits what the webhook allows.
#[tokio::test(flavor = "multi_thread")]
async fn calls_a_webhook_on_loopback() {
    let server = ApiServer::start().await;
    workflows(&server).await;
    let calls = Arc::new(AtomicUsize::new(0));
    let port = serve_webhook(&server, calls.clone()).await;

    let webhook = ValidatingWebhook {
        name: "deny.sandbox-lint.test".into(),
        admission_review_versions: vec!["v1".into()],
        side_effects: "None".into(),
        failure_policy: Some("Fail".into()),
        timeout_seconds: Some(5),
        client_config: WebhookClientConfig {
            url: Some(format!("https://127.0.0.1:{port}/validate")),
            ca_bundle: Some(ByteString(server.ca_pem.clone().into_bytes())),
            ..WebhookClientConfig::default()
        },
        rules: Some(vec![RuleWithOperations {
            api_groups: Some(vec!["".into()]),
            api_versions: Some(vec!["v1".into()]),
            operations: Some(vec!["CREATE".into()]),
            resources: Some(vec!["pods".into()]),
            ..RuleWithOperations::default()
        }]),
        ..ValidatingWebhook::default()
    };
    let configuration = ValidatingWebhookConfiguration {
        metadata: ObjectMeta {
            name: Some("test".into()),
            ..ObjectMeta::default()
        },
        webhooks: Some(vec![webhook]),
    };
    Api::<ValidatingWebhookConfiguration>::all(server.client.clone())
        .create(&PostParams::default(), &configuration)
        .await
        .unwrap();

    // The API server picks the configuration up through an informer: retry
    // until it is in force (in practice the first attempt already is).
    let pods = Api::<Pod>::namespaced(server.client.clone(), "workflows");
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        let mut pod = compliant_pod();
        pod.metadata.generate_name = Some("denied-".into());
        pod.metadata.name = None;
        pod.metadata
            .labels
            .get_or_insert_default()
            .insert("deny-me".into(), "yes".into());
        match pods.create(&PostParams::default(), &pod).await {
            Err(kube::Error::Api(status)) => break status,
            Err(e) => panic!("{e}"),
            Ok(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await
            }
            Ok(_) => panic!(
                "the webhook was not called within 10 s\n{}",
                server.log_tail(20)
            ),
        }
    };
    assert_eq!(
        status.message,
        "admission webhook \"deny.sandbox-lint.test\" denied the request: denied by the test webhook"
    );
    assert_eq!(
        status.code, 400,
        "1.20 turns a denial without a code into 400"
    );

    create(&server, &compliant_pod()).await;
    assert!(calls.load(Ordering::SeqCst) >= 2);
}

/// Serves on 127.0.0.1 a webhook that denies objects labelled `deny-me` and
/// counts its calls; returns its port.
async fn serve_webhook(server: &ApiServer, calls: Arc<AtomicUsize>) -> u16 {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let (cert, key) = server.issue_serving_cert(&["127.0.0.1"]);
    let tls = RustlsConfig::from_pem(cert.into_bytes(), key.into_bytes())
        .await
        .unwrap();
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    let validate = move |axum::Json(review): axum::Json<AdmissionReview<DynamicObject>>| async move {
        calls.fetch_add(1, Ordering::SeqCst);
        let request: AdmissionRequest<DynamicObject> = review.try_into().unwrap();
        let response = AdmissionResponse::from(&request);
        let deny = request
            .object
            .as_ref()
            .is_some_and(|o| o.labels().contains_key("deny-me"));
        let response = if deny {
            response.deny("denied by the test webhook")
        } else {
            response
        };
        axum::Json(response.into_review())
    };
    let app = axum::Router::new().route("/validate", axum::routing::post(validate));
    let serve = axum_server::tls_rustls::from_tcp_rustls(listener, tls).unwrap();
    tokio::spawn(serve.serve(app.into_make_service()));
    port
}
