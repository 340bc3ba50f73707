//! Helpers shared by the integration tests: each test file that needs them says
//! `mod common;`. Every file uses only a part of them, hence `dead_code`.
#![allow(dead_code)]

pub mod admission;
pub mod apiserver;
pub mod https;
pub mod kubelet;
