//! The kinds sandbox-lint understands, and decoding a document node into one.

use serde::de::DeserializeOwned;

use super::{Object, Resource};
use crate::pointer::Pointer;
use crate::yaml::Node;
use crate::yaml::de::{DecodeError, UnknownField, decode};

/// A kind sandbox-lint models, and the apiVersion it decodes it as.
#[derive(Debug)]
pub struct KindInfo {
    pub kind: &'static str,
    /// The current apiVersion (`apps/v1`).
    pub api_version: &'static str,
    /// Groups that served this kind in older releases (`extensions`).
    pub legacy_groups: &'static [&'static str],
    /// True for kinds that carry a pod spec and are judged by pod rules.
    pub has_pod_spec: bool,
    decode: DecodeFn,
}

type Decoded = (Result<Object, DecodeError>, Vec<UnknownField>);
type DecodeFn = fn(&Node, &Pointer) -> Decoded;

fn typed<T: DeserializeOwned>(wrap: fn(Box<T>) -> Object) -> impl Fn(&Node, &Pointer) -> Decoded {
    move |node, base| {
        let (r, unknown) = decode::<T>(node, base);
        (r.map(|t| wrap(Box::new(t))), unknown)
    }
}

macro_rules! kinds {
    ($( $kind:ident: $ty:ty, $av:literal, [$($legacy:literal),*], $pod:literal; )*) => {
        static KINDS: &[KindInfo] = &[$(
            KindInfo {
                kind: stringify!($kind),
                api_version: $av,
                legacy_groups: &[$($legacy),*],
                has_pod_spec: $pod,
                decode: |n, b| typed::<$ty>(Object::$kind)(n, b),
            },
        )*];
    };
}

kinds! {
    Pod: k8s_openapi::api::core::v1::Pod, "v1", [], true;
    PodTemplate: k8s_openapi::api::core::v1::PodTemplate, "v1", [], true;
    ReplicationController: k8s_openapi::api::core::v1::ReplicationController, "v1", [], true;
    Deployment: k8s_openapi::api::apps::v1::Deployment, "apps/v1", ["extensions"], true;
    StatefulSet: k8s_openapi::api::apps::v1::StatefulSet, "apps/v1", [], true;
    DaemonSet: k8s_openapi::api::apps::v1::DaemonSet, "apps/v1", ["extensions"], true;
    ReplicaSet: k8s_openapi::api::apps::v1::ReplicaSet, "apps/v1", ["extensions"], true;
    Job: k8s_openapi::api::batch::v1::Job, "batch/v1", [], true;
    CronJob: k8s_openapi::api::batch::v1::CronJob, "batch/v1", [], true;
    ServiceAccount: k8s_openapi::api::core::v1::ServiceAccount, "v1", [], false;
    Namespace: k8s_openapi::api::core::v1::Namespace, "v1", [], false;
    Role: k8s_openapi::api::rbac::v1::Role, "rbac.authorization.k8s.io/v1", [], false;
    ClusterRole: k8s_openapi::api::rbac::v1::ClusterRole, "rbac.authorization.k8s.io/v1", [], false;
    RoleBinding: k8s_openapi::api::rbac::v1::RoleBinding, "rbac.authorization.k8s.io/v1", [], false;
    ClusterRoleBinding: k8s_openapi::api::rbac::v1::ClusterRoleBinding, "rbac.authorization.k8s.io/v1", [], false;
    NetworkPolicy: k8s_openapi::api::networking::v1::NetworkPolicy, "networking.k8s.io/v1", ["extensions"], false;
    RuntimeClass: k8s_openapi::api::node::v1::RuntimeClass, "node.k8s.io/v1", [], false;
}

/// The modelled kind called `kind`, if any.
pub fn kind_info(kind: &str) -> Option<&'static KindInfo> {
    KINDS.iter().find(|k| k.kind == kind)
}

/// The group of an apiVersion (`apps/v1` -> `apps`, `v1` -> ``).
fn group_of(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(g, _)| g)
}

impl KindInfo {
    /// True when `api_version` names this kind's group, current or legacy, at any version.
    pub fn knows_group(&self, api_version: &str) -> bool {
        let g = group_of(api_version);
        g == group_of(self.api_version) || self.legacy_groups.contains(&g)
    }
}

/// The outcome of decoding one object node.
#[derive(Debug)]
pub struct DecodedObject {
    pub resource: Resource,
    /// Set when the object could not be decoded (wrong types); the resource then
    /// holds [`Object::Other`] and is not judged.
    pub error: Option<DecodeError>,
    pub unknown_fields: Vec<UnknownField>,
    /// Set when the apiVersion is not the one modelled and the object was judged as that one.
    pub judged_as: Option<&'static str>,
}

/// Decodes an object node with the given `apiVersion` and `kind`.
pub fn decode_object(node: &Node, base: Pointer, api_version: &str, kind: &str) -> DecodedObject {
    let meta = node.get("metadata");
    let text = |key: &str| meta.and_then(|m| m.get(key)).and_then(Node::as_str);
    let name = text("name")
        .map(str::to_string)
        .or_else(|| text("generateName").map(|g| format!("{g}*")))
        .unwrap_or_else(|| "<unnamed>".to_string());
    let mut resource = Resource {
        api_version: api_version.to_string(),
        kind: kind.to_string(),
        name,
        namespace: text("namespace").map(str::to_string),
        labels: string_map(meta.and_then(|m| m.get("labels"))),
        annotations: string_map(meta.and_then(|m| m.get("annotations"))),
        base,
        object: Object::Other,
        ident: Default::default(),
    };
    // A kind that carries a pod spec under an unknown group or in the wrong case
    // (`apiVersion: v1` + `kind: Deployment`, `kind: job`) is judged as the kind
    // it names rather than skipped: fail closed.
    let info = kind_info(kind)
        .filter(|i| i.knows_group(api_version))
        .or_else(|| {
            KINDS
                .iter()
                .find(|k| k.has_pod_spec && k.kind.eq_ignore_ascii_case(kind))
        });
    let Some(info) = info else {
        resource.refresh_ident();
        return DecodedObject {
            resource,
            error: None,
            unknown_fields: Vec::new(),
            judged_as: None,
        };
    };
    let judged_as =
        (api_version != info.api_version || kind != info.kind).then_some(info.api_version);
    resource.kind = info.kind.to_string();
    resource.refresh_ident();
    let (result, unknown_fields) = (info.decode)(node, &resource.base);
    let error = match result {
        Ok(object) => {
            resource.object = object;
            None
        }
        Err(e) => Some(e),
    };
    DecodedObject {
        resource,
        error,
        unknown_fields,
        judged_as,
    }
}

/// A mapping of strings (labels, annotations) as written; other values are skipped.
fn string_map(node: Option<&Node>) -> std::collections::BTreeMap<String, String> {
    match node.map(|n| &n.value) {
        Some(crate::yaml::Value::Map(entries)) => entries
            .iter()
            .filter_map(|e| e.value.as_str().map(|v| (e.key.clone(), v.to_string())))
            .collect(),
        _ => Default::default(),
    }
}
