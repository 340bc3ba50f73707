//! SL1101-SL1199: the Kubernetes Pod Security Standards, control by control.
//!
//! Each rule reproduces one check of the Pod Security admission controller
//! (`k8s.io/pod-security-admission/policy`) as of Kubernetes v1.37, including
//! how it treats unset fields, which containers it visits (containers, init
//! containers and ephemeral containers alike) and how it changed across
//! policy versions (the `version` parameter). The rules are off by default;
//! the `pod-security-baseline` and `pod-security-restricted` packs turn on
//! exactly the controls of their level.

pub mod host;
pub mod mac;
pub mod privilege;
pub mod proc_mount;
pub mod run_as;
pub mod seccomp;
pub mod sysctls;
pub mod volumes;

use std::borrow::Cow;
use std::fmt;

use k8s_openapi::api::core::v1::{Lifecycle, PodSecurityContext, PodSpec, Probe, SecurityContext};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::pointer::Pointer;
use crate::resource::{ContainerView, PodView};
use crate::rule::Cx;

/// The newest Kubernetes minor release whose standard these rules reproduce;
/// `latest` means this version (and any newer one behaves the same).
pub const LATEST_MINOR: u32 = 37;

/// A Pod Security Standards policy version, as in the
/// `pod-security.kubernetes.io/enforce-version` namespace label: `latest` or
/// `v1.MINOR`. Versions newer than [`LATEST_MINOR`] behave as `latest`, as the
/// admission controller clamps them to the newest policy it knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Version {
    /// The newest standard (v1.37).
    #[default]
    Latest,
    /// `v1.MINOR`.
    Minor(u32),
}

impl Version {
    /// True when the standard at this version includes behaviour introduced in v1.`minor`.
    pub fn at_least(self, minor: u32) -> bool {
        match self {
            Version::Latest => true,
            Version::Minor(m) => m >= minor,
        }
    }

    /// Parses `latest` or `v1.MINOR`.
    pub fn parse(s: &str) -> Result<Self, String> {
        if s == "latest" {
            return Ok(Version::Latest);
        }
        let minor = s
            .strip_prefix("v1.")
            .filter(|m| !m.is_empty() && m.bytes().all(|b| b.is_ascii_digit()))
            .filter(|m| m.len() == 1 || !m.starts_with('0'))
            .and_then(|m| m.parse::<u32>().ok());
        match minor {
            Some(m) => Ok(Version::Minor(m)),
            None => Err(format!(
                "`{s}` is not a Pod Security Standards version: use `latest` or `v1.MINOR` (for example `v1.30`)"
            )),
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Version::Latest => f.write_str("latest"),
            Version::Minor(m) => write!(f, "v1.{m}"),
        }
    }
}

impl Serialize for Version {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Version {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Version::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for Version {
    fn schema_name() -> Cow<'static, str> {
        "PssVersion".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^(latest|v1\\.(0|[1-9][0-9]*))$",
            "description": "Pod Security Standards version: `latest` (v1.37) or `v1.MINOR`, as in the `pod-security.kubernetes.io/enforce-version` label.",
        })
    }
}

/// Parameters shared by every Pod Security Standards rule.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Params {
    /// The version of the standard to reproduce: `latest` (the v1.37 standard,
    /// the default) or `v1.MINOR`, as in the `pod-security.kubernetes.io/enforce-version`
    /// namespace label. Controls that never changed accept it and ignore it, so a
    /// pack can pin every rule the same way.
    pub version: Version,
}

/// True for a pod that declares `spec.os.name: windows` (compared exactly, as
/// admission does); from v1.25 the Linux-only restricted controls skip it.
pub(crate) fn is_windows(spec: &PodSpec) -> bool {
    spec.os.as_ref().is_some_and(|os| os.name == "windows")
}

/// True for a pod in its own user namespace (`hostUsers: false`).
pub(crate) fn user_namespaced(spec: &PodSpec) -> bool {
    spec.host_users == Some(false)
}

/// The pointer of the pod's (or pod template's) metadata.
pub(crate) fn metadata_pointer(pod: &PodView<'_>) -> Pointer {
    pod.base.parent().key("metadata")
}

/// The probes and lifecycle hooks of one container, which [`ContainerView`] does not carry.
pub(crate) struct Handlers<'a> {
    pub probes: [(&'static str, Option<&'a Probe>); 3],
    pub lifecycle: Option<&'a Lifecycle>,
}

/// Every container (containers, init containers, ephemeral containers, in the
/// order of [`PodView::containers`]) with its probes and lifecycle hooks.
pub(crate) fn with_handlers<'a>(
    pod: &'a PodView<'a>,
) -> impl Iterator<Item = (ContainerView<'a>, Handlers<'a>)> + 'a {
    let s = pod.spec;
    let regular = s.containers.iter().map(|c| Handlers {
        probes: [
            ("livenessProbe", c.liveness_probe.as_ref()),
            ("readinessProbe", c.readiness_probe.as_ref()),
            ("startupProbe", c.startup_probe.as_ref()),
        ],
        lifecycle: c.lifecycle.as_ref(),
    });
    let init = s.init_containers.iter().flatten().map(|c| Handlers {
        probes: [
            ("livenessProbe", c.liveness_probe.as_ref()),
            ("readinessProbe", c.readiness_probe.as_ref()),
            ("startupProbe", c.startup_probe.as_ref()),
        ],
        lifecycle: c.lifecycle.as_ref(),
    });
    let ephemeral = s.ephemeral_containers.iter().flatten().map(|c| Handlers {
        probes: [
            ("livenessProbe", c.liveness_probe.as_ref()),
            ("readinessProbe", c.readiness_probe.as_ref()),
            ("startupProbe", c.startup_probe.as_ref()),
        ],
        lifecycle: c.lifecycle.as_ref(),
    });
    pod.containers().zip(regular.chain(init).chain(ephemeral))
}

/// A problem with a setting: the message (after "the pod" or the container's
/// label) and optionally the sub-field it lies in (`type` of a seccompProfile).
pub(crate) type Problem = (String, Option<&'static str>);

/// A securityContext setting of both the pod and its containers.
pub(crate) struct Setting<T> {
    /// The field name in both securityContexts (`runAsNonRoot`).
    pub field: &'static str,
    pub pod: fn(&PodSecurityContext) -> Option<T>,
    pub container: fn(&SecurityContext) -> Option<T>,
}

impl<T> Setting<T> {
    fn pod_value(&self, pod: &PodView<'_>) -> Option<T> {
        pod.spec.security_context.as_ref().and_then(self.pod)
    }

    fn pod_pointer(&self, pod: &PodView<'_>, sub: Option<&'static str>) -> Pointer {
        at(pod.at("securityContext").key(self.field), sub)
    }

    fn container_pointer(&self, c: &ContainerView<'_>, sub: Option<&'static str>) -> Pointer {
        at(c.pointer.key("securityContext").key(self.field), sub)
    }

    /// Admission's "forbidden value" shape: unset is fine anywhere; a value that
    /// `bad` objects to is reported where it is set, on the pod and on every
    /// container, whatever the containers inherit or override.
    pub fn forbid(&self, cx: &mut Cx, pod: &PodView<'_>, bad: impl Fn(&T) -> Option<Problem>) {
        if let Some((problem, sub)) = self.pod_value(pod).as_ref().and_then(&bad) {
            cx.report(self.pod_pointer(pod, sub), format!("the pod {problem}"));
        }
        for c in pod.containers() {
            let value = c.security_context.and_then(self.container);
            if let Some((problem, sub)) = value.as_ref().and_then(&bad) {
                cx.report(
                    self.container_pointer(&c, sub),
                    format!("{} {problem}", c.label()),
                );
            }
        }
    }

    /// Admission's "required value" shape: a pod-level value that `bad` objects
    /// to is reported even when every container overrides it; a container that
    /// sets a bad value is reported; a container that sets nothing must inherit
    /// an acceptable pod-level value. `missing` completes "neither ... sets it".
    pub fn require(
        &self,
        cx: &mut Cx,
        pod: &PodView<'_>,
        missing: &str,
        bad: impl Fn(&T) -> Option<Problem>,
    ) {
        let pod_value = self.pod_value(pod);
        let pod_problem = pod_value.as_ref().map(&bad);
        if let Some(Some((problem, sub))) = &pod_problem {
            cx.report(self.pod_pointer(pod, *sub), format!("the pod {problem}"));
        }
        let pod_ok = matches!(pod_problem, Some(None));
        let mut inheriting = Vec::new();
        for c in pod.containers() {
            match c.security_context.and_then(self.container) {
                Some(v) => {
                    if let Some((problem, sub)) = bad(&v) {
                        cx.report(
                            self.container_pointer(&c, sub),
                            format!("{} {problem}", c.label()),
                        );
                    }
                }
                None if !pod_ok => inheriting.push(c),
                None => {}
            }
        }
        // Containers that inherit a bad pod-level value are covered by its report.
        if inheriting.is_empty() || pod_value.is_some() {
            return;
        }
        if inheriting.len() == pod.containers().count() {
            cx.report(
                self.pod_pointer(pod, None),
                format!("neither the pod nor any container {missing}"),
            );
        } else {
            for c in inheriting {
                cx.report(
                    self.container_pointer(&c, None),
                    format!("neither {} nor the pod {missing}", c.label()),
                );
            }
        }
    }
}

fn at(ptr: Pointer, sub: Option<&'static str>) -> Pointer {
    match sub {
        Some(k) => ptr.key(k),
        None => ptr,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_order_and_print() {
        assert_eq!(Version::parse("latest"), Ok(Version::Latest));
        assert_eq!(Version::parse("v1.30"), Ok(Version::Minor(30)));
        assert_eq!(Version::parse("v1.0"), Ok(Version::Minor(0)));
        for bad in ["", "1.30", "v1.", "v1.030", "v2.1", "v1.3x", "Latest"] {
            assert!(Version::parse(bad).is_err(), "{bad}");
        }
        assert!(Version::Latest.at_least(LATEST_MINOR));
        assert!(Version::Minor(35).at_least(35));
        assert!(!Version::Minor(34).at_least(35));
        assert_eq!(Version::Minor(9).to_string(), "v1.9");
        let p: Params = serde_json::from_value(serde_json::json!({})).unwrap();
        assert_eq!(p.version, Version::Latest);
        assert!(serde_json::from_value::<Params>(serde_json::json!({"version": "1.30"})).is_err());
    }
}
