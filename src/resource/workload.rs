//! Views over the pod spec embedded in Pods and every controller, with pointers
//! that name the real path inside the object.

use k8s_openapi::api::batch::v1::JobSpec;
use k8s_openapi::api::core::v1::{
    ContainerPort, EnvFromSource, EnvVar, PodSpec, ResourceRequirements, SecurityContext,
    VolumeDevice, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::{Object, Resource};
use crate::pointer::Pointer;

/// An object that carries a pod spec, seen through that spec.
#[derive(Debug)]
pub struct Workload<'a> {
    pub resource: &'a Resource,
    pub pod: PodView<'a>,
    /// The Job spec for Jobs and CronJobs, with its pointer.
    pub job: Option<(&'a JobSpec, Pointer)>,
}

/// A pod spec and the pointer to it.
#[derive(Debug)]
pub struct PodView<'a> {
    pub spec: &'a PodSpec,
    /// Pointer to the PodSpec (`/spec`, `/spec/template/spec`, ...).
    pub base: Pointer,
    /// The pod's (or template's) metadata, for labels.
    pub metadata: Option<&'a ObjectMeta>,
}

/// Which list of the pod spec a container comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerKind {
    Container,
    Init,
    Ephemeral,
}

impl ContainerKind {
    /// The word used in messages.
    pub fn noun(self) -> &'static str {
        match self {
            ContainerKind::Container => "container",
            ContainerKind::Init => "init container",
            ContainerKind::Ephemeral => "ephemeral container",
        }
    }
}

/// The fields rules read, common to containers, init containers and ephemeral containers.
#[derive(Debug)]
pub struct ContainerView<'a> {
    pub kind: ContainerKind,
    pub name: &'a str,
    pub image: Option<&'a str>,
    pub security_context: Option<&'a SecurityContext>,
    pub resources: Option<&'a ResourceRequirements>,
    pub volume_mounts: &'a [VolumeMount],
    /// Raw block devices (`volumeDevices`).
    pub volume_devices: &'a [VolumeDevice],
    pub ports: &'a [ContainerPort],
    pub env: &'a [EnvVar],
    pub env_from: &'a [EnvFromSource],
    /// Pointer to the container.
    pub pointer: Pointer,
}

impl ContainerView<'_> {
    /// `container "runner"`, `init container "setup"`.
    pub fn label(&self) -> String {
        format!("{} \"{}\"", self.kind.noun(), self.name)
    }
}

impl<'a> PodView<'a> {
    /// Pointer to a field of the pod spec.
    pub fn at(&self, field: &str) -> Pointer {
        self.base.key(field)
    }

    /// The ServiceAccount the pod runs as: `serviceAccountName`, else the
    /// deprecated `serviceAccount` (the API server copies it over when the name
    /// is empty), else `default`.
    pub fn service_account(&self) -> &'a str {
        self.service_account_field().1
    }

    /// The field that names the pod's ServiceAccount (`serviceAccountName`
    /// when neither does) and the name.
    pub fn service_account_field(&self) -> (&'static str, &'a str) {
        [
            ("serviceAccountName", &self.spec.service_account_name),
            ("serviceAccount", &self.spec.service_account),
        ]
        .into_iter()
        .find_map(|(field, name)| Some((field, name.as_deref().filter(|n| !n.is_empty())?)))
        .unwrap_or(("serviceAccountName", "default"))
    }

    /// The pod's volumes (none when unset).
    pub fn volumes(&self) -> &'a [k8s_openapi::api::core::v1::Volume] {
        self.spec.volumes.as_deref().unwrap_or_default()
    }

    /// The volumes by name, in order (a name may be given twice): mounts are
    /// matched to volumes through this, not by a search per mount, which
    /// was quadratic for pods of thousands of volumes.
    pub fn volumes_by_name(
        &self,
    ) -> std::collections::HashMap<&'a str, Vec<&'a k8s_openapi::api::core::v1::Volume>> {
        let mut map: std::collections::HashMap<&str, Vec<_>> = std::collections::HashMap::new();
        for v in self.volumes() {
            map.entry(v.name.as_str()).or_default().push(v);
        }
        map
    }

    /// The host namespaces the pod shares: (field, what it exposes), for each set to true.
    pub fn shared_host_namespaces(&self) -> impl Iterator<Item = (&'static str, &'static str)> {
        let s = self.spec;
        [
            (
                "hostNetwork",
                s.host_network,
                "the node's network namespace",
            ),
            ("hostPID", s.host_pid, "the node's process namespace"),
            ("hostIPC", s.host_ipc, "the node's IPC namespace"),
        ]
        .into_iter()
        .filter(|(_, v, _)| *v == Some(true))
        .map(|(field, _, what)| (field, what))
    }

    /// Containers, then init containers, then ephemeral containers.
    pub fn containers(&self) -> impl Iterator<Item = ContainerView<'a>> + '_ {
        // Container and EphemeralContainer are distinct types with the same fields.
        macro_rules! views {
            ($list:expr, $kind:expr, $key:literal) => {
                $list.enumerate().map(move |(i, c)| ContainerView {
                    kind: $kind,
                    name: &c.name,
                    image: c.image.as_deref(),
                    security_context: c.security_context.as_ref(),
                    resources: c.resources.as_ref(),
                    volume_mounts: c.volume_mounts.as_deref().unwrap_or_default(),
                    volume_devices: c.volume_devices.as_deref().unwrap_or_default(),
                    ports: c.ports.as_deref().unwrap_or_default(),
                    env: c.env.as_deref().unwrap_or_default(),
                    env_from: c.env_from.as_deref().unwrap_or_default(),
                    pointer: self.base.key($key).index(i),
                })
            };
        }
        let spec = self.spec;
        views!(
            spec.containers.iter(),
            ContainerKind::Container,
            "containers"
        )
        .chain(views!(
            spec.init_containers.iter().flatten(),
            ContainerKind::Init,
            "initContainers"
        ))
        .chain(views!(
            spec.ephemeral_containers.iter().flatten(),
            ContainerKind::Ephemeral,
            "ephemeralContainers"
        ))
    }
}

/// Why an object that should carry a pod spec cannot be judged.
#[derive(Debug, Clone, PartialEq)]
pub struct MissingPodSpec {
    /// Pointer of the missing field.
    pub pointer: Pointer,
}

impl Resource {
    /// The object's pod spec view, if it is a kind that carries one. `Err` when
    /// the kind should carry one and does not (fail closed: that is a finding).
    pub fn workload(&self) -> Option<Result<Workload<'_>, MissingPodSpec>> {
        let b = &self.base;
        let (pod, job) = match &self.object {
            Object::Pod(p) => (
                view(p.spec.as_ref(), Some(&p.metadata), b.key("spec")),
                None,
            ),
            Object::PodTemplate(t) => {
                let tpl = t.template.as_ref();
                (
                    view(
                        tpl.and_then(|t| t.spec.as_ref()),
                        tpl.and_then(|t| t.metadata.as_ref()),
                        b.key("template").key("spec"),
                    ),
                    None,
                )
            }
            Object::Deployment(d) => (template_view(Some(&d.spec.template), b.key("spec")), None),
            Object::StatefulSet(d) => (template_view(Some(&d.spec.template), b.key("spec")), None),
            Object::DaemonSet(d) => (template_view(Some(&d.spec.template), b.key("spec")), None),
            Object::ReplicaSet(d) => (template_view(d.spec.template.as_ref(), b.key("spec")), None),
            Object::ReplicationController(d) => (
                template_view(
                    d.spec.as_ref().and_then(|s| s.template.as_ref()),
                    b.key("spec"),
                ),
                None,
            ),
            Object::Job(j) => {
                let spec_ptr = b.key("spec");
                let job = j.spec.as_ref().map(|s| (s, spec_ptr.clone()));
                (
                    template_view(j.spec.as_ref().map(|s| &s.template), spec_ptr),
                    job,
                )
            }
            Object::CronJob(c) => {
                let job_ptr = b.key("spec").key("jobTemplate").key("spec");
                let job_spec = c.spec.job_template.spec.as_ref();
                let job = job_spec.map(|s| (s, job_ptr.clone()));
                (template_view(job_spec.map(|s| &s.template), job_ptr), job)
            }
            _ => return None,
        };
        Some(pod.map(|(spec, metadata, base)| Workload {
            resource: self,
            pod: PodView {
                spec,
                base,
                metadata,
            },
            job,
        }))
    }
}

fn view<'a>(
    spec: Option<&'a PodSpec>,
    meta: Option<&'a ObjectMeta>,
    ptr: Pointer,
) -> ViewParts<'a> {
    match spec {
        Some(spec) => Ok((spec, meta, ptr)),
        None => Err(MissingPodSpec { pointer: ptr }),
    }
}

type ViewParts<'a> = Result<(&'a PodSpec, Option<&'a ObjectMeta>, Pointer), MissingPodSpec>;

/// The pod spec inside a controller's `template` (found under `parent`).
fn template_view(
    template: Option<&k8s_openapi::api::core::v1::PodTemplateSpec>,
    parent: Pointer,
) -> ViewParts<'_> {
    let ptr = parent.key("template").key("spec");
    match template.and_then(|t| t.spec.as_ref().map(|s| (s, t.metadata.as_ref()))) {
        Some((spec, meta)) => Ok((spec, meta, ptr)),
        None => Err(MissingPodSpec { pointer: ptr }),
    }
}
