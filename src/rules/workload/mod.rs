//! SL2xxx: workload shape, scheduling and identity.

pub mod deadline;
pub mod scheduling;

use crate::resource::{Object, Workload};

/// For controllers that keep pods running forever: the kind, else `None`.
pub(crate) fn restarts_forever(w: &Workload<'_>) -> Option<&'static str> {
    match w.resource.object {
        Object::Deployment(_) => Some("Deployment"),
        Object::StatefulSet(_) => Some("StatefulSet"),
        Object::DaemonSet(_) => Some("DaemonSet"),
        Object::ReplicaSet(_) => Some("ReplicaSet"),
        Object::ReplicationController(_) => Some("ReplicationController"),
        _ => None,
    }
}
