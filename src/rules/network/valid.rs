//! SL3005: NetworkPolicies the API server accepts.

use crate::netpol::CompiledPolicy;
use crate::pointer::Pointer;
use crate::resource::{Object, Resource};
use crate::rule::{Cx, NoParams};

crate::declare_rule! {
    /// A NetworkPolicy must be valid: selectors, CIDRs, ports and policyTypes as the API server validates them.
    ///
    /// The API server refuses an invalid NetworkPolicy, so it isolates nothing:
    /// a typo in an operator (`in` for `In`), a CIDR with host bits, an `endPort`
    /// below `port` or an ipBlock combined with a selector silently leaves the
    /// runners open. sandbox-lint never guesses what such a policy meant.
    pub static NETWORK_POLICY_VALID = {
        code: "SL3005",
        name: "network-policy-valid",
        severity: Error,
        category: Network,
        remediation: "Fix the field so that the API server accepts the policy.",
        params: NoParams,
        object: check,
    }
}

fn check(_: &NoParams, cx: &mut Cx, r: &Resource) {
    let Object::NetworkPolicy(np) = &r.object else {
        return;
    };
    if let Err(e) = CompiledPolicy::compile(np, cx.namespace_of(r)) {
        cx.report(
            pointer_of(&r.base, &e.path),
            format!(
                "the API server would reject NetworkPolicy {}: {}: {} (it would isolate nothing)",
                e.policy, e.path, e.message
            ),
        );
    }
}

/// `spec.egress[0].to[1].podSelector` as a pointer under `base`.
fn pointer_of(base: &Pointer, path: &str) -> Pointer {
    let mut ptr = base.clone();
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let mut pieces = part.split('[');
        if let Some(key) = pieces.next() {
            ptr = ptr.key(key);
        }
        for index in pieces {
            if let Ok(i) = index.trim_end_matches(']').parse::<usize>() {
                ptr = ptr.index(i);
            }
        }
    }
    ptr
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_paths_become_pointers() {
        let p = pointer_of(&Pointer::root(), "spec.egress[0].to[1].podSelector");
        assert_eq!(p.as_str(), "/spec/egress/0/to/1/podSelector");
        let p = pointer_of(
            &Pointer::root().key("items").index(2),
            "spec.policyTypes[0]",
        );
        assert_eq!(p.as_str(), "/items/2/spec/policyTypes/0");
    }
}
