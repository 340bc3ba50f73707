//! SL1012: no service account token in the pod.

use crate::resource::Workload;
use crate::rule::{Cx, NoParams};

crate::declare_rule! {
    /// No service account token may be mounted into the pod.
    ///
    /// A mounted token lets untrusted code call the Kubernetes API as the pod's
    /// ServiceAccount, and runners need no API access. Kubernetes mounts the token
    /// unless the pod sets `automountServiceAccountToken: false`, or leaves it
    /// unset and its ServiceAccount sets `false`; a pod's `true` overrides the
    /// ServiceAccount. The ServiceAccount (`default` when the pod names none) is
    /// looked up among the inputs and `--context`: when it is not there and the
    /// pod does not decide, the finding says "cannot verify". Setting the field on
    /// the pod is the robust fix: the ServiceAccount can be changed by someone else
    /// later. A projected `serviceAccountToken` volume mounts a token regardless,
    /// and is reported too.
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
            let sa = w.pod.service_account();
            let namespace = cx.namespace_of(w.resource).to_string();
            let facts = cx
                .known()
                .service_accounts
                .get(&(namespace.clone(), sa.to_string()));
            match facts {
                Some(f) if f.automount == Some(false) => {}
                Some(f) => {
                    let setting = match f.automount {
                        Some(_) => "sets automountServiceAccountToken: true",
                        None => "does not set automountServiceAccountToken: false",
                    };
                    cx.report(
                        ptr,
                        format!(
                            "the pod does not set automountServiceAccountToken and its ServiceAccount {namespace}/{sa} {setting}: a token is mounted"
                        ),
                    )
                    .related(f.at.clone(), format!("ServiceAccount {namespace}/{sa}"));
                }
                None => {
                    cx.report(
                        ptr,
                        format!(
                            "cannot verify that no token is mounted: the pod does not set automountServiceAccountToken: false and its ServiceAccount {namespace}/{sa} is not among the inputs"
                        ),
                    )
                    .unverified();
                }
            }
        }
    }
}
