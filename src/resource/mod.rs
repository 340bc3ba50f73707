//! Kubernetes objects as loaded: typed by kind, with the pointer of the object
//! inside its document, and views over every embedded pod spec.

mod kinds;
mod workload;

pub use kinds::{KindInfo, decode_object, kind_info};
pub use workload::{ContainerKind, ContainerView, PodView, Workload};

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{
    Namespace, Pod, PodTemplate, ReplicationController, ServiceAccount,
};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::node::v1::RuntimeClass;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};

use std::sync::Arc;

use crate::finding::ObjectRef;
use crate::pointer::Pointer;

/// A decoded object. Kinds that carry a pod spec are judged; the others are
/// kept for cross-resource rules; unknown kinds keep only their identity.
#[derive(Debug, Clone)]
pub enum Object {
    Pod(Box<Pod>),
    PodTemplate(Box<PodTemplate>),
    Deployment(Box<Deployment>),
    StatefulSet(Box<StatefulSet>),
    DaemonSet(Box<DaemonSet>),
    ReplicaSet(Box<ReplicaSet>),
    ReplicationController(Box<ReplicationController>),
    Job(Box<Job>),
    CronJob(Box<CronJob>),
    ServiceAccount(Box<ServiceAccount>),
    Role(Box<Role>),
    ClusterRole(Box<ClusterRole>),
    RoleBinding(Box<RoleBinding>),
    ClusterRoleBinding(Box<ClusterRoleBinding>),
    NetworkPolicy(Box<NetworkPolicy>),
    Namespace(Box<Namespace>),
    RuntimeClass(Box<RuntimeClass>),
    /// A kind sandbox-lint does not model (custom resources, Services, ...).
    Other,
}

/// One object from an input document.
#[derive(Debug, Clone)]
pub struct Resource {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
    /// The object's labels.
    pub labels: std::collections::BTreeMap<String, String>,
    /// The object's annotations.
    pub annotations: std::collections::BTreeMap<String, String>,
    /// Pointer of the object inside its document: empty, or `/items/N` in a List.
    pub base: Pointer,
    pub object: Object,
    /// The identity findings carry (built once per object).
    ident: Arc<ObjectRef>,
}

impl Resource {
    /// The identity shown with findings, shared by all of them.
    pub fn object_ref(&self) -> Arc<ObjectRef> {
        self.ident.clone()
    }

    /// Computes the shared identity from the fields (after decoding set them).
    pub(crate) fn refresh_ident(&mut self) {
        self.ident = Arc::new(ObjectRef {
            api_version: self.api_version.clone(),
            kind: self.kind.clone(),
            namespace: self.namespace.clone(),
            name: self.name.clone(),
        });
    }
}
