//! SL9xxx: what the loader reports about the input itself.

use crate::rule::NoParams;

crate::declare_rule! {
    /// A file could not be read: missing, unreadable, not UTF-8, or over the size limit.
    ///
    /// What cannot be read cannot be checked; the run exits with code 2 so that CI
    /// does not mistake it for a clean result.
    pub static UNREADABLE_INPUT = {
        code: "SL9001",
        name: "unreadable-input",
        severity: Error,
        category: InputError,
        remediation: "Fix the path or permissions, convert the file to UTF-8, or raise `--max-file-size` if the file is legitimately large.",
        params: NoParams,
    }
}

crate::declare_rule! {
    /// A YAML or JSON document could not be parsed.
    ///
    /// Syntax errors, duplicate mapping keys (which the API server would resolve
    /// differently than a lenient parser), alias bombs and documents over the
    /// parser's budgets are refused. Only the broken document is skipped: the
    /// other documents of the file are still checked.
    ///
    /// Also refused, because kubectl would not read the text as checked:
    /// `%YAML` and `%TAG` directives (kubectl refuses them too), the line
    /// breaks of YAML 1.1 that YAML 1.2 does not have (NEL, U+2028, U+2029),
    /// and input with content that gives no document at all.
    pub static YAML_SYNTAX = {
        code: "SL9002",
        name: "yaml-syntax",
        severity: Error,
        category: InputError,
        remediation: "Fix the document at the reported position; remove the duplicate key if one is reported.",
        params: NoParams,
    }
}

crate::declare_rule! {
    /// A field has a value of the wrong type for its Kubernetes schema.
    ///
    /// The object cannot be decoded, so no rule can judge it: it is reported
    /// instead of passing silently, and the run exits with code 2.
    pub static INVALID_VALUE = {
        code: "SL9003",
        name: "invalid-value",
        severity: Error,
        category: InputError,
        remediation: "Give the field a value of the type the Kubernetes API expects (see `kubectl explain`).",
        params: NoParams,
    }
}

crate::declare_rule! {
    /// A field is not part of the Kubernetes schema at that place.
    ///
    /// The API server drops unknown fields (or rejects them under strict field
    /// validation), so a misspelt `readOnlyRootFileSystem` silently leaves the root
    /// filesystem writable while the manifest looks right.
    pub static UNKNOWN_FIELD = {
        code: "SL9004",
        name: "unknown-field",
        severity: Error,
        category: Input,
        remediation: "Correct the field name or move the field to the object it belongs to: the API server ignores it here.",
        params: NoParams,
    }
}

crate::declare_rule! {
    /// A YAML document is not a Kubernetes object (it has no apiVersion and kind) and was skipped.
    ///
    /// Helm values, kustomize configuration and other YAML often sit next to
    /// manifests; they are noted so that a manifest missing its `kind` is not
    /// mistaken for a checked one.
    pub static NOT_KUBERNETES_OBJECT = {
        code: "SL9005",
        name: "not-kubernetes-object",
        severity: Info,
        category: Input,
        remediation: "Add `apiVersion` and `kind` if this is meant to be a Kubernetes object; otherwise exclude the file.",
        params: NoParams,
    }
}

crate::declare_rule! {
    /// An object uses an apiVersion other than the one sandbox-lint models, and was judged as the current one.
    ///
    /// Old API versions (`extensions/v1beta1`, `apps/v1beta2`, ...) are no longer
    /// served by current API servers. The object is still checked (fail closed),
    /// as if it were written for the current version.
    pub static API_VERSION_JUDGED_AS = {
        code: "SL9006",
        name: "api-version-judged-as",
        severity: Warning,
        category: Input,
        remediation: "Move the object to the current apiVersion (for example `apps/v1`).",
        params: NoParams,
    }
}

crate::declare_rule! {
    /// An object that must carry a pod spec has none, so nothing in it can be checked.
    ///
    /// The API server rejects such an object; reporting it keeps a truncated or
    /// mis-indented manifest from passing as compliant.
    pub static MISSING_POD_SPEC = {
        code: "SL9007",
        name: "missing-pod-spec",
        severity: Error,
        category: Input,
        remediation: "Add the pod spec (check the indentation of `spec`/`template`).",
        params: NoParams,
    }
}

crate::declare_rule! {
    /// An object of a kind sandbox-lint does not model carries containers that no rule judges.
    ///
    /// Custom resources often run pods from an embedded pod template (Argo
    /// Workflows and Rollouts, Knative Services, Kubeflow jobs, ...). Their
    /// controllers create Pods that the webhook judges at admission, but in CI
    /// and pre-commit nothing in the custom resource is checked: this finding
    /// says so instead of passing it as compliant. Found by shape: a
    /// `containers` or `initContainers` list, or a `container` mapping, with an
    /// `image`.
    pub static UNJUDGED_POD_SPEC = {
        code: "SL9012",
        name: "unjudged-pod-spec",
        severity: Warning,
        category: Input,
        remediation: "Check the Pods the controller creates (at admission, or by rendering them), or exclude the file once they are; disable this rule in the policy if custom resources with containers are expected.",
        params: NoParams,
    }
}

crate::declare_rule! {
    /// A suppression is malformed: no reason, an unknown rule, or a rule the policy does not let annotations suppress.
    ///
    /// Every exception must say why it exists, so that a reviewer can judge it
    /// and remove it when the reason is gone. A malformed suppression suppresses
    /// nothing.
    pub static INVALID_SUPPRESSION = {
        code: "SL9008",
        name: "invalid-suppression",
        severity: Error,
        category: Input,
        remediation: "Write `# sandbox-lint: ignore[CODE] reason` with a known rule code or name and a reason; for annotations, only the rules the policy lists.",
        params: NoParams,
    }
}

crate::declare_rule! {
    /// A suppression comment suppresses nothing.
    ///
    /// Stale suppressions hide the next real problem on that line; remove them
    /// once the finding they were written for is fixed.
    pub static UNUSED_SUPPRESSION = {
        code: "SL9009",
        name: "unused-suppression",
        severity: Warning,
        category: Input,
        remediation: "Remove the comment, or correct the rule code it names.",
        params: NoParams,
    }
}

crate::declare_rule! {
    /// A policy exemption is past its `expires` date and no longer applies.
    ///
    /// Exemptions are meant to be temporary; once expired, the findings they
    /// covered are reported again, and the stale exemption is reported so that
    /// it is renewed with a fresh reason or removed.
    pub static EXPIRED_EXEMPTION = {
        code: "SL9010",
        name: "expired-exemption",
        severity: Warning,
        category: Input,
        remediation: "Remove the exemption, or renew it with a new `expires` date and a current reason.",
        params: NoParams,
    }
}

crate::declare_rule! {
    /// A Dockerfile has an instruction BuildKit would refuse.
    ///
    /// Unknown instructions, instructions before the first FROM, an unterminated
    /// here-document, an invalid `# escape=` directive, a duplicated stage name,
    /// a file without any FROM, or a lone carriage return (BuildKit breaks
    /// lines at `\n` only, so it would read two lines as one). The refused instruction is left out and the rest
    /// of the file is still checked; the run exits with code 2.
    pub static DOCKERFILE_SYNTAX = {
        code: "SL9011",
        name: "dockerfile-syntax",
        severity: Error,
        category: InputError,
        remediation: "Fix the instruction at the reported position (`docker build --check` shows the same problem).",
        params: NoParams,
    }
}

/// True for the codes of rules that mean some input could not be read (exit 2).
pub fn is_input_error(code: &str) -> bool {
    [
        &UNREADABLE_INPUT,
        &YAML_SYNTAX,
        &INVALID_VALUE,
        &DOCKERFILE_SYNTAX,
    ]
    .iter()
    .any(|r| r.meta.code == code)
}

#[cfg(test)]
mod tests {
    /// The fast check agrees with the category of every rule.
    #[test]
    fn input_errors_are_exactly_the_input_error_category() {
        for r in crate::rules::ALL {
            assert_eq!(
                super::is_input_error(r.meta.code),
                r.meta.category == crate::rule::Category::InputError,
                "{}",
                r.meta.code
            );
        }
    }
}
