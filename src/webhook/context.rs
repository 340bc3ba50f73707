//! `--cluster-context`: read-only watches (kube's reflectors) of the objects
//! cross-resource rules look up, turned into the same [`Cluster`] index the CLI
//! builds from files. The index is marked live: an object absent from it does
//! not exist, so a runner pod that no NetworkPolicy isolates is denied rather
//! than warned about.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures::StreamExt;
use futures::future::BoxFuture;
use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::node::v1::RuntimeClass;
use k8s_openapi::api::rbac::v1::{ClusterRoleBinding, RoleBinding};
use kube::runtime::reflector::store::WriterDropped;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use crate::cluster::Cluster;
use crate::finding::Location;
use crate::linter::Linter;
use crate::source::LineCol;
use crate::yaml::Node;

use super::metrics::Metrics;

/// One watched kind's store, type-erased so the kinds are listed once (in
/// [`run`]).
trait Watched: Send + Sync {
    fn wait_until_ready(&self) -> BoxFuture<'_, Result<(), WriterDropped>>;
    /// Adds every object the store holds to `cluster`.
    fn add_to(&self, cluster: &mut Cluster, default_namespace: &str);
}

impl<K> Watched for Store<K>
where
    K: kube::Resource<DynamicType = ()> + Clone + Serialize + Send + Sync + 'static,
{
    fn wait_until_ready(&self) -> BoxFuture<'_, Result<(), WriterDropped>> {
        Box::pin(Store::wait_until_ready(self))
    }

    fn add_to(&self, cluster: &mut Cluster, default_namespace: &str) {
        for object in self.state() {
            let node = serde_json::to_value(&*object)
                .map_err(|e| e.to_string())
                .and_then(|v| Node::deserialize(v).map_err(|e| e.to_string()));
            match node {
                Ok(node) => add_object(cluster, node, default_namespace),
                Err(e) => tracing::warn!(
                    kind = K::kind(&()).as_ref(),
                    name = object.meta().name.as_deref().unwrap_or_default(),
                    error = %e,
                    "cluster-context object left out of the index"
                ),
            }
        }
    }
}

/// Starts one reflector: its store, fed by a task that wakes `changed` on every event.
fn reflect<K>(client: &Client, changed: &Arc<Notify>) -> Store<K>
where
    K: kube::Resource<DynamicType = ()>
        + Clone
        + DeserializeOwned
        + std::fmt::Debug
        + Send
        + Sync
        + 'static,
{
    let (reader, writer) = reflector::store::<K>();
    let api: Api<K> = Api::all(client.clone());
    let stream =
        reflector::reflector(writer, watcher(api, watcher::Config::default())).default_backoff();
    let changed = changed.clone();
    tokio::spawn(async move {
        let mut stream = std::pin::pin!(stream);
        while let Some(event) = stream.next().await {
            match event {
                Ok(_) => changed.notify_one(),
                Err(e) => tracing::warn!(
                    kind = K::kind(&()).as_ref(),
                    error = %e,
                    "cluster-context watch failed; retrying"
                ),
            }
        }
    });
    reader
}

/// Watches the cluster and keeps the linter's index current. `ready` turns true
/// once every watch has listed its objects and the first index is installed.
pub async fn run(
    client: Client,
    linter: Arc<Linter>,
    ready: Arc<AtomicBool>,
    metrics: Arc<Metrics>,
) {
    let changed = Arc::new(Notify::new());
    // The kinds cross-resource rules look up; findings about pods depend on them.
    let stores: Vec<Box<dyn Watched>> = vec![
        Box::new(reflect::<Namespace>(&client, &changed)),
        Box::new(reflect::<ServiceAccount>(&client, &changed)),
        Box::new(reflect::<RoleBinding>(&client, &changed)),
        Box::new(reflect::<ClusterRoleBinding>(&client, &changed)),
        Box::new(reflect::<NetworkPolicy>(&client, &changed)),
        Box::new(reflect::<RuntimeClass>(&client, &changed)),
    ];
    let synced = async {
        for store in &stores {
            store.wait_until_ready().await?;
        }
        Ok::<(), WriterDropped>(())
    };
    if let Err(e) = synced.await {
        tracing::error!(error = %e, "cluster-context watches ended before syncing");
        return;
    }
    loop {
        let cluster = build(&stores, linter.default_namespace());
        let n = cluster.namespaces.len()
            + cluster.policies.len()
            + cluster.service_accounts.len()
            + cluster.bindings.len()
            + cluster.runtime_classes.len();
        linter.set_cluster(cluster);
        metrics.set_cluster_objects(n);
        if !ready.swap(true, Ordering::SeqCst) {
            tracing::info!(objects = n, "cluster context synced; ready");
        }
        changed.notified().await;
        // Let a burst of events settle into one rebuild.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The index of everything the stores hold.
fn build(stores: &[Box<dyn Watched>], default_namespace: &str) -> Cluster {
    let mut cluster = Cluster::default();
    for store in stores {
        store.add_to(&mut cluster, default_namespace);
    }
    cluster.live = true;
    cluster
}

/// Adds one object of the live cluster; findings about it point at
/// `Kind namespace/name`, there being no file.
pub fn add_object(cluster: &mut Cluster, node: Node, default_namespace: &str) {
    let loaded = crate::load::load_node(node);
    for doc in &loaded.docs {
        for r in &doc.resources {
            let file: Arc<str> = Arc::from(format!("cluster: {}", r.object_ref()));
            let locate = |_: &crate::pointer::Pointer| Location {
                file: file.clone(),
                start: 0,
                end: 0,
                start_lc: LineCol { line: 1, column: 1 },
                end_lc: LineCol { line: 1, column: 1 },
            };
            cluster.add(r, default_namespace, false, &locate);
        }
    }
}
