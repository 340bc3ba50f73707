//! SL1013-SL1014: host namespaces and host ports.

use crate::resource::Workload;
use crate::rule::{Cx, NoParams};

crate::declare_rule! {
    /// The pod must not share the host's network, PID or IPC namespace.
    ///
    /// `hostNetwork` puts the sandbox on the node's network (metadata endpoint and
    /// kubelet included, past every NetworkPolicy); `hostPID` and `hostIPC` expose
    /// the node's processes and shared memory.
    pub static HOST_NAMESPACES = {
        code: "SL1013",
        name: "host-namespaces",
        severity: Error,
        category: PodSecurity,
        remediation: "Remove `hostNetwork`, `hostPID` and `hostIPC` from the pod spec (or set them to false).",
        params: NoParams,
        check: host_namespaces,
    }
}

fn host_namespaces(_: &NoParams, cx: &mut Cx, w: &Workload<'_>) {
    for (field, what) in w.pod.shared_host_namespaces() {
        cx.report(
            w.pod.at(field),
            format!("the pod shares {what} ({field}: true)"),
        );
    }
}

crate::declare_rule! {
    /// No container may bind a host port.
    ///
    /// A `hostPort` opens a port on the node itself, reachable from outside the
    /// cluster's NetworkPolicies, and pins the pod to nodes where it is free.
    pub static HOST_PORT = {
        code: "SL1014",
        name: "host-port",
        severity: Error,
        category: PodSecurity,
        remediation: "Remove `hostPort` from the container's ports.",
        params: NoParams,
        check: host_port,
    }
}

fn host_port(_: &NoParams, cx: &mut Cx, w: &Workload<'_>) {
    super::report_host_ports(cx, &w.pod);
}
