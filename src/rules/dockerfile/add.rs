//! SL4006-SL4007: ADD only where it is needed, and never unverified.

use crate::dockerfile::{Dockerfile, Kind};
use crate::rule::{Cx, NoParams};

use super::all_instructions;

/// Archive extensions ADD unpacks on its own.
const ARCHIVES: &[&str] = &[
    ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz", ".tbz2", ".tar.xz", ".txz", ".tar.zst", ".tzst",
    ".tar.lz4",
];

fn is_remote(src: &str) -> bool {
    let lower = src.to_ascii_lowercase();
    ["http://", "https://", "ftp://", "git@", "git://", "ssh://"]
        .iter()
        .any(|p| lower.starts_with(p))
}

fn is_archive(src: &str) -> bool {
    let lower = src.to_ascii_lowercase();
    ARCHIVES.iter().any(|ext| lower.ends_with(ext))
}

crate::declare_rule! {
    /// ADD must not fetch remote content unverified, nor unpack archives implicitly.
    ///
    /// `ADD https://...` puts whatever the server returns into the image, with no
    /// check that it is what was reviewed; `--checksum=sha256:...` makes the build
    /// fail when it is not (git sources are pinned by commit instead, and are
    /// always reported). `ADD archive.tar.gz /dir` silently unpacks, so a file
    /// renamed to `.tar` changes what lands in the image; copy it and unpack it
    /// explicitly.
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
        let verified = t.flag("checksum").is_some();
        for src in &t.sources {
            let lower = src.text.to_ascii_lowercase();
            let git = lower.starts_with("git@")
                || lower.starts_with("git://")
                || lower.split('#').next().is_some_and(|u| u.ends_with(".git"));
            if is_remote(&src.text) && (git || !verified) {
                let what = if git {
                    "a git repository"
                } else {
                    "remote content"
                };
                cx.report_at(
                    src.span,
                    format!("ADD fetches {what} from {} without verifying it", src.text),
                );
            } else if !is_remote(&src.text) && is_archive(&src.text) {
                cx.report_at(
                    src.span,
                    format!("ADD unpacks archive {} implicitly", src.text),
                );
            }
        }
    }
}

crate::declare_rule! {
    /// Use COPY, not ADD, for local files and directories.
    ///
    /// For local sources that are not archives, ADD does what COPY does, plus URL
    /// fetching and archive unpacking nobody asked for; COPY says exactly what
    /// happens.
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
        let plain = !t.sources.is_empty()
            && t.sources
                .iter()
                .all(|s| !is_remote(&s.text) && !is_archive(&s.text));
        if plain {
            cx.report_at(
                i.keyword,
                format!("ADD of local {} does what COPY does", t.sources[0].text),
            );
        }
    }
}
