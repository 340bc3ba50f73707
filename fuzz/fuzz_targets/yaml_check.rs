//! Bytes -> a manifest file -> documents -> findings -> every report format.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = sandbox_lint_fuzz::write("manifest.yaml", data);
    sandbox_lint_fuzz::check_and_render(sandbox_lint_fuzz::default_linter(), &[path]);
});
