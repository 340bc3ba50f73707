//! SL4009-SL4014: the surface of the final image: no sudo, no world-writable
//! files, and package managers that install the minimum and leave no caches.

use crate::dockerfile::shell::Command;
use crate::dockerfile::{Dockerfile, Kind, Word};
use crate::rule::{Cx, NoParams};

use super::{Run, final_chain, operands, runs};

/// The subcommand of a package manager command and the words after it.
fn subcommand(c: &Command) -> Option<(&Word, &[Word])> {
    let argv = c.exec();
    let at = argv.iter().skip(1).position(|w| !w.text.starts_with('-'))? + 1;
    Some((&argv[at], &argv[at + 1..]))
}

crate::declare_rule! {
    /// No sudo in the final image.
    ///
    /// A sandbox has no legitimate use for privilege elevation: installing or
    /// calling sudo leaves a setuid-root binary for untrusted code to aim at. Run
    /// build steps as root before the final USER instead.
    pub static NO_SUDO = {
        code: "SL4009",
        name: "no-sudo",
        severity: Error,
        category: Dockerfile,
        remediation: "Remove sudo: run the steps that need root before `USER`, and do not install the sudo package.",
        params: NoParams,
        dockerfile: no_sudo,
    }
}

fn no_sudo(_: &NoParams, cx: &mut Cx, d: &Dockerfile) {
    for run in runs(&final_chain(d)) {
        for c in run.commands {
            if let Some(w) = c.argv().first()
                && matches!(crate::dockerfile::shell::basename(&w.text), "sudo" | "doas")
            {
                cx.report_at(w.span, format!("RUN calls {}", w.text));
            }
            let installs = matches!(
                (c.program(), subcommand(c).map(|(s, _)| s.text.as_str())),
                (
                    Some("apt-get" | "apt" | "dnf" | "yum" | "microdnf"),
                    Some("install")
                ) | (Some("apk"), Some("add"))
            );
            if installs
                && let Some(pkg) = operands(c).find(|w| w.text == "sudo" || w.text == "doas")
            {
                cx.report_at(pkg.span, format!("the image installs {}", pkg.text));
            }
        }
    }
}

crate::declare_rule! {
    /// No world-writable files or directories in the final image.
    ///
    /// A mode that lets every user write (`777`, `666`, `o+w`, `a+w`) lets untrusted
    /// code rewrite whatever it names, whichever uid it runs as. Directories with the
    /// sticky bit (`1777`, like `/tmp`) are allowed.
    pub static WORLD_WRITABLE = {
        code: "SL4010",
        name: "world-writable",
        severity: Error,
        category: Dockerfile,
        remediation: "Give write access to the owner only (`755`/`644`, or `u+w`), and put scratch space on an emptyDir.",
        params: NoParams,
        dockerfile: world_writable,
    }
}

/// True when a chmod mode lets others write, sticky directories excepted.
fn world_writable_mode(mode: &str) -> bool {
    if !mode.is_empty() && mode.chars().all(|c| c.is_digit(8)) {
        let digits: Vec<u32> = mode.chars().filter_map(|c| c.to_digit(8)).collect();
        let others = digits[digits.len() - 1];
        let sticky = digits.len() == 4 && digits[0] & 1 == 1;
        return others & 2 != 0 && !sticky;
    }
    mode.split(',').any(|clause| {
        let who_end = clause
            .find(|c: char| !"ugoa".contains(c))
            .unwrap_or(clause.len());
        let (who, rest) = clause.split_at(who_end);
        (who.contains('o') || who.contains('a'))
            && (rest.starts_with('+') || rest.starts_with('='))
            && rest.contains('w')
            && !rest.contains('t')
    })
}

fn world_writable(_: &NoParams, cx: &mut Cx, d: &Dockerfile) {
    for i in final_chain(d) {
        match &i.kind {
            Kind::Copy(t) | Kind::Add(t) => {
                if let Some(f) = t.flag("chmod")
                    && world_writable_mode(f.value.as_deref().unwrap_or_default())
                {
                    cx.report_at(
                        f.span,
                        format!("--chmod makes {} world-writable", t.dest.text),
                    );
                }
            }
            Kind::Run { commands, .. } => {
                for c in commands {
                    let argv = c.exec();
                    let mode = match c.program() {
                        Some("chmod") => operands(c).next(),
                        Some("mkdir" | "install") => {
                            argv.iter()
                                .enumerate()
                                .find_map(|(i, w)| match w.text.as_str() {
                                    "-m" | "--mode" => argv.get(i + 1),
                                    t if t.starts_with("--mode=") => Some(w),
                                    _ => None,
                                })
                        }
                        _ => None,
                    };
                    let Some(mode) = mode else {
                        continue;
                    };
                    let value = mode.text.strip_prefix("--mode=").unwrap_or(&mode.text);
                    if world_writable_mode(value) {
                        cx.report_at(
                            mode.span,
                            format!("mode {value} makes files world-writable"),
                        );
                    }
                }
            }
            _ => {}
        }
    }
}

crate::declare_rule! {
    /// apt installs without recommended packages and leaves no package lists behind.
    ///
    /// `--no-install-recommends` keeps packages nobody asked for (and their attack
    /// surface) out of the image; the lists `apt-get update` downloads are tens of
    /// megabytes of stale metadata unless removed (`rm -rf /var/lib/apt/lists/*`) in
    /// the same RUN, since a later layer cannot shrink an earlier one. A cache mount
    /// on `/var/lib/apt/lists` keeps them out of the layer too.
    pub static APT_MINIMAL = {
        code: "SL4011",
        name: "apt-minimal",
        severity: Warning,
        category: Dockerfile,
        remediation: "`apt-get update && apt-get install -y --no-install-recommends <pkgs> && rm -rf /var/lib/apt/lists/*` in one RUN.",
        params: NoParams,
        dockerfile: apt_minimal,
    }
}

fn apt_minimal(_: &NoParams, cx: &mut Cx, d: &Dockerfile) {
    for run in runs(&final_chain(d)) {
        let cleaned = run.cleans("/var/lib/apt/lists");
        for c in run.commands {
            if !matches!(c.program(), Some("apt-get" | "apt" | "aptitude")) {
                continue;
            }
            let Some((sub, _)) = subcommand(c) else {
                continue;
            };
            match sub.text.as_str() {
                "install" => {
                    let no_recommends = c.has_flag("--no-install-recommends")
                        || c.words.iter().any(|w| {
                            w.text.contains("Install-Recommends=false")
                                || w.text.contains("Install-Recommends=0")
                        });
                    if !no_recommends {
                        cx.report_at(
                            sub.span,
                            "apt-get install without --no-install-recommends also installs recommended packages",
                        );
                    }
                }
                "update" if !cleaned => {
                    cx.report_at(
                        sub.span,
                        "apt-get update without removing /var/lib/apt/lists in the same RUN leaves the package lists in the image",
                    );
                }
                _ => {}
            }
        }
    }
}

crate::declare_rule! {
    /// apk installs without keeping its cache.
    ///
    /// `apk add --no-cache` fetches the index, installs and keeps nothing; without it
    /// the index and packages stay in `/var/cache/apk` unless removed in the same
    /// RUN.
    pub static APK_MINIMAL = {
        code: "SL4012",
        name: "apk-minimal",
        severity: Warning,
        category: Dockerfile,
        remediation: "`apk add --no-cache <pkgs>` (and drop `apk update`).",
        params: NoParams,
        dockerfile: apk_minimal,
    }
}

fn apk_minimal(_: &NoParams, cx: &mut Cx, d: &Dockerfile) {
    for run in runs(&final_chain(d)) {
        let cleaned = run.cleans("/var/cache/apk");
        for c in run.commands.iter().filter(|c| c.program() == Some("apk")) {
            let Some((sub, _)) = subcommand(c) else {
                continue;
            };
            if matches!(sub.text.as_str(), "add" | "update" | "upgrade")
                && !c.has_flag("--no-cache")
                && !cleaned
            {
                cx.report_at(
                    sub.span,
                    format!(
                        "apk {} without --no-cache leaves the package cache in the image",
                        sub.text
                    ),
                );
            }
        }
    }
}

crate::declare_rule! {
    /// dnf, yum and microdnf install without weak dependencies and clean up.
    ///
    /// dnf and microdnf install weak dependencies (recommendations) unless
    /// `--setopt=install_weak_deps=False`; all three keep metadata and packages in
    /// `/var/cache` unless `<tool> clean all` (or removing the cache) runs in the
    /// same RUN.
    pub static DNF_MINIMAL = {
        code: "SL4013",
        name: "dnf-minimal",
        severity: Warning,
        category: Dockerfile,
        remediation: "`dnf install -y --setopt=install_weak_deps=False <pkgs> && dnf clean all` in one RUN.",
        params: NoParams,
        dockerfile: dnf_minimal,
    }
}

fn dnf_minimal(_: &NoParams, cx: &mut Cx, d: &Dockerfile) {
    for run in runs(&final_chain(d)) {
        let cleaned = run.cleans("/var/cache/dnf")
            || run.cleans("/var/cache/yum")
            || run.commands.iter().any(|c| {
                matches!(c.program(), Some("dnf" | "yum" | "microdnf"))
                    && subcommand(c).is_some_and(|(s, rest)| {
                        s.text == "clean" && rest.first().is_some_and(|w| w.text == "all")
                    })
            });
        for c in run.commands {
            let tool = match c.program() {
                Some(t @ ("dnf" | "yum" | "microdnf")) => t,
                _ => continue,
            };
            let Some((sub, _)) = subcommand(c) else {
                continue;
            };
            if sub.text != "install" {
                continue;
            }
            let weak_off = c.words.iter().any(|w| {
                let t = w.text.to_ascii_lowercase();
                t.contains("install_weak_deps=false") || t.contains("install_weak_deps=0")
            });
            if tool != "yum" && !weak_off {
                cx.report_at(
                    sub.span,
                    format!("{tool} install without --setopt=install_weak_deps=False also installs weak dependencies"),
                );
            }
            if !cleaned {
                cx.report_at(
                    sub.span,
                    format!("{tool} install without `{tool} clean all` in the same RUN leaves its cache in the image"),
                );
            }
        }
    }
}

crate::declare_rule! {
    /// pip installs without keeping its cache.
    ///
    /// pip keeps every downloaded wheel in `~/.cache/pip`; in an image that is dead
    /// weight. `--no-cache-dir`, `ENV PIP_NO_CACHE_DIR=1` or a cache mount avoids it.
    pub static PIP_NO_CACHE = {
        code: "SL4014",
        name: "pip-no-cache",
        severity: Warning,
        category: Dockerfile,
        remediation: "`pip install --no-cache-dir <pkgs>`, or `ENV PIP_NO_CACHE_DIR=1` before it.",
        params: NoParams,
        dockerfile: pip_no_cache,
    }
}

fn pip_no_cache(_: &NoParams, cx: &mut Cx, d: &Dockerfile) {
    let chain = final_chain(d);
    let mut env_off = false;
    for i in &chain {
        match &i.kind {
            Kind::Env(vars) => {
                for v in vars.iter().filter(|v| v.name == "PIP_NO_CACHE_DIR") {
                    let value = v.value.clone().and_then(Result::ok).unwrap_or_default();
                    env_off = !matches!(
                        value.to_ascii_lowercase().as_str(),
                        "" | "0" | "false" | "no"
                    );
                }
            }
            Kind::Run { flags, commands } => {
                let run = Run { flags, commands };
                if env_off || run.cleans("/root/.cache/pip") {
                    continue;
                }
                for c in commands {
                    let argv = c.exec();
                    let Some(program) = c.program() else {
                        continue;
                    };
                    // `pip install`, `pip3 install`, `python3 -m pip install`.
                    let rest = if program.starts_with("pip") {
                        &argv[1..]
                    } else if program.starts_with("python")
                        && argv.get(1).is_some_and(|w| w.text == "-m")
                        && argv.get(2).is_some_and(|w| w.text.starts_with("pip"))
                    {
                        &argv[3..]
                    } else {
                        continue;
                    };
                    let Some(sub) = rest.iter().find(|w| !w.text.starts_with('-')) else {
                        continue;
                    };
                    if sub.text == "install" && !c.has_flag("--no-cache-dir") {
                        cx.report_at(
                            sub.span,
                            "pip install without --no-cache-dir keeps downloaded packages in the image",
                        );
                    }
                }
            }
            _ => {}
        }
    }
}
