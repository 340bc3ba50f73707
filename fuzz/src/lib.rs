//! What the fuzz targets share: running `check` on bytes as the CLI would,
//! rendering every report format, and the invariants every run must keep.
//!
//! The targets go through files and `check::run`, not through an inner
//! function, so that reading (UTF-8, size limits, line breaks), discovery,
//! the cross-resource pass and the reporters are all fuzzed together.
#![forbid(unsafe_code)]

use std::io;
use std::path::{Path, PathBuf};

use sandbox_lint::check::{self, Options, RunResult};
use sandbox_lint::linter::Linter;
use sandbox_lint::report::{self, Format, RenderOptions};

/// The default policy's linter, built once per process: building it (the
/// policy's schema, every rule's parameters) costs more than checking a small
/// input. `check::run` sets the run's cluster index on it each time, so a
/// run does not see the one before.
pub fn default_linter() -> &'static Linter {
    static LINTER: std::sync::LazyLock<Linter> =
        std::sync::LazyLock::new(Linter::with_default_policy);
    &LINTER
}

/// A directory of this process's own, for the files a target checks.
pub fn scratch() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sandbox-lint-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir
}

/// Writes `data` to `name` in the scratch directory.
pub fn write(name: &str, data: &[u8]) -> PathBuf {
    let path = scratch().join(name);
    std::fs::write(&path, data).expect("scratch file");
    path
}

/// Checks `paths` with `linter` as `sandbox-lint check` does (human snippets
/// kept), renders every format, and asserts the run's invariants.
pub fn check_and_render(linter: &Linter, paths: &[PathBuf]) -> RunResult {
    let opts = Options {
        keep_sources: true,
        ..Options::default()
    };
    let run = check::run(linter, paths, &opts);
    assert_invariants(&run);
    for format in [
        Format::Human,
        Format::Json,
        Format::Sarif,
        Format::Junit,
        Format::Github,
        Format::Short,
    ] {
        report::render(format, &run, &RenderOptions::default(), &mut io::sink())
            .expect("rendering to a sink cannot fail");
    }
    run
}

/// Every location lies inside its file, in order, at a 1-based line:col.
pub fn assert_invariants(run: &RunResult) {
    for file in &run.files {
        let len = file.source.as_ref().map(|s| s.text.len());
        for f in &file.findings {
            let Some(loc) = &f.location else { continue };
            assert!(
                loc.start <= loc.end,
                "{}: span {}..{}",
                f.code,
                loc.start,
                loc.end
            );
            if let Some(len) = len {
                assert!(
                    loc.end <= len,
                    "{}: span end {} past {len}",
                    f.code,
                    loc.end
                );
            }
            assert!(
                loc.start_lc.line >= 1 && loc.start_lc.column >= 1,
                "{}",
                f.code
            );
            assert!(
                (loc.start_lc.line, loc.start_lc.column) <= (loc.end_lc.line, loc.end_lc.column),
                "{}: {:?} after {:?}",
                f.code,
                loc.start_lc,
                loc.end_lc
            );
        }
    }
}

/// The repository's `testdata/`, for fixed companion inputs.
pub fn testdata(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata")
        .join(relative)
}
