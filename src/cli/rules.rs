//! `sandbox-lint rules` and `sandbox-lint explain`: generated from the rule declarations.

use std::process::ExitCode;

use clap::{Args, ValueEnum};

use crate::rule::RuleDef;
use crate::rules;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct RulesArgs {
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value = "text")]
    pub format: ListFormat,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// Rule code (SL1002) or name (run-as-non-root).
    pub rule: String,
}

pub fn list(args: RulesArgs) -> miette::Result<ExitCode> {
    let text = match args.format {
        ListFormat::Text => rules_table(),
        ListFormat::Json => {
            let all: Vec<_> = rules::ALL.iter().map(|r| rule_json(r)).collect();
            serde_json::to_string_pretty(&all).unwrap_or_default() + "\n"
        }
    };
    write_stdout(&text)?;
    Ok(ExitCode::SUCCESS)
}

/// Writes to stdout; a closed pipe (`| head`) ends the output quietly.
fn write_stdout(text: &str) -> miette::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(miette::miette!("{e}")),
        _ => Ok(()),
    }
}

/// Every rule, grouped by category (in the order categories first appear),
/// in code order within a group: an input rule numbered after the Dockerfile
/// syntax rule still lists with the other input rules.
fn grouped() -> Vec<&'static RuleDef> {
    let mut categories = Vec::new();
    for r in rules::ALL {
        if !categories.contains(&r.meta.category) {
            categories.push(r.meta.category);
        }
    }
    categories
        .into_iter()
        .flat_map(|c| {
            rules::ALL
                .iter()
                .copied()
                .filter(move |r| r.meta.category == c)
        })
        .collect()
}

/// The text table printed by `rules`.
pub fn rules_table() -> String {
    let mut out = String::new();
    let mut category = None;
    for r in grouped() {
        let m = &r.meta;
        if category != Some(m.category) {
            category = Some(m.category);
            out.push_str(&format!("\n{}\n", m.category.title()));
        }
        let severity = if m.default_enabled {
            m.severity.as_str().to_string()
        } else {
            "off".to_string()
        };
        out.push_str(&format!(
            "  {}  {:<34} {:<8} {}\n",
            m.code,
            m.name,
            severity,
            m.summary()
        ));
    }
    out
}

fn rule_json(r: &RuleDef) -> serde_json::Value {
    let m = &r.meta;
    serde_json::json!({
        "code": m.code,
        "name": m.name,
                "severity": m.severity,
        "enabledByDefault": m.default_enabled,
        "category": m.category,
        "summary": m.summary(),
        "rationale": m.rationale(),
        "remediation": m.remediation,
        "parameters": (r.defaults)(),
        "docs": m.docs_url(),
    })
}

pub fn explain(args: ExplainArgs) -> miette::Result<ExitCode> {
    match rules::find(&args.rule) {
        Some(r) => {
            write_stdout(&explain_text(r))?;
            Ok(ExitCode::SUCCESS)
        }
        None => {
            let hint = rules::suggest(&args.rule)
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
            Err(miette::miette!(
                help = "`sandbox-lint rules` lists every rule",
                "unknown rule `{}`{hint}",
                args.rule
            ))
        }
    }
}

/// The full documentation of one rule, as `explain` prints it.
pub fn explain_text(r: &RuleDef) -> String {
    let m = &r.meta;
    let mut out = format!(
        "{} {} ({}, default severity {})\n\n{}\n\n",
        m.code,
        m.name,
        m.category.title(),
        m.severity,
        m.summary()
    );
    let rationale = m.rationale();
    if !rationale.is_empty() {
        out.push_str(&format!("Why\n{}\n\n", indent(&rationale)));
    }
    out.push_str(&format!("Fix\n{}\n\n", indent(m.remediation)));
    let defaults = (r.defaults)();
    if defaults.as_object().is_some_and(|o| !o.is_empty()) {
        let yaml = serde_json::to_string_pretty(&defaults).unwrap_or_default();
        out.push_str(&format!("Parameters (defaults)\n{}\n\n", indent(&yaml)));
    }
    out.push_str(&format!("Docs: {}\n", m.docs_url()));
    out
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The rules reference (`docs/rules.md`), generated from the declarations.
pub fn rules_markdown() -> String {
    let mut out = String::from(
        "# Rules reference\n\n<!-- Generated from the rule declarations by `UPDATE_DOCS=1 cargo test --test docs`; do not edit. -->\n\n",
    );
    out.push_str("| Code | Name | Severity | Summary |\n|---|---|---|---|\n");
    for r in rules::ALL {
        let m = &r.meta;
        out.push_str(&format!(
            "| [{}](#{}) | `{}` | {}{} | {} |\n",
            m.code,
            m.code.to_ascii_lowercase(),
            m.name,
            m.severity,
            if m.default_enabled {
                ""
            } else {
                " (off by default)"
            },
            m.summary().replace('|', "\\|")
        ));
    }
    let mut category = None;
    for r in grouped() {
        let m = &r.meta;
        if category != Some(m.category) {
            category = Some(m.category);
            out.push_str(&format!("\n## {}\n", m.category.title()));
        }
        out.push_str(&format!(
            "\n<a id=\"{}\"></a>\n### {} `{}`\n\n**{}** Default severity: {}{}.\n\n",
            m.code.to_ascii_lowercase(),
            m.code,
            m.name,
            m.summary(),
            m.severity,
            if m.default_enabled {
                ""
            } else {
                "; off unless a policy enables it"
            }
        ));
        let rationale = m.rationale();
        if !rationale.is_empty() {
            out.push_str(&format!("*Why:* {rationale}\n\n"));
        }
        out.push_str(&format!("*Fix:* {}\n\n", m.remediation));
        let defaults = (r.defaults)();
        if defaults.as_object().is_some_and(|o| !o.is_empty()) {
            out.push_str(&format!(
                "*Parameters (defaults):*\n\n```json\n{}\n```\n\n",
                serde_json::to_string_pretty(&defaults).unwrap_or_default()
            ));
        }
        out.push_str(&format!(
            "*Fixtures:* [`testdata/rules/{0}/`](../testdata/rules/{0}/)\n",
            m.code
        ));
    }
    out
}
