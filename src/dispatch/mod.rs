//! The reference dispatcher: runs untrusted code in pods that are compliant by
//! construction ([`pod::build_pod`]) and verified by the same engine before
//! anything is launched ([`verify`]).

pub mod gvisor;
pub mod kube;
pub mod pod;
pub mod workspace;

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
    let node: crate::yaml::Node = serde::Deserialize::deserialize(&json).map_err(|e| Refused {
        findings: Vec::new(),
        message: format!("the pod cannot be read back: {e}"),
    })?;
    // Custom rules (JSON Schemas) see the object as JSON, as in `check` and `serve`.
    let json = linter.needs_json().then_some(&json);
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
            findings.extend(linter.lint_resource_json(r, json));
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

/// Checks the names of the workspace files (relative paths under /work)
/// before anything is written or sent: each is a relative path of plain
/// components (no `..`, `.`, empty or absolute part: nothing may land outside
/// /work, nor outside the local work directory), made of the characters a
/// ConfigMap key allows (`A-Z a-z 0-9 - _ .`), and no two flatten to the same
/// ConfigMap key ([`kube::config_map_key`]) or exceed its 253 characters.
pub fn check_workspace_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<(), String> {
    let mut keys: std::collections::BTreeMap<String, &str> = std::collections::BTreeMap::new();
    for name in names {
        let bad = |why: &str| Err(format!("workspace file {name:?}: {why}"));
        if name.is_empty() || name.starts_with('/') {
            return bad("must be a relative path");
        }
        for part in name.split('/') {
            if part.is_empty() || part == "." || part == ".." {
                return bad("every path component must be a plain name (no '', '.' or '..')");
            }
            if let Some(c) = part
                .chars()
                .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
            {
                return bad(&format!(
                    "the character {c:?} cannot be in a ConfigMap key (A-Z a-z 0-9 - _ . only)"
                ));
            }
        }
        let key = kube::config_map_key(name);
        if key.len() > 253 {
            return bad("longer than a ConfigMap key may be (253 characters, '/' counted as '__')");
        }
        if let Some(other) = keys.insert(key.clone(), name) {
            return bad(&format!(
                "same ConfigMap key {key:?} as {other:?}; rename one of them"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check_workspace_names;

    #[test]
    fn plain_relative_names_pass() {
        assert_eq!(
            check_workspace_names(["main.py", "tests.json", "pkg/util_1.py", "a-b/.hidden"]),
            Ok(())
        );
    }

    #[test]
    fn names_that_leave_work_are_refused() {
        for name in [
            "../etc/passwd",
            "/etc/passwd",
            "a/../../x",
            "./main.py",
            "a//b",
            "",
            "a/",
        ] {
            let err = check_workspace_names([name]).unwrap_err();
            assert!(
                err.starts_with(&format!("workspace file {name:?}:")),
                "{err}"
            );
        }
    }

    #[test]
    fn names_a_config_map_cannot_hold_are_refused() {
        let err = check_workspace_names(["my file.py"]).unwrap_err();
        assert!(err.contains("' '"), "{err}");
        let err = check_workspace_names(["é.py"]).unwrap_err();
        assert!(err.contains("'é'"), "{err}");
        let long = "a".repeat(254);
        let err = check_workspace_names([long.as_str()]).unwrap_err();
        assert!(err.contains("253"), "{err}");
    }

    #[test]
    fn names_that_flatten_to_one_key_are_refused() {
        let err = check_workspace_names(["dir/a.py", "dir__a.py"]).unwrap_err();
        assert!(
            err.contains("\"dir__a.py\"") && err.contains("\"dir/a.py\""),
            "{err}"
        );
    }
}
