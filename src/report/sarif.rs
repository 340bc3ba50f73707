//! SARIF 2.1.0, as GitHub code scanning accepts it: every rule in
//! `tool.driver.rules`, results with real regions (1-based, end column exclusive,
//! columns in Unicode code points), and relative artifact URIs.

use std::io::{self, Write};

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Value, json};

use crate::check::RunResult;
use crate::finding::{Finding, Severity};
use crate::rules;

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// A path as a SARIF URI reference: forward slashes, percent-encoded where needed.
pub fn uri_of(path: &str) -> String {
    let path = path.replace('\\', "/");
    let path = path.strip_prefix("./").unwrap_or(&path);
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    if path.starts_with('/') {
        format!("file://{out}")
    } else {
        out
    }
}

fn rule_descriptor(r: &crate::rule::RuleDef) -> Value {
    let m = &r.meta;
    let rationale = m.rationale();
    json!({
        "id": m.code,
        "name": m.name,
        "shortDescription": {"text": m.summary()},
        "fullDescription": {"text": if rationale.is_empty() { m.summary() } else { rationale.clone() }},
        "help": {
            "text": format!("{}\n\n{}", rationale, m.remediation),
            "markdown": format!("{}\n\n**Fix:** {}", rationale, m.remediation),
        },
        "helpUri": m.docs_url(),
                "defaultConfiguration": {"level": level(m.severity), "enabled": m.default_enabled},
        "properties": {"tags": ["security", format!("{:?}", m.category).to_lowercase()]},
    })
}

fn result(f: &Finding) -> Value {
    let suppressions = f.suppressed.as_ref().map(|s| {
        json!([{
            "kind": if s.kind == crate::finding::SuppressionKind::Inline { "inSource" } else { "external" },
            "status": "accepted",
            "justification": format!("{} ({})", s.reason, s.source),
        }])
    });
    let rule_index = rules::ALL.iter().position(|r| r.meta.code == f.code);
    let mut message = f.message.clone();
    if let Some(help) = &f.help {
        message.push_str(&format!(" ({help})"));
    }
    let mut location = json!({});
    if let Some(loc) = &f.location {
        location["physicalLocation"] = physical(loc);
    }
    if let Some(o) = &f.object {
        location["logicalLocations"] = json!([{
            "fullyQualifiedName": format!("{o}{}", f.pointer),
            "kind": "object",
        }]);
    }
    // Findings about an object are identified by object and field; those about a
    // file without objects (Dockerfiles) by file and message.
    let identity = match (&f.object, &f.location) {
        (Some(o), _) => format!("{o}:{}", f.pointer),
        (None, Some(l)) => format!("{}:{}", l.file, f.message),
        (None, None) => f.message.clone(),
    };
    let mut r = json!({
        "ruleId": f.code,
        "level": level(f.severity),
        "message": {"text": message},
        "locations": [location],
        "partialFingerprints": {
            "sandboxLint/v1": format!("{}:{identity}", f.code),
        },
    });
    if !f.related.is_empty() {
        r["relatedLocations"] = f
            .related
            .iter()
            .enumerate()
            .map(|(i, rel)| {
                json!({
                    "id": i,
                    "physicalLocation": physical(&rel.location),
                    "message": {"text": rel.message},
                })
            })
            .collect();
    }
    if let Some(i) = rule_index {
        r["ruleIndex"] = json!(i);
    }
    if let Some(sup) = suppressions {
        r["suppressions"] = sup;
    }
    r
}

/// A SARIF physical location. Always with a region, even for a finding about a
/// whole file (an unreadable one is at 1:1): GitHub code scanning needs
/// `region.startLine`.
fn physical(loc: &crate::finding::Location) -> Value {
    let mut region = json!({
        "startLine": loc.start_lc.line.max(1),
        "startColumn": loc.start_lc.column.max(1),
    });
    if loc.end > loc.start {
        region["endLine"] = json!(loc.end_lc.line);
        region["endColumn"] = json!(loc.end_lc.column);
    }
    json!({
        "artifactLocation": {"uri": uri_of(&loc.file)},
        "region": region,
    })
}

/// The SARIF log, serialized as it is written: each result becomes a JSON value
/// only while it is written (a tree of every result took 4.3 GB for 340,000
/// findings). Keys are written in the order a `serde_json` map keeps them
/// (sorted), so the text is the one a single `json!` tree gave.
struct Log<'a>(&'a RunResult);

impl Serialize for Log<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(3))?;
        map.serialize_entry("$schema", "https://json.schemastore.org/sarif-2.1.0.json")?;
        map.serialize_entry("runs", &[Run(self.0)])?;
        map.serialize_entry("version", "2.1.0")?;
        map.end()
    }
}

struct Run<'a>(&'a RunResult);

impl Serialize for Run<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let run = self.0;
        let rules: Vec<Value> = rules::ALL.iter().map(|r| rule_descriptor(r)).collect();
        let mut map = s.serialize_map(Some(4))?;
        map.serialize_entry("columnKind", "unicodeCodePoints")?;
        map.serialize_entry(
            "invocations",
            &json!([{"executionSuccessful": !run.input_errors()}]),
        )?;
        map.serialize_entry("results", &Results(run))?;
        map.serialize_entry(
            "tool",
            &json!({"driver": {
                "name": "sandbox-lint",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/sandbox-lint/sandbox-lint",
                "rules": rules,
            }}),
        )?;
        map.end()
    }
}

struct Results<'a>(&'a RunResult);

impl Serialize for Results<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.findings().map(result))
    }
}

pub fn render(run: &RunResult, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &Log(run))?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::uri_of;

    #[test]
    fn uris_are_relative_and_encoded() {
        assert_eq!(uri_of("./testdata/a b.yaml"), "testdata/a%20b.yaml");
        assert_eq!(uri_of("/abs/x.yaml"), "file:///abs/x.yaml");
        assert_eq!(uri_of("dir\\x.yaml"), "dir/x.yaml");
    }
}
