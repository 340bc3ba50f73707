//! sandbox-lint: the gVisor runner checklist as code.
#![forbid(unsafe_code)]

pub mod check;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod dispatch;
pub mod dockerfile;
pub mod engine;
pub mod finding;
pub mod images;
pub mod input;
pub mod linter;
pub mod load;
pub mod netpol;
pub mod network;
pub mod pointer;
pub mod policy;
pub mod quantity;
pub mod report;
pub mod resource;
pub mod rule;
pub mod rules;
pub mod runner_classes;
pub mod source;
pub mod suppress;
#[cfg(test)]
mod test_rng;
pub mod webhook;
pub mod yaml;
