//! Bytes -> a policy file -> a policy (or its errors) -> an engine that
//! checks the compliant examples and the seeds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sandbox_lint::linter::Linter;
use sandbox_lint::policy;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(p) = policy::load_text("fuzz-policy.yaml", text, None, &mut Vec::new()) else {
        return;
    };
    let Ok(linter) = Linter::new(vec![p]) else {
        return;
    };
    sandbox_lint_fuzz::check_and_render(
        &linter,
        &[
            sandbox_lint_fuzz::testdata("compliant/ok-runner-pod.yaml"),
            sandbox_lint_fuzz::testdata("seeds"),
        ],
    );
});
