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

/// The README's examples that show a command and its output (` ```console `
/// blocks whose first line is `$ sandbox-lint ARGS`, optionally piped into
/// `grep -e WORD ...`, which keeps the stdout lines holding one of the words)
/// print exactly that: stdout (filtered) then stderr, run from the checkout.
#[test]
fn readme_console_examples_print_what_they_show() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let mut checked = 0;
    for block in readme.split("```console\n").skip(1) {
        let block = block.split("\n```").next().unwrap();
        let mut lines = block.lines();
        let Some(command) = lines.next().and_then(|l| l.strip_prefix("$ sandbox-lint ")) else {
            continue;
        };
        let expected: Vec<&str> = lines.collect();
        let (args, filter) = match command.split_once(" | ") {
            Some((args, grep)) => (args, Some(grep_words(grep))),
            None => (command, None),
        };
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_sandbox-lint"))
            .args(args.split_whitespace())
            .current_dir(root)
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let stdout = String::from_utf8(out.stdout).unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        let actual: Vec<&str> = stdout
            .lines()
            .filter(|l| {
                filter
                    .as_ref()
                    .is_none_or(|words| words.iter().any(|w| l.contains(w.as_str())))
            })
            .chain(stderr.lines())
            .collect();
        assert_eq!(actual, expected, "README: $ sandbox-lint {command}");
        checked += 1;
    }
    assert!(checked >= 3, "only {checked} README examples found");
}

/// `grep -e A -e B` (or `grep A`): the fixed words it keeps lines by.
fn grep_words(grep: &str) -> Vec<String> {
    let mut parts = grep.split_whitespace();
    assert_eq!(parts.next(), Some("grep"), "{grep}");
    let words: Vec<String> = parts
        .filter(|p| *p != "-e")
        .map(|p| p.trim_matches('\'').to_string())
        .collect();
    assert!(
        words
            .iter()
            .all(|w| w.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')),
        "only plain words: {grep}"
    );
    words
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
