//! Hostile Dockerfiles: generated shapes that once made the Dockerfile path
//! exponential in memory (variables that double at each line) or quadratic in
//! time (many ARG lines, long `&&` chains, many flags, one huge line, many
//! continuations, many stages, many findings on one line). Shared by
//! `benches/dockerfile_bounds.rs` (time and peak RSS per shape and size) and
//! `tests/dockerfile.rs` (each shape under a memory limit, failing closed).

#![allow(dead_code)]

use std::fmt::Write;

/// A pinned base image (no base-image finding to get in the way).
pub const BASE: &str =
    "python:3.12-slim@sha256:3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f";

/// One generated shape.
pub struct Shape {
    pub name: &'static str,
    /// Generates the file for a size parameter (lines, commands, flags, bytes: see each).
    pub generate: fn(usize) -> String,
    /// The rule code the file must report (the fail-closed finding), if any.
    pub expect: Option<&'static str>,
    /// A piece of that finding's message.
    pub message: &'static str,
    /// The exit code `check` must give (1: an error finding, 2: an input error).
    pub exit: i32,
}

/// The tail every shape ends with, so that the final stage is otherwise clean.
fn tail(out: &mut String) {
    out.push_str("HEALTHCHECK CMD [\"true\"]\nUSER 10001:10001\n");
}

/// `ARG A1=${A0}${A0}`, `ARG A2=${A1}${A1}`, ... `n` doublings before the
/// first FROM, the image named by the last one: 2^n bytes if expanded.
pub fn doubling_arg(n: usize) -> String {
    let mut out = String::from("ARG A0=xxxxxxxx\n");
    for i in 1..=n {
        let _ = writeln!(out, "ARG A{i}=${{A{p}}}${{A{p}}}", p = i - 1);
    }
    let _ = writeln!(out, "FROM python:${{A{n}}}");
    tail(&mut out);
    out
}

/// ENV doubling with several variables per line and a variable that refers
/// to itself (`ENV S=$S$S`), then `USER $S`.
pub fn env_bomb(n: usize) -> String {
    let mut out = format!("FROM {BASE}\nENV S=xxxxxxxx A0=y B0=z\n");
    for i in 1..=n {
        let p = i - 1;
        let _ = writeln!(out, "ENV S=$S$S A{i}=$A{p}$B{p}$S B{i}=$B{p}$A{p}");
    }
    out.push_str("HEALTHCHECK CMD [\"true\"]\nUSER $S\n");
    out
}

/// `n` ARG lines in a stage, each referring to the one before.
pub fn many_args(n: usize) -> String {
    let mut out = format!("FROM {BASE}\nARG V0=v\n");
    for i in 1..n {
        let _ = writeln!(out, "ARG V{i}=${{V{p}:-x}}", p = i - 1);
    }
    tail(&mut out);
    out
}

/// One RUN of `n` commands joined by `&&`.
pub fn and_chain(n: usize) -> String {
    let mut out = format!("FROM {BASE}\nRUN true");
    for i in 0..n {
        let _ = write!(out, " && echo {i}");
    }
    out.push('\n');
    tail(&mut out);
    out
}

/// One RUN with `n` `--mount` flags.
pub fn many_flags(n: usize) -> String {
    let mut out = format!("FROM {BASE}\nRUN");
    for i in 0..n {
        let _ = write!(out, " --mount=type=cache,target=/c{i}");
    }
    out.push_str(" true\n");
    tail(&mut out);
    out
}

/// One RUN line of about `n` bytes (one long word, then many short ones).
pub fn huge_line(n: usize) -> String {
    let mut out = format!("FROM {BASE}\nRUN echo ");
    out.extend(std::iter::repeat_n('a', n / 2));
    while out.len() < n {
        out.push_str(" bb");
    }
    out.push('\n');
    tail(&mut out);
    out
}

/// One RUN continued over `n` lines (with comment lines between some).
pub fn continuations(n: usize) -> String {
    let mut out = format!("FROM {BASE}\nRUN true");
    for i in 0..n {
        out.push_str(" \\\n");
        if i % 4 == 0 {
            out.push_str("# note\n");
        }
        let _ = write!(out, "  && echo {i}");
    }
    out.push('\n');
    tail(&mut out);
    out
}

/// `n` stages, each built on the one before, each with a few ENVs; the last
/// stage's USER reads the variables inherited from all of them.
pub fn many_stages(n: usize) -> String {
    let mut out = format!("FROM {BASE} AS s0\nENV U0=10001\n");
    for i in 1..n {
        let p = i - 1;
        let _ = writeln!(
            out,
            "FROM s{p} AS s{i}\nENV U{i}=$U{p} W{i}=w{i} X{i}=x{i} Y{i}=y{i}"
        );
    }
    let _ = writeln!(out, "HEALTHCHECK CMD [\"true\"]\nUSER $U{}\n", n - 1);
    out
}

/// One RUN line of `n` `pip install` commands: a finding per command, all on
/// one line (line and column lookups, merging of findings).
pub fn many_findings(n: usize) -> String {
    let mut out = format!("FROM {BASE}\nRUN true");
    for _ in 0..n {
        out.push_str(" && pip install x");
    }
    out.push('\n');
    tail(&mut out);
    out
}

/// `${A:-${A:-...}}` nested `n` deep: beyond the nesting bound.
pub fn deep_nesting(n: usize) -> String {
    let mut out = format!("FROM {BASE}\nHEALTHCHECK CMD [\"true\"]\nUSER ");
    out.push_str(&"${A:-".repeat(n));
    out.push_str("10001");
    out.push_str(&"}".repeat(n));
    out.push('\n');
    out
}

/// Every shape, with what it must report.
pub fn shapes() -> Vec<Shape> {
    vec![
        Shape {
            name: "doubling ARG",
            generate: doubling_arg,
            expect: Some("SL4004"),
            message: "more than the linter expands",
            exit: 1,
        },
        Shape {
            name: "ENV bomb",
            generate: env_bomb,
            expect: Some("SL4001"),
            message: "more than the linter expands",
            exit: 1,
        },
        Shape {
            name: "many ARG lines",
            generate: many_args,
            expect: None,
            message: "",
            exit: 0,
        },
        Shape {
            name: "long && chain",
            generate: and_chain,
            expect: None,
            message: "",
            exit: 0,
        },
        Shape {
            name: "many flags",
            generate: many_flags,
            expect: None,
            message: "",
            exit: 0,
        },
        Shape {
            name: "huge single line",
            generate: huge_line,
            expect: None,
            message: "",
            exit: 0,
        },
        Shape {
            name: "many continuations",
            generate: continuations,
            expect: None,
            message: "",
            exit: 0,
        },
        Shape {
            name: "many stages",
            generate: many_stages,
            expect: None,
            message: "",
            exit: 0,
        },
        Shape {
            name: "many findings",
            generate: many_findings,
            expect: Some("SL4014"),
            message: "pip install",
            exit: 0,
        },
        Shape {
            name: "deep nesting",
            generate: deep_nesting,
            expect: Some("SL4001"),
            message: "nested more than",
            exit: 1,
        },
        Shape {
            name: "too many words",
            generate: huge_line,
            expect: Some("SL9011"),
            message: "words in one file",
            exit: 2,
        },
    ]
}
