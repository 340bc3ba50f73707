//! SL4xxx: Dockerfiles (the runner image of the seeds: non-root numeric USER,
//! HEALTHCHECK, pinned base, minimal surface), and pods checked against the
//! Dockerfiles that build their images.
//!
//! Which stages a rule reads: rules about what runs in the container (USER,
//! HEALTHCHECK, sudo, permissions, package manager hygiene, ownership) read the
//! final stage and the stages it builds on (`FROM <stage>`), because only those
//! layers are in the image; rules about what enters the build (base images,
//! ADD, secrets in ENV/ARG) read every stage.

pub mod add;
pub mod base;
pub mod cross;
pub mod packages;
pub mod secrets;
pub mod user;

use crate::dockerfile::shell::Command;
use crate::dockerfile::{Dockerfile, Flag, Instruction, Kind, Stage};

/// The instructions of the final stage and the stages it builds on, in order.
pub(crate) fn final_chain(d: &Dockerfile) -> Vec<&Instruction> {
    match d.final_stage() {
        Some(s) => d
            .effective(s)
            .chain
            .iter()
            .flat_map(|s| &s.instructions)
            .collect(),
        None => Vec::new(),
    }
}

/// Every instruction of every stage, with its stage.
pub(crate) fn all_instructions(d: &Dockerfile) -> impl Iterator<Item = (&Stage, &Instruction)> {
    d.stages
        .iter()
        .flat_map(|s| s.instructions.iter().map(move |i| (s, i)))
}

/// One RUN instruction: its flags and commands.
pub(crate) struct Run<'a> {
    pub flags: &'a [Flag],
    pub commands: &'a [Command],
}

/// `path` as a directory: a trailing `*`, then trailing `/`, removed (what a
/// mount target or an `rm` operand such as `/var/lib/apt/lists/*` empties).
fn dir_of(path: &str) -> &str {
    path.strip_suffix('*').unwrap_or(path).trim_end_matches('/')
}

/// True when `path` (a mount target or an `rm` operand) is `dir` or a
/// directory above it, so that mounting or emptying it keeps `dir` out of the
/// layer. A mount below `dir` (`/var/lib/apt/lists/partial`) does not.
pub(crate) fn covers(path: &str, dir: &str) -> bool {
    let p = dir_of(path);
    let dir = dir.trim_end_matches('/');
    !p.is_empty() && (p == dir || dir.strip_prefix(p).is_some_and(|r| r.starts_with('/')))
}

impl Run<'_> {
    /// The targets of the RUN's `--mount=type=cache` and `type=tmpfs` mounts:
    /// what is written under them stays out of the layer. (BuildKit reads the
    /// keys and the type case-insensitively; a mount without `type` is a bind.)
    pub fn scratch_mounts(&self) -> Vec<&str> {
        let mut out = Vec::new();
        for f in self.flags.iter().filter(|f| f.name == "mount") {
            let Some(v) = f.value.as_deref() else {
                continue;
            };
            let mut kind = "bind".to_string();
            let mut target = None;
            for kv in v.split(',') {
                let (k, val) = kv.split_once('=').unwrap_or((kv, ""));
                match k.trim().to_ascii_lowercase().as_str() {
                    "type" => kind = val.trim().to_ascii_lowercase(),
                    "target" | "dst" | "destination" => target = Some(val.trim()),
                    _ => {}
                }
            }
            if matches!(kind.as_str(), "cache" | "tmpfs")
                && let Some(t) = target
            {
                out.push(t);
            }
        }
        out
    }

    /// True when a cache or tmpfs mount is at a path `keeps_out` accepts.
    pub fn mounted(&self, keeps_out: impl Fn(&str) -> bool) -> bool {
        self.scratch_mounts().into_iter().any(keeps_out)
    }

    /// The index of the last command that removes (`rm`) a path `keeps_out`
    /// accepts. A removal counts for the commands before it only (one before
    /// the command that fills the cache cleans nothing): callers compute this
    /// once per RUN and compare, as [`last_index`] explains.
    pub fn last_removal(&self, keeps_out: impl Fn(&str) -> bool) -> Option<usize> {
        last_index(self.commands, |c| {
            c.program() == Some("rm") && c.exec().iter().skip(1).any(|w| keeps_out(&w.text))
        })
    }
}

/// The index of the last command `pred` accepts. "Does one come after
/// command n" is then `last_index(..).is_some_and(|l| l > n)`: computed once
/// per RUN, not scanned again for every command (a RUN of 16,000
/// `&&`-joined installs was quadratic).
pub(crate) fn last_index(commands: &[Command], pred: impl Fn(&Command) -> bool) -> Option<usize> {
    commands.iter().rposition(pred)
}

/// True when `last` (from [`last_index`]) comes after command `n`.
pub(crate) fn after(last: Option<usize>, n: usize) -> bool {
    last.is_some_and(|l| l > n)
}

impl Run<'_> {}

/// The RUN instructions among `instructions`.
pub(crate) fn runs<'a>(instructions: &[&'a Instruction]) -> Vec<Run<'a>> {
    instructions
        .iter()
        .filter_map(|i| match &i.kind {
            Kind::Run { flags, commands } => Some(Run { flags, commands }),
            _ => None,
        })
        .collect()
}

/// The words after the program of `c` that are not options.
pub(crate) fn operands(c: &Command) -> impl Iterator<Item = &crate::dockerfile::Word> {
    c.exec().iter().skip(1).filter(|w| !w.text.starts_with('-'))
}
