//! Generated documentation is checked in; these tests fail when it is stale.
//! Regenerate with `UPDATE_DOCS=1 cargo test --test docs`.

use std::path::Path;

fn check_generated(relative: &str, generated: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, generated).unwrap();
        return;
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        current == generated,
        "{relative} is stale: run `UPDATE_DOCS=1 cargo test --test docs` and commit the result"
    );
}

/// docs/rules.md matches the rule declarations.
#[test]
fn rules_reference_is_current() {
    check_generated("docs/rules.md", &sandbox_lint::cli::rules::rules_markdown());
}

/// Every rule's docs link points at an anchor that docs/rules.md defines.
#[test]
fn docs_links_resolve_to_anchors() {
    let md = sandbox_lint::cli::rules::rules_markdown();
    for r in sandbox_lint::rules::ALL {
        let url = r.meta.docs_url();
        let anchor = url.rsplit_once('#').unwrap().1;
        assert!(md.contains(&format!("<a id=\"{anchor}\"></a>")), "{url}");
    }
}

/// policies/schema/policy.schema.json matches the Rust types and rule parameters.
#[test]
fn policy_schema_is_current() {
    check_generated(
        "policies/schema/policy.schema.json",
        &sandbox_lint::policy::schema::policy_schema_text(),
    );
}

/// Every `--format` value is listed where the formats are listed: the
/// `init` template and the README's configuration block.
#[test]
fn every_format_is_listed_in_the_init_template_and_the_readme() {
    use clap::ValueEnum as _;
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let readme_line = readme
        .lines()
        .find(|l| l.starts_with("format: "))
        .expect("README configuration block has a format line");
    let template_line = sandbox_lint::config::STARTER
        .lines()
        .find(|l| l.starts_with("# Output format"))
        .unwrap();
    for format in sandbox_lint::report::Format::value_variants() {
        let name = format.to_possible_value().unwrap().get_name().to_string();
        assert!(readme_line.contains(&name), "{name}: {readme_line}");
        assert!(template_line.contains(&name), "{name}: {template_line}");
    }
}
