//! SL4008: secrets passed through ENV or ARG.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::dockerfile::{Dockerfile, Kind};
use crate::rule::Cx;

use super::all_instructions;

/// Parameters of [`SECRET_IN_BUILD_VARS`].
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct SecretParams {
    /// Name patterns (case-insensitive; `*` matches any run of characters).
    pub patterns: Vec<String>,
    /// Names that match a pattern but are not secrets (exact, case-insensitive).
    pub allow: Vec<String>,
}

impl Default for SecretParams {
    fn default() -> Self {
        Self {
            patterns: [
                "*TOKEN*",
                "*PASSWORD*",
                "*PASSWD*",
                "*SECRET*",
                "*_KEY",
                "*APIKEY*",
            ]
            .map(String::from)
            .to_vec(),
            allow: Vec::new(),
        }
    }
}

crate::declare_rule! {
    /// No secrets in ENV or ARG.
    ///
    /// ENV values are part of the image configuration (`docker inspect` shows them
    /// to anyone who can pull the image, and every process in the container,
    /// untrusted code included, inherits them). ARG values are recorded in the
    /// image history of the stage that uses them. Variables whose names look like
    /// credentials (`*TOKEN*`, `*PASSWORD*`, `*SECRET*`, `*_KEY`, ...) are findings
    /// whether or not they have a value here: the value arrives at build time.
    pub static SECRET_IN_BUILD_VARS = {
        code: "SL4008",
        name: "secret-in-build-vars",
        severity: Error,
        category: Dockerfile,
        remediation: "Pass build secrets with `RUN --mount=type=secret,id=...` and runtime secrets through the pod (a Secret volume or env from a Secret), never through ENV or ARG.",
        params: SecretParams,
        dockerfile: secret_in_build_vars,
    }
}

/// `*`-glob match, case-insensitive.
fn glob(pattern: &str, name: &str) -> bool {
    let p = pattern.to_ascii_uppercase();
    let n = name.to_ascii_uppercase();
    let parts: Vec<&str> = p.split('*').collect();
    let mut rest = n.as_str();
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            let Some(r) = rest.strip_prefix(part) else {
                return false;
            };
            rest = r;
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            let Some(at) = rest.find(part) else {
                return false;
            };
            rest = &rest[at + part.len()..];
        }
    }
    rest.is_empty()
}

fn secret_in_build_vars(p: &SecretParams, cx: &mut Cx, d: &Dockerfile) {
    for (_, i) in all_instructions(d) {
        let (what, vars) = match &i.kind {
            Kind::Env(v) => ("ENV", v),
            Kind::Arg(v) => ("ARG", v),
            _ => continue,
        };
        for v in vars {
            let secret = p.patterns.iter().any(|pat| glob(pat, &v.name))
                && !p.allow.iter().any(|a| a.eq_ignore_ascii_case(&v.name));
            if !secret {
                continue;
            }
            let consequence = if what == "ENV" {
                "is stored in the image configuration and inherited by every process in the container"
            } else {
                "is recorded in the image history"
            };
            cx.report_at(
                v.span,
                format!(
                    "{what} {} looks like a secret: its value {consequence}",
                    v.name
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::glob;

    #[test]
    fn globs() {
        assert!(glob("*TOKEN*", "github_token"));
        assert!(glob("*_KEY", "AWS_SECRET_ACCESS_KEY"));
        assert!(!glob("*_KEY", "KEYRING"));
        assert!(glob("A*B*C", "AxxBxxC"));
        assert!(!glob("A*B*C", "AxxCxxB"));
        assert!(glob("EXACT", "exact"));
    }
}
