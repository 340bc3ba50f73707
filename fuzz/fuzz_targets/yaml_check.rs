//! Bytes -> a manifest file -> documents -> findings -> every report format.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sandbox_lint::linter::Linter;

fuzz_target!(|data: &[u8]| {
    let path = sandbox_lint_fuzz::write("manifest.yaml", data);
    sandbox_lint_fuzz::check_and_render(&Linter::with_default_policy(), &[path]);
});
