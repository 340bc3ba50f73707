//! Words as BuildKit reads them: quotes removed, the escape character taken
//! literally, and `$VAR`, `${VAR}`, `${VAR:-word}`, `${VAR:+word}`,
//! `${VAR-word}` and `${VAR+word}` substituted from the variables in scope.
//! Anything the linter cannot evaluate (a build argument without a default,
//! a variable never declared, pattern substitutions) is an [`Unresolved`]
//! error, never a guess: rules that depend on the value report it instead.

use std::collections::BTreeMap;
use std::fmt;

/// Variables in scope. `None`: declared by `ARG NAME` without a default, so
/// only the build (`--build-arg`) knows the value.
pub type Scope = BTreeMap<String, Option<String>>;

/// Why a word could not be evaluated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unresolved {
    /// `ARG NAME` without a default.
    NoDefault(String),
    /// Never declared by ARG or ENV in scope.
    Undeclared(String),
    /// A form the linter does not evaluate (`${VAR#pattern}` and friends).
    Unsupported(String),
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
        }
    }
}

/// How deep `${A:-${B:-...}}` may nest; deeper is [`Unresolved::Unsupported`]
/// (real Dockerfiles nest two or three levels; the bound keeps the recursion
/// off the end of the stack).
pub const MAX_NESTING: usize = 16;

/// Evaluates one word: removes quotes and escapes, substitutes variables.
pub fn expand(word: &str, scope: &Scope, escape: char) -> Result<String, Unresolved> {
    expand_nested(word, scope, escape, 0)
}

fn expand_nested(
    word: &str,
    scope: &Scope,
    escape: char,
    depth: usize,
) -> Result<String, Unresolved> {
    if depth > MAX_NESTING {
        return Err(Unresolved::Unsupported(format!(
            "${{...}} nested more than {MAX_NESTING} deep"
        )));
    }
    let chars: Vec<char> = word.chars().collect();
    let mut out = String::with_capacity(word.len());
    let mut i = 0;
    let mut in_double = false;
    while i < chars.len() {
        let c = chars[i];
        if c == escape && i + 1 < chars.len() {
            out.push(chars[i + 1]);
            i += 2;
        } else if c == '\'' && !in_double {
            let close = chars[i + 1..].iter().position(|&x| x == '\'');
            match close {
                Some(n) => {
                    out.extend(&chars[i + 1..i + 1 + n]);
                    i += n + 2;
                }
                None => {
                    out.extend(&chars[i + 1..]);
                    i = chars.len();
                }
            }
        } else if c == '"' {
            in_double = !in_double;
            i += 1;
        } else if c == '$' {
            i = substitute(&chars, i, scope, escape, depth, &mut out)?;
        } else {
            out.push(c);
            i += 1;
        }
    }
    Ok(out)
}

/// Substitutes the variable reference starting at `chars[at] == '$'`;
/// returns the index after it.
fn substitute(
    chars: &[char],
    at: usize,
    scope: &Scope,
    escape: char,
    nesting: usize,
    out: &mut String,
) -> Result<usize, Unresolved> {
    let is_name = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let lookup = |name: &str| match scope.get(name) {
        Some(Some(v)) => Ok(Some(v.clone())),
        Some(None) => Err(Unresolved::NoDefault(name.to_string())),
        None => Ok(None),
    };
    match chars.get(at + 1) {
        Some('{') => {
            // Find the matching brace (nested `${...}` in the word are allowed).
            let mut depth = 0;
            let mut end = None;
            for (j, &c) in chars.iter().enumerate().skip(at + 1) {
                match c {
                    '{' => depth += 1,
                    '}' => {
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
                let text: String = chars[at..].iter().collect();
                return Err(Unresolved::Unsupported(text));
            };
            let inner: String = chars[at + 2..end].iter().collect();
            let name_len = inner.chars().take_while(|&c| is_name(c)).count();
            let (name, rest) = inner.split_at(name_len);
            if name.is_empty() {
                return Err(Unresolved::Unsupported(format!("${{{inner}}}")));
            }
            let value = match rest {
                "" => lookup(name)?.ok_or_else(|| Unresolved::Undeclared(name.to_string()))?,
                _ => {
                    let (op, word) = if let Some(w) = rest.strip_prefix(":-") {
                        (":-", w)
                    } else if let Some(w) = rest.strip_prefix(":+") {
                        (":+", w)
                    } else if let Some(w) = rest.strip_prefix('-') {
                        ("-", w)
                    } else if let Some(w) = rest.strip_prefix('+') {
                        ("+", w)
                    } else {
                        return Err(Unresolved::Unsupported(format!("${{{inner}}}")));
                    };
                    let current = lookup(name)?;
                    let word = expand_nested(word, scope, escape, nesting + 1)?;
                    match (op, current) {
                        (":-", Some(v)) if !v.is_empty() => v,
                        (":-", _) => word,
                        ("-", Some(v)) => v,
                        ("-", None) => word,
                        (":+", Some(v)) if !v.is_empty() => word,
                        (":+", _) => String::new(),
                        (_, Some(_)) => word,
                        (_, None) => String::new(),
                    }
                }
            };
            out.push_str(&value);
            Ok(end + 1)
        }
        Some(&c) if is_name(c) && !c.is_ascii_digit() => {
            let len = chars[at + 1..].iter().take_while(|&&c| is_name(c)).count();
            let name: String = chars[at + 1..at + 1 + len].iter().collect();
            let value = lookup(&name)?.ok_or(Unresolved::Undeclared(name))?;
            out.push_str(&value);
            Ok(at + 1 + len)
        }
        _ => {
            out.push('$');
            Ok(at + 1)
        }
    }
}

/// Splits instruction arguments into raw words at unquoted whitespace, as byte
/// ranges of `s` (quotes and escapes are kept; [`expand`] removes them).
pub fn split_words(s: &str, escape: char) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = None;
    let mut quote = None;
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == escape && quote != Some('\'') {
            start.get_or_insert(i);
            chars.next();
            continue;
        }
        match (quote, c) {
            (None, c) if c.is_whitespace() => {
                if let Some(st) = start.take() {
                    out.push(st..i);
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
    if let Some(st) = start {
        out.push(st..s.len());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(vars: &[(&str, Option<&str>)]) -> Scope {
        vars.iter()
            .map(|(k, v)| (k.to_string(), v.map(str::to_string)))
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
        let words: Vec<&str> = split_words(s, '\\').into_iter().map(|r| &s[r]).collect();
        assert_eq!(words, ["A=1", r#"B="x y""#, "C='p q'", r"D=a\ b"]);
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
