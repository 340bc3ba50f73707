//! The dispatcher's pod construction: every pod built from a request within
//! the policy's bounds lints clean with the same engine, and requests outside
//! them are refused with a message naming the bound.

use std::collections::BTreeMap;
use std::path::Path;

use proptest::prelude::*;

use sandbox_lint::dispatch::pod::{Bounds, EnvVar, Resources, RunRequest, SecretKeyRef, build_pod};
use sandbox_lint::dispatch::{self, verify};
use sandbox_lint::finding::Severity;
use sandbox_lint::linter::Linter;
use sandbox_lint::policy;
use sandbox_lint::rules::secret_names::SecretParams;

/// The built-in policy with the seeds' cluster (done right) as context, as the
/// dispatcher sees it in a correctly set-up cluster.
fn linter() -> Linter {
    let linter = Linter::with_default_policy();
    let (cluster, errors) = sandbox_lint::check::load_cluster(
        &linter,
        &[],
        &[Path::new("testdata/context").to_path_buf()],
        &Default::default(),
    );
    assert!(errors.is_empty());
    linter.set_cluster(cluster);
    linter
}

const IMAGE: &str = "gcr.io/plue-prod/runner:1.4.2@sha256:14eef5c1e42dd2da4954ec4610be06cdb2d25bf41aede84d45f6cde331f21174";

fn quantity(max_units: u64, suffixes: &'static [&'static str]) -> impl Strategy<Value = String> {
    (1..=max_units, prop::sample::select(suffixes)).prop_map(|(n, s)| format!("{n}{s}"))
}

prop_compose! {
    /// Requests within the default policy's bounds (cpu ≤ 2, memory ≤ 4Gi,
    /// ephemeral-storage ≤ 10Gi, deadline ≤ 3600 s).
    fn valid_request()(
        name in "[a-z][a-z0-9-]{0,20}[a-z0-9]",
        cpu in prop::option::of(prop_oneof![quantity(2000, &["m"]), quantity(2, &[""])]),
        memory in prop::option::of(prop_oneof![quantity(4096, &["Mi"]), quantity(4, &["Gi"])]),
        storage in prop::option::of(prop_oneof![quantity(10240, &["Mi"]), quantity(10, &["Gi"])]),
        deadline in prop::option::of(1i64..=3600),
        command in prop::collection::vec("[ -~]{1,20}", 0..4),
        env in prop::collection::vec(("[A-Z_][A-Z0-9_]{0,10}", prop::option::of("[ -~]{0,20}")), 0..4),
        labels in prop::collection::btree_map("[a-z]{1,8}", "[a-z0-9]{1,8}", 0..3),
    ) -> RunRequest {
        RunRequest {
            name: Some(name),
            image: IMAGE.into(),
            command,
            // A literal value under a name that looks like a credential is
            // refused (SL1025): such variables come from a Secret here.
            env: env.into_iter().map(|(name, value)| match value {
                Some(v) if !SecretParams::default().is_secret(&name) => EnvVar { name, value: Some(v), secret_key_ref: None },
                _ => EnvVar { name, value: None, secret_key_ref: Some(SecretKeyRef { name: "runner-secrets".into(), key: "token".into() }) },
            }).collect(),
            resources: Resources { cpu, memory, ephemeral_storage: storage },
            deadline_seconds: deadline,
            labels,
            ..RunRequest::default()
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Every pod built from a valid request lints without any finding at all
    /// (errors, warnings or notes) under the built-in policy.
    #[test]
    fn valid_requests_build_clean_pods(req in valid_request()) {
        let linter = linter();
        let bounds = Bounds::from_linter(&linter);
        let pod = build_pod(&req, &bounds, &dispatch::suffix()).unwrap();
        let findings = verify(&linter, &pod).unwrap();
        let shown: Vec<String> = findings.iter().map(|f| format!("{} {}", f.code, f.message)).collect();
        prop_assert!(findings.is_empty(), "{shown:?}");
        // The runner labels the NetworkPolicies select survive any request label.
        prop_assert_eq!(
            pod.metadata.labels.as_ref().unwrap().get("app").map(String::as_str),
            Some("workflow-runner")
        );
    }

    /// Requests over a maximum are refused with the bound in the message.
    #[test]
    fn requests_over_the_bounds_are_refused(
        req in valid_request(),
        which in 0..4usize,
        over in 1u64..1000,
    ) {
        let bounds = Bounds::from_linter(&linter());
        let mut req = req;
        let expected = match which {
            0 => { req.resources.cpu = Some(format!("{}m", 2000 + over)); "cpu" }
            1 => { req.resources.memory = Some(format!("{}Mi", 4096 + over)); "memory" }
            2 => { req.resources.ephemeral_storage = Some(format!("{}Mi", 10240 + over)); "ephemeral-storage" }
            _ => { req.deadline_seconds = Some(3600 + over as i64); "deadline" }
        };
        let err = build_pod(&req, &bounds, "abc123").unwrap_err();
        prop_assert!(err.0.starts_with(expected), "{}", err.0);
        prop_assert!(err.0.contains("maximum"), "{}", err.0);
    }
}

/// Bounds come from the policy: a stricter policy lowers the maximum the
/// dispatcher accepts and the default it uses.
#[test]
fn bounds_follow_the_policy() {
    let text = "apiVersion: sandbox-lint.dev/v1alpha1\nkind: Policy\nmetadata:\n  name: small\nspec:\n  extends: [gvisor-sandbox]\n  rules:\n    resource-limits:\n      parameters:\n        max: {cpu: 500m, memory: 512Mi, ephemeral-storage: 1Gi}\n    active-deadline:\n      parameters: {maxSeconds: 60}\n";
    let p = policy::load_text("small.yaml", text, None, &mut Vec::new()).unwrap();
    let linter = Linter::new(vec![p]).unwrap();
    let bounds = Bounds::from_linter(&linter);
    let req = RunRequest {
        image: IMAGE.into(),
        ..RunRequest::default()
    };
    let pod = build_pod(&req, &bounds, "abc123").unwrap();
    let spec = pod.spec.as_ref().unwrap();
    assert_eq!(spec.active_deadline_seconds, Some(60));
    let limits = spec.containers[0]
        .resources
        .as_ref()
        .unwrap()
        .limits
        .as_ref()
        .unwrap();
    assert_eq!(limits["cpu"].0, "500m");
    assert_eq!(limits["memory"].0, "512Mi");
    let over = RunRequest {
        resources: Resources {
            cpu: Some("1".into()),
            ..Resources::default()
        },
        ..req
    };
    assert_eq!(
        build_pod(&over, &bounds, "abc123").unwrap_err().0,
        "cpu 1 is above the policy's maximum 500m"
    );
}

/// Partial rule parameters are read as the rules read them, their defaults
/// filling the rest: a policy that only changes the runner pool's label value
/// gets a pod with the default key and its value (one the rule accepts), and
/// one that only lowers the cpu maximum keeps the memory maximum and a
/// numeric emptyDir maximum (bytes, as Kubernetes allows) bounds the volumes.
#[test]
fn partial_parameters_keep_the_rules_defaults() {
    let text = "apiVersion: sandbox-lint.dev/v1alpha1\nkind: Policy\nmetadata:\n  name: gpu\nspec:\n  extends: [gvisor-sandbox]\n  rules:\n    node-affinity:\n      parameters: {values: [gpu-runner]}\n    resource-limits:\n      parameters:\n        max: {cpu: '1'}\n    empty-dir-size-limit:\n      parameters: {maxSize: 2147483648}\n";
    let p = policy::load_text("gpu.yaml", text, None, &mut Vec::new()).unwrap();
    let linter = Linter::new(vec![p]).unwrap();
    let bounds = Bounds::from_linter(&linter);
    assert_eq!(
        bounds.node_affinity,
        Some(("workload-type".to_string(), vec!["gpu-runner".to_string()]))
    );
    assert_eq!(bounds.max_cpu.as_str(), "1");
    assert_eq!(bounds.max_memory.as_str(), "4Gi");
    assert_eq!(bounds.max_empty_dir.as_str(), "2147483648");
    let req = RunRequest {
        image: IMAGE.into(),
        ..RunRequest::default()
    };
    let pod = build_pod(&req, &bounds, "abc123").unwrap();
    let findings = verify(&linter, &pod).unwrap();
    assert!(
        findings.iter().all(|f| f.severity != Severity::Error),
        "{findings:?}"
    );
}

/// The policy's custom rules (JSON Schemas) judge the built pod too, as they
/// do in `check` and `serve`: one requiring a `team` label refuses a request
/// without it and passes one that sets it.
#[test]
fn custom_rules_judge_the_built_pod() {
    let text = "apiVersion: sandbox-lint.dev/v1alpha1\nkind: Policy\nmetadata:\n  name: teams\nspec:\n  extends: [gvisor-sandbox]\n  customRules:\n  - code: ACME001\n    name: team-label\n    message: every runner names its team\n    remediation: add a team label\n    schema:\n      properties:\n        metadata:\n          required: [labels]\n          properties:\n            labels: {required: [team]}\n";
    let p = policy::load_text("teams.yaml", text, None, &mut Vec::new()).unwrap();
    let linter = Linter::new(vec![p]).unwrap();
    let bounds = Bounds::from_linter(&linter);
    let req = RunRequest {
        image: IMAGE.into(),
        ..RunRequest::default()
    };
    let pod = build_pod(&req, &bounds, "abc123").unwrap();
    let refused = verify(&linter, &pod).unwrap_err();
    assert!(
        refused.message.contains("ACME001")
            && refused.message.contains("every runner names its team"),
        "{}",
        refused.message
    );
    let req = RunRequest {
        labels: BTreeMap::from([("team".to_string(), "evals".to_string())]),
        ..req
    };
    let pod = build_pod(&req, &bounds, "abc123").unwrap();
    let findings = verify(&linter, &pod).unwrap();
    assert!(findings.iter().all(|f| f.code != "ACME001"), "{findings:?}");
}

/// Malformed requests are refused before anything is built.
#[test]
fn malformed_requests_are_refused() {
    let bounds = Bounds::from_linter(&linter());
    let base = RunRequest {
        image: IMAGE.into(),
        ..RunRequest::default()
    };
    let cases: Vec<(RunRequest, &str)> = vec![
        (
            RunRequest {
                image: String::new(),
                ..base.clone()
            },
            "an image is required",
        ),
        (
            RunRequest {
                name: Some("Not_A_Label".into()),
                ..base.clone()
            },
            "must make a DNS label",
        ),
        (
            RunRequest {
                resources: Resources {
                    memory: Some("lots".into()),
                    ..Resources::default()
                },
                ..base.clone()
            },
            "memory: `lots` is not a Kubernetes quantity",
        ),
        (
            RunRequest {
                resources: Resources {
                    cpu: Some("0".into()),
                    ..Resources::default()
                },
                ..base.clone()
            },
            "cpu must be positive",
        ),
        (
            RunRequest {
                env: vec![EnvVar {
                    name: "BOTH".into(),
                    value: Some("x".into()),
                    secret_key_ref: Some(SecretKeyRef {
                        name: "s".into(),
                        key: "k".into(),
                    }),
                }],
                ..base.clone()
            },
            "needs exactly one of value and secretKeyRef",
        ),
        (
            RunRequest {
                deadline_seconds: Some(0),
                ..base.clone()
            },
            "deadline 0 s is outside",
        ),
    ];
    for (req, expected) in cases {
        let err = build_pod(&req, &bounds, "abc123").unwrap_err();
        assert!(err.0.contains(expected), "{} / {expected}", err.0);
    }
}

/// The engine refuses a pod that breaks the policy, with the findings shown:
/// an image tagged `latest` makes a pod the policy refuses (SL1019).
#[test]
fn the_engine_refuses_what_the_policy_refuses() {
    let linter = linter();
    let bounds = Bounds::from_linter(&linter);
    let req = RunRequest {
        image: "python:latest".into(),
        ..RunRequest::default()
    };
    let pod = build_pod(&req, &bounds, "abc123").unwrap();
    let refused = verify(&linter, &pod).unwrap_err();
    assert!(
        refused.message.contains("SL1019 spec.containers[0].image"),
        "{}",
        refused.message
    );
    assert!(
        refused
            .findings
            .iter()
            .any(|f| f.code == "SL1019" && f.severity == Severity::Error)
    );
}

/// A credential given as a literal value is refused (SL1025), the same
/// variable from a Secret is not.
#[test]
fn literal_secrets_are_refused() {
    let linter = linter();
    let bounds = Bounds::from_linter(&linter);
    let env = |value: Option<&str>| RunRequest {
        image: IMAGE.into(),
        env: vec![EnvVar {
            name: "API_TOKEN".into(),
            value: value.map(String::from),
            secret_key_ref: value.is_none().then(|| SecretKeyRef {
                name: "runner-secrets".into(),
                key: "token".into(),
            }),
        }],
        ..RunRequest::default()
    };
    let pod = build_pod(&env(Some("tok-123")), &bounds, "abc123").unwrap();
    let refused = verify(&linter, &pod).unwrap_err();
    assert!(
        refused.message.contains("SL1025") && refused.message.contains("API_TOKEN"),
        "{}",
        refused.message
    );
    let pod = build_pod(&env(None), &bounds, "abc123").unwrap();
    assert!(verify(&linter, &pod).is_ok());
}

/// The request file format: YAML with unknown keys refused.
#[test]
fn run_request_files_are_strict() {
    let ok: RunRequest = serde_saphyr::from_str(
        "image: python:3.12\ncommand: [python3, /work/main.py]\nresources: {cpu: '1', memory: 1Gi}\ndeadlineSeconds: 60\nenv:\n- {name: TOKEN, secretKeyRef: {name: s, key: k}}\n",
    )
    .unwrap();
    assert_eq!(ok.deadline_seconds, Some(60));
    assert_eq!(ok.labels, BTreeMap::new());
    let err = serde_saphyr::from_str::<RunRequest>("image: x\ndeadline: 60\n").unwrap_err();
    assert!(err.to_string().contains("deadline"), "{err}");
}

/// `dispatch run --backend kube` reads the workspace with the shared reader
/// before it talks to any cluster: a workspace holding `leak -> /etc/shadow`
/// is refused (exit code 2, the link named) and the API server is never
/// contacted. The same request over the workspace without the link does
/// reach it (here a listener that hangs up on every connection).
#[test]
fn kube_backend_refuses_a_workspace_linking_out_before_contacting_the_cluster() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let connections = Arc::new(AtomicUsize::new(0));
    {
        let connections = connections.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                connections.fetch_add(1, Ordering::SeqCst);
                drop(conn);
            }
        });
    }
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters: [{{name: c, cluster: {{server: 'http://127.0.0.1:{port}'}}}}]\nusers: [{{name: u, user: {{token: t}}}}]\ncontexts: [{{name: x, context: {{cluster: c, user: u, namespace: workflows}}}}]\ncurrent-context: x\n"
        ),
    )
    .unwrap();
    let ws = dir.path().join("ws");
    std::fs::create_dir(&ws).unwrap();
    std::fs::write(ws.join("main.py"), "print(open('/work/leak').read())\n").unwrap();
    std::os::unix::fs::symlink("/etc/shadow", ws.join("leak")).unwrap();
    let run = || {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_sandbox-lint"))
            .args(["dispatch", "run", "--backend", "kube", "--image", IMAGE])
            .arg("--workspace")
            .arg(&ws)
            .args(["--", "python3", "/work/main.py"])
            .env("KUBECONFIG", &kubeconfig)
            .env_remove("KUBERNETES_SERVICE_HOST")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let started = std::time::Instant::now();
        while child.try_wait().unwrap().is_none() {
            if started.elapsed() > std::time::Duration::from_secs(120) {
                let _ = child.kill();
                panic!("the dispatcher did not finish");
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        child.wait_with_output().unwrap()
    };
    let out = run();
    // miette wraps its report at 80 columns, with `│` in the margin.
    let stderr = String::from_utf8_lossy(&out.stderr)
        .replace('│', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "workspace {}: leak: a symbolic link to /etc/shadow",
            ws.display()
        )),
        "{stderr}"
    );
    assert_eq!(
        connections.load(Ordering::SeqCst),
        0,
        "the cluster was contacted"
    );
    std::fs::remove_file(ws.join("leak")).unwrap();
    let out = run();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{stderr}");
    assert!(
        connections.load(Ordering::SeqCst) > 0,
        "the control run never reached the listener: {stderr}"
    );
}
