//! Baseline: sysctls (SL1111).

use crate::resource::Workload;
use crate::rule::Cx;

use super::{Params, Version};

/// The safe sysctls, each with the policy version (v1.MINOR) that allowed it.
pub const SAFE_SYSCTLS: &[(&str, u32)] = &[
    ("kernel.shm_rmid_forced", 0),
    ("net.ipv4.ip_local_port_range", 0),
    ("net.ipv4.tcp_syncookies", 0),
    ("net.ipv4.ping_group_range", 0),
    ("net.ipv4.ip_unprivileged_port_start", 0),
    ("net.ipv4.ip_local_reserved_ports", 27),
    ("net.ipv4.tcp_keepalive_time", 29),
    ("net.ipv4.tcp_fin_timeout", 29),
    ("net.ipv4.tcp_keepalive_intvl", 29),
    ("net.ipv4.tcp_keepalive_probes", 29),
    ("net.ipv4.tcp_rmem", 32),
    ("net.ipv4.tcp_wmem", 32),
    ("net.ipv4.tcp_slow_start_after_idle", 37),
    ("net.ipv4.tcp_notsent_lowat", 37),
];

/// True when Baseline at `version` allows setting the sysctl `name` (compared exactly).
pub fn is_safe(name: &str, version: Version) -> bool {
    SAFE_SYSCTLS
        .iter()
        .any(|&(n, since)| n == name && version.at_least(since))
}

crate::declare_rule! {
    /// Pod Security Standards, Baseline, Sysctls: the pod may set only the safe, namespaced sysctls.
    ///
    /// A sysctl is safe when the kernel namespaces it per pod and it cannot affect
    /// other pods or the node. Restricted field: `spec.securityContext.sysctls[*].name`
    /// (names are compared exactly; the slash form `net/ipv4/...` is not recognised).
    /// Allowed, by the policy version that added them (`version`):
    /// - v1.0: kernel.shm_rmid_forced, net.ipv4.ip_local_port_range,
    ///   net.ipv4.tcp_syncookies, net.ipv4.ping_group_range,
    ///   net.ipv4.ip_unprivileged_port_start
    /// - v1.27: net.ipv4.ip_local_reserved_ports
    /// - v1.29: net.ipv4.tcp_keepalive_time, net.ipv4.tcp_fin_timeout,
    ///   net.ipv4.tcp_keepalive_intvl, net.ipv4.tcp_keepalive_probes
    /// - v1.32: net.ipv4.tcp_rmem, net.ipv4.tcp_wmem
    /// - v1.37: net.ipv4.tcp_slow_start_after_idle, net.ipv4.tcp_notsent_lowat
    ///
    /// Admission check `sysctls`. Off by default; the `pod-security-baseline` and
    /// `pod-security-restricted` packs enable it.
    pub static SYSCTLS = {
        code: "SL1111",
        name: "pss-sysctls",
        severity: Error,
        category: PodSecurity,
        enabled: false,
        remediation: "Remove the sysctl from `securityContext.sysctls`, or set it on the node instead.",
        params: Params,
        check: sysctls,
    }
}

fn sysctls(p: &Params, cx: &mut Cx, w: &Workload<'_>) {
    let sysctls = w
        .pod
        .spec
        .security_context
        .as_ref()
        .and_then(|s| s.sysctls.as_deref())
        .unwrap_or_default();
    for (i, s) in sysctls.iter().enumerate() {
        if !is_safe(&s.name, p.version) {
            let r = cx.report(
                w.pod
                    .at("securityContext")
                    .key("sysctls")
                    .index(i)
                    .key("name"),
                format!("the pod sets sysctl `{}`, which is not safe", s.name),
            );
            if let Some(&(_, since)) = SAFE_SYSCTLS.iter().find(|(n, _)| *n == s.name) {
                r.help(format!(
                    "`{}` is safe from v1.{since}; this rule judges the {} standard",
                    s.name, p.version
                ));
            }
        }
    }
}
