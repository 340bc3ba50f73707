//! SL1015-SL1018, SL1023 and SL1026: volumes and where a container can write.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use k8s_openapi::api::core::v1::Volume;

use crate::quantity::Quantity;
use crate::resource::{Object, Workload};
use crate::rule::{Cx, NoParams};

crate::declare_rule! {
    /// The pod must not mount hostPath volumes.
    ///
    /// A hostPath volume hands the sandbox a directory of the node: the container
    /// runtime socket, kubelet credentials or other pods' data are one path away.
    pub static HOST_PATH = {
        code: "SL1015",
        name: "host-path",
        severity: Error,
        category: PodSecurity,
        remediation: "Replace the hostPath volume with an emptyDir (with a sizeLimit) or a ConfigMap.",
        params: NoParams,
        check: host_path,
    }
}

fn host_path(_: &NoParams, cx: &mut Cx, w: &Workload<'_>) {
    crate::rules::pod::report_host_paths(cx, &w.pod);
}

/// Parameters of `empty-dir-size-limit`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct SizeParams {
    /// Largest allowed `sizeLimit` of an emptyDir (memory-backed ones included).
    pub max_size: Quantity,
}

impl Default for SizeParams {
    fn default() -> Self {
        Self {
            max_size: Quantity::parse("10Gi").unwrap_or_else(|_| unreachable!()),
        }
    }
}

crate::declare_rule! {
    /// Every emptyDir must have a `sizeLimit`, at most a maximum (default 10Gi).
    ///
    /// Without a limit, untrusted code can fill the node's disk (or, with
    /// `medium: Memory`, its RAM) and starve every other pod on it. The kubelet
    /// evicts a pod that exceeds its emptyDir's sizeLimit.
    pub static EMPTY_DIR_SIZE_LIMIT = {
        code: "SL1016",
        name: "empty-dir-size-limit",
        severity: Error,
        category: PodSecurity,
        remediation: "Set `emptyDir.sizeLimit` (e.g. 10Gi for /workspace, 1Gi for /tmp) on every emptyDir volume.",
        params: SizeParams,
        check: empty_dir,
    }
}

/// True for a volume that names no source: the API server defaults it to `emptyDir: {}`.
fn defaults_to_empty_dir(v: &Volume) -> bool {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::Object(m)) => m.keys().all(|k| k == "name"),
        _ => false,
    }
}

fn empty_dir(p: &SizeParams, cx: &mut Cx, w: &Workload<'_>) {
    for (i, v) in w.pod.volumes().iter().enumerate() {
        let vol_ptr = w.pod.at("volumes").index(i);
        let Some(ed) = &v.empty_dir else {
            if defaults_to_empty_dir(v) {
                cx.report(
                    vol_ptr.key("emptyDir"),
                    format!(
                        "volume \"{}\" names no source, so the API server makes it an emptyDir without a sizeLimit",
                        v.name
                    ),
                );
            }
            continue;
        };
        let ptr = vol_ptr.key("emptyDir").key("sizeLimit");
        let medium = if ed.medium.as_deref() == Some("Memory") {
            " (memory-backed)"
        } else {
            ""
        };
        let name = &v.name;
        match &ed.size_limit {
            None => {
                cx.report(
                    ptr,
                    format!("emptyDir volume \"{name}\"{medium} has no sizeLimit"),
                );
            }
            Some(q) => match Quantity::parse(&q.0) {
                Err(e) => {
                    cx.report(ptr, format!("emptyDir volume \"{name}\" sizeLimit: {e}"));
                }
                Ok(size) if !size.is_positive() => {
                    cx.report(
                        ptr,
                        format!("emptyDir volume \"{name}\"{medium} sizeLimit {size} is no limit (the kubelet only enforces positive limits)"),
                    );
                }
                Ok(size) if size > p.max_size => {
                    cx.report(
                        ptr,
                        format!(
                            "emptyDir volume \"{name}\"{medium} sizeLimit {size} exceeds the maximum {}",
                            p.max_size
                        ),
                    );
                }
                Ok(_) => {}
            },
        }
    }
}

/// Parameters of `writable-mount-path`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct PathParams {
    /// Paths (and everything below them) where a writable volume may be mounted.
    pub allowed_paths: Vec<String>,
}

impl Default for PathParams {
    fn default() -> Self {
        Self {
            allowed_paths: vec!["/workspace".into(), "/tmp".into()],
        }
    }
}

crate::declare_rule! {
    /// Writable volumes may be mounted only at allowed paths (default /workspace and /tmp).
    ///
    /// The checklist keeps everything read-only except the workspace and a scratch
    /// directory. A writable mount elsewhere (over `/opt/runner`, `/usr/lib`, ...)
    /// undoes the read-only root filesystem for that path. ConfigMap, Secret,
    /// downwardAPI, projected and image volumes are always mounted read-only and
    /// are not counted; any other mount counts unless it sets `readOnly: true`.
    pub static WRITABLE_MOUNT_PATH = {
        code: "SL1017",
        name: "writable-mount-path",
        severity: Error,
        category: PodSecurity,
        remediation: "Mount the volume with `readOnly: true`, or move it under an allowed path such as /workspace or /tmp.",
        params: PathParams,
        check: writable_mounts,
    }
}

/// Volume sources that the kubelet always mounts read-only.
fn always_read_only(v: &Volume) -> bool {
    v.config_map.is_some()
        || v.secret.is_some()
        || v.downward_api.is_some()
        || v.projected.is_some()
        || v.image.is_some()
}

/// The path with `.`, `..` and repeated slashes resolved, as the mount lands.
fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    format!("/{}", parts.join("/"))
}

fn under(path: &str, root: &str) -> bool {
    let root = normalize(root);
    let path = normalize(path);
    root == "/"
        || path == root
        || path
            .strip_prefix(&root)
            .is_some_and(|rest| rest.starts_with('/'))
}

fn writable_mounts(p: &PathParams, cx: &mut Cx, w: &Workload<'_>) {
    let vols = w.pod.volumes_by_name();
    for c in w.pod.containers() {
        for (i, m) in c.volume_mounts.iter().enumerate() {
            if m.read_only == Some(true) {
                continue;
            }
            let vol = vols.get(m.name.as_str()).and_then(|v| v.first().copied());
            if vol.is_some_and(always_read_only) {
                continue;
            }
            if p.allowed_paths.iter().any(|a| under(&m.mount_path, a)) {
                continue;
            }
            cx.report(
                c.pointer.key("volumeMounts").index(i).key("mountPath"),
                format!(
                    "{} mounts volume \"{}\" writable at {} (writable paths: {})",
                    c.label(),
                    m.name,
                    m.mount_path,
                    p.allowed_paths.join(", ")
                ),
            );
        }
    }
}

crate::declare_rule! {
    /// Secrets should reach the runner as environment variables, not as secret volumes.
    ///
    /// This follows the seeds' checklist ("Secrets are mounted as environment
    /// variables (not files)"): the runner reads its API key at start-up, and a
    /// secret volume stays readable by the untrusted code for the whole run, at a
    /// well-known path, and is refreshed when the Secret changes.
    ///
    /// Kubernetes hardening guides recommend the opposite (files over environment
    /// variables, since environment variables leak into child processes, crash
    /// dumps and `/proc/<pid>/environ`). Both expose the secret to code running as
    /// the same user; choose per deployment and switch this rule off in the policy
    /// if files suit you better.
    pub static SECRET_VOLUME = {
        code: "SL1018",
        name: "secret-volume",
        severity: Warning,
        category: PodSecurity,
        remediation: "Pass the secret with `env[].valueFrom.secretKeyRef` instead of a secret volume, or disable this rule in the policy.",
        params: NoParams,
        check: secret_volumes,
    }
}

fn secret_volumes(_: &NoParams, cx: &mut Cx, w: &Workload<'_>) {
    for (i, v) in w.pod.volumes().iter().enumerate() {
        let ptr = w.pod.at("volumes").index(i);
        if let Some(s) = &v.secret {
            let name = s.secret_name.as_deref().unwrap_or("?");
            cx.report(
                ptr.key("secret"),
                format!("volume \"{}\" mounts Secret {name} as files", v.name),
            );
        }
        let sources = super::projected_sources(v);
        for (j, src) in sources.iter().enumerate() {
            if let Some(s) = &src.secret {
                cx.report(
                    ptr.key("projected").key("sources").index(j).key("secret"),
                    format!(
                        "projected volume \"{}\" mounts Secret {} as files",
                        v.name, s.name
                    ),
                );
            }
        }
    }
}

/// Parameters of `volume-source`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct SourceParams {
    /// Volume sources a runner may use, by their field name in the Volume
    /// (`emptyDir`, `configMap`, `persistentVolumeClaim`, `csi`, `nfs`, ...).
    /// `hostPath` is judged by `host-path` only.
    pub allowed: Vec<String>,
}

impl Default for SourceParams {
    fn default() -> Self {
        Self {
            allowed: [
                "emptyDir",
                "configMap",
                "secret",
                "downwardAPI",
                "projected",
                "image",
                "persistentVolumeClaim",
                "ephemeral",
            ]
            .map(String::from)
            .to_vec(),
        }
    }
}

crate::declare_rule! {
    /// Volumes may use only allowed sources (default: emptyDir, configMap, secret, downwardAPI, projected, image, persistentVolumeClaim, ephemeral).
    ///
    /// The kubelet, not the sandbox, mounts a volume, so a network filesystem
    /// (nfs, iscsi, cephfs, glusterfs, ...) is reached from the node whatever the
    /// runner's NetworkPolicy allows: a way in and out around the egress rules.
    /// `gitRepo` runs git on the node with arguments from the pod (CVE-2024-10220),
    /// `flexVolume` runs a node binary, and inline cloud disks bypass the
    /// PersistentVolume controls. Inline `csi` volumes are driver-specific and
    /// not allowed unless the policy names them. A volume that names no source
    /// becomes an emptyDir (judged by `empty-dir-size-limit`); hostPath volumes
    /// are `host-path`'s.
    pub static VOLUME_SOURCE = {
        code: "SL1023",
        name: "volume-source",
        severity: Error,
        category: PodSecurity,
        remediation: "Use an emptyDir for scratch space, a ConfigMap or Secret for inputs, or a persistentVolumeClaim for storage the cluster administers; or add the source to the rule's `allowed` list.",
        params: SourceParams,
        check: volume_sources,
    }
}

fn volume_sources(p: &SourceParams, cx: &mut Cx, w: &Workload<'_>) {
    for (i, v) in w.pod.volumes().iter().enumerate() {
        for source in crate::rules::pss::volumes::sources(v) {
            if source == "hostPath" || p.allowed.iter().any(|a| a == source) {
                continue;
            }
            cx.report(
                w.pod.at("volumes").index(i).key(source),
                format!(
                    "volume \"{}\" is a {source} volume (allowed: {})",
                    v.name,
                    p.allowed.join(", ")
                ),
            );
        }
    }
}

crate::declare_rule! {
    /// Writable volumes must be emptyDirs (whose size `empty-dir-size-limit` bounds).
    ///
    /// The checklist: "Writable volumes use emptyDir with size limits". An
    /// emptyDir dies with the pod and its sizeLimit is enforced by the kubelet;
    /// a persistentVolumeClaim, a generic `ephemeral` volume (500Gi), a
    /// StatefulSet's `volumeClaimTemplates` claim, a `csi` or network volume
    /// mounted without `readOnly: true` lets untrusted code fill storage no
    /// sandbox limit bounds, and, for storage that outlives the pod, leave files
    /// for the next run or the next reader. Reported per mount:
    ///
    /// - a volumeMount without `readOnly: true` (absent or false) of any volume
    ///   that is not an emptyDir (a volume naming no source is one) and not
    ///   mounted read-only by the kubelet whatever the mount says (configMap,
    ///   secret, downwardAPI, projected, image). `persistentVolumeClaim.readOnly:
    ///   true` alone is not enough: it asks the storage driver, while the mount's
    ///   `readOnly` is applied by the kubelet itself; `recursiveReadOnly` does
    ///   nothing without `readOnly: true`. A subPath or subPathExpr mount is
    ///   judged as its volume (a subPath of a claim is writable claim storage).
    /// - a writable mount of a volume the pod does not define (cannot be judged).
    /// - every `volumeDevices` entry: a raw block device is writable and no
    ///   filesystem limit applies.
    /// - `mountPropagation` other than `None`: HostToContainer lets the node's
    ///   later mounts appear in the sandbox, Bidirectional lets the sandbox's
    ///   mounts reach the node.
    /// - a `recursiveReadOnly` other than Disabled, IfPossible or Enabled.
    ///
    /// Allowed: read-only mounts of claims, ephemeral and csi volumes, and mounts
    /// of configMap, secret, downwardAPI, projected and image volumes. hostPath
    /// volumes are `host-path`'s error in any case and not reported again here;
    /// sources that `volume-source` rejects (nfs, csi, ...) are reported here
    /// too when mounted writable, since that rule's list is a parameter and a
    /// policy that admits a source must still not get it writable (the two
    /// findings are on different fields: the volume's source and the mount).
    pub static WRITABLE_VOLUME_EMPTY_DIR = {
        code: "SL1026",
        name: "writable-volume-empty-dir",
        severity: Error,
        category: PodSecurity,
        remediation: "Mount the volume with `readOnly: true`, or replace it with an emptyDir that has a sizeLimit (scratch space for /workspace or /tmp).",
        params: NoParams,
        check: writable_volumes,
    }
}

/// Sources the kubelet mounts read-only whatever the volumeMount says.
const READ_ONLY_SOURCES: &[&str] = &["configMap", "secret", "downwardAPI", "projected", "image"];

/// How a volume may be mounted writable: fine (an emptyDir), read-only anyway,
/// hostPath (another rule's), or a description of a writable non-emptyDir.
enum VolumeKind {
    EmptyDir,
    ReadOnly,
    HostPath,
    Writable(String),
}

fn kind_of(v: &Volume) -> VolumeKind {
    let sources = crate::rules::pss::volumes::sources(v);
    if sources.is_empty() || sources == ["emptyDir"] {
        return VolumeKind::EmptyDir;
    }
    if sources.iter().all(|s| READ_ONLY_SOURCES.contains(s)) {
        return VolumeKind::ReadOnly;
    }
    if sources.contains(&"hostPath") {
        return VolumeKind::HostPath;
    }
    let mut what = format!("{} volume \"{}\"", sources.join("+"), v.name);
    if v.persistent_volume_claim
        .as_ref()
        .is_some_and(|c| c.read_only == Some(true))
    {
        what.push_str(" (persistentVolumeClaim.readOnly leaves it to the storage driver)");
    }
    VolumeKind::Writable(what)
}

fn writable_volumes(_: &NoParams, cx: &mut Cx, w: &Workload<'_>) {
    let vols = w.pod.volumes_by_name();
    // A StatefulSet's claim templates become volumes of the same name, in
    // place of any pod volume so named.
    let claims: std::collections::HashSet<&str> = match &w.resource.object {
        Object::StatefulSet(s) => s
            .spec
            .volume_claim_templates
            .iter()
            .flatten()
            .filter_map(|t| t.metadata.name.as_deref())
            .collect(),
        _ => Default::default(),
    };
    for c in w.pod.containers() {
        for (i, m) in c.volume_mounts.iter().enumerate() {
            let ptr = c.pointer.key("volumeMounts").index(i);
            if let Some(p) = m.mount_propagation.as_deref().filter(|p| *p != "None") {
                cx.report(
                    ptr.key("mountPropagation"),
                    format!(
                        "{} mounts volume \"{}\" with mountPropagation: {p}: mounts cross between the node and the sandbox",
                        c.label(),
                        m.name
                    ),
                );
            }
            if let Some(r) = m
                .recursive_read_only
                .as_deref()
                .filter(|r| !["Disabled", "IfPossible", "Enabled"].contains(r))
            {
                cx.report(
                    ptr.key("recursiveReadOnly"),
                    format!(
                        "{} mounts volume \"{}\" with recursiveReadOnly: {r}, not Disabled, IfPossible or Enabled",
                        c.label(),
                        m.name
                    ),
                );
            }
            if m.read_only == Some(true) {
                continue;
            }
            let kinds: Vec<VolumeKind> = if claims.contains(&m.name.as_str()) {
                vec![VolumeKind::Writable(format!(
                    "the volumeClaimTemplates claim \"{}\"",
                    m.name
                ))]
            } else {
                vols.get(m.name.as_str())
                    .into_iter()
                    .flatten()
                    .map(|v| kind_of(v))
                    .collect()
            };
            let what = if kinds.is_empty() {
                Some(format!(
                    "volume \"{}\", which the pod does not define (it cannot be judged),",
                    m.name
                ))
            } else {
                kinds.into_iter().find_map(|k| match k {
                    VolumeKind::Writable(what) => Some(what),
                    _ => None,
                })
            };
            let Some(what) = what else { continue };
            let rro = if m.recursive_read_only.is_some() {
                "; recursiveReadOnly does not apply without readOnly: true"
            } else {
                ""
            };
            cx.report(
                ptr.key("readOnly"),
                format!(
                    "{} mounts {what} writable at {}: only emptyDirs with a sizeLimit may be writable{rro}",
                    c.label(),
                    m.mount_path
                ),
            );
        }
        for (i, d) in c.volume_devices.iter().enumerate() {
            cx.report(
                c.pointer.key("volumeDevices").index(i),
                format!(
                    "{} attaches volume \"{}\" as a raw block device at {}: writable, and no emptyDir limit applies",
                    c.label(),
                    d.name,
                    d.device_path
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::under;

    #[test]
    fn under_respects_path_components() {
        assert!(under("/workspace", "/workspace"));
        assert!(under("/workspace/cache", "/workspace/"));
        assert!(under("/tmp/", "/tmp"));
        assert!(!under("/workspace2", "/workspace"));
        assert!(!under("/", "/tmp"));
        assert!(!under("/workspace/../etc", "/workspace"));
        assert!(under("/tmp/./x//y", "/tmp"));
    }
}
