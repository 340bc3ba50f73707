//! Policies: the file format users write, validated against the generated JSON
//! Schema with every error at file:line:col, `extends` resolved, and compiled
//! into engine settings before any input is read.

pub mod custom;
pub mod file;
pub mod schema;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use miette::{NamedSource, SourceSpan};

pub use file::{Exemption, Match, Mode, PolicyFile};

use crate::engine::{Engine, EngineError, RuleConfig};
use crate::pointer::Pointer;
use crate::rules;
use crate::source::Span;
use crate::yaml::{self, Limits, Node};

/// Built-in packs, by name (`extends: [gvisor-sandbox]`).
pub static BUILTIN: &[(&str, &str)] = &[
    (
        "gvisor-sandbox",
        include_str!("../../policies/gvisor-sandbox.yaml"),
    ),
    (
        "pod-security-baseline",
        include_str!("../../policies/pod-security-baseline.yaml"),
    ),
    (
        "pod-security-restricted",
        include_str!("../../policies/pod-security-restricted.yaml"),
    ),
];

/// The name of the policy used when none is given.
pub const DEFAULT_POLICY: &str = "gvisor-sandbox";

/// A resolved policy: its own settings merged over everything it extends.
#[derive(Debug, Clone)]
pub struct Policy {
    pub name: String,
    pub description: Option<String>,
    pub mode: Mode,
    /// Rule settings by code.
    pub rules: BTreeMap<&'static str, RuleConfig>,
    /// Only rules named in `rules` run.
    pub only_listed_rules: bool,
    pub match_: Option<Match>,
    pub exemptions: Vec<Exemption>,
    /// Where each exemption is written (same order as `exemptions`).
    pub exemption_sites: Vec<Site>,
    /// Which annotation may suppress which rules (none by default).
    pub annotation_suppressions: Option<file::AnnotationSuppressions>,
    /// Rules declared in the policy as JSON Schemas.
    pub custom_rules: Vec<custom::CompiledCustom>,
}

/// A place in a policy file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    pub file: String,
    pub line: u32,
    pub column: u32,
}

impl Policy {
    /// Builds the engine for this policy.
    pub fn engine(&self) -> Result<Engine, EngineError> {
        let mut config: BTreeMap<String, RuleConfig> = BTreeMap::new();
        for def in rules::ALL {
            let code = def.meta.code;
            match self.rules.get(code) {
                Some(c) => {
                    config.insert(code.to_string(), c.clone());
                }
                None if self.only_listed_rules => {
                    config.insert(
                        code.to_string(),
                        RuleConfig {
                            enabled: Some(false),
                            ..RuleConfig::default()
                        },
                    );
                }
                None => {}
            }
        }
        Engine::new(&config)
    }
}

/// One problem in a policy file, with its location.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("{message}")]
#[diagnostic(code(sandbox_lint::policy))]
pub struct PolicyError {
    pub message: String,
    #[source_code]
    pub src: NamedSource<Arc<str>>,
    #[label("{label}")]
    pub span: SourceSpan,
    pub label: String,
    #[help]
    pub help: Option<String>,
    /// 1-based line and column, for tests and plain output.
    pub line: u32,
    pub column: u32,
}

/// Every problem found in one policy (file and what it extends).
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("invalid policy {name}: {} problem(s)", errors.len())]
#[diagnostic(code(sandbox_lint::invalid_policy))]
pub struct PolicyErrors {
    pub name: String,
    #[related]
    pub errors: Vec<PolicyError>,
}

/// A policy file's text and its parsed tree, for locating errors.
struct Doc<'a> {
    name: &'a str,
    text: Arc<str>,
    source: crate::source::SourceFile,
    root: Option<Node>,
}

impl Doc<'_> {
    fn error(&self, span: Span, message: String, label: &str, help: Option<String>) -> PolicyError {
        let lc = self.source.line_col(span.start);
        PolicyError {
            message,
            src: NamedSource::new(self.name, self.text.clone()),
            span: SourceSpan::new(span.start.into(), span.len()),
            label: label.to_string(),
            help,
            line: lc.line,
            column: lc.column,
        }
    }

    /// The span of the key at `pointer` (or of its value, or nearest ancestor).
    fn key_span(&self, pointer: &Pointer) -> Span {
        match &self.root {
            Some(root) => {
                let at = yaml::locate(root, pointer);
                at.key.unwrap_or(at.value)
            }
            None => Span::default(),
        }
    }

    /// The span of the value at `pointer` when it is a scalar, else its key.
    fn value_span(&self, pointer: &Pointer) -> Span {
        match &self.root {
            Some(root) => {
                let at = yaml::locate(root, pointer);
                match at.key {
                    Some(k) if !at.exact || at.value.is_empty() => k,
                    _ => at.value,
                }
            }
            None => Span::default(),
        }
    }
}

fn validator() -> &'static jsonschema::Validator {
    static V: OnceLock<jsonschema::Validator> = OnceLock::new();
    V.get_or_init(|| {
        jsonschema::validator_for(&schema::policy_schema())
            .unwrap_or_else(|e| panic!("the generated policy schema is invalid: {e}"))
    })
}

/// Loads a built-in pack by name.
pub fn builtin(name: &str) -> Option<Result<Policy, PolicyErrors>> {
    let (_, text) = BUILTIN.iter().find(|(n, _)| *n == name)?;
    Some(load_text(
        &format!("builtin:{name}"),
        text,
        None,
        &mut Vec::new(),
    ))
}

/// The default policy (the seeds' checklist).
pub fn default_policy() -> Policy {
    match builtin(DEFAULT_POLICY) {
        Some(Ok(p)) => p,
        // The built-in pack is tested to load.
        _ => panic!("the built-in {DEFAULT_POLICY} policy does not load"),
    }
}

/// Loads a policy from a file, resolving `extends` relative to it.
pub fn load_file(path: &Path) -> Result<Policy, PolicyErrors> {
    load_path(path, &mut Vec::new())
}

/// Loads a policy given as a file path or a built-in pack name.
pub fn load_reference(reference: &str) -> Result<Policy, PolicyErrors> {
    let path = Path::new(reference);
    if !path.exists()
        && let Some(p) = builtin(reference)
    {
        return p;
    }
    load_file(path)
}

fn load_path(path: &Path, chain: &mut Vec<String>) -> Result<Policy, PolicyErrors> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| PolicyErrors {
        name: name.clone(),
        errors: vec![PolicyError {
            message: format!("cannot read policy {name}: {e}"),
            src: NamedSource::new(&name, Arc::from("")),
            span: SourceSpan::new(0.into(), 0),
            label: String::new(),
            help: None,
            line: 1,
            column: 1,
        }],
    })?;
    load_text(&name, &text, path.parent(), chain)
}

/// Loads a policy from text. `base` resolves relative `extends`; `chain`
/// holds the policies being loaded (to refuse cycles).
pub fn load_text(
    name: &str,
    text: &str,
    base: Option<&Path>,
    chain: &mut Vec<String>,
) -> Result<Policy, PolicyErrors> {
    let fail = |errors: Vec<PolicyError>| PolicyErrors {
        name: name.to_string(),
        errors,
    };
    let source = crate::source::SourceFile::new(name, text);
    let mut doc = Doc {
        name,
        text: source.text.clone(),
        source,
        root: None,
    };
    let mut roots = match yaml::parse_documents(text, &Limits::default()) {
        Ok(r) => r,
        Err(e) => {
            let span = e.span.unwrap_or_default();
            return Err(fail(vec![doc.error(span, e.message, "here", None)]));
        }
    };
    if roots.len() != 1 {
        return Err(fail(vec![doc.error(
            Span::default(),
            format!(
                "a policy file holds exactly one document, found {}",
                roots.len()
            ),
            "here",
            None,
        )]));
    }
    doc.root = roots.pop();
    let json = doc.root.as_ref().map(Node::to_json).unwrap_or_default();
    let mut errors = schema_errors(&doc, &json);
    if !errors.is_empty() {
        return Err(fail(errors));
    }
    let file: PolicyFile = match serde_json::from_value(json) {
        Ok(f) => f,
        Err(e) => {
            return Err(fail(vec![doc.error(
                Span::default(),
                e.to_string(),
                "here",
                None,
            )]));
        }
    };
    let spec = &file.spec;
    // Rule parameters that the schema cannot fully check (quantities, ...).
    let mut own_rules = BTreeMap::new();
    for (key, setting) in &spec.rules {
        let ptr = Pointer::root().key("spec").key("rules").key(key);
        let Some(def) = rules::find(key) else {
            errors.push(unknown_rule(&doc, &ptr, key));
            continue;
        };
        if own_rules.contains_key(def.meta.code) {
            errors.push(doc.error(
                doc.key_span(&ptr),
                format!(
                    "rule {} is configured twice (by code and by name)",
                    def.meta.code
                ),
                "second setting",
                None,
            ));
        }
        own_rules.insert(
            def.meta.code,
            RuleConfig {
                enabled: setting.enabled,
                severity: setting.severity,
                params: setting.parameters.clone(),
            },
        );
    }
    for (i, ex) in spec.exemptions.iter().enumerate() {
        if let Some(date) = &ex.expires
            && parse_date(date).is_none()
        {
            let ptr = Pointer::root()
                .key("spec")
                .key("exemptions")
                .index(i)
                .key("expires");
            errors.push(doc.error(
                doc.value_span(&ptr),
                format!("`{date}` is not a valid date (YYYY-MM-DD)"),
                "not a date",
                None,
            ));
        }
    }
    let mut custom_rules = Vec::new();
    for (i, rule) in spec.custom_rules.iter().enumerate() {
        let ptr = Pointer::root().key("spec").key("customRules").index(i);
        let clash = rule.code.starts_with("SL")
            || rules::find(&rule.code).is_some()
            || rules::find(&rule.name).is_some();
        let duplicate = spec.custom_rules[..i]
            .iter()
            .any(|r| r.code == rule.code || r.name == rule.name);
        if clash || duplicate {
            errors.push(doc.error(
                doc.value_span(&ptr.key("code")),
                format!(
                    "custom rule {} ({}) {}",
                    rule.code,
                    rule.name,
                    if clash {
                        "collides with a built-in rule (SL codes are reserved)"
                    } else {
                        "is declared twice"
                    }
                ),
                "here",
                None,
            ));
            continue;
        }
        match custom::CompiledCustom::compile(rule) {
            Ok(c) => custom_rules.push(c),
            Err(e) => errors.push(doc.error(
                doc.key_span(&ptr.key("schema")),
                format!("custom rule {}: invalid JSON Schema: {e}", rule.code),
                "here",
                None,
            )),
        }
    }
    if let Some(a) = &spec.annotation_suppressions {
        for (j, r) in a.rules.iter().enumerate() {
            if rules::find(r).is_none() {
                let ptr = Pointer::root()
                    .key("spec")
                    .key("annotationSuppressions")
                    .key("rules")
                    .index(j);
                errors.push(unknown_rule(&doc, &ptr, r));
            }
        }
    }
    // Resolve what this policy extends, then lay its own settings over them.
    chain.push(identity(name));
    let mut merged: Option<Policy> = None;
    for (i, parent) in spec.extends.iter().enumerate() {
        let ptr = Pointer::root().key("spec").key("extends").index(i);
        let parent_id = if BUILTIN.iter().any(|(n, _)| n == parent) {
            format!("builtin:{parent}")
        } else {
            identity(
                &base
                    .map_or_else(|| PathBuf::from(parent), |b| b.join(parent))
                    .display()
                    .to_string(),
            )
        };
        if chain.contains(&parent_id) {
            errors.push(doc.error(
                doc.value_span(&ptr),
                format!(
                    "`{parent}` extends itself through {}",
                    // File names, not machine paths: the message reads the same everywhere.
                    chain
                        .iter()
                        .map(|id| id.rsplit('/').next().unwrap_or(id))
                        .collect::<Vec<_>>()
                        .join(" -> ")
                ),
                "cycle",
                None,
            ));
            continue;
        }
        let loaded = match BUILTIN.iter().find(|(n, _)| n == parent) {
            Some((n, text)) => load_text(&format!("builtin:{n}"), text, None, chain),
            None => {
                let path: PathBuf = base.map_or_else(|| PathBuf::from(parent), |b| b.join(parent));
                if !path.exists() {
                    let known: Vec<&str> = BUILTIN.iter().map(|(n, _)| *n).collect();
                    errors.push(doc.error(
                        doc.value_span(&ptr),
                        format!(
                            "`{parent}` is neither a built-in pack ({}) nor a file",
                            known.join(", ")
                        ),
                        "not found",
                        None,
                    ));
                    continue;
                }
                load_path(&path, chain)
            }
        };
        match loaded {
            Ok(p) => merged = Some(merge(merged, p)),
            Err(e) => errors.extend(e.errors),
        }
    }
    chain.pop();
    let own = Policy {
        name: file.metadata.name.clone(),
        description: file.metadata.description.clone(),
        mode: spec.mode.unwrap_or_default(),
        rules: own_rules,
        only_listed_rules: spec.only_listed_rules.unwrap_or(false),
        match_: spec.match_.clone(),
        exemptions: spec.exemptions.clone(),
        exemption_sites: (0..spec.exemptions.len())
            .map(|i| {
                let span = doc.key_span(&Pointer::root().key("spec").key("exemptions").index(i));
                let lc = doc.source.line_col(span.start);
                Site {
                    file: name.to_string(),
                    line: lc.line,
                    column: lc.column,
                }
            })
            .collect(),
        annotation_suppressions: spec.annotation_suppressions.clone(),
        custom_rules,
    };
    let base_mode = merged.as_ref().map(|b| b.mode);
    let mut policy = merge(merged, own);
    // A mode the extending file leaves unset keeps the base's.
    policy.mode = spec.mode.or(base_mode).unwrap_or_default();
    policy.only_listed_rules = spec.only_listed_rules.unwrap_or(policy.only_listed_rules);
    // Exemptions may name built-in rules and the custom rules of this policy or its bases.
    for (i, ex) in spec.exemptions.iter().enumerate() {
        for (j, r) in ex.rules.iter().enumerate() {
            let custom = policy
                .custom_rules
                .iter()
                .any(|c| c.code == r || c.name == r);
            if rules::find(r).is_none() && !custom {
                let ptr = Pointer::root()
                    .key("spec")
                    .key("exemptions")
                    .index(i)
                    .key("rules")
                    .index(j);
                errors.push(unknown_rule(&doc, &ptr, r));
            }
        }
    }
    // Parameters are validated once, here, with the rule's own deserializer.
    if errors.is_empty()
        && let Err(e) = policy.engine()
    {
        let (code, message) = match &e {
            EngineError::InvalidParams { code, message } => (*code, message.clone()),
            EngineError::UnknownRule { name, .. } => ("", format!("unknown rule {name}")),
        };
        let key = spec
            .rules
            .keys()
            .find(|k| rules::find(k).is_some_and(|d| d.meta.code == code));
        let span = key
            .map(|k| {
                doc.key_span(
                    &Pointer::root()
                        .key("spec")
                        .key("rules")
                        .key(k)
                        .key("parameters"),
                )
            })
            .unwrap_or_default();
        errors.push(doc.error(
            span,
            format!("invalid parameters for {code}: {message}"),
            "here",
            None,
        ));
    }
    if errors.is_empty() {
        Ok(policy)
    } else {
        Err(fail(errors))
    }
}

/// What identifies a policy in an `extends` chain: the built-in name, or the
/// canonical path of its file.
fn identity(name: &str) -> String {
    if name.starts_with("builtin:") {
        return name.to_string();
    }
    std::fs::canonicalize(name).map_or_else(|_| name.to_string(), |p| p.display().to_string())
}

/// Lays `top` over `base`: rule settings field by field (parameters object by
/// object), exemptions added, mode and match from `top`.
fn merge(base: Option<Policy>, top: Policy) -> Policy {
    let Some(mut base) = base else {
        return top;
    };
    for (code, setting) in top.rules {
        let entry = base.rules.entry(code).or_default();
        if setting.enabled.is_some() {
            entry.enabled = setting.enabled;
        }
        if setting.severity.is_some() {
            entry.severity = setting.severity;
        }
        if let Some(params) = setting.params {
            entry.params = Some(match entry.params.take() {
                Some(mut old) => {
                    merge_json(&mut old, params);
                    old
                }
                None => params,
            });
        }
    }
    base.exemptions.extend(top.exemptions);
    base.exemption_sites.extend(top.exemption_sites);
    base.custom_rules.extend(top.custom_rules);
    base.annotation_suppressions = top.annotation_suppressions.or(base.annotation_suppressions);
    base.name = top.name;
    base.description = top.description.or(base.description);
    base.mode = top.mode;
    base.match_ = top.match_.or(base.match_);
    base.only_listed_rules = top.only_listed_rules || base.only_listed_rules;
    base
}

fn merge_json(base: &mut serde_json::Value, top: serde_json::Value) {
    match (base, top) {
        (serde_json::Value::Object(b), serde_json::Value::Object(t)) => {
            for (k, v) in t {
                match b.get_mut(&k) {
                    // A label selector is replaced, never merged: merging
                    // `matchLabels` would AND the base's labels with the new ones.
                    Some(slot) if k.ends_with("Selector") => *slot = v,
                    Some(slot) => merge_json(slot, v),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (slot, top) => *slot = top,
    }
}

fn unknown_rule(doc: &Doc<'_>, ptr: &Pointer, key: &str) -> PolicyError {
    let help = rules::suggest(key).map(|s| format!("did you mean `{s}`?"));
    doc.error(
        doc.key_span(ptr),
        format!("unknown rule `{key}`"),
        "no such rule",
        help.or_else(|| Some("`sandbox-lint rules` lists every rule".into())),
    )
}

/// Schema errors, each at the offending key or value; unknown keys with a
/// "did you mean" from the keys the schema allows there.
fn schema_errors(doc: &Doc<'_>, json: &serde_json::Value) -> Vec<PolicyError> {
    let schema = schema::policy_schema();
    let mut out = Vec::new();
    for e in validator().iter_errors(json) {
        let ptr = Pointer::parse(e.instance_path().as_str());
        if let jsonschema::error::ValidationErrorKind::AdditionalProperties { unexpected } =
            e.kind()
        {
            let allowed = allowed_keys(&schema, e.schema_path().as_str());
            for key in unexpected {
                let at = ptr.key(key);
                let in_rules = ptr.as_str() == "/spec/rules";
                let suggestion = if in_rules {
                    rules::suggest(key)
                } else {
                    crate::yaml::de::suggest(key, &allowed)
                };
                let what = if in_rules {
                    "unknown rule"
                } else {
                    "unknown key"
                };
                out.push(
                    doc.error(
                        doc.key_span(&at),
                        format!("{what} `{key}`"),
                        what,
                        suggestion
                            .map(|s| format!("did you mean `{s}`?"))
                            .or_else(|| {
                                (!allowed.is_empty() && !in_rules)
                                    .then(|| format!("expected one of: {}", allowed.join(", ")))
                            }),
                    ),
                );
            }
            continue;
        }
        let at = if ptr.as_str().is_empty() {
            "/"
        } else {
            ptr.as_str()
        };
        let message = match e.kind() {
            jsonschema::error::ValidationErrorKind::Required { property } => {
                format!("{at}: missing required key {property}")
            }
            jsonschema::error::ValidationErrorKind::AnyOf { .. }
            | jsonschema::error::ValidationErrorKind::OneOfNotValid { .. } => {
                let expected = expected_of(&schema, e.schema_path().as_str());
                format!("{at}: {} is not valid: expected {expected}", e.instance())
            }
            _ => format!("{at}: {e}"),
        };
        out.push(doc.error(doc.value_span(&ptr), message, "invalid", None));
    }
    out
}

/// What an `anyOf`/`oneOf` at `schema_path` accepts, in words: the constants of
/// its alternatives, or the description of the schema that holds it.
fn expected_of(schema: &serde_json::Value, schema_path: &str) -> String {
    let resolve = |v: &'_ serde_json::Value| -> serde_json::Value {
        match v
            .get("$ref")
            .and_then(|r| r.as_str())
            .and_then(|r| r.strip_prefix('#'))
        {
            Some(ptr) => schema.pointer(ptr).cloned().unwrap_or_default(),
            None => v.clone(),
        }
    };
    let mut consts: Vec<String> = Vec::new();
    let mut visit = vec![schema.pointer(schema_path).cloned().unwrap_or_default()];
    while let Some(node) = visit.pop() {
        for alt in node.as_array().into_iter().flatten() {
            let alt = resolve(alt);
            consts.extend(
                alt.get("const")
                    .into_iter()
                    .chain(
                        alt.get("enum")
                            .and_then(|e| e.as_array())
                            .into_iter()
                            .flatten(),
                    )
                    .filter(|c| !c.is_null())
                    .map(|c| c.as_str().map_or_else(|| c.to_string(), str::to_string)),
            );
            for key in ["oneOf", "anyOf"] {
                if let Some(nested) = alt.get(key) {
                    visit.push(nested.clone());
                }
            }
        }
    }
    if !consts.is_empty() {
        return format!("one of: {}", consts.join(", "));
    }
    let parent = schema_path.rsplit_once('/').map_or("", |(p, _)| p);
    let description = schema
        .pointer(parent)
        .and_then(|s| s.get("description"))
        .and_then(|d| d.as_str())
        .unwrap_or("a value of another shape")
        .trim_end_matches('.');
    let mut chars = description.chars();
    chars
        .next()
        .map(|c| c.to_lowercase().collect::<String>() + chars.as_str())
        .unwrap_or_default()
}

/// The property names allowed by the schema object that holds the
/// `additionalProperties` keyword at `schema_path`.
fn allowed_keys(schema: &serde_json::Value, schema_path: &str) -> Vec<&'static str> {
    let parent = schema_path
        .strip_suffix("/additionalProperties")
        .unwrap_or(schema_path);
    let Some(props) = schema
        .pointer(parent)
        .and_then(|s| s.get("properties"))
        .and_then(|p| p.as_object())
    else {
        return Vec::new();
    };
    // Leak-free: names come from the generated schema, which lives for the program.
    props
        .keys()
        .filter_map(|k| {
            KNOWN_KEYS
                .iter()
                .find(|known| **known == k.as_str())
                .copied()
        })
        .collect()
}

/// Every key the policy format uses (for suggestions with a `'static` lifetime).
const KNOWN_KEYS: &[&str] = &[
    "apiVersion",
    "kind",
    "metadata",
    "spec",
    "name",
    "description",
    "mode",
    "extends",
    "match",
    "rules",
    "onlyListedRules",
    "exemptions",
    "annotationSuppressions",
    "kinds",
    "namespaces",
    "namespaceSelector",
    "labelSelector",
    "matchLabels",
    "matchExpressions",
    "key",
    "operator",
    "values",
    "enabled",
    "severity",
    "parameters",
    "names",
    "images",
    "reason",
    "expires",
    "annotation",
    "allowed",
    "allowedTypes",
    "maxSize",
    "allowedPaths",
    "required",
    "max",
    "maxSeconds",
    "value",
    "effect",
];

/// Today as days since 1970-01-01 (UTC).
pub fn today() -> i64 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    (secs / 86_400) as i64
}

/// Parses `YYYY-MM-DD` into days since 1970-01-01.
pub fn parse_date(s: &str) -> Option<i64> {
    let mut parts = s.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (y, m, d): (i64, u32, u32) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days_in = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&m) || d == 0 || d > days_in[m as usize - 1] {
        return None;
    }
    // Days from civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_parse_and_reject_impossible_days() {
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(parse_date("2000-03-01"), Some(11_017));
        assert_eq!(parse_date("2024-02-29").map(|d| d > 0), Some(true));
        assert_eq!(parse_date("2023-02-29"), None);
        assert_eq!(parse_date("2026-13-01"), None);
        assert_eq!(parse_date("26-01-01"), None);
    }

    #[test]
    fn the_builtin_pack_loads_with_the_rule_defaults() {
        let p = default_policy();
        assert_eq!(p.name, "gvisor-sandbox");
        assert_eq!(p.mode, Mode::Enforce);
        let limits = p.rules["SL1022"].params.clone().unwrap();
        assert_eq!(limits["max"]["memory"], "4Gi");
        // The pack writes out the defaults: same parameters as the declarations.
        for (code, cfg) in &p.rules {
            let def = rules::find(code).unwrap();
            let defaults = (def.defaults)();
            let mut merged = defaults.clone();
            merge_json(&mut merged, cfg.params.clone().unwrap_or_default());
            assert_eq!(
                merged, defaults,
                "{code}: the pack and the declaration disagree"
            );
        }
    }
}
