//! The Helm charts in `charts/`: the webhook (`charts/sandbox-lint`) and the
//! runner namespace (`charts/sandbox-runtime`). Helm's own Go library lints and
//! renders them (helm-python-sdk from PyPI, driven by `tests/helm_render.py`;
//! no helm binary), with default and non-default values; the tests assert on
//! the rendered objects, on what `values.schema.json` and the templates refuse,
//! and run sandbox-lint itself on what the charts render.
//!
//! The Python comes from `target/helm-venv`, which `.ci/helm-venv` builds once,
//! or from `SANDBOX_LINT_HELM_PYTHON` (an interpreter that has helm-python-sdk).

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use serde_json::{Value, json};

const WEBHOOK: &str = "charts/sandbox-lint";
const RUNTIME: &str = "charts/sandbox-runtime";
const OWN_PODS_POLICY: &str = "testdata/policies/webhook-own-pods.yaml";
/// Only the prefix matters to the chart, which never parses the certificate.
const CA_PEM: &str = "-----BEGIN CERTIFICATE-----\nMIIBdummyCA\n-----END CERTIFICATE-----\n";
/// CA_PEM in base64, as the webhook configuration carries it.
const CA_B64: &str =
    "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJkdW1teUNBCi0tLS0tRU5EIENFUlRJRklDQVRFLS0tLS0K";

fn checkout() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The interpreter with helm-python-sdk: `SANDBOX_LINT_HELM_PYTHON`, or the venv
/// `.ci/helm-venv` builds (once per test run; the script is idempotent).
fn python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| {
        if let Some(p) = std::env::var_os("SANDBOX_LINT_HELM_PYTHON") {
            return PathBuf::from(p);
        }
        let out = Command::new("bash")
            .arg(checkout().join(".ci/helm-venv"))
            .output()
            .expect("run .ci/helm-venv");
        assert!(
            out.status.success(),
            ".ci/helm-venv failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        checkout().join("target/helm-venv/bin/python")
    })
}

/// Sends requests to tests/helm_render.py (one process, Helm loaded once) and
/// returns its answers, in order.
fn helm(requests: &[Value]) -> Vec<Value> {
    let mut child = Command::new(python())
        .arg(checkout().join("tests/helm_render.py"))
        .current_dir(checkout())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run tests/helm_render.py");
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(serde_json::to_string(requests).unwrap().as_bytes())
        .unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "tests/helm_render.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answers: Vec<Value> = serde_json::from_slice(&out.stdout).expect("answers are JSON");
    assert_eq!(answers.len(), requests.len());
    answers
}

fn render_request(chart: &str, release: &str, namespace: &str, values: Value) -> Value {
    json!({
        "op": "render",
        "chart": checkout().join(chart),
        "name": release,
        "namespace": namespace,
        "values": values,
    })
}

/// A chart as `helm template` renders it.
struct Rendered {
    /// Template path -> rendered text (NOTES.txt included).
    manifests: BTreeMap<String, String>,
    objects: Vec<Value>,
}

impl Rendered {
    fn from_answer(answer: &Value) -> Result<Rendered, String> {
        if answer["ok"] != true {
            let text = |key: &str| answer[key].as_str().unwrap_or_default().to_string();
            return Err(format!("{}: {}", text("error"), text("message")));
        }
        let manifests: BTreeMap<String, String> =
            serde_json::from_value(answer["manifests"].clone()).unwrap();
        let mut objects = Vec::new();
        for (path, text) in &manifests {
            if !path.ends_with(".yaml") {
                continue;
            }
            let docs: Vec<Value> = serde_saphyr::from_multiple(text)
                .unwrap_or_else(|e| panic!("{path} is not YAML: {e}\n{text}"));
            objects.extend(docs.into_iter().filter(|d| !d.is_null()));
        }
        Ok(Rendered { manifests, objects })
    }

    /// Every rendered manifest, as one multi-document YAML stream.
    fn yaml(&self) -> String {
        self.manifests
            .iter()
            .filter(|(path, text)| path.ends_with(".yaml") && !text.trim().is_empty())
            .map(|(path, text)| format!("# Source: {path}\n{text}"))
            .collect::<Vec<_>>()
            .join("\n---\n")
    }

    fn all(&self, kind: &str) -> Vec<&Value> {
        self.objects.iter().filter(|o| o["kind"] == kind).collect()
    }

    fn one(&self, kind: &str) -> &Value {
        let found = self.all(kind);
        assert_eq!(found.len(), 1, "one {kind} expected, got {}", found.len());
        found[0]
    }

    fn kinds(&self) -> BTreeSet<&str> {
        self.objects
            .iter()
            .map(|o| o["kind"].as_str().unwrap())
            .collect()
    }

    fn notes(&self) -> &str {
        self.manifests
            .iter()
            .find(|(path, _)| path.ends_with("NOTES.txt"))
            .map(|(_, text)| text.as_str())
            .unwrap_or("")
    }

    fn container(&self) -> &Value {
        &self.one("Deployment")["spec"]["template"]["spec"]["containers"][0]
    }

    fn args(&self) -> Vec<&str> {
        self.container()["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect()
    }
}

/// Renders each (chart, release, namespace, values) in one Helm process.
fn render_all(cases: &[(&str, &str, &str, Value)]) -> Vec<Result<Rendered, String>> {
    let requests: Vec<Value> = cases
        .iter()
        .map(|(chart, release, ns, values)| render_request(chart, release, ns, values.clone()))
        .collect();
    helm(&requests).iter().map(Rendered::from_answer).collect()
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .unwrap_or_else(|| panic!("not a list: {v}"))
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect()
}

fn set(v: &Value) -> BTreeSet<&str> {
    strings(v).into_iter().collect()
}

/// `sandbox-lint check -f json --no-config ARGS`: exit code and report.
fn check(args: &[&str]) -> (i32, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_sandbox-lint"))
        .args(["check", "-f", "json", "--no-config"])
        .args(args)
        .current_dir(checkout())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON report ({e}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap(), report)
}

/// `CODE message (file:line)` of each finding at `severity` (all when None).
fn findings(report: &Value, severity: Option<&str>) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| severity.is_none_or(|s| f["severity"] == s) && f["suppressed"].is_null())
        .map(|f| {
            format!(
                "{} {} ({}:{})",
                f["code"].as_str().unwrap(),
                f["message"].as_str().unwrap(),
                f["file"].as_str().unwrap(),
                f["line"]
            )
        })
        .collect()
}

fn codes(report: &Value) -> BTreeSet<String> {
    findings(report, None)
        .iter()
        .map(|f| f.split(' ').next().unwrap().to_string())
        .collect()
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

/// Webhook values with TLS from a Secret instead of cert-manager.
fn secret_tls(secret: &str) -> Value {
    json!({"tls": {"certManager": {"enabled": false}, "secretName": secret, "caBundle": CA_PEM}})
}

/// `helm lint --strict` passes both charts, with their defaults and with
/// non-default values: no warning and no error (infos, such as "icon is
/// recommended", are allowed). Lint does report wrong values, as errors.
#[test]
fn helm_lint_passes_both_charts() {
    let lint = |chart: &str, values: Value| {
        json!({
            "op": "lint",
            "chart": checkout().join(chart),
            "values": values,
            "namespace": "ns1",
        })
    };
    let requests = [
        lint(WEBHOOK, json!({})),
        lint(
            WEBHOOK,
            json!({"clusterContext": {"enabled": true}, "replicaCount": 3,
                   "policies": {"p.yaml": "kind: Policy\n"}}),
        ),
        lint(WEBHOOK, secret_tls("webhook-tls")),
        lint(RUNTIME, json!({})),
        lint(
            RUNTIME,
            json!({"namespace": {"name": "sandboxes"}, "runtimeClass": {"create": false}}),
        ),
        lint(WEBHOOK, json!({"replicaCount": "two"})),
    ];
    let answers = helm(&requests);
    for (request, answer) in requests.iter().zip(&answers).take(5) {
        assert_eq!(answer["ok"], true, "{answer}");
        let serious: Vec<&Value> = answer["messages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["severity"].as_i64().unwrap() >= 2)
            .collect();
        assert!(serious.is_empty(), "{request}: {serious:?}");
        assert_eq!(answer["errors"], json!([]), "{request}");
    }
    let bad = &answers[5];
    assert_eq!(bad["ok"], true, "{bad}");
    let errors = bad["errors"].to_string();
    assert!(errors.contains("/replicaCount"), "{errors}");
}

/// The ValidatingWebhookConfiguration fails closed, has no side effects, speaks
/// admission/v1, matches equivalent versions, sends CREATE and UPDATE of every
/// kind sandbox-lint judges, and never sends kube-system or the release's own
/// namespace (whatever it is), so the webhook's pods can start while it is down.
/// Its service reference leads to the Service, the Service to the HTTPS port.
#[test]
fn webhook_configuration_fails_closed_outside_system_namespaces() {
    let mut rendered = render_all(&[
        (WEBHOOK, "sl", "sandbox-lint-system", json!({})),
        (
            WEBHOOK,
            "guard",
            "policy-engine",
            json!({"webhook": {"failurePolicy": "Ignore", "timeoutSeconds": 5,
                               "excludedNamespaces": ["monitoring"],
                               "objectSelector": {"matchLabels": {"sandbox": "true"}}},
                   "server": {"requestTimeoutSeconds": 4}}),
        ),
    ])
    .into_iter()
    .map(Result::unwrap);
    let default = rendered.next().unwrap();
    let custom = rendered.next().unwrap();

    let vwc = default.one("ValidatingWebhookConfiguration");
    let hooks = vwc["webhooks"].as_array().unwrap();
    assert_eq!(hooks.len(), 1);
    let hook = &hooks[0];
    assert_eq!(hook["failurePolicy"], "Fail");
    assert_eq!(hook["sideEffects"], "None");
    assert_eq!(hook["admissionReviewVersions"], json!(["v1"]));
    assert_eq!(hook["matchPolicy"], "Equivalent");
    assert_eq!(hook["timeoutSeconds"], 10);
    assert!(hook.get("objectSelector").is_none(), "{hook}");

    let exprs = hook["namespaceSelector"]["matchExpressions"]
        .as_array()
        .unwrap();
    let not_in = exprs
        .iter()
        .find(|e| e["key"] == "kubernetes.io/metadata.name" && e["operator"] == "NotIn")
        .unwrap_or_else(|| panic!("no NotIn on kubernetes.io/metadata.name: {exprs:?}"));
    assert_eq!(
        set(&not_in["values"]),
        BTreeSet::from(["kube-system", "sandbox-lint-system"])
    );

    let mut sent = BTreeSet::new();
    for rule in hook["rules"].as_array().unwrap() {
        assert_eq!(
            set(&rule["operations"]),
            BTreeSet::from(["CREATE", "UPDATE"])
        );
        assert_eq!(strings(&rule["apiVersions"]), ["v1"]);
        for group in strings(&rule["apiGroups"]) {
            for resource in strings(&rule["resources"]) {
                sent.insert(format!("{group}/{resource}"));
            }
        }
    }
    let expected: BTreeSet<String> = [
        "/pods",
        "/pods/ephemeralcontainers",
        "/pods/resize",
        "apps/deployments",
        "apps/statefulsets",
        "apps/daemonsets",
        "apps/replicasets",
        "/replicationcontrollers",
        "batch/jobs",
        "batch/cronjobs",
        "/podtemplates",
        "networking.k8s.io/networkpolicies",
        "/serviceaccounts",
        "rbac.authorization.k8s.io/rolebindings",
        "rbac.authorization.k8s.io/clusterrolebindings",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(sent, expected);

    // API server -> Service -> pod: every hop names the next one.
    let client = &hook["clientConfig"]["service"];
    let service = default.one("Service");
    assert_eq!(client["name"], service["metadata"]["name"]);
    assert_eq!(client["namespace"], "sandbox-lint-system");
    assert_eq!(client["path"], "/validate");
    assert_eq!(client["port"], 443);
    let port = &service["spec"]["ports"][0];
    assert_eq!(port["port"], 443);
    let https = default.container()["ports"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == port["targetPort"])
        .unwrap_or_else(|| panic!("no container port {}", port["targetPort"]));
    assert_eq!(https["containerPort"], 8443);
    assert!(default.args().contains(&"--listen=0.0.0.0:8443"));
    let selector = service["spec"]["selector"].as_object().unwrap();
    let pod_labels = &default.one("Deployment")["spec"]["template"]["metadata"]["labels"];
    for (k, v) in selector {
        assert_eq!(&pod_labels[k], v, "Service selects {k}={v}");
    }

    let hook = &custom.one("ValidatingWebhookConfiguration")["webhooks"][0];
    assert_eq!(hook["failurePolicy"], "Ignore");
    assert_eq!(hook["timeoutSeconds"], 5);
    assert_eq!(
        hook["objectSelector"],
        json!({"matchLabels": {"sandbox": "true"}})
    );
    let not_in = &hook["namespaceSelector"]["matchExpressions"][0];
    assert_eq!(
        set(&not_in["values"]),
        BTreeSet::from(["kube-system", "policy-engine", "monitoring"])
    );
    assert_eq!(
        hook["clientConfig"]["service"]["namespace"],
        "policy-engine"
    );
    assert!(custom.args().contains(&"--request-timeout=4"));
    assert!(
        custom.notes().contains("policy-engine"),
        "{}",
        custom.notes()
    );
}

/// The Deployment: 2 replicas by default (3 when asked), a PodDisruptionBudget
/// keeping one available, anti-affinity on the hostname (preferred, or required
/// with `podAntiAffinity: hard`), probes on the health listener, exactly the
/// `serve` flags the binary takes, and an image pinned to the appVersion (and a
/// digest when given).
#[test]
fn deployment_is_replicated_spread_probed_and_pinned() {
    let digest = format!("sha256:{}", "ab".repeat(32));
    let mut rendered = render_all(&[
        (WEBHOOK, "sl", "sandbox-lint-system", json!({})),
        (
            WEBHOOK,
            "sl",
            "sandbox-lint-system",
            json!({"replicaCount": 3, "podAntiAffinity": "hard",
                   "image": {"tag": "0.2.0", "digest": digest}}),
        ),
        (
            WEBHOOK,
            "sl",
            "sandbox-lint-system",
            json!({"replicaCount": 1, "podDisruptionBudget": {"enabled": false}}),
        ),
    ])
    .into_iter()
    .map(Result::unwrap);
    let default = rendered.next().unwrap();
    let three = rendered.next().unwrap();
    let single = rendered.next().unwrap();

    let deployment = default.one("Deployment");
    assert_eq!(deployment["spec"]["replicas"], 2);
    let pod_labels = &deployment["spec"]["template"]["metadata"]["labels"];
    let pdb = default.one("PodDisruptionBudget");
    assert_eq!(pdb["spec"]["minAvailable"], 1);
    for (k, v) in pdb["spec"]["selector"]["matchLabels"].as_object().unwrap() {
        assert_eq!(&pod_labels[k], v, "the PDB selects {k}={v}");
    }
    let anti = &deployment["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"];
    let preferred = &anti["preferredDuringSchedulingIgnoredDuringExecution"][0];
    assert_eq!(
        preferred["podAffinityTerm"]["topologyKey"],
        "kubernetes.io/hostname"
    );
    assert!(
        anti.get("requiredDuringSchedulingIgnoredDuringExecution")
            .is_none()
    );

    let container = default.container();
    assert_eq!(
        container["image"],
        "ghcr.io/sandbox-lint/sandbox-lint:0.1.0"
    );
    let health = container["ports"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "health")
        .unwrap();
    assert_eq!(health["containerPort"], 8080);
    assert_eq!(container["livenessProbe"]["httpGet"]["path"], "/healthz");
    assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/readyz");
    assert_eq!(container["livenessProbe"]["httpGet"]["port"], "health");
    assert_eq!(container["readinessProbe"]["httpGet"]["port"], "health");
    assert_eq!(
        default.args(),
        [
            "serve",
            "--listen=0.0.0.0:8443",
            "--health-listen=0.0.0.0:8080",
            "--tls-cert=/etc/sandbox-lint/tls/tls.crt",
            "--tls-key=/etc/sandbox-lint/tls/tls.key",
            "--max-body-bytes=8388608",
            "--request-timeout=10",
        ]
    );
    let mounts = container["volumeMounts"].as_array().unwrap();
    assert!(mounts.iter().all(|m| m["readOnly"] == true), "{mounts:?}");

    let deployment = three.one("Deployment");
    assert_eq!(deployment["spec"]["replicas"], 3);
    let anti = &deployment["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"];
    assert_eq!(
        anti["requiredDuringSchedulingIgnoredDuringExecution"][0]["topologyKey"],
        "kubernetes.io/hostname"
    );
    assert!(
        anti.get("preferredDuringSchedulingIgnoredDuringExecution")
            .is_none()
    );
    assert_eq!(
        three.container()["image"],
        format!("ghcr.io/sandbox-lint/sandbox-lint:0.2.0@{digest}")
    );

    assert_eq!(single.one("Deployment")["spec"]["replicas"], 1);
    assert!(single.all("PodDisruptionBudget").is_empty());
}

/// RBAC exists only with `clusterContext.enabled`: then a ClusterRole with
/// exactly get/list/watch on exactly the six kinds the cross-resource rules
/// look up, bound to the pods' ServiceAccount, the `--cluster-context` flag,
/// and a mounted token. Without it: no role, no binding, no token.
#[test]
fn cluster_context_alone_grants_read_only_access() {
    let mut rendered = render_all(&[
        (WEBHOOK, "sl", "sandbox-lint-system", json!({})),
        (
            WEBHOOK,
            "sl",
            "sandbox-lint-system",
            json!({"clusterContext": {"enabled": true}}),
        ),
    ])
    .into_iter()
    .map(Result::unwrap);
    let off = rendered.next().unwrap();
    let on = rendered.next().unwrap();

    let base = BTreeSet::from([
        "Deployment",
        "PodDisruptionBudget",
        "Service",
        "ServiceAccount",
        "ValidatingWebhookConfiguration",
        "Issuer",
        "Certificate",
    ]);
    assert_eq!(off.kinds(), base);
    let mut with_rbac = base.clone();
    with_rbac.extend(["ClusterRole", "ClusterRoleBinding"]);
    assert_eq!(on.kinds(), with_rbac);
    let rbac = ["Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"];
    for kind in rbac {
        assert!(off.all(kind).is_empty(), "{kind} without cluster context");
    }
    let pod = &off.one("Deployment")["spec"]["template"]["spec"];
    assert_eq!(pod["automountServiceAccountToken"], false);
    assert!(!off.args().contains(&"--cluster-context"));
    assert_eq!(
        off.one("ServiceAccount")["automountServiceAccountToken"],
        false
    );

    assert!(on.all("Role").is_empty() && on.all("RoleBinding").is_empty());
    let role = on.one("ClusterRole");
    let mut granted = BTreeSet::new();
    for rule in role["rules"].as_array().unwrap() {
        assert_eq!(strings(&rule["verbs"]), ["get", "list", "watch"], "{rule}");
        assert!(rule.get("resourceNames").is_none() && rule.get("nonResourceURLs").is_none());
        for group in strings(&rule["apiGroups"]) {
            for resource in strings(&rule["resources"]) {
                granted.insert(format!("{group}/{resource}"));
            }
        }
    }
    assert_eq!(
        granted,
        BTreeSet::from([
            "/serviceaccounts".to_string(),
            "/namespaces".to_string(),
            "networking.k8s.io/networkpolicies".to_string(),
            "rbac.authorization.k8s.io/rolebindings".to_string(),
            "rbac.authorization.k8s.io/clusterrolebindings".to_string(),
            "node.k8s.io/runtimeclasses".to_string(),
        ])
    );
    let binding = on.one("ClusterRoleBinding");
    assert_eq!(binding["roleRef"]["kind"], "ClusterRole");
    assert_eq!(binding["roleRef"]["name"], role["metadata"]["name"]);
    let pod = &on.one("Deployment")["spec"]["template"]["spec"];
    assert_eq!(
        binding["subjects"],
        json!([{"kind": "ServiceAccount", "name": pod["serviceAccountName"],
                "namespace": "sandbox-lint-system"}])
    );
    assert_eq!(pod["automountServiceAccountToken"], true);
    assert!(on.args().contains(&"--cluster-context"));
}

/// Policies given as values land in a ConfigMap mounted read-only and passed as
/// `--policy /etc/sandbox-lint/policies`; the checksum annotation changes with
/// their text (so a change rolls the pods), and sandbox-lint loads the files
/// exactly as the chart stores them. Without policies the built-in default is
/// used: no ConfigMap, no `--policy`.
#[test]
fn policies_come_from_a_configmap_that_rolls_the_pods() {
    let team = std::fs::read_to_string(checkout().join(OWN_PODS_POLICY)).unwrap();
    let network =
        std::fs::read_to_string(checkout().join("testdata/policies/network-only.yaml")).unwrap();
    let mut rendered = render_all(&[
        (WEBHOOK, "sl", "sandbox-lint-system", json!({})),
        (
            WEBHOOK,
            "sl",
            "sandbox-lint-system",
            json!({"policies": {"team.yaml": team, "network.yaml": network}}),
        ),
        (
            WEBHOOK,
            "sl",
            "sandbox-lint-system",
            json!({"policies": {"team.yaml": team.replace("mode: enforce", "mode: warn"),
                                "network.yaml": network}}),
        ),
    ])
    .into_iter()
    .map(Result::unwrap);
    let builtin = rendered.next().unwrap();
    let custom = rendered.next().unwrap();
    let changed = rendered.next().unwrap();

    assert!(builtin.all("ConfigMap").is_empty());
    assert!(!builtin.args().iter().any(|a| a.starts_with("--policy")));

    assert!(
        custom
            .args()
            .contains(&"--policy=/etc/sandbox-lint/policies")
    );
    let configmap = custom.one("ConfigMap");
    let pod = &custom.one("Deployment")["spec"]["template"]["spec"];
    let volume = pod["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["configMap"]["name"] == configmap["metadata"]["name"])
        .expect("the ConfigMap is a volume");
    let mount = custom.container()["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == volume["name"])
        .expect("the volume is mounted");
    assert_eq!(mount["mountPath"], "/etc/sandbox-lint/policies");
    assert_eq!(mount["readOnly"], true);

    let checksum = |r: &Rendered| {
        r.one("Deployment")["spec"]["template"]["metadata"]["annotations"]["checksum/policies"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_ne!(checksum(&builtin), checksum(&custom));
    assert_ne!(checksum(&custom), checksum(&changed));

    let dir = tempfile::tempdir().unwrap();
    for (file, text) in configmap["data"].as_object().unwrap() {
        write(dir.path(), file, text.as_str().unwrap());
    }
    assert_eq!(configmap["data"]["team.yaml"], team.as_str());
    let (code, report) = check(&[
        "-p",
        dir.path().to_str().unwrap(),
        "--context",
        "testdata/context",
        "testdata/compliant",
    ]);
    assert_eq!(code, 0, "{}", findings(&report, None).join("\n"));
    let names: BTreeSet<&str> = report["policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, BTreeSet::from(["network-only", "webhook-own-pods"]));
}

/// TLS comes from cert-manager (a self-signed Issuer or a given issuerRef, and
/// the CA injected by annotation) or from a Secret plus a caBundle (PEM or
/// base64 of it, sent base64), and the Deployment mounts that certificate.
/// Neither, both, a Secret without CA, a CA that is not a certificate, or a CA
/// next to cert-manager's fail rendering with a message saying what to set.
#[test]
fn tls_comes_from_cert_manager_or_a_secret_and_nothing_else() {
    let ns = "sandbox-lint-system";
    let results = render_all(&[
        (WEBHOOK, "sl", ns, json!({})),
        (
            WEBHOOK,
            "sl",
            ns,
            json!({"tls": {"certManager": {"issuerRef": {"name": "corp-ca", "kind": "ClusterIssuer"}}}}),
        ),
        (WEBHOOK, "sl", ns, secret_tls("webhook-tls")),
        (
            WEBHOOK,
            "sl",
            ns,
            json!({"tls": {"certManager": {"enabled": false}, "secretName": "webhook-tls",
                           "caBundle": CA_B64,
                           "clientCA": {"configMapName": "apiserver-client-ca"}}}),
        ),
        (
            WEBHOOK,
            "sl",
            ns,
            json!({"tls": {"certManager": {"enabled": false}}}),
        ),
        (
            WEBHOOK,
            "sl",
            ns,
            json!({"tls": {"secretName": "webhook-tls"}}),
        ),
        (
            WEBHOOK,
            "sl",
            ns,
            json!({"tls": {"certManager": {"enabled": false}, "secretName": "webhook-tls"}}),
        ),
        (
            WEBHOOK,
            "sl",
            ns,
            json!({"tls": {"certManager": {"enabled": false}, "secretName": "webhook-tls",
                           "caBundle": "not a certificate"}}),
        ),
        (WEBHOOK, "sl", ns, json!({"tls": {"caBundle": CA_PEM}})),
    ]);
    let mut results = results.into_iter();
    let mut next = || results.next().unwrap();
    let tls_secret = |r: &Rendered| {
        r.one("Deployment")["spec"]["template"]["spec"]["volumes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["name"] == "tls")
            .unwrap()["secret"]["secretName"]
            .clone()
    };

    let cert_manager = next().unwrap();
    let issuer = cert_manager.one("Issuer");
    assert!(issuer["spec"]["selfSigned"].is_object());
    let cert = cert_manager.one("Certificate");
    assert_eq!(
        cert["spec"]["issuerRef"]["name"],
        issuer["metadata"]["name"]
    );
    assert_eq!(tls_secret(&cert_manager), cert["spec"]["secretName"]);
    let service = cert_manager.one("Service")["metadata"]["name"]
        .as_str()
        .unwrap();
    assert!(
        strings(&cert["spec"]["dnsNames"]).contains(&format!("{service}.{ns}.svc").as_str()),
        "{cert}"
    );
    let vwc = cert_manager.one("ValidatingWebhookConfiguration");
    assert_eq!(
        vwc["metadata"]["annotations"]["cert-manager.io/inject-ca-from"],
        format!("{ns}/{}", cert["metadata"]["name"].as_str().unwrap())
    );
    assert!(vwc["webhooks"][0]["clientConfig"].get("caBundle").is_none());

    let issuer_ref = next().unwrap();
    assert!(issuer_ref.all("Issuer").is_empty());
    assert_eq!(
        issuer_ref.one("Certificate")["spec"]["issuerRef"],
        json!({"name": "corp-ca", "kind": "ClusterIssuer", "group": "cert-manager.io"})
    );

    for (secret, client_ca) in [(next().unwrap(), false), (next().unwrap(), true)] {
        assert!(secret.all("Certificate").is_empty() && secret.all("Issuer").is_empty());
        assert_eq!(tls_secret(&secret), "webhook-tls");
        let vwc = secret.one("ValidatingWebhookConfiguration");
        assert!(vwc["metadata"].get("annotations").is_none(), "{vwc}");
        assert_eq!(vwc["webhooks"][0]["clientConfig"]["caBundle"], CA_B64);
        assert_eq!(
            secret
                .args()
                .contains(&"--client-ca=/etc/sandbox-lint/client-ca/ca.crt"),
            client_ca
        );
    }

    let refused = [
        (
            "no TLS source",
            "no TLS configured for the webhook: set tls.certManager.enabled=true",
        ),
        ("two TLS sources", "TLS is configured twice"),
        (
            "a Secret without CA",
            "tls.secretName=webhook-tls needs tls.caBundle",
        ),
        (
            "a CA that is no certificate",
            "tls.caBundle must be a PEM certificate",
        ),
        (
            "a CA besides cert-manager's",
            "tls.caBundle is set but cert-manager injects the CA",
        ),
    ];
    for (what, message) in refused {
        let error = next().err().unwrap_or_else(|| panic!("{what} rendered"));
        assert!(error.contains("HelmRenderError"), "{what}: {error}");
        assert!(error.contains(message), "{what}: {error}");
    }
}

/// values.schema.json (draft-07) declares every value and closes every object
/// it defines (`additionalProperties: false`); Helm refuses values of the wrong
/// type, unknown keys at any level, out-of-range numbers and unpinned images
/// before rendering anything. Cross-value rules the schema cannot express fail
/// rendering instead.
#[test]
fn values_schemas_refuse_bad_values() {
    fn closed(schema: &Value, at: &str, open: &mut Vec<String>) {
        match schema {
            Value::Object(map) => {
                if map.contains_key("properties")
                    && map.get("additionalProperties") != Some(&json!(false))
                {
                    open.push(at.to_string());
                }
                for (k, v) in map {
                    closed(v, &format!("{at}/{k}"), open);
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    closed(v, &format!("{at}/{i}"), open);
                }
            }
            _ => {}
        }
    }
    for chart in [WEBHOOK, RUNTIME] {
        let text =
            std::fs::read_to_string(checkout().join(chart).join("values.schema.json")).unwrap();
        let schema: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
        let mut open = Vec::new();
        closed(&schema, "", &mut open);
        assert!(
            open.is_empty(),
            "{chart}: objects without additionalProperties false: {open:?}"
        );
    }

    let webhook_bad = [
        (json!({"replicaCount": "two"}), "/replicaCount"),
        (json!({"replicaCount": 0}), "/replicaCount"),
        (json!({"replicas": 2}), "replicas"),
        (json!({"image": {"tagg": "1.0"}}), "tagg"),
        (json!({"image": {"tag": "latest"}}), "/image/tag"),
        (json!({"image": {"digest": "sha256:abc"}}), "/image/digest"),
        (
            json!({"webhook": {"failurePolicy": "Maybe"}}),
            "/webhook/failurePolicy",
        ),
        (
            json!({"webhook": {"timeoutSeconds": 31}}),
            "/webhook/timeoutSeconds",
        ),
        (
            json!({"securityContext": {"runAsUser": 0}}),
            "/securityContext/runAsUser",
        ),
        (
            json!({"resources": {"limits": {"memory": "lots"}}}),
            "/resources/limits/memory",
        ),
        (
            json!({"clusterContext": {"enabled": "yes"}}),
            "/clusterContext/enabled",
        ),
        (
            json!({"policies": {"team.json": "kind: Policy"}}),
            "team.json",
        ),
        (json!({"podAntiAffinity": "always"}), "/podAntiAffinity"),
    ];
    let runtime_bad = [
        (json!({"namespaces": {}}), "namespaces"),
        (
            json!({"namespace": {"name": "Workflows"}}),
            "/namespace/name",
        ),
        (
            json!({"networkPolicy": {"https": {"port": "443"}}}),
            "/networkPolicy/https/port",
        ),
        (
            json!({"networkPolicy": {"dns": {"port": 0}}}),
            "/networkPolicy/dns/port",
        ),
        (
            json!({"networkPolicy": {"api": {"podLabels": {"app": 1}}}}),
            "/networkPolicy/api/podLabels/app",
        ),
        (json!({"limitRange": {"max": {"gpu": "1"}}}), "gpu"),
        (
            json!({"limitRange": {"max": {"cpu": "lots"}}}),
            "/limitRange/max/cpu",
        ),
        (
            json!({"runtimeClass": {"handler": 7}}),
            "/runtimeClass/handler",
        ),
    ];
    let cases: Vec<(&str, &str, &str, Value)> = webhook_bad
        .iter()
        .map(|(v, _)| (WEBHOOK, "sl", "sandbox-lint-system", v.clone()))
        .chain(
            runtime_bad
                .iter()
                .map(|(v, _)| (RUNTIME, "rt", "default", v.clone())),
        )
        .collect();
    let expected = webhook_bad.iter().chain(&runtime_bad);
    for (result, (values, at)) in render_all(&cases).into_iter().zip(expected) {
        let error = result.err().unwrap_or_else(|| panic!("{values} rendered"));
        assert!(error.contains("HelmValuesError"), "{values}: {error}");
        assert!(error.contains(at), "{values}: {error} does not name {at}");
    }

    let cross = [
        (
            json!({"server": {"requestTimeoutSeconds": 20}}),
            "server.requestTimeoutSeconds (20) exceeds webhook.timeoutSeconds (10)",
        ),
        (
            json!({"replicaCount": 1}),
            "podDisruptionBudget.minAvailable (1) must be below replicaCount (1)",
        ),
    ];
    let cases: Vec<_> = cross
        .iter()
        .map(|(v, _)| (WEBHOOK, "sl", "sandbox-lint-system", v.clone()))
        .collect();
    for (result, (values, message)) in render_all(&cases).into_iter().zip(&cross) {
        let error = result.err().unwrap_or_else(|| panic!("{values} rendered"));
        assert!(error.contains(message), "{values}: {error}");
    }
}

/// Dogfooding: the webhook's own Deployment, as the chart renders it with
/// defaults and with every option that changes the pod (cluster context and its
/// token, Secret TLS with client CA, policies, 3 replicas, a digest, another
/// namespace), passes `testdata/policies/webhook-own-pods.yaml` (Pod Security
/// Restricted plus the checklist's rules for any hardened pod) with zero
/// findings. A rendered pod with a weakened security context does not, so the
/// policy really judges it.
#[test]
fn webhook_chart_passes_its_own_rules() {
    let digest = format!("sha256:{}", "0f".repeat(32));
    let mut custom = secret_tls("webhook-tls");
    custom["tls"]["clientCA"] = json!({"configMapName": "apiserver-client-ca"});
    custom["clusterContext"] = json!({"enabled": true});
    custom["replicaCount"] = json!(3);
    custom["image"] = json!({"digest": digest});
    custom["policies"] = json!({"team.yaml": "kind: Policy\n"});
    let cases = [
        (WEBHOOK, "sl", "sandbox-lint-system", json!({})),
        (
            WEBHOOK,
            "sl",
            "sandbox-lint-system",
            json!({"clusterContext": {"enabled": true}}),
        ),
        (WEBHOOK, "admission", "platform", custom),
    ];
    let dir = tempfile::tempdir().unwrap();
    let all: Vec<Rendered> = render_all(&cases).into_iter().map(Result::unwrap).collect();
    for (i, rendered) in all.iter().enumerate() {
        let file = write(dir.path(), &format!("webhook-{i}.yaml"), &rendered.yaml());
        let (code, report) = check(&["-p", OWN_PODS_POLICY, &file]);
        assert_eq!(
            (code, findings(&report, None)),
            (0, vec![]),
            "{:?}\n{}",
            cases[i].3,
            rendered.yaml()
        );
        assert_eq!(report["policies"][0]["name"], "webhook-own-pods");
        assert!(
            report["summary"]["resources"].as_u64().unwrap() >= 6,
            "{report}"
        );
    }

    // The default render (cases[0]) with one control weakened.
    let weakened = all[0]
        .yaml()
        .replace(
            "readOnlyRootFilesystem: true",
            "readOnlyRootFilesystem: false",
        )
        .replace(
            "allowPrivilegeEscalation: false",
            "allowPrivilegeEscalation: true",
        )
        .replace("ephemeral-storage: \"64Mi\"", "");
    let file = write(dir.path(), "weakened.yaml", &weakened);
    let (code, report) = check(&["-p", OWN_PODS_POLICY, &file]);
    assert_eq!(code, 1);
    let found = codes(&report);
    for code in ["SL1006", "SL1010", "SL1022", "SL1114"] {
        assert!(found.contains(code), "{code} not in {found:?}");
    }
}

/// The runner namespace chart is the seeds' cluster done right: with the
/// default policy, its objects judged against the compliant runners
/// (`testdata/compliant` as `--context`) and the compliant runners judged in
/// it (the rendered chart as `--context`) give zero errors. Its RuntimeClass
/// carries the runner pool's node selector and toleration, which is what lets a
/// runner that omits them pass SL2004/SL2005; without that scheduling, and with
/// an HTTPS rule that excepts nothing, sandbox-lint reports errors.
#[test]
fn runtime_chart_is_a_cluster_compliant_runners_pass_in() {
    let pod =
        std::fs::read_to_string(checkout().join("testdata/compliant/ok-runner-pod.yaml")).unwrap();
    let (from, to) = (
        pod.find("  affinity:").unwrap(),
        pod.find("  containers:").unwrap(),
    );
    let bare_pod = format!("{}{}", &pod[..from], &pod[to..]);

    let results = render_all(&[
        (RUNTIME, "runtime", "default", json!({})),
        (
            RUNTIME,
            "runtime",
            "default",
            // null deletes a default value in Helm; an empty map would merge with it.
            json!({"runtimeClass": {"nodeSelector": null, "tolerations": null}}),
        ),
        (
            RUNTIME,
            "runtime",
            "default",
            json!({"networkPolicy": {"https": {"ipBlocks": [{"cidr": "0.0.0.0/0"}]}}}),
        ),
    ]);
    let mut results = results.into_iter().map(Result::unwrap);
    let dir = tempfile::tempdir().unwrap();
    let cluster = write(dir.path(), "cluster.yaml", &results.next().unwrap().yaml());
    let unscheduled = write(
        dir.path(),
        "unscheduled.yaml",
        &results.next().unwrap().yaml(),
    );
    let open_https = write(
        dir.path(),
        "open-https.yaml",
        &results.next().unwrap().yaml(),
    );
    let bare = write(dir.path(), "bare-pod.yaml", &bare_pod);

    let (code, report) = check(&[&cluster, "--context", "testdata/compliant"]);
    assert_eq!(code, 0, "{}", findings(&report, None).join("\n"));
    assert_eq!(findings(&report, Some("error")), Vec::<String>::new());
    assert!(
        report["summary"]["resources"].as_u64().unwrap() >= 7,
        "{report}"
    );

    let (code, report) = check(&["testdata/compliant", "--context", &cluster]);
    assert_eq!(code, 0, "{}", findings(&report, None).join("\n"));
    assert_eq!(findings(&report, Some("error")), Vec::<String>::new());
    assert_eq!(report["summary"]["resources"], 4);

    let (code, report) = check(&[&bare, "--context", &cluster]);
    assert_eq!(code, 0, "{}", findings(&report, None).join("\n"));

    let (code, report) = check(&[&bare, "--context", &unscheduled]);
    assert_eq!(code, 1);
    assert!(codes(&report).is_superset(&BTreeSet::from(["SL2004".into(), "SL2005".into()])));

    let (code, report) = check(&[&open_https, "--context", "testdata/compliant"]);
    assert_eq!(code, 1);
    let errors = findings(&report, Some("error"));
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("SL3003") && e.contains("open-https.yaml")),
        "{errors:?}"
    );
}

/// The runner namespace's objects: the Namespace labelled `purpose:
/// untrusted-code` (and Pod Security restricted), the RuntimeClass `gvisor` on
/// `runsc` whose scheduling is exactly what the default policy's node-affinity
/// and sandbox-toleration parameters ask for, a ServiceAccount without token, a
/// quota, and a LimitRange whose maxima are the policy's; every object follows
/// `namespace.name`. A LimitRange maximum above the policy's (in any unit), or
/// a default above the LimitRange's own maximum, fails rendering.
#[test]
fn runtime_chart_objects_follow_the_policy() {
    let policy: Value = serde_saphyr::from_str(
        &std::fs::read_to_string(checkout().join("policies/gvisor-sandbox.yaml")).unwrap(),
    )
    .unwrap();
    let rules = &policy["spec"]["rules"];
    let results = render_all(&[
        (RUNTIME, "runtime", "default", json!({})),
        (
            RUNTIME,
            "sandboxes",
            "default",
            json!({"namespace": {"name": "sandboxes", "labels": {"team": "ml", "purpose": "other"}},
                   "runtimeClass": {"create": false},
                   "limitRange": {"max": {"cpu": "1500m", "memory": "4096Mi", "ephemeral-storage": "10Gi"},
                                  "default": {"cpu": 1, "memory": "2Gi", "ephemeral-storage": "5Gi"}}}),
        ),
        (
            RUNTIME,
            "runtime",
            "default",
            json!({"limitRange": {"max": {"memory": "8Gi"}}}),
        ),
        (
            RUNTIME,
            "runtime",
            "default",
            json!({"limitRange": {"max": {"memory": "4.5G"}}}),
        ),
        (
            RUNTIME,
            "runtime",
            "default",
            json!({"limitRange": {"max": {"cpu": "1"}}}),
        ),
        (
            RUNTIME,
            "runtime",
            "default",
            json!({"limitRange": {"defaultRequest": {"memory": "5Gi"}}}),
        ),
    ]);
    let mut results = results.into_iter();
    let default = results.next().unwrap().unwrap();
    let custom = results.next().unwrap().unwrap();

    let ns = default.one("Namespace");
    assert_eq!(ns["metadata"]["name"], "workflows");
    assert_eq!(ns["metadata"]["labels"]["purpose"], "untrusted-code");
    assert_eq!(
        ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"],
        "restricted"
    );

    let rc = default.one("RuntimeClass");
    assert_eq!(rc["metadata"]["name"], "gvisor");
    assert_eq!(rc["handler"], "runsc");
    assert_eq!(
        json!([rc["handler"]]),
        rules["runtime-class-handler"]["parameters"]["handlers"]
    );
    let affinity = &rules["node-affinity"]["parameters"];
    let key = affinity["key"].as_str().unwrap();
    assert_eq!(
        json!([rc["scheduling"]["nodeSelector"][key]]),
        affinity["values"]
    );
    let toleration = &rules["sandbox-toleration"]["parameters"];
    assert_eq!(
        rc["scheduling"]["tolerations"],
        json!([{"key": toleration["key"], "operator": "Equal",
                "value": toleration["value"], "effect": toleration["effect"]}])
    );

    let sa = default.one("ServiceAccount");
    assert_eq!(sa["metadata"]["name"], "workflow-runner");
    assert_eq!(sa["automountServiceAccountToken"], false);

    let np = default
        .all("NetworkPolicy")
        .into_iter()
        .find(|p| p["metadata"]["name"] == "runner-network-policy")
        .unwrap();
    assert_eq!(
        np["spec"]["podSelector"]["matchLabels"],
        json!({"app": "workflow-runner"})
    );
    assert_eq!(np["spec"]["ingress"], json!([]));

    let maxima = &rules["resource-limits"]["parameters"]["max"];
    let limits = &default.one("LimitRange")["spec"]["limits"][0];
    assert_eq!(limits["type"], "Container");
    assert_eq!(&limits["max"], maxima);
    assert_eq!(&limits["default"], maxima);
    let quota = &default.one("ResourceQuota")["spec"]["hard"];
    for resource in [
        "pods",
        "requests.cpu",
        "requests.memory",
        "limits.cpu",
        "limits.memory",
    ] {
        assert!(quota[resource].is_string(), "quota {resource}: {quota}");
    }

    for object in &custom.objects {
        if object["kind"] != "Namespace" && object["kind"] != "RuntimeClass" {
            assert_eq!(object["metadata"]["namespace"], "sandboxes", "{object}");
        }
    }
    let labels = &custom.one("Namespace")["metadata"]["labels"];
    assert_eq!(labels["purpose"], "untrusted-code");
    assert_eq!(labels["team"], "ml");
    assert!(custom.all("RuntimeClass").is_empty());
    assert_eq!(
        custom.one("LimitRange")["spec"]["limits"][0]["max"]["cpu"],
        "1500m"
    );
    assert_eq!(
        custom.one("LimitRange")["spec"]["limits"][0]["default"]["cpu"],
        "1"
    );

    let refused = [
        "limitRange.max.memory exceeds policyMaxima.memory",
        "limitRange.max.memory exceeds policyMaxima.memory",
        "limitRange.default.cpu exceeds limitRange.max.cpu",
        "limitRange.defaultRequest.memory exceeds limitRange.max.memory",
    ];
    for message in refused {
        let error = results.next().unwrap().err().expect("rendered");
        assert!(
            error.contains("HelmRenderError") && error.contains(message),
            "{error}"
        );
    }
}
