//! One AdmissionReview in, one out: the webhook's decision, pure and
//! synchronous, so the same function serves the HTTP handler, the tests and
//! the benchmarks.
//!
//! The object is judged by the same [`Linter`] as the CLI: every policy that
//! selects it runs, and each policy's mode decides what its findings do:
//! enforce denies on an active error (warnings become client warnings), warn
//! turns errors and warnings into client warnings, audit records them in audit
//! annotations and the log. Exemptions and allowed annotations are the
//! policies' own (an object annotation never lifts an enforce policy unless the
//! policy names that annotation).
//!
//! Fail closed: a review that cannot be read but names its uid is denied with
//! the reason; one without a uid gets an HTTP error (no review can be formed),
//! which the API server's `failurePolicy: Fail` turns into a denial.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use kube::core::admission::AdmissionResponse;
use kube::core::{Status, TypeMeta};
use serde::Deserialize;

use crate::finding::{Finding, Severity};
use crate::linter::Linter;
use crate::load;
use crate::pointer::Pointer;
use crate::policy::Mode;
use crate::resource::Object;
use crate::rules::input;
use crate::yaml::Node;

/// The AdmissionReview version served.
pub const REVIEW_V1: &str = "admission.k8s.io/v1";
/// The older version: understood enough to answer in it, and denied.
const REVIEW_V1BETA1: &str = "admission.k8s.io/v1beta1";

/// The API server cuts a warning longer than this.
pub const MAX_WARNING_CHARS: usize = 256;
/// The API server drops warnings past this many characters in all.
pub const MAX_WARNINGS_TOTAL: usize = 4096;
/// Violations listed in a denial; the rest are counted.
pub const MAX_LISTED: usize = 25;
/// Upper bound of a denial message and of the audit annotation.
pub const MAX_MESSAGE_CHARS: usize = 6000;

/// What the webhook did with a review (the `decision` label of the metrics).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decision {
    /// Allowed, nothing to say.
    Allowed,
    /// Allowed with client warnings.
    Warned,
    /// Allowed, findings recorded in audit annotations.
    Audited,
    /// Denied by an enforce policy.
    Denied,
    /// Denied because the review could not be judged (fail closed).
    Invalid,
    /// No review could be formed: an HTTP error was returned.
    Error,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allowed => "allowed",
            Decision::Warned => "warned",
            Decision::Audited => "audited",
            Decision::Denied => "denied",
            Decision::Invalid => "invalid",
            Decision::Error => "error",
        }
    }
}

/// The answer to one HTTP request on `/validate`, and what to log and count.
#[derive(Debug)]
pub struct Outcome {
    /// HTTP status: 200 for every well-formed AdmissionReview answer.
    pub status: u16,
    /// The AdmissionReview JSON, or a plain-text error when `status` is not 200.
    pub body: Vec<u8>,
    pub decision: Decision,
    pub uid: String,
    /// `Kind` of the object (or of the request when there is none).
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub operation: String,
    pub dry_run: bool,
    /// The policy whose findings decided (empty when none did).
    pub policy: String,
    /// Active findings: (code, severity).
    pub findings: Vec<(&'static str, Severity)>,
    /// The denial reason, the warnings or the audit lines, for the log.
    pub message: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReviewIn {
    api_version: Option<String>,
    kind: Option<String>,
    request: Option<RequestIn>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RequestIn {
    uid: String,
    #[serde(default)]
    kind: GroupVersionKind,
    #[serde(default)]
    resource: Option<GroupVersionResource>,
    #[serde(default)]
    sub_resource: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    namespace: Option<String>,
    operation: String,
    #[serde(default)]
    object: Option<Node>,
    #[serde(default)]
    dry_run: Option<bool>,
}

#[derive(Deserialize, Default)]
struct GroupVersionKind {
    #[serde(default)]
    kind: String,
}

#[derive(Deserialize, Default)]
struct GroupVersionResource {
    #[serde(default)]
    group: String,
    #[serde(default)]
    resource: String,
}

/// The subresources judged, all of core `pods`, each carrying the whole Pod:
/// `kubectl debug` adds containers through `ephemeralcontainers`, in-place
/// resizing (Kubernetes 1.33+) changes resources through `resize`. The chart
/// registers exactly these; any other subresource that reaches the webhook
/// (`status`, `binding`, `eviction`, `scale`, `exec`, ...) is denied, since the
/// webhook was not written to judge it (fail closed).
pub const JUDGED_SUBRESOURCES: [&str; 2] = ["pods/ephemeralcontainers", "pods/resize"];

/// Just enough of a review to answer it when the rest is unreadable.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UidOnly {
    api_version: Option<String>,
    request: Option<UidOnlyRequest>,
}

#[derive(Deserialize)]
struct UidOnlyRequest {
    uid: Option<String>,
}

/// Judges one request body.
pub fn review(linter: &Linter, body: &[u8]) -> Outcome {
    let parsed: Result<ReviewIn, _> = serde_json::from_slice(body);
    let review = match parsed {
        Ok(r) => r,
        Err(e) => return unreadable(body, &format!("the AdmissionReview is not valid: {e}")),
    };
    let answer_version = answer_version(review.api_version.as_deref());
    let Some(req) = review.request else {
        return http_error(400, "the AdmissionReview has no request");
    };
    let out = Outcome {
        kind: req.kind.kind.clone(),
        namespace: req.namespace.clone().unwrap_or_default(),
        name: req.name.clone().unwrap_or_default(),
        operation: req.operation.clone(),
        dry_run: req.dry_run.unwrap_or(false),
        ..Outcome::new(200, req.uid.clone())
    };
    if review.kind.as_deref() != Some("AdmissionReview")
        || review.api_version.as_deref() != Some(REVIEW_V1)
    {
        let got = format!(
            "{} {}",
            review.api_version.as_deref().unwrap_or("<no apiVersion>"),
            review.kind.as_deref().unwrap_or("<no kind>")
        );
        return invalid(
            out,
            answer_version,
            &format!("sandbox-lint serves AdmissionReview {REVIEW_V1} only, got {got}"),
        );
    }
    // Before the operation: a CONNECT to `pods/exec` is a subresource the
    // webhook does not judge, not an allowed CONNECT.
    if let Some(sub) = req.sub_resource.as_deref().filter(|s| !s.is_empty()) {
        let resource = req.resource.as_ref();
        let name = match resource {
            Some(r) if r.group.is_empty() => format!("{}/{sub}", r.resource),
            Some(r) => format!("{}.{}/{sub}", r.resource, r.group),
            None => format!("<no resource>/{sub}"),
        };
        if !JUDGED_SUBRESOURCES.contains(&name.as_str()) {
            let msg = format!(
                "the webhook does not judge the subresource `{name}` (it judges {}): remove it from the webhook's rules",
                JUDGED_SUBRESOURCES.join(" and ")
            );
            return invalid(out, REVIEW_V1, &msg);
        }
    }
    match req.operation.as_str() {
        "CREATE" | "UPDATE" => {}
        "DELETE" | "CONNECT" => return allowed(out),
        other => return invalid(out, REVIEW_V1, &format!("unknown operation `{other}`")),
    }
    let Some(object) = req
        .object
        .filter(|o| !matches!(o.value, crate::yaml::Value::Null))
    else {
        return invalid(out, REVIEW_V1, "the request has no object to judge");
    };
    judge(linter, object, out)
}

/// Lints the object with every policy and decides by their modes.
fn judge(linter: &Linter, object: Node, mut out: Outcome) -> Outcome {
    let mut loaded = load::load_node(object);
    let Some(doc) = loaded.docs.first_mut() else {
        return invalid(out, REVIEW_V1, "the request's object could not be read");
    };
    if doc.resources.len() != 1 {
        let why = loaded
            .diagnostics
            .first()
            .map(|d| d.message.clone())
            .unwrap_or_else(|| "it is a list, not one object".to_string());
        return invalid(
            out,
            REVIEW_V1,
            &format!("the request's object cannot be judged: {why}"),
        );
    }
    let resource = &mut doc.resources[0];
    if matches!(resource.object, Object::Other) {
        let msg = format!(
            "sandbox-lint does not judge {} {}: configure the webhook for the kinds it knows (see `sandbox-lint rules`)",
            resource.api_version, resource.kind
        );
        return invalid(out, REVIEW_V1, &msg);
    }
    // The API server names the namespace in the request; a new object may leave it out.
    if resource.namespace.as_deref().is_none_or(str::is_empty) && !out.namespace.is_empty() {
        resource.namespace = Some(out.namespace.clone());
        resource.refresh_ident();
    }
    out.kind.clone_from(&resource.kind);
    if out.name.is_empty() {
        out.name.clone_from(&resource.name);
    }

    let resource = &doc.resources[0];
    let json = linter.needs_json().then(|| doc.root.to_json());
    // Findings about the object as input (unknown fields, an outdated
    // apiVersion) are the first policy's, as in the CLI.
    let mut by_policy: Vec<(String, Mode, Vec<Finding>)> = Vec::new();
    let first = linter.policies().next();
    let input_findings: Vec<Finding> = loaded
        .diagnostics
        .iter()
        .filter_map(|d| linter.diagnostic_finding(d))
        .collect();
    if let Some(p) = first {
        by_policy.push((p.name.clone(), p.mode, input_findings));
    }
    linter.lint_per_policy(resource, json.as_ref(), |policy, found| {
        match by_policy.iter_mut().find(|(n, _, _)| *n == policy.name) {
            Some((_, _, list)) => list.extend(found),
            None => by_policy.push((policy.name.clone(), policy.mode, found)),
        }
    });
    decide(out, &resource.object_ref().to_string(), by_policy)
}

/// Turns each policy's active findings into the answer.
fn decide(mut out: Outcome, object: &str, by_policy: Vec<(String, Mode, Vec<Finding>)>) -> Outcome {
    let mut denials: Vec<(String, Vec<Finding>)> = Vec::new();
    let mut warnings: Vec<String> = Vec::new();
    let mut audit: Vec<String> = Vec::new();
    let mut warned_by = String::new();
    let mut audited_by = String::new();
    for (policy, mode, found) in by_policy {
        let active: Vec<Finding> = found.into_iter().filter(Finding::is_active).collect();
        out.findings
            .extend(active.iter().map(|f| (f.code, f.severity)));
        match mode {
            Mode::Enforce => {
                let (errors, rest): (Vec<Finding>, Vec<Finding>) = active
                    .into_iter()
                    .partition(|f| f.severity == Severity::Error);
                for f in rest.iter().filter(|f| f.severity == Severity::Warning) {
                    if warned_by.is_empty() {
                        warned_by.clone_from(&policy);
                    }
                    warnings.push(warning_line(f));
                }
                if !errors.is_empty() {
                    denials.push((policy, errors));
                }
            }
            Mode::Warn => {
                let shown: Vec<&Finding> = active
                    .iter()
                    .filter(|f| f.severity >= Severity::Warning)
                    .collect();
                if !shown.is_empty() && warned_by.is_empty() {
                    warned_by.clone_from(&policy);
                }
                warnings.extend(shown.into_iter().map(warning_line));
            }
            Mode::Audit => {
                if !active.is_empty() && audited_by.is_empty() {
                    audited_by.clone_from(&policy);
                }
                audit.extend(active.iter().map(finding_line));
            }
        }
    }
    let warnings = cap_warnings(warnings);
    let mut response = response_for(&out.uid, REVIEW_V1);
    if !warnings.is_empty() {
        response.warnings = Some(warnings.clone());
    }
    if !audit.is_empty() {
        let mut joined = serde_json::to_string(&audit).unwrap_or_default();
        truncate(&mut joined, MAX_MESSAGE_CHARS);
        response
            .audit_annotations
            .insert("findings".to_string(), joined);
        response
            .audit_annotations
            .insert("policy".to_string(), audited_by.clone());
    }
    if let Some((policy, _)) = denials.first() {
        let message = denial_message(object, &denials);
        out.policy.clone_from(policy);
        out.decision = Decision::Denied;
        response.allowed = false;
        response.result = Status::failure(&message, "Forbidden").with_code(403);
        out.message = message;
    } else if !warnings.is_empty() {
        out.decision = Decision::Warned;
        out.policy = warned_by;
        out.message = warnings.join("\n");
    } else if !audit.is_empty() {
        out.decision = Decision::Audited;
        out.policy = audited_by;
        out.message = audit.join("\n");
    }
    out.body = encode(response, REVIEW_V1);
    out
}

/// The version an answer carries: the request's (v1beta1 or v1).
fn answer_version(requested: Option<&str>) -> &'static str {
    match requested {
        Some(REVIEW_V1BETA1) => REVIEW_V1BETA1,
        _ => REVIEW_V1,
    }
}

/// `Pod workflows/x violates policy P: ...`, one line per violation, bounded.
fn denial_message(object: &str, denials: &[(String, Vec<Finding>)]) -> String {
    let names: Vec<&str> = denials.iter().map(|(p, _)| p.as_str()).collect();
    let mut m = format!(
        "sandbox-lint: {object} violates policy {}:",
        names.join(", ")
    );
    let all: Vec<&Finding> = denials.iter().flat_map(|(_, f)| f).collect();
    let mut seen: HashSet<(&str, &Pointer, &str)> = HashSet::new();
    let mut listed = 0;
    let mut unique = 0;
    for f in &all {
        let key = (f.code, &f.pointer, f.message.as_str());
        if !seen.insert(key) {
            continue;
        }
        unique += 1;
        if listed < MAX_LISTED && m.len() < MAX_MESSAGE_CHARS - 400 {
            let _ = write!(m, "\n- {}", finding_line(f));
            listed += 1;
        }
    }
    if unique > listed {
        let _ = write!(
            m,
            "\n- and {} more (run `sandbox-lint check` on the manifest for all of them)",
            unique - listed
        );
    }
    truncate(&mut m, MAX_MESSAGE_CHARS);
    m
}

/// `sandbox-lint CODE path: message`, cut to what the API server keeps.
fn warning_line(f: &Finding) -> String {
    let mut w = format!("sandbox-lint {}", finding_line(f));
    truncate(&mut w, MAX_WARNING_CHARS);
    w
}

/// Keeps the warnings within the API server's total, saying how many were cut.
fn cap_warnings(mut all: Vec<String>) -> Vec<String> {
    all.dedup();
    let mut total = 0;
    let mut kept = Vec::new();
    let n = all.len();
    for (i, w) in all.into_iter().enumerate() {
        // Leave room for the last line that counts the rest.
        if total + w.len() > MAX_WARNINGS_TOTAL - 80 {
            kept.push(format!(
                "sandbox-lint: {} more warnings not shown (run `sandbox-lint check` on the manifest)",
                n - i
            ));
            break;
        }
        total += w.len();
        kept.push(w);
    }
    kept
}

/// Cuts `s` to at most `max` bytes on a character boundary, marking the cut.
fn truncate(s: &mut String, max: usize) {
    if s.len() <= max {
        return;
    }
    let mut end = max.saturating_sub(3);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.truncate(end);
    s.push('…');
}

/// `CODE field.path: message`, how a finding reads in denials, warnings,
/// audit annotations and the dispatcher's refusals.
pub fn finding_line(f: &Finding) -> String {
    format!("{} {}: {}", f.code, field_path(&f.pointer), f.message)
}

/// A JSON Pointer as the field path users know: `spec.containers[0].image`.
pub fn field_path(p: &Pointer) -> String {
    let mut out = String::new();
    for token in p.tokens() {
        if !token.is_empty() && token.bytes().all(|b| b.is_ascii_digit()) {
            let _ = write!(out, "[{token}]");
        } else if !token.is_empty()
            && token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&token);
        } else {
            let _ = write!(out, "[{token:?}]");
        }
    }
    if out.is_empty() {
        out.push_str("<object>");
    }
    out
}

fn response_for(uid: &str, version: &str) -> AdmissionResponse {
    let mut r = AdmissionResponse::invalid("");
    r.types = TypeMeta {
        api_version: version.to_string(),
        kind: "AdmissionReview".to_string(),
    };
    r.uid = uid.to_string();
    r.allowed = true;
    r.result = Status::default();
    r.audit_annotations = HashMap::new();
    r
}

fn encode(response: AdmissionResponse, version: &str) -> Vec<u8> {
    let mut review = response.into_review();
    review.types.api_version = version.to_string();
    serde_json::to_vec(&review).unwrap_or_else(|e| {
        format!(
            r#"{{"apiVersion":"{REVIEW_V1}","kind":"AdmissionReview","response":{{"uid":"","allowed":false,"status":{{"message":"cannot encode the answer: {e}"}}}}}}"#
        )
        .into_bytes()
    })
}

fn allowed(mut out: Outcome) -> Outcome {
    out.body = encode(response_for(&out.uid, REVIEW_V1), REVIEW_V1);
    out
}

/// Denies a review that cannot be judged, saying why.
fn invalid(mut out: Outcome, version: &str, message: &str) -> Outcome {
    let message = format!("sandbox-lint: {message}");
    let mut r = response_for(&out.uid, version);
    r.allowed = false;
    r.result = Status::failure(&message, "BadRequest").with_code(400);
    out.decision = Decision::Invalid;
    out.message = message;
    out.findings
        .push((input::INVALID_VALUE.meta.code, Severity::Error));
    out.body = encode(r, version);
    out
}

/// A body that is not a readable review: deny it by uid when one can be found,
/// or answer with an HTTP error.
fn unreadable(body: &[u8], message: &str) -> Outcome {
    let found: Option<UidOnly> = serde_json::from_slice(body).ok();
    let uid = found
        .as_ref()
        .and_then(|u| u.request.as_ref())
        .and_then(|r| r.uid.clone());
    match uid {
        Some(uid) => {
            let version = answer_version(found.and_then(|u| u.api_version).as_deref());
            let out = Outcome::new(200, uid);
            invalid(out, version, message)
        }
        None => http_error(400, &format!("{message} (and it names no request uid)")),
    }
}

/// An answer that is not a review.
pub fn http_error(status: u16, message: &str) -> Outcome {
    let mut out = Outcome::new(status, String::new());
    out.body = format!("sandbox-lint: {message}\n").into_bytes();
    out.decision = Decision::Error;
    out.message = message.to_string();
    out
}

impl Outcome {
    /// An answer with nothing decided yet (allowed, empty).
    fn new(status: u16, uid: String) -> Outcome {
        Outcome {
            status,
            body: Vec::new(),
            decision: Decision::Allowed,
            uid,
            kind: String::new(),
            namespace: String::new(),
            name: String::new(),
            operation: String::new(),
            dry_run: false,
            policy: String::new(),
            findings: Vec::new(),
            message: String::new(),
        }
    }
}
