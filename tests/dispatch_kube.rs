//! The dispatcher's Kubernetes backend against a real kube-apiserver 1.20 +
//! etcd on loopback (tests/common/apiserver.rs); the test plays the kubelet
//! (binds the pod, reports it running, then terminated) since no kubelet runs here.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::apiserver::{ApiServer, Exit};
use common::kubelet::FakeKubelet;
use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use kube::api::Api;

use sandbox_lint::dispatch::kube::{KubeError, KubeOptions, MAX_WORKSPACE_BYTES, run};
use sandbox_lint::dispatch::pod::{Bounds, RunRequest, build_pod};
use sandbox_lint::dispatch::{suffix, verify};
use sandbox_lint::linter::Linter;

const IMAGE: &str = "gcr.io/plue-prod/runner:1.4.2@sha256:14eef5c1e42dd2da4954ec4610be06cdb2d25bf41aede84d45f6cde331f21174";

/// The seeds' runner scenario: a main.py and its tests.json.
fn files() -> BTreeMap<String, Vec<u8>> {
    BTreeMap::from([
        ("main.py".to_string(), b"print('hello')\n".to_vec()),
        (
            "tests.json".to_string(),
            br#"[{"input": "", "expected": "hello"}]"#.to_vec(),
        ),
    ])
}

/// A verified pod for `req` (built and linted as `dispatch run` does).
fn pod(req: RunRequest) -> Pod {
    let linter = Linter::with_default_policy();
    let pod = build_pod(&req, &Bounds::from_linter(&linter), &suffix()).unwrap();
    verify(&linter, &pod).unwrap();
    pod
}

fn request(deadline: i64) -> RunRequest {
    RunRequest {
        name: Some("candidate".into()),
        image: IMAGE.into(),
        command: vec!["python3".into(), "/work/main.py".into()],
        deadline_seconds: Some(deadline),
        ..RunRequest::default()
    }
}

async fn cluster() -> ApiServer {
    let server = ApiServer::start().await;
    server.namespace("workflows", &[]).await;
    server.service_account("workflows", "workflow-runner").await;
    server
}

/// Waits until the pod exists (the dispatcher created it).
async fn wait_for(server: &ApiServer, name: &str) -> Pod {
    let pods = Api::<Pod>::namespaced(server.client.clone(), "workflows");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(p) = pods.get_opt(name).await.unwrap() {
            return p;
        }
        assert!(Instant::now() < deadline, "pod {name} never created");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn gone(server: &ApiServer, name: &str) -> bool {
    let pods = Api::<Pod>::namespaced(server.client.clone(), "workflows");
    let maps = Api::<ConfigMap>::namespaced(server.client.clone(), "workflows");
    pods.get_opt(name).await.unwrap().is_none()
        && maps
            .get_opt(&format!("{name}-work"))
            .await
            .unwrap()
            .is_none()
}

fn quiet() -> KubeOptions {
    KubeOptions {
        stream_logs: false,
        grace: Duration::from_secs(1),
        ..KubeOptions::default()
    }
}

/// A run to completion: the workspace ConfigMap is created, owned by the pod,
/// mounted file by file; the container's exit code and reason come back; the
/// pod and ConfigMap are deleted afterwards. `--keep` leaves them.
#[tokio::test(flavor = "multi_thread")]
async fn runs_to_completion_reports_exit_and_cleans_up() {
    let server = cluster().await;
    for keep in [false, true] {
        let pod = pod(request(60));
        let name = pod.metadata.name.clone().unwrap();
        let client = server.client.clone();
        let opts = KubeOptions { keep, ..quiet() };
        let task = tokio::spawn(async move { run(client, pod, &files(), &opts).await });
        let created = wait_for(&server, &name).await;
        let volumes = created.spec.as_ref().unwrap().volumes.clone().unwrap();
        let work = volumes.iter().find(|v| v.name == "work").unwrap();
        let items = work.config_map.as_ref().unwrap().items.clone().unwrap();
        assert_eq!(items.len(), 2);
        // The ConfigMap follows the pod, owned by it.
        let maps = Api::<ConfigMap>::namespaced(server.client.clone(), "workflows");
        let deadline = Instant::now() + Duration::from_secs(10);
        let cm = loop {
            if let Some(cm) = maps.get_opt(&format!("{name}-work")).await.unwrap() {
                break cm;
            }
            assert!(Instant::now() < deadline);
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert_eq!(cm.data.unwrap()["main.py"], "print('hello')\n");
        let owner = &cm.metadata.owner_references.unwrap()[0];
        assert_eq!(
            (owner.kind.as_str(), owner.name.as_str()),
            ("Pod", name.as_str())
        );

        server
            .play_kubelet("workflows", &name, "node-1", Some(&Exit::error(3)))
            .await;
        let outcome = task.await.unwrap().unwrap();
        assert_eq!(outcome.exit_code, Some(3));
        assert_eq!(outcome.reason, "Error");
        assert_eq!(gone(&server, &name).await, !keep, "keep = {keep}");
    }
}

/// Past the deadline (plus grace) with no end in sight, the run is reported
/// as DeadlineExceeded and everything is deleted; an OOM kill is reported as such.
#[tokio::test(flavor = "multi_thread")]
async fn deadline_and_oom_are_reported() {
    let server = cluster().await;
    let pod1 = pod(request(1));
    let name = pod1.metadata.name.clone().unwrap();
    let started = Instant::now();
    let outcome = run(server.client.clone(), pod1, &files(), &quiet())
        .await
        .unwrap();
    assert_eq!(outcome.exit_code, None);
    assert_eq!(outcome.reason, "DeadlineExceeded");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(gone(&server, &name).await);

    let pod2 = pod(request(60));
    let name = pod2.metadata.name.clone().unwrap();
    let client = server.client.clone();
    let task = tokio::spawn(async move { run(client, pod2, &files(), &quiet()).await });
    wait_for(&server, &name).await;
    server
        .play_kubelet("workflows", &name, "node-1", Some(&Exit::oom_killed()))
        .await;
    let outcome = task.await.unwrap().unwrap();
    assert_eq!(
        (outcome.exit_code, outcome.reason.as_str()),
        (Some(137), "OOMKilled")
    );
    assert!(gone(&server, &name).await);
}

/// The server-side dry run stops a pod admission refuses (here: its
/// ServiceAccount does not exist) before anything is created; a workspace too
/// large for a ConfigMap is refused before anything is sent.
#[tokio::test(flavor = "multi_thread")]
async fn refusals_happen_before_anything_exists() {
    let server = cluster().await;
    let mut req = request(60);
    req.service_account = Some("nobody".into());
    let p = pod(req);
    let name = p.metadata.name.clone().unwrap();
    let err = run(server.client.clone(), p, &files(), &quiet())
        .await
        .unwrap_err();
    match &err {
        KubeError::DryRunRefused(m) => assert!(m.contains("nobody"), "{m}"),
        other => panic!("{other}"),
    }
    assert!(gone(&server, &name).await);

    let big = BTreeMap::from([("blob.bin".to_string(), vec![0u8; MAX_WORKSPACE_BYTES + 1])]);
    let p = pod(request(60));
    let err = run(server.client.clone(), p, &big, &quiet())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("fit in a ConfigMap"), "{err}");
}

/// `sandbox-lint dispatch run REQUEST` exits with the workload's exit code
/// (here 7, reported by the kubelet the test plays), after its own summary line.
#[tokio::test(flavor = "multi_thread")]
async fn cli_exits_with_the_workload_exit_code() {
    let server = cluster().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("job")).unwrap();
    std::fs::write(dir.path().join("job/main.py"), "print('hi')\n").unwrap();
    std::fs::write(dir.path().join("job/tests.json"), "[]\n").unwrap();
    let request = dir.path().join("run.yaml");
    std::fs::write(
        &request,
        format!(
            "name: cli\nimage: {IMAGE}\ncommand: [python3, /work/main.py]\nworkspace: job\ndeadlineSeconds: 60\nresources: {{cpu: 500m, memory: 1Gi}}\n"
        ),
    )
    .unwrap();
    let child = dispatch(&server, &["run"], &[request]);
    let name = launched(&server, "cli-").await;
    server
        .play_kubelet("workflows", &name, "node-1", Some(&Exit::error(7)))
        .await;
    let out = child.wait_with_output().await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(7), "{stderr}");
    assert!(
        stderr.contains(&format!("pod workflows/{name}: Error (exit code 7)")),
        "{stderr}"
    );
    assert!(gone(&server, &name).await);
}

/// Sends SIGINT to `pid`, as Ctrl-C in a terminal does.
fn interrupt(pid: u32) {
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;
    kill(Pid::from_raw(i32::try_from(pid).unwrap()), Signal::SIGINT).unwrap();
}

/// Starts `sandbox-lint dispatch ARGS FILES` against the test's API server.
fn dispatch(
    server: &ApiServer,
    args: &[&str],
    files: &[std::path::PathBuf],
) -> tokio::process::Child {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_sandbox-lint"))
        .arg("dispatch")
        .args(args)
        .args(files)
        .env("KUBECONFIG", server.kubeconfig_path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until the dispatcher has created a pod named `prefix...` and its
/// workspace ConfigMap; the pod's name.
async fn launched(server: &ApiServer, prefix: &str) -> String {
    let maps = Api::<ConfigMap>::namespaced(server.client.clone(), "workflows");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some((name, _)) = pods_named(server, prefix).await.pop()
            && maps
                .get_opt(&format!("{name}-work"))
                .await
                .unwrap()
                .is_some()
        {
            return name;
        }
        assert!(
            Instant::now() < deadline,
            "the CLI created no pod {prefix}*"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Names of the pods in `workflows` whose name starts with `prefix`, with
/// whether each has ended (phase Succeeded or Failed).
async fn pods_named(server: &ApiServer, prefix: &str) -> Vec<(String, bool)> {
    let pods = Api::<Pod>::namespaced(server.client.clone(), "workflows");
    let list = pods.list(&Default::default()).await.unwrap();
    list.items
        .into_iter()
        .filter_map(|p| {
            let name = p.metadata.name.clone()?;
            let ended = p
                .status
                .and_then(|s| s.phase)
                .is_some_and(|ph| ph == "Succeeded" || ph == "Failed");
            name.starts_with(prefix).then_some((name, ended))
        })
        .collect()
}

fn write_request(dir: &std::path::Path, file: &str, name: &str, extra: &str) -> std::path::PathBuf {
    let path = dir.join(file);
    std::fs::write(
        &path,
        format!(
            "name: {name}\nimage: {IMAGE}\ncommand: [python3, /work/main.py]\nfiles: {{main.py: main.py}}\ndeadlineSeconds: 60\n{extra}"
        ),
    )
    .unwrap();
    path
}

/// A cancelled run (`KubeOptions::cancel`, what Ctrl-C does in the CLI) that
/// has not created anything yet creates nothing and reports `Interrupted`.
#[tokio::test(flavor = "multi_thread")]
async fn cancelled_before_creation_creates_nothing() {
    let server = cluster().await;
    let p = pod(request(60));
    let name = p.metadata.name.clone().unwrap();
    let opts = quiet();
    opts.cancel.cancel();
    let outcome = run(server.client.clone(), p, &files(), &opts)
        .await
        .unwrap();
    assert_eq!(
        (outcome.exit_code, outcome.reason.as_str()),
        (None, "Interrupted")
    );
    assert!(gone(&server, &name).await);
    assert!(pods_named(&server, "candidate-").await.is_empty());
}

/// Ctrl-C (SIGINT) while `dispatch run` waits for its pod: the pod and its
/// ConfigMap are deleted, the run is reported `Interrupted`, and the CLI exits
/// 130 (128 + SIGINT, as a shell reports an interrupted command).
#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_deletes_the_pod_and_its_config_map() {
    let server = cluster().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("main.py"), "print('hi')\n").unwrap();
    let request = write_request(dir.path(), "run.yaml", "sigint", "");
    let child = dispatch(&server, &["run"], &[request]);
    let name = launched(&server, "sigint-").await;
    server
        .play_kubelet("workflows", &name, "node-1", None)
        .await;
    interrupt(child.id().unwrap());
    let out = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("the CLI did not stop after SIGINT")
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "pod workflows/{name}: Interrupted (exit code none)"
        )),
        "{stderr}"
    );
    assert!(gone(&server, &name).await, "left behind after Ctrl-C");
}

/// `dispatch batch --concurrency 2` over five requests: never more than two
/// pods exist at once, and two do (the test, playing the kubelet, ends a pod
/// only once two are running); a request over the policy's CPU bound is not
/// run and does not stop the others; a warning every run shares is printed
/// once; the summary counts each outcome and the exit code is 1 because one
/// run failed.
#[tokio::test(flavor = "multi_thread")]
async fn batch_runs_at_most_concurrency_pods_and_summarises() {
    let server = cluster().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("main.py"), "print('hi')\n").unwrap();
    let mut requests: Vec<_> = (1..=4)
        .map(|i| write_request(dir.path(), &format!("r{i}.yaml"), "batch", ""))
        .collect();
    requests.push(write_request(
        dir.path(),
        "greedy.yaml",
        "greedy",
        "resources: {cpu: '64'}\n",
    ));
    let child = dispatch(&server, &["batch", "--concurrency", "2"], &requests);
    let deadline = Instant::now() + Duration::from_secs(90);
    let (mut ended, mut most) = (0, 0);
    while ended < 4 {
        let pods = pods_named(&server, "batch-").await;
        assert!(pods.len() <= 2, "more than 2 pods at once: {pods:?}");
        most = most.max(pods.len());
        let running: Vec<&String> = pods.iter().filter(|(_, e)| !e).map(|(n, _)| n).collect();
        if running.len() == 2.min(4 - ended) {
            let exit = if ended == 3 {
                Exit::error(5)
            } else {
                Exit::completed()
            };
            server
                .play_kubelet("workflows", running[0], "node-1", Some(&exit))
                .await;
            ended += 1;
        }
        assert!(
            Instant::now() < deadline,
            "batch stalled after {ended} runs"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let out = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("the batch did not finish")
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(most, 2, "the runs never overlapped");
    assert_eq!(
        stdout.trim(),
        "5 runs: 3 succeeded, 1 failed, 0 interrupted, 1 not run",
        "{stderr}"
    );
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let greedy = requests[4].display().to_string();
    assert!(
        stderr.contains(&format!("{greedy}: not run:")) && stderr.contains("cpu"),
        "{stderr}"
    );
    assert!(stderr.contains("exit code 5"), "{stderr}");
    // The "cannot verify" warnings the four runs share are printed once.
    assert_eq!(stderr.matches("warning: SL3001 ").count(), 1, "{stderr}");
    assert!(pods_named(&server, "batch-").await.is_empty());
}

/// `dispatch run` follows the container's log while the pod runs and prints
/// it, to its last line, before it exits. The API server proxies `pods/log`
/// to a stand-in kubelet (tests/common/kubelet.rs) that says two lines while
/// the pod runs and a third half a second after the pod is reported ended;
/// the test asserts the request the API server made to it.
#[tokio::test(flavor = "multi_thread")]
async fn cli_streams_the_container_log() {
    let server = cluster().await;
    let mut kubelet = FakeKubelet::start().await;
    server
        .node_with_kubelet("node-logs", kubelet.addr.port())
        .await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("main.py"), "print('hi')\n").unwrap();
    let request = write_request(dir.path(), "run.yaml", "logs", "");
    let child = dispatch(&server, &["run"], &[request]);
    let name = launched(&server, "logs-").await;
    let deadline = Instant::now() + Duration::from_secs(30);
    server
        .play_kubelet("workflows", &name, "node-logs", None)
        .await;
    kubelet.say("1/2 tests passed");
    kubelet.say("2/2 tests passed");
    while kubelet.requests().is_empty() {
        assert!(Instant::now() < deadline, "the log was never requested");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server
        .set_pod_terminated("workflows", &name, &Exit::completed())
        .await;
    // The end of the log arrives after the status says the pod has ended:
    // the dispatcher must still print it.
    tokio::time::sleep(Duration::from_millis(500)).await;
    kubelet.say("done");
    kubelet.end();
    let out = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("the CLI did not finish")
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(
        stdout, "1/2 tests passed\n2/2 tests passed\ndone\n",
        "{stderr}"
    );
    let requests = kubelet.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert!(
        requests[0].starts_with(&format!("/containerLogs/workflows/{name}/runner?"))
            && requests[0].contains("follow=true"),
        "{requests:?}"
    );
    assert!(gone(&server, &name).await);
}
