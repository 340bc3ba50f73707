//! RUN scripts read as far as the rules need: the simple commands of a POSIX
//! shell script and their words, each with its byte span in the Dockerfile.
//!
//! This is a tokenizer, not a shell: quotes and escapes are removed, `;`, `&&`,
//! `||`, `|`, `&`, newlines and parentheses separate commands, redirections are
//! dropped, `$(...)` and backquotes stay inside the word they appear in, and
//! `#` at the start of a word starts a comment. The lexer has removed
//! Dockerfile line continuations before this runs.

use std::ops::Range;

use super::lex::Mapped;
use crate::source::Span;

/// One word of a command, unquoted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    pub text: String,
    /// Where the word is in the Dockerfile (quotes included).
    pub span: Span,
}

/// One simple command: its words, redirections removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Command {
    pub words: Vec<Word>,
}

/// Shell words that open compound commands; what follows them is a command.
const KEYWORDS: &[&str] = &[
    "if", "then", "else", "elif", "do", "while", "until", "!", "{", "}", "time",
];

/// Programs that run the rest of their arguments as a command.
const WRAPPERS: &[&str] = &["sudo", "env", "exec", "nice", "nohup", "command", "doas"];

impl Command {
    /// The words from the command name on: leading `NAME=value` assignments
    /// and shell keywords skipped.
    pub fn argv(&self) -> &[Word] {
        let skip = self
            .words
            .iter()
            .take_while(|w| is_assignment(&w.text) || KEYWORDS.contains(&w.text.as_str()))
            .count();
        &self.words[skip..]
    }

    /// The command that actually runs: [`Command::argv`] with wrappers such as
    /// `sudo`, `env` and `exec` (and their options) removed.
    pub fn exec(&self) -> &[Word] {
        let mut argv = self.argv();
        while let Some(first) = argv.first() {
            if !WRAPPERS.contains(&basename(&first.text)) {
                break;
            }
            let wrapper = basename(&first.text);
            let mut i = 1;
            while let Some(w) = argv.get(i) {
                if w.text.starts_with('-') {
                    // sudo's options that take a value.
                    let takes_value = wrapper == "sudo"
                        && matches!(w.text.as_str(), "-u" | "-g" | "-C" | "-D" | "-h" | "-p");
                    i += if takes_value { 2 } else { 1 };
                } else if is_assignment(&w.text) {
                    i += 1;
                } else {
                    break;
                }
            }
            argv = &argv[i.min(argv.len())..];
        }
        argv
    }

    /// The name of the program that runs, without its directory.
    pub fn program(&self) -> Option<&str> {
        self.exec().first().map(|w| basename(&w.text))
    }

    /// True when some word is exactly `flag`, or starts with `flag=`.
    pub fn has_flag(&self, flag: &str) -> bool {
        self.words.iter().any(|w| {
            w.text == flag
                || w.text
                    .strip_prefix(flag)
                    .is_some_and(|rest| rest.starts_with('='))
        })
    }

    /// The span from the first to the last word.
    pub fn span(&self) -> Span {
        match (self.words.first(), self.words.last()) {
            (Some(a), Some(b)) => Span {
                start: a.span.start,
                end: b.span.end,
            },
            _ => Span::default(),
        }
    }
}

/// `NAME=value` as a shell assignment.
fn is_assignment(word: &str) -> bool {
    word.split_once('=').is_some_and(|(name, _)| {
        !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !name.starts_with(|c: char| c.is_ascii_digit())
    })
}

/// `/usr/bin/apt-get` -> `apt-get`.
pub fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Tokenizes a script given as-is (a here-document body starting at `base`).
pub fn parse_script(text: &str, base: usize) -> Vec<Command> {
    let m = Mapped::at(text, base);
    tokenize(&m, 0..m.text.len())
}

/// Words and commands of `line.text[range]`, each word with its file span
/// (Dockerfile continuations already removed). One pass over the bytes: the
/// characters that matter are ASCII, so other characters are copied whole.
pub fn tokenize(line: &Mapped, range: Range<usize>) -> Vec<Command> {
    let mut unbounded = usize::MAX;
    tokenize_bounded(line, range, &mut unbounded)
}

/// [`tokenize`], reading at most `words_left` words (counted down); the
/// caller reports when it reaches 0 (the rest is not read).
pub fn tokenize_bounded(
    line: &Mapped,
    range: Range<usize>,
    words_left: &mut usize,
) -> Vec<Command> {
    let text = line.text.as_str();
    let s = text.as_bytes();
    let end = range.end.min(s.len());
    let mut t = Tokens {
        line,
        commands: Vec::new(),
        current: Vec::new(),
        word: None,
        drop_next: false,
        words_left,
    };
    // The character at byte `i`, as a str.
    let ch = |i: usize| -> &str {
        let len = text[i..].chars().next().map_or(1, char::len_utf8);
        &text[i..i + len]
    };
    let mut i = range.start;
    while i < end && *t.words_left > 0 {
        let c = s[i];
        let next = s.get(i + 1).copied().filter(|_| i + 1 < end);
        match c {
            b' ' | b'\t' | b'\r' => t.end_word(),
            b'\n' | b';' | b'&' | b'|' | b'(' | b')' => {
                t.end_word();
                t.end_command();
            }
            b'\\' => {
                if next == Some(b'\n') {
                    i += 1;
                } else if next.is_some() {
                    let n = ch(i + 1);
                    t.push(n, i, i + 1);
                    i += n.len();
                }
            }
            b'#' if t.word.is_none() => {
                while i + 1 < end && s[i + 1] != b'\n' {
                    i += 1;
                }
            }
            b'>' | b'<' => {
                // `2>` and `&>`: the digits before belong to the redirection.
                if t.word
                    .as_ref()
                    .is_some_and(|w| w.text.bytes().all(|c| c.is_ascii_digit()))
                {
                    t.word = None;
                }
                t.end_word();
                while i + 1 < end && matches!(s[i + 1], b'>' | b'<' | b'&') {
                    i += 1;
                }
                t.drop_next = true;
            }
            b'\'' => {
                let at = i;
                t.touch(at);
                let close = s[i + 1..end].iter().position(|&b| b == b'\'');
                let stop = close.map_or(end, |n| i + 1 + n);
                t.push_run(&text[i + 1..stop], at, i + 1);
                i = stop;
                if close.is_some() {
                    t.extend_to(stop + 1);
                }
            }
            b'"' => {
                let at = i;
                t.touch(at);
                i += 1;
                while i < end && s[i] != b'"' {
                    if s[i] == b'\\'
                        && i + 1 < end
                        && matches!(s[i + 1], b'$' | b'`' | b'"' | b'\\' | b'\n')
                    {
                        if s[i + 1] != b'\n' {
                            t.push_run(&text[i + 1..i + 2], at, i + 1);
                        }
                        i += 2;
                        continue;
                    }
                    // Up to the next quote or backslash, in one piece.
                    let stop = s[i..end]
                        .iter()
                        .position(|&b| b == b'"' || b == b'\\')
                        .map_or(end, |n| i + n)
                        .max(i + 1);
                    t.push_run(&text[i..stop], at, i);
                    i = stop;
                }
                if i < end {
                    t.extend_to(i + 1);
                }
            }
            b'$' if next == Some(b'(') => {
                let at = i;
                let mut depth = 0usize;
                let start = i;
                while i < end {
                    match s[i] {
                        b'(' => depth += 1,
                        b')' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    i += 1;
                }
                let stop = (i + 1).min(end);
                t.push_run(&text[start..stop], at, start);
                i = stop - 1;
            }
            b'`' => {
                let at = i;
                let close = s[i + 1..end].iter().position(|&b| b == b'`');
                let stop = close.map_or(end, |n| i + 2 + n);
                t.push_run(&text[i..stop], at, i);
                i = stop - 1;
            }
            _ => {
                // A run of ordinary bytes, copied at once.
                let stop = s[i..end]
                    .iter()
                    .position(|&b| {
                        matches!(
                            b,
                            b' ' | b'\t'
                                | b'\r'
                                | b'\n'
                                | b';'
                                | b'&'
                                | b'|'
                                | b'('
                                | b')'
                                | b'\\'
                                | b'#'
                                | b'>'
                                | b'<'
                                | b'\''
                                | b'"'
                                | b'$'
                                | b'`'
                        )
                    })
                    .map_or(end, |n| i + n)
                    .max(i + 1);
                // Never split a character: `stop` is at an ASCII byte or the end.
                t.push_run(&text[i..stop], i, i);
                i = stop - 1;
            }
        }
        i += 1;
    }
    t.end_word();
    t.end_command();
    t.commands
}

/// A word being read: its text, and the byte range of `line.text` it spans.
struct Open {
    text: String,
    start: usize,
    end: usize,
}

struct Tokens<'a> {
    line: &'a Mapped,
    commands: Vec<Command>,
    current: Vec<Word>,
    word: Option<Open>,
    /// The next word is a redirection target, not an argument.
    drop_next: bool,
    /// Words that may still be read.
    words_left: &'a mut usize,
}

impl Tokens<'_> {
    /// Starts a word at `at` if none is open (an empty quoted word is still a word).
    fn touch(&mut self, at: usize) {
        self.word.get_or_insert(Open {
            text: String::new(),
            start: at,
            end: at,
        });
    }

    /// Appends `run`, found at byte `run_at`, to the word (opened at `at` if none is).
    fn push_run(&mut self, run: &str, at: usize, run_at: usize) {
        self.touch(at);
        if run.is_empty() {
            return;
        }
        if let Some(w) = &mut self.word {
            w.text.push_str(run);
            w.end = w.end.max(run_at + run.len());
        }
    }

    /// Appends one character (a str of one char) found at `c_at`.
    fn push(&mut self, c: &str, at: usize, c_at: usize) {
        self.push_run(c, at, c_at);
    }

    fn extend_to(&mut self, end: usize) {
        if let Some(w) = &mut self.word {
            w.end = w.end.max(end);
        }
    }

    fn end_word(&mut self) {
        if let Some(w) = self.word.take() {
            if std::mem::take(&mut self.drop_next) || *self.words_left == 0 {
                return;
            }
            *self.words_left -= 1;
            self.current.push(Word {
                text: w.text,
                span: self.line.span(w.start..w.end),
            });
        }
    }

    fn end_command(&mut self) {
        self.drop_next = false;
        if !self.current.is_empty() {
            self.commands.push(Command {
                words: std::mem::take(&mut self.current),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(cmds: &[Command]) -> Vec<Vec<&str>> {
        cmds.iter()
            .map(|c| c.words.iter().map(|w| w.text.as_str()).collect())
            .collect()
    }

    #[test]
    fn separators_quotes_and_redirections() {
        let s = r#"apt-get update && apt-get install -y "curl" 'git' >/dev/null 2>&1; rm -rf /var/lib/apt/lists/* | tee x"#;
        let cmds = parse_script(s, 0);
        assert_eq!(
            words(&cmds),
            [
                vec!["apt-get", "update"],
                vec!["apt-get", "install", "-y", "curl", "git"],
                vec!["rm", "-rf", "/var/lib/apt/lists/*"],
                vec!["tee", "x"],
            ]
        );
        let curl = &cmds[1].words[3];
        assert_eq!(&s[curl.span.start..curl.span.end], "\"curl\"");
    }

    #[test]
    fn wrappers_assignments_and_keywords_are_skipped() {
        let cmds = parse_script(
            "DEBIAN_FRONTEND=noninteractive sudo -u root env A=1 /usr/bin/apt-get install x\nif true; then chmod 777 /x; fi",
            0,
        );
        assert_eq!(cmds[0].program(), Some("apt-get"));
        assert_eq!(cmds[0].argv()[0].text, "sudo");
        assert_eq!(cmds[2].program(), Some("chmod"));
        assert!(cmds[0].has_flag("-u"));
    }

    #[test]
    fn substitutions_stay_in_their_word_and_comments_end_at_newline() {
        let cmds = parse_script("echo $(id -u; true) `x y` # rm -rf /\nls", 0);
        assert_eq!(
            words(&cmds),
            [vec!["echo", "$(id -u; true)", "`x y`"], vec!["ls"]]
        );
    }
}
