//! Bytes -> a file of NetworkPolicies (or anything) checked together with
//! the compliant runner pod and the seeds' cluster, so every policy read is
//! judged by the reachability rules against a runner.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = sandbox_lint_fuzz::write("network.yaml", data);
    sandbox_lint_fuzz::check_and_render(
        sandbox_lint_fuzz::default_linter(),
        &[
            path,
            sandbox_lint_fuzz::testdata("compliant/ok-runner-pod.yaml"),
            sandbox_lint_fuzz::testdata("context/cluster.yaml"),
        ],
    );
});
