//! The Kubernetes backend: server-side dry run first (so admission, the
//! sandbox-lint webhook included, judges the pod), then the pod and its
//! workspace ConfigMap (owned by the pod), a watch to completion, the logs, the
//! container's exit code and reason, and cleanup whatever happens.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use futures::{AsyncBufReadExt, StreamExt};
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{Api, DeleteParams, LogParams, PostParams};
use kube::runtime::wait::await_condition;
use kube::{Client, ResourceExt};
use tokio_util::sync::CancellationToken;

/// The API server refuses objects over about 1 MiB; the workspace must fit in
/// one ConfigMap (the bound every backend reads workspaces under).
pub use super::workspace::MAX_WORKSPACE_BYTES;

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunOutcome {
    /// The container's exit code (None when it never terminated).
    pub exit_code: Option<i32>,
    /// `Completed`, `Error`, `OOMKilled`, `DeadlineExceeded`, `Interrupted`, ...
    pub reason: String,
    pub pod: String,
    pub namespace: String,
}

/// Options of one run.
#[derive(Debug, Clone)]
pub struct KubeOptions {
    /// Leave the pod and its ConfigMap in place (debugging).
    pub keep: bool,
    /// Extra time past the pod's deadline before the dispatcher gives up.
    pub grace: Duration,
    /// Stream the container's logs to stdout/stderr while it runs.
    pub stream_logs: bool,
    /// Cancelled (the CLI does so on Ctrl-C): stop waiting, clean up (unless
    /// `keep`) and report the reason `Interrupted`. Nothing new is created
    /// once it is cancelled.
    pub cancel: CancellationToken,
}

impl Default for KubeOptions {
    fn default() -> Self {
        Self {
            keep: false,
            grace: Duration::from_secs(30),
            stream_logs: true,
            cancel: CancellationToken::new(),
        }
    }
}

/// Why a run could not be carried out.
#[derive(Debug, thiserror::Error)]
pub enum KubeError {
    #[error("the workspace is {size} bytes; at most {MAX_WORKSPACE_BYTES} fit in a ConfigMap")]
    WorkspaceTooLarge { size: usize },
    #[error("{0}")]
    Workspace(String),
    #[error("the API server refused the pod (server-side dry run): {0}")]
    DryRunRefused(String),
    #[error("{0}")]
    Api(String),
}

fn api_error(what: &str, e: kube::Error) -> KubeError {
    match e {
        kube::Error::Api(s) => KubeError::Api(format!("{what}: {}", s.message)),
        other => KubeError::Api(format!("{what}: {other}")),
    }
}

/// The workspace files as ConfigMap data (text) and binaryData (the rest).
/// Keys are flattened paths (`/` is not allowed in keys), restored by `items`.
pub fn workspace_config_map(
    name: &str,
    namespace: &str,
    files: &BTreeMap<String, Vec<u8>>,
) -> Result<ConfigMap, KubeError> {
    super::check_workspace_names(files.keys().map(String::as_str)).map_err(KubeError::Workspace)?;
    let size: usize = files.iter().map(|(k, v)| k.len() + v.len()).sum();
    if size > MAX_WORKSPACE_BYTES {
        return Err(KubeError::WorkspaceTooLarge { size });
    }
    let mut data = BTreeMap::new();
    let mut binary = BTreeMap::new();
    for (path, bytes) in files {
        let key = config_map_key(path);
        match std::str::from_utf8(bytes) {
            Ok(text) => {
                data.insert(key, text.to_string());
            }
            Err(_) => {
                binary.insert(key, ByteString(bytes.clone()));
            }
        }
    }
    Ok(ConfigMap {
        metadata: kube::api::ObjectMeta {
            name: Some(name.to_string()),
            namespace: Some(namespace.to_string()),
            labels: Some(BTreeMap::from([(
                "app.kubernetes.io/managed-by".to_string(),
                "sandbox-lint".to_string(),
            )])),
            ..Default::default()
        },
        data: (!data.is_empty()).then_some(data),
        binary_data: (!binary.is_empty()).then_some(binary),
        immutable: Some(true),
    })
}

/// A ConfigMap key for a relative path (`dir/a.py` -> `dir__a.py`).
pub fn config_map_key(path: &str) -> String {
    path.replace('/', "__")
}

/// Mounts each file at its path under /work (ConfigMap keys cannot hold `/`).
pub fn mount_items(pod: &mut Pod, files: &BTreeMap<String, Vec<u8>>) {
    let Some(spec) = pod.spec.as_mut() else {
        return;
    };
    for v in spec.volumes.iter_mut().flatten() {
        if let Some(cm) = v.config_map.as_mut() {
            cm.items = Some(
                files
                    .keys()
                    .map(|p| k8s_openapi::api::core::v1::KeyToPath {
                        key: config_map_key(p),
                        path: p.clone(),
                        ..Default::default()
                    })
                    .collect(),
            );
        }
    }
}

/// How long the end of the log may take to arrive once the pod has ended.
pub const LOG_DRAIN: Duration = Duration::from_secs(5);

/// The reason of a run stopped by [`KubeOptions::cancel`].
pub const INTERRUPTED: &str = "Interrupted";

/// Runs a verified pod to completion. Cleanup (unless `keep`) happens on
/// success, failure, timeout and cancellation.
pub async fn run(
    client: Client,
    pod: Pod,
    files: &BTreeMap<String, Vec<u8>>,
    opts: &KubeOptions,
) -> Result<RunOutcome, KubeError> {
    let namespace = pod.namespace().unwrap_or_else(|| "default".to_string());
    let name = pod.name_any();
    let pods: Api<Pod> = Api::namespaced(client.clone(), &namespace);
    let maps: Api<ConfigMap> = Api::namespaced(client.clone(), &namespace);
    let cm_name = format!("{name}-work");
    let mut cm = workspace_config_map(&cm_name, &namespace, files)?;
    let mut pod = pod;
    mount_items(&mut pod, files);
    let interrupted = || RunOutcome {
        exit_code: None,
        reason: INTERRUPTED.into(),
        pod: name.clone(),
        namespace: namespace.clone(),
    };

    // Admission (our webhook included) judges the pod before anything exists.
    let dry = PostParams {
        dry_run: true,
        ..Default::default()
    };
    let judged = async {
        pods.create(&dry, &pod).await.map_err(|e| match e {
            kube::Error::Api(s) => KubeError::DryRunRefused(s.message),
            other => KubeError::DryRunRefused(other.to_string()),
        })?;
        maps.create(&dry, &cm)
            .await
            .map_err(|e| api_error("the workspace ConfigMap (dry run)", e))
    };
    tokio::select! {
        biased;
        () = opts.cancel.cancelled() => return Ok(interrupted()),
        r = judged => r?,
    };

    // From here on, whatever happens, the cleanup runs. A cancellation while
    // the pod is being created still lets the creation finish, so that the
    // cleanup finds what exists.
    let cleanup = Cleanup {
        pods: pods.clone(),
        maps: maps.clone(),
        pod: name.clone(),
        config_map: cm_name.clone(),
        keep: opts.keep,
    };
    let created = match pods.create(&PostParams::default(), &pod).await {
        Ok(p) => p,
        Err(e) => return Err(api_error("creating the pod", e)),
    };
    cm.metadata.owner_references = Some(vec![OwnerReference {
        api_version: "v1".into(),
        kind: "Pod".into(),
        name: name.clone(),
        uid: created.uid().unwrap_or_default(),
        controller: Some(false),
        block_owner_deletion: Some(false),
    }]);
    let watched = async {
        maps.create(&PostParams::default(), &cm)
            .await
            .map_err(|e| api_error("creating the workspace ConfigMap", e))?;
        let deadline = pod
            .spec
            .as_ref()
            .and_then(|s| s.active_deadline_seconds)
            .unwrap_or(3600);
        let limit = Duration::from_secs(u64::try_from(deadline).unwrap_or(3600)) + opts.grace;
        let started = Instant::now();
        // The logs are followed alongside the watch, in this future, so that
        // they stop with it whatever ends it (cancellation included).
        let mut logs = std::pin::pin!(async {
            if opts.stream_logs {
                stream_logs(pods.clone(), name.clone()).await;
            }
        });
        let mut finished = std::pin::pin!(tokio::time::timeout(
            limit,
            await_condition(pods.clone(), &name, is_finished)
        ));
        let mut logs_done = false;
        let finished = loop {
            tokio::select! {
                f = &mut finished => break f,
                () = &mut logs, if !logs_done => logs_done = true,
            }
        };
        if !logs_done {
            // The kubelet closes the stream once the container has ended:
            // print what is still on its way, within a bound.
            let _ = tokio::time::timeout(LOG_DRAIN, &mut logs).await;
        }
        let outcome = match finished {
            Err(_) => RunOutcome {
                exit_code: None,
                reason: "DeadlineExceeded".into(),
                pod: name.clone(),
                namespace: namespace.clone(),
            },
            Ok(Err(e)) => return Err(KubeError::Api(format!("watching the pod: {e}"))),
            Ok(Ok(p)) => outcome_of(p.as_ref(), &name, &namespace),
        };
        tracing::debug!(elapsed = ?started.elapsed(), "run finished");
        Ok(outcome)
    };
    let result = tokio::select! {
        biased;
        () = opts.cancel.cancelled() => Ok(interrupted()),
        r = watched => r,
    };
    cleanup.run().await;
    result
}

/// True once the pod has ended (or is gone).
fn is_finished(pod: Option<&Pod>) -> bool {
    match pod {
        None => true,
        Some(p) => p
            .status
            .as_ref()
            .and_then(|s| s.phase.as_deref())
            .is_some_and(|ph| ph == "Succeeded" || ph == "Failed"),
    }
}

/// Exit code and reason of the first container, or the pod's own reason. A
/// pod stopped at its activeDeadlineSeconds says `DeadlineExceeded` whatever
/// its container says (the kubelet's kill ends it with 137, reason `Error`).
pub fn outcome_of(pod: Option<&Pod>, name: &str, namespace: &str) -> RunOutcome {
    let status = pod.and_then(|p| p.status.as_ref());
    let terminated = status
        .and_then(|s| s.container_statuses.as_ref())
        .and_then(|c| c.first())
        .and_then(|c| c.state.as_ref())
        .and_then(|s| s.terminated.as_ref());
    let pod_reason = status.and_then(|s| s.reason.clone());
    RunOutcome {
        exit_code: terminated.map(|t| t.exit_code),
        reason: pod_reason
            .clone()
            .filter(|r| r == "DeadlineExceeded")
            .or_else(|| terminated.and_then(|t| t.reason.clone()))
            .or(pod_reason)
            .unwrap_or_else(|| "Unknown".into()),
        pod: name.to_string(),
        namespace: namespace.to_string(),
    }
}

/// Follows the container's log (when a kubelet serves it) to stdout.
async fn stream_logs(pods: Api<Pod>, name: String) {
    let running = await_condition(pods.clone(), &name, |p: Option<&Pod>| {
        p.and_then(|p| p.status.as_ref())
            .and_then(|s| s.phase.as_deref())
            .is_some_and(|ph| ph != "Pending")
    });
    if running.await.is_err() {
        return;
    }
    let params = LogParams {
        follow: true,
        ..Default::default()
    };
    match pods.log_stream(&name, &params).await {
        Ok(stream) => {
            let mut lines = stream.lines();
            while let Some(Ok(line)) = lines.next().await {
                println!("{line}");
            }
        }
        Err(e) => tracing::warn!(pod = %name, error = %e, "logs unavailable"),
    }
}

struct Cleanup {
    pods: Api<Pod>,
    maps: Api<ConfigMap>,
    pod: String,
    config_map: String,
    keep: bool,
}

impl Cleanup {
    async fn run(self) {
        if self.keep {
            eprintln!(
                "kept pod {} and ConfigMap {} (--keep)",
                self.pod, self.config_map
            );
            return;
        }
        let now = DeleteParams {
            grace_period_seconds: Some(0),
            ..Default::default()
        };
        if let Err(e) = self.pods.delete(&self.pod, &now).await
            && !is_not_found(&e)
        {
            tracing::warn!(pod = %self.pod, error = %e, "could not delete the pod");
        }
        // The owner reference lets the garbage collector do this too; do not rely on it.
        if let Err(e) = self.maps.delete(&self.config_map, &now).await
            && !is_not_found(&e)
        {
            tracing::warn!(config_map = %self.config_map, error = %e, "could not delete the ConfigMap");
        }
    }
}

/// A 404: what cleanup wanted gone is gone (never created, or collected).
fn is_not_found(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 404)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn files() -> BTreeMap<String, Vec<u8>> {
        BTreeMap::from([
            ("main.py".to_string(), b"print(1)\n".to_vec()),
            ("lib/blob.bin".to_string(), vec![0xff, 0x00, 0xfe]),
        ])
    }

    #[test]
    fn text_goes_to_data_and_bytes_to_binary_data_under_flat_keys() {
        let cm = workspace_config_map("w", "ns", &files()).unwrap();
        assert_eq!(cm.data.unwrap()["main.py"], "print(1)\n");
        assert_eq!(
            cm.binary_data.unwrap()["lib__blob.bin"].0,
            [0xff, 0x00, 0xfe]
        );
        assert_eq!(cm.immutable, Some(true));
        assert_eq!(cm.metadata.namespace.as_deref(), Some("ns"));
    }

    #[test]
    fn a_workspace_over_the_limit_or_with_a_bad_name_is_refused() {
        let big = BTreeMap::from([("a".to_string(), vec![b'x'; MAX_WORKSPACE_BYTES])]);
        let err = workspace_config_map("w", "ns", &big).unwrap_err();
        assert!(
            matches!(err, KubeError::WorkspaceTooLarge { size } if size == MAX_WORKSPACE_BYTES + 1)
        );
        let bad = BTreeMap::from([("../x".to_string(), Vec::new())]);
        let err = workspace_config_map("w", "ns", &bad).unwrap_err();
        assert!(matches!(err, KubeError::Workspace(_)), "{err}");
    }

    #[test]
    fn every_file_is_mounted_at_its_path_from_its_key() {
        let mut pod: Pod = serde_json::from_value(json!({
            "spec": {"containers": [], "volumes": [
                {"name": "work", "configMap": {"name": "w"}},
                {"name": "tmp", "emptyDir": {}},
            ]}
        }))
        .unwrap();
        mount_items(&mut pod, &files());
        let volumes = pod.spec.unwrap().volumes.unwrap();
        let items = volumes[0]
            .config_map
            .as_ref()
            .unwrap()
            .items
            .clone()
            .unwrap();
        let pairs: Vec<(&str, &str)> = items
            .iter()
            .map(|i| (i.key.as_str(), i.path.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [("lib__blob.bin", "lib/blob.bin"), ("main.py", "main.py")]
        );
        assert!(volumes[1].config_map.is_none());
    }

    #[test]
    fn the_outcome_is_the_containers_exit_or_the_pods_reason() {
        let pod: Pod = serde_json::from_value(json!({"status": {
            "phase": "Failed",
            "containerStatuses": [{"name": "runner", "image": "i", "imageID": "", "ready": false,
                "restartCount": 0, "state": {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}}]
        }}))
        .unwrap();
        let o = outcome_of(Some(&pod), "p", "ns");
        assert_eq!((o.exit_code, o.reason.as_str()), (Some(137), "OOMKilled"));
        let pod: Pod = serde_json::from_value(json!({"status": {
            "phase": "Failed", "reason": "DeadlineExceeded"
        }}))
        .unwrap();
        let o = outcome_of(Some(&pod), "p", "ns");
        assert_eq!((o.exit_code, o.reason.as_str()), (None, "DeadlineExceeded"));
        let killed: Pod = serde_json::from_value(json!({"status": {
            "phase": "Failed", "reason": "DeadlineExceeded",
            "containerStatuses": [{"name": "runner", "image": "i", "imageID": "", "ready": false,
                "restartCount": 0, "state": {"terminated": {"exitCode": 137, "reason": "Error"}}}]
        }}))
        .unwrap();
        let o = outcome_of(Some(&killed), "p", "ns");
        assert_eq!(
            (o.exit_code, o.reason.as_str()),
            (Some(137), "DeadlineExceeded")
        );
        let o = outcome_of(None, "p", "ns");
        assert_eq!((o.exit_code, o.reason.as_str()), (None, "Unknown"));
        assert!(is_finished(None) && is_finished(Some(&pod)));
        assert!(!is_finished(Some(&Pod::default())));
    }
}
