//! SL2001-SL2003: every run ends.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::resource::Workload;
use crate::rule::{Cx, NoParams};

use super::restarts_forever;

/// Parameters of `active-deadline`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Params {
    /// Longest allowed `activeDeadlineSeconds`.
    pub max_seconds: i64,
}

impl Default for Params {
    fn default() -> Self {
        Self { max_seconds: 3600 }
    }
}

crate::declare_rule! {
    /// A run must have a deadline: `activeDeadlineSeconds` set and at most a maximum (default 3600).
    ///
    /// Without a deadline an infinite loop, or code that waits on purpose, holds its
    /// sandbox forever. For Jobs and CronJobs the deadline may sit on the Job spec
    /// or on the pod spec; the shorter one applies. Controllers that restart pods
    /// forever are reported by `long-running-controller` instead.
    pub static ACTIVE_DEADLINE = {
        code: "SL2001",
        name: "active-deadline",
        severity: Error,
        category: Workload,
        remediation: "Set `activeDeadlineSeconds` (at most the policy's maximum, 3600 by default) on the pod spec, or on the Job spec for Jobs and CronJobs.",
        params: Params,
        check: deadline,
    }
}

fn deadline(p: &Params, cx: &mut Cx, w: &Workload<'_>) {
    if restarts_forever(w).is_some() {
        return;
    }
    let mut set = Vec::new();
    if let Some(s) = w.pod.spec.active_deadline_seconds {
        set.push((s, w.pod.at("activeDeadlineSeconds")));
    }
    if let Some((job, ptr)) = &w.job
        && let Some(s) = job.active_deadline_seconds
    {
        set.push((s, ptr.key("activeDeadlineSeconds")));
    }
    match set.into_iter().min_by_key(|(s, _)| *s) {
        None => {
            let where_ = match &w.job {
                Some((_, ptr)) => ptr.key("activeDeadlineSeconds"),
                None => w.pod.at("activeDeadlineSeconds"),
            };
            cx.report(where_, "no activeDeadlineSeconds: the run can last forever");
        }
        Some((s, ptr)) if s <= 0 => {
            cx.report(
                ptr,
                format!("activeDeadlineSeconds {s} is not a positive number of seconds"),
            );
        }
        Some((s, ptr)) if s > p.max_seconds => {
            cx.report(
                ptr,
                format!(
                    "activeDeadlineSeconds {s} exceeds the maximum {}",
                    p.max_seconds
                ),
            );
        }
        Some(_) => {}
    }
}

crate::declare_rule! {
    /// The pod must set `restartPolicy: Never`.
    ///
    /// A failed or killed run must stay failed: restarting it re-runs untrusted code
    /// that already misbehaved, and for Jobs `OnFailure` restarts it in place,
        /// hiding the failure from the dispatcher. For the same reason a Job must set
    /// `backoffLimit: 0`: its default (6) starts a new pod for every failure.
    pub static RESTART_POLICY = {
        code: "SL2002",
        name: "restart-policy",
        severity: Error,
        category: Workload,
                remediation: "Set `restartPolicy: Never` in the pod spec, and `backoffLimit: 0` on Jobs.",
        params: NoParams,
        check: restart_policy,
    }
}

fn restart_policy(_: &NoParams, cx: &mut Cx, w: &Workload<'_>) {
    if restarts_forever(w).is_some() {
        return;
    }
    let ptr = w.pod.at("restartPolicy");
    match w.pod.spec.restart_policy.as_deref() {
        Some("Never") => {}
        Some(other) => {
            cx.report(ptr, format!("restartPolicy is {other}, not Never"));
        }
        None => {
            cx.report(ptr, "restartPolicy is not set (it defaults to Always)");
        }
    }
    if let Some((job, job_ptr)) = &w.job {
        match job.backoff_limit {
            Some(0) => {}
            Some(n) => {
                cx.report(
                    job_ptr.key("backoffLimit"),
                    format!(
                        "backoffLimit {n}: the Job re-runs failed untrusted code up to {n} times"
                    ),
                );
            }
            None => {
                cx.report(
                    job_ptr.key("backoffLimit"),
                    "backoffLimit is not set: the Job re-runs failed untrusted code up to 6 times",
                );
            }
        }
    }
}

crate::declare_rule! {
    /// Runners must not be Deployments, StatefulSets, DaemonSets, ReplicaSets or ReplicationControllers.
    ///
    /// These controllers restart their pods forever: Kubernetes requires
    /// `restartPolicy: Always` in their templates and rejects `activeDeadlineSeconds`
    /// there, so a run can neither end nor be bounded in time, and a sandbox that
    /// untrusted code has tampered with is reused for the next run. Run untrusted
    /// code as a Pod or a Job, one per run.
    pub static LONG_RUNNING_CONTROLLER = {
        code: "SL2003",
        name: "long-running-controller",
        severity: Error,
        category: Workload,
        remediation: "Run each untrusted workload as a Pod or Job with `restartPolicy: Never` and `activeDeadlineSeconds`.",
        params: NoParams,
        check: long_running,
    }
}

fn long_running(_: &NoParams, cx: &mut Cx, w: &Workload<'_>) {
    if let Some(kind) = restarts_forever(w) {
        cx.report(
            w.resource.base.key("kind"),
            format!(
                "a {kind} restarts its pods forever (restartPolicy must be Always and activeDeadlineSeconds is rejected in its template): a runner built on it has no deadline and reuses sandboxes"
            ),
        );
    }
}
