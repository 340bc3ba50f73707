//! SL3006-SL3008: the objects around the pod — its ServiceAccount, the RBAC
//! bindings that name it, its RuntimeClass — looked up among the run's inputs
//! and `--context` files. An object that is not there is "cannot verify"
//! (a warning), never a pass.

pub mod rbac;
pub mod runtime_class;
pub mod service_account;
