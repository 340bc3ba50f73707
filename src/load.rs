//! Loading one file: split into documents, parse with budgets, recognise
//! Kubernetes objects (List kinds included) and decode them, reporting
//! everything that cannot be read without losing the other documents.

use crate::finding::ObjectRef;
use crate::pointer::Pointer;
use crate::resource::{Object, Resource, decode_object};
use crate::rule::RuleDef;
use crate::rules::input;
use crate::source::Span;
use crate::yaml::{self, Limits, Node, Value};

/// One parsed document and the objects found in it.
#[derive(Debug)]
pub struct LoadedDoc {
    /// Byte offset of the document's text in the file (node spans are relative to it).
    pub offset: usize,
    pub root: Node,
    pub resources: Vec<Resource>,
}

/// Where a loader diagnostic points.
#[derive(Debug, Clone)]
pub enum At {
    /// A byte range of the file (syntax errors).
    Span(Span),
    /// A pointer inside a parsed document.
    Pointer { doc: usize, pointer: Pointer },
    /// The key of the entry at a pointer (unknown fields: the key is what is wrong).
    Key { doc: usize, pointer: Pointer },
}

/// Something the loader reports about the input.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub rule: &'static RuleDef,
    pub message: String,
    pub help: Option<String>,
    pub at: At,
    pub object: Option<std::sync::Arc<ObjectRef>>,
}

/// A loaded file.
#[derive(Debug, Default)]
pub struct LoadedFile {
    pub docs: Vec<LoadedDoc>,
    pub diagnostics: Vec<Diagnostic>,
}

impl LoadedFile {
    fn diag(&mut self, rule: &'static RuleDef, at: At, message: String) -> &mut Diagnostic {
        self.diagnostics.push(Diagnostic {
            rule,
            message,
            help: None,
            at,
            object: None,
        });
        let last = self.diagnostics.len() - 1;
        &mut self.diagnostics[last]
    }
}

/// Loads every document of a YAML or JSON text.
pub fn load_text(text: &str, limits: &Limits) -> LoadedFile {
    let mut out = LoadedFile::default();
    if let Some((at, c)) = yaml11_line_break(text) {
        let (code, name) = match c {
            '\u{85}' => ("U+0085", "NEXT LINE"),
            '\u{2028}' => ("U+2028", "LINE SEPARATOR"),
            _ => ("U+2029", "PARAGRAPH SEPARATOR"),
        };
        out.diag(
            &input::YAML_SYNTAX,
            At::Span(Span::new(at, c.len_utf8())),
            format!(
                "{code} ({name}) is a line break to kubectl's YAML reader (YAML 1.1) but not in YAML 1.2, so the two read different documents (a comment ends there for kubectl only); use \\n line breaks, or the escape `\\{}` in a double-quoted string",
                match c {
                    '\u{85}' => "N",
                    '\u{2028}' => "L",
                    _ => "P",
                }
            ),
        );
    }
    // Lines before the current slice, counted incrementally (slices start
    // lines and come in order), so many broken documents cost linear time.
    let mut counted = (0usize, 0usize);
    for slice in yaml::split_documents(text) {
        if yaml::is_blank_document(slice.text) {
            continue;
        }
        match yaml::parse_documents(slice.text, limits) {
            Err(_) if let Some((at, line)) = directive(slice.text) => {
                out.diag(
                    &input::YAML_SYNTAX,
                    At::Span(Span::new(slice.offset + at, line.len())),
                    format!(
                        "the `{line}` directive is refused: kubectl refuses YAML directives too (`%YAML 1.2` as an incompatible document, a directive before `---` as a document without content); remove the line"
                    ),
                );
            }
            Err(e) => {
                let span = e
                    .span
                    .map(|s| s.shifted(slice.offset))
                    .unwrap_or(Span::new(slice.offset, 0));
                // A slice starts a line: the lines before it are the breaks before it.
                counted.1 += crate::source::lines_inclusive(&text[counted.0..slice.offset]).count();
                counted.0 = slice.offset;
                let lines_before = counted.1;
                let message = yaml::shift_line_numbers(&e.message, lines_before);
                out.diag(&input::YAML_SYNTAX, At::Span(span), message);
            }
            Ok(roots) => {
                for root in roots {
                    let doc = out.docs.len();
                    let resources = objects_of(&root, doc, &mut out);
                    out.docs.push(LoadedDoc {
                        offset: slice.offset,
                        root,
                        resources,
                    });
                }
            }
        }
    }
    // Fail closed: text that is more than comments, blank lines and markers
    // must give a document or a finding, never a silent pass.
    if out.docs.is_empty() && out.diagnostics.is_empty() && !yaml::is_blank_document(text) {
        let at = content_start(text);
        out.diag(
            &input::YAML_SYNTAX,
            At::Span(Span::new(at, 0)),
            "the input has content but no YAML document was read from it (only null documents?): nothing in it was checked".into(),
        );
    }
    out
}

/// The first character that YAML 1.1 (go-yaml, which kubectl uses) reads as
/// a line break and YAML 1.2 does not: NEL, LS, PS. A stream kubectl reads
/// as JSON (it starts with `{`) has them only inside strings, where both
/// read them as characters.
fn yaml11_line_break(text: &str) -> Option<(usize, char)> {
    if text.trim_start().starts_with('{') {
        return None;
    }
    text.char_indices()
        .find(|(_, c)| matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}'))
}

/// The first directive line (`%YAML 1.2`, `%TAG ...`) of a document slice and
/// its offset. A directive always ends up alone in the slice before the `---`
/// that must follow it, which the parser refuses.
fn directive(text: &str) -> Option<(usize, &str)> {
    let mut offset = 0;
    for line in crate::source::lines_inclusive(text) {
        let body = crate::source::strip_break(line);
        let body = if offset == 0 {
            body.trim_start_matches(crate::source::BOM)
        } else {
            body
        };
        if body.starts_with('%') {
            let at = offset + line.len() - crate::source::break_len(line) - body.len();
            // The directive without a comment after it.
            let directive = body.split(" #").next().unwrap_or(body).trim_end();
            return Some((at, directive));
        }
        offset += line.len();
    }
    None
}

/// Byte offset of the first line that is not blank, a comment or a marker.
fn content_start(text: &str) -> usize {
    let mut offset = 0;
    for line in crate::source::lines_inclusive(text) {
        if !yaml::is_blank_document(line) {
            let body = crate::source::strip_break(line);
            let indent = body.len()
                - body
                    .trim_start_matches([' ', '\t', crate::source::BOM])
                    .len();
            return offset + indent;
        }
        offset += line.len();
    }
    0
}

/// Loads one document already parsed (the webhook's object, from JSON).
pub fn load_node(root: Node) -> LoadedFile {
    let mut out = LoadedFile::default();
    let resources = objects_of(&root, 0, &mut out);
    out.docs.push(LoadedDoc {
        offset: 0,
        root,
        resources,
    });
    out
}

fn type_meta(node: &Node) -> (Option<&str>, Option<&str>) {
    (
        node.get("apiVersion").and_then(Node::as_str),
        node.get("kind").and_then(Node::as_str),
    )
}

/// The objects in one document: itself, or the items of a List.
fn objects_of(root: &Node, doc: usize, out: &mut LoadedFile) -> Vec<Resource> {
    let here = |pointer: Pointer| At::Pointer { doc, pointer };
    match &root.value {
        Value::Null => return Vec::new(),
        Value::Map(_) => {}
        other => {
            out.diag(
                &input::NOT_KUBERNETES_OBJECT,
                here(Pointer::root()),
                format!(
                    "document is a {}, not a Kubernetes object; skipped",
                    other.type_name()
                ),
            );
            return Vec::new();
        }
    }
    let (api_version, kind) = type_meta(root);
    let (Some(api_version), Some(kind)) = (api_version, kind) else {
        let missing = match (api_version, kind) {
            (None, None) => "apiVersion and kind",
            (None, _) => "apiVersion",
            _ => "kind",
        };
        out.diag(
            &input::NOT_KUBERNETES_OBJECT,
            here(Pointer::root()),
            format!("document has no {missing}: not a Kubernetes object; skipped"),
        );
        return Vec::new();
    };
    list_or_object(root, Pointer::root(), api_version, kind, doc, out, 0)
}

/// How deep Lists may nest in Lists (kubectl flattens any depth; real files
/// nest one or two).
const MAX_LIST_NESTING: usize = 8;

/// The object at `base`, or, for a List with `items`, the objects of its
/// items, nested Lists flattened as kubectl does.
fn list_or_object(
    node: &Node,
    base: Pointer,
    api_version: &str,
    kind: &str,
    doc: usize,
    out: &mut LoadedFile,
    depth: usize,
) -> Vec<Resource> {
    let here = |pointer: Pointer| At::Pointer { doc, pointer };
    let mut found = Vec::new();
    let items = node.get("items").filter(|_| kind.ends_with("List"));
    let Some(items) = items else {
        found.extend(decode_one(node, base, api_version, kind, doc, out));
        return found;
    };
    if depth == MAX_LIST_NESTING {
        out.diag(
            &input::INVALID_VALUE,
            here(base),
            format!("Lists nested more than {MAX_LIST_NESTING} deep; not read"),
        );
        return found;
    }
    let Value::Seq(items) = &items.value else {
        out.diag(
            &input::INVALID_VALUE,
            here(base.key("items")),
            format!("`items` of a {kind} must be a list"),
        );
        return found;
    };
    // Typed lists (PodList) may leave apiVersion and kind off their items.
    let item_kind = (kind != "List").then(|| &kind[..kind.len() - 4]);
    for (i, item) in items.iter().enumerate() {
        let ptr = base.key("items").index(i);
        let (iav, ik) = type_meta(item);
        match (
            iav.or((kind != "List").then_some(api_version)),
            ik.or(item_kind),
        ) {
            (Some(av), Some(k)) if matches!(item.value, Value::Map(_)) => {
                found.extend(list_or_object(item, ptr, av, k, doc, out, depth + 1));
            }
            _ => {
                out.diag(
                    &input::NOT_KUBERNETES_OBJECT,
                    here(ptr),
                    format!("item {i} of the {kind} is not a Kubernetes object; skipped"),
                );
            }
        }
    }
    found
}

fn decode_one(
    node: &Node,
    base: Pointer,
    api_version: &str,
    kind: &str,
    doc: usize,
    out: &mut LoadedFile,
) -> Option<Resource> {
    let decoded = decode_object(node, base, api_version, kind);
    let object = decoded.resource.object_ref();
    let at = |pointer: Pointer| At::Pointer { doc, pointer };
    if let Some(current) = decoded.judged_as {
        out.diag(
            &input::API_VERSION_JUDGED_AS,
                        at(decoded.resource.base.key(if api_version == current {
                "kind"
            } else {
                "apiVersion"
            })),
                        format!(
                "{kind} {api_version} is not a current Kubernetes kind and version; judged as {} {current}",
                decoded.resource.kind
            ),
        )
        .object = Some(object.clone());
    }
    for u in decoded.unknown_fields {
        let message = format!(
            "unknown field `{}` in {} (the API server drops it){}",
            u.key,
            u.type_name,
            u.suggestion
                .map(|s| format!(": did you mean `{s}`?"))
                .unwrap_or_default()
        );
        let d = out.diag(
            &input::UNKNOWN_FIELD,
            At::Key {
                doc,
                pointer: u.pointer,
            },
            message,
        );
        d.object = Some(object.clone());
        if let Some(s) = u.suggestion {
            d.help = Some(format!("rename `{}` to `{s}`", u.key));
        }
    }
    // A kind not modelled (an object that failed to decode is `Other` too, and
    // reported below).
    if decoded.error.is_none() && matches!(decoded.resource.object, Object::Other) {
        let mut found = Vec::new();
        pod_specs_in(node, &decoded.resource.base, &mut found);
        if let Some(first) = found.first() {
            let more = match found.len() {
                1 => String::new(),
                n => format!(" (and {} more)", n - 1),
            };
            out.diag(
                &input::UNJUDGED_POD_SPEC,
                At::Key {
                    doc,
                    pointer: first.clone(),
                },
                format!(
                    "{kind} {api_version} carries containers at {first}{more} that no rule judges: sandbox-lint knows the pod specs of Pods and the built-in workloads only"
                ),
            )
            .object = Some(object.clone());
        }
    }
    if let Some(e) = decoded.error {
        let pointer = e.pointer.unwrap_or_else(|| decoded.resource.base.clone());
        out.diag(
            &input::INVALID_VALUE,
            at(pointer.clone()),
            format!(
                "{kind} cannot be decoded at {pointer}: {}; it was not checked",
                e.message
            ),
        )
        .object = Some(object);
        return None;
    }
    Some(decoded.resource)
}

/// The containers inside an object of a kind sandbox-lint does not model
/// (custom resources with pod templates: Argo, Knative, Kubeflow, ...): every
/// `containers` or `initContainers` list holding a container (a mapping with
/// an `image`), and every `container` mapping with an `image` (Argo's
/// templates). Pointers to those fields, in document order.
fn pod_specs_in(node: &Node, at: &Pointer, found: &mut Vec<Pointer>) {
    let is_container = |n: &Node| matches!(n.value, Value::Map(_)) && n.get("image").is_some();
    match &node.value {
        Value::Map(entries) => {
            for e in entries {
                let here = at.key(&e.key);
                let holds = match (e.key.as_str(), &e.value.value) {
                    ("containers" | "initContainers", Value::Seq(items)) => {
                        items.iter().any(is_container)
                    }
                    ("container", _) => is_container(&e.value),
                    _ => false,
                };
                if holds {
                    found.push(here);
                } else {
                    pod_specs_in(&e.value, &here, found);
                }
            }
        }
        Value::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                pod_specs_in(item, &at.index(i), found);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(f: &LoadedFile) -> Vec<&'static str> {
        f.diagnostics.iter().map(|d| d.rule.meta.code).collect()
    }

    #[test]
    fn one_broken_document_does_not_hide_the_others() {
        let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec: {containers: []}\n---\nkind: [\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: b}\nspec: {containers: []}\n";
        let f = load_text(text, &Limits::default());
        assert_eq!(codes(&f), ["SL9002"]);
        let names: Vec<_> = f
            .docs
            .iter()
            .flat_map(|d| &d.resources)
            .map(|r| r.name.as_str())
            .collect();
        assert_eq!(names, ["a", "b"]);
        let At::Span(span) = f.diagnostics[0].at else {
            panic!()
        };
        assert!(span.start >= text.find("kind: [").unwrap(), "{span:?}");
    }

    /// A lone `\r` ends lines: a CR-only file that starts with a comment is
    /// read as the object it is, its documents split at `---`, its syntax
    /// errors counted in the file's lines.
    #[test]
    fn carriage_return_files_are_read_as_lf_files() {
        let lf = "# a comment\napiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec: {hostPID: true, containers: []}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: b}\nspec: {containers: []}\n---\nkind: [\n";
        for br in ["\r", "\r\n", "\n"] {
            let text = lf.replace('\n', br);
            let f = load_text(&text, &Limits::default());
            let names: Vec<_> = f
                .docs
                .iter()
                .flat_map(|d| &d.resources)
                .map(|r| r.name.as_str())
                .collect();
            assert_eq!(names, ["a", "b"], "{text:?}");
            assert_eq!(codes(&f), ["SL9002"], "{text:?}");
            let At::Span(span) = f.diagnostics[0].at else {
                panic!()
            };
            assert!(span.start >= text.find("kind: [").unwrap(), "{span:?}");
        }
    }

    /// Text with content that gives no document is an error, not a pass;
    /// comments, blank lines and markers alone are nothing to check.
    #[test]
    fn content_without_a_document_is_an_error() {
        for (text, at) in [("~\n", 0), ("# c\r--- null\r", 4), ("---\n\n  ~\n...\n", 7)] {
            let f = load_text(text, &Limits::default());
            assert_eq!(codes(&f), ["SL9002"], "{text:?}");
            let At::Span(span) = f.diagnostics[0].at else {
                panic!()
            };
            assert_eq!(span.start, at, "{text:?}");
        }
        for text in ["", "\n\n", "# c\r# d\r", "\u{feff}# c\n---\n...\n"] {
            let f = load_text(text, &Limits::default());
            assert!(f.diagnostics.is_empty() && f.docs.is_empty(), "{text:?}");
        }
    }

    /// `%YAML` directives are refused at the directive, saying kubectl
    /// refuses them too; the document after the `---` is still read.
    #[test]
    fn yaml_directives_are_refused_as_kubectl_refuses_them() {
        for text in [
            "%YAML 1.2\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec: {containers: []}\n",
            "# c\r%YAML 1.1\r---\rapiVersion: v1\rkind: Pod\rmetadata: {name: a}\rspec: {containers: []}\r",
            "\u{feff}%TAG ! tag:example.com,2000:\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec: {containers: []}\n",
        ] {
            let f = load_text(text, &Limits::default());
            assert_eq!(codes(&f), ["SL9002"], "{text:?}");
            let d = &f.diagnostics[0];
            assert!(d.message.contains("kubectl refuses"), "{}", d.message);
            let At::Span(span) = d.at else { panic!() };
            assert_eq!(span.start, text.find('%').unwrap(), "{text:?}");
            assert!(text[span.start..span.end].starts_with('%'));
            assert!(!text[span.start..span.end].contains(['\r', '\n']));
            assert_eq!(f.docs.len(), 1);
        }
    }

    /// NEL, LS and PS end lines (and comments) for kubectl's YAML 1.1 reader
    /// only: refused, while the rest of the file is still read.
    #[test]
    fn yaml11_line_breaks_are_refused() {
        for sep in ['\u{85}', '\u{2028}', '\u{2029}'] {
            let text = format!(
                "apiVersion: v1\nkind: Pod\nmetadata: {{name: a}} # x{sep}  namespace: kube-system\nspec: {{containers: []}}\n"
            );
            let f = load_text(&text, &Limits::default());
            assert_eq!(codes(&f), ["SL9002"], "{text:?}");
            let At::Span(span) = f.diagnostics[0].at else {
                panic!()
            };
            assert_eq!(span.start, text.find(sep).unwrap());
            assert!(f.diagnostics[0].message.contains("kubectl"));
            assert_eq!(f.docs[0].resources.len(), 1);
        }
        // JSON, which kubectl reads as JSON: a character inside a string.
        let json = "{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {\"name\": \"a\"}, \"data\": {\"k\": \"x\u{2028}y\"}}";
        assert!(load_text(json, &Limits::default()).diagnostics.is_empty());
        // Escaped in a double-quoted string: fine.
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {k: \"x\\Ly\"}\n";
        assert!(load_text(text, &Limits::default()).diagnostics.is_empty());
    }

    #[test]
    fn lists_and_typed_lists_yield_items_with_pointers() {
        let text = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: a}\n  spec: {containers: []}\n- apiVersion: apps/v1\n  kind: Deployment\n  metadata: {name: d}\n  spec: {selector: {}, template: {spec: {containers: []}}}\n---\napiVersion: v1\nkind: PodList\nitems:\n- metadata: {name: b}\n  spec: {containers: []}\n";
        let f = load_text(text, &Limits::default());
        assert!(f.diagnostics.is_empty(), "{:?}", f.diagnostics);
        let rs: Vec<_> = f.docs.iter().flat_map(|d| &d.resources).collect();
        assert_eq!(rs.len(), 3);
        assert_eq!(rs[1].base.as_str(), "/items/1");
        assert!(matches!(rs[1].object, Object::Deployment(_)));
        assert_eq!(rs[2].kind, "Pod");
    }

    #[test]
    fn non_objects_are_noted_and_unknown_kinds_kept_untyped() {
        let text = "replicaCount: 3\n---\n- a\n---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n";
        let f = load_text(text, &Limits::default());
        assert_eq!(codes(&f), ["SL9005", "SL9005"]);
        let r = &f.docs[2].resources[0];
        assert!(matches!(r.object, Object::Other));
    }

    #[test]
    fn wrong_types_are_invalid_values_and_old_versions_are_judged() {
        let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  hostPID: maybe\n  containers: []\n---\napiVersion: extensions/v1beta1\nkind: Deployment\nmetadata: {name: d}\nspec: {template: {spec: {containers: []}}}\n";
        let f = load_text(text, &Limits::default());
        assert_eq!(codes(&f), ["SL9003", "SL9006"]);
        let At::Pointer { pointer, .. } = &f.diagnostics[0].at else {
            panic!()
        };
        assert_eq!(pointer.as_str(), "/spec/hostPID");
        assert_eq!(f.docs[0].resources.len(), 0);
        assert!(matches!(
            f.docs[1].resources[0].object,
            Object::Deployment(_)
        ));
    }
}
