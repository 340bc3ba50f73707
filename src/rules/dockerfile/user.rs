//! SL4001-SL4003, SL4015: who the image runs as, how it reports health, and
//! who owns its code.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::dockerfile::{Dockerfile, Kind, UserSpec, Word};
use crate::rule::{Cx, NoParams};

use super::{final_chain, operands, runs};

crate::declare_rule! {
    /// The final stage must run as a non-root user.
    ///
    /// The user of the last USER instruction in the final stage (or in the stages
    /// it builds on with `FROM <stage>`) is the user the container starts as. A
    /// final stage without USER runs as its base image's user, which the linter
    /// cannot see and which is root for almost every base image, so a missing USER
    /// is a finding. A USER only in a build stage does not count: the final image
    /// does not inherit it. `root`, `0`, `0:0`, `root:root`, a USER that switches
    /// back to root after a non-root one, and a USER whose value depends on a build
    /// argument without default are findings. So is root's primary group
    /// (`1000:0`, `runner:root`): the process can then write whatever is
    /// group-owned by root and group-writable, and every file it creates belongs
    /// to group root; the kubelet's `runAsNonRoot` checks only the uid and lets it
    /// pass. Other groups (`wheel`, `sudo`) grant nothing without sudo or su,
    /// which SL4009 keeps out of the image; given by name they are SL4002
    /// findings.
    pub static NON_ROOT_USER = {
        code: "SL4001",
        name: "image-non-root-user",
        severity: Error,
        category: Dockerfile,
        remediation: "End the final stage with `USER <uid>:<gid>` of an unprivileged user created in the image (the seeds use 10001).",
        params: NoParams,
        dockerfile: non_root_user,
    }
}

/// The final stage's effective USER and its resolved value (or why it has none).
fn final_user(d: &Dockerfile) -> Option<(&Word, Result<&str, String>)> {
    let (user, resolved) = d.final_user()?;
    Some((user, resolved.as_deref().map_err(|e| e.to_string())))
}

fn non_root_user(_: &NoParams, cx: &mut Cx, d: &Dockerfile) {
    let Some(stage) = d.final_stage() else {
        return;
    };
    let Some((user, resolved)) = final_user(d) else {
        cx.report_at(
            stage.from.image.span,
            format!(
                "the final stage (FROM {}) sets no USER: the container runs as the base image's user, root for most images",
                stage.from.image.text
            ),
        );
        return;
    };
    let value = match resolved {
        Ok(v) => v,
        Err(why) => {
            cx.report_at(
                user.span,
                format!("USER {} cannot be verified as non-root: {why}", user.text),
            );
            return;
        }
    };
    let spec = UserSpec::parse(value);
    if spec.user.is_empty() {
        cx.report_at(user.span, format!("USER {} names no user", user.text));
    } else if spec.is_root() {
        let users = d.effective(stage).users;
        let earlier = users[..users.len().saturating_sub(1)]
            .iter()
            .filter_map(|i| match &i.kind {
                Kind::User {
                    user,
                    resolved: Ok(v),
                } if !UserSpec::parse(v).is_root() && !UserSpec::parse(v).is_root_group() => {
                    Some(user.text.clone())
                }
                _ => None,
            })
            .next_back();
        let message = match earlier {
            Some(prev) => format!(
                "USER {} switches back to root after USER {prev}: the container runs as root",
                user.text
            ),
            None => format!("USER {}: the container runs as root", user.text),
        };
        cx.report_at(user.span, message);
    } else if spec.is_root_group() {
        cx.report_at(
            user.span,
            format!(
                "USER {} runs with root's primary group (gid 0): the container can write files group-owned by root, and runAsNonRoot does not check the group",
                user.text
            ),
        );
    }
}

crate::declare_rule! {
    /// The final USER must be numeric: a uid, or uid:gid.
    ///
    /// The kubelet enforces `runAsNonRoot` by reading the image's user; when that is
    /// a name it cannot tell whether the name maps to uid 0 and refuses to start the
    /// container ("image has non-numeric user ... cannot verify user is non-root"),
    /// unless the pod sets `runAsUser` itself. A numeric USER also makes the uid in
    /// the image and in the pod's securityContext comparable.
    pub static NUMERIC_USER = {
        code: "SL4002",
        name: "image-numeric-user",
        severity: Error,
        category: Dockerfile,
        remediation: "Write the user as its uid (and gid): `USER 10001:10001` instead of `USER runner`.",
        params: NoParams,
        dockerfile: numeric_user,
    }
}

fn numeric_user(_: &NoParams, cx: &mut Cx, d: &Dockerfile) {
    let Some((user, Ok(value))) = final_user(d) else {
        return;
    };
    let spec = UserSpec::parse(value);
    if spec.is_root() || spec.user.is_empty() {
        return;
    }
    let numeric = |s: &str| s.parse::<u32>().is_ok();
    let group_named = spec.group.is_some_and(|g| !numeric(g));
    if numeric(spec.user) && !group_named {
        return;
    }
    let what = if numeric(spec.user) {
        format!("group `{}`", spec.group.unwrap_or_default())
    } else {
        format!("user `{}`", spec.user)
    };
    let r = cx.report_at(
        user.span,
        format!(
            "USER {} gives a {what} by name: the kubelet cannot verify runAsNonRoot against a name and will not start the pod unless it sets runAsUser",
            user.text
        ),
    );
    if !numeric(spec.user)
        && let Some(uid) = uid_of(d, spec.user)
    {
        r.help(format!(
            "Use `USER {uid}` (the uid this Dockerfile gives `{}`), with its gid if it has one.",
            spec.user
        ));
    }
}

/// The uid `useradd -u N name` or `adduser -u N name` gives `name` in the final
/// stage or the stages it builds on.
pub(crate) fn uid_of(d: &Dockerfile, name: &str) -> Option<i64> {
    users(d)
        .into_iter()
        .rev()
        .find(|(n, _)| n == name)
        .map(|(_, uid)| uid)
}

/// Users created with an explicit uid (`useradd -u N name`, `adduser -u N name`)
/// in the final stage or the stages it builds on, in order.
pub(crate) fn users(d: &Dockerfile) -> Vec<(String, i64)> {
    const VALUE_FLAGS: &[&str] = &[
        "-u",
        "--uid",
        "-g",
        "--gid",
        "-G",
        "--groups",
        "-d",
        "--home",
        "--home-dir",
        "-h",
        "-s",
        "--shell",
        "-c",
        "--comment",
        "--gecos",
        "-k",
        "-e",
        "-f",
        "-K",
        "-p",
        "-R",
        "-b",
        "--ingroup",
    ];
    let chain = final_chain(d);
    let mut found = Vec::new();
    for run in runs(&chain) {
        for c in run.commands {
            if !matches!(c.program(), Some("useradd" | "adduser")) {
                continue;
            }
            let words = &c.exec()[1..];
            let mut uid = None;
            let mut user = None;
            let mut i = 0;
            while i < words.len() {
                let w = words[i].text.as_str();
                if let Some(v) = w.strip_prefix("--uid=") {
                    uid = v.parse().ok();
                } else if w == "-u" || w == "--uid" {
                    uid = words.get(i + 1).and_then(|v| v.text.parse().ok());
                    i += 1;
                } else if VALUE_FLAGS.contains(&w) {
                    i += 1;
                } else if !w.starts_with('-') && user.is_none() {
                    user = Some(w);
                }
                i += 1;
            }
            if let (Some(user), Some(uid)) = (user, uid) {
                found.push((user.to_string(), uid));
            }
        }
    }
    found
}

crate::declare_rule! {
    /// The final stage must have a HEALTHCHECK (and not `HEALTHCHECK NONE`).
    ///
    /// The seeds' dispatcher runs the runner image with Docker or locally as well as
    /// on Kubernetes, and treats an unhealthy image as an image-level problem; the
    /// HEALTHCHECK (the seeds check that the entrypoint exists) is how it knows.
    /// Kubernetes ignores it and uses the pod's probes instead.
    pub static HEALTHCHECK = {
        code: "SL4003",
        name: "image-healthcheck",
        severity: Warning,
        category: Dockerfile,
        remediation: "Add `HEALTHCHECK CMD [\"test\", \"-f\", \"/opt/runner/entrypoint.py\"]` (or a real self-check) to the final stage.",
        params: NoParams,
        dockerfile: healthcheck,
    }
}

fn healthcheck(_: &NoParams, cx: &mut Cx, d: &Dockerfile) {
    let Some(stage) = d.final_stage() else {
        return;
    };
    match d.effective(stage).healthcheck {
        None => {
            cx.report_at(
                stage.from.image.span,
                format!(
                    "the final stage (FROM {}) has no HEALTHCHECK",
                    stage.from.image.text
                ),
            );
        }
        Some(i) if matches!(i.kind, Kind::Healthcheck { none: true }) => {
            cx.report_at(
                i.keyword,
                "HEALTHCHECK NONE turns off the health check of the image",
            );
        }
        Some(_) => {}
    }
}

/// Parameters of [`RUNTIME_USER_OWNS_CODE`].
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct OwnsCodeParams {
    /// Paths (and everything under them) the runtime user may own: directories
    /// it must write to at run time when the root filesystem is writable.
    pub writable_paths: Vec<String>,
}

impl Default for OwnsCodeParams {
    fn default() -> Self {
        Self {
            writable_paths: vec!["/tmp".into(), "/var/tmp".into(), "/home".into()],
        }
    }
}

crate::declare_rule! {
    /// The user the container runs as should not own the application code.
    ///
    /// Code owned by the runtime user can be rewritten by whatever runs as that user:
    /// untrusted code under test could patch the runner that judges it, and the patch
    /// outlives the run wherever the container's filesystem does. With a read-only
    /// root filesystem (as the checklist requires) the runner needs no write access
    /// to its code at all, so root-owned, world-readable code costs nothing. The
    /// seeds' Dockerfile chowns `/opt/runner` to the runner user; that is the
    /// trade-off this rule questions. Directories the runtime user must write to
    /// belong in `writablePaths` (or, better, in an emptyDir volume).
    pub static RUNTIME_USER_OWNS_CODE = {
        code: "SL4015",
        name: "runtime-user-owns-code",
        severity: Warning,
        category: Dockerfile,
        remediation: "Leave the code owned by root (drop `--chown` and the `chown`), and mount writable scratch space (an emptyDir) where the runner must write; list deliberate exceptions in `writablePaths`.",
        params: OwnsCodeParams,
        dockerfile: runtime_user_owns_code,
    }
}

fn runtime_user_owns_code(p: &OwnsCodeParams, cx: &mut Cx, d: &Dockerfile) {
    let Some((user, Ok(value))) = final_user(d) else {
        return;
    };
    let spec = UserSpec::parse(value);
    if spec.is_root() {
        return;
    }
    // The runtime user by name and by uid, as far as the Dockerfile tells.
    let mut ids = vec![spec.user.to_string()];
    match spec.uid() {
        Some(uid) => ids.extend(
            users(d)
                .into_iter()
                .filter(|(_, u)| *u == uid)
                .map(|(n, _)| n),
        ),
        None => ids.extend(uid_of(d, spec.user).map(|u| u.to_string())),
    }
    let owner_is_runtime = |owner: &str| ids.iter().any(|id| UserSpec::parse(owner).user == id);
    let allowed = |path: &str| {
        p.writable_paths.iter().any(|w| {
            let w = w.trim_end_matches('/');
            path == w || path.starts_with(&format!("{w}/"))
        })
    };
    for i in final_chain(d) {
        match &i.kind {
            Kind::Copy(t) | Kind::Add(t) => {
                let Some(flag) = t.flag("chown") else {
                    continue;
                };
                let owner = flag.value.as_deref().unwrap_or_default();
                if owner_is_runtime(owner) && !allowed(&t.dest.text) {
                    cx.report_at(
                        flag.span,
                        format!(
                            "files copied to {} are owned by {owner}, the user the container runs as (USER {})",
                            t.dest.text, user.text
                        ),
                    );
                }
            }
            Kind::Run { commands, .. } => {
                for c in commands.iter().filter(|c| c.program() == Some("chown")) {
                    let mut args = operands(c);
                    let Some(owner) = args.next() else {
                        continue;
                    };
                    if !owner_is_runtime(&owner.text) {
                        continue;
                    }
                    let paths: Vec<&str> = args.map(|w| w.text.as_str()).collect();
                    if let Some(path) = paths.iter().find(|p| !allowed(p)) {
                        cx.report_at(
                            c.span(),
                            format!(
                                "chown gives {path} to {}, the user the container runs as (USER {})",
                                owner.text, user.text
                            ),
                        );
                    }
                }
            }
            _ => {}
        }
    }
}
