//! Names that look like credentials, shared by the rules that look for secrets
//! in Dockerfiles (SL4008) and in pod environments (SL1025), so one policy
//! setting decides what counts as a secret everywhere.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Parameters of `secret-in-build-vars` and `secret-literal-env`.
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

impl SecretParams {
    /// True when `name` matches a pattern and is not allowed.
    pub fn is_secret(&self, name: &str) -> bool {
        self.patterns.iter().any(|pat| glob(pat, name))
            && !self.allow.iter().any(|a| a.eq_ignore_ascii_case(name))
    }
}

/// `*`-glob match, case-insensitive.
pub(crate) fn glob(pattern: &str, name: &str) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob("*TOKEN*", "github_token"));
        assert!(glob("*_KEY", "AWS_SECRET_ACCESS_KEY"));
        assert!(!glob("*_KEY", "KEYRING"));
        assert!(glob("A*B*C", "AxxBxxC"));
        assert!(!glob("A*B*C", "AxxCxxB"));
        assert!(glob("EXACT", "exact"));
    }

    #[test]
    fn allow_list_wins() {
        let p = SecretParams {
            allow: vec!["public_key".into()],
            ..SecretParams::default()
        };
        assert!(p.is_secret("ANTHROPIC_API_KEY"));
        assert!(!p.is_secret("PUBLIC_KEY"));
        assert!(!p.is_secret("CALLBACK_URL"));
    }
}
