//! Every rule sandbox-lint knows, in one table.

pub mod cluster;
pub mod dockerfile;
pub mod input;
pub mod network;
pub mod pod;
pub mod pss;
pub mod secret_names;
pub mod workload;

use crate::rule::RuleDef;

/// All rules, in code order. The registry test checks codes and names are unique.
pub static ALL: &[&RuleDef] = &[
    &pod::runtime_class::RUNTIME_CLASS,
    &pod::run_as::RUN_AS_NON_ROOT,
    &pod::run_as::RUN_AS_USER,
    &pod::run_as::RUN_AS_GROUP,
    &pod::run_as::FS_GROUP,
    &pod::privilege::ALLOW_PRIVILEGE_ESCALATION,
    &pod::privilege::PRIVILEGED,
    &pod::privilege::DROP_ALL_CAPABILITIES,
    &pod::privilege::ADDED_CAPABILITIES,
    &pod::filesystem::READ_ONLY_ROOT_FILESYSTEM,
    &pod::seccomp::SECCOMP_PROFILE,
    &pod::service_account::AUTOMOUNT_SERVICE_ACCOUNT_TOKEN,
    &pod::host::HOST_NAMESPACES,
    &pod::host::HOST_PORT,
    &pod::volumes::HOST_PATH,
    &pod::volumes::EMPTY_DIR_SIZE_LIMIT,
    &pod::volumes::WRITABLE_MOUNT_PATH,
    &pod::volumes::SECRET_VOLUME,
    &pod::image::IMAGE_TAG,
    &pod::image::IMAGE_DIGEST,
    &pod::resources::RESOURCE_REQUESTS,
    &pod::resources::RESOURCE_LIMITS,
    &pod::volumes::VOLUME_SOURCE,
    &pod::run_as::ROOT_GROUP,
    &pod::env::SECRET_LITERAL_ENV,
    &pod::volumes::WRITABLE_VOLUME_EMPTY_DIR,
    &pss::host::HOST_PROCESS,
    &pss::host::HOST_NAMESPACES,
    &pss::privilege::PRIVILEGED,
    &pss::privilege::CAPABILITIES_BASELINE,
    &pss::volumes::HOST_PATH_VOLUMES,
    &pss::host::HOST_PORTS,
    &pss::mac::APPARMOR,
    &pss::mac::SELINUX,
    &pss::proc_mount::PROC_MOUNT,
    &pss::seccomp::SECCOMP_BASELINE,
    &pss::sysctls::SYSCTLS,
    &pss::host::HOST_PROBES,
    &pss::volumes::VOLUME_TYPES,
    &pss::privilege::PRIVILEGE_ESCALATION,
    &pss::run_as::RUN_AS_NON_ROOT,
    &pss::run_as::RUN_AS_USER,
    &pss::seccomp::SECCOMP_RESTRICTED,
    &pss::privilege::CAPABILITIES_RESTRICTED,
    &pss::proc_mount::PROC_MOUNT_RESTRICTED,
    &workload::deadline::ACTIVE_DEADLINE,
    &workload::deadline::RESTART_POLICY,
    &workload::deadline::LONG_RUNNING_CONTROLLER,
    &workload::scheduling::NODE_AFFINITY,
    &workload::scheduling::SANDBOX_TOLERATION,
    &network::isolation::RUNNER_ISOLATED,
    &network::ingress::RUNNER_INGRESS,
    &network::egress::RUNNER_EGRESS,
    &network::required::RUNNER_REQUIRED_EGRESS,
    &network::valid::NETWORK_POLICY_VALID,
    &cluster::service_account::SERVICE_ACCOUNT_EXISTS,
    &cluster::rbac::RUNNER_RBAC,
    &cluster::runtime_class::RUNTIME_CLASS_HANDLER,
    &dockerfile::user::NON_ROOT_USER,
    &dockerfile::user::NUMERIC_USER,
    &dockerfile::user::HEALTHCHECK,
    &dockerfile::base::BASE_IMAGE_TAG,
    &dockerfile::base::BASE_IMAGE_DIGEST,
    &dockerfile::add::ADD_REMOTE_OR_ARCHIVE,
    &dockerfile::add::COPY_INSTEAD_OF_ADD,
    &dockerfile::secrets::SECRET_IN_BUILD_VARS,
    &dockerfile::packages::NO_SUDO,
    &dockerfile::packages::WORLD_WRITABLE,
    &dockerfile::packages::APT_MINIMAL,
    &dockerfile::packages::APK_MINIMAL,
    &dockerfile::packages::DNF_MINIMAL,
    &dockerfile::packages::PIP_NO_CACHE,
    &dockerfile::user::RUNTIME_USER_OWNS_CODE,
    &dockerfile::cross::POD_USER_MATCHES_IMAGE,
    &dockerfile::cross::IMAGE_DOCKERFILE_FINDINGS,
    &input::UNREADABLE_INPUT,
    &input::YAML_SYNTAX,
    &input::INVALID_VALUE,
    &input::UNKNOWN_FIELD,
    &input::NOT_KUBERNETES_OBJECT,
    &input::API_VERSION_JUDGED_AS,
    &input::MISSING_POD_SPEC,
    &input::INVALID_SUPPRESSION,
    &input::UNUSED_SUPPRESSION,
    &input::EXPIRED_EXEMPTION,
    &input::DOCKERFILE_SYNTAX,
    &input::UNJUDGED_POD_SPEC,
];

/// The rule with this code or name (case-insensitive code).
pub fn find(code_or_name: &str) -> Option<&'static RuleDef> {
    ALL.iter()
        .copied()
        .find(|r| r.meta.code.eq_ignore_ascii_case(code_or_name) || r.meta.name == code_or_name)
}

/// The closest code or name to an unknown one, for "did you mean". A code
/// typed with a letter for a digit (`SL1O02`: O for 0; I or l for 1) is that
/// code, not whichever code is one edit away.
pub fn suggest(code_or_name: &str) -> Option<&'static str> {
    if let Some(code) = code_with_digits(code_or_name).and_then(|c| find(&c)) {
        return Some(code.meta.code);
    }
    let names: Vec<&'static str> = ALL
        .iter()
        .flat_map(|r| [r.meta.code, r.meta.name])
        .collect();
    crate::yaml::de::suggest(code_or_name, &names)
}

/// `SL` and four characters, with the letters that look like digits read as
/// those digits (O, o: 0; I, i, l, L: 1); None for anything else.
fn code_with_digits(s: &str) -> Option<String> {
    let tail = s.get(..2)?.eq_ignore_ascii_case("SL").then(|| &s[2..])?;
    let digits: String = tail
        .chars()
        .map(|c| match c {
            'O' | 'o' => '0',
            'I' | 'i' | 'l' | 'L' => '1',
            c => c,
        })
        .collect();
    (digits.len() == 4 && digits.bytes().all(|b| b.is_ascii_digit())).then(|| format!("SL{digits}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rule::Category;

    /// Letters typed for digits suggest the code they look like, not the
    /// nearest by edit distance (SL1O02 is one edit from SL1002 and SL1102).
    #[test]
    fn letters_for_digits_suggest_the_code_they_look_like() {
        for (typed, meant) in [
            ("SL1O02", "SL1002"),
            ("sl1o02", "SL1002"),
            ("SLl002", "SL1002"),
            ("SLI002", "SL1002"),
            ("SL1OO1", "SL1001"),
            ("SL3OO8", "SL3008"),
        ] {
            assert!(find(meant).is_some(), "{meant}");
            assert_eq!(suggest(typed), Some(meant), "{typed}");
        }
        assert_eq!(code_with_digits("SL10O2x"), None);
        assert_eq!(code_with_digits("XL1002"), None);
        assert_eq!(code_with_digits("SL"), None);
    }
    use std::collections::HashSet;

    #[test]
    fn codes_and_names_are_unique_well_formed_and_documented() {
        let mut codes = HashSet::new();
        let mut names = HashSet::new();
        for r in ALL {
            let m = &r.meta;
            assert!(codes.insert(m.code), "duplicate code {}", m.code);
            assert!(names.insert(m.name), "duplicate name {}", m.name);
            let range = match m.category {
                Category::PodSecurity => '1',
                Category::Workload => '2',
                Category::Network => '3',
                Category::Dockerfile => '4',
                Category::InputError | Category::Input => '9',
            };
            assert!(
                m.code.len() == 6
                    && m.code.starts_with("SL")
                    && m.code.as_bytes()[2] as char == range,
                "{} is not in its category's range",
                m.code
            );
            assert!(
                m.name.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{} is not kebab-case",
                m.name
            );
            assert!(!m.summary().is_empty(), "{} has no summary", m.code);
            assert!(!m.rationale().is_empty(), "{} has no rationale", m.code);
            assert!(!m.remediation.is_empty(), "{} has no remediation", m.code);
        }
    }

    #[test]
    fn default_parameters_compile_and_have_a_schema() {
        for r in ALL {
            let defaults = (r.defaults)();
            (r.compile)(&defaults).unwrap_or_else(|e| panic!("{}: {e}", r.meta.code));
            let schema = (r.schema)();
            assert!(schema.as_value().is_object(), "{} schema", r.meta.code);
        }
    }

    #[test]
    fn unknown_parameters_are_rejected() {
        let r = find("run-as-non-root").unwrap();
        assert!((r.compile)(&serde_json::json!({"bogus": 1})).is_err());
        let r = find("SL1022").unwrap();
        let err = (r.compile)(&serde_json::json!({"max": {"cpu": "lots"}}))
            .err()
            .unwrap();
        assert!(err.contains("lots"), "{err}");
    }

    #[test]
    fn lookup_by_code_or_name_with_suggestions() {
        assert_eq!(find("sl1002").unwrap().meta.name, "run-as-non-root");
        assert_eq!(find("host-path").unwrap().meta.code, "SL1015");
        assert_eq!(suggest("run-as-nonroot"), Some("run-as-non-root"));
    }
}
