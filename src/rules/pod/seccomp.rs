//! SL1011: a seccomp profile.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::resource::Workload;
use crate::rule::Cx;

use super::Inherited;

/// Parameters of `seccomp-profile`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Params {
    /// Accepted `seccompProfile.type` values.
    pub allowed_types: Vec<String>,
}

impl Default for Params {
    fn default() -> Self {
        Self {
            allowed_types: vec!["RuntimeDefault".into(), "Localhost".into()],
        }
    }
}

crate::declare_rule! {
    /// Every container must run with a seccomp profile of an allowed type (RuntimeDefault or Localhost).
    ///
    /// gVisor intercepts syscalls itself, but the seccomp profile still filters what
    /// reaches the sandbox and is the control that remains if the pod is scheduled
    /// with a different runtime. `Unconfined`, or no profile at all, turns it off.
    pub static SECCOMP_PROFILE = {
        code: "SL1011",
        name: "seccomp-profile",
        severity: Error,
        category: PodSecurity,
        remediation: "Set `securityContext.seccompProfile: {type: RuntimeDefault}` in the pod spec.",
        params: Params,
        check: check,
    }
}

fn check(p: &Params, cx: &mut Cx, w: &Workload<'_>) {
    Inherited {
        field: "seccompProfile",
        pod: |s| s.seccomp_profile.clone(),
        container: |s| s.seccomp_profile.clone(),
    }
    .check_at(cx, &w.pod, |v| match v {
        None => Some(("has no seccomp profile".into(), None)),
        Some(prof) if !p.allowed_types.contains(&prof.type_) => Some((
            format!(
                "uses seccomp profile type `{}` (allowed: {})",
                prof.type_,
                p.allowed_types.join(", ")
            ),
            Some("type"),
        )),
        Some(prof) if prof.type_ == "Localhost" && prof.localhost_profile.is_none() => Some((
            "uses a Localhost seccomp profile without localhostProfile".into(),
            Some("localhostProfile"),
        )),
        Some(_) => None,
    });
}
