//! `--cluster-context`: read-only watches (kube's reflectors) of the objects
//! cross-resource rules look up, turned into the same [`Cluster`] index the CLI
//! builds from files. The index is marked live: an object absent from it does
//! not exist, so a runner pod that no NetworkPolicy isolates is denied rather
//! than warned about.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::node::v1::RuntimeClass;
use k8s_openapi::api::rbac::v1::{ClusterRoleBinding, RoleBinding};
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::Notify;

use crate::cluster::Cluster;
use crate::finding::Location;
use crate::linter::Linter;
use crate::source::LineCol;
use crate::yaml::Node;

use super::metrics::Metrics;

/// The stores of every watched kind.
struct Stores {
    service_accounts: Store<ServiceAccount>,
    role_bindings: Store<RoleBinding>,
    cluster_role_bindings: Store<ClusterRoleBinding>,
    network_policies: Store<NetworkPolicy>,
    namespaces: Store<Namespace>,
    runtime_classes: Store<RuntimeClass>,
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
    let stores = Stores {
        service_accounts: reflect(&client, &changed),
        role_bindings: reflect(&client, &changed),
        cluster_role_bindings: reflect(&client, &changed),
        network_policies: reflect(&client, &changed),
        namespaces: reflect(&client, &changed),
        runtime_classes: reflect(&client, &changed),
    };
    let synced = async {
        stores.service_accounts.wait_until_ready().await?;
        stores.role_bindings.wait_until_ready().await?;
        stores.cluster_role_bindings.wait_until_ready().await?;
        stores.network_policies.wait_until_ready().await?;
        stores.namespaces.wait_until_ready().await?;
        stores.runtime_classes.wait_until_ready().await
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
fn build(stores: &Stores, default_namespace: &str) -> Cluster {
    let mut cluster = Cluster::default();
    add_all(&mut cluster, &stores.namespaces, default_namespace);
    add_all(&mut cluster, &stores.service_accounts, default_namespace);
    add_all(&mut cluster, &stores.role_bindings, default_namespace);
    add_all(
        &mut cluster,
        &stores.cluster_role_bindings,
        default_namespace,
    );
    add_all(&mut cluster, &stores.network_policies, default_namespace);
    add_all(&mut cluster, &stores.runtime_classes, default_namespace);
    cluster.live = true;
    cluster
}

fn add_all<K>(cluster: &mut Cluster, store: &Store<K>, default_namespace: &str)
where
    K: kube::Resource<DynamicType = ()> + Clone + Serialize + 'static,
{
    for object in store.state() {
        let Some(node) = serde_json::to_value(&*object)
            .ok()
            .and_then(|v| serde::Deserialize::deserialize(v).ok())
        else {
            continue;
        };
        add_object(cluster, node, default_namespace);
    }
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
