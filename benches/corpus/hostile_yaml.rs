//! Manifest inputs shaped to find where reading, judging or reporting stops
//! being linear: each shape fills a byte budget with one pattern taken to the
//! extreme (many documents, many findings, deep nesting, one huge line, aliases,
//! syntax errors, unknown fields, suppressions, lone CRs, NetworkPolicies).
//!
//! Shared by `benches/bounds.rs` (release binary, time and peak RSS per format)
//! and `tests/bounds.rs` (debug binary under a memory limit).

/// One generated input: a name and the manifest's bytes (at most the budget).
pub struct Shape {
    pub name: &'static str,
    pub text: String,
}

/// A privileged pod: every container flaw the default policy knows, so a
/// document carries a few dozen findings.
fn privileged_pod(i: usize) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p{i}\n  namespace: workflows\n  labels: {{app: workflow-runner}}\nspec:\n  hostPID: true\n  hostNetwork: true\n  containers:\n  - name: c\n    image: ubuntu\n    securityContext: {{privileged: true, runAsUser: 0}}\n    volumeMounts: [{{name: h, mountPath: /host}}]\n  volumes: [{{name: h, hostPath: {{path: /}}}}]\n"
    )
}

/// Repeats `unit(i)` (separated by `sep`) while it fits in `budget` bytes.
fn fill(budget: usize, head: &str, sep: &str, mut unit: impl FnMut(usize) -> String) -> String {
    let mut out = String::from(head);
    for i in 0.. {
        let u = unit(i);
        if out.len() + sep.len() + u.len() > budget {
            break;
        }
        out.push_str(sep);
        out.push_str(&u);
    }
    out
}

/// Every shape at `budget` bytes.
pub fn shapes(budget: usize) -> Vec<Shape> {
    let mut v = Vec::new();
    let mut add = |name, text: String| {
        assert!(text.len() <= budget, "{name}: {} > {budget}", text.len());
        v.push(Shape { name, text });
    };
    add(
        "tiny-documents",
        fill(budget, "", "", |i| format!("---\na{i}: 1\n")),
    );
    add(
        "empty-documents",
        fill(budget, "", "", |_| "---\n".to_string()),
    );
    add("privileged-pods", fill(budget, "", "---\n", privileged_pod));
    add(
        "privileged-pods-cr",
        fill(budget, "# lone CR line ends\r", "---\r", |i| {
            privileged_pod(i).replace('\n', "\r")
        }),
    );
    add(
        "one-pod-many-containers",
        fill(
            budget,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: wide, namespace: workflows}\nspec:\n  containers:\n",
            "",
            |i| {
                format!(
                    "  - {{name: c{i}, image: ubuntu, securityContext: {{privileged: true, runAsUser: 0}}}}\n"
                )
            },
        ),
    );
    add("one-line-flow", {
        let mut s = fill(
            budget - 2,
            "{apiVersion: v1, kind: List, items: [",
            "",
            |i| {
                format!(
                    "{{apiVersion: v1, kind: Pod, metadata: {{name: p{i}}}, spec: {{hostPID: true, containers: [{{name: c, image: ubuntu, securityContext: {{privileged: true}}}}]}}}}, "
                )
            },
        );
        s.push_str("]}");
        s
    });
    add("many-volumes-and-mounts", {
        // Every mount names a volume: a lookup per mount over every volume is
        // quadratic.
        let n = budget / 110;
        let mut s = String::from(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: vols, namespace: workflows}\nspec:\n  containers:\n  - name: c\n    image: ubuntu\n    volumeMounts:\n",
        );
        for i in 0..n {
            s.push_str(&format!("    - {{name: v{i}, mountPath: /m/{i}}}\n"));
        }
        s.push_str("  volumes:\n");
        for i in 0..n {
            let line = format!("  - {{name: v{i}, persistentVolumeClaim: {{claimName: c}}}}\n");
            if s.len() + line.len() > budget {
                break;
            }
            s.push_str(&line);
        }
        s
    });
    add(
        "many-env-ports-and-capabilities",
        fill(
            budget,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: env, namespace: workflows}\nspec:\n  containers:\n  - name: c\n    image: ubuntu\n    securityContext: {capabilities: {add: [NET_ADMIN, SYS_ADMIN]}}\n    ports: [{containerPort: 1, hostPort: 1}]\n    env:\n",
            "",
            |i| {
                format!(
                    "    - {{name: API_TOKEN_{i}, value: literal}}\n    - {{name: V{i}, valueFrom: {{secretKeyRef: {{name: s, key: k}}}}}}\n"
                )
            },
        ),
    );
    add("deep-block-nesting", {
        let mut s =
            String::from("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\ndata:\n");
        let mut depth = 1;
        loop {
            let line = format!("{}k{depth}:\n", "  ".repeat(depth));
            if s.len() + line.len() + depth * 2 + 8 > budget || depth > 5_000 {
                break;
            }
            s.push_str(&line);
            depth += 1;
        }
        s
    });
    add("deep-flow-nesting", {
        let n = (budget - 40) / 2;
        format!("kind: Pod\nspec: {}{}\n", "[".repeat(n), "]".repeat(n))
    });
    add("huge-scalar", {
        let head = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: big\n  annotations:\n    a: \"";
        let tail = "\"\nspec:\n  hostPID: true\n  containers: [{name: c, image: ubuntu}]\n";
        let n = budget - head.len() - tail.len();
        format!("{head}{}{tail}", "x".repeat(n))
    });
    add("huge-comment-line", {
        let head = "# ";
        let tail = "\napiVersion: v1\nkind: Pod\nmetadata: {name: c}\nspec: {hostPID: true, containers: [{name: c, image: ubuntu}]}\n";
        format!(
            "{head}{}{tail}",
            "c".repeat(budget - head.len() - tail.len())
        )
    });
    add(
        "wide-mapping",
        fill(
            budget,
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: wide}\ndata:\n",
            "",
            |i| format!("  key{i}: v\n"),
        ),
    );
    add("alias-bomb", {
        // Each level refers to the one before ten times; the reader's alias
        // budget must refuse it long before it is expanded.
        let mut s = String::from(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lol}\ndata:\n  l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n",
        );
        for i in 1..40 {
            let refs = vec![format!("*l{}", i - 1); 10].join(", ");
            s.push_str(&format!("  l{i}: &l{i} [{refs}]\n"));
        }
        s
    });
    add(
        "many-aliases",
        fill(
            budget,
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: refs}\ndata:\n  base: &b v\n",
            "",
            |i| format!("  k{i}: *b\n"),
        ),
    );
    add(
        "syntax-error-documents",
        fill(budget, "", "", |i| {
            format!("---\nkind: Pod\nmetadata: {{name: e{i}\n")
        }),
    );
    add(
        "tab-error-documents",
        fill(budget, "", "", |i| {
            format!("---\nkind: Pod\n\tname: t{i}\n")
        }),
    );
    add(
        "unknown-fields",
        fill(
            budget,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: typos, namespace: workflows}\nspec:\n  containers: [{name: c, image: ubuntu}]\n",
            "",
            |i| format!("  hostPIDx{i}: true\n"),
        ),
    );
    add(
        "suppressed-findings",
        fill(budget, "", "---\n", |i| {
            format!(
                "# sandbox-lint: ignore-file[SL1013]\n{}",
                privileged_pod(i).replace(
                    "hostPID: true\n",
                    "hostPID: true # sandbox-lint: ignore[SL1013]\n"
                )
            )
        }),
    );
    add(
        "wrong-types",
        fill(budget, "", "---\n", |i| {
            format!(
                "apiVersion: v1\nkind: Pod\nmetadata: {{name: w{i}}}\nspec: {{hostPID: yes, containers: {{name: c}}, securityContext: [1, 2]}}\n"
            )
        }),
    );
    add("network-policies-and-runners", {
        // Issue 19 is the cluster-scale version; this is what fits in the budget.
        let mut i = 0;
        fill(budget, "", "---\n", |_| {
            i += 1;
            if i % 3 == 0 {
                format!(
                    "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: np{i}, namespace: workflows}}\nspec:\n  podSelector: {{matchLabels: {{app: workflow-runner, shard: s{}}}}}\n  policyTypes: [Ingress, Egress]\n  egress:\n  - to: [{{ipBlock: {{cidr: 10.{}.0.0/16, except: [10.{}.1.0/24]}}}}]\n    ports: [{{port: 443, protocol: TCP}}, {{port: {}, endPort: {}}}]\n",
                    i % 17,
                    i % 250,
                    i % 250,
                    1000 + i % 1000,
                    2000 + i % 1000
                )
            } else {
                privileged_pod(i).replace(
                    "labels: {app: workflow-runner}",
                    &format!("labels: {{app: workflow-runner, shard: s{}}}", i % 17),
                )
            }
        })
    });
    v
}
