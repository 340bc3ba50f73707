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

impl Run<'_> {
    /// True when some command deletes something under `dir`, or a cache mount
    /// keeps `dir` out of the layer.
    pub fn cleans(&self, dir: &str) -> bool {
        let cached = self.flags.iter().any(|f| {
            f.name == "mount"
                && f.value.as_deref().is_some_and(|v| {
                    v.split(',').any(|kv| kv == "type=cache")
                        && v.split(',').any(|kv| {
                            kv.split_once('=').is_some_and(|(k, p)| {
                                matches!(k, "target" | "dst" | "destination")
                                    && p.trim_end_matches('/')
                                        .starts_with(dir.trim_end_matches('/'))
                            })
                        })
                })
        });
        cached
            || self.commands.iter().any(|c| {
                c.program() == Some("rm")
                    && c.exec()
                        .iter()
                        .skip(1)
                        .any(|w| w.text.starts_with(dir.trim_end_matches('/')))
            })
    }
}

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
