//! SL1xxx: pod and container security.

pub mod env;
pub mod filesystem;
pub mod host;
pub mod image;
pub mod privilege;
pub mod resources;
pub mod run_as;
pub mod runtime_class;
pub mod seccomp;
pub mod service_account;
pub mod volumes;

use k8s_openapi::api::core::v1::{PodSecurityContext, SecurityContext, Volume, VolumeProjection};

use crate::pointer::Pointer;
use crate::resource::{ContainerView, PodView};
use crate::rule::Cx;

/// A setting that the pod's securityContext provides and each container may override.
pub(crate) struct Inherited<T> {
    /// The field name in both securityContexts (`runAsNonRoot`).
    pub field: &'static str,
    pub pod: fn(&PodSecurityContext) -> Option<T>,
    pub container: fn(&SecurityContext) -> Option<T>,
}

impl<T> Inherited<T> {
    /// Resolves the setting for every container (container over pod) and reports
    /// what `bad` objects to (it gets `None` for unset), once at the pod level
    /// when containers inherit the problem, and per container where a container sets it.
    pub fn check(
        &self,
        cx: &mut Cx,
        pod: &PodView<'_>,
        bad: impl Fn(Option<&T>) -> Option<String>,
    ) {
        self.check_at(cx, pod, |v| bad(v).map(|m| (m, None)));
    }

    /// Like [`Inherited::check`], but `bad` may name a sub-field of the setting
    /// where the problem lies (`type` of a seccompProfile).
    pub fn check_at(
        &self,
        cx: &mut Cx,
        pod: &PodView<'_>,
        bad: impl Fn(Option<&T>) -> Option<(String, Option<&'static str>)>,
    ) {
        let at = |ptr: Pointer, sub: Option<&'static str>| match sub {
            Some(k) => ptr.key(k),
            None => ptr,
        };
        let pod_sc = pod.spec.security_context.as_ref();
        let pod_value = pod_sc.and_then(self.pod);
        let pod_ptr = pod.at("securityContext").key(self.field);
        let mut inheriting = Vec::new();
        for c in pod.containers() {
            match c.security_context.and_then(self.container) {
                Some(v) => {
                    if let Some((problem, sub)) = bad(Some(&v)) {
                        cx.report(
                            at(c.pointer.key("securityContext").key(self.field), sub),
                            format!("{} {problem}", c.label()),
                        );
                    }
                }
                None => inheriting.push(c),
            }
        }
        if inheriting.is_empty() {
            return;
        }
        let Some((problem, sub)) = bad(pod_value.as_ref()) else {
            return;
        };
        let all = inheriting.len() == pod.containers().count();
        if pod_value.is_some() || all {
            let who = if all {
                String::new()
            } else {
                format!(" (inherited by {})", labels(&inheriting))
            };
            cx.report(at(pod_ptr, sub), format!("the pod {problem}{who}"));
        } else {
            // The pod leaves it unset and only some containers rely on that.
            for c in inheriting {
                cx.report(
                    c.pointer.key("securityContext").key(self.field),
                    format!(
                        "{} {problem} (neither it nor the pod sets `{}`)",
                        c.label(),
                        self.field
                    ),
                );
            }
        }
    }
}

fn labels(cs: &[ContainerView<'_>]) -> String {
    cs.iter().map(|c| c.label()).collect::<Vec<_>>().join(", ")
}

/// Reports per container where a container-only securityContext field is not as required.
pub(crate) fn each_container<T>(
    cx: &mut Cx,
    pod: &PodView<'_>,
    field: &'static str,
    get: fn(&SecurityContext) -> Option<T>,
    bad: impl Fn(Option<&T>) -> Option<String>,
) {
    for c in pod.containers() {
        let value = c.security_context.and_then(get);
        if let Some(problem) = bad(value.as_ref()) {
            let ptr: Pointer = c.pointer.key("securityContext").key(field);
            cx.report(ptr, format!("{} {problem}", c.label()));
        }
    }
}

/// The sources of a projected volume (none for other volumes).
pub(crate) fn projected_sources(v: &Volume) -> &[VolumeProjection] {
    v.projected
        .as_ref()
        .and_then(|p| p.sources.as_deref())
        .unwrap_or_default()
}

/// Reports every hostPath volume (the checklist's rule and the Pod Security one alike).
pub(crate) fn report_host_paths(cx: &mut Cx, pod: &PodView<'_>) {
    for (i, v) in pod.volumes().iter().enumerate() {
        if let Some(hp) = &v.host_path {
            cx.report(
                pod.at("volumes").index(i).key("hostPath"),
                format!("volume \"{}\" mounts host path {}", v.name, hp.path),
            );
        }
    }
}

/// Reports every non-zero hostPort of every container.
pub(crate) fn report_host_ports(cx: &mut Cx, pod: &PodView<'_>) {
    for c in pod.containers() {
        for (i, port) in c.ports.iter().enumerate() {
            if let Some(hp) = port.host_port.filter(|&p| p != 0) {
                cx.report(
                    c.pointer.key("ports").index(i).key("hostPort"),
                    format!("{} binds host port {hp}", c.label()),
                );
            }
        }
    }
}
