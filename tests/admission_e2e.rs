//! End to end: a real kube-apiserver 1.20 (built from Debian's source package,
//! with etcd, on 127.0.0.1; `tests/common/apiserver.rs`) calls the real
//! `sandbox-lint serve` over real TLS, registered with a
//! ValidatingWebhookConfiguration; clients are kube-rs and kubectl.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::apiserver::ApiServer;
use k8s_openapi::ByteString;
use k8s_openapi::api::admissionregistration::v1::{
    RuleWithOperations, ValidatingWebhook, ValidatingWebhookConfiguration, WebhookClientConfig,
};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement};
use kube::api::{Api, DeleteParams, PostParams};
use serde_json::{Value, json};

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn yaml_json(path: &str) -> Value {
    let text = std::fs::read_to_string(repo(path)).unwrap();
    serde_saphyr::from_str(&text).unwrap()
}

/// The compliant runner pod of testdata/compliant in `namespace`, named `name`.
fn runner(namespace: &str, name: &str) -> Pod {
    let mut v = yaml_json("testdata/compliant/ok-runner-pod.yaml");
    v["metadata"]["namespace"] = json!(namespace);
    v["metadata"]["name"] = json!(name);
    serde_json::from_value(v).unwrap()
}

fn privileged(namespace: &str, name: &str) -> Pod {
    let mut v = serde_json::to_value(runner(namespace, name)).unwrap();
    let sc = &mut v["spec"]["containers"][0]["securityContext"];
    sc["privileged"] = json!(true);
    // The API server refuses privileged together with allowPrivilegeEscalation: false.
    sc["allowPrivilegeEscalation"] = json!(true);
    serde_json::from_value(v).unwrap()
}

/// `sandbox-lint serve` as a child process; killed on drop.
struct Webhook {
    child: Child,
    port: u16,
    health: u16,
    log: PathBuf,
}

impl Drop for Webhook {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts the webhook with two policies: the built-in one enforced in
/// `workflows` and `unguarded`, and the same rules in warn mode in `staging`;
/// with `--cluster-context` against the test API server. Waits until ready.
fn start_webhook(server: &ApiServer, dir: &Path) -> Webhook {
    let (cert, key) = server.issue_serving_cert(&["127.0.0.1"]);
    std::fs::write(dir.join("tls.crt"), cert).unwrap();
    std::fs::write(dir.join("tls.key"), key).unwrap();
    let policies = dir.join("policies");
    std::fs::create_dir_all(&policies).unwrap();
    let policy = |name: &str, mode: &str, namespaces: &str| {
        format!(
            "apiVersion: sandbox-lint.dev/v1alpha1\nkind: Policy\nmetadata:\n  name: {name}\nspec:\n  mode: {mode}\n  extends: [gvisor-sandbox]\n  match:\n    namespaces: [{namespaces}]\n"
        )
    };
    std::fs::write(
        policies.join("enforce.yaml"),
        policy("runners", "enforce", "workflows, unguarded"),
    )
    .unwrap();
    std::fs::write(
        policies.join("warn.yaml"),
        policy("staging-warn", "warn", "staging"),
    )
    .unwrap();
    let (port, health) = (free_port(), free_port());
    let log = dir.join("webhook.log");
    let child = Command::new(env!("CARGO_BIN_EXE_sandbox-lint"))
        .args(["serve", "--cluster-context", "--log-level", "debug"])
        .arg(format!("--listen=127.0.0.1:{port}"))
        .arg(format!("--health-listen=127.0.0.1:{health}"))
        .arg("--tls-cert")
        .arg(dir.join("tls.crt"))
        .arg("--tls-key")
        .arg(dir.join("tls.key"))
        .arg("--policy")
        .arg(&policies)
        .arg("--shutdown-grace=5")
        .env("KUBECONFIG", server.kubeconfig_path())
        .env_remove("HTTPS_PROXY")
        .env_remove("https_proxy")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let hook = Webhook {
        child,
        port,
        health,
        log,
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if http_get(hook.health, "/readyz").is_some_and(|r| r.starts_with("HTTP/1.1 200")) {
            return hook;
        }
        assert!(
            Instant::now() < deadline,
            "webhook not ready: {}",
            std::fs::read_to_string(&hook.log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A plain HTTP/1.1 GET on the health port, the raw response text.
fn http_get(port: u16, path: &str) -> Option<String> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    Some(out)
}

/// The ValidatingWebhookConfiguration the Helm chart renders, pointed at the test webhook.
async fn register(server: &ApiServer, port: u16) {
    let rule = |groups: &[&str], resources: &[&str]| RuleWithOperations {
        api_groups: Some(groups.iter().map(|s| s.to_string()).collect()),
        api_versions: Some(vec!["*".into()]),
        operations: Some(vec!["CREATE".into(), "UPDATE".into()]),
        resources: Some(resources.iter().map(|s| s.to_string()).collect()),
        scope: Some("*".into()),
    };
    let config = ValidatingWebhookConfiguration {
        metadata: kube::api::ObjectMeta {
            name: Some("sandbox-lint".into()),
            ..Default::default()
        },
        webhooks: Some(vec![ValidatingWebhook {
            name: "validate.sandbox-lint.dev".into(),
            admission_review_versions: vec!["v1".into()],
            side_effects: "None".into(),
            failure_policy: Some("Fail".into()),
            match_policy: Some("Equivalent".into()),
            timeout_seconds: Some(10),
            client_config: WebhookClientConfig {
                url: Some(format!("https://127.0.0.1:{port}/validate")),
                ca_bundle: Some(ByteString(server.ca_pem.clone().into_bytes())),
                ..Default::default()
            },
            namespace_selector: Some(LabelSelector {
                match_expressions: Some(vec![LabelSelectorRequirement {
                    key: "kubernetes.io/metadata.name".into(),
                    operator: "NotIn".into(),
                    values: Some(vec!["kube-system".into()]),
                }]),
                ..Default::default()
            }),
            rules: Some(vec![
                rule(
                    &[""],
                    &["pods", "pods/ephemeralcontainers", "serviceaccounts"],
                ),
                rule(
                    &["apps"],
                    &["deployments", "statefulsets", "daemonsets", "replicasets"],
                ),
                rule(&["batch"], &["jobs", "cronjobs"]),
                rule(&["networking.k8s.io"], &["networkpolicies"]),
                rule(
                    &["rbac.authorization.k8s.io"],
                    &["rolebindings", "clusterrolebindings"],
                ),
            ]),
            ..Default::default()
        }]),
    };
    Api::<ValidatingWebhookConfiguration>::all(server.client.clone())
        .create(&PostParams::default(), &config)
        .await
        .unwrap();
}

/// The API error message of a refused request (panics when it was accepted).
async fn refused<T: std::fmt::Debug>(result: Result<T, kube::Error>) -> String {
    match result {
        Ok(v) => panic!("accepted: {v:?}"),
        Err(kube::Error::Api(e)) => e.message,
        Err(e) => panic!("unexpected error: {e}"),
    }
}

/// Creating `pod` until the webhook's answer shows up (registration and the
/// cluster-context watches are eventually consistent); returns the last result.
async fn create_until<F: Fn(&Result<Pod, kube::Error>) -> bool>(
    api: &Api<Pod>,
    pod: &Pod,
    done: F,
) -> Result<Pod, kube::Error> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let r = api.create(&PostParams::default(), pod).await;
        if done(&r) || Instant::now() > deadline {
            return r;
        }
        if r.is_ok() {
            let name = pod.metadata.name.as_deref().unwrap();
            let _ = api.delete(name, &DeleteParams::default()).await;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The whole admission path through a real API server: compliant runner
/// admitted, privileged one denied with our message, warn mode reaches kubectl
/// as warnings, a Deployment with a bad template is denied, server-side dry
/// run reaches the webhook, the live cluster context denies a runner no
/// NetworkPolicy isolates (and admits it once one does), and with the webhook
/// stopped `failurePolicy: Fail` blocks creation.
#[tokio::test(flavor = "multi_thread")]
async fn admission_through_a_real_api_server() {
    let server = ApiServer::start().await;
    server
        .namespace("workflows", &[("purpose", "untrusted-code")])
        .await;
    server.namespace("staging", &[]).await;
    server.namespace("unguarded", &[]).await;
    for ns in ["workflows", "staging", "unguarded"] {
        server.service_account(ns, "workflow-runner").await;
    }
    // The corrected NetworkPolicy of the seeds in `workflows` (testdata/context).
    let np: NetworkPolicy = serde_json::from_value({
        let text = std::fs::read_to_string(repo("testdata/context/cluster.yaml")).unwrap();
        let docs: Vec<Value> = serde_saphyr::from_multiple(&text).unwrap();
        docs.into_iter()
            .find(|d| d["kind"] == "NetworkPolicy" && d["metadata"]["namespace"] == "workflows")
            .unwrap()
    })
    .unwrap();
    let np_api = |ns: &str| Api::<NetworkPolicy>::namespaced(server.client.clone(), ns);
    np_api("workflows")
        .create(&PostParams::default(), &np)
        .await
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let mut hook = start_webhook(&server, dir.path());
    register(&server, hook.port).await;
    let log = || std::fs::read_to_string(&hook.log).unwrap_or_default();

    // Denied, with our message, once the registration has reached the API server.
    let pods = Api::<Pod>::namespaced(server.client.clone(), "workflows");
    let denied = create_until(&pods, &privileged("workflows", "bad"), |r| r.is_err()).await;
    let message = refused(denied).await;
    assert!(
        message.contains(
            "admission webhook \"validate.sandbox-lint.dev\" denied the request: sandbox-lint: Pod workflows/bad violates policy runners:"
        ),
        "{message}"
    );
    assert!(
        message.contains("- SL1007 spec.containers[0].securityContext.privileged: container \"runner\" runs privileged"),
        "{message}"
    );

    // The compliant runner is admitted and stored.
    pods.create(&PostParams::default(), &runner("workflows", "good"))
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", log()));
    assert!(pods.get("good").await.is_ok());

    // Server-side dry run reaches the webhook: denied, and nothing is stored.
    let dry = PostParams {
        dry_run: true,
        ..Default::default()
    };
    let message = refused(pods.create(&dry, &privileged("workflows", "dry")).await).await;
    assert!(message.contains("SL1007"), "{message}");
    pods.create(&dry, &runner("workflows", "dry-ok"))
        .await
        .unwrap();
    assert!(pods.get_opt("dry-ok").await.unwrap().is_none());
    assert!(
        log()
            .lines()
            .any(|l| l.contains("\"name\":\"dry\"") && l.contains("\"dry_run\":true")),
        "{}",
        log()
    );

    // A Deployment whose template is privileged is denied at the template.
    let mut template = serde_json::to_value(privileged("workflows", "x")).unwrap();
    // What a Deployment may carry (the API server's own validation comes first).
    let spec = template["spec"].as_object_mut().unwrap();
    spec.remove("restartPolicy");
    spec.remove("activeDeadlineSeconds");
    let deployment: Deployment = serde_json::from_value(json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "workflows"},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "workflow-runner"}},
            "template": {"metadata": {"labels": template["metadata"]["labels"]}, "spec": template["spec"]},
        }
    }))
    .unwrap();
    let deployments = Api::<Deployment>::namespaced(server.client.clone(), "workflows");
    let message = refused(
        deployments
            .create(&PostParams::default(), &deployment)
            .await,
    )
    .await;
    assert!(
        message.contains("SL1007 spec.template.spec.containers[0].securityContext.privileged"),
        "{message}"
    );

    // Warn mode: kubectl shows our warnings and the pod is created.
    let manifest = dir.path().join("staging-pod.json");
    std::fs::write(
        &manifest,
        serde_json::to_vec(&privileged("staging", "loud")).unwrap(),
    )
    .unwrap();
    let out = server
        .kubectl()
        .args(["create", "-f"])
        .arg(&manifest)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("Warning: sandbox-lint SL1007 spec.containers[0].securityContext.privileged: container \"runner\" runs privileged"),
        "{stderr}"
    );

    // Cluster context: `unguarded` has no NetworkPolicy, so a compliant runner is
    // denied; once a policy isolates it, the watch updates the index and it is admitted.
    let unguarded = Api::<Pod>::namespaced(server.client.clone(), "unguarded");
    let message = refused(
        unguarded
            .create(&PostParams::default(), &runner("unguarded", "r1"))
            .await,
    )
    .await;
    assert!(
        message.contains("SL3001 metadata.labels: no NetworkPolicy isolates this runner's ingress"),
        "{message}"
    );
    let mut isolating = np.clone();
    isolating.metadata.namespace = Some("unguarded".into());
    isolating.metadata.resource_version = None;
    isolating.metadata.uid = None;
    np_api("unguarded")
        .create(&PostParams::default(), &isolating)
        .await
        .unwrap();
    let admitted = create_until(&unguarded, &runner("unguarded", "r2"), Result::is_ok).await;
    assert!(admitted.is_ok(), "{admitted:?}\n{}", log());

    // The webhook answered every one of these with a JSON log line carrying the uid.
    assert!(
        log()
            .lines()
            .any(|l| l.contains("\"decision\":\"denied\"") && l.contains("\"uid\":\"")),
        "{}",
        log()
    );

    // Stopped webhook: failurePolicy Fail blocks even a compliant pod.
    nix_term(&mut hook);
    let message = refused(
        pods.create(&PostParams::default(), &runner("workflows", "while-down"))
            .await,
    )
    .await;
    assert!(
        message.contains("failed calling webhook") || message.contains("Internal error"),
        "{message}"
    );
}

/// Stops the webhook with SIGTERM and waits for it to exit cleanly.
fn nix_term(hook: &mut Webhook) {
    let pid = nix::unistd::Pid::from_raw(i32::try_from(hook.child.id()).unwrap());
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = hook.child.try_wait().unwrap() {
            assert!(status.success(), "webhook exit: {status}");
            return;
        }
        assert!(Instant::now() < deadline, "webhook did not stop");
        std::thread::sleep(Duration::from_millis(50));
    }
}
