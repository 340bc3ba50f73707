//! Baseline mandatory access control: AppArmor (SL1107) and SELinux (SL1108).

use crate::resource::Workload;
use crate::rule::Cx;

use super::{Params, Setting, metadata_pointer};

/// Prefix of the deprecated per-container AppArmor annotations.
pub const APPARMOR_ANNOTATION_PREFIX: &str = "container.apparmor.security.beta.kubernetes.io/";

crate::declare_rule! {
    /// Pod Security Standards, Baseline, AppArmor: the default AppArmor profile must not be disabled.
    ///
    /// Restricted fields: `securityContext.appArmorProfile.type` of the pod,
    /// containers, init containers and ephemeral containers (allowed: unset,
    /// `RuntimeDefault`, `Localhost`), and the deprecated annotations
    /// `container.apparmor.security.beta.kubernetes.io/*` on the pod (or pod
    /// template) metadata (allowed: unset, `""`, `runtime/default`, `localhost/*`).
    /// Admission still judges the annotations, so `unconfined` there is rejected.
    /// Admission check `appArmorProfile`; its field part was added to the v1.0 check
    /// in Kubernetes v1.30, so it applies at every policy version.
    ///
    /// Off by default; the `pod-security-baseline` and `pod-security-restricted`
    /// packs enable it.
    pub static APPARMOR = {
        code: "SL1107",
        name: "pss-apparmor",
        severity: Error,
        category: PodSecurity,
        enabled: false,
        remediation: "Use `appArmorProfile: {type: RuntimeDefault}` (or a Localhost profile), or remove the setting.",
        params: Params,
        check: apparmor,
    }
}

fn apparmor(_: &Params, cx: &mut Cx, w: &Workload<'_>) {
    Setting {
        field: "appArmorProfile",
        pod: |s| s.app_armor_profile.clone(),
        container: |s| s.app_armor_profile.clone(),
    }
    .forbid(cx, &w.pod, |p| {
        (!matches!(p.type_.as_str(), "RuntimeDefault" | "Localhost")).then(|| {
            (
                format!("sets AppArmor profile type `{}`", p.type_),
                Some("type"),
            )
        })
    });
    let annotations = w.pod.metadata.and_then(|m| m.annotations.as_ref());
    for (key, value) in annotations.into_iter().flatten() {
        if !key.starts_with(APPARMOR_ANNOTATION_PREFIX) {
            continue;
        }
        let allowed =
            value.is_empty() || value == "runtime/default" || value.starts_with("localhost/");
        if !allowed {
            cx.report(
                metadata_pointer(&w.pod).key("annotations").key(key),
                format!("annotation {key} sets AppArmor profile `{value}`"),
            );
        }
    }
}

/// SELinux types Baseline allows at `version` (the empty type is always allowed).
fn selinux_type_allowed(t: &str, p: &Params) -> bool {
    matches!(
        t,
        "" | "container_t" | "container_init_t" | "container_kvm_t"
    ) || (p.version.at_least(31) && t == "container_engine_t")
}

crate::declare_rule! {
    /// Pod Security Standards, Baseline, SELinux: no custom SELinux user or role, and only the container types.
    ///
    /// Restricted fields: `securityContext.seLinuxOptions` of the pod, containers,
    /// init containers and ephemeral containers. `type` must be unset, `""`,
    /// `container_t`, `container_init_t`, `container_kvm_t` or (from v1.31)
    /// `container_engine_t`; `user` and `role` must be unset or `""`; `level` is free.
    /// Admission check `seLinuxOptions` (v1.0, v1.31): with `version` below v1.31,
    /// `container_engine_t` is refused.
    ///
    /// Off by default; the `pod-security-baseline` and `pod-security-restricted`
    /// packs enable it.
    pub static SELINUX = {
        code: "SL1108",
        name: "pss-selinux",
        severity: Error,
        category: PodSecurity,
        enabled: false,
        remediation: "Remove `seLinuxOptions.user` and `.role`, and use a container type (container_t) or none.",
        params: Params,
        check: selinux,
    }
}

fn selinux(p: &Params, cx: &mut Cx, w: &Workload<'_>) {
    let setting = Setting {
        field: "seLinuxOptions",
        pod: |s| s.se_linux_options.clone(),
        container: |s| s.se_linux_options.clone(),
    };
    // One report per offending sub-field.
    setting.forbid(cx, &w.pod, |o| {
        let t = o.type_.as_deref().unwrap_or_default();
        (!selinux_type_allowed(t, p)).then(|| (format!("sets SELinux type `{t}`"), Some("type")))
    });
    setting.forbid(cx, &w.pod, |o| {
        let u = o.user.as_deref().unwrap_or_default();
        (!u.is_empty()).then(|| (format!("sets SELinux user `{u}`"), Some("user")))
    });
    setting.forbid(cx, &w.pod, |o| {
        let r = o.role.as_deref().unwrap_or_default();
        (!r.is_empty()).then(|| (format!("sets SELinux role `{r}`"), Some("role")))
    });
}
