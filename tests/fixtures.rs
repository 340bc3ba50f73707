//! One harness for every fixture under `testdata/`: each `# expect: CODE ...`
//! comment names the findings expected on that line, and a fixture must produce
//! exactly those (no more, no fewer). Files named `ok*` therefore must be clean.
//! Every rule must have a directory `testdata/rules/<CODE>/` with at least one
//! failing fixture that expects it and at least one `ok*` fixture.
//!
//! Fixtures run under the default policy, unless their first line is
//! `# policy: NAME` (a built-in pack, or a policy file relative to the fixture).
//! Fixtures without that line in `testdata/rules/<CODE>/`, where `<CODE>` is a
//! rule that is off by default (the Pod Security Standards rules), run under a
//! policy that enables that rule alone, so they expect only its findings.
//! A fixture that is itself a policy (`kind: Policy`) is loaded as one, and its
//! expectations are checked against the findings about the policy (expired
//! exemptions).
//!
//! Each fixture is checked as `sandbox-lint check FIXTURE --context testdata/context`
//! would check it: the objects of `testdata/context/` (the cluster the seeds
//! describe, done right: Namespace, RuntimeClass, ServiceAccounts, the corrected
//! NetworkPolicy) are looked up by cross-resource rules. A fixture that needs
//! another cluster says so on one of its first five lines: `# context: none`
//! (nothing but the fixture itself), or `# context: PATH` (relative to the
//! fixture).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use sandbox_lint::check::Options;
use sandbox_lint::linter::Linter;

fn fixture_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            fixture_files(&p, out);
        } else if matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"))
            || sandbox_lint::dockerfile::is_dockerfile_name(&p)
        {
            out.push(p);
        }
    }
}

/// (line, code) pairs written as `# expect: CODE CODE` comments. Dockerfile
/// comments cannot follow an instruction, so in Dockerfiles the comment stands
/// alone and names the findings of the line after it.
fn expectations_in(text: &str, next_line: bool) -> BTreeSet<(u32, String)> {
    let mut out = BTreeSet::new();
    for (i, line) in text.lines().enumerate() {
        if let Some(idx) = line.find("# expect:") {
            for code in line[idx + "# expect:".len()..].split_whitespace() {
                out.insert((i as u32 + 1 + u32::from(next_line), code.to_string()));
            }
        }
    }
    out
}

fn is_dockerfile(path: &Path) -> bool {
    sandbox_lint::dockerfile::is_dockerfile_name(path)
}

/// Reads a fixture as bytes; files that are deliberately not UTF-8 are lossily
/// decoded only to read their expectations.
fn read(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The linter a fixture asks for with `# policy: NAME` on its first line.
fn linter_for(path: &Path, text: &str) -> Option<Linter> {
    let first = text.lines().next()?;
    let name = first.strip_prefix("# policy:")?.trim();
    let local = path.parent().unwrap().join(name);
    let policy = if local.exists() {
        sandbox_lint::policy::load_file(&local)
    } else {
        sandbox_lint::policy::load_reference(name)
    };
    let policy = policy.unwrap_or_else(|e| panic!("{}: policy {name}: {e:?}", path.display()));
    let linter = Linter::new(vec![policy]).unwrap();
    // Policies that map images to Dockerfiles: read those first, as `check` does.
    sandbox_lint::check::prepare_images(&linter, &Options::default());
    Some(linter)
}

/// For a fixture in `testdata/rules/<CODE>/` of a rule that is off by default,
/// a linter with that rule alone enabled.
fn linter_for_off_rule(path: &Path) -> Option<Linter> {
    let code = path.parent()?.file_name()?.to_str()?;
    let rule = sandbox_lint::rules::find(code).filter(|r| r.meta.code == code)?;
    if rule.meta.default_enabled {
        return None;
    }
    let text = format!(
        "apiVersion: sandbox-lint.dev/v1alpha1\nkind: Policy\nmetadata: {{name: only-{code}}}\nspec:\n  onlyListedRules: true\n  rules:\n    {code}: {{enabled: true}}\n"
    );
    let policy = sandbox_lint::policy::load_text(code, &text, None, &mut Vec::new())
        .unwrap_or_else(|e| panic!("{code}: {e:?}"));
    Some(Linter::new(vec![policy]).unwrap())
}

/// True for fixtures that are policy files rather than manifests.
fn is_policy(text: &str) -> bool {
    text.lines().any(|l| l.trim_end() == "kind: Policy")
}

/// (line, code) of the findings about a policy fixture itself.
fn policy_findings(path: &Path) -> BTreeSet<(u32, String)> {
    let policy = sandbox_lint::policy::load_file(path)
        .unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
    Linter::new(vec![policy])
        .unwrap()
        .policy_findings()
        .iter()
        .map(|f| {
            (
                f.location.as_ref().map_or(0, |l| l.start_lc.line),
                f.code.to_string(),
            )
        })
        .collect()
}

/// The `--context` a fixture is checked with (see the module documentation).
fn context_for(path: &Path, text: &str) -> Vec<PathBuf> {
    let named = text
        .lines()
        .take(5)
        .find_map(|l| l.strip_prefix("# context:").map(str::trim));
    match named {
        Some("none") => Vec::new(),
        Some(rel) => vec![path.parent().unwrap().join(rel)],
        None => vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/context")],
    }
}

fn actual(linter: &Linter, path: &Path, text: &str) -> BTreeSet<(u32, String)> {
    let opts = Options {
        context: context_for(path, text),
        ..Options::default()
    };
    let result = sandbox_lint::check::run(linter, &[path.to_path_buf()], &opts);
    result
        .findings()
        .filter(|f| f.is_active())
        .map(|f| {
            (
                f.location.as_ref().map_or(0, |l| l.start_lc.line),
                f.code.to_string(),
            )
        })
        .collect()
}

#[test]
fn every_fixture_yields_exactly_its_expectations() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata");
    let mut files = Vec::new();
    for dir in ["rules", "seeds", "compliant"] {
        fixture_files(&root.join(dir), &mut files);
    }
    assert!(
        files.len() > 10,
        "fixtures not found under {}",
        root.display()
    );
    let linter = Linter::with_default_policy();
    let mut failures = Vec::new();
    for path in &files {
        let text = read(path);
        let expected = expectations_in(&text, is_dockerfile(path));
        let got = if is_policy(&text) {
            policy_findings(path)
        } else {
            match linter_for(path, &text).or_else(|| linter_for_off_rule(path)) {
                Some(own) => actual(&own, path, &text),
                None => actual(&linter, path, &text),
            }
        };
        if expected != got {
            let missing: Vec<_> = expected.difference(&got).collect();
            let extra: Vec<_> = got.difference(&expected).collect();
            failures.push(format!(
                "{}\n    expected but not reported: {missing:?}\n    reported but not expected: {extra:?}",
                path.strip_prefix(&root).unwrap_or(path).display()
            ));
        }
        let is_ok = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("ok"));
        if is_ok && !expected.is_empty() {
            failures.push(format!(
                "{}: an ok fixture must not expect findings",
                path.display()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} fixture(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_rule_has_a_failing_and_a_passing_fixture() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/rules");
    let mut problems = Vec::new();
    for rule in sandbox_lint::rules::ALL {
        let code = rule.meta.code;
        let dir = root.join(code);
        let mut files = Vec::new();
        if dir.is_dir() {
            fixture_files(&dir, &mut files);
        }
        let mut failing = false;
        let mut passing = false;
        for f in &files {
            let text = read(f);
            let name = f.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            if name.starts_with("ok") {
                passing = true;
            } else if expectations_in(&text, is_dockerfile(f))
                .iter()
                .any(|(_, c)| c == code)
            {
                failing = true;
            }
        }
        if !failing {
            problems.push(format!(
                "{code} ({}) has no failing fixture in testdata/rules/{code}/",
                rule.meta.name
            ));
        }
        if !passing {
            problems.push(format!(
                "{code} ({}) has no ok* fixture in testdata/rules/{code}/",
                rule.meta.name
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
