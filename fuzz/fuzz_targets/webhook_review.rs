//! Arbitrary request bodies through the webhook's pure review: whatever the
//! body, the outcome is an answer (allowed, denied or an HTTP error) that
//! serializes, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sandbox_lint::linter::Linter;
use sandbox_lint::webhook::review::review;

fuzz_target!(|data: &[u8]| {
    let linter = Linter::with_default_policy();
    let outcome = review(&linter, data);
    let _ = format!("{outcome:?}");
});
