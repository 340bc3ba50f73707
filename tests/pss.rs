//! The Pod Security Standards packs against a table of pods whose admission
//! verdicts were worked out from the standard and the Pod Security admission
//! checks (Kubernetes v1.37): for every pod, `pod-security-baseline` and
//! `pod-security-restricted` deny (report any error) exactly when admission at
//! that level would. Cases cover each control with unset and explicit values,
//! pod and container levels, init and ephemeral containers, Windows pods,
//! `hostUsers: false`, and every version-dependent behaviour (with each rule's
//! `version` parameter pinned, as the `enforce-version` label pins admission).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use sandbox_lint::check::{Options, check_source};
use sandbox_lint::finding::Severity;
use sandbox_lint::linter::Linter;
use sandbox_lint::policy;
use sandbox_lint::source::SourceFile;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Allow,
    Deny,
}
use Verdict::{Allow, Deny};

/// One change to a pod: set a value at a JSON Pointer (creating what is
/// missing, appending at an index equal to an array's length) or remove it.
enum Op {
    Set(&'static str, Value),
    Del(&'static str),
}

fn set(ptr: &'static str, v: Value) -> Op {
    Op::Set(ptr, v)
}

fn del(ptr: &'static str) -> Op {
    Op::Del(ptr)
}

fn apply(doc: &mut Value, op: &Op) {
    let (ptr, value) = match op {
        Op::Set(p, v) => (*p, Some(v.clone())),
        Op::Del(p) => (*p, None),
    };
    let tokens: Vec<String> = ptr
        .split('/')
        .skip(1)
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect();
    let (last, parents) = tokens.split_last().expect("a non-empty pointer");
    let mut node = doc;
    for t in parents {
        node = match node {
            Value::Array(a) => &mut a[t.parse::<usize>().expect("an index")],
            Value::Object(o) => o.entry(t.clone()).or_insert_with(|| json!({})),
            other => panic!("cannot descend into {other} at {ptr}"),
        };
    }
    match (node, value) {
        (Value::Object(o), Some(v)) => {
            o.insert(last.clone(), v);
        }
        (Value::Object(o), None) => {
            o.remove(last);
        }
        (Value::Array(a), Some(v)) => {
            let i: usize = last.parse().expect("an index");
            if i == a.len() {
                a.push(v);
            } else {
                a[i] = v;
            }
        }
        (Value::Array(a), None) => {
            a.remove(last.parse::<usize>().expect("an index"));
        }
        (other, _) => panic!("cannot set into {other} at {ptr}"),
    }
}

/// A container that Restricted accepts (the pod supplies runAsNonRoot and seccomp).
fn container(name: &str) -> Value {
    json!({
        "name": name,
        "image": "busybox:1.36",
        "securityContext": {
            "allowPrivilegeEscalation": false,
            "capabilities": {"drop": ["ALL"]},
        },
    })
}

/// A pod that Restricted (and so Baseline) accepts.
fn restricted_pod() -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "t", "namespace": "default"},
        "spec": {
            "securityContext": {
                "runAsNonRoot": true,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "containers": [container("app")],
        },
    })
}

/// The smallest pod: Baseline accepts it, Restricted does not.
fn minimal_pod() -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "t"},
        "spec": {"containers": [{"name": "app", "image": "busybox:1.36"}]},
    })
}

/// A Windows pod that Restricted accepts: the Linux-only controls are skipped,
/// runAsNonRoot is not.
fn windows_pod() -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "t"},
        "spec": {
            "os": {"name": "windows"},
            "securityContext": {"runAsNonRoot": true},
            "containers": [{"name": "app", "image": "mcr.microsoft.com/windows/nanoserver:ltsc2022"}],
        },
    })
}

struct Case {
    name: String,
    version: &'static str,
    pod: Value,
    baseline: Verdict,
    restricted: Verdict,
}

fn case(
    name: &str,
    base: fn() -> Value,
    ops: &[Op],
    baseline: Verdict,
    restricted: Verdict,
) -> Case {
    case_at("latest", name, base, ops, baseline, restricted)
}

fn case_at(
    version: &'static str,
    name: &str,
    base: fn() -> Value,
    ops: &[Op],
    baseline: Verdict,
    restricted: Verdict,
) -> Case {
    let mut pod = base();
    for op in ops {
        apply(&mut pod, op);
    }
    Case {
        name: name.to_string(),
        version,
        pod,
        baseline,
        restricted,
    }
}

/// The pack at `level`, with every Pod Security Standards rule pinned to `version`.
fn linter(level: &str, version: &str) -> Linter {
    let policy = if version == "latest" {
        policy::builtin(level)
            .expect("a built-in pack")
            .expect("it loads")
    } else {
        let mut text = format!(
            "apiVersion: sandbox-lint.dev/v1alpha1\nkind: Policy\nmetadata: {{name: {level}-{version}}}\nspec:\n  extends: [{level}]\n  rules:\n"
        );
        for r in sandbox_lint::rules::ALL {
            if r.meta.name.starts_with("pss-") {
                text.push_str(&format!(
                    "    {}: {{parameters: {{version: {version}}}}}\n",
                    r.meta.name
                ));
            }
        }
        policy::load_text("pinned.yaml", &text, None, &mut Vec::new())
            .unwrap_or_else(|e| panic!("{e:?}"))
    };
    Linter::new(vec![policy]).expect("the pack compiles")
}

fn verdict(linter: &Linter, pod: &Value) -> (Verdict, Vec<String>) {
    let text = serde_json::to_string_pretty(pod).unwrap();
    let result = check_source(
        linter,
        SourceFile::new("pod.json", text),
        &Options::default(),
    );
    let errors: Vec<String> = result
        .findings
        .iter()
        .filter(|f| f.is_active() && f.severity == Severity::Error)
        .map(|f| format!("{} {} at {}", f.code, f.message, f.pointer))
        .collect();
    let v = if errors.is_empty() { Allow } else { Deny };
    (v, errors)
}

fn run(cases: Vec<Case>) {
    let mut linters: BTreeMap<(&str, &str), Linter> = BTreeMap::new();
    let mut failures = Vec::new();
    for c in &cases {
        for (level, expected) in [
            ("pod-security-baseline", c.baseline),
            ("pod-security-restricted", c.restricted),
        ] {
            let l = linters
                .entry((level, c.version))
                .or_insert_with(|| linter(level, c.version));
            let (got, errors) = verdict(l, &c.pod);
            if got != expected {
                failures.push(format!(
                    "{} [{level} {}]: expected {expected:?}, got {got:?} {errors:#?}",
                    c.name, c.version
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} verdicts differ:\n{}",
        failures.len(),
        cases.len() * 2,
        failures.join("\n")
    );
}

#[test]
fn baseline_of_the_bases() {
    run(vec![
        case("restricted pod", restricted_pod, &[], Allow, Allow),
        case("minimal pod", minimal_pod, &[], Allow, Deny),
        case("windows pod", windows_pod, &[], Allow, Allow),
    ]);
}

#[test]
fn host_process() {
    run(vec![
        case(
            "pod hostProcess true",
            windows_pod,
            &[set(
                "/spec/securityContext/windowsOptions/hostProcess",
                json!(true),
            )],
            Deny,
            Deny,
        ),
        case(
            "container hostProcess false",
            windows_pod,
            &[set(
                "/spec/containers/0/securityContext/windowsOptions/hostProcess",
                json!(false),
            )],
            Allow,
            Allow,
        ),
        case(
            "init container hostProcess true",
            minimal_pod,
            &[set(
                "/spec/initContainers",
                json!([{"name": "i", "image": "x", "securityContext": {"windowsOptions": {"hostProcess": true}}}]),
            )],
            Deny,
            Deny,
        ),
        case(
            "ephemeral container hostProcess true",
            restricted_pod,
            &[
                set("/spec/ephemeralContainers", json!([container("debug")])),
                set(
                    "/spec/ephemeralContainers/0/securityContext/windowsOptions",
                    json!({"hostProcess": true}),
                ),
            ],
            Deny,
            Deny,
        ),
    ]);
}

#[test]
fn host_namespaces() {
    run(vec![
        case(
            "hostNetwork",
            restricted_pod,
            &[set("/spec/hostNetwork", json!(true))],
            Deny,
            Deny,
        ),
        case(
            "hostPID",
            restricted_pod,
            &[set("/spec/hostPID", json!(true))],
            Deny,
            Deny,
        ),
        case(
            "hostIPC",
            minimal_pod,
            &[set("/spec/hostIPC", json!(true))],
            Deny,
            Deny,
        ),
        case(
            "all false",
            restricted_pod,
            &[
                set("/spec/hostNetwork", json!(false)),
                set("/spec/hostPID", json!(false)),
                set("/spec/hostIPC", json!(false)),
            ],
            Allow,
            Allow,
        ),
    ]);
}

#[test]
fn privileged() {
    run(vec![
        case(
            "container privileged",
            restricted_pod,
            &[set(
                "/spec/containers/0/securityContext/privileged",
                json!(true),
            )],
            Deny,
            Deny,
        ),
        case(
            "init container privileged",
            minimal_pod,
            &[set(
                "/spec/initContainers",
                json!([{"name": "i", "image": "x", "securityContext": {"privileged": true}}]),
            )],
            Deny,
            Deny,
        ),
        case(
            "ephemeral container privileged",
            restricted_pod,
            &[
                set("/spec/ephemeralContainers", json!([container("debug")])),
                set(
                    "/spec/ephemeralContainers/0/securityContext/privileged",
                    json!(true),
                ),
            ],
            Deny,
            Deny,
        ),
        case(
            "privileged false",
            restricted_pod,
            &[set(
                "/spec/containers/0/securityContext/privileged",
                json!(false),
            )],
            Allow,
            Allow,
        ),
    ]);
}

#[test]
fn capabilities() {
    let add = "/spec/containers/0/securityContext/capabilities/add";
    run(vec![
        case(
            "add NET_RAW",
            restricted_pod,
            &[set(add, json!(["NET_RAW"]))],
            Deny,
            Deny,
        ),
        case(
            "add CHOWN",
            restricted_pod,
            &[set(add, json!(["CHOWN"]))],
            Allow,
            Deny,
        ),
        case(
            "add NET_BIND_SERVICE",
            restricted_pod,
            &[set(add, json!(["NET_BIND_SERVICE"]))],
            Allow,
            Allow,
        ),
        case(
            "add CAP_CHOWN (exact names)",
            restricted_pod,
            &[set(add, json!(["CAP_CHOWN"]))],
            Deny,
            Deny,
        ),
        case(
            "add chown (exact case)",
            restricted_pod,
            &[set(add, json!(["chown"]))],
            Deny,
            Deny,
        ),
        case(
            "init container adds KILL, drops nothing",
            minimal_pod,
            &[set(
                "/spec/initContainers",
                json!([{"name": "i", "image": "x", "securityContext": {"capabilities": {"add": ["KILL"]}}}]),
            )],
            Allow,
            Deny,
        ),
        case(
            "no drop",
            restricted_pod,
            &[del("/spec/containers/0/securityContext/capabilities")],
            Allow,
            Deny,
        ),
        case(
            "drop all (lower case)",
            restricted_pod,
            &[set(
                "/spec/containers/0/securityContext/capabilities/drop",
                json!(["all"]),
            )],
            Allow,
            Deny,
        ),
        case(
            "drop ALL among others",
            restricted_pod,
            &[set(
                "/spec/containers/0/securityContext/capabilities/drop",
                json!(["NET_RAW", "ALL"]),
            )],
            Allow,
            Allow,
        ),
        case(
            "ephemeral container without drop ALL",
            restricted_pod,
            &[set(
                "/spec/ephemeralContainers",
                json!([{"name": "debug", "image": "x", "securityContext": {"allowPrivilegeEscalation": false}}]),
            )],
            Allow,
            Deny,
        ),
        // Restricted's capabilities check replaces Baseline's, and skips Windows
        // pods from v1.25: a Windows pod is then not checked for capabilities.
        case(
            "windows pod adds SYS_ADMIN",
            windows_pod,
            &[set(add, json!(["SYS_ADMIN"]))],
            Deny,
            Allow,
        ),
        case_at(
            "v1.24",
            "windows pod without drop ALL, v1.24",
            windows_pod,
            &[
                set(
                    "/spec/containers/0/securityContext/allowPrivilegeEscalation",
                    json!(false),
                ),
                set(
                    "/spec/securityContext/seccompProfile",
                    json!({"type": "RuntimeDefault"}),
                ),
            ],
            Allow,
            Deny,
        ),
        // Before v1.22 Restricted has no capabilities check of its own: Baseline's applies.
        case_at(
            "v1.21",
            "no drop ALL, v1.21",
            restricted_pod,
            &[del("/spec/containers/0/securityContext/capabilities")],
            Allow,
            Allow,
        ),
        case_at(
            "v1.21",
            "add CHOWN, v1.21",
            restricted_pod,
            &[set(add, json!(["CHOWN"]))],
            Allow,
            Allow,
        ),
        case_at(
            "v1.21",
            "add NET_RAW, v1.21",
            restricted_pod,
            &[set(add, json!(["NET_RAW"]))],
            Deny,
            Deny,
        ),
        case_at(
            "v1.22",
            "add CHOWN, v1.22",
            restricted_pod,
            &[set(add, json!(["CHOWN"]))],
            Allow,
            Deny,
        ),
    ]);
}

#[test]
fn volumes() {
    let vol = |v: Value| set("/spec/volumes", json!([v]));
    run(vec![
        case(
            "hostPath",
            restricted_pod,
            &[vol(json!({"name": "h", "hostPath": {"path": "/"}}))],
            Deny,
            Deny,
        ),
        case(
            "nfs",
            restricted_pod,
            &[vol(
                json!({"name": "n", "nfs": {"server": "s", "path": "/"}}),
            )],
            Allow,
            Deny,
        ),
        case(
            "gitRepo",
            restricted_pod,
            &[vol(json!({"name": "g", "gitRepo": {"repository": "r"}}))],
            Allow,
            Deny,
        ),
        case(
            "cephfs",
            restricted_pod,
            &[vol(json!({"name": "c", "cephfs": {"monitors": ["m"]}}))],
            Allow,
            Deny,
        ),
        case(
            "configMap",
            restricted_pod,
            &[vol(json!({"name": "c", "configMap": {"name": "c"}}))],
            Allow,
            Allow,
        ),
        case(
            "csi",
            restricted_pod,
            &[vol(json!({"name": "c", "csi": {"driver": "d"}}))],
            Allow,
            Allow,
        ),
        case(
            "image",
            restricted_pod,
            &[vol(json!({"name": "i", "image": {"reference": "r:1"}}))],
            Allow,
            Allow,
        ),
        case(
            "ephemeral",
            restricted_pod,
            &[vol(
                json!({"name": "e", "ephemeral": {"volumeClaimTemplate": {"spec": {}}}}),
            )],
            Allow,
            Allow,
        ),
        case(
            "no source (defaults to emptyDir)",
            restricted_pod,
            &[vol(json!({"name": "s"}))],
            Allow,
            Allow,
        ),
        // Admission tests the allowed sources first, and its volume check replaces
        // Baseline's hostPath check in Restricted (the API server would refuse the
        // two sources before admission; the verdicts are admission's).
        case(
            "emptyDir and hostPath on one volume",
            restricted_pod,
            &[vol(
                json!({"name": "x", "emptyDir": {}, "hostPath": {"path": "/"}}),
            )],
            Deny,
            Allow,
        ),
    ]);
}

#[test]
fn host_ports() {
    let ports = "/spec/containers/0/ports";
    run(vec![
        case(
            "hostPort",
            restricted_pod,
            &[set(ports, json!([{"containerPort": 80, "hostPort": 8080}]))],
            Deny,
            Deny,
        ),
        case(
            "hostPort 0",
            restricted_pod,
            &[set(ports, json!([{"containerPort": 80, "hostPort": 0}]))],
            Allow,
            Allow,
        ),
        case(
            "no hostPort",
            restricted_pod,
            &[set(ports, json!([{"containerPort": 80}]))],
            Allow,
            Allow,
        ),
        case(
            "ephemeral container hostPort",
            restricted_pod,
            &[
                set("/spec/ephemeralContainers", json!([container("debug")])),
                set(
                    "/spec/ephemeralContainers/0/ports",
                    json!([{"containerPort": 1, "hostPort": 1}]),
                ),
            ],
            Deny,
            Deny,
        ),
    ]);
}

#[test]
fn apparmor() {
    let ann = |v: &str| {
        set(
            "/metadata/annotations",
            json!({"container.apparmor.security.beta.kubernetes.io/app": v}),
        )
    };
    run(vec![
        case(
            "pod Unconfined",
            restricted_pod,
            &[set(
                "/spec/securityContext/appArmorProfile",
                json!({"type": "Unconfined"}),
            )],
            Deny,
            Deny,
        ),
        case(
            "container Localhost",
            restricted_pod,
            &[set(
                "/spec/containers/0/securityContext/appArmorProfile",
                json!({"type": "Localhost", "localhostProfile": "p"}),
            )],
            Allow,
            Allow,
        ),
        case(
            "ephemeral container Unconfined",
            restricted_pod,
            &[
                set("/spec/ephemeralContainers", json!([container("debug")])),
                set(
                    "/spec/ephemeralContainers/0/securityContext/appArmorProfile",
                    json!({"type": "Unconfined"}),
                ),
            ],
            Deny,
            Deny,
        ),
        case(
            "annotation unconfined",
            restricted_pod,
            &[ann("unconfined")],
            Deny,
            Deny,
        ),
        case(
            "annotation localhost/",
            restricted_pod,
            &[ann("localhost/p")],
            Allow,
            Allow,
        ),
        case(
            "annotation runtime/default",
            restricted_pod,
            &[ann("runtime/default")],
            Allow,
            Allow,
        ),
        case("annotation empty", restricted_pod, &[ann("")], Allow, Allow),
        case(
            "annotation RuntimeDefault (field spelling)",
            minimal_pod,
            &[ann("RuntimeDefault")],
            Deny,
            Deny,
        ),
    ]);
}

#[test]
fn selinux() {
    let c = "/spec/containers/0/securityContext/seLinuxOptions";
    run(vec![
        case(
            "type spc_t",
            restricted_pod,
            &[set(c, json!({"type": "spc_t"}))],
            Deny,
            Deny,
        ),
        case(
            "pod user",
            restricted_pod,
            &[set(
                "/spec/securityContext/seLinuxOptions",
                json!({"user": "system_u"}),
            )],
            Deny,
            Deny,
        ),
        case(
            "role",
            minimal_pod,
            &[set(c, json!({"role": "system_r"}))],
            Deny,
            Deny,
        ),
        case(
            "level only",
            restricted_pod,
            &[set(c, json!({"level": "s0:c1,c2"}))],
            Allow,
            Allow,
        ),
        case(
            "empty strings",
            restricted_pod,
            &[set(c, json!({"type": "", "user": "", "role": ""}))],
            Allow,
            Allow,
        ),
        case(
            "container_init_t",
            restricted_pod,
            &[set(c, json!({"type": "container_init_t"}))],
            Allow,
            Allow,
        ),
        case(
            "container_engine_t",
            restricted_pod,
            &[set(c, json!({"type": "container_engine_t"}))],
            Allow,
            Allow,
        ),
        case_at(
            "v1.31",
            "container_engine_t, v1.31",
            restricted_pod,
            &[set(c, json!({"type": "container_engine_t"}))],
            Allow,
            Allow,
        ),
        case_at(
            "v1.30",
            "container_engine_t, v1.30",
            restricted_pod,
            &[set(c, json!({"type": "container_engine_t"}))],
            Deny,
            Deny,
        ),
    ]);
}

#[test]
fn proc_mount() {
    let pm = "/spec/containers/0/securityContext/procMount";
    run(vec![
        case(
            "Unmasked",
            restricted_pod,
            &[set(pm, json!("Unmasked"))],
            Deny,
            Deny,
        ),
        case(
            "Default",
            restricted_pod,
            &[set(pm, json!("Default"))],
            Allow,
            Allow,
        ),
        case(
            "Unmasked, hostUsers false",
            restricted_pod,
            &[
                set(pm, json!("Unmasked")),
                set("/spec/hostUsers", json!(false)),
            ],
            Allow,
            Deny,
        ),
        case(
            "Unmasked, hostUsers true",
            restricted_pod,
            &[
                set(pm, json!("Unmasked")),
                set("/spec/hostUsers", json!(true)),
            ],
            Deny,
            Deny,
        ),
        case_at(
            "v1.34",
            "Unmasked, hostUsers false, v1.34",
            restricted_pod,
            &[
                set(pm, json!("Unmasked")),
                set("/spec/hostUsers", json!(false)),
            ],
            Deny,
            Deny,
        ),
        case_at(
            "v1.35",
            "Unmasked, hostUsers false, v1.35",
            restricted_pod,
            &[
                set(pm, json!("Unmasked")),
                set("/spec/hostUsers", json!(false)),
            ],
            Allow,
            Deny,
        ),
    ]);
}

#[test]
fn seccomp() {
    let pod_type = "/spec/securityContext/seccompProfile/type";
    let c = "/spec/containers/0/securityContext/seccompProfile";
    run(vec![
        case(
            "pod Unconfined, container RuntimeDefault",
            restricted_pod,
            &[
                set(pod_type, json!("Unconfined")),
                set(c, json!({"type": "RuntimeDefault"})),
            ],
            Deny,
            Deny,
        ),
        case(
            "container Unconfined",
            restricted_pod,
            &[set(c, json!({"type": "Unconfined"}))],
            Deny,
            Deny,
        ),
        case(
            "pod Localhost",
            restricted_pod,
            &[set(
                "/spec/securityContext/seccompProfile",
                json!({"type": "Localhost", "localhostProfile": "p.json"}),
            )],
            Allow,
            Allow,
        ),
        case(
            "unset everywhere",
            restricted_pod,
            &[del("/spec/securityContext/seccompProfile")],
            Allow,
            Deny,
        ),
        case(
            "pod unset, every container sets it",
            restricted_pod,
            &[
                del("/spec/securityContext/seccompProfile"),
                set(c, json!({"type": "RuntimeDefault"})),
                set("/spec/initContainers", json!([container("init")])),
                set(
                    "/spec/initContainers/0/securityContext/seccompProfile",
                    json!({"type": "Localhost", "localhostProfile": "p"}),
                ),
            ],
            Allow,
            Allow,
        ),
        case(
            "pod unset, init container unset",
            restricted_pod,
            &[
                del("/spec/securityContext/seccompProfile"),
                set(c, json!({"type": "RuntimeDefault"})),
                set("/spec/initContainers", json!([container("init")])),
            ],
            Allow,
            Deny,
        ),
        case(
            "windows pod without seccomp",
            windows_pod,
            &[],
            Allow,
            Allow,
        ),
        case_at(
            "v1.24",
            "windows pod without seccomp, v1.24",
            windows_pod,
            &[set(
                "/spec/containers/0/securityContext",
                json!({"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}),
            )],
            Allow,
            Deny,
        ),
        case_at(
            "v1.25",
            "windows pod without seccomp, v1.25",
            windows_pod,
            &[],
            Allow,
            Allow,
        ),
        // Before v1.19 only the alpha annotations are judged (and Restricted has no
        // seccomp check of its own, so Baseline's applies).
        case_at(
            "v1.18",
            "field Unconfined, v1.18",
            restricted_pod,
            &[set(pod_type, json!("Unconfined"))],
            Allow,
            Allow,
        ),
        case_at(
            "v1.18",
            "pod annotation unconfined, v1.18",
            restricted_pod,
            &[set(
                "/metadata/annotations",
                json!({"seccomp.security.alpha.kubernetes.io/pod": "unconfined"}),
            )],
            Deny,
            Deny,
        ),
        case_at(
            "v1.18",
            "container annotation unconfined, v1.18",
            minimal_pod,
            &[set(
                "/metadata/annotations",
                json!({"container.seccomp.security.alpha.kubernetes.io/app": "unconfined"}),
            )],
            Deny,
            Deny,
        ),
        case_at(
            "v1.18",
            "pod annotation docker/default, v1.18",
            restricted_pod,
            &[set(
                "/metadata/annotations",
                json!({"seccomp.security.alpha.kubernetes.io/pod": "docker/default"}),
            )],
            Allow,
            Allow,
        ),
        case(
            "pod annotation unconfined, latest (no longer judged)",
            restricted_pod,
            &[set(
                "/metadata/annotations",
                json!({"seccomp.security.alpha.kubernetes.io/pod": "unconfined"}),
            )],
            Allow,
            Allow,
        ),
    ]);
}

#[test]
fn sysctls() {
    let groups: &[(u32, &[&str])] = &[
        (
            0,
            &[
                "kernel.shm_rmid_forced",
                "net.ipv4.ip_local_port_range",
                "net.ipv4.tcp_syncookies",
                "net.ipv4.ping_group_range",
                "net.ipv4.ip_unprivileged_port_start",
            ],
        ),
        (27, &["net.ipv4.ip_local_reserved_ports"]),
        (
            29,
            &[
                "net.ipv4.tcp_keepalive_time",
                "net.ipv4.tcp_fin_timeout",
                "net.ipv4.tcp_keepalive_intvl",
                "net.ipv4.tcp_keepalive_probes",
            ],
        ),
        (32, &["net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"]),
        (
            37,
            &[
                "net.ipv4.tcp_slow_start_after_idle",
                "net.ipv4.tcp_notsent_lowat",
            ],
        ),
    ];
    let versions: &[(&'static str, u32)] = &[
        ("v1.0", 0),
        ("v1.26", 26),
        ("v1.27", 27),
        ("v1.28", 28),
        ("v1.29", 29),
        ("v1.31", 31),
        ("v1.32", 32),
        ("v1.36", 36),
        ("v1.37", 37),
        ("latest", 37),
    ];
    let mut cases = Vec::new();
    for &(since, names) in groups {
        for name in names {
            for &(version, minor) in versions {
                let v = if minor >= since { Allow } else { Deny };
                let mut c = case_at(
                    version,
                    &format!("sysctl {name} at {version}"),
                    restricted_pod,
                    &[],
                    v,
                    v,
                );
                apply(
                    &mut c.pod,
                    &set(
                        "/spec/securityContext/sysctls",
                        json!([{"name": name, "value": "1"}]),
                    ),
                );
                cases.push(c);
            }
        }
    }
    let sysctl = |n: &str| {
        set(
            "/spec/securityContext/sysctls",
            json!([{"name": n, "value": "1"}]),
        )
    };
    cases.push(case(
        "kernel.msgmax",
        restricted_pod,
        &[sysctl("kernel.msgmax")],
        Deny,
        Deny,
    ));
    cases.push(case(
        "slash notation",
        minimal_pod,
        &[sysctl("net/ipv4/tcp_syncookies")],
        Deny,
        Deny,
    ));
    cases.push(case(
        "vm.swappiness",
        minimal_pod,
        &[sysctl("vm.swappiness")],
        Deny,
        Deny,
    ));
    run(cases);
}

#[test]
fn host_probes() {
    let probe = |host: &str| {
        set(
            "/spec/containers/0/livenessProbe",
            json!({"httpGet": {"host": host, "port": 80}}),
        )
    };
    run(vec![
        case(
            "liveness httpGet host",
            restricted_pod,
            &[probe("10.0.0.1")],
            Deny,
            Deny,
        ),
        case("empty host", restricted_pod, &[probe("")], Allow, Allow),
        case_at(
            "v1.33",
            "liveness httpGet host, v1.33",
            restricted_pod,
            &[probe("10.0.0.1")],
            Allow,
            Allow,
        ),
        case_at(
            "v1.34",
            "liveness httpGet host, v1.34",
            restricted_pod,
            &[probe("10.0.0.1")],
            Deny,
            Deny,
        ),
        case(
            "postStart tcpSocket host",
            minimal_pod,
            &[set(
                "/spec/containers/0/lifecycle",
                json!({"postStart": {"tcpSocket": {"host": "h", "port": 1}}}),
            )],
            Deny,
            Deny,
        ),
        case(
            "preStop httpGet without host",
            restricted_pod,
            &[set(
                "/spec/containers/0/lifecycle",
                json!({"preStop": {"httpGet": {"path": "/", "port": 1}}}),
            )],
            Allow,
            Allow,
        ),
        case(
            "init container startupProbe host",
            restricted_pod,
            &[
                set("/spec/initContainers", json!([container("sidecar")])),
                set("/spec/initContainers/0/restartPolicy", json!("Always")),
                set(
                    "/spec/initContainers/0/startupProbe",
                    json!({"tcpSocket": {"host": "h", "port": 1}}),
                ),
            ],
            Deny,
            Deny,
        ),
        case(
            "ephemeral container readinessProbe host",
            restricted_pod,
            &[
                set("/spec/ephemeralContainers", json!([container("debug")])),
                set(
                    "/spec/ephemeralContainers/0/readinessProbe",
                    json!({"httpGet": {"host": "h", "port": 1}}),
                ),
            ],
            Deny,
            Deny,
        ),
    ]);
}

#[test]
fn privilege_escalation() {
    let ape = "/spec/containers/0/securityContext/allowPrivilegeEscalation";
    run(vec![
        case("unset", restricted_pod, &[del(ape)], Allow, Deny),
        case(
            "true",
            restricted_pod,
            &[set(ape, json!(true))],
            Allow,
            Deny,
        ),
        case(
            "init container unset",
            restricted_pod,
            &[set(
                "/spec/initContainers",
                json!([{"name": "i", "image": "x", "securityContext": {"capabilities": {"drop": ["ALL"]}}}]),
            )],
            Allow,
            Deny,
        ),
        case("windows pod, unset", windows_pod, &[], Allow, Allow),
        case_at(
            "v1.24",
            "windows pod, unset, v1.24",
            windows_pod,
            &[
                set(
                    "/spec/containers/0/securityContext",
                    json!({"capabilities": {"drop": ["ALL"]}}),
                ),
                set(
                    "/spec/securityContext/seccompProfile",
                    json!({"type": "RuntimeDefault"}),
                ),
            ],
            Allow,
            Deny,
        ),
        case_at(
            "v1.7",
            "unset, v1.7 (before the field)",
            restricted_pod,
            &[del(ape), del("/spec/securityContext/seccompProfile")],
            Allow,
            Allow,
        ),
    ]);
}

#[test]
fn run_as_non_root() {
    let pod = "/spec/securityContext/runAsNonRoot";
    let c = "/spec/containers/0/securityContext/runAsNonRoot";
    run(vec![
        case("unset everywhere", restricted_pod, &[del(pod)], Allow, Deny),
        case(
            "pod unset, every container true",
            restricted_pod,
            &[del(pod), set(c, json!(true))],
            Allow,
            Allow,
        ),
        case(
            "pod false, every container true",
            restricted_pod,
            &[set(pod, json!(false)), set(c, json!(true))],
            Allow,
            Deny,
        ),
        case(
            "pod true, container false",
            restricted_pod,
            &[set(c, json!(false))],
            Allow,
            Deny,
        ),
        case(
            "pod true, ephemeral container false",
            restricted_pod,
            &[
                set("/spec/ephemeralContainers", json!([container("debug")])),
                set(
                    "/spec/ephemeralContainers/0/securityContext/runAsNonRoot",
                    json!(false),
                ),
            ],
            Allow,
            Deny,
        ),
        case(
            "pod unset, container true, init container unset",
            restricted_pod,
            &[
                del(pod),
                set(c, json!(true)),
                set("/spec/initContainers", json!([container("init")])),
            ],
            Allow,
            Deny,
        ),
        case("windows pod, unset", windows_pod, &[del(pod)], Allow, Deny),
        case(
            "hostUsers false, unset",
            restricted_pod,
            &[del(pod), set("/spec/hostUsers", json!(false))],
            Allow,
            Allow,
        ),
        case(
            "hostUsers false, explicit false",
            restricted_pod,
            &[set(pod, json!(false)), set("/spec/hostUsers", json!(false))],
            Allow,
            Allow,
        ),
        case_at(
            "v1.34",
            "hostUsers false, unset, v1.34",
            restricted_pod,
            &[del(pod), set("/spec/hostUsers", json!(false))],
            Allow,
            Deny,
        ),
        case_at(
            "v1.35",
            "hostUsers false, unset, v1.35",
            restricted_pod,
            &[del(pod), set("/spec/hostUsers", json!(false))],
            Allow,
            Allow,
        ),
    ]);
}

#[test]
fn run_as_user() {
    let pod = "/spec/securityContext/runAsUser";
    let c = "/spec/containers/0/securityContext/runAsUser";
    run(vec![
        case("pod 0", restricted_pod, &[set(pod, json!(0))], Allow, Deny),
        case(
            "pod 1000, container 0",
            restricted_pod,
            &[set(pod, json!(1000)), set(c, json!(0))],
            Allow,
            Deny,
        ),
        case(
            "pod 0, container 1000",
            restricted_pod,
            &[set(pod, json!(0)), set(c, json!(1000))],
            Allow,
            Deny,
        ),
        case(
            "non-zero",
            restricted_pod,
            &[set(c, json!(65534))],
            Allow,
            Allow,
        ),
        case(
            "hostUsers false, pod 0",
            restricted_pod,
            &[set(pod, json!(0)), set("/spec/hostUsers", json!(false))],
            Allow,
            Allow,
        ),
        case_at(
            "v1.34",
            "hostUsers false, pod 0, v1.34",
            restricted_pod,
            &[set(pod, json!(0)), set("/spec/hostUsers", json!(false))],
            Allow,
            Deny,
        ),
        case_at(
            "v1.22",
            "pod 0, v1.22 (before the check)",
            restricted_pod,
            &[set(pod, json!(0))],
            Allow,
            Allow,
        ),
        case_at(
            "v1.23",
            "pod 0, v1.23",
            restricted_pod,
            &[set(pod, json!(0))],
            Allow,
            Deny,
        ),
    ]);
}

/// Controllers are judged through their pod templates, metadata included.
#[test]
fn workload_templates() {
    let deployment = |spec: Value, annotations: Value| {
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "d"},
            "spec": {
                "selector": {"matchLabels": {"app": "d"}},
                "template": {
                    "metadata": {"labels": {"app": "d"}, "annotations": annotations},
                    "spec": spec,
                },
            },
        })
    };
    let good = restricted_pod()["spec"].clone();
    let mut host_network = good.clone();
    host_network["hostNetwork"] = json!(true);
    let cases = vec![
        Case {
            name: "deployment, restricted template".into(),
            version: "latest",
            pod: deployment(good.clone(), json!({})),
            baseline: Allow,
            restricted: Allow,
        },
        Case {
            name: "deployment, hostNetwork".into(),
            version: "latest",
            pod: deployment(host_network, json!({})),
            baseline: Deny,
            restricted: Deny,
        },
        Case {
            name: "deployment, template AppArmor annotation".into(),
            version: "latest",
            pod: deployment(
                good,
                json!({"container.apparmor.security.beta.kubernetes.io/app": "unconfined"}),
            ),
            baseline: Deny,
            restricted: Deny,
        },
    ];
    run(cases);
}

/// The packs list exactly the rules of their level, and both load by name
/// from any directory.
#[test]
fn packs_enable_exactly_their_controls() {
    let enabled = |name: &str| -> Vec<&'static str> {
        let p = policy::builtin(name).unwrap().unwrap();
        let mut v: Vec<&str> = p
            .rules
            .iter()
            .filter(|(_, c)| c.enabled == Some(true))
            .map(|(code, _)| *code)
            .filter(|c| c.starts_with("SL11"))
            .collect();
        v.sort();
        v
    };
    let baseline: Vec<String> = (1101..=1112).map(|n| format!("SL{n}")).collect();
    assert_eq!(enabled("pod-security-baseline"), baseline);
    let restricted: Vec<String> = [1101, 1102, 1103, 1106, 1107, 1108, 1111, 1112]
        .into_iter()
        .chain(1113..=1119)
        .map(|n| format!("SL{n}"))
        .collect();
    assert_eq!(enabled("pod-security-restricted"), restricted);
    // By name, from a directory without the policies/ folder.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("pod.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  hostNetwork: true\n  containers: [{name: a, image: b}]\n",
    )
    .unwrap();
    for name in ["pod-security-baseline", "pod-security-restricted"] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_sandbox-lint"))
            .current_dir(dir.path())
            .args(["check", "--format", "json", "--policy", name, "pod.yaml"])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{name}: {stdout}");
        assert!(stdout.contains("SL1102"), "{name}: {stdout}");
    }
}

/// The default policy runs only the Baseline controls the runner checklist
/// does not cover with a rule of its own (AppArmor, SELinux, /proc mount,
/// sysctls, probe hosts); the others would report its own findings twice.
#[test]
fn default_policy_runs_only_the_controls_the_checklist_lacks() {
    let p = policy::default_policy();
    let mut enabled: Vec<&str> = p
        .rules
        .iter()
        .filter(|(code, c)| code.starts_with("SL11") && c.enabled == Some(true))
        .map(|(code, _)| *code)
        .collect();
    enabled.sort();
    assert_eq!(enabled, ["SL1107", "SL1108", "SL1109", "SL1111", "SL1112"]);
    let mut pod = minimal_pod();
    apply(
        &mut pod,
        &set(
            "/spec/securityContext/sysctls",
            json!([{"name": "vm.swappiness", "value": "1"}]),
        ),
    );
    apply(
        &mut pod,
        &set(
            "/spec/containers/0/securityContext/procMount",
            json!("Unmasked"),
        ),
    );
    let text = serde_json::to_string(&pod).unwrap();
    let result = check_source(
        &Linter::with_default_policy(),
        SourceFile::new("pod.json", text),
        &Options::default(),
    );
    let mut pss: Vec<_> = result
        .findings
        .iter()
        .filter(|f| f.code.starts_with("SL11"))
        .map(|f| f.code)
        .collect();
    pss.sort();
    assert_eq!(pss, ["SL1109", "SL1111"]);
}
