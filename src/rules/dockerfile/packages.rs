//! SL4009-SL4014: the surface of the final image: no sudo, no world-writable
//! files, and package managers that install the minimum and leave no caches.

use crate::dockerfile::shell::Command;
use crate::dockerfile::{Dockerfile, Kind, Word};
use crate::rule::{Cx, NoParams};

use super::{Run, after, covers, final_chain, last_index, operands, runs};

/// Options of apt-get, apt and aptitude that take the next word as their value.
const APT_VALUE_OPTS: &[&str] = &[
    "-o",
    "--option",
    "-c",
    "--config-file",
    "-t",
    "--target-release",
    "--default-release",
    "-a",
    "--host-architecture",
];

/// Options of apk that take the next word as their value.
const APK_VALUE_OPTS: &[&str] = &[
    "-X",
    "--repository",
    "-p",
    "--root",
    "--arch",
    "--cache-dir",
    "--keys-dir",
    "--repositories-file",
    "--timeout",
    "--wait",
    "--cache-max-age",
];

/// Options of dnf, yum, microdnf and tdnf that take the next word as their value.
const DNF_VALUE_OPTS: &[&str] = &[
    "-c",
    "--config",
    "--installroot",
    "--releasever",
    "--setopt",
    "-x",
    "--exclude",
    "--enablerepo",
    "--disablerepo",
    "--repo",
    "--repoid",
    "--repofrompath",
    "--forcearch",
    "-d",
    "--debuglevel",
    "-e",
    "--errorlevel",
    "--rpmverbosity",
    "--destdir",
    "--downloaddir",
    "--color",
    "--comment",
    "--use-host-config",
];

/// Options of pip that take the next word as their value (before the subcommand).
const PIP_VALUE_OPTS: &[&str] = &[
    "--python",
    "--proxy",
    "--retries",
    "--timeout",
    "--exists-action",
    "--trusted-host",
    "--cert",
    "--client-cert",
    "--cache-dir",
    "--log",
    "--log-file",
    "--use-feature",
    "--use-deprecated",
    "--keyring-provider",
    "--resume-retries",
];

/// The subcommand among `args` (the words after the program): the first word
/// that is neither an option nor the value of one of `value_opts`; and the
/// words after it.
fn subcommand_in<'a>(args: &'a [Word], value_opts: &[&str]) -> Option<(&'a Word, &'a [Word])> {
    let mut i = 0;
    while let Some(w) = args.get(i) {
        if !w.text.starts_with('-') {
            return Some((w, &args[i + 1..]));
        }
        i += if value_opts.contains(&w.text.as_str()) {
            2
        } else {
            1
        };
    }
    None
}

/// The subcommand of a package manager command and the words after it.
fn subcommand<'a>(c: &'a Command, value_opts: &[&str]) -> Option<(&'a Word, &'a [Word])> {
    c.exec()
        .get(1..)
        .and_then(|args| subcommand_in(args, value_opts))
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
                (
                    c.program(),
                    subcommand(
                        c,
                        &[APT_VALUE_OPTS, DNF_VALUE_OPTS, APK_VALUE_OPTS].concat()
                    )
                    .map(|(s, _)| s.text.as_str())
                ),
                (Some("apt-get" | "apt" | "aptitude"), Some("install"))
                    | (
                        Some("dnf" | "dnf5" | "yum" | "microdnf" | "tdnf"),
                        Some("install" | "in" | "localinstall")
                    )
                    | (Some("apk"), Some("add"))
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

/// Where `apt-get update` writes the package lists.
const APT_LISTS: &str = "/var/lib/apt/lists";

crate::declare_rule! {
    /// apt installs without recommended packages and leaves no package lists behind.
    ///
    /// `--no-install-recommends` keeps packages nobody asked for (and their attack
    /// surface) out of the image; the lists `apt-get update` downloads are tens of
    /// megabytes of stale metadata unless removed (`rm -rf /var/lib/apt/lists/*`,
    /// or `apt-get distclean`) in the same RUN, after the last `update`, since a
    /// later layer cannot shrink an earlier one and a removal before the update
    /// removes nothing. A `--mount=type=cache` or `type=tmpfs` on
    /// `/var/lib/apt/lists` or a directory above it (`/var/lib/apt`) keeps them out
    /// of the layer too; one below it, or on `/var/cache/apt` alone, does not.
    /// Options before the subcommand (`apt-get -o Acquire::Retries=3 update`) do
    /// not hide it. The downloaded packages themselves are removed by the
    /// `docker-clean` hook of the Debian and Ubuntu images; once a RUN turns it
    /// off (removes `/etc/apt/apt.conf.d/docker-clean` or sets
    /// `Keep-Downloaded-Packages`, as the BuildKit cache-mount recipe does), every
    /// later install, reinstall, upgrade or build-dep needs a cache mount on
    /// `/var/cache/apt` (or its `archives`) or `apt-get clean` after it in its
    /// RUN.
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

fn is_apt(c: &Command) -> bool {
    matches!(c.program(), Some("apt-get" | "apt" | "aptitude"))
}

/// Where apt keeps the packages it downloads.
const APT_ARCHIVES: &str = "/var/cache/apt/archives";

/// True when `c` makes apt keep downloaded packages: it removes the
/// `docker-clean` hook of the Debian and Ubuntu images, or sets
/// `Keep-Downloaded-Packages` (the usual preparation for a cache mount).
fn keeps_debs(c: &Command) -> bool {
    let removes_hook = c.program() == Some("rm")
        && c.exec().iter().skip(1).any(|w| {
            w.text
                .trim_end_matches('*')
                .ends_with("apt.conf.d/docker-clean")
        });
    removes_hook
        || c.words.iter().any(|w| {
            w.text.contains("Keep-Downloaded-Packages")
                && w.text.to_ascii_lowercase().contains("true")
        })
}

fn apt_minimal(_: &NoParams, cx: &mut Cx, d: &Dockerfile) {
    // The Debian and Ubuntu images remove downloaded packages after every
    // install (their docker-clean hook) until a RUN turns that off.
    let mut keeping = false;
    for run in runs(&final_chain(d)) {
        let mounted = run.mounted(|t| covers(t, APT_LISTS));
        let debs_mounted = run.mounted(|t| covers(t, APT_ARCHIVES));
        let last_apt = |subs: &[&str]| {
            last_index(run.commands, |c| {
                is_apt(c)
                    && subcommand(c, APT_VALUE_OPTS)
                        .is_some_and(|(s, _)| subs.contains(&s.text.as_str()))
            })
        };
        let distclean = last_apt(&["distclean", "dist-clean"]);
        let clean = last_apt(&["clean", "distclean", "dist-clean"]);
        let lists_removed = run.last_removal(|p| covers(p, APT_LISTS));
        let debs_removed = run.last_removal(|p| covers(p, APT_ARCHIVES));
        for (n, c) in run.commands.iter().enumerate() {
            keeping |= keeps_debs(c);
            if !is_apt(c) {
                continue;
            }
            let Some((sub, _)) = subcommand(c, APT_VALUE_OPTS) else {
                continue;
            };
            let sub_text = sub.text.as_str();
            if sub_text == "install" {
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
            if sub_text == "update" && !mounted && !after(distclean, n) && !after(lists_removed, n)
            {
                cx.report_at(
                    sub.span,
                    "apt-get update without removing /var/lib/apt/lists after it in the same RUN leaves the package lists in the image",
                );
            }
            let downloads = matches!(
                sub_text,
                "install" | "reinstall" | "upgrade" | "dist-upgrade" | "full-upgrade" | "build-dep"
            );
            if downloads && keeping && !debs_mounted && !after(clean, n) && !after(debs_removed, n)
            {
                cx.report_at(
                    sub.span,
                    format!("apt-get {sub_text} keeps the downloaded packages in /var/cache/apt (the image's docker-clean hook is turned off) unless `apt-get clean` runs after it in the same RUN or a cache mount covers /var/cache/apt"),
                );
            }
        }
    }
}

/// apk's caches: the default, and the directory that turns on package caching.
const APK_CACHES: &[&str] = &["/var/cache/apk", "/etc/apk/cache"];

crate::declare_rule! {
    /// apk installs without keeping its cache.
    ///
    /// `apk add --no-cache` fetches the index, installs and keeps nothing; without it
    /// `add`, `update`, `upgrade` and `fix` leave the index (and cached packages) in
    /// `/var/cache/apk` unless it is removed after them in the same RUN, or a
    /// `--mount=type=cache` or `type=tmpfs` is on `/var/cache/apk` or
    /// `/etc/apk/cache` (or a directory above). A removal before the command
    /// cleans nothing.
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
    let keeps_out = |p: &str| APK_CACHES.iter().any(|dir| covers(p, dir));
    for run in runs(&final_chain(d)) {
        let mounted = run.mounted(keeps_out);
        let removed = run.last_removal(keeps_out);
        for (n, c) in run.commands.iter().enumerate() {
            if c.program() != Some("apk") {
                continue;
            }
            let Some((sub, _)) = subcommand(c, APK_VALUE_OPTS) else {
                continue;
            };
            if matches!(sub.text.as_str(), "add" | "update" | "upgrade" | "fix")
                && !c.has_flag("--no-cache")
                && !mounted
                && !after(removed, n)
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

/// The dnf-family tools, and the cache directories each may use (dnf is dnf5
/// on Fedora 41 and later, which caches in /var/cache/libdnf5; yum is dnf on
/// RHEL 8 and later).
fn dnf_caches(tool: &str) -> Option<&'static [&'static str]> {
    Some(match tool {
        "dnf" => &["/var/cache/dnf", "/var/cache/libdnf5"],
        "dnf5" => &["/var/cache/libdnf5"],
        "yum" => &["/var/cache/yum", "/var/cache/dnf"],
        "microdnf" => &["/var/cache/yum", "/var/cache/dnf", "/var/cache/libdnf5"],
        "tdnf" => &["/var/cache/tdnf"],
        _ => return None,
    })
}

/// Subcommands (and their aliases) that install packages.
const DNF_INSTALLS: &[&str] = &["install", "in", "localinstall", "groupinstall"];

/// Subcommands (and their aliases) that download metadata or packages into
/// the cache.
const DNF_FILLS: &[&str] = &[
    "install",
    "in",
    "localinstall",
    "groupinstall",
    "groupupdate",
    "group",
    "groups",
    "grp",
    "module",
    "reinstall",
    "rei",
    "upgrade",
    "up",
    "update",
    "upgrade-to",
    "update-to",
    "localupdate",
    "upgrade-minimal",
    "update-minimal",
    "up-min",
    "distro-sync",
    "distrosync",
    "distribution-synchronization",
    "dsync",
    "downgrade",
    "dg",
    "swap",
    "builddep",
    "makecache",
    "mc",
    "check-update",
    "check-upgrade",
];

crate::declare_rule! {
    /// dnf, yum and microdnf install without weak dependencies and clean up.
    ///
    /// dnf and microdnf install weak dependencies (recommendations) unless
    /// `--setopt=install_weak_deps=False`; all of them keep metadata and packages
    /// in `/var/cache` after installing, upgrading, reinstalling, downgrading,
    /// syncing or `makecache` (aliases such as `dnf in` and `dnf up` included)
    /// unless `<tool> clean all` or removing the cache runs after that command in
    /// the same RUN, or a `--mount=type=cache` or `type=tmpfs` is on the cache
    /// (`/var/cache/dnf`, dnf5's `/var/cache/libdnf5`, `/var/cache/yum`, or a
    /// directory above). A `clean all` before the install cleans nothing.
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
        let clean_all = last_index(run.commands, |c| {
            c.program().and_then(dnf_caches).is_some()
                && subcommand(c, DNF_VALUE_OPTS).is_some_and(|(s, rest)| {
                    s.text == "clean" && rest.first().is_some_and(|w| w.text == "all")
                })
        });
        // The last removal of each tool's caches, found once per tool.
        let mut removals: Vec<(&str, Option<usize>)> = Vec::new();
        for (n, c) in run.commands.iter().enumerate() {
            let Some((tool, caches)) = c.program().and_then(|t| Some((t, dnf_caches(t)?))) else {
                continue;
            };
            let Some((sub, _)) = subcommand(c, DNF_VALUE_OPTS) else {
                continue;
            };
            let sub_text = sub.text.as_str();
            if DNF_INSTALLS.contains(&sub_text) && !matches!(tool, "yum" | "tdnf") {
                let weak_off = c.words.iter().any(|w| {
                    let t = w.text.to_ascii_lowercase();
                    t.contains("install_weak_deps=false") || t.contains("install_weak_deps=0")
                });
                if !weak_off {
                    cx.report_at(
                        sub.span,
                        format!("{tool} {sub_text} without --setopt=install_weak_deps=False also installs weak dependencies"),
                    );
                }
            }
            if !DNF_FILLS.contains(&sub_text) {
                continue;
            }
            let keeps_out = |p: &str| caches.iter().any(|dir| covers(p, dir));
            let removed = match removals.iter().find(|(t, _)| *t == tool) {
                Some((_, r)) => *r,
                None => {
                    let r = run.last_removal(keeps_out);
                    removals.push((tool, r));
                    r
                }
            };
            if !after(clean_all, n) && !run.mounted(keeps_out) && !after(removed, n) {
                cx.report_at(
                    sub.span,
                    format!("{tool} {sub_text} without `{tool} clean all` after it in the same RUN leaves its cache in the image"),
                );
            }
        }
    }
}

/// `name` with an optional version (`pip`, `pip3`, `pip3.12`).
fn is_versioned(program: &str, name: &str) -> bool {
    program.strip_prefix(name).is_some_and(|v| {
        v.is_empty()
            || (v.starts_with(|c: char| c.is_ascii_digit())
                && v.chars().all(|c| c.is_ascii_digit() || c == '.'))
    })
}

/// The arguments pip gets when `c` runs pip: `pip ...`, `pip3 ...`,
/// `python3 -m pip ...` (interpreter options before `-m` skipped). pipx,
/// pipenv and `uv pip` are other programs, with caches of their own.
fn pip_args(c: &Command) -> Option<&[Word]> {
    let argv = c.exec();
    let program = c.program()?;
    if is_versioned(program, "pip") {
        return argv.get(1..);
    }
    if !is_versioned(program, "python") {
        return None;
    }
    let mut i = 1;
    while let Some(w) = argv.get(i) {
        match w.text.as_str() {
            "-m" => return (argv.get(i + 1)?.text == "pip").then(|| &argv[i + 2..]),
            "-mpip" => return argv.get(i + 1..),
            "-W" | "-X" => i += 2,
            t if t.starts_with('-') && t != "-c" && t != "-" => i += 1,
            _ => return None,
        }
    }
    None
}

/// True when pip reads `value` of `PIP_NO_CACHE_DIR` as turning the cache off.
/// pip parses the value as a boolean and, for backward compatibility, turns
/// the cache off for every valid one, false ones (`0`, `false`, `off`, `no`)
/// included; an empty value is ignored, and any other value is an error.
fn pip_cache_off(value: &str) -> bool {
    matches!(
        value.to_ascii_lowercase().as_str(),
        "y" | "yes" | "t" | "true" | "on" | "1" | "n" | "no" | "f" | "false" | "off" | "0"
    )
}

/// True when removing or mounting `p` keeps pip's cache out of the layer: the
/// cache of root (`/root/.cache/pip`, or a directory above it) or any
/// `.../.cache/pip` or `.../.cache` (`~/.cache/pip`, `$HOME/.cache`,
/// `/home/runner/.cache`).
fn pip_cache(p: &str) -> bool {
    let dir = p.strip_suffix('*').unwrap_or(p).trim_end_matches('/');
    covers(p, "/root/.cache/pip") || dir.ends_with("/.cache/pip") || dir.ends_with("/.cache")
}

/// The value a command gives `name` for itself (`NAME=v cmd`, `env NAME=v cmd`).
fn assigned<'a>(c: &'a Command, name: &str) -> Option<&'a str> {
    let prefix = c.words.len() - c.exec().len();
    c.words[..prefix]
        .iter()
        .rev()
        .find_map(|w| w.text.strip_prefix(name)?.strip_prefix('='))
}

crate::declare_rule! {
    /// pip installs without keeping its cache.
    ///
    /// pip keeps every downloaded wheel in `~/.cache/pip`; in an image that is dead
    /// weight. `pip install`, `download` and `wheel` (as `pip`, `pip3`, `pip3.12`
    /// or `python3 -m pip`; pipx, pipenv and `uv pip` are other programs) need
    /// `--no-cache-dir`, `PIP_NO_CACHE_DIR` set (`ENV`, `ARG` with a value,
    /// `PIP_NO_CACHE_DIR=1 pip ...`, or `export` earlier in the RUN), a
    /// `--mount=type=cache` or `type=tmpfs` on the cache (`/root/.cache/pip`, any
    /// `.../.cache/pip` or `.../.cache`), or `pip cache purge` or removing the
    /// cache after them in the same RUN. pip turns the cache off for any boolean
    /// value of `PIP_NO_CACHE_DIR`, `0`, `false` and `off` included (a
    /// backward-compatibility quirk it documents); an empty value is ignored, and
    /// an unresolvable or other value does not count.
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

const PIP_ENV: &str = "PIP_NO_CACHE_DIR";

fn pip_no_cache(_: &NoParams, cx: &mut Cx, d: &Dockerfile) {
    let chain = final_chain(d);
    // ENV overrides an ARG of the same name, whatever their order.
    let mut env: Option<String> = None;
    let mut arg: Option<String> = None;
    let value_of = |v: &crate::dockerfile::Var| {
        v.value
            .clone()
            .and_then(Result::ok)
            .unwrap_or_else(|| "?unresolved".into())
    };
    for i in &chain {
        match &i.kind {
            Kind::Env(vars) => {
                for v in vars.iter().filter(|v| v.name == PIP_ENV) {
                    env = Some(value_of(v));
                }
            }
            Kind::Arg(vars) => {
                for v in vars.iter().filter(|v| v.name == PIP_ENV) {
                    arg = v.value.is_some().then(|| value_of(v));
                }
            }
            Kind::Run { flags, commands } => {
                let run = Run { flags, commands };
                let mounted = run.mounted(pip_cache);
                let purge = last_index(commands, |c| {
                    pip_args(c)
                        .and_then(|a| subcommand_in(a, PIP_VALUE_OPTS))
                        .is_some_and(|(s, rest)| {
                            s.text == "cache" && rest.first().is_some_and(|w| w.text == "purge")
                        })
                });
                let removed = run.last_removal(pip_cache);
                // The RUN's own environment: what ENV/ARG give it, then `export`s.
                let mut current = env.clone().or_else(|| arg.clone());
                let mut shell: Option<String> = None;
                for (n, c) in commands.iter().enumerate() {
                    match c.program() {
                        Some("export") => {
                            for w in operands(c) {
                                match w.text.split_once('=') {
                                    Some((PIP_ENV, v)) => current = Some(v.to_string()),
                                    None if w.text == PIP_ENV && shell.is_some() => {
                                        current = shell.clone();
                                    }
                                    _ => {}
                                }
                            }
                            continue;
                        }
                        Some("unset") => {
                            if operands(c).any(|w| w.text == PIP_ENV) {
                                current = None;
                                shell = None;
                            }
                            continue;
                        }
                        None => {
                            if let Some(v) = assigned(c, PIP_ENV) {
                                shell = Some(v.to_string());
                            }
                            continue;
                        }
                        _ => {}
                    }
                    let Some(args) = pip_args(c) else {
                        continue;
                    };
                    let Some((sub, _)) = subcommand_in(args, PIP_VALUE_OPTS) else {
                        continue;
                    };
                    if !matches!(sub.text.as_str(), "install" | "download" | "wheel") {
                        continue;
                    }
                    let value = assigned(c, PIP_ENV).or(current.as_deref());
                    let purged = after(purge, n);
                    if c.has_flag("--no-cache-dir")
                        || value.is_some_and(pip_cache_off)
                        || mounted
                        || purged
                        || after(removed, n)
                    {
                        continue;
                    }
                    cx.report_at(
                        sub.span,
                        format!(
                            "pip {} without --no-cache-dir keeps downloaded packages in the image",
                            sub.text
                        ),
                    );
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pip_reads_every_boolean_as_cache_off() {
        for v in ["1", "true", "YES", "on", "0", "false", "off", "No"] {
            assert!(pip_cache_off(v), "{v}");
        }
        for v in ["", "2", "disable", "?unresolved"] {
            assert!(!pip_cache_off(v), "{v}");
        }
    }

    #[test]
    fn programs_that_are_pip() {
        assert!(is_versioned("pip", "pip"));
        assert!(is_versioned("pip3.12", "pip"));
        assert!(!is_versioned("pipx", "pip"));
        assert!(!is_versioned("pipenv", "pip"));
        assert!(is_versioned("python3", "python"));
    }
}
