//! `.sandbox-lint.yaml`: per-repository defaults, found by walking up from the
//! inputs. Command-line flags override every setting.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use miette::{NamedSource, SourceSpan};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::cli::check::FailOn;
use crate::pointer::Pointer;
use crate::report::Format;
use crate::source::SourceFile;
use crate::yaml::{self, Limits};

/// The configuration file's name.
pub const FILE_NAME: &str = ".sandbox-lint.yaml";

/// What `.sandbox-lint.yaml` may hold.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ConfigFile {
    /// Policies: files or directories relative to this file, or built-in pack names.
    #[serde(default)]
    pub policies: Vec<String>,
    /// Paths checked when none are given on the command line (relative to this file).
    #[serde(default)]
    pub include: Vec<String>,
    /// Glob patterns (relative to this file) of files never checked, e.g. `testdata/**`.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Namespace assumed for objects that name none (default: `default`).
    #[serde(default)]
    pub namespace: Option<String>,
    /// Output format.
    #[serde(default)]
    pub format: Option<Format>,
    /// Lowest severity that fails the run.
    #[serde(default)]
    pub fail_on: Option<FailOn>,
    /// Images built from Dockerfiles of this repository: image (repository,
    /// `repository:tag`, or a prefix ending in `*`) -> Dockerfile path relative to
    /// this file. Pods running these images are checked against their Dockerfile.
    #[serde(default)]
    pub images: std::collections::BTreeMap<String, String>,
    /// Files or directories (relative to this file) whose objects cross-resource
    /// rules look up but which are not reported on, as with `--context`: the
    /// cluster's Namespaces, NetworkPolicies, ServiceAccounts, RBAC bindings and
    /// RuntimeClasses when they live outside the checked paths.
    #[serde(default)]
    pub context: Vec<String>,
}

/// A loaded configuration and where it lives.
#[derive(Debug, Clone)]
pub struct Config {
    pub path: PathBuf,
    /// The directory holding the file: relative paths start here.
    pub dir: PathBuf,
    pub file: ConfigFile,
    exclude: globset::GlobSet,
}

/// A configuration file that cannot be used.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("{message}")]
#[diagnostic(code(sandbox_lint::config))]
pub struct ConfigError {
    pub message: String,
    #[source_code]
    pub src: NamedSource<Arc<str>>,
    #[label("here")]
    pub span: SourceSpan,
    #[help]
    pub help: Option<String>,
}

/// The nearest `.sandbox-lint.yaml` in `start` or a directory above it.
pub fn discover(start: &Path) -> Option<PathBuf> {
    let start = std::fs::canonicalize(start).ok()?;
    let mut dir = if start.is_dir() {
        start.as_path()
    } else {
        start.parent()?
    };
    loop {
        let candidate = dir.join(FILE_NAME);
        if candidate.is_file() {
            return Some(candidate);
        }
        dir = dir.parent()?;
    }
}

impl Config {
    /// Loads and validates a configuration file.
    pub fn load(path: &Path) -> Result<Self, Box<ConfigError>> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| {
            Box::new(ConfigError {
                message: format!("cannot read {name}: {e}"),
                src: NamedSource::new(&name, Arc::from("")),
                span: SourceSpan::new(0.into(), 0),
                help: None,
            })
        })?;
        let source = SourceFile::new(name.as_str(), text.as_str());
        let error = |span: crate::source::Span, message: String, help: Option<String>| {
            Box::new(ConfigError {
                message,
                src: NamedSource::new(&name, source.text.clone()),
                span: SourceSpan::new(span.start.into(), span.len()),
                help,
            })
        };
        let mut roots = yaml::parse_documents(&text, &Limits::default())
            .map_err(|e| error(e.span.unwrap_or_default(), e.message, None))?;
        let Some(root) = roots.pop() else {
            return Ok(Self::from_file(path, ConfigFile::default()));
        };
        if matches!(root.value, yaml::Value::Null) {
            return Ok(Self::from_file(path, ConfigFile::default()));
        }
        let (result, unknown) = yaml::de::decode::<ConfigFile>(&root, &Pointer::root());
        if let Some(u) = unknown.first() {
            let at = yaml::locate(&root, &u.pointer);
            return Err(error(
                at.key.unwrap_or(at.value),
                format!("unknown key `{}` in {FILE_NAME}", u.key),
                u.suggestion.map(|s| format!("did you mean `{s}`?")),
            ));
        }
        let file = result.map_err(|e| {
            let ptr = e.pointer.clone().unwrap_or_default();
            error(
                yaml::locate(&root, &ptr).value,
                format!("{ptr}: {}", e.message),
                None,
            )
        })?;
        let mut config = Self::from_file(path, file);
        let mut builder = globset::GlobSetBuilder::new();
        for (i, pattern) in config.file.exclude.iter().enumerate() {
            let glob = globset::Glob::new(pattern).map_err(|e| {
                let ptr = Pointer::root().key("exclude").index(i);
                error(
                    yaml::locate(&root, &ptr).value,
                    format!("invalid glob: {e}"),
                    None,
                )
            })?;
            builder.add(glob);
        }
        config.exclude = builder
            .build()
            .unwrap_or_else(|_| globset::GlobSet::empty());
        Ok(config)
    }

    fn from_file(path: &Path, file: ConfigFile) -> Self {
        let dir = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        Self {
            path: path.to_path_buf(),
            dir,
            file,
            exclude: globset::GlobSet::empty(),
        }
    }

    /// A path from the file, resolved against the file's directory.
    pub fn resolve(&self, relative: &str) -> PathBuf {
        self.dir.join(relative)
    }

    /// True when `path` matches an `exclude` pattern (relative to the file's directory).
    pub fn excludes(&self, path: &Path) -> bool {
        if self.exclude.is_empty() {
            return false;
        }
        let (Ok(abs), Ok(dir)) = (
            std::fs::canonicalize(path),
            std::fs::canonicalize(&self.dir),
        ) else {
            return false;
        };
        abs.strip_prefix(&dir)
            .is_ok_and(|rel| self.exclude.is_match(rel))
    }
}

/// The commented starter file that `sandbox-lint init` writes.
pub const STARTER: &str = r#"# sandbox-lint configuration. Found by walking up from the checked paths;
# command-line flags override every setting. See `sandbox-lint check --help`.

# Policies: files or directories relative to this file, or built-in packs
# (gvisor-sandbox is the default; pod-security-baseline, pod-security-restricted).
policies:
  - gvisor-sandbox

# Paths checked when `sandbox-lint check` is run without paths.
include:
  - .

# Files never checked (globs relative to this file).
exclude:
  - "**/testdata/**"
  - "**/charts/*/templates/**"

# Namespace assumed for objects that name none.
# namespace: default

# Output format (human, short, json, sarif, junit, github) and failure threshold
# (error, warning, info, never).
# format: human
# failOn: error

# Images built by Dockerfiles of this repository (paths relative to this file):
# pods running them are checked against the Dockerfile's USER and findings.
# images:
#   ghcr.io/acme/runner: images/runner/Dockerfile

# Where the objects around the checked pods live, when not among the checked
# paths (NetworkPolicies, ServiceAccounts, RBAC bindings, RuntimeClasses):
# looked up by cross-resource rules, never reported on.
# context:
#   - cluster/
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_starter_file_is_valid() {
        let dir = tempfile_dir();
        let path = dir.join(FILE_NAME);
        std::fs::write(&path, STARTER).unwrap();
        let c = Config::load(&path).unwrap();
        assert_eq!(c.file.policies, ["gvisor-sandbox"]);
        assert!(c.file.exclude.len() == 2);
        std::fs::remove_dir_all(dir).ok();
    }

    fn tempfile_dir() -> PathBuf {
        let d = std::env::temp_dir().join(format!("sl-config-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }
}
