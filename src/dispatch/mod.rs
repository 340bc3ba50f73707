//! The reference dispatcher: runs untrusted code in pods that are compliant by
//! construction ([`pod::build_pod`]) and verified by the same engine before
//! anything is launched ([`verify`]).

pub mod gvisor;
pub mod kube;
pub mod pod;

use k8s_openapi::api::core::v1::Pod;

use crate::finding::{Finding, Severity};
use crate::linter::Linter;

/// Lints a built Pod with the linter's policies and returns its active
/// findings, or an error listing the error findings (the run is refused).
pub fn verify(linter: &Linter, pod: &Pod) -> Result<Vec<Finding>, Refused> {
    let json = serde_json::to_value(pod).map_err(|e| Refused {
        findings: Vec::new(),
        message: format!("the pod cannot be serialized: {e}"),
    })?;
    let node: crate::yaml::Node = serde::Deserialize::deserialize(json).map_err(|e| Refused {
        findings: Vec::new(),
        message: format!("the pod cannot be read back: {e}"),
    })?;
    let loaded = crate::load::load_node(node);
    let mut findings: Vec<Finding> = Vec::new();
    findings.extend(
        loaded
            .diagnostics
            .iter()
            .filter_map(|d| linter.diagnostic_finding(d)),
    );
    for doc in &loaded.docs {
        for r in &doc.resources {
            findings.extend(linter.lint_resource(r));
        }
    }
    findings.retain(Finding::is_active);
    if findings.iter().any(|f| f.severity == Severity::Error) {
        let lines: Vec<String> = findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .map(crate::webhook::review::finding_line)
            .collect();
        return Err(Refused {
            message: format!(
                "the policy refuses the pod this request builds:\n  {}",
                lines.join("\n  ")
            ),
            findings,
        });
    }
    Ok(findings)
}

/// A run the engine refused, with the findings that refused it.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Refused {
    pub message: String,
    pub findings: Vec<Finding>,
}

/// A short random suffix for pod names (lower-case base 36).
pub fn suffix() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.write_u32(std::process::id());
    let mut n = h.finish();
    let mut s = String::new();
    for _ in 0..6 {
        let d = (n % 36) as u8;
        s.push(char::from(if d < 10 { b'0' + d } else { b'a' + d - 10 }));
        n /= 36;
    }
    s
}
