//! Arbitrary request bodies through the webhook's pure review: whatever the
//! body, the outcome is an answer (allowed, denied or an HTTP error) that
//! serializes, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sandbox_lint::webhook::review::review;

fuzz_target!(|data: &[u8]| {
    let outcome = review(sandbox_lint_fuzz::default_linter(), data);
    let _ = format!("{outcome:?}");
});
