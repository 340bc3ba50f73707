//! Words as BuildKit reads them: quotes removed, the escape character taken
//! literally, and `$VAR`, `${VAR}`, `${VAR:-word}`, `${VAR:+word}`,
//! `${VAR-word}` and `${VAR+word}` substituted from the variables in scope.
//! Anything the linter cannot evaluate (a build argument without a default,
//! a variable never declared, pattern substitutions) is an [`Unresolved`]
//! error, never a guess: rules that depend on the value report it instead.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

/// What a variable in scope holds: its value, or why it has none the linter
/// knows (`ARG NAME` without a default is [`Unresolved::NoDefault`]: only the
/// build, `--build-arg`, knows it).
pub type Value = Result<Arc<str>, Unresolved>;

/// Variables in scope.
pub type Scope = HashMap<String, Value>;

/// Why a word could not be evaluated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unresolved {
    /// `ARG NAME` without a default.
    NoDefault(String),
    /// Never declared by ARG or ENV in scope.
    Undeclared(String),
    /// A form the linter does not evaluate (`${VAR#pattern}` and friends).
    Unsupported(String),
    /// Substituting the variable makes the value longer than [`MAX_VALUE`].
    TooLong(String),
    /// The file's substitutions together exceed [`Budget`].
    OverBudget,
}

impl fmt::Display for Unresolved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unresolved::NoDefault(n) => {
                write!(
                    f,
                    "it depends on build argument `{n}`, which has no default"
                )
            }
            Unresolved::Undeclared(n) => write!(
                f,
                "it uses `${n}`, which no ARG or ENV declares in this stage"
            ),
            Unresolved::Unsupported(e) => {
                write!(f, "it uses `{e}`, which the linter does not evaluate")
            }
            Unresolved::TooLong(n) => write!(
                f,
                "substituting `${n}` makes it longer than {} KiB, more than the linter expands",
                MAX_VALUE >> 10
            ),
            Unresolved::OverBudget => write!(
                f,
                "the file's ARG and ENV substitutions add up to more than {} MiB (or {} variables copied between stages), more than the linter expands",
                MAX_SUBSTITUTED >> 20,
                MAX_COPIED
            ),
        }
    }
}

/// How deep `${A:-${B:-...}}` may nest; deeper is [`Unresolved::Unsupported`]
/// (real Dockerfiles nest two or three levels; the bound keeps the recursion
/// off the end of the stack).
pub const MAX_NESTING: usize = 16;

/// The longest value a substitution may produce (64 KiB): `ARG B=$A$A`,
/// `ARG C=$B$B`, ... doubles at each line, and 30 such lines would make a
/// gigabyte. Longer is [`Unresolved::TooLong`].
pub const MAX_VALUE: usize = 64 << 10;

/// The bytes of variable values all substitutions of one file may copy (4 MiB).
pub const MAX_SUBSTITUTED: usize = 4 << 20;

/// The variables one file's stages may copy from the stages they build on
/// (each `FROM <stage>` starts with that stage's environment).
pub const MAX_COPIED: usize = 1 << 20;

/// What substitutions may still cost in one file. Once spent, every
/// substitution is [`Unresolved::OverBudget`] (what depends on it fails
/// closed), and stays so: a partly copied environment is never read.
#[derive(Debug, Clone)]
pub struct Budget {
    bytes: usize,
    copies: usize,
    spent: bool,
}

impl Default for Budget {
    fn default() -> Self {
        Self {
            bytes: MAX_SUBSTITUTED,
            copies: MAX_COPIED,
            spent: false,
        }
    }
}

impl Budget {
    /// Takes `n` bytes of substituted text.
    fn bytes(&mut self, n: usize) -> Result<(), Unresolved> {
        match self.bytes.checked_sub(n) {
            Some(left) if !self.spent => {
                self.bytes = left;
                Ok(())
            }
            _ => {
                self.spent = true;
                Err(Unresolved::OverBudget)
            }
        }
    }

    /// Takes `n` variables copied from one stage to another.
    pub fn copies(&mut self, n: usize) -> Result<(), Unresolved> {
        match self.copies.checked_sub(n) {
            Some(left) if !self.spent => {
                self.copies = left;
                Ok(())
            }
            _ => {
                self.spent = true;
                Err(Unresolved::OverBudget)
            }
        }
    }

    /// True once the budget ran out.
    pub fn spent(&self) -> bool {
        self.spent
    }
}

/// At most `max` characters of `s`, with `...` when cut (names and text
/// quoted in messages stay short whatever the file holds).
pub fn excerpt(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((at, _)) => format!("{}...", &s[..at]),
        None => s.to_string(),
    }
}

/// Evaluates one word: removes quotes and escapes, substitutes variables
/// (with a budget of its own: for words outside a file's parse).
pub fn expand(word: &str, scope: &Scope, escape: char) -> Result<String, Unresolved> {
    expand_with(word, scope, escape, &mut Budget::default())
}

/// [`expand`], charging what is substituted to `budget`.
pub fn expand_with(
    word: &str,
    scope: &Scope,
    escape: char,
    budget: &mut Budget,
) -> Result<String, Unresolved> {
    let mut out = String::with_capacity(word.len().min(MAX_VALUE));
    Expander {
        scope,
        escape,
        budget,
    }
    .word(word, 0, &mut out)?;
    Ok(out)
}

struct Expander<'a> {
    scope: &'a Scope,
    escape: char,
    budget: &'a mut Budget,
}

impl Expander<'_> {
    /// Appends the evaluation of `word` to `out`. Every character that
    /// matters is ASCII, so the word is read by bytes and other characters are
    /// copied whole.
    fn word(&mut self, word: &str, depth: usize, out: &mut String) -> Result<(), Unresolved> {
        if depth > MAX_NESTING {
            return Err(Unresolved::Unsupported(format!(
                "${{...}} nested more than {MAX_NESTING} deep"
            )));
        }
        let b = word.as_bytes();
        let mut i = 0;
        let mut in_double = false;
        while i < b.len() {
            let c = b[i];
            if word[i..].starts_with(self.escape) && i + 1 < b.len() {
                let esc = self.escape.len_utf8();
                let n = word[i + esc..].chars().next().map_or(0, char::len_utf8);
                out.push_str(&word[i + esc..i + esc + n]);
                i += esc + n;
            } else if c == b'\'' && !in_double {
                let close = b[i + 1..].iter().position(|&x| x == b'\'');
                match close {
                    Some(n) => {
                        out.push_str(&word[i + 1..i + 1 + n]);
                        i += n + 2;
                    }
                    None => {
                        out.push_str(&word[i + 1..]);
                        i = b.len();
                    }
                }
            } else if c == b'"' {
                in_double = !in_double;
                i += 1;
            } else if c == b'$' {
                i = self.substitute(word, i, depth, out)?;
            } else {
                // Up to the next byte that may matter, at once.
                let mut esc = [0; 4];
                let esc = self.escape.encode_utf8(&mut esc).as_bytes()[0];
                let stop = b[i + 1..]
                    .iter()
                    .position(|&x| matches!(x, b'\'' | b'"' | b'$') || x == esc)
                    .map_or(b.len(), |n| i + 1 + n);
                out.push_str(&word[i..stop]);
                i = stop;
            }
        }
        Ok(())
    }

    /// The value of a variable, `None` when nothing declares it.
    fn lookup(&self, name: &str) -> Result<Option<Arc<str>>, Unresolved> {
        match self.scope.get(name) {
            _ if self.budget.spent() => Err(Unresolved::OverBudget),
            Some(Ok(v)) => Ok(Some(Arc::clone(v))),
            Some(Err(e)) => Err(e.clone()),
            None => Ok(None),
        }
    }

    /// Appends a variable's value, within the bounds.
    fn put(&mut self, name: &str, value: &str, out: &mut String) -> Result<(), Unresolved> {
        if out.len() + value.len() > MAX_VALUE {
            return Err(Unresolved::TooLong(excerpt(name, 64)));
        }
        self.budget.bytes(value.len() + 1)?;
        out.push_str(value);
        Ok(())
    }

    /// Substitutes the variable reference starting at `word[at] == '$'`;
    /// returns the index after it.
    fn substitute(
        &mut self,
        word: &str,
        at: usize,
        nesting: usize,
        out: &mut String,
    ) -> Result<usize, Unresolved> {
        let b = word.as_bytes();
        let is_name = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
        match b.get(at + 1) {
            Some(b'{') => {
                // Find the matching brace (nested `${...}` in the word are allowed).
                let mut depth = 0usize;
                let mut end = None;
                for (j, &c) in b.iter().enumerate().skip(at + 1) {
                    match c {
                        b'{' => depth += 1,
                        b'}' => {
                            depth -= 1;
                            if depth == 0 {
                                end = Some(j);
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                let Some(end) = end else {
                    return Err(Unresolved::Unsupported(excerpt(&word[at..], 64)));
                };
                let inner = &word[at + 2..end];
                let name_len = inner.bytes().take_while(|&c| is_name(c)).count();
                let (name, rest) = inner.split_at(name_len);
                if name.is_empty() {
                    return Err(Unresolved::Unsupported(format!(
                        "${{{}}}",
                        excerpt(inner, 64)
                    )));
                }
                let (op, alt) = if rest.is_empty() {
                    ("", "")
                } else if let Some(w) = rest.strip_prefix(":-") {
                    (":-", w)
                } else if let Some(w) = rest.strip_prefix(":+") {
                    (":+", w)
                } else if let Some(w) = rest.strip_prefix('-') {
                    ("-", w)
                } else if let Some(w) = rest.strip_prefix('+') {
                    ("+", w)
                } else {
                    return Err(Unresolved::Unsupported(format!(
                        "${{{}}}",
                        excerpt(inner, 64)
                    )));
                };
                let current = self.lookup(name)?;
                if op.is_empty() {
                    let v = current.ok_or_else(|| Unresolved::Undeclared(excerpt(name, 64)))?;
                    self.put(name, &v, out)?;
                    return Ok(end + 1);
                }
                // The alternative word is evaluated (and must be evaluable)
                // whichever is taken, as before; it is appended in place.
                let mark = out.len();
                self.word(alt, nesting + 1, out)?;
                let use_alt = match (op, &current) {
                    (":-", Some(v)) => v.is_empty(),
                    (":-", None) => true,
                    ("-", v) => v.is_none(),
                    (":+", Some(v)) => !v.is_empty(),
                    (":+", None) => false,
                    (_, v) => v.is_some(),
                };
                if !use_alt {
                    out.truncate(mark);
                    if let (":-" | "-", Some(v)) = (op, current) {
                        self.put(name, &v, out)?;
                    }
                }
                Ok(end + 1)
            }
            Some(&c) if is_name(c) && !c.is_ascii_digit() => {
                let len = b[at + 1..].iter().take_while(|&&c| is_name(c)).count();
                let name = &word[at + 1..at + 1 + len];
                let v = self
                    .lookup(name)?
                    .ok_or_else(|| Unresolved::Undeclared(excerpt(name, 64)))?;
                self.put(name, &v, out)?;
                Ok(at + 1 + len)
            }
            _ => {
                out.push('$');
                Ok(at + 1)
            }
        }
    }
}

/// Splits instruction arguments into raw words at unquoted whitespace, as byte
/// ranges of `s` (quotes and escapes are kept; [`expand`] removes them).
/// Lazy: a caller that wants the first words reads only those.
pub fn split_words(s: &str, escape: char) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
    let mut chars = s.char_indices().peekable();
    let mut done = false;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        let mut start = None;
        let mut quote = None;
        while let Some((i, c)) = chars.next() {
            if c == escape && quote != Some('\'') {
                start.get_or_insert(i);
                chars.next();
                continue;
            }
            match (quote, c) {
                (None, c) if c.is_whitespace() => {
                    if let Some(st) = start.take() {
                        return Some(st..i);
                    }
                }
                (None, '\'' | '"') => {
                    start.get_or_insert(i);
                    quote = Some(c);
                }
                (Some(q), c) if c == q => quote = None,
                _ => {
                    start.get_or_insert(i);
                }
            }
        }
        done = true;
        start.map(|st| st..s.len())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(vars: &[(&str, Option<&str>)]) -> Scope {
        vars.iter()
            .map(|(k, v)| {
                let value = v.map(Arc::from).ok_or(Unresolved::NoDefault(k.to_string()));
                (k.to_string(), value)
            })
            .collect()
    }

    #[test]
    fn substitutes_plain_braced_and_default_forms() {
        let s = scope(&[("UID", Some("10001")), ("EMPTY", Some("")), ("NODEF", None)]);
        let e = |w| expand(w, &s, '\\');
        assert_eq!(e("$UID").unwrap(), "10001");
        assert_eq!(e("${UID}:${UID}").unwrap(), "10001:10001");
        assert_eq!(e("${MISSING:-1000}").unwrap(), "1000");
        assert_eq!(e("${EMPTY:-7}").unwrap(), "7");
        assert_eq!(e("${EMPTY-7}").unwrap(), "");
        assert_eq!(e("${UID:+set}").unwrap(), "set");
        assert_eq!(e("${MISSING:+set}").unwrap(), "");
        assert_eq!(e("${MISSING:-${UID}}").unwrap(), "10001");
        assert_eq!(e("'$UID'").unwrap(), "$UID");
        assert_eq!(e("\"$UID\"").unwrap(), "10001");
        assert_eq!(e("\\$UID").unwrap(), "$UID");
        assert_eq!(e("a$").unwrap(), "a$");
        assert_eq!(e("$NODEF"), Err(Unresolved::NoDefault("NODEF".into())));
        assert_eq!(e("$NOPE"), Err(Unresolved::Undeclared("NOPE".into())));
        assert!(matches!(e("${UID#1}"), Err(Unresolved::Unsupported(_))));
        assert!(matches!(e("${UID"), Err(Unresolved::Unsupported(_))));
    }

    #[test]
    fn escape_directive_changes_the_escape_character() {
        let s = scope(&[("A", Some("x"))]);
        assert_eq!(expand("`$A", &s, '`').unwrap(), "$A");
        assert_eq!(expand("C:\\$A", &s, '`').unwrap(), "C:\\x");
    }

    #[test]
    fn words_split_at_unquoted_whitespace() {
        let s = r#"A=1 B="x y" C='p q' D=a\ b"#;
        let words: Vec<&str> = split_words(s, '\\').map(|r| &s[r]).collect();
        assert_eq!(words, ["A=1", r#"B="x y""#, "C='p q'", r"D=a\ b"]);
    }

    /// Doubling stops at the value bound, and what refers to a value over it
    /// (or to any unresolved value) carries the reason; the file budget runs out
    /// for good.
    #[test]
    fn substitution_is_bounded_per_value_and_per_file() {
        let big = "x".repeat(MAX_VALUE / 2);
        let s = scope(&[("A", Some(big.as_str()))]);
        assert_eq!(expand("$A$A", &s, '\\').unwrap().len(), MAX_VALUE);
        assert_eq!(
            expand("$A$A$A", &s, '\\'),
            Err(Unresolved::TooLong("A".into()))
        );
        assert_eq!(
            expand("y${NONE:-$A$A}", &s, '\\'),
            Err(Unresolved::TooLong("A".into()))
        );
        let message = Unresolved::TooLong("A".into()).to_string();
        assert!(
            message.contains("more than the linter expands"),
            "{message}"
        );
        let mut budget = Budget::default();
        let mut spent = 0;
        while expand_with("$A", &s, '\\', &mut budget).is_ok() {
            spent += 1;
        }
        assert_eq!(spent, MAX_SUBSTITUTED / (MAX_VALUE / 2 + 1));
        assert_eq!(
            expand_with("$A", &s, '\\', &mut budget),
            Err(Unresolved::OverBudget)
        );
        // Spent is spent: nothing small gets through afterwards.
        let small = scope(&[("B", Some("1"))]);
        assert_eq!(
            expand_with("$B", &small, '\\', &mut budget),
            Err(Unresolved::OverBudget)
        );
        assert_eq!(
            expand_with("plain", &small, '\\', &mut budget).unwrap(),
            "plain"
        );
        // An unresolved variable passes its reason on.
        let mut s = Scope::new();
        s.insert("C".into(), Err(Unresolved::TooLong("B".into())));
        assert_eq!(expand("$C", &s, '\\'), Err(Unresolved::TooLong("B".into())));
        // Names quoted in reasons are cut short.
        let long = format!("${}", "N".repeat(10_000));
        match expand(&long, &Scope::new(), '\\') {
            Err(Unresolved::Undeclared(n)) => assert!(n.len() < 100, "{}", n.len()),
            other => panic!("{other:?}"),
        }
    }

    /// Non-ASCII text, escapes and quotes come through the byte-wise reader unchanged.
    #[test]
    fn multibyte_text_and_escapes() {
        let s = scope(&[("A", Some("é"))]);
        assert_eq!(expand("ü$A'ß'\\ñ\"$A\"", &s, '\\').unwrap(), "üéßñé");
        assert_eq!(expand("a`é$A", &s, '`').unwrap(), "aéé");
        assert_eq!(expand("x\\", &s, '\\').unwrap(), "x\\");
    }

    #[test]
    fn nesting_is_bounded() {
        let nested = |n: usize| format!("{}x{}", "${A:-".repeat(n), "}".repeat(n));
        let s = Scope::new();
        assert_eq!(expand(&nested(MAX_NESTING), &s, '\\').unwrap(), "x");
        assert_eq!(
            expand(&nested(MAX_NESTING + 1), &s, '\\'),
            Err(Unresolved::Unsupported(format!(
                "${{...}} nested more than {MAX_NESTING} deep"
            )))
        );
    }
}
