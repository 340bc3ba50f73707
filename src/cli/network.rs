//! `sandbox-lint explain-network`: what each runner can reach, as a table.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use miette::IntoDiagnostic;

use crate::network::{self, Runner, Table};
use crate::rules::network::NetworkParams;
use crate::yaml::Limits;

use super::EXIT_ERROR;

/// Output of `explain-network`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NetworkFormat {
    Human,
    Json,
}

#[derive(Debug, Args)]
pub struct NetworkArgs {
    /// Files and directories holding the runners, NetworkPolicies and Namespaces.
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,
    /// More files or directories to look objects up in (repeatable).
    #[arg(long, value_name = "PATH")]
    pub context: Vec<PathBuf>,
    /// Policy whose network parameters (runner selector, allow-list) apply
    /// (default: the built-in `gvisor-sandbox` pack).
    #[arg(long, short = 'p', value_name = "POLICY")]
    pub policy: Vec<String>,
    /// Namespace assumed for objects that name none [default: default].
    #[arg(long, short = 'n', value_name = "NAMESPACE")]
    pub namespace: Option<String>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value = "human")]
    pub format: NetworkFormat,
}

/// One runner and its table.
#[derive(Debug, serde::Serialize)]
struct Explained {
    kind: String,
    namespace: String,
    name: String,
    /// `file:line:col` of its pod labels.
    location: String,
    labels: std::collections::BTreeMap<String, String>,
    #[serde(flatten)]
    table: Table,
}

pub fn run(args: NetworkArgs) -> miette::Result<ExitCode> {
    let mut linter = super::check::load_policies(&args.policy)?;
    if let Some(ns) = &args.namespace {
        linter = linter.with_default_namespace(ns);
    }
    let params: NetworkParams = linter
        .primary()
        .params(&crate::rules::network::egress::RUNNER_EGRESS)
        .map(|v| serde_json::from_value(v.clone()))
        .transpose()
        .into_diagnostic()?
        .unwrap_or_default();
    let model = &params.model;
    let (cluster, errors) =
        crate::check::load_cluster(&linter, &args.paths, &args.context, &Limits::default());
    let mut explained = Vec::new();
    for pod in cluster.pods.iter().filter(|p| model.is_runner(&p.labels)) {
        let runner = Runner {
            namespace: &pod.namespace,
            labels: &pod.labels,
            ports: &pod.ports,
        };
        explained.push(Explained {
            kind: pod.object.kind.clone(),
            namespace: pod.namespace.clone(),
            name: pod.object.name.clone(),
            location: format!(
                "{}:{}:{}",
                pod.at.file, pod.at.start_lc.line, pod.at.start_lc.column
            ),
            labels: pod.labels.clone(),
            table: network::table(model, &cluster, &runner),
        });
    }
    let mut out = std::io::stdout().lock();
    let written = match args.format {
        NetworkFormat::Json => {
            let doc = serde_json::json!({
                "runnerSelector": model.runners.to_string(),
                "runners": explained,
                "errors": errors,
            });
            writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&doc).unwrap_or_default()
            )
        }
        NetworkFormat::Human => human(&mut out, &explained, &model.runners.to_string()),
    };
    match written {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(e).into_diagnostic(),
        _ => {}
    }
    if !errors.is_empty() {
        for e in &errors {
            eprintln!("error: {e}");
        }
        eprintln!(
            "error: {} input error(s): the objects of broken documents are missing from the tables above",
            errors.len()
        );
        return Ok(ExitCode::from(EXIT_ERROR));
    }
    Ok(ExitCode::SUCCESS)
}

fn human(out: &mut impl Write, explained: &[Explained], selector: &str) -> std::io::Result<()> {
    if explained.is_empty() {
        writeln!(
            out,
            "no runner workloads (pods matching {selector}) among the inputs"
        )?;
        return Ok(());
    }
    for (n, e) in explained.iter().enumerate() {
        if n > 0 {
            writeln!(out)?;
        }
        writeln!(
            out,
            "{} {}/{} ({})",
            e.kind, e.namespace, e.name, e.location
        )?;
        let t = &e.table;
        match t.egress_policies.as_slice() {
            [] => writeln!(
                out,
                "  egress: not isolated (no NetworkPolicy selects it for egress)"
            )?,
            list => writeln!(out, "  egress: isolated by {}", list.join(", "))?,
        }
        match (
            t.ingress_policies.as_slice(),
            t.ingress_allowed_by.as_slice(),
        ) {
            ([], _) => writeln!(out, "  ingress: not isolated: anything can connect")?,
            (list, []) => writeln!(
                out,
                "  ingress: isolated by {}, nothing allowed in",
                list.join(", ")
            )?,
            (list, rules) => {
                writeln!(out, "  ingress: isolated by {}, but:", list.join(", "))?;
                for r in rules {
                    writeln!(out, "    {r}")?;
                }
            }
        }
        writeln!(out)?;
        // Rules are numbered in a legend; cells name them by number.
        let mut legend: Vec<String> = Vec::new();
        let mut grid: Vec<Vec<String>> = Vec::new();
        let mut header = vec!["destination".to_string(), "allow-list".to_string()];
        header.extend(t.columns.iter().cloned());
        grid.push(header);
        for row in &t.rows {
            let mut line = vec![row.destination.clone(), row.expected.clone()];
            for cell in &row.cells {
                let refs: Vec<String> = cell
                    .by
                    .iter()
                    .map(|b| {
                        let i = legend.iter().position(|l| l == b).unwrap_or_else(|| {
                            legend.push(b.clone());
                            legend.len() - 1
                        });
                        format!("{}", i + 1)
                    })
                    .collect();
                let mut text = match cell.verdict {
                    "allowed" => "allow".to_string(),
                    "denied" => "deny".to_string(),
                    _ => "?".to_string(),
                };
                let wrong = (cell.verdict == "allowed" && cell.beyond_allow_list)
                    || (cell.verdict == "denied" && cell.required);
                if wrong {
                    text.push('!');
                }
                if !refs.is_empty() {
                    text.push_str(&format!(" [{}]", refs.join(",")));
                }
                line.push(text);
            }
            grid.push(line);
        }
        let widths: Vec<usize> = (0..grid[0].len())
            .map(|c| {
                grid.iter()
                    .map(|r| r.get(c).map_or(0, |s| s.chars().count()))
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        for r in &grid {
            let cells: Vec<String> = r
                .iter()
                .enumerate()
                .map(|(c, s)| format!("{s:<w$}", w = widths[c]))
                .collect();
            writeln!(out, "  {}", cells.join("  ").trim_end())?;
        }
        if !legend.is_empty() {
            writeln!(out)?;
            for (i, l) in legend.iter().enumerate() {
                writeln!(out, "  [{}] {l}", i + 1)?;
            }
        }
    }
    writeln!(out)?;
    writeln!(
        out,
        "allow! = allowed beyond the allow-list, deny! = a required destination is denied, ? = depends on objects not among the inputs"
    )
}
