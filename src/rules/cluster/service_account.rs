//! SL3006: the pod's ServiceAccount exists.

use crate::resource::Workload;
use crate::rule::{Cx, NoParams};

crate::declare_rule! {
    /// The pod's ServiceAccount must exist among the inputs (or `--context`).
    ///
    /// A pod that names a ServiceAccount that does not exist is refused by the
    /// API server; one whose ServiceAccount is defined elsewhere cannot be judged
    /// for token mounting and RBAC grants. The `default` ServiceAccount exists in
    /// every namespace and is not reported.
    pub static SERVICE_ACCOUNT_EXISTS = {
        code: "SL3006",
        name: "service-account-exists",
        severity: Error,
        category: Network,
        remediation: "Define the ServiceAccount next to the pod (with `automountServiceAccountToken: false`), or pass its manifest with --context.",
        params: NoParams,
        check: check,
    }
}

fn check(_: &NoParams, cx: &mut Cx, w: &Workload<'_>) {
    let (field, name) = w.pod.service_account_field();
    if name == "default" {
        return;
    }
    let namespace = cx.namespace_of(w.resource).to_string();
    let cluster = cx.known();
    if cluster
        .service_accounts
        .contains_key(&(namespace.clone(), name.to_string()))
    {
        return;
    }
    if cluster.live {
        cx.report(
            w.pod.at(field),
            format!("ServiceAccount {namespace}/{name} does not exist in the cluster"),
        );
        return;
    }
    cx.report(
        w.pod.at(field),
        format!("cannot verify ServiceAccount {namespace}/{name}: it is not among the inputs"),
    )
    .unverified();
}
