//! SL4006-SL4007: ADD only where it is needed, and never unverified.

use crate::dockerfile::{Dockerfile, Kind, Transfer};
use crate::rule::{Cx, NoParams};

use super::all_instructions;

/// Names of files ADD may unpack: tar, and the compressions BuildKit
/// decompresses before looking for a tar inside (gzip, bzip2, xz, zstd).
/// BuildKit decides by content, not by name; these are the names that say so.
const ARCHIVES: &[&str] = &[
    ".tar", ".gz", ".tgz", ".bz2", ".tbz", ".tbz2", ".tb2", ".xz", ".txz", ".zst", ".zstd", ".tzst",
];

/// What ADD does with one source.
#[derive(Debug, PartialEq, Eq)]
enum Source {
    /// A git repository (`git://`, `ssh://`, `user@host:path`, `https://....git`).
    Git,
    /// A URL (any `scheme://`, whatever its case).
    Remote,
    /// A local file named like an archive ADD unpacks.
    Archive,
    /// Any other local file or directory.
    Local,
}

fn classify(src: &str) -> Source {
    let lower = src.to_ascii_lowercase();
    let scheme = lower.split_once("://").map(|(s, _)| s).filter(|s| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    });
    // scp-like `user@host:path`, which git (and BuildKit) read as ssh.
    let scp = lower
        .split_once(':')
        .is_some_and(|(head, _)| head.contains('@') && !head.contains('/'));
    let dot_git = lower
        .split('#')
        .next()
        .is_some_and(|u| u.trim_end_matches('/').ends_with(".git"));
    match scheme {
        Some("git" | "ssh") => Source::Git,
        Some(_) if dot_git => Source::Git,
        Some(_) => Source::Remote,
        None if scp => Source::Git,
        None if ARCHIVES.iter().any(|ext| lower.ends_with(ext)) => Source::Archive,
        None => Source::Local,
    }
}

/// `--unpack` as BuildKit reads it: absent, on (`--unpack`, `--unpack=true`),
/// off, or a value it refuses.
fn unpack_flag(t: &Transfer) -> Result<Option<bool>, String> {
    let Some(f) = t.flag("unpack") else {
        return Ok(None);
    };
    match f.value.as_deref() {
        None | Some("1" | "t" | "T" | "true" | "TRUE" | "True") => Ok(Some(true)),
        Some("0" | "f" | "F" | "false" | "FALSE" | "False") => Ok(Some(false)),
        Some(v) => Err(v.to_string()),
    }
}

crate::declare_rule! {
    /// ADD must not fetch remote content unverified, nor unpack archives implicitly.
    ///
    /// `ADD https://...` puts whatever the server returns into the image, with no
    /// check that it is what was reviewed; `--checksum=sha256:...` makes the build
    /// fail when it is not (git sources are pinned by commit instead, and are
    /// always reported). Any `scheme://` source counts as remote, in any case
    /// (`HTTP://`), and `git@host:repo`, `git://`, `ssh://` and `....git` URLs as
    /// git. `ADD archive.tar.gz /dir` silently unpacks, so a file renamed to `.tar`
    /// changes what lands in the image; copy it and unpack it explicitly. Sources
    /// are read as BuildKit reads them: quoted, in the JSON form, or through ARG
    /// and ENV variables; a source that depends on a value the linter cannot see
    /// is a finding. BuildKit unpacks a local tar (plain, gzip, bzip2, xz or zstd)
    /// by its content, whatever its name; the names reported here are `.tar`,
    /// `.gz`, `.tgz`, `.bz2`, `.tbz`, `.tbz2`, `.tb2`, `.xz`, `.txz`, `.zst`,
    /// `.zstd` and `.tzst`; any other local ADD is SL4007's (use COPY, which never
    /// unpacks). `--unpack=false` turns the unpacking off, and an explicit
    /// `--unpack` (`=true`) makes it visible; neither verifies a remote source.
    pub static ADD_REMOTE_OR_ARCHIVE = {
        code: "SL4006",
        name: "add-remote-or-archive",
        severity: Error,
        category: Dockerfile,
        remediation: "Give remote ADD sources `--checksum=sha256:<digest>`; COPY archives and unpack them in a RUN (`tar -xf`) so the extraction is visible.",
        params: NoParams,
        dockerfile: add_remote_or_archive,
    }
}

fn add_remote_or_archive(_: &NoParams, cx: &mut Cx, d: &Dockerfile) {
    for (_, i) in all_instructions(d) {
        let Kind::Add(t) = &i.kind else {
            continue;
        };
        let verified = t
            .flag("checksum")
            .is_some_and(|f| f.value.as_deref().is_some_and(|v| !v.is_empty()));
        let unpack = unpack_flag(t);
        if let Err(v) = &unpack
            && let Some(f) = t.flag("unpack")
        {
            cx.report_at(
                f.span,
                format!("ADD --unpack={v} is not a boolean: what ADD unpacks cannot be verified"),
            );
        }
        for (src, value) in t.sources.iter().zip(&t.resolved) {
            let value = match value {
                Ok(v) => v,
                Err(why) => {
                    cx.report_at(
                        src.span,
                        format!("ADD source {} cannot be verified: {why}", src.text),
                    );
                    continue;
                }
            };
            match classify(value) {
                Source::Git => {
                    cx.report_at(
                        src.span,
                        format!("ADD fetches a git repository from {value} without verifying it"),
                    );
                }
                Source::Remote if !verified => {
                    cx.report_at(
                        src.span,
                        format!("ADD fetches remote content from {value} without verifying it"),
                    );
                }
                Source::Archive if unpack == Ok(None) => {
                    cx.report_at(src.span, format!("ADD unpacks archive {value} implicitly"));
                }
                _ => {}
            }
        }
    }
}

crate::declare_rule! {
    /// Use COPY, not ADD, for local files and directories.
    ///
    /// For local sources that are not archives, ADD does what COPY does, plus URL
    /// fetching and archive unpacking nobody asked for; COPY says exactly what
    /// happens. BuildKit unpacks any local tar ADD is given, whatever its name, so
    /// COPY is also what keeps a tar that is not named like one from being unpacked.
    /// `ADD --unpack=false archive.tar` is a COPY too.
    pub static COPY_INSTEAD_OF_ADD = {
        code: "SL4007",
        name: "copy-instead-of-add",
        severity: Warning,
        category: Dockerfile,
        remediation: "Replace ADD with COPY.",
        params: NoParams,
        dockerfile: copy_instead_of_add,
    }
}

fn copy_instead_of_add(_: &NoParams, cx: &mut Cx, d: &Dockerfile) {
    for (_, i) in all_instructions(d) {
        let Kind::Add(t) = &i.kind else {
            continue;
        };
        let unpack = unpack_flag(t);
        let plain = !t.resolved.is_empty()
            && t.resolved.iter().all(|v| match v.as_deref().map(classify) {
                Ok(Source::Local) => unpack != Ok(Some(true)),
                Ok(Source::Archive) => unpack == Ok(Some(false)),
                _ => false,
            });
        if plain {
            cx.report_at(
                i.keyword,
                format!("ADD of local {} does what COPY does", t.sources[0].text),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_classified_as_buildkit_reads_them() {
        for (src, want) in [
            ("https://example.com/tool", Source::Remote),
            ("HTTP://example.com/tool", Source::Remote),
            ("ftp://example.com/tool", Source::Remote),
            ("https://github.com/acme/tool.git#v1", Source::Git),
            ("git://example.com/tool", Source::Git),
            ("ssh://git@example.com/tool", Source::Git),
            ("git@github.com:acme/tool.git", Source::Git),
            ("deploy@example.com:tool", Source::Git),
            ("runner.tar.gz", Source::Archive),
            ("runner.TGZ", Source::Archive),
            ("rootfs.tar.zst", Source::Archive),
            ("data.xz", Source::Archive),
            ("tool.tar.lz4", Source::Local),
            ("app.zip", Source::Local),
            ("src/", Source::Local),
            ("a:b", Source::Local),
        ] {
            assert_eq!(classify(src), want, "{src}");
        }
    }
}
