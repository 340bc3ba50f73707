//! sandbox-lint: the gVisor runner checklist as code.
#![forbid(unsafe_code)]

pub mod pointer;
pub mod source;
pub mod yaml;
