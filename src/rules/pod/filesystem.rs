//! SL1010: read-only root filesystem.

use crate::resource::Workload;
use crate::rule::{Cx, NoParams};

use super::each_container;

crate::declare_rule! {
    /// Every container must set `readOnlyRootFilesystem: true`.
    ///
    /// A read-only root means untrusted code cannot replace the runner, its
    /// interpreter or its libraries, and can only write to the size-limited volumes
    /// mounted for it (`/workspace`, `/tmp`).
    pub static READ_ONLY_ROOT_FILESYSTEM = {
        code: "SL1010",
        name: "read-only-root-filesystem",
        severity: Error,
        category: PodSecurity,
        remediation: "Set `securityContext.readOnlyRootFilesystem: true` on every container and mount an emptyDir where it must write.",
        params: NoParams,
        check: check,
    }
}

fn check(_: &NoParams, cx: &mut Cx, w: &Workload<'_>) {
    each_container(
        cx,
        &w.pod,
        "readOnlyRootFilesystem",
        |s| s.read_only_root_filesystem,
        |v| match v {
            Some(true) => None,
            Some(false) => Some("sets readOnlyRootFilesystem: false".into()),
            None => Some("does not set readOnlyRootFilesystem: true".into()),
        },
    );
}
