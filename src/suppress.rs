//! Inline suppressions: `# sandbox-lint: ignore[CODE, name] reason` on the
//! offending line, or alone on the line above it. A reason is mandatory.

use crate::finding::{Finding, Suppressed, SuppressionKind};
use crate::rule::Category;
use crate::rules;
use crate::source::Span;

const MARKER: &str = "# sandbox-lint:";

/// One suppression comment.
#[derive(Debug, Clone)]
pub struct Inline {
    /// 1-based line of the comment.
    pub line: u32,
    /// True when the comment is alone on its line (then it covers the next line).
    pub own_line: bool,
    /// Rule codes it names.
    pub codes: Vec<&'static str>,
    pub reason: String,
    /// Byte span of the comment in the file.
    pub span: Span,
    pub used: bool,
}

/// A comment that looks like a suppression but is not a valid one.
#[derive(Debug, Clone)]
pub struct Malformed {
    pub span: Span,
    pub message: String,
}

/// Finds every suppression comment in a YAML text (built-in rules only).
pub fn parse(text: &str) -> (Vec<Inline>, Vec<Malformed>) {
    parse_with(text, &|s| rules::find(s).map(|d| d.meta.code))
}

/// Finds every suppression comment, resolving rule codes and names with `lookup`
/// (which knows the policies' custom rules too).
pub fn parse_with(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<&'static str>,
) -> (Vec<Inline>, Vec<Malformed>) {
    let mut found = Vec::new();
    let mut bad = Vec::new();
    let mut offset = 0;
    // Lines end where the parser and the line index end them (a lone `\r` too),
    // so a comment covers the line it is on and no other.
    for (i, line) in crate::source::lines_inclusive(text).enumerate() {
        let mut start = offset;
        offset += line.len();
        let mut line = crate::source::strip_break(line);
        // A byte order mark is not part of the first line.
        if i == 0
            && let Some(rest) = line.strip_prefix(crate::source::BOM)
        {
            start += crate::source::BOM.len_utf8();
            line = rest;
        }
        let Some(pos) = line.find(MARKER) else {
            continue;
        };
        // The marker must start a comment: at the line start or after whitespace.
        if pos > 0 && !line[..pos].ends_with([' ', '\t']) {
            continue;
        }
        let comment = line[pos..].trim_end();
        let span = Span::new(start + pos, comment.len());
        let body = comment[MARKER.len()..].trim_start();
        let Some(rest) = body.strip_prefix("ignore[") else {
            bad.push(Malformed {
                span,
                message: "expected `# sandbox-lint: ignore[CODE] reason`".into(),
            });
            continue;
        };
        let Some((list, reason)) = rest.split_once(']') else {
            bad.push(Malformed {
                span,
                message: "unclosed `ignore[`".into(),
            });
            continue;
        };
        let mut codes = Vec::new();
        let mut unknown = Vec::new();
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            match lookup(item) {
                // Each code once: the list is searched for every finding.
                Some(code) if codes.contains(&code) => {}
                Some(code) => codes.push(code),
                None => unknown.push(match rules::suggest(item) {
                    Some(s) => format!("`{item}` (did you mean `{s}`?)"),
                    None => format!("`{item}`"),
                }),
            }
        }
        // The reason ends where another comment (` # `) begins.
        let reason = reason.split(" # ").next().unwrap_or_default();
        let reason = reason.trim().trim_end_matches('#').trim().to_string();
        if !unknown.is_empty() {
            bad.push(Malformed {
                span,
                message: format!("suppression names unknown rule {}", unknown.join(", ")),
            });
        } else if codes.is_empty() {
            bad.push(Malformed {
                span,
                message: "suppression names no rule".into(),
            });
        } else if reason.is_empty() {
            bad.push(Malformed {
                span,
                message: format!("suppression of {} has no reason: say why", codes.join(", ")),
            });
        } else {
            found.push(Inline {
                line: i as u32 + 1,
                own_line: line[..pos].trim().is_empty(),
                codes,
                reason,
                span,
                used: false,
            });
        }
    }
    (found, bad)
}

/// True for findings no suppression may hide: unreadable input and problems
/// with suppressions themselves.
pub fn unsuppressible(code: &str) -> bool {
    // Custom rules (unknown here) are suppressible like any rule.
    rules::find(code).is_some_and(|r| {
        r.meta.category == Category::InputError
            || code == rules::input::INVALID_SUPPRESSION.meta.code
            || code == rules::input::UNUSED_SUPPRESSION.meta.code
    })
}

/// Marks findings covered by an inline suppression, and the suppressions used.
/// The first suppression (in file order) that covers a line wins; they are
/// looked up by line, so many findings and many comments stay linear.
pub fn apply(findings: &mut [Finding], inline: &mut [Inline], file: &str) {
    let mut by_line: std::collections::HashMap<u32, Vec<usize>> = Default::default();
    for (i, s) in inline.iter().enumerate() {
        by_line.entry(s.line).or_default().push(i);
    }
    for f in findings.iter_mut().filter(|f| f.is_active()) {
        if unsuppressible(f.code) {
            continue;
        }
        let Some(line) = f.location.as_ref().map(|l| l.start_lc.line) else {
            continue;
        };
        let on = by_line.get(&line).into_iter().flatten();
        let above = by_line.get(&line.wrapping_sub(1)).into_iter().flatten();
        let cover =
            on.filter(|&&i| inline[i].codes.contains(&f.code))
                .chain(above.filter(|&&i| {
                    line > 1 && inline[i].own_line && inline[i].codes.contains(&f.code)
                }))
                .min()
                .map(|&i| &mut inline[i]);
        if let Some(s) = cover {
            s.used = true;
            f.suppressed = Some(Suppressed {
                kind: SuppressionKind::Inline,
                reason: s.reason.clone(),
                source: format!("{file}:{}", s.line),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_codes_names_and_reasons() {
        let text = "a: 1  # sandbox-lint: ignore[SL1002, host-path] migrating in Q3 (see #42)\n  # sandbox-lint: ignore[SL1019] # not a reason\nb: '# sandbox-lint: ignore[SL1001] x'\nc: 2 # sandbox-lint: ignore[bogus-rule] r\n";
        let (ok, bad) = parse(text);
        assert_eq!(ok.len(), 1);
        assert_eq!(ok[0].codes, ["SL1002", "SL1015"]);
        assert_eq!(ok[0].reason, "migrating in Q3 (see #42)");
        assert!(!ok[0].own_line);
        assert_eq!(bad.len(), 2, "{bad:?}");
        assert!(bad[0].message.contains("no reason"));
        assert!(bad[1].message.contains("unknown rule `bogus-rule`"));
    }

    /// A lone `\r` ends a line: a comment on the first line of a CR-only file
    /// is on line 1 and covers line 1 (or 2, alone on its line), not the file.
    #[test]
    fn lines_end_at_lone_carriage_returns() {
        for br in ["\r", "\r\n", "\n"] {
            let text = [
                "a: 1 # sandbox-lint: ignore[SL1002] reason one",
                "# sandbox-lint: ignore[SL1019] reason two",
                "b: 2",
                "",
            ]
            .join(br);
            let (ok, bad) = parse(&text);
            assert!(bad.is_empty(), "{bad:?}");
            assert_eq!((ok[0].line, ok[0].own_line), (1, false), "{text:?}");
            assert_eq!((ok[1].line, ok[1].own_line), (2, true), "{text:?}");
            assert_eq!(ok[1].reason, "reason two");
            let s = ok[1].span;
            assert_eq!(
                &text[s.start..s.end],
                "# sandbox-lint: ignore[SL1019] reason two"
            );
        }
        let text = "\u{feff}# sandbox-lint: ignore[SL1019] reason\na: 1\n";
        let (ok, _) = parse(text);
        assert_eq!((ok[0].line, ok[0].own_line), (1, true));
        assert_eq!(ok[0].span.start, 3);
    }
}
