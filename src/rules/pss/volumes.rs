//! Baseline HostPath volumes (SL1105) and Restricted volume types (SL1113).

use k8s_openapi::api::core::v1::Volume;

use crate::resource::Workload;
use crate::rule::Cx;

use super::Params;

crate::declare_rule! {
    /// Pod Security Standards, Baseline, HostPath Volumes: no hostPath volumes.
    ///
    /// Restricted field: `spec.volumes[*].hostPath`. Allowed: unset. Admission check
    /// `hostPathVolumes`, unchanged since v1.0. In Restricted, `pss-volume-types`
    /// replaces this check (and forbids hostPath too).
    ///
    /// Off by default; the `pod-security-baseline` pack enables it.
    pub static HOST_PATH_VOLUMES = {
        code: "SL1105",
        name: "pss-host-path-volumes",
        severity: Error,
        category: PodSecurity,
        enabled: false,
        remediation: "Replace the hostPath volume with an emptyDir, a ConfigMap or a PersistentVolumeClaim.",
        params: Params,
        check: host_path,
    }
}

fn host_path(_: &Params, cx: &mut Cx, w: &Workload<'_>) {
    crate::rules::pod::report_host_paths(cx, &w.pod);
}

/// The volume sources Restricted allows.
pub const ALLOWED_VOLUME_TYPES: &[&str] = &[
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "image",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

/// The sources set on a volume, by field name, allowed ones first (the order
/// admission tests them in).
pub(crate) fn sources(v: &Volume) -> Vec<&'static str> {
    let all = [
        ("configMap", v.config_map.is_some()),
        ("csi", v.csi.is_some()),
        ("downwardAPI", v.downward_api.is_some()),
        ("emptyDir", v.empty_dir.is_some()),
        ("ephemeral", v.ephemeral.is_some()),
        ("image", v.image.is_some()),
        ("persistentVolumeClaim", v.persistent_volume_claim.is_some()),
        ("projected", v.projected.is_some()),
        ("secret", v.secret.is_some()),
        ("hostPath", v.host_path.is_some()),
        ("gcePersistentDisk", v.gce_persistent_disk.is_some()),
        ("awsElasticBlockStore", v.aws_elastic_block_store.is_some()),
        ("gitRepo", v.git_repo.is_some()),
        ("nfs", v.nfs.is_some()),
        ("iscsi", v.iscsi.is_some()),
        ("glusterfs", v.glusterfs.is_some()),
        ("rbd", v.rbd.is_some()),
        ("flexVolume", v.flex_volume.is_some()),
        ("cinder", v.cinder.is_some()),
        ("cephfs", v.cephfs.is_some()),
        ("flocker", v.flocker.is_some()),
        ("fc", v.fc.is_some()),
        ("azureFile", v.azure_file.is_some()),
        ("vsphereVolume", v.vsphere_volume.is_some()),
        ("quobyte", v.quobyte.is_some()),
        ("azureDisk", v.azure_disk.is_some()),
        ("photonPersistentDisk", v.photon_persistent_disk.is_some()),
        ("portworxVolume", v.portworx_volume.is_some()),
        ("scaleIO", v.scale_io.is_some()),
        ("storageos", v.storageos.is_some()),
    ];
    all.into_iter()
        .filter_map(|(name, set)| set.then_some(name))
        .collect()
}

crate::declare_rule! {
    /// Pod Security Standards, Restricted, Volume Types: volumes use only configMap, csi, downwardAPI, emptyDir, ephemeral, image, persistentVolumeClaim, projected or secret.
    ///
    /// Other inline volume sources (hostPath, nfs, gitRepo, cloud disks, ...) reach
    /// storage outside the cluster's PersistentVolume controls. Restricted field:
    /// `spec.volumes[*]`. As admission does, a volume passes when any allowed source
    /// is set, and a volume that names no source passes (the API server defaults it
    /// to `emptyDir: {}` before admission sees it). `image` volumes have been allowed
    /// since Kubernetes v1.33, at every policy version (admission changed its v1.0
    /// check in place). Admission check `restrictedVolumes`, which replaces the
    /// Baseline hostPath check in Restricted.
    ///
    /// Off by default; the `pod-security-restricted` pack enables it.
    pub static VOLUME_TYPES = {
        code: "SL1113",
        name: "pss-volume-types",
        severity: Error,
        category: PodSecurity,
        enabled: false,
        remediation: "Use an allowed volume source; for other storage, define a PersistentVolume and mount it through a persistentVolumeClaim.",
        params: Params,
        check: volume_types,
    }
}

fn volume_types(_: &Params, cx: &mut Cx, w: &Workload<'_>) {
    for (i, v) in w.pod.volumes().iter().enumerate() {
        let set = sources(v);
        if set.iter().any(|s| ALLOWED_VOLUME_TYPES.contains(s)) {
            continue;
        }
        if let Some(first) = set.first() {
            cx.report(
                w.pod.at("volumes").index(i).key(first),
                format!(
                    "volume \"{}\" uses the restricted volume type {first}",
                    v.name
                ),
            );
        }
    }
}
