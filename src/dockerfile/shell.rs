//! RUN scripts read as far as the rules need: the simple commands of a POSIX
//! shell script and their words, each with its byte span in the Dockerfile.
//!
//! This is a tokenizer, not a shell: quotes and escapes are removed, `;`, `&&`,
//! `||`, `|`, `&`, newlines and parentheses separate commands, redirections are
//! dropped, `$(...)` and backquotes stay inside the word they appear in, and
//! `#` at the start of a word starts a comment. The lexer has removed
//! Dockerfile line continuations before this runs.

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
    let stream: Vec<(char, usize)> = text.char_indices().map(|(i, c)| (c, base + i)).collect();
    tokenize(&stream)
}

/// Words and commands from a stream of characters with their file offsets
/// (Dockerfile continuations already removed).
pub fn tokenize(s: &[(char, usize)]) -> Vec<Command> {
    let mut t = Tokens::default();
    let mut i = 0;
    while i < s.len() {
        let (c, at) = s[i];
        let next = s.get(i + 1).map(|x| x.0);
        match c {
            ' ' | '\t' | '\r' => t.end_word(),
            '\n' | ';' | '&' | '|' | '(' | ')' => {
                t.end_word();
                t.end_command();
            }
            '\\' => {
                if next == Some('\n') {
                    i += 1;
                } else if let Some((n, n_at)) = s.get(i + 1).copied() {
                    t.push(n, at, n_at);
                    i += 1;
                }
            }
            '#' if t.word.is_none() => {
                while i + 1 < s.len() && s[i + 1].0 != '\n' {
                    i += 1;
                }
            }
            '>' | '<' => {
                // `2>` and `&>`: the digits before belong to the redirection.
                if t.word
                    .as_ref()
                    .is_some_and(|w| w.text.chars().all(|c| c.is_ascii_digit()))
                {
                    t.word = None;
                }
                t.end_word();
                while s.get(i + 1).is_some_and(|x| matches!(x.0, '>' | '<' | '&')) {
                    i += 1;
                }
                t.drop_next = true;
            }
            '\'' => {
                t.touch(at);
                i += 1;
                while i < s.len() && s[i].0 != '\'' {
                    t.push(s[i].0, at, s[i].1);
                    i += 1;
                }
                if let Some(&(_, end)) = s.get(i) {
                    t.extend_to(end + 1);
                }
            }
            '"' => {
                t.touch(at);
                i += 1;
                while i < s.len() && s[i].0 != '"' {
                    let (ch, ch_at) = s[i];
                    if ch == '\\' && s.get(i + 1).is_some_and(|x| "$`\"\\\n".contains(x.0)) {
                        if s[i + 1].0 != '\n' {
                            t.push(s[i + 1].0, at, s[i + 1].1);
                        }
                        i += 2;
                        continue;
                    }
                    t.push(ch, at, ch_at);
                    i += 1;
                }
                if let Some(&(_, end)) = s.get(i) {
                    t.extend_to(end + 1);
                }
            }
            '$' if next == Some('(') => {
                let mut depth = 0;
                while i < s.len() {
                    let (ch, ch_at) = s[i];
                    t.push(ch, at, ch_at);
                    match ch {
                        '(' => depth += 1,
                        ')' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    i += 1;
                }
            }
            '`' => {
                t.push(c, at, at);
                i += 1;
                while i < s.len() && s[i].0 != '`' {
                    t.push(s[i].0, at, s[i].1);
                    i += 1;
                }
                if let Some(&(ch, ch_at)) = s.get(i) {
                    t.push(ch, at, ch_at);
                }
            }
            _ => t.push(c, at, at),
        }
        i += 1;
    }
    t.end_word();
    t.end_command();
    t.commands
}

#[derive(Default)]
struct Tokens {
    commands: Vec<Command>,
    current: Vec<Word>,
    word: Option<Word>,
    /// The next word is a redirection target, not an argument.
    drop_next: bool,
}

impl Tokens {
    /// Starts a word at `at` if none is open (an empty quoted word is still a word).
    fn touch(&mut self, at: usize) {
        self.word.get_or_insert(Word {
            text: String::new(),
            span: Span { start: at, end: at },
        });
    }

    /// Appends `c`, found at byte `c_at`, to the word (opened at `at` if none is).
    fn push(&mut self, c: char, at: usize, c_at: usize) {
        self.touch(at);
        if let Some(w) = &mut self.word {
            w.text.push(c);
            w.span.end = w.span.end.max(c_at + c.len_utf8());
        }
    }

    fn extend_to(&mut self, end: usize) {
        if let Some(w) = &mut self.word {
            w.span.end = w.span.end.max(end);
        }
    }

    fn end_word(&mut self) {
        if let Some(w) = self.word.take() {
            if std::mem::take(&mut self.drop_next) {
                return;
            }
            self.current.push(w);
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
