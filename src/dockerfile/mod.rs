//! Dockerfiles. The `parse-dockerfile` crate reads BuildKit's grammar (parser
//! directives including `# escape=`, case-insensitive instructions, line
//! continuations, heredocs, JSON and shell forms, flags, byte spans); this
//! module turns its tree into the owned model the rules read: stages in order,
//! each instruction with the spans of its parts, RUN scripts split into
//! commands, and ARG/ENV substitution applied where a rule depends on the
//! value (FROM, USER, `--chown`).

pub mod lex;
pub mod shell;
pub mod vars;

use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use crate::source::Span;
pub use lex::ParseError;
use lex::{Mapped, Raw};
pub use shell::Word;
use vars::Value;
pub use vars::{Budget, Scope, Unresolved};

/// A parsed Dockerfile.
#[derive(Debug, Clone)]
pub struct Dockerfile {
    /// The escape character (`\` unless `# escape=` says otherwise).
    pub escape: char,
    pub stages: Vec<Stage>,
}

/// One build stage: its FROM and the instructions up to the next FROM.
#[derive(Debug, Clone)]
pub struct Stage {
    pub index: usize,
    pub from: From,
    pub instructions: Vec<Instruction>,
    /// The earlier stage this one builds on (`FROM builder`), whose user,
    /// environment and healthcheck it inherits.
    pub parent: Option<usize>,
}

/// A FROM instruction.
#[derive(Debug, Clone)]
pub struct From {
    pub keyword: Span,
    /// The image as written.
    pub image: Word,
    /// The image with global ARGs substituted.
    pub resolved: Result<String, Unresolved>,
    /// `AS name`, lowercased as BuildKit does.
    pub alias: Option<String>,
    pub flags: Vec<Flag>,
}

/// One instruction of a stage.
#[derive(Debug, Clone)]
pub struct Instruction {
    /// The keyword (`RUN`, `user`, ...) as written.
    pub keyword: Span,
    pub kind: Kind,
}

/// What an instruction does, as far as the rules need it.
#[derive(Debug, Clone)]
pub enum Kind {
    Run {
        flags: Vec<Flag>,
        /// The commands of the shell form, of here-documents that are shell
        /// scripts, or the single command of the exec form.
        commands: Vec<shell::Command>,
    },
    User {
        user: Word,
        resolved: Result<String, Unresolved>,
    },
    Env(Vec<Var>),
    Arg(Vec<Var>),
    Add(Transfer),
    Copy(Transfer),
    Healthcheck {
        /// `HEALTHCHECK NONE`.
        none: bool,
    },
    Other,
}

/// The parts of ADD and COPY.
#[derive(Debug, Clone)]
pub struct Transfer {
    pub flags: Vec<Flag>,
    /// Sources as written; here-documents are left out.
    pub sources: Vec<Word>,
    /// Each source as BuildKit reads it: quotes removed, the stage's ARG and
    /// ENV variables substituted (or why that is not possible).
    pub resolved: Vec<Result<String, Unresolved>>,
    pub dest: Word,
}

/// A `--name=value` flag.
#[derive(Debug, Clone)]
pub struct Flag {
    pub name: String,
    pub value: Option<String>,
    pub span: Span,
}

/// One variable of an ENV or ARG instruction.
#[derive(Debug, Clone)]
pub struct Var {
    pub name: String,
    /// The value (substituted), `None` for `ARG NAME` without a default.
    pub value: Option<Result<String, Unresolved>>,
    /// The `NAME=value` word.
    pub span: Span,
}

impl Transfer {
    /// The value of flag `--name`.
    pub fn flag(&self, name: &str) -> Option<&Flag> {
        self.flags.iter().find(|f| f.name == name)
    }
}

/// True for file names read as Dockerfiles: `Dockerfile`, `Dockerfile.*`,
/// `*.Dockerfile`, `Containerfile` and `Containerfile.*` (case as written:
/// BuildKit's own default is `Dockerfile`, lowercase `dockerfile` is accepted too).
pub fn is_dockerfile_name(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    // `Dockerfile.dockerignore` is the ignore file BuildKit pairs with a Dockerfile.
    if name.to_ascii_lowercase().ends_with(".dockerignore") {
        return false;
    }
    let stem_is = |base: &str| {
        name.eq_ignore_ascii_case(base)
            || name
                .get(..base.len() + 1)
                .is_some_and(|p| p.eq_ignore_ascii_case(&format!("{base}.")))
    };
    stem_is("Dockerfile")
        || stem_is("Containerfile")
        || name
            .rsplit_once('.')
            .is_some_and(|(stem, ext)| !stem.is_empty() && ext.eq_ignore_ascii_case("dockerfile"))
}

/// True when a file named neither as a manifest nor as a Dockerfile reads as a
/// Dockerfile: its first line that is not blank or a comment starts with FROM
/// or ARG and an argument (which no Kubernetes manifest does).
pub fn looks_like_dockerfile(text: &str) -> bool {
    crate::source::lines(text)
        .map(|l| l.trim_start_matches(crate::source::BOM).trim())
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .and_then(|l| l.split_once(char::is_whitespace))
        .is_some_and(|(kw, rest)| {
            (kw.eq_ignore_ascii_case("FROM") || kw.eq_ignore_ascii_case("ARG"))
                && !rest.trim().is_empty()
        })
}

/// Parses a Dockerfile: the model, and what BuildKit would refuse in it (the
/// rest of the file is still read; a refused instruction is left out).
pub fn parse(text: &str) -> (Dockerfile, Vec<ParseError>) {
    let lexed = lex::lex(text);
    let mut b = Builder {
        escape: lexed.escape,
        global: Scope::new(),
        stages: Vec::new(),
        envs: Vec::new(),
        scope: Scope::new(),
        budget: Budget::default(),
        words_left: MAX_WORDS + 1,
        errors: lexed.errors,
    };
    for raw in &lexed.instructions {
        if raw.keyword == "FROM" && b.stages.len() == MAX_STAGES {
            b.error(
                raw.keyword_span,
                format!("more than {MAX_STAGES} build stages: the rest of the file is not checked"),
            );
            break;
        }
        b.instruction(raw);
    }
    if b.stages.is_empty() && b.errors.is_empty() {
        b.errors.push(ParseError {
            message: "no FROM instruction: the file defines no build stage".into(),
            span: Span::default(),
        });
    }
    b.errors.extend(lex::lone_carriage_return(text));
    b.errors.sort_by_key(|e| e.span.start);
    if b.errors.len() > MAX_ERRORS {
        let more = b.errors.len() - MAX_ERRORS;
        let span = b.errors[MAX_ERRORS].span;
        b.errors.truncate(MAX_ERRORS);
        b.errors.push(ParseError {
            message: format!(
                "{more} more problems BuildKit would refuse the file for, from here on, are not listed"
            ),
            span,
        });
    }
    (
        Dockerfile {
            escape: lexed.escape,
            stages: b.stages,
        },
        b.errors,
    )
}

/// Build stages read from one file. Real Dockerfiles have a handful; the
/// bound keeps the stage-chain walks of the parser and the rules (each linear
/// in the chain) from growing quadratic on a generated file.
pub const MAX_STAGES: usize = 512;

/// Problems listed per file: BuildKit refuses the file at the first, and a
/// generated file with 200,000 of them would make as many findings.
pub const MAX_ERRORS: usize = 1000;

/// Words of RUN commands read from one file (each costs about 80 bytes in
/// the model; real Dockerfiles have a few thousand). Past it, the rest of the
/// RUN is not read and the file is an error (fail closed).
pub const MAX_WORDS: usize = 500_000;

struct Builder {
    escape: char,
    /// ARGs declared before the first FROM.
    global: Scope,
    stages: Vec<Stage>,
    /// The ENV variables each stage sets, in order, values shared with the scope.
    envs: Vec<Vec<(String, Value)>>,
    /// Variables of the current stage.
    scope: Scope,
    /// What substitutions may still cost in this file.
    budget: Budget,
    /// RUN words that may still be read in this file.
    words_left: usize,
    errors: Vec<ParseError>,
}

/// Leading `--name[=value]` flags of `line.text[args]`, and the range after them.
fn take_flags(line: &Mapped, args: Range<usize>, escape: char) -> (Vec<Flag>, Range<usize>) {
    let mut flags = Vec::new();
    let text = &line.text[args.clone()];
    let none = Scope::new();
    // One pass over the words: only the leading flags are read.
    for w in vars::split_words(text, escape) {
        let word = &text[w.clone()];
        let Some(body) = word.strip_prefix("--") else {
            return (flags, args.start + w.start..args.end);
        };
        let (name, value) = match body.split_once('=') {
            Some((n, v)) => (
                n,
                Some(vars::expand(v, &none, escape).unwrap_or_else(|_| v.to_string())),
            ),
            None => (body, None),
        };
        flags.push(Flag {
            name: name.to_ascii_lowercase(),
            value,
            span: line.span(args.start + w.start..args.start + w.end),
        });
    }
    (flags, args.end..args.end)
}

/// The strings of a JSON array form with their ranges (quotes included), or
/// `None` when the text is not a JSON array of strings (then it is shell form).
fn json_form(text: &str) -> Option<Vec<(String, Range<usize>)>> {
    let items: Vec<String> = serde_json::from_str(text).ok()?;
    let bytes = text.as_bytes();
    let mut ranges = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'"' {
            let start = i;
            i += 1;
            while i < bytes.len() && bytes[i] != b'"' {
                i += if bytes[i] == b'\\' { 2 } else { 1 };
            }
            ranges.push(start..(i + 1).min(bytes.len()));
        }
        i += 1;
    }
    (ranges.len() == items.len()).then(|| items.into_iter().zip(ranges).collect())
}

impl Builder {
    fn error(&mut self, span: Span, message: String) {
        self.errors.push(ParseError { message, span });
    }

    fn instruction(&mut self, raw: &Raw) {
        let line = &raw.line;
        let args = raw.args.clone();
        let text = &line.text[args.clone()];
        let kw = raw.keyword.as_str();
        if text.is_empty() {
            return self.error(raw.keyword_span, format!("{kw} requires arguments"));
        }
        if kw == "FROM" {
            return self.from(raw);
        }
        if self.stages.is_empty() && kw != "ARG" {
            return self.error(
                raw.keyword_span,
                format!("{kw} before the first FROM: only ARG may come before it"),
            );
        }
        let kind = match kw {
            "ARG" => {
                let vars = self.vars(line, args, true);
                if self.stages.is_empty() {
                    return;
                }
                Kind::Arg(vars)
            }
            "ENV" => Kind::Env(self.vars(line, args, false)),
            "USER" => {
                let user = Word {
                    text: text.to_string(),
                    span: line.span(args),
                };
                let resolved =
                    vars::expand_with(&user.text, &self.scope, self.escape, &mut self.budget);
                Kind::User { user, resolved }
            }
            "RUN" => {
                let (flags, rest) = take_flags(line, args, self.escape);
                let commands = self.commands(raw, rest);
                Kind::Run { flags, commands }
            }
            "ADD" | "COPY" => {
                let (flags, rest) = take_flags(line, args, self.escape);
                let mut words: Vec<Word> = match json_form(&line.text[rest.clone()]) {
                    Some(items) => items
                        .into_iter()
                        .map(|(text, r)| Word {
                            text,
                            span: line.span(rest.start + r.start..rest.start + r.end),
                        })
                        .collect(),
                    None => vars::split_words(&line.text[rest.clone()], self.escape)
                        .map(|r| Word {
                            text: line.text[rest.start + r.start..rest.start + r.end].to_string(),
                            span: line.span(rest.start + r.start..rest.start + r.end),
                        })
                        .filter(|w| !w.text.starts_with("<<"))
                        .collect(),
                };
                let Some(dest) = words
                    .pop()
                    .filter(|_| !words.is_empty() || !raw.heredocs.is_empty())
                else {
                    return self.error(
                        raw.keyword_span,
                        format!("{kw} requires at least one source and a destination"),
                    );
                };
                let resolved = words
                    .iter()
                    .map(|w| vars::expand(&w.text, &self.scope, self.escape))
                    .collect();
                let t = Transfer {
                    flags,
                    sources: words,
                    resolved,
                    dest,
                };
                if kw == "ADD" {
                    Kind::Add(t)
                } else {
                    Kind::Copy(t)
                }
            }
            "HEALTHCHECK" => {
                let (_, rest) = take_flags(line, args, self.escape);
                let first = line.text[rest.clone()]
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_ascii_uppercase();
                match first.as_str() {
                    "NONE" => Kind::Healthcheck { none: true },
                    "CMD" => Kind::Healthcheck { none: false },
                    _ => {
                        return self.error(
                            line.span(rest),
                            "HEALTHCHECK takes `CMD command` or `NONE`".into(),
                        );
                    }
                }
            }
            _ => Kind::Other,
        };
        if let Some(stage) = self.stages.last_mut() {
            stage.instructions.push(Instruction {
                keyword: raw.keyword_span,
                kind,
            });
        }
    }

    fn from(&mut self, raw: &Raw) {
        let line = &raw.line;
        let (flags, rest) = take_flags(line, raw.args.clone(), self.escape);
        let words: Vec<Range<usize>> = vars::split_words(&line.text[rest.clone()], self.escape)
            .take(4)
            .collect();
        let at = |r: &Range<usize>| rest.start + r.start..rest.start + r.end;
        let alias = match words.as_slice() {
            [_] => None,
            [_, kw, name] if line.text[at(kw)].eq_ignore_ascii_case("as") => {
                Some(line.text[at(name)].to_ascii_lowercase())
            }
            _ => {
                return self.error(
                    line.span(raw.args.clone()),
                    "FROM takes an image and optionally `AS name`".into(),
                );
            }
        };
        let image = Word {
            text: line.text[at(&words[0])].to_string(),
            span: line.span(at(&words[0])),
        };
        let resolved = vars::expand_with(&image.text, &self.global, self.escape, &mut self.budget);
        let parent = resolved.as_ref().ok().and_then(|name| {
            self.stages
                .iter()
                .rposition(|s| s.from.alias.as_deref() == Some(&name.to_ascii_lowercase()))
        });
        if let Some(a) = &alias
            && self.stages.iter().any(|s| s.from.alias.as_ref() == Some(a))
        {
            self.error(
                line.span(at(&words[2])),
                format!("stage name `{a}` is used twice"),
            );
        }
        // A stage starts with the environment of the stage it builds on.
        self.scope = parent.map_or_else(Scope::new, |p| self.stage_env(p));
        self.envs.push(Vec::new());
        self.stages.push(Stage {
            index: self.stages.len(),
            from: From {
                keyword: raw.keyword_span,
                image,
                resolved,
                alias,
                flags,
            },
            instructions: Vec::new(),
            parent,
        });
    }

    /// The ENV variables a stage ends with (its parents' included). A loop,
    /// not a recursion: a chain of stages may be as long as the file. Each
    /// variable copied is charged to the budget; once it is spent, the
    /// environment is left incomplete and every substitution is unresolved.
    fn stage_env(&mut self, index: usize) -> Scope {
        let mut chain = vec![index];
        while let Some(p) = self.stages[*chain.last().expect("not empty")].parent {
            chain.push(p);
        }
        let mut env = Scope::new();
        for &s in chain.iter().rev() {
            let vars = &self.envs[s];
            if self.budget.copies(vars.len()).is_err() {
                return env;
            }
            for (name, value) in vars {
                env.insert(name.clone(), value.clone());
            }
        }
        env
    }

    /// The variables of an ENV or ARG instruction, values substituted with
    /// what is in scope so far (each sees the ones before it), and put in
    /// scope (the global one before the first FROM).
    fn vars(&mut self, line: &Mapped, args: Range<usize>, is_arg: bool) -> Vec<Var> {
        let value = &line.text[args.clone()];
        let at = |r: &Range<usize>| line.span(args.start + r.start..args.start + r.end);
        let in_stage = !self.stages.is_empty();
        let mut words = vars::split_words(value, self.escape).peekable();
        // Legacy `ENV NAME value with spaces`.
        if !is_arg && let Some(w) = words.next_if(|w| !value[w.clone()].contains('=')) {
            let name = &value[w.clone()];
            let rest = value[w.end..].trim();
            let v = vars::expand_with(rest, &self.scope, self.escape, &mut self.budget);
            self.set_env(name, &v);
            return vec![Var {
                name: name.to_string(),
                value: Some(v),
                span: at(&(w.start..value.len())),
            }];
        }
        let mut out = Vec::new();
        for w in words {
            let raw = &value[w.clone()];
            let (name, v) = match raw.split_once('=') {
                Some((n, v)) => {
                    let scope = if in_stage { &self.scope } else { &self.global };
                    (
                        n,
                        Some(vars::expand_with(v, scope, self.escape, &mut self.budget)),
                    )
                }
                None => (raw, None),
            };
            if is_arg {
                // `ARG NAME` inside a stage takes the global value, if any.
                let known: Value = match &v {
                    Some(v) => v.as_deref().map(Arc::from).map_err(Clone::clone),
                    None if in_stage => match self.global.get(name) {
                        Some(g) => g.clone(),
                        None => Err(Unresolved::NoDefault(vars::excerpt(name, 64))),
                    },
                    None => Err(Unresolved::NoDefault(vars::excerpt(name, 64))),
                };
                let target = if in_stage {
                    &mut self.scope
                } else {
                    &mut self.global
                };
                target.insert(name.to_string(), known);
            } else if let Some(v) = &v {
                self.set_env(name, v);
            }
            out.push(Var {
                name: name.to_string(),
                value: v,
                span: at(&w),
            });
        }
        out
    }

    /// Puts an ENV variable in the stage's scope and in what the stages built
    /// on this one inherit.
    fn set_env(&mut self, name: &str, v: &Result<String, Unresolved>) {
        let value: Value = v.as_deref().map(Arc::from).map_err(Clone::clone);
        if let Some(env) = self.envs.last_mut() {
            env.push((name.to_string(), value.clone()));
        }
        self.scope.insert(name.to_string(), value);
    }

    /// The commands a RUN instruction runs.
    fn commands(&mut self, raw: &Raw, rest: Range<usize>) -> Vec<shell::Command> {
        let full = self.words_left == 0;
        let out = self.read_commands(raw, rest);
        if self.words_left == 0 && !full {
            self.error(
                raw.keyword_span,
                format!(
                    "RUN commands of more than {MAX_WORDS} words in one file: the rest is not read, so it is not checked"
                ),
            );
        }
        out
    }

    fn read_commands(&mut self, raw: &Raw, rest: Range<usize>) -> Vec<shell::Command> {
        let line = &raw.line;
        let text = &line.text[rest.clone()];
        let mut out = match json_form(text) {
            Some(items) => vec![shell::Command {
                words: items
                    .into_iter()
                    .map(|(text, r)| Word {
                        text,
                        span: line.span(rest.start + r.start..rest.start + r.end),
                    })
                    .collect(),
            }],
            None => shell::tokenize_bounded(line, rest, &mut self.words_left),
        };
        // A here-document is a script when nothing but a shell runs it.
        let runs_script = match out.as_slice() {
            [] => true,
            [only] => only.program().is_some_and(is_shell) && only.exec().len() <= 2,
            _ => false,
        };
        if runs_script {
            for h in &raw.heredocs {
                out.extend(shell::tokenize_bounded(
                    &h.body,
                    0..h.body.text.len(),
                    &mut self.words_left,
                ));
            }
        }
        out
    }
}

fn is_shell(program: &str) -> bool {
    matches!(program, "sh" | "bash" | "ash" | "dash" | "zsh" | "ksh")
}

/// The user a stage's containers run as, and how it came to be.
#[derive(Debug, Clone)]
pub struct Effective<'a> {
    /// The last USER of the stage or the stages it builds on.
    pub user: Option<&'a Instruction>,
    /// Every USER in that chain, in order.
    pub users: Vec<&'a Instruction>,
    /// The last HEALTHCHECK in that chain.
    pub healthcheck: Option<&'a Instruction>,
    /// The stages of the chain, from the first to this one.
    pub chain: Vec<&'a Stage>,
}

impl Dockerfile {
    /// The stage the image is built from (the last one).
    pub fn final_stage(&self) -> Option<&Stage> {
        self.stages.last()
    }

    /// The final stage's effective USER as written and as resolved, if any USER
    /// sets it (in the final stage or the stages it builds on).
    pub fn final_user(&self) -> Option<(&Word, &Result<String, Unresolved>)> {
        match &self.effective(self.final_stage()?).user?.kind {
            Kind::User { user, resolved } => Some((user, resolved)),
            _ => None,
        }
    }

    /// What a stage inherits and sets: USER and HEALTHCHECK through `FROM <stage>`.
    pub fn effective<'a>(&'a self, stage: &'a Stage) -> Effective<'a> {
        let mut chain = vec![stage];
        let mut at = stage.parent;
        while let Some(p) = at {
            let s = &self.stages[p];
            chain.push(s);
            at = s.parent;
        }
        chain.reverse();
        let mut all = chain.iter().flat_map(|s| &s.instructions);
        let users: Vec<&Instruction> = all
            .clone()
            .filter(|i| matches!(i.kind, Kind::User { .. }))
            .collect();
        Effective {
            user: users.last().copied(),
            healthcheck: all.rfind(|i| matches!(i.kind, Kind::Healthcheck { .. })),
            users,
            chain,
        }
    }
}

/// `uid`, `uid:gid`, `name` or `name:group` split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSpec<'a> {
    pub user: &'a str,
    pub group: Option<&'a str>,
}

impl<'a> UserSpec<'a> {
    pub fn parse(s: &'a str) -> Self {
        match s.split_once(':') {
            Some((u, g)) => Self {
                user: u,
                group: Some(g),
            },
            None => Self {
                user: s,
                group: None,
            },
        }
    }

    /// The numeric uid, when the user is given as one.
    pub fn uid(&self) -> Option<i64> {
        self.user.parse().ok()
    }

    /// True for `root` and uid 0.
    pub fn is_root(&self) -> bool {
        self.user == "root" || self.uid() == Some(0)
    }

    /// True when the primary group is root's: `root` or gid 0.
    pub fn is_root_group(&self) -> bool {
        self.group
            .is_some_and(|g| g == "root" || g.parse::<i64>() == Ok(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_text(text: &str) -> Dockerfile {
        let (d, errors) = parse(text);
        assert!(errors.is_empty(), "{errors:?}");
        d
    }

    fn user_of(d: &Dockerfile) -> Option<String> {
        let e = d.effective(d.final_stage().unwrap());
        match &e.user?.kind {
            Kind::User { resolved, .. } => resolved.clone().ok(),
            _ => None,
        }
    }

    #[test]
    fn names_that_are_dockerfiles() {
        for yes in [
            "Dockerfile",
            "dir/Dockerfile.runner",
            "runner.Dockerfile",
            "Containerfile",
            "dockerfile",
        ] {
            assert!(is_dockerfile_name(Path::new(yes)), "{yes}");
        }
        for no in [
            "Dockerfiles",
            "x.yaml",
            ".Dockerfile",
            "Dockerfile-old",
            "Dockerfile.dockerignore",
            "runner.Dockerfile.dockerignore",
        ] {
            assert!(!is_dockerfile_name(Path::new(no)), "{no}");
        }
    }

    #[test]
    fn stages_aliases_and_inherited_user() {
        let d = parse_text(
            "ARG BASE=python:3.12\nFROM ${BASE} AS Build\nUSER 1000\nFROM build AS final\nRUN true\n",
        );
        assert_eq!(d.stages.len(), 2);
        assert_eq!(d.stages[0].from.resolved.as_deref(), Ok("python:3.12"));
        assert_eq!(d.stages[1].parent, Some(0));
        assert_eq!(user_of(&d).as_deref(), Some("1000"));
    }

    #[test]
    fn user_substitutes_stage_args_and_env() {
        let d = parse_text("ARG UID=10001\nFROM a\nARG UID\nENV GID=20\nUSER ${UID}:$GID\n");
        assert_eq!(user_of(&d).as_deref(), Some("10001:20"));
        let d = parse_text("FROM a\nARG UID\nUSER $UID\n");
        let e = d.effective(&d.stages[0]);
        let Kind::User { resolved, .. } = &e.user.unwrap().kind else {
            panic!()
        };
        assert_eq!(resolved, &Err(Unresolved::NoDefault("UID".into())));
    }

    /// Doubling ARG and ENV lines stop at the value bound: what depends on
    /// them is unresolved with the reason, and an unresolved ENV value passes
    /// its own reason on (not "no default").
    #[test]
    fn over_budget_values_are_unresolved_with_the_reason() {
        let mut text = String::from("ARG A0=xxxxxxxx\n");
        for i in 1..40 {
            text.push_str(&format!("ARG A{i}=${{A{p}}}${{A{p}}}\n", p = i - 1));
        }
        text.push_str("FROM python:${A39}\nENV S=s\n");
        for _ in 0..40 {
            text.push_str("ENV S=$S$S T=$S\n");
        }
        text.push_str("USER $T\n");
        let d = parse_text(&text);
        assert_eq!(
            d.stages[0].from.resolved,
            Err(Unresolved::TooLong("A13".into()))
        );
        let Kind::User { resolved, .. } = &d.effective(&d.stages[0]).user.unwrap().kind else {
            panic!()
        };
        assert_eq!(resolved, &Err(Unresolved::TooLong("S".into())));
        let d = parse_text("FROM a\nENV X=$NOPE\nUSER $X\n");
        assert_eq!(user_of(&d), None);
        let Kind::User { resolved, .. } = &d.effective(&d.stages[0]).user.unwrap().kind else {
            panic!()
        };
        assert_eq!(resolved, &Err(Unresolved::Undeclared("NOPE".into())));
    }

    /// Flags are read in one pass, however many; the command after them is found.
    #[test]
    fn many_flags_and_words() {
        let mut text = String::from("FROM a\nRUN");
        for i in 0..20_000 {
            text.push_str(&format!(" --mount=type=cache,target=/c{i}"));
        }
        text.push_str(" apt-get update\n");
        let d = parse_text(&text);
        let Kind::Run { flags, commands } = &d.stages[0].instructions[0].kind else {
            panic!()
        };
        assert_eq!(flags.len(), 20_000);
        assert_eq!(
            flags[19_999].value.as_deref(),
            Some("type=cache,target=/c19999")
        );
        let w = &commands[0].words[1];
        assert_eq!(&text[w.span.start..w.span.end], "update");
    }

    /// Past the word bound the rest of the RUN is not read, and the file says so.
    #[test]
    fn words_are_bounded_per_file() {
        let text = format!("FROM a\nRUN {}\nRUN {}\n", "a ".repeat(MAX_WORDS), "b ");
        let (d, errors) = parse(&text);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].message.contains("not checked"), "{errors:?}");
        assert_eq!(&text[errors[0].span.start..errors[0].span.end], "RUN");
        assert_eq!(errors[0].span.start, text.rfind("RUN").unwrap());
        let words: usize = d.stages[0]
            .instructions
            .iter()
            .map(|i| match &i.kind {
                Kind::Run { commands, .. } => commands.iter().map(|c| c.words.len()).sum(),
                _ => 0,
            })
            .sum();
        assert_eq!(words, MAX_WORDS + 1);
        let (_, errors) = parse(&format!("FROM a\nRUN {}\n", "a ".repeat(MAX_WORDS)));
        assert!(errors.is_empty(), "{errors:?}");
    }

    /// Thousands of refused instructions are listed up to the bound, then counted.
    #[test]
    fn errors_are_bounded_per_file() {
        let text = format!("FROM a\n{}", "FOO x\n".repeat(MAX_ERRORS + 5));
        let (_, errors) = parse(&text);
        assert_eq!(errors.len(), MAX_ERRORS + 1);
        assert!(
            errors[MAX_ERRORS - 1]
                .message
                .contains("unknown instruction")
        );
        let last = &errors[MAX_ERRORS];
        assert!(
            last.message.starts_with("5 more problems"),
            "{}",
            last.message
        );
        assert_eq!(last.span.start, 7 + 6 * MAX_ERRORS);
    }

    #[test]
    fn env_forms_and_spans() {
        let text = "FROM a\nENV A=1 B=\"x y\"\nENV LEGACY some value\n";
        let d = parse_text(text);
        let vars: Vec<(String, String, &str)> = d.stages[0]
            .instructions
            .iter()
            .flat_map(|i| match &i.kind {
                Kind::Env(v) => v.clone(),
                _ => vec![],
            })
            .map(|v| {
                let value = v.value.unwrap().unwrap();
                (v.name, value, &text[v.span.start..v.span.end])
            })
            .collect();
        assert_eq!(
            vars,
            [
                ("A".into(), "1".into(), "A=1"),
                ("B".into(), "x y".into(), "B=\"x y\""),
                ("LEGACY".into(), "some value".into(), "LEGACY some value"),
            ]
        );
    }

    #[test]
    fn heredoc_scripts_are_commands_with_file_offsets() {
        let text = "FROM a\nRUN <<EOT\napt-get install x\nEOT\nRUN python3 <<EOT\nimport os\nEOT\n";
        let d = parse_text(text);
        let cmds: Vec<&shell::Command> = d.stages[0]
            .instructions
            .iter()
            .flat_map(|i| match &i.kind {
                Kind::Run { commands, .. } => commands.iter().collect(),
                _ => vec![],
            })
            .collect();
        assert_eq!(cmds.len(), 2, "{cmds:?}");
        assert_eq!(cmds[0].program(), Some("apt-get"));
        let w = &cmds[0].words[1];
        assert_eq!(&text[w.span.start..w.span.end], "install");
        assert_eq!(cmds[1].program(), Some("python3"));
    }

    #[test]
    fn parse_errors_carry_their_span_and_keep_the_rest() {
        let text = "FROM a\nFOO bar\nUSER 1\n";
        let (d, errors) = parse(text);
        assert_eq!(errors.len(), 1);
        assert_eq!(&text[errors[0].span.start..errors[0].span.end], "FOO");
        assert_eq!(d.stages[0].instructions.len(), 1);
        let (_, errors) = parse("");
        assert!(errors[0].message.contains("no FROM"));
        let (_, errors) = parse("RUN x\nFROM a AS b\nFROM c AS b\n");
        let messages: Vec<&str> = errors.iter().map(|e| e.message.as_str()).collect();
        assert!(
            messages[0].contains("before the first FROM"),
            "{messages:?}"
        );
        assert!(messages[1].contains("used twice"), "{messages:?}");
    }

    #[test]
    fn flags_json_forms_and_copy_heredocs() {
        let text = "FROM --platform=linux/amd64 a\nCOPY --chown=1:1 [\"a b\", \"/c\"]\nCOPY <<EOF /x\nhi\nEOF\nRUN --mount=type=cache,target=/var/cache/apt [\"apt-get\", \"update\"]\n";
        let d = parse_text(text);
        assert_eq!(
            d.stages[0].from.flags[0].value.as_deref(),
            Some("linux/amd64")
        );
        let kinds = &d.stages[0].instructions;
        let Kind::Copy(t) = &kinds[0].kind else {
            panic!()
        };
        assert_eq!(t.flag("chown").unwrap().value.as_deref(), Some("1:1"));
        assert_eq!(t.sources[0].text, "a b");
        assert_eq!(&text[t.dest.span.start..t.dest.span.end], "\"/c\"");
        let Kind::Copy(t) = &kinds[1].kind else {
            panic!()
        };
        assert!(t.sources.is_empty());
        assert_eq!(t.dest.text, "/x");
        let Kind::Run { flags, commands } = &kinds[2].kind else {
            panic!()
        };
        assert_eq!(flags[0].name, "mount");
        assert_eq!(commands[0].program(), Some("apt-get"));
    }
}
