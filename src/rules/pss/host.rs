//! Baseline: HostProcess (SL1101), host namespaces (SL1102), host ports
//! (SL1106) and host probes and lifecycle hooks (SL1112).

use crate::resource::Workload;
use crate::rule::Cx;

use super::{Params, Setting, with_handlers};

crate::declare_rule! {
    /// Pod Security Standards, Baseline, HostProcess: no Windows HostProcess containers.
    ///
    /// A HostProcess container runs directly on the Windows node with the node's
    /// privileges. Restricted fields: `windowsOptions.hostProcess` in the pod's and
    /// every container's securityContext (containers, init and ephemeral containers).
    /// Allowed: unset or `false`. Admission check `windowsHostProcess`, unchanged since v1.0.
    ///
    /// Off by default; the `pod-security-baseline` and `pod-security-restricted`
    /// packs enable it.
    pub static HOST_PROCESS = {
        code: "SL1101",
        name: "pss-host-process",
        severity: Error,
        category: PodSecurity,
        enabled: false,
        remediation: "Remove `securityContext.windowsOptions.hostProcess` (or set it to false) on the pod and every container.",
        params: Params,
        check: host_process,
    }
}

fn host_process(_: &Params, cx: &mut Cx, w: &Workload<'_>) {
    Setting {
        field: "windowsOptions",
        pod: |s| s.windows_options.as_ref().and_then(|o| o.host_process),
        container: |s| s.windows_options.as_ref().and_then(|o| o.host_process),
    }
    .forbid(cx, &w.pod, |&v| {
        v.then(|| {
            (
                "runs as a Windows HostProcess (hostProcess: true)".to_string(),
                Some("hostProcess"),
            )
        })
    });
}

crate::declare_rule! {
    /// Pod Security Standards, Baseline, Host Namespaces: the pod must not share the node's namespaces.
    ///
    /// Restricted fields: `spec.hostNetwork`, `spec.hostPID`, `spec.hostIPC`.
    /// Allowed: unset or `false`. Admission check `hostNamespaces`, unchanged since v1.0.
    ///
    /// Off by default; the `pod-security-baseline` and `pod-security-restricted`
    /// packs enable it.
    pub static HOST_NAMESPACES = {
        code: "SL1102",
        name: "pss-host-namespaces",
        severity: Error,
        category: PodSecurity,
        enabled: false,
        remediation: "Remove `hostNetwork`, `hostPID` and `hostIPC` from the pod spec (or set them to false).",
        params: Params,
        check: host_namespaces,
    }
}

fn host_namespaces(_: &Params, cx: &mut Cx, w: &Workload<'_>) {
    for (field, _) in w.pod.shared_host_namespaces() {
        cx.report(
            w.pod.at(field),
            format!("the pod shares a host namespace ({field}: true)"),
        );
    }
}

crate::declare_rule! {
    /// Pod Security Standards, Baseline, Host Ports: no container may bind a host port.
    ///
    /// Restricted fields: `ports[*].hostPort` of containers, init containers and
    /// ephemeral containers. Allowed: unset or `0`. The standard permits "a known
    /// list", which Pod Security admission does not implement, and neither does
    /// this rule. Admission check `hostPorts`, unchanged since v1.0.
    ///
    /// Off by default; the `pod-security-baseline` and `pod-security-restricted`
    /// packs enable it.
    pub static HOST_PORTS = {
        code: "SL1106",
        name: "pss-host-ports",
        severity: Error,
        category: PodSecurity,
        enabled: false,
        remediation: "Remove `hostPort` from the container's ports (or set it to 0); expose the port through a Service.",
        params: Params,
        check: host_ports,
    }
}

fn host_ports(_: &Params, cx: &mut Cx, w: &Workload<'_>) {
    crate::rules::pod::report_host_ports(cx, &w.pod);
}

crate::declare_rule! {
    /// Pod Security Standards, Baseline, Host Probes / Lifecycle Hooks (v1.34+): probes and hooks must not name a host.
    ///
    /// A probe or lifecycle hook with a `host` makes the kubelet connect to any
    /// address it names, from the node's network. Restricted fields: `httpGet.host`
    /// and `tcpSocket.host` of `livenessProbe`, `readinessProbe`, `startupProbe`,
    /// `lifecycle.postStart` and `lifecycle.preStop`, on containers, init containers
    /// and ephemeral containers. Allowed: unset or `""`. Admission check
    /// `hostProbesAndHostLifecycle`, introduced at policy version v1.34: with
    /// `version` below v1.34 the rule reports nothing.
    ///
    /// Off by default; the `pod-security-baseline` and `pod-security-restricted`
    /// packs enable it.
    pub static HOST_PROBES = {
        code: "SL1112",
        name: "pss-host-probes",
        severity: Error,
        category: PodSecurity,
        enabled: false,
        remediation: "Remove `host` from the probe or lifecycle hook: the kubelet then connects to the pod's own IP.",
        params: Params,
        check: host_probes,
    }
}

fn host_probes(p: &Params, cx: &mut Cx, w: &Workload<'_>) {
    if !p.version.at_least(34) {
        return;
    }
    for (c, h) in with_handlers(&w.pod) {
        let mut handlers = Vec::new();
        for (field, probe) in h.probes {
            if let Some(probe) = probe {
                handlers.push((
                    c.pointer.key(field),
                    probe.http_get.as_ref().and_then(|a| a.host.as_deref()),
                    probe.tcp_socket.as_ref().and_then(|a| a.host.as_deref()),
                ));
            }
        }
        if let Some(lc) = h.lifecycle {
            for (field, hook) in [("postStart", &lc.post_start), ("preStop", &lc.pre_stop)] {
                if let Some(hook) = hook {
                    handlers.push((
                        c.pointer.key("lifecycle").key(field),
                        hook.http_get.as_ref().and_then(|a| a.host.as_deref()),
                        hook.tcp_socket.as_ref().and_then(|a| a.host.as_deref()),
                    ));
                }
            }
        }
        for (ptr, http_host, tcp_host) in handlers {
            for (action, host) in [("httpGet", http_host), ("tcpSocket", tcp_host)] {
                if let Some(host) = host.filter(|h| !h.is_empty()) {
                    let what = ptr.tokens().last().unwrap_or_default();
                    cx.report(
                        ptr.key(action).key("host"),
                        format!("{} sends its {what} {action} to host `{host}`", c.label()),
                    );
                }
            }
        }
    }
}
