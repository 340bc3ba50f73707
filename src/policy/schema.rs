//! The policy JSON Schema, generated from the Rust types: the file format from
//! [`super::file`], with every rule's own parameter schema embedded under
//! `spec.rules.<code or name>.parameters`, so one validation pass checks
//! everything and reports exact paths.

use serde_json::{Map, Value, json};

use super::file::PolicyFile;
use crate::rules;

/// The complete policy schema (what `policies/schema/policy.schema.json` holds).
pub fn policy_schema() -> Value {
    let mut root = schemars::schema_for!(PolicyFile).to_value();
    let mut defs = root
        .get("$defs")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut rule_props = Map::new();
    for r in rules::ALL {
        let m = &r.meta;
        let mut params = (r.schema)().to_value();
        // Hoist the rule schema's own definitions (Quantity, ...) to the root.
        if let Some(Value::Object(nested)) = params.as_object_mut().and_then(|o| o.remove("$defs"))
        {
            for (k, v) in nested {
                defs.entry(k).or_insert(v);
            }
        }
        if let Some(o) = params.as_object_mut() {
            o.remove("$schema");
            o.remove("title");
        }
        let def_name = format!("rule-{}", m.code);
        defs.insert(
            def_name.clone(),
            json!({
                "type": "object",
                "description": format!("{} {}: {}", m.code, m.name, m.summary()),
                "additionalProperties": false,
                "properties": {
                                        "enabled": {"type": "boolean", "description": if m.default_enabled {
                        "False turns the rule off (it is on by default)."
                    } else {
                        "True turns the rule on (it is off by default)."
                    }},
                    "severity": {"enum": ["error", "warning", "info"], "description": "Overrides the default severity."},
                    "parameters": params,
                },
            }),
        );
        let reference = json!({"$ref": format!("#/$defs/{def_name}")});
        rule_props.insert(m.code.to_string(), reference.clone());
        rule_props.insert(m.name.to_string(), reference);
    }
    // spec.rules: only known codes and names.
    if let Some(spec) = defs.get_mut("PolicySpec")
        && let Some(rules) = spec.pointer_mut("/properties/rules")
    {
        *rules = json!({
            "type": "object",
            "description": "Per-rule settings, keyed by rule code (SL1002) or name (run-as-non-root).",
            "properties": Value::Object(rule_props),
            "additionalProperties": false,
        });
    }
    if let Some(o) = root.as_object_mut() {
        o.insert("$defs".into(), Value::Object(defs));
        o.insert(
            "$id".into(),
            json!("https://sandbox-lint.dev/schemas/policy.schema.json"),
        );
        if let Some(props) = o.get_mut("properties") {
            props["apiVersion"] = json!({"const": super::file::API_VERSION});
            props["kind"] = json!({"const": "Policy"});
        }
    }
    root
}

/// The schema as checked in (pretty JSON with a trailing newline).
pub fn policy_schema_text() -> String {
    serde_json::to_string_pretty(&policy_schema()).unwrap_or_default() + "\n"
}
