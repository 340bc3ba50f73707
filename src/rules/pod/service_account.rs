//! SL1012: no service account token in the pod.

use crate::resource::Workload;
use crate::rule::{Cx, NoParams};

crate::declare_rule! {
    /// The pod must set `automountServiceAccountToken: false`.
    ///
    /// A mounted token lets untrusted code call the Kubernetes API as the pod's
    /// ServiceAccount. Runners need no API access, so the pod must opt out itself:
        /// the ServiceAccount's own setting can be changed by someone else later. A
    /// projected `serviceAccountToken` volume mounts a token regardless, and is
    /// reported too.
    pub static AUTOMOUNT_SERVICE_ACCOUNT_TOKEN = {
        code: "SL1012",
        name: "automount-service-account-token",
        severity: Error,
        category: PodSecurity,
        remediation: "Set `automountServiceAccountToken: false` in the pod spec.",
        params: NoParams,
        check: check,
    }
}

fn check(_: &NoParams, cx: &mut Cx, w: &Workload<'_>) {
    for (i, v) in w.pod.spec.volumes.iter().flatten().enumerate() {
        let sources = super::projected_sources(v);
        for (j, src) in sources.iter().enumerate() {
            if src.service_account_token.is_some() {
                cx.report(
                    w.pod
                        .at("volumes")
                        .index(i)
                        .key("projected")
                        .key("sources")
                        .index(j)
                        .key("serviceAccountToken"),
                    format!(
                        "projected volume \"{}\" mounts a service account token",
                        v.name
                    ),
                );
            }
        }
    }
    let ptr = w.pod.at("automountServiceAccountToken");
    match w.pod.spec.automount_service_account_token {
        Some(false) => {}
        Some(true) => {
            cx.report(ptr, "the pod mounts a service account token");
        }
        None => {
            cx.report(
                ptr,
                "the pod does not set automountServiceAccountToken: false (a token is mounted unless its ServiceAccount opts out)",
            );
        }
    }
}
