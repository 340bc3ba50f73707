//! SL4008: secrets passed through ENV or ARG.

use crate::dockerfile::{Dockerfile, Kind};
use crate::rule::Cx;

pub use crate::rules::secret_names::SecretParams;

use super::all_instructions;

crate::declare_rule! {
    /// No secrets in ENV or ARG.
    ///
    /// ENV values are part of the image configuration (`docker inspect` shows them
    /// to anyone who can pull the image, and every process in the container,
    /// untrusted code included, inherits them). ARG values are recorded in the
    /// image history of the stage that uses them. Variables whose names look like
    /// credentials (`*TOKEN*`, `*PASSWORD*`, `*SECRET*`, `*_KEY`, ...) are findings
    /// whether or not they have a value here: the value arrives at build time.
    pub static SECRET_IN_BUILD_VARS = {
        code: "SL4008",
        name: "secret-in-build-vars",
        severity: Error,
        category: Dockerfile,
        remediation: "Pass build secrets with `RUN --mount=type=secret,id=...` and runtime secrets through the pod (a Secret volume or env from a Secret), never through ENV or ARG.",
        params: SecretParams,
        dockerfile: secret_in_build_vars,
    }
}

fn secret_in_build_vars(p: &SecretParams, cx: &mut Cx, d: &Dockerfile) {
    for (_, i) in all_instructions(d) {
        let (what, vars) = match &i.kind {
            Kind::Env(v) => ("ENV", v),
            Kind::Arg(v) => ("ARG", v),
            _ => continue,
        };
        for v in vars {
            if !p.is_secret(&v.name) {
                continue;
            }
            let consequence = if what == "ENV" {
                "is stored in the image configuration and inherited by every process in the container"
            } else {
                "is recorded in the image history"
            };
            cx.report_at(
                v.span,
                format!(
                    "{what} {} looks like a secret: its value {consequence}",
                    v.name
                ),
            );
        }
    }
}
