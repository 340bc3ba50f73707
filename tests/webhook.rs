//! The webhook's decisions, judged in-process through
//! `sandbox_lint::webhook::review::review` (the function the HTTPS handler
//! calls with the request body): modes, operations, subresources, exemptions,
//! annotations, the live cluster context, and fail-closed answers to bad input.
//! The server around it (TLS, limits, metrics, shutdown) is tested in
//! tests/webhook_server.rs; the API server end to end in tests/admission_e2e.rs.

use std::path::Path;

use serde_json::{Value, json};

use sandbox_lint::check;
use sandbox_lint::linter::Linter;
use sandbox_lint::policy;
use sandbox_lint::webhook::review::{self, Decision, MAX_MESSAGE_CHARS, MAX_WARNING_CHARS};
use sandbox_lint::yaml::{Limits, parse_documents};

const POD: &str = include_str!("../testdata/compliant/ok-runner-pod.yaml");

/// The first document of a YAML text as JSON.
fn json_of(yaml: &str) -> Value {
    parse_documents(yaml, &Limits::default()).unwrap()[0].to_json()
}

fn pod() -> Value {
    json_of(POD)
}

fn privileged_pod() -> Value {
    let mut p = pod();
    p["spec"]["containers"][0]["securityContext"]["privileged"] = json!(true);
    p
}

/// An AdmissionReview v1 for `object`, as the API server sends it.
fn review_body(operation: &str, object: &Value, extra: Value) -> Vec<u8> {
    let kind = object["kind"].as_str().unwrap_or("Pod");
    let mut request = json!({
        "uid": "705ab4f5-6393-11e8-b7cc-42010a800002",
        "kind": {"group": "", "version": "v1", "kind": kind},
        "resource": {"group": "", "version": "v1", "resource": "pods"},
        "namespace": object["metadata"]["namespace"].as_str().unwrap_or("workflows"),
        "operation": operation,
        "userInfo": {"username": "alice", "groups": ["system:authenticated"]},
        "object": object,
        "oldObject": null,
        "dryRun": false,
    });
    if let Value::Object(m) = extra {
        for (k, v) in m {
            request[k] = v;
        }
    }
    serde_json::to_vec(&json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": request,
    }))
    .unwrap()
}

/// The built-in policy, with the corrected seeds' cluster as a live index.
fn live_linter() -> Linter {
    linter_with(Linter::with_default_policy())
}

fn linter_with(linter: Linter) -> Linter {
    let (mut cluster, errors) = check::load_cluster(
        &linter,
        &[],
        &[Path::new("testdata/context").to_path_buf()],
        &Limits::default(),
    );
    assert!(errors.is_empty(), "{errors:?}");
    cluster.live = true;
    linter.set_cluster(cluster);
    linter
}

/// A linter with one policy written inline (extending the built-in one).
fn policy_linter(spec: &str) -> Linter {
    let text = format!(
        "apiVersion: sandbox-lint.dev/v1alpha1\nkind: Policy\nmetadata:\n  name: test-policy\nspec:\n  extends: [gvisor-sandbox]\n{spec}"
    );
    let p = policy::load_text("test-policy.yaml", &text, None, &mut Vec::new()).unwrap();
    linter_with(Linter::new(vec![p]).unwrap())
}

/// The `response` of an answer, checked to be a well-formed AdmissionReview.
fn response(outcome: &review::Outcome) -> Value {
    assert_eq!(
        outcome.status,
        200,
        "{}",
        String::from_utf8_lossy(&outcome.body)
    );
    let v: Value = serde_json::from_slice(&outcome.body).unwrap();
    assert_eq!(v["kind"], "AdmissionReview");
    v["response"].clone()
}

/// A compliant runner pod in the seeds' cluster (done right) is allowed with nothing to say.
#[test]
fn compliant_pod_is_allowed_silently() {
    let out = review::review(&live_linter(), &review_body("CREATE", &pod(), json!({})));
    let r = response(&out);
    assert_eq!(r["uid"], "705ab4f5-6393-11e8-b7cc-42010a800002");
    assert_eq!(r["allowed"], true, "{r}");
    assert!(r.get("warnings").is_none(), "{r}");
    assert_eq!(out.decision, Decision::Allowed);
}

/// Enforce mode: an error denies, with a concise message listing code, field
/// path and message for each violation, and HTTP-like code 403.
#[test]
fn enforce_denies_with_code_path_and_message() {
    let out = review::review(
        &live_linter(),
        &review_body("CREATE", &privileged_pod(), json!({})),
    );
    let r = response(&out);
    assert_eq!(r["allowed"], false);
    assert_eq!(r["status"]["code"], 403);
    let msg = r["status"]["message"].as_str().unwrap();
    assert!(
        msg.starts_with("sandbox-lint: Pod workflows/runner violates policy gvisor-sandbox:"),
        "{msg}"
    );
    assert!(
        msg.contains("\n- SL1007 spec.containers[0].securityContext.privileged: container \"runner\" runs privileged"),
        "{msg}"
    );
    assert_eq!(msg.lines().count(), 2, "one violation, one line: {msg}");
    assert_eq!(out.decision, Decision::Denied);
    assert_eq!(out.policy, "gvisor-sandbox");
    assert!(out.findings.iter().any(|(c, _)| *c == "SL1007"));
}

/// Many violations: the message stays within its bound and counts what it leaves out.
#[test]
fn denial_message_is_bounded() {
    let mut p = privileged_pod();
    let c = p["spec"]["containers"][0].clone();
    let containers: Vec<Value> = (0..60)
        .map(|i| {
            let mut c = c.clone();
            c["name"] = json!(format!("c{i}"));
            c["image"] = json!("busybox:latest");
            c
        })
        .collect();
    p["spec"]["containers"] = json!(containers);
    let out = review::review(&live_linter(), &review_body("CREATE", &p, json!({})));
    let msg = response(&out)["status"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(msg.len() <= MAX_MESSAGE_CHARS, "{}", msg.len());
    assert!(msg.contains("more (run `sandbox-lint check`"), "{msg}");
}

/// Warn mode: allowed, every finding a short warning line that kubectl prints.
#[test]
fn warn_mode_allows_with_warnings() {
    let linter = policy_linter("  mode: warn\n");
    let out = review::review(
        &linter,
        &review_body("CREATE", &privileged_pod(), json!({})),
    );
    let r = response(&out);
    assert_eq!(r["allowed"], true);
    let warnings: Vec<&str> = r["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert_eq!(
        warnings,
        [
            "sandbox-lint SL1007 spec.containers[0].securityContext.privileged: container \"runner\" runs privileged"
        ]
    );
    assert!(warnings.iter().all(|w| w.len() <= MAX_WARNING_CHARS));
    assert_eq!(out.decision, Decision::Warned);
    assert_eq!(out.policy, "test-policy");
}

/// Warnings are cut at the API server's per-warning limit and in total.
#[test]
fn warnings_respect_the_api_server_limits() {
    let linter = policy_linter("  mode: warn\n");
    let mut p = privileged_pod();
    let c = p["spec"]["containers"][0].clone();
    let containers: Vec<Value> = (0..80)
        .map(|i| {
            let mut c = c.clone();
            c["name"] = json!(format!(
                "container-with-a-long-name-{i}-{}",
                "x".repeat(200)
            ));
            c
        })
        .collect();
    p["spec"]["containers"] = json!(containers);
    let out = review::review(&linter, &review_body("CREATE", &p, json!({})));
    let warnings = response(&out)["warnings"].as_array().unwrap().clone();
    let total: usize = warnings.iter().map(|w| w.as_str().unwrap().len()).sum();
    assert!(total <= 4096, "{total}");
    assert!(
        warnings
            .iter()
            .all(|w| w.as_str().unwrap().len() <= MAX_WARNING_CHARS)
    );
    assert!(
        warnings
            .last()
            .unwrap()
            .as_str()
            .unwrap()
            .contains("more warnings not shown")
    );
}

/// Audit mode: allowed, findings in audit annotations (and the log line).
#[test]
fn audit_mode_allows_with_audit_annotations() {
    let linter = policy_linter("  mode: audit\n");
    let out = review::review(
        &linter,
        &review_body("CREATE", &privileged_pod(), json!({})),
    );
    let r = response(&out);
    assert_eq!(r["allowed"], true);
    assert!(r.get("warnings").is_none());
    let findings: Vec<String> =
        serde_json::from_str(r["auditAnnotations"]["findings"].as_str().unwrap()).unwrap();
    assert_eq!(
        findings,
        [
            "SL1007 spec.containers[0].securityContext.privileged: container \"runner\" runs privileged"
        ]
    );
    assert_eq!(r["auditAnnotations"]["policy"], "test-policy");
    assert_eq!(out.decision, Decision::Audited);
    assert!(out.message.contains("SL1007"));
}

/// Dry-run requests are judged like real ones.
#[test]
fn dry_run_is_judged() {
    let out = review::review(
        &live_linter(),
        &review_body("CREATE", &privileged_pod(), json!({"dryRun": true})),
    );
    assert_eq!(response(&out)["allowed"], false);
    assert!(out.dry_run);
}

/// UPDATE judges the new object, not the old one; DELETE and CONNECT are allowed.
#[test]
fn update_judges_the_new_object_delete_and_connect_pass() {
    let linter = live_linter();
    let bad_update = review_body("UPDATE", &privileged_pod(), json!({"oldObject": pod()}));
    assert_eq!(
        response(&review::review(&linter, &bad_update))["allowed"],
        false
    );
    let good_update = review_body("UPDATE", &pod(), json!({"oldObject": privileged_pod()}));
    assert_eq!(
        response(&review::review(&linter, &good_update))["allowed"],
        true
    );
    for op in ["DELETE", "CONNECT"] {
        let body = review_body(op, &Value::Null, json!({"oldObject": privileged_pod()}));
        let out = review::review(&linter, &body);
        assert_eq!(response(&out)["allowed"], true, "{op}");
    }
}

/// `kubectl debug` adds an ephemeral container through the ephemeralcontainers
/// subresource: a privileged one is denied (a `status` update of the same pod
/// is a subresource the webhook does not judge: see
/// `unjudged_subresources_are_denied_naming_them`).
#[test]
fn ephemeral_containers_subresource_is_judged() {
    let mut p = pod();
    p["spec"]["ephemeralContainers"] = json!([{
        "name": "debugger",
        "image": "busybox:1.36",
        "securityContext": {"privileged": true}
    }]);
    let linter = live_linter();
    let out = review::review(
        &linter,
        &review_body(
            "UPDATE",
            &p,
            json!({"subResource": "ephemeralcontainers", "oldObject": pod()}),
        ),
    );
    let r = response(&out);
    assert_eq!(r["allowed"], false);
    let msg = r["status"]["message"].as_str().unwrap();
    assert!(
        msg.contains("SL1007 spec.ephemeralContainers[0].securityContext.privileged"),
        "{msg}"
    );
}

/// Fail closed on subresources: the chart registers only `pods/ephemeralcontainers`
/// and `pods/resize` (both carry the whole Pod and are judged); any other
/// subresource that reaches the webhook (a wider rule such as `pods/*`, a
/// CONNECT to `pods/exec`, a `deployments/scale`, or `resize` of something
/// that is not a pod) is denied with a message naming it, even when the
/// object it carries is compliant, instead of being allowed unjudged.
#[test]
fn unjudged_subresources_are_denied_naming_them() {
    let linter = live_linter();
    let pods = json!({"group": "", "version": "v1", "resource": "pods"});
    let deployments = json!({"group": "apps", "version": "v1", "resource": "deployments"});
    let cases = [
        ("UPDATE", "status", pods.clone(), "pods/status"),
        ("CREATE", "binding", pods.clone(), "pods/binding"),
        ("CREATE", "eviction", pods.clone(), "pods/eviction"),
        ("CONNECT", "exec", pods.clone(), "pods/exec"),
        ("CONNECT", "attach", pods.clone(), "pods/attach"),
        (
            "UPDATE",
            "scale",
            deployments.clone(),
            "deployments.apps/scale",
        ),
        ("UPDATE", "resize", deployments, "deployments.apps/resize"),
        (
            "UPDATE",
            "ephemeralcontainers",
            Value::Null,
            "<no resource>/ephemeralcontainers",
        ),
    ];
    for (op, sub, resource, named) in cases {
        let body = review_body(
            op,
            &pod(),
            json!({"subResource": sub, "resource": resource, "oldObject": pod()}),
        );
        let out = review::review(&linter, &body);
        let r = response(&out);
        assert_eq!(r["allowed"], false, "{op} {named} was allowed: {r}");
        assert_eq!(out.decision, Decision::Invalid, "{named}");
        let msg = r["status"]["message"].as_str().unwrap();
        assert!(
            msg.contains(&format!("does not judge the subresource `{named}`"))
                && msg.contains("pods/ephemeralcontainers and pods/resize"),
            "{named}: {msg}"
        );
    }
    // The judged ones still judge: the compliant pod through either is allowed.
    for sub in ["ephemeralcontainers", "resize"] {
        let body = review_body(
            "UPDATE",
            &pod(),
            json!({"subResource": sub, "oldObject": pod()}),
        );
        assert_eq!(
            response(&review::review(&linter, &body))["allowed"],
            true,
            "{sub}"
        );
    }
    // No subresource, or an empty one, is the resource itself.
    let body = review_body(
        "UPDATE",
        &pod(),
        json!({"subResource": "", "oldObject": pod()}),
    );
    assert_eq!(response(&review::review(&linter, &body))["allowed"], true);
}

/// In-place resizing (`pods/resize`, Kubernetes 1.33+) sends the whole Pod: a
/// runner resized past the policy's cpu maximum is denied, within it allowed.
#[test]
fn resize_subresource_is_judged() {
    let linter = live_linter();
    let resized = |cpu: &str| {
        let mut p = pod();
        p["spec"]["containers"][0]["resources"]["limits"]["cpu"] = json!(cpu);
        let body = review_body(
            "UPDATE",
            &p,
            json!({"subResource": "resize", "oldObject": pod()}),
        );
        response(&review::review(&linter, &body))
    };
    let r = resized("16");
    assert_eq!(r["allowed"], false);
    let msg = r["status"]["message"].as_str().unwrap();
    assert!(
        msg.contains("SL1022 spec.containers[0].resources.limits.cpu"),
        "{msg}"
    );
    assert_eq!(resized("1500m")["allowed"], true);
}

/// A Deployment whose template breaks the policy is denied at the template's paths.
#[test]
fn deployment_with_bad_template_is_denied() {
    let template = privileged_pod();
    let deployment = json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "workflows"},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "workflow-runner"}},
            "template": {"metadata": template["metadata"], "spec": template["spec"]},
        }
    });
    let out = review::review(
        &live_linter(),
        &review_body("CREATE", &deployment, json!({})),
    );
    let msg = response(&out)["status"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(msg.contains("Deployment workflows/web"), "{msg}");
    assert!(
        msg.contains("SL1007 spec.template.spec.containers[0].securityContext.privileged"),
        "{msg}"
    );
    assert!(
        msg.contains("SL2003"),
        "a Deployment is a long-running controller: {msg}"
    );
}

/// Namespaces and names the policy exempts are allowed; other objects are not.
#[test]
fn policy_exemptions_allow() {
    let linter = policy_linter(
        "  exemptions:\n  - namespaces: [workflows]\n    names: ['runner*']\n    reason: the platform team's debugging pods\n",
    );
    let out = review::review(
        &linter,
        &review_body("CREATE", &privileged_pod(), json!({})),
    );
    assert_eq!(response(&out)["allowed"], true);
    let mut other = privileged_pod();
    other["metadata"]["name"] = json!("builder");
    let out = review::review(&linter, &review_body("CREATE", &other, json!({})));
    assert_eq!(response(&out)["allowed"], false);
}

/// An object's own annotation never lifts an enforce policy, unless the policy
/// names that annotation and rule.
#[test]
fn annotations_do_not_bypass_enforce() {
    let mut p = privileged_pod();
    p["metadata"]["annotations"] =
        json!({"sandbox-lint.dev/ignore": "SL1007: the debugger needs it"});
    let body = review_body("CREATE", &p, json!({}));
    let out = review::review(&live_linter(), &body);
    assert_eq!(
        response(&out)["allowed"],
        false,
        "default policy ignores annotations"
    );

    let allowing = policy_linter(
        "  annotationSuppressions:\n    annotation: sandbox-lint.dev/ignore\n    rules: [privileged]\n",
    );
    let out = review::review(&allowing, &body);
    assert_eq!(response(&out)["allowed"], true, "{}", out.message);
}

/// With the live cluster index, absence is a fact: a runner in a namespace
/// without NetworkPolicies is denied (not "cannot verify"), and so is a pod
/// whose ServiceAccount mounts a token.
#[test]
fn live_cluster_context_denies_what_files_could_only_warn_about() {
    let linter = live_linter();
    let mut p = pod();
    p["metadata"]["namespace"] = json!("unguarded");
    let out = review::review(&linter, &review_body("CREATE", &p, json!({})));
    let msg = response(&out)["status"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        msg.contains("SL3001 metadata.labels: no NetworkPolicy isolates this runner's ingress"),
        "{msg}"
    );
    assert!(
        msg.contains("SL3006 spec.serviceAccountName: ServiceAccount unguarded/workflow-runner does not exist in the cluster"),
        "{msg}"
    );

    // The same pod judged without a live index only warns.
    let offline = Linter::with_default_policy();
    let out = review::review(&offline, &review_body("CREATE", &p, json!({})));
    let r = response(&out);
    assert_eq!(r["allowed"], true, "{r}");
    assert!(
        r["warnings"]
            .to_string()
            .contains("cannot verify that a NetworkPolicy isolates"),
        "{r}"
    );

    // Those warnings come from the enforce policy: it is the deciding policy.
    assert_eq!(out.decision, Decision::Warned);
    assert_eq!(out.policy, "gvisor-sandbox");

    // A token mounted by the ServiceAccount the pod leaves in charge.
    let sa_mounts = json_of(
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: chatty, namespace: workflows}\nautomountServiceAccountToken: true\n",
    );
    let (mut cluster, _) = check::load_cluster(
        &linter,
        &[],
        &[Path::new("testdata/context").to_path_buf()],
        &Limits::default(),
    );
    sandbox_lint::webhook::context::add_object(
        &mut cluster,
        serde_json::from_value(sa_mounts).unwrap(),
        "default",
    );
    cluster.live = true;
    linter.set_cluster(cluster);
    let mut p = pod();
    p["spec"]["serviceAccountName"] = json!("chatty");
    p["spec"]
        .as_object_mut()
        .unwrap()
        .remove("automountServiceAccountToken");
    let out = review::review(&linter, &review_body("CREATE", &p, json!({})));
    let msg = response(&out)["status"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(msg.contains("SL1012"), "{msg}");
}

/// NetworkPolicies and RBAC bindings are judged too: the seeds' policy is denied.
#[test]
fn network_policy_and_binding_are_judged() {
    let seeds = std::fs::read_to_string("testdata/seeds/network-policy.yaml").unwrap();
    let np = json_of(&seeds);
    let out = review::review(&live_linter(), &review_body("CREATE", &np, json!({})));
    let msg = response(&out)["status"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        msg.contains("NetworkPolicy workflows/runner-network-policy"),
        "{msg}"
    );
    assert!(msg.contains("SL3003 spec.egress[1].to[0]"), "{msg}");

    let binding = json_of(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: runner-can-read, namespace: workflows}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}\nsubjects:\n- {kind: ServiceAccount, name: workflow-runner, namespace: workflows}\n",
    );
    let out = review::review(&live_linter(), &review_body("CREATE", &binding, json!({})));
    let msg = response(&out)["status"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(msg.contains("SL3007"), "{msg}");
}

/// Fail closed: what cannot be judged is denied with a clear message when the
/// review names its uid, and answered with an HTTP error when it does not.
#[test]
fn bad_input_is_denied_or_refused_never_allowed() {
    let linter = live_linter();
    // Not JSON at all: no review can be formed.
    let out = review::review(&linter, b"{\"apiVersion\": ");
    assert_eq!(out.status, 400);
    assert_eq!(out.decision, Decision::Error);
    assert!(String::from_utf8_lossy(&out.body).contains("not valid"));

    // JSON, but no request.
    let out = review::review(
        &linter,
        br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}"#,
    );
    assert_eq!(out.status, 400);

    let deny_reason = |body: &[u8]| {
        let out = review::review(&linter, body);
        let r = response(&out);
        assert_eq!(r["allowed"], false, "{r}");
        assert_eq!(r["uid"], "u-7");
        assert_eq!(out.decision, Decision::Invalid);
        r["status"]["message"].as_str().unwrap().to_string()
    };
    // The old review version: answered in it, denied.
    let mut v1beta1: Value =
        serde_json::from_slice(&review_body("CREATE", &pod(), json!({"uid": "u-7"}))).unwrap();
    v1beta1["apiVersion"] = json!("admission.k8s.io/v1beta1");
    let body = serde_json::to_vec(&v1beta1).unwrap();
    assert!(deny_reason(&body).contains("admission.k8s.io/v1 only"));
    let answer: Value = serde_json::from_slice(&review::review(&linter, &body).body).unwrap();
    assert_eq!(answer["apiVersion"], "admission.k8s.io/v1beta1");

    // A kind sandbox-lint does not model.
    let service = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s", "namespace": "workflows"}, "spec": {}});
    let msg = deny_reason(&review_body("CREATE", &service, json!({"uid": "u-7"})));
    assert!(msg.contains("does not judge v1 Service"), "{msg}");

    // A CREATE without an object.
    let msg = deny_reason(&review_body("CREATE", &Value::Null, json!({"uid": "u-7"})));
    assert!(msg.contains("no object"), "{msg}");

    // A field of the wrong type inside the object.
    let mut p = pod();
    p["spec"]["containers"] = json!("not-a-list");
    let msg = deny_reason(&review_body("CREATE", &p, json!({"uid": "u-7"})));
    assert!(msg.contains("sandbox-lint"), "{msg}");

    // A key given twice in the object.
    let body = br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u-7","operation":"CREATE","object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","name":"b"}}}}"#;
    assert!(deny_reason(body).contains("duplicate key `name`"));

    // An operation that does not exist.
    let msg = deny_reason(&review_body("PATCH", &pod(), json!({"uid": "u-7"})));
    assert!(msg.contains("unknown operation"), "{msg}");
}

/// Field paths read as users write them.
#[test]
fn field_paths() {
    use sandbox_lint::pointer::Pointer;
    let p = Pointer::root()
        .key("metadata")
        .key("annotations")
        .key("sandbox-lint.dev/ignore");
    assert_eq!(
        review::field_path(&p),
        "metadata.annotations[\"sandbox-lint.dev/ignore\"]"
    );
    let p = Pointer::root()
        .key("spec")
        .key("containers")
        .index(3)
        .key("image");
    assert_eq!(review::field_path(&p), "spec.containers[3].image");
    assert_eq!(review::field_path(&Pointer::root()), "<object>");
}

/// The chart registers exactly the subresources the webhook judges: one it
/// registered but did not judge would deny every such request, one it judged
/// but did not register would never be sent.
#[test]
fn chart_registers_exactly_the_judged_subresources() {
    let text = std::fs::read_to_string(
        "charts/sandbox-lint/templates/validatingwebhookconfiguration.yaml",
    )
    .unwrap();
    let mut registered: Vec<String> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("resources: ["))
        .flat_map(|list| list.trim_end_matches(']').split(','))
        .map(str::trim)
        .filter(|r| r.contains('/'))
        .map(str::to_string)
        .collect();
    registered.sort();
    assert_eq!(registered, review::JUDGED_SUBRESOURCES.to_vec());
}
