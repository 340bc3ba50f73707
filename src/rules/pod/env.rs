//! SL1025: credentials written into the manifest.

use crate::resource::Workload;
use crate::rule::Cx;
use crate::rules::secret_names::SecretParams;

crate::declare_rule! {
    /// Environment variables that look like credentials must come from a Secret, not a literal `value`.
    ///
    /// The checklist passes secrets with `env[].valueFrom.secretKeyRef`. A literal
    /// `value` puts the credential in the manifest itself, and so in every copy of
    /// it: the repository, CI logs, the API server's object (readable by whoever
    /// may read pods, unencrypted at rest), `kubectl get -o yaml`. A name looks
    /// like a credential by the same patterns as `secret-in-build-vars` (the
    /// `patterns` and `allow` parameters of both rules have the same meaning and
    /// defaults). An empty value and any `valueFrom` are not reported. Containers,
    /// init containers and ephemeral containers are judged alike.
    pub static SECRET_LITERAL_ENV = {
        code: "SL1025",
        name: "secret-literal-env",
        severity: Error,
        category: PodSecurity,
        remediation: "Store the value in a Secret and reference it: `valueFrom: {secretKeyRef: {name: workflow-secrets, key: api-key}}`; or, if the variable is no secret, add its name to the rule's `allow` list.",
        params: SecretParams,
        check: secret_literal_env,
    }
}

fn secret_literal_env(p: &SecretParams, cx: &mut Cx, w: &Workload<'_>) {
    for c in w.pod.containers() {
        for (i, e) in c.env.iter().enumerate() {
            if e.value.as_deref().is_none_or(str::is_empty) || !p.is_secret(&e.name) {
                continue;
            }
            cx.report(
                c.pointer.key("env").index(i).key("value"),
                format!(
                    "{} sets {} to a literal value: the secret is written in the manifest (use valueFrom.secretKeyRef)",
                    c.label(),
                    e.name
                ),
            );
        }
    }
}
