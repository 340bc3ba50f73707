//! Finding and reading input files: paths, directories (recursive, honouring
//! .gitignore) and `-` for stdin.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::source::{LineCol, SourceFile};

/// One input to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Stdin,
    File(PathBuf),
}

impl Input {
    /// The input a command-line path names (`-` is stdin).
    pub fn from_arg(path: &Path) -> Self {
        if path.as_os_str() == "-" {
            Input::Stdin
        } else {
            Input::File(path.to_path_buf())
        }
    }

    /// The name shown in findings.
    pub fn display_name(&self) -> String {
        match self {
            Input::Stdin => "<stdin>".to_string(),
            Input::File(p) => p.display().to_string(),
        }
    }
}

/// A path given on the command line that does not exist or cannot be listed.
#[derive(Debug, Clone)]
pub struct DiscoveryError {
    pub path: String,
    pub message: String,
}

/// True for file names linted as manifests when found in a directory.
pub fn is_manifest_name(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml" | "json")
    )
}

/// Expands the given paths into inputs: files as given, directories walked
/// (sorted, .gitignore honoured, hidden entries skipped, links to files read
/// as the files), `-` as stdin.
pub fn discover(paths: &[PathBuf]) -> (Vec<Input>, Vec<DiscoveryError>) {
    let mut inputs = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            inputs.push(Input::Stdin);
            continue;
        }
        match std::fs::metadata(path) {
            Err(e) => errors.push(DiscoveryError {
                path: path.display().to_string(),
                message: e.to_string(),
            }),
            Ok(m) if m.is_dir() => {
                let walker = ignore::WalkBuilder::new(path)
                    .require_git(false)
                    .sort_by_file_name(|a, b| a.cmp(b))
                    .build();
                for entry in walker {
                    match entry {
                        Ok(e)
                            if !(is_manifest_name(e.path())
                                || crate::dockerfile::is_dockerfile_name(e.path())) => {}
                        Ok(e) if e.file_type().is_some_and(|t| t.is_file()) => {
                            inputs.push(Input::File(e.into_path()));
                        }
                        // A link to a file is read as the file, as `kubectl
                        // apply -f DIR` reads it; a broken one is an error,
                        // not a file that is not there. A link to a directory
                        // is not walked (nor by kubectl).
                        Ok(e) if e.path_is_symlink() => match std::fs::metadata(e.path()) {
                            Ok(m) if m.is_file() => inputs.push(Input::File(e.into_path())),
                            Ok(_) => {}
                            Err(err) => errors.push(DiscoveryError {
                                path: e.path().display().to_string(),
                                message: format!("broken symbolic link: {err}"),
                            }),
                        },
                        Ok(_) => {}
                        Err(e) => errors.push(DiscoveryError {
                            path: path.display().to_string(),
                            message: e.to_string(),
                        }),
                    }
                }
            }
            Ok(_) => inputs.push(Input::File(path.clone())),
        }
    }
    (inputs, errors)
}

/// Why an input could not be read, and where in it when that is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadError {
    pub message: String,
    /// Line and column of the problem (the first invalid byte of non-UTF-8 text).
    pub at: Option<LineCol>,
}

impl From<String> for ReadError {
    fn from(message: String) -> Self {
        ReadError { message, at: None }
    }
}

/// Reads an input as UTF-8 text, refusing anything larger than `max_bytes`
/// without reading more than that.
pub fn read(input: &Input, max_bytes: u64) -> Result<SourceFile, ReadError> {
    let name = input.display_name();
    let mut bytes = Vec::new();
    let result = match input {
        Input::Stdin => std::io::stdin()
            .lock()
            .take(max_bytes.saturating_add(1))
            .read_to_end(&mut bytes),
        Input::File(p) => std::fs::File::open(p).and_then(|f| {
            let len = f.metadata().map(|m| m.len()).unwrap_or(0);
            if len > max_bytes {
                return Err(std::io::Error::other(too_large(len, max_bytes)));
            }
            f.take(max_bytes.saturating_add(1)).read_to_end(&mut bytes)
        }),
    };
    result.map_err(|e| ReadError::from(e.to_string()))?;
    if bytes.len() as u64 > max_bytes {
        return Err(too_large(bytes.len() as u64, max_bytes).into());
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        // The prefix is valid UTF-8 by definition, so positions count characters.
        let prefix = String::from_utf8_lossy(valid);
        let lc = SourceFile::new("", prefix.as_ref()).line_col(prefix.len());
        let (line, column) = (lc.line, lc.column);
        ReadError {
            message: format!(
                "not UTF-8 text (invalid byte 0x{:02X} at line {line}, column {column})",
                e.as_bytes()[valid.len()]
            ),
            at: Some(LineCol { line, column }),
        }
    })?;
    Ok(SourceFile::new(name, text))
}

fn too_large(len: u64, max: u64) -> String {
    format!("{len} bytes exceeds the input size limit of {max} bytes (see --max-file-size)")
}
