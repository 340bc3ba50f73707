//! Every class of policy-loading error, rendered as a user sees it (miette,
//! no colour) and kept as an insta snapshot. Each snapshot was read by a
//! person: the message names the problem, the label sits on the offending
//! key or value, and a suggestion appears where one exists.

use std::path::Path;

fn render(file: &str) -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/policies/errors");
    let path = dir.join(file);
    let errors = sandbox_lint::policy::load_file(&path).expect_err("the fixture must be invalid");
    let handler =
        miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
            .with_width(100)
            .with_links(false);
    let mut out = String::new();
    for e in &errors.errors {
        handler.render_report(&mut out, e).unwrap();
        out.push('\n');
    }
    // Paths differ between machines; the file name is what a reader needs.
    out.replace(&format!("{}/", dir.display()), "")
}

macro_rules! snapshot_tests {
    ($($name:ident => $file:literal,)*) => {$(
        #[doc = concat!("Rendering of `testdata/policies/errors/", $file, "`.")]
        #[test]
        fn $name() {
            insta::assert_snapshot!(stringify!($name), render($file));
        }
    )*};
}

snapshot_tests! {
    syntax_error => "syntax.yaml",
    unknown_key => "unknown-key.yaml",
    unknown_rule => "unknown-rule.yaml",
    parameter_type => "parameter-type.yaml",
    parameter_quantity => "parameter-quantity.yaml",
    exemption_without_reason => "exemption-without-reason.yaml",
    exemption_bad_date => "exemption-bad-date.yaml",
    extends_missing => "extends-missing.yaml",
    extends_cycle => "extends-cycle.yaml",
    custom_invalid_schema => "custom-invalid-schema.yaml",
    custom_reserved_code => "custom-reserved-code.yaml",
    wrong_version_and_mode => "wrong-version-and-mode.yaml",
}
