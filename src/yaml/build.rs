//! Builds [`Node`] trees straight from the YAML parser's events.
//!
//! The previous parser deserialized `Spanned<Value>` through serde-saphyr; this
//! module consumes the events of the parser that serde-saphyr itself uses
//! (granit-parser) and reproduces that path's results: the same values, spans,
//! refusals and limits, at a fraction of the cost. It has two layers:
//!
//! - [`Live`], the event source: skips stream and document markers, records
//!   anchored nodes, replays them at aliases (counting replayed events against
//!   [`Limits::max_alias_replay`]) and charges every event, live or replayed,
//!   to a [`Budget`] (events, nesting depth, nodes, scalar bytes, ...);
//! - [`Builder`], which turns events into nodes: resolves scalars as the API
//!   server's YAML decoder would, refuses duplicate keys, and expands merge
//!   keys (`<<`), whose values are captured and built only when their entries
//!   are kept.
//!
//! Spans follow the use site: a node that comes from an alias spans the alias
//! (`*name`), and an entry copied in by a merge key spans the merged value (or
//! the alias naming it). An error raised inside a node that comes from an alias
//! points at that alias.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use serde_saphyr::granit_parser::{
    ErrorKind, Event, Options as ParserOptions, Parser, ScalarStyle, ScanError, Span as ParserSpan,
    StrInput, Tag,
};

use super::node::{Entry, Node, Value};
use super::{Limits, YamlError};
use crate::source::Span;

// ---------------------------------------------------------------------------
// Entry point.

/// Parses every document of `text` into its node tree. Documents whose root is
/// a null scalar (empty documents, `~`, `!!null ...`) are skipped.
pub(super) fn parse(text: &str, limits: &Limits) -> Result<Vec<Node>, YamlError> {
    let mut live = Live::new(text, limits);
    let mut builder = Builder::default();
    let mut docs = Vec::new();
    while let Some(item) = live.next_item()? {
        if let Ev::Scalar(s) = &item.0
            && s.tag != Kind::Other
            && s.is_null()
        {
            continue;
        }
        docs.push(builder.node(&mut live, item)?);
    }
    live.finish()?;
    Ok(docs)
}

// ---------------------------------------------------------------------------
// Events.

/// What a tag means here (as serde-saphyr classifies tags).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Kind {
    /// No tag.
    None,
    Int,
    Float,
    Bool,
    Null,
    Seq,
    Map,
    Timestamp,
    Time,
    Binary,
    Str,
    /// `!!merge`.
    Merge,
    /// `!!value`, accepted and otherwise ignored.
    Value,
    /// `!` (and `!!`): no resolution, the scalar stays a string.
    NonSpecific,
    Include,
    Degrees,
    Radians,
    /// Any other tag: ignored, plain scalars still resolve.
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Scalar,
    Sequence,
    Mapping,
}

impl Shape {
    fn name(self) -> &'static str {
        match self {
            Shape::Scalar => "scalar",
            Shape::Sequence => "sequence",
            Shape::Mapping => "mapping",
        }
    }
}

const CORE: &str = "tag:yaml.org,2002:";

impl Kind {
    fn of(tag: Option<&Tag>) -> Kind {
        let Some(tag) = tag else {
            return Kind::None;
        };
        for prefix in [
            "!include",
            "tag:yaml.org,2002:include",
            "tag:yaml.org,2002:!include",
        ] {
            if let Some(rest) = tag.suffix_in_namespace(prefix)
                && (rest.is_empty() || rest.starts_with('#'))
            {
                return Kind::Include;
            }
        }
        if let Some(kind) = tag.core_suffix().and_then(Kind::core) {
            return kind;
        }
        if let Some(name) = tag.suffix_in_namespace(CORE) {
            match name.as_ref() {
                "merge" => return Kind::Merge,
                "value" => return Kind::Value,
                other => return Kind::named(other.strip_prefix('!').unwrap_or(other)),
            }
        }
        let Some(local) = tag.suffix_in_namespace("!") else {
            return Kind::Other;
        };
        match local.as_ref() {
            "" | "!" => Kind::NonSpecific,
            "!timestamp" => Kind::Timestamp,
            "!binary" => Kind::Binary,
            name => match name.strip_prefix('!') {
                Some(core) => Kind::core(core).unwrap_or(Kind::Other),
                None => Kind::named(name),
            },
        }
    }

    fn core(name: &str) -> Option<Kind> {
        Some(match name {
            "null" => Kind::Null,
            "bool" => Kind::Bool,
            "int" => Kind::Int,
            "float" => Kind::Float,
            "map" => Kind::Map,
            "seq" => Kind::Seq,
            "str" => Kind::Str,
            _ => return None,
        })
    }

    fn named(name: &str) -> Kind {
        match name {
            "timestamp" => Kind::Timestamp,
            "time" => Kind::Time,
            "binary" => Kind::Binary,
            "include" => Kind::Include,
            "degrees" => Kind::Degrees,
            "radians" => Kind::Radians,
            other => Kind::core(other).unwrap_or(Kind::Other),
        }
    }

    /// The node shape a tag demands, if any.
    fn requires(self) -> Option<Shape> {
        match self {
            Kind::Seq => Some(Shape::Sequence),
            Kind::Map => Some(Shape::Mapping),
            Kind::None | Kind::NonSpecific | Kind::Other => None,
            _ => Some(Shape::Scalar),
        }
    }

    /// Tags under which a scalar may be read as a string.
    fn stringy(self) -> bool {
        matches!(
            self,
            Kind::None
                | Kind::Str
                | Kind::Merge
                | Kind::Value
                | Kind::Other
                | Kind::Include
                | Kind::NonSpecific
        )
    }

    fn is_core(self) -> bool {
        matches!(
            self,
            Kind::Int | Kind::Float | Kind::Bool | Kind::Null | Kind::Seq | Kind::Map | Kind::Str
        )
    }

    fn forces_string(self) -> bool {
        matches!(self, Kind::Str | Kind::NonSpecific)
    }
}

#[derive(Debug, Clone)]
struct Scalar<'a> {
    value: Cow<'a, str>,
    style: ScalarStyle,
    tag: Kind,
    /// The tag as written out by the parser (`tag:yaml.org,2002:str`, `!foo`).
    raw_tag: Option<Rc<str>>,
    span: Span,
}

impl Scalar<'_> {
    /// Null: `!!null` anything, or a plain `~`, `null`, `Null`, `NULL` or nothing
    /// under a tag that does not demand another type.
    fn is_null(&self) -> bool {
        self.tag == Kind::Null
            || (!self.tag.is_core()
                && !self.tag.forces_string()
                && !matches!(
                    self.tag,
                    Kind::Binary | Kind::Timestamp | Kind::Time | Kind::Degrees | Kind::Radians
                )
                && self.style == ScalarStyle::Plain
                && matches!(&*self.value, "" | "~" | "null" | "Null" | "NULL"))
    }

    /// A plain (or `!!merge`) `<<` key.
    fn is_merge_key(&self) -> bool {
        self.value == "<<"
            && (self.tag == Kind::Merge
                || (self.tag == Kind::None && self.style == ScalarStyle::Plain))
    }

    /// The text named in a duplicate-key message.
    fn shown(&self) -> Option<&str> {
        self.tag.stringy().then_some(&*self.value)
    }
}

#[derive(Debug, Clone)]
enum Ev<'a> {
    Scalar(Scalar<'a>),
    SeqStart {
        tag: Kind,
        raw_tag: Option<Rc<str>>,
        span: Span,
    },
    MapStart {
        tag: Kind,
        raw_tag: Option<Rc<str>>,
        span: Span,
    },
    SeqEnd(Span),
    MapEnd(Span),
    /// An alias to a node that is still open (`&a [*a]`): refused when built.
    RecursiveAlias {
        anchor: usize,
        span: Span,
    },
}

impl Ev<'_> {
    fn span(&self) -> Span {
        match self {
            Ev::Scalar(s) => s.span,
            Ev::SeqStart { span, .. }
            | Ev::MapStart { span, .. }
            | Ev::SeqEnd(span)
            | Ev::MapEnd(span)
            | Ev::RecursiveAlias { span, .. } => *span,
        }
    }

    /// Bytes a copy of this event owns (the anchor-retention budget counts them).
    fn owned_bytes(&self) -> usize {
        let tag_len = |t: &Option<Rc<str>>| t.as_deref().map_or(0, str::len);
        match self {
            Ev::Scalar(s) => {
                let value = match &s.value {
                    Cow::Borrowed(_) => 0,
                    Cow::Owned(v) => v.len(),
                };
                value + tag_len(&s.raw_tag)
            }
            Ev::SeqStart { raw_tag, .. } | Ev::MapStart { raw_tag, .. } => tag_len(raw_tag),
            _ => 0,
        }
    }
}

/// Where an event came from, which decides the span of the node it starts.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Origin {
    /// Read where it stands.
    Direct,
    /// Replayed through the alias at this span.
    Alias(Span),
    /// Copied in by a merge key; spans the merged value.
    Merge(Span),
}

impl Origin {
    fn reference(self, own: Span) -> Span {
        match self {
            Origin::Direct => own,
            Origin::Alias(at) | Origin::Merge(at) => at,
        }
    }

    fn alias(self) -> Option<Span> {
        match self {
            Origin::Alias(at) => Some(at),
            _ => None,
        }
    }
}

type Item<'a> = (Ev<'a>, Origin);

trait Source<'a> {
    fn next_item(&mut self) -> Result<Option<Item<'a>>, YamlError>;
    /// Where the last event was, for a premature end.
    fn last_span(&self) -> Span;
}

fn next<'a, S: Source<'a>>(src: &mut S) -> Result<Item<'a>, YamlError> {
    match src.next_item()? {
        Some(item) => Ok(item),
        None => Err(error(src.last_span(), "unexpected end of input".into())),
    }
}

/// Events captured earlier (merge values and their parts), replayed in order.
struct Replay<'a> {
    items: std::vec::IntoIter<Item<'a>>,
    /// A merge's use site, applied to every event not replayed through an alias.
    merge: Option<Span>,
    last: Span,
}

impl<'a> Replay<'a> {
    fn new(items: Vec<Item<'a>>, merge: Option<Span>) -> Self {
        Replay {
            items: items.into_iter(),
            merge,
            last: Span::default(),
        }
    }
}

impl<'a> Source<'a> for Replay<'a> {
    fn next_item(&mut self) -> Result<Option<Item<'a>>, YamlError> {
        Ok(self.items.next().map(|(ev, origin)| {
            self.last = ev.span();
            let origin = match (origin, self.merge) {
                (Origin::Alias(_), _) | (_, None) => origin,
                (_, Some(at)) => Origin::Merge(at),
            };
            (ev, origin)
        }))
    }

    fn last_span(&self) -> Span {
        self.last
    }
}

// ---------------------------------------------------------------------------
// Errors.

fn error(span: Span, message: String) -> YamlError {
    YamlError {
        message,
        span: Some(span),
    }
}

fn recursive_alias(span: Span) -> YamlError {
    error(
        span,
        "alias refers to a node that contains it (recursive structures are not allowed)".into(),
    )
}

fn complex_key(span: Span, shape: Shape) -> YamlError {
    error(
        span,
        format!(
            "a mapping key must be a scalar (string, number, boolean or null), not a {}",
            shape.name()
        ),
    )
}

fn merge_not_mapping(span: Span) -> YamlError {
    error(
        span,
        "the value of a merge key `<<` must be a mapping or a list of mappings".into(),
    )
}

fn duplicate_key(span: Span, shown: Option<&str>) -> YamlError {
    let key = shown.map_or(String::new(), |k| format!(" `{k}`"));
    error(
        span,
        format!(
            "duplicate mapping key{key} (parsers disagree on which value wins; the API server may not take the one you read)"
        ),
    )
}

/// A merge key placed after an explicit key that its value sets too. The YAML
/// merge rules keep the explicit value; kubectl's decoder (go-yaml v2) applies
/// `<<` where it stands, so the merged value overwrites the earlier one. The
/// object read here would not be the object sent: refused (fail closed).
fn merge_after_key(span: Span, shown: Option<&str>) -> YamlError {
    let key = shown.map_or(" a key".to_string(), |k| format!(" `{k}`"));
    error(
        span,
        format!(
            "the merge key `<<` sets{key} that this mapping already set above it (parsers disagree on which value wins: kubectl's takes the merged one); put `<<` before the mapping's own keys"
        ),
    )
}

impl YamlError {
    /// Moves an error raised inside a node replayed through an alias to that alias.
    fn inside_alias(mut self, alias: Option<Span>) -> Self {
        if let Some(at) = alias {
            self.span = Some(at);
        }
        self
    }
}

// ---------------------------------------------------------------------------
// Budget.

// The budget the previous parser applied (serde-saphyr's defaults, with
// `max_events` and `max_depth` from [`Limits`]): inputs it refused stay refused.
const MAX_ALIASES: usize = 50_000;
const MAX_ANCHORS: usize = 50_000;
const MAX_RETAINED_EVENTS: usize = 1_000_000;
const MAX_RETAINED_BYTES: usize = 64 << 20;
const MAX_DOCUMENTS: usize = 1_024;
const MAX_NODES: usize = 250_000;
const MAX_SCALAR_BYTES: usize = 64 << 20;
const MAX_MERGE_KEYS: usize = 10_000;
/// More aliases than this many per anchor is refused, once there are
/// [`RATIO_MIN_ALIASES`] of them.
const RATIO_ALIASES_PER_ANCHOR: usize = 10;
const RATIO_MIN_ALIASES: usize = 100;
/// The parser's own limits (as serde-saphyr configures it).
const SIMPLE_KEY_MAX_LOOKAHEAD: usize = 1024;
const FLOW_NESTING_LIMIT: usize = 255;
const BLOCK_NESTING_LIMIT: usize = 255;

/// An event as the budget sees it.
enum Obs<'x> {
    Scalar {
        value: &'x str,
        style: ScalarStyle,
        /// Tagged `!!merge`.
        merge_tag: bool,
        untagged: bool,
        tag_len: usize,
        anchor: usize,
    },
    Start {
        mapping: bool,
        tag_len: usize,
        anchor: usize,
    },
    End,
    DocumentStart,
    Marker,
}

#[derive(Clone, Copy)]
struct Open {
    mapping: bool,
    expecting_key: bool,
    /// This collection is a mapping value (its end completes an entry).
    from_value: bool,
}

/// Counters for the whole text, as serde-saphyr's budget enforcer keeps them.
struct Budget {
    max_events: usize,
    max_depth: usize,
    events: usize,
    aliases: usize,
    anchors: HashSet<usize>,
    retained_events: usize,
    retained_bytes: usize,
    documents: usize,
    nodes: usize,
    depth: usize,
    scalar_bytes: usize,
    merge_keys: usize,
    open: Vec<Open>,
}

impl Budget {
    fn new(limits: &Limits) -> Self {
        Budget {
            max_events: limits.max_events,
            max_depth: limits.max_depth,
            events: 0,
            aliases: 0,
            anchors: HashSet::new(),
            retained_events: 0,
            retained_bytes: 0,
            documents: 0,
            nodes: 0,
            depth: 0,
            scalar_bytes: 0,
            merge_keys: 0,
            open: Vec::with_capacity(32),
        }
    }

    fn count_event(&mut self) -> Result<(), String> {
        self.events += 1;
        if self.events > self.max_events {
            return Err(format!(
                "YAML too large: more than {} parser events (the limit)",
                self.max_events
            ));
        }
        Ok(())
    }

    fn observe(&mut self, obs: Obs<'_>) -> Result<(), String> {
        self.count_event()?;
        match obs {
            Obs::Scalar {
                value,
                style,
                merge_tag,
                untagged,
                tag_len,
                anchor,
            } => {
                self.count_node()?;
                self.count_scalar_bytes(value.len() + tag_len)?;
                self.define(anchor)?;
                if let Some(open) = self.open.last_mut()
                    && open.mapping
                {
                    if open.expecting_key {
                        if value == "<<" && (merge_tag || (untagged && style == ScalarStyle::Plain))
                        {
                            self.merge_keys += 1;
                            if self.merge_keys > MAX_MERGE_KEYS {
                                return Err(format!(
                                    "YAML too complex: more than {MAX_MERGE_KEYS} merge keys (`<<`)"
                                ));
                            }
                        }
                        open.expecting_key = false;
                    } else {
                        open.expecting_key = true;
                    }
                }
            }
            Obs::Start {
                mapping,
                tag_len,
                anchor,
            } => {
                self.count_node()?;
                self.depth += 1;
                if self.depth > self.max_depth {
                    return Err(format!(
                        "YAML nested too deeply: depth {} exceeds the limit of {}",
                        self.depth, self.max_depth
                    ));
                }
                self.count_scalar_bytes(tag_len)?;
                let from_value = match self.open.last_mut() {
                    Some(open) if open.mapping => {
                        !std::mem::replace(&mut open.expecting_key, false)
                    }
                    _ => false,
                };
                self.open.push(Open {
                    mapping,
                    expecting_key: true,
                    from_value,
                });
                self.define(anchor)?;
            }
            Obs::End => {
                self.depth = self.depth.saturating_sub(1);
                if let Some(closed) = self.open.pop()
                    && closed.from_value
                    && let Some(open) = self.open.last_mut()
                    && open.mapping
                {
                    open.expecting_key = true;
                }
            }
            Obs::DocumentStart => {
                self.documents += 1;
                if self.documents > MAX_DOCUMENTS {
                    return Err(format!(
                        "YAML too large: more than {MAX_DOCUMENTS} documents in one text"
                    ));
                }
            }
            Obs::Marker => {}
        }
        Ok(())
    }

    /// An alias read from the text (its replayed events are observed one by one).
    fn observe_alias(&mut self) -> Result<(), String> {
        self.count_event()?;
        self.aliases += 1;
        if self.aliases > MAX_ALIASES {
            return Err(format!("YAML too complex: more than {MAX_ALIASES} aliases"));
        }
        Ok(())
    }

    /// One copy of an event kept for a later alias.
    fn retain(&mut self, owned_bytes: usize) -> Result<(), String> {
        self.retained_events += 1;
        if self.retained_events > MAX_RETAINED_EVENTS {
            return Err(format!(
                "YAML too complex: anchored content needs more than {MAX_RETAINED_EVENTS} retained events"
            ));
        }
        self.retained_bytes = self.retained_bytes.saturating_add(owned_bytes);
        if self.retained_bytes > MAX_RETAINED_BYTES {
            return Err(format!(
                "YAML too large: anchored content needs more than {} MiB of retained text",
                MAX_RETAINED_BYTES >> 20
            ));
        }
        Ok(())
    }

    fn count_node(&mut self) -> Result<(), String> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(format!(
                "YAML too large: more than {MAX_NODES} nodes (scalars, sequences and mappings)"
            ));
        }
        Ok(())
    }

    fn count_scalar_bytes(&mut self, bytes: usize) -> Result<(), String> {
        self.scalar_bytes = self.scalar_bytes.saturating_add(bytes);
        if self.scalar_bytes > MAX_SCALAR_BYTES {
            return Err(format!(
                "YAML too large: more than {} MiB of scalar text",
                MAX_SCALAR_BYTES >> 20
            ));
        }
        Ok(())
    }

    fn define(&mut self, anchor: usize) -> Result<(), String> {
        if anchor != 0 && self.anchors.insert(anchor) && self.anchors.len() > MAX_ANCHORS {
            return Err(format!("YAML too complex: more than {MAX_ANCHORS} anchors"));
        }
        Ok(())
    }

    /// The check made once the whole text is read: many aliases of few anchors.
    fn finish(&self) -> Result<(), String> {
        let anchors = self.anchors.len();
        if self.aliases >= RATIO_MIN_ALIASES
            && (anchors == 0 || self.aliases > RATIO_ALIASES_PER_ANCHOR * anchors)
        {
            return Err(format!(
                "YAML too complex: {} aliases of {anchors} anchors (at most {RATIO_ALIASES_PER_ANCHOR} per anchor once there are {RATIO_MIN_ALIASES})",
                self.aliases
            ));
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// The live event source.

/// An anchored node being recorded.
struct Recording {
    anchor: usize,
    depth: usize,
    start: usize,
}

/// An alias being replayed.
struct Replaying {
    next: usize,
    end: usize,
    alias: Span,
}

struct Live<'a> {
    text: &'a str,
    parser: Parser<'a, StrInput<'a>>,
    budget: Budget,
    max_replay: usize,
    /// Events replayed through aliases in the current document.
    replayed: usize,
    /// Recorded events; an anchor is a range of them. Events recorded while
    /// several anchored nodes are open are stored once and shared.
    log: Vec<Ev<'a>>,
    /// Anchor id to its range in `log`, for the current document (ids keep
    /// growing from one document to the next).
    anchors: HashMap<usize, (usize, usize)>,
    recording: Vec<Recording>,
    replaying: Option<Replaying>,
    last: Span,
}

fn span_of(span: &ParserSpan) -> Span {
    match (span.start.byte_offset(), span.end.byte_offset()) {
        (Some(start), Some(end)) => Span::new(start, end.saturating_sub(start)),
        _ => Span::default(),
    }
}

fn tag_len(tag: Option<&Tag>) -> usize {
    tag.map_or(0, |t| {
        let (handle, suffix) = t.parts();
        handle.len() + suffix.len()
    })
}

impl<'a> Live<'a> {
    fn new(text: &'a str, limits: &Limits) -> Self {
        let mut options = ParserOptions::default();
        options.simple_key_max_lookahead = SIMPLE_KEY_MAX_LOOKAHEAD;
        options.flow_nesting_limit = FLOW_NESTING_LIMIT;
        options.block_nesting_limit = BLOCK_NESTING_LIMIT.max(limits.max_depth.saturating_add(1));
        options.emit_comments = false;
        options.strict_indentation = false;
        Live {
            text,
            parser: Parser::with_options(StrInput::new(text), options),
            budget: Budget::new(limits),
            max_replay: limits.max_alias_replay,
            replayed: 0,
            log: Vec::new(),
            anchors: HashMap::new(),
            recording: Vec::new(),
            replaying: None,
            last: Span::default(),
        }
    }

    fn finish(&self) -> Result<(), YamlError> {
        self.budget.finish().map_err(|m| error(self.last, m))
    }

    fn scan_error(&self, e: ScanError) -> YamlError {
        let mark = e.marker();
        let mut start = mark
            .byte_offset()
            .or_else(|| line_col_offset(self.text, mark.line(), mark.col()))
            .unwrap_or(self.text.len())
            .min(self.text.len());
        while !self.text.is_char_boundary(start) {
            start -= 1;
        }
        if matches!(e.kind(), ErrorKind::UnknownAnchor) {
            let name: String = self.text[start..]
                .chars()
                .take_while(|c| !c.is_whitespace() && !matches!(c, ',' | '[' | ']' | '{' | '}'))
                .collect();
            return error(
                Span::new(start, 0),
                format!(
                    "alias `{name}` refers to no anchor (anchors must be defined earlier in the same document)"
                ),
            );
        }
        let message = e.info();
        // "while scanning a plain scalar, found a tab": the parser marks where the
        // scalar began; the tab that broke it is what the user must fix.
        let span = match offending_tab(&self.text[start..]) {
            Some(i) if message.ends_with("found a tab") => Span::new(start + i, 1),
            _ => Span::new(start, 0),
        };
        YamlError {
            message,
            span: Some(span),
        }
    }

    /// Charges one retained copy of `ev`; a breach is reported at `at`.
    fn retain(&mut self, ev: &Ev<'a>, at: Span) -> Result<(), YamlError> {
        self.budget
            .retain(ev.owned_bytes())
            .map_err(|m| error(at, m))
    }

    /// Records `ev` into every open anchored node (stored once).
    fn record(&mut self, ev: &Ev<'a>, at: Span) -> Result<(), YamlError> {
        if self.recording.is_empty() {
            return Ok(());
        }
        for _ in 0..self.recording.len() {
            self.retain(ev, at)?;
        }
        self.log.push(ev.clone());
        Ok(())
    }

    fn reset_document(&mut self) {
        self.replaying = None;
        self.recording.clear();
        self.log.clear();
        self.anchors.clear();
        self.replayed = 0;
    }

    fn set_anchor(&mut self, anchor: usize, range: (usize, usize)) {
        self.anchors.insert(anchor, range);
    }

    fn replay(&mut self) -> Option<Result<Item<'a>, YamlError>> {
        let r = self.replaying.as_mut()?;
        if r.next >= r.end {
            self.replaying = None;
            return None;
        }
        let ev = self.log[r.next].clone();
        r.next += 1;
        let alias = r.alias;
        Some(self.replayed_event(ev, alias))
    }

    fn replayed_event(&mut self, ev: Ev<'a>, alias: Span) -> Result<Item<'a>, YamlError> {
        self.replayed += 1;
        if self.replayed > self.max_replay {
            return Err(error(
                ev.span(),
                format!(
                    "alias expansion limit exceeded: more than {} events replayed through aliases in one document (an alias bomb?)",
                    self.max_replay
                ),
            ));
        }
        let obs = match &ev {
            Ev::Scalar(s) => Obs::Scalar {
                value: &s.value,
                style: s.style,
                merge_tag: s.tag == Kind::Merge,
                untagged: s.tag != Kind::Merge,
                tag_len: if s.tag == Kind::Merge {
                    CORE.len() + "merge".len()
                } else {
                    0
                },
                anchor: 0,
            },
            Ev::RecursiveAlias { .. } => Obs::Scalar {
                value: "",
                style: ScalarStyle::Plain,
                merge_tag: false,
                untagged: true,
                tag_len: 0,
                anchor: 0,
            },
            Ev::SeqStart { .. } => Obs::Start {
                mapping: false,
                tag_len: 0,
                anchor: 0,
            },
            Ev::MapStart { .. } => Obs::Start {
                mapping: true,
                tag_len: 0,
                anchor: 0,
            },
            Ev::SeqEnd(_) | Ev::MapEnd(_) => Obs::End,
        };
        self.budget.observe(obs).map_err(|m| error(alias, m))?;
        self.record(&ev, alias)?;
        Ok((ev, Origin::Alias(alias)))
    }

    fn start(
        &mut self,
        mapping: bool,
        anchor: usize,
        tag: Option<Cow<'a, Tag>>,
        span: Span,
    ) -> Result<Item<'a>, YamlError> {
        self.budget
            .observe(Obs::Start {
                mapping,
                tag_len: tag_len(tag.as_deref()),
                anchor,
            })
            .map_err(|m| error(span, m))?;
        let kind = Kind::of(tag.as_deref());
        let shape = if mapping {
            Shape::Mapping
        } else {
            Shape::Sequence
        };
        check_tag(kind, tag.as_deref(), shape, span)?;
        let raw_tag = tag.map(|t| Rc::from(t.to_string()));
        let ev = if mapping {
            Ev::MapStart {
                tag: kind,
                raw_tag,
                span,
            }
        } else {
            Ev::SeqStart {
                tag: kind,
                raw_tag,
                span,
            }
        };
        for r in &mut self.recording {
            r.depth += 1;
        }
        let others = self.recording.len();
        if anchor != 0 {
            self.retain(&ev, span)?;
            self.recording.push(Recording {
                anchor,
                depth: 1,
                start: self.log.len(),
            });
        }
        for _ in 0..others {
            self.retain(&ev, span)?;
        }
        if !self.recording.is_empty() {
            self.log.push(ev.clone());
        }
        Ok((ev, Origin::Direct))
    }

    fn end(&mut self, mapping: bool, span: Span) -> Result<Item<'a>, YamlError> {
        self.budget.observe(Obs::End).map_err(|m| error(span, m))?;
        let ev = if mapping {
            Ev::MapEnd(span)
        } else {
            Ev::SeqEnd(span)
        };
        self.record(&ev, span)?;
        for r in &mut self.recording {
            r.depth = r.depth.saturating_sub(1);
        }
        while self.recording.last().is_some_and(|top| top.depth == 0) {
            let Some(done) = self.recording.pop() else {
                break;
            };
            let end = self.log.len();
            self.set_anchor(done.anchor, (done.start, end));
        }
        Ok((ev, Origin::Direct))
    }

    fn scalar(
        &mut self,
        value: Cow<'a, str>,
        style: ScalarStyle,
        anchor: usize,
        tag: Option<Cow<'a, Tag>>,
        span: Span,
    ) -> Result<Item<'a>, YamlError> {
        let tag = tag.as_deref();
        let merge_tag =
            tag.is_some_and(|t| t.suffix_in_namespace(CORE).is_some_and(|s| s == "merge"));
        self.budget
            .observe(Obs::Scalar {
                value: &value,
                style,
                merge_tag,
                untagged: tag.is_none(),
                tag_len: tag_len(tag),
                anchor,
            })
            .map_err(|m| error(span, m))?;
        let kind = Kind::of(tag);
        check_tag(kind, tag, Shape::Scalar, span)?;
        let ev = Ev::Scalar(Scalar {
            value,
            style,
            tag: kind,
            raw_tag: tag.map(|t| Rc::from(t.to_string())),
            span,
        });
        self.record(&ev, span)?;
        if anchor != 0 {
            self.retain(&ev, span)?;
            if self.recording.is_empty() {
                self.log.push(ev.clone());
            }
            let end = self.log.len();
            self.set_anchor(anchor, (end - 1, end));
        }
        Ok((ev, Origin::Direct))
    }

    fn alias(&mut self, anchor: usize, span: Span) -> Result<Option<Item<'a>>, YamlError> {
        self.budget.observe_alias().map_err(|m| error(span, m))?;
        if self.recording.iter().any(|r| r.anchor == anchor) {
            let ev = Ev::RecursiveAlias { anchor, span };
            self.record(&ev, span)?;
            return Ok(Some((ev, Origin::Direct)));
        }
        let Some(&(start, end)) = self.anchors.get(&anchor) else {
            return Err(error(
                span,
                "alias refers to no anchor (anchors must be defined earlier in the same document)"
                    .into(),
            ));
        };
        self.replaying = Some(Replaying {
            next: start,
            end,
            alias: span,
        });
        self.next_item()
    }
}

/// A tag that demands another shape of node is refused where it stands.
fn check_tag(kind: Kind, tag: Option<&Tag>, shape: Shape, span: Span) -> Result<(), YamlError> {
    match kind.requires() {
        Some(required) if required != shape => {
            let spelled = tag.map_or(String::new(), Tag::original);
            Err(error(
                span,
                if kind == Kind::Include {
                    format!("`{spelled}` is not supported on a {}", shape.name())
                } else {
                    format!(
                        "tag `{spelled}` needs a {} but is on a {}",
                        required.name(),
                        shape.name()
                    )
                },
            ))
        }
        _ => Ok(()),
    }
}

/// The tab a "found a tab" error is about: the first one in the indentation
/// of a line (a trailing tab after a scalar is whitespace YAML allows), else
/// the first one.
fn offending_tab(text: &str) -> Option<usize> {
    let mut offset = 0;
    for line in crate::source::lines_inclusive(text) {
        let indent = line.len() - line.trim_start_matches([' ', '\t']).len();
        if let Some(i) = line[..indent].find('\t') {
            return Some(offset + i);
        }
        offset += line.len();
    }
    text.find('\t')
}

/// Byte offset of a 1-based line and 0-based character column.
fn line_col_offset(text: &str, line: usize, col: usize) -> Option<usize> {
    if line == 0 {
        return None;
    }
    let mut offset = 0;
    for (i, l) in crate::source::lines_inclusive(text).enumerate() {
        if i + 1 == line {
            return Some(offset + l.char_indices().nth(col).map_or(l.len(), |(b, _)| b));
        }
        offset += l.len();
    }
    Some(text.len())
}

impl<'a> Source<'a> for Live<'a> {
    fn next_item(&mut self) -> Result<Option<Item<'a>>, YamlError> {
        if let Some(item) = self.replay() {
            return item.map(Some);
        }
        while let Some(next) = self.parser.next() {
            let (event, pspan) = next.map_err(|e| self.scan_error(e))?;
            let span = span_of(&pspan);
            self.last = span;
            let item = match event {
                Event::Scalar(value, style, anchor, tag) => {
                    self.scalar(value, style, anchor, tag, span)?
                }
                Event::SequenceStart(_, anchor, tag) => self.start(false, anchor, tag, span)?,
                Event::MappingStart(_, anchor, tag) => self.start(true, anchor, tag, span)?,
                Event::SequenceEnd => self.end(false, span)?,
                Event::MappingEnd => self.end(true, span)?,
                Event::Alias(anchor) => return self.alias(anchor, span),
                Event::DocumentStart(..) => {
                    self.budget
                        .observe(Obs::DocumentStart)
                        .map_err(|m| error(span, m))?;
                    self.reset_document();
                    continue;
                }
                Event::DocumentEnd => {
                    self.budget
                        .observe(Obs::Marker)
                        .map_err(|m| error(span, m))?;
                    self.reset_document();
                    continue;
                }
                Event::StreamStart | Event::StreamEnd => {
                    self.budget
                        .observe(Obs::Marker)
                        .map_err(|m| error(span, m))?;
                    continue;
                }
                _ => return Err(error(span, "unsupported YAML parser event".into())),
            };
            return Ok(Some(item));
        }
        Ok(None)
    }

    fn last_span(&self) -> Span {
        self.last
    }
}

// ---------------------------------------------------------------------------
// Scalars.

/// Drops the ASCII padding scalar conversion ignores (spaces, tabs, line breaks).
fn trim(s: &str) -> &str {
    let pad = |b: &u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    let bytes = s.as_bytes();
    let start = bytes.iter().position(|b| !pad(b)).unwrap_or(bytes.len());
    let end = bytes.iter().rposition(|b| !pad(b)).map_or(start, |i| i + 1);
    // Both ends are next to ASCII bytes, hence on character boundaries.
    &s[start..end]
}

/// YAML 1.1 booleans, in any letter case: `y`, `yes`, `true`, `on` and
/// `n`, `no`, `false`, `off` (go-yaml v2 reads these as booleans too).
fn yaml11_bool(s: &str) -> Option<bool> {
    let t = trim(s);
    if t.is_empty() || t.len() > 5 {
        return None;
    }
    if ["true", "yes", "y", "on"]
        .iter()
        .any(|w| t.eq_ignore_ascii_case(w))
    {
        Some(true)
    } else if ["false", "no", "n", "off"]
        .iter()
        .any(|w| t.eq_ignore_ascii_case(w))
    {
        Some(false)
    } else {
        None
    }
}

/// The radix and digits of an unsigned integer spelling: `0x`, `0o`, `0b`
/// prefixes, and a leading `0` for legacy octal (`0644`).
fn radix_of(rest: &str) -> (u32, &str) {
    fn after(r: &str) -> &str {
        r.strip_prefix('_').unwrap_or(r)
    }
    for (prefixes, radix) in [(["0x", "0X"], 16), (["0o", "0O"], 8), (["0b", "0B"], 2)] {
        for p in prefixes {
            if let Some(r) = rest.strip_prefix(p) {
                return (radix, after(r));
            }
        }
    }
    match rest.strip_prefix('0') {
        Some("") => (8, "0"),
        Some(r) => (8, after(r)),
        None => (10, rest),
    }
}

/// Digits in `radix`, with single underscores allowed between digits.
fn digits_value(digits: &str, radix: u32) -> Option<u128> {
    let bytes = digits.as_bytes();
    let mut value: u128 = 0;
    let mut any = false;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'_' {
            let between =
                i > 0 && bytes[i - 1] != b'_' && bytes.get(i + 1).is_some_and(|&n| n != b'_');
            if !between {
                return None;
            }
            continue;
        }
        let d = match b {
            b'0'..=b'9' => u32::from(b - b'0'),
            b'a'..=b'f' if radix > 10 => u32::from(b - b'a') + 10,
            b'A'..=b'F' if radix > 10 => u32::from(b - b'A') + 10,
            _ => return None,
        };
        if d >= radix {
            return None;
        }
        value = value
            .checked_mul(u128::from(radix))?
            .checked_add(u128::from(d))?;
        any = true;
    }
    any.then_some(value)
}

fn magnitude(rest: &str) -> Option<u128> {
    let (radix, digits) = radix_of(rest);
    if radix == 10 && digits.starts_with('0') && digits != "0" {
        return None;
    }
    digits_value(digits, radix)
}

fn parse_unsigned(s: &str) -> Option<u128> {
    let t = trim(s);
    if t.starts_with('-') {
        return None;
    }
    magnitude(t.strip_prefix('+').unwrap_or(t))
}

fn parse_signed(s: &str) -> Option<i128> {
    let t = trim(s);
    let (negative, rest) = match t.strip_prefix('+') {
        Some(r) => (false, r),
        None => match t.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, t),
        },
    };
    let m = magnitude(rest)?;
    if negative {
        if m == i128::MIN.unsigned_abs() {
            Some(i128::MIN)
        } else {
            i128::try_from(m).ok().map(|v| -v)
        }
    } else {
        i128::try_from(m).ok()
    }
}

/// Floats as YAML 1.2 spells them (`.inf`, `-.inf`, `.nan` included), and
/// numerals too large for f64 (as infinities).
fn parse_float(s: &str) -> Option<f64> {
    let t = trim(s);
    let (negative, unsigned) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    match unsigned {
        ".nan" | ".NaN" | ".NAN" => return Some(f64::NAN),
        ".inf" | ".Inf" | ".INF" => {
            return Some(if negative {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            });
        }
        _ => {}
    }
    let v = t.parse::<f64>().ok()?;
    let numeral = t
        .strip_prefix(['+', '-'])
        .unwrap_or(t)
        .starts_with(|c: char| c.is_ascii_digit());
    (v.is_finite() || (v.is_infinite() && numeral)).then_some(v)
}

fn int_value(v: u64) -> Value {
    match i64::try_from(v) {
        Ok(i) => Value::Int(i),
        Err(_) => Value::UInt(v),
    }
}

fn float_value(v: f64, text: &str, span: Span) -> Result<Value, YamlError> {
    if v.is_finite() {
        Ok(Value::Float(v))
    } else {
        Err(error(
            span,
            format!("non-finite number `{text}` is not allowed (JSON cannot represent it)"),
        ))
    }
}

/// A tag as usually written (`!!timestamp` rather than `tag:yaml.org,2002:timestamp`).
fn tag_shown(s: &Scalar<'_>) -> String {
    let raw = s.raw_tag.as_deref().unwrap_or_default();
    match raw.strip_prefix(CORE) {
        Some(name) => format!("!!{name}"),
        None => raw.to_string(),
    }
}

/// The value of a scalar, resolved as the previous parser resolved it for an
/// untyped target: explicit tags first, then (plain scalars only) null, YAML 1.1
/// booleans, integers (legacy octal included), floats, and otherwise a string.
fn resolve(s: Scalar<'_>) -> Result<Value, YamlError> {
    let span = s.span;
    // Most scalars in manifests are names: a plain untagged scalar that starts
    // with a letter no null or boolean spelling starts with is a string
    // (numbers start with a digit, a sign or a dot; `inf` and `infinity` stay
    // strings).
    if s.tag == Kind::None
        && s.style == ScalarStyle::Plain
        && s.value.as_bytes().first().is_some_and(|&b| {
            b.is_ascii_alphabetic()
                && !matches!(
                    b,
                    b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O'
                )
        })
    {
        return Ok(Value::Str(s.value.into_owned()));
    }
    match s.tag {
        Kind::Null => return Ok(Value::Null),
        Kind::Bool => {
            return yaml11_bool(&s.value).map(Value::Bool).ok_or_else(|| {
                error(
                    span,
                    format!("`{}` is not a boolean (tagged !!bool)", s.value),
                )
            });
        }
        Kind::Int => {
            let parsed = if trim(&s.value).starts_with('-') {
                parse_signed(&s.value)
                    .and_then(|v| i64::try_from(v).ok())
                    .map(Value::Int)
            } else {
                parse_unsigned(&s.value)
                    .and_then(|v| u64::try_from(v).ok())
                    .map(int_value)
            };
            return parsed.ok_or_else(|| {
                error(
                    span,
                    format!("`{}` is not a 64-bit integer (tagged !!int)", s.value),
                )
            });
        }
        Kind::Float => {
            return match parse_float(&s.value) {
                Some(v) => float_value(v, &s.value, span),
                None => Err(error(
                    span,
                    format!("`{}` is not a number (tagged !!float)", s.value),
                )),
            };
        }
        Kind::Time | Kind::Degrees | Kind::Radians => {
            return Err(error(
                span,
                format!(
                    "the tag {} (on `{}`) is not supported",
                    tag_shown(&s),
                    s.value
                ),
            ));
        }
        _ => {}
    }
    if s.is_null() {
        return Ok(Value::Null);
    }
    if s.style != ScalarStyle::Plain
        || !s.tag.stringy()
        || s.tag == Kind::Binary
        || s.tag.forces_string()
    {
        if s.tag == Kind::Binary {
            return decode_binary(&s.value, span).map(Value::Str);
        }
        if !s.tag.stringy() {
            return Err(error(
                span,
                format!(
                    "a scalar tagged {} cannot be read as a string",
                    tag_shown(&s)
                ),
            ));
        }
        return Ok(Value::Str(s.value.into_owned()));
    }
    if let Some(b) = yaml11_bool(&s.value) {
        return Ok(Value::Bool(b));
    }
    let t = trim(&s.value);
    if t.starts_with('-') {
        if let Some(v) = parse_signed(t).and_then(|v| i64::try_from(v).ok()) {
            return Ok(Value::Int(v));
        }
    } else if let Some(v) = parse_unsigned(t).and_then(|v| u64::try_from(v).ok()) {
        return Ok(int_value(v));
    }
    if let Some(v) = parse_float(&s.value) {
        return float_value(v, &s.value, span);
    }
    Ok(Value::Str(s.value.into_owned()))
}

/// A mapping key as Kubernetes' YAML-to-JSON conversion writes it.
fn key_text(s: Scalar<'_>) -> Result<String, YamlError> {
    Ok(match resolve(s)? {
        Value::Str(s) => s,
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::UInt(u) => u.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Seq(_) | Value::Map(_) => unreachable!("a scalar resolves to a scalar"),
    })
}

/// A `!!binary` scalar: base64 (whitespace ignored) of UTF-8 text.
fn decode_binary(text: &str, span: Span) -> Result<String, YamlError> {
    let bad = || error(span, "invalid base64 in a !!binary scalar".into());
    let clean: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if !clean.len().is_multiple_of(4) {
        return Err(bad());
    }
    let sextet = |b: u8| -> Option<u32> {
        Some(u32::from(match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        }))
    };
    let groups = clean.len() / 4;
    let mut out = Vec::with_capacity(groups * 3);
    for (i, g) in clean.chunks_exact(4).enumerate() {
        let pad = g.iter().rev().take_while(|&&b| b == b'=').count();
        if pad > 2 || (pad > 0 && i + 1 != groups) {
            return Err(bad());
        }
        let a = sextet(g[0]).ok_or_else(bad)?;
        let b = sextet(g[1]).ok_or_else(bad)?;
        let c = if pad == 2 {
            0
        } else {
            sextet(g[2]).ok_or_else(bad)?
        };
        let d = if pad >= 1 {
            0
        } else {
            sextet(g[3]).ok_or_else(bad)?
        };
        // Bits the padding drops must be zero (one encoding per byte string).
        if (pad == 2 && b & 0x0F != 0) || (pad == 1 && c & 0x03 != 0) {
            return Err(bad());
        }
        let n = (a << 18) | (b << 12) | (c << 6) | d;
        out.push((n >> 16) as u8);
        if pad < 2 {
            out.push((n >> 8) as u8);
        }
        if pad == 0 {
            out.push(n as u8);
        }
    }
    String::from_utf8(out).map_err(|_| error(span, "a !!binary scalar is not UTF-8 text".into()))
}

// ---------------------------------------------------------------------------
// Key identity (duplicate detection).

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum KeyTag {
    Kind(Kind),
    Custom(Rc<str>),
}

/// What makes two keys the same key: integers by value (`1`, `01`, `0x1`),
/// other scalars by text and tag (`true` and `"true"` are the same key, `yes`
/// and `true` are not), collections by content.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Fingerprint<'a> {
    Int {
        negative: bool,
        magnitude: u128,
    },
    Scalar {
        tag: KeyTag,
        value: Cow<'a, str>,
    },
    Seq {
        tag: KeyTag,
        items: Vec<Fingerprint<'a>>,
    },
    Map {
        tag: KeyTag,
        entries: Vec<(Fingerprint<'a>, Fingerprint<'a>)>,
    },
    Recursive(usize),
}

fn key_tag(tag: Kind, raw: &Option<Rc<str>>, implicit: Kind) -> KeyTag {
    if let Some(raw) = raw
        && (tag == Kind::Other || (implicit == Kind::Map && tag == Kind::Map && &**raw == "!map"))
    {
        return KeyTag::Custom(raw.clone());
    }
    KeyTag::Kind(if matches!(tag, Kind::None | Kind::NonSpecific) {
        implicit
    } else if implicit == Kind::Str && tag.stringy() {
        Kind::Str
    } else {
        tag
    })
}

fn scalar_fingerprint<'a>(s: &Scalar<'a>) -> Fingerprint<'a> {
    if s.tag == Kind::Int || (s.tag == Kind::None && s.style == ScalarStyle::Plain) {
        let t = trim(&s.value);
        // Integers start with a digit or a sign.
        let int = match t.as_bytes().first() {
            Some(b'-') => parse_signed(t).map(|v| (v < 0, v.unsigned_abs())),
            Some(b'0'..=b'9' | b'+') => parse_unsigned(t).map(|v| (false, v)),
            _ => None,
        };
        if let Some((negative, magnitude)) = int {
            return Fingerprint::Int {
                negative,
                magnitude,
            };
        }
    }
    let tag = if s.tag == Kind::None && s.is_null() {
        Kind::Null
    } else {
        s.tag
    };
    Fingerprint::Scalar {
        tag: key_tag(tag, &s.raw_tag, Kind::Str),
        value: s.value.clone(),
    }
}

/// The fingerprint of the captured node starting at `items[*i]` (advances `*i`).
fn fingerprint<'a>(items: &[Item<'a>], i: &mut usize) -> Fingerprint<'a> {
    let Some((ev, _)) = items.get(*i) else {
        return Fingerprint::Recursive(0);
    };
    *i += 1;
    match ev {
        Ev::Scalar(s) => scalar_fingerprint(s),
        Ev::RecursiveAlias { anchor, .. } => Fingerprint::Recursive(*anchor),
        Ev::SeqStart { tag, raw_tag, .. } => {
            let tag = key_tag(*tag, raw_tag, Kind::Seq);
            let mut children = Vec::new();
            while *i < items.len() && !matches!(items[*i].0, Ev::SeqEnd(_)) {
                children.push(fingerprint(items, i));
            }
            *i += 1;
            Fingerprint::Seq {
                tag,
                items: children,
            }
        }
        Ev::MapStart { tag, raw_tag, .. } => {
            let tag = key_tag(*tag, raw_tag, Kind::Map);
            let mut entries = Vec::new();
            while *i < items.len() && !matches!(items[*i].0, Ev::MapEnd(_)) {
                let k = fingerprint(items, i);
                let v = fingerprint(items, i);
                entries.push((k, v));
            }
            *i += 1;
            // A mapping is unordered: `{a: 1, b: 2}` and `{b: 2, a: 1}` are one key.
            entries.sort();
            Fingerprint::Map { tag, entries }
        }
        Ev::SeqEnd(_) | Ev::MapEnd(_) => Fingerprint::Recursive(0),
    }
}

// ---------------------------------------------------------------------------
// The builder.

/// A merged entry: its key and value, captured, built only if it is kept.
struct Pending<'a> {
    key: Vec<Item<'a>>,
    value: Vec<Item<'a>>,
}

impl<'a> Pending<'a> {
    fn scalar_key(&self) -> Option<&Scalar<'a>> {
        match self.key.as_slice() {
            [(Ev::Scalar(s), _)] => Some(s),
            _ => None,
        }
    }
}

/// Mappings with more keys than this check duplicates with a hash set.
const LINEAR_SEEN: usize = 24;

#[derive(Default)]
struct Builder<'a> {
    /// Keys seen by the mappings being built, innermost last.
    seen: Vec<Fingerprint<'a>>,
    /// Entries and items of the collections being built, innermost last; each
    /// collection moves its own into an exactly sized vector when it ends.
    entries: Vec<Entry>,
    items: Vec<Node>,
}

/// The keys one mapping has seen: a slice of [`Builder::seen`], or a set for large mappings.
struct Seen<'a> {
    base: usize,
    set: Option<HashSet<Fingerprint<'a>>>,
}

impl<'a> Builder<'a> {
    fn contains(&self, seen: &Seen<'a>, fp: &Fingerprint<'a>) -> bool {
        match &seen.set {
            Some(set) => set.contains(fp),
            None => self.seen[seen.base..].contains(fp),
        }
    }

    fn insert(&mut self, seen: &mut Seen<'a>, fp: Fingerprint<'a>) {
        if let Some(set) = &mut seen.set {
            set.insert(fp);
        } else if self.seen.len() - seen.base < LINEAR_SEEN {
            self.seen.push(fp);
        } else {
            let mut set: HashSet<Fingerprint<'a>> = self.seen.drain(seen.base..).collect();
            set.insert(fp);
            seen.set = Some(set);
        }
    }

    /// The node starting with `item`.
    fn node<S: Source<'a>>(&mut self, src: &mut S, item: Item<'a>) -> Result<Node, YamlError> {
        let (ev, origin) = item;
        let span = origin.reference(ev.span());
        match ev {
            Ev::Scalar(s) => Ok(Node {
                span,
                value: resolve(s)?,
            }),
            Ev::SeqStart { .. } => self.seq(src, span),
            Ev::MapStart { .. } => self.map(src, span),
            Ev::RecursiveAlias { span, .. } => Err(recursive_alias(span)),
            Ev::SeqEnd(at) | Ev::MapEnd(at) => {
                Err(error(at, "unexpected end of a collection".into()))
            }
        }
    }

    /// A sequence item or mapping value: an error inside a node replayed
    /// through an alias points at the alias.
    fn child<S: Source<'a>>(&mut self, src: &mut S, item: Item<'a>) -> Result<Node, YamlError> {
        let alias = item.1.alias();
        self.node(src, item).map_err(|e| e.inside_alias(alias))
    }

    fn seq<S: Source<'a>>(&mut self, src: &mut S, span: Span) -> Result<Node, YamlError> {
        let base = self.items.len();
        loop {
            let item = next(src)?;
            if let Ev::SeqEnd(_) = item.0 {
                break;
            }
            let node = self.child(src, item)?;
            self.items.push(node);
        }
        let items = self.items.drain(base..).collect();
        Ok(Node {
            span,
            value: Value::Seq(items),
        })
    }

    fn map<S: Source<'a>>(&mut self, src: &mut S, span: Span) -> Result<Node, YamlError> {
        let base = self.entries.len();
        let mut seen = Seen {
            base: self.seen.len(),
            set: None,
        };
        // The entries this mapping's one merge key brings in, and the first of
        // them whose key the mapping already set above `<<` (reported once the
        // mapping is read, so that a repeated explicit key is reported first).
        let mut has_merge = false;
        let mut merged: Vec<Pending<'a>> = Vec::new();
        let mut conflict: Option<YamlError> = None;
        loop {
            let (ev, origin) = next(src)?;
            let key = match ev {
                Ev::MapEnd(_) => break,
                Ev::Scalar(s) => s,
                Ev::RecursiveAlias { span, .. } => return Err(recursive_alias(span)),
                Ev::SeqStart { span: own, .. } | Ev::MapStart { span: own, .. } => {
                    let shape = if matches!(ev, Ev::MapStart { .. }) {
                        Shape::Mapping
                    } else {
                        Shape::Sequence
                    };
                    capture(src, (ev, origin))?;
                    return Err(complex_key(own, shape));
                }
                Ev::SeqEnd(at) => return Err(error(at, "unexpected end of a sequence".into())),
            };
            if key.is_merge_key() {
                // Two merge keys are duplicate keys: applied in place (go-yaml
                // v2) the later wins, by the merge rules the earlier.
                if has_merge {
                    return Err(duplicate_key(key.span, Some("<<")));
                }
                has_merge = true;
                merged = self.merge_value(src)?;
                // `seen` holds exactly the keys above `<<` here.
                conflict = merged.iter().find_map(|p| {
                    let k = p.scalar_key()?;
                    self.contains(&seen, &scalar_fingerprint(k))
                        .then(|| merge_after_key(key.span, k.shown()))
                });
                continue;
            }
            let fp = scalar_fingerprint(&key);
            if self.contains(&seen, &fp) {
                return Err(duplicate_key(key.span, key.shown()));
            }
            let key_span = origin.reference(key.span);
            let key = key_text(key)?;
            self.insert(&mut seen, fp);
            let item = next(src)?;
            let value = self.child(src, item)?;
            self.entries.push(Entry {
                key,
                key_span,
                value,
            });
        }
        // Merged entries follow, each kept unless its key is already there:
        // explicit keys below `<<` win over merged ones (as they do when `<<`
        // is applied in place), earlier merged mappings over later ones.
        if let Some(e) = conflict {
            return Err(e);
        }
        for pending in merged {
            let fp = pending.scalar_key().map(scalar_fingerprint);
            if fp.as_ref().is_some_and(|fp| self.contains(&seen, fp)) {
                continue;
            }
            let mut keys = Replay::new(pending.key, None);
            let (ev, origin) = next(&mut keys)?;
            let (key, key_span) = match ev {
                Ev::Scalar(s) => {
                    let at = origin.reference(s.span);
                    (key_text(s)?, at)
                }
                Ev::RecursiveAlias { span, .. } => return Err(recursive_alias(span)),
                Ev::MapStart { span, .. } => return Err(complex_key(span, Shape::Mapping)),
                Ev::SeqStart { span, .. } => return Err(complex_key(span, Shape::Sequence)),
                Ev::SeqEnd(at) | Ev::MapEnd(at) => {
                    return Err(error(at, "unexpected end of a collection".into()));
                }
            };
            if let Some(fp) = fp {
                self.insert(&mut seen, fp);
            }
            let mut values = Replay::new(pending.value, None);
            let item = next(&mut values)?;
            let value = self.child(&mut values, item)?;
            self.entries.push(Entry {
                key,
                key_span,
                value,
            });
        }
        self.seen.truncate(seen.base);
        let entries = self.entries.drain(base..).collect();
        Ok(Node {
            span,
            value: Value::Map(entries),
        })
    }

    /// The entries a merge key's value brings in (read from `src`): a mapping,
    /// a list of mappings (nested lists too), or null for none.
    fn merge_value<S: Source<'a>>(&mut self, src: &mut S) -> Result<Vec<Pending<'a>>, YamlError> {
        let item = next(src)?;
        let at = item.1.reference(item.0.span());
        match &item.0 {
            Ev::Scalar(s) if s.is_null() => Ok(Vec::new()),
            Ev::Scalar(s) => Err(merge_not_mapping(s.span)),
            Ev::RecursiveAlias { span, .. } => Err(recursive_alias(*span)),
            Ev::MapStart { .. } => {
                let captured = capture(src, item)?;
                self.merge_entries(captured, at)
            }
            Ev::SeqStart { .. } => {
                let mut out = Vec::new();
                loop {
                    let element = next(src)?;
                    match element.0 {
                        Ev::SeqEnd(_) => break,
                        Ev::RecursiveAlias { span, .. } => return Err(recursive_alias(span)),
                        _ => {}
                    }
                    let at = element.1.reference(element.0.span());
                    let captured = capture(src, element)?;
                    out.extend(self.merge_entries(captured, at)?);
                }
                Ok(out)
            }
            Ev::SeqEnd(span) | Ev::MapEnd(span) => Err(merge_not_mapping(*span)),
        }
    }

    /// The entries of a captured merge value used at `at`.
    fn merge_entries(
        &mut self,
        captured: Vec<Item<'a>>,
        at: Span,
    ) -> Result<Vec<Pending<'a>>, YamlError> {
        let mut replay = Replay::new(captured, Some(at));
        let (ev, _) = next(&mut replay)?;
        match ev {
            Ev::Scalar(s) if s.is_null() => Ok(Vec::new()),
            Ev::Scalar(s) => Err(merge_not_mapping(s.span)),
            Ev::RecursiveAlias { span, .. } => Err(recursive_alias(span)),
            Ev::MapStart { .. } => self.merge_mapping(&mut replay),
            Ev::SeqStart { .. } => {
                let mut out = Vec::new();
                loop {
                    let element = next(&mut replay)?;
                    if let Ev::SeqEnd(_) = element.0 {
                        break;
                    }
                    let at = element.1.reference(element.0.span());
                    let captured = capture(&mut replay, element)?;
                    out.extend(self.merge_entries(captured, at)?);
                }
                Ok(out)
            }
            Ev::SeqEnd(span) | Ev::MapEnd(span) => Err(merge_not_mapping(span)),
        }
    }

    /// The entries of a merged mapping (its start already read): its own
    /// entries (duplicates refused), then those of its own merge keys.
    fn merge_mapping(&mut self, src: &mut Replay<'a>) -> Result<Vec<Pending<'a>>, YamlError> {
        let mut fields = Vec::new();
        // This mapping's merge key: where it is, how many fields stand above
        // it, and the entries it brings in.
        let mut merge: Option<(Span, usize)> = None;
        let mut nested = Vec::new();
        loop {
            let item = next(src)?;
            match item.0 {
                Ev::MapEnd(_) => break,
                Ev::RecursiveAlias { span, .. } => return Err(recursive_alias(span)),
                _ => {}
            }
            let key = capture(src, item)?;
            if let [(Ev::Scalar(s), _)] = key.as_slice()
                && s.is_merge_key()
            {
                if merge.is_some() {
                    return Err(duplicate_key(s.span, Some("<<")));
                }
                merge = Some((s.span, fields.len()));
                nested = self.merge_value(src)?;
                continue;
            }
            let item = next(src)?;
            let value = capture(src, item)?;
            fields.push(Pending { key, value });
        }
        let mut keys = HashSet::with_capacity(fields.len());
        for field in &fields {
            if !keys.insert(fingerprint(&field.key, &mut 0)) {
                let (first, _) = &field.key[0];
                let shown = field.scalar_key().and_then(Scalar::shown);
                return Err(duplicate_key(first.span(), shown));
            }
        }
        if let Some((at, above)) = merge
            && above > 0
        {
            let above: HashSet<_> = fields[..above]
                .iter()
                .map(|f| fingerprint(&f.key, &mut 0))
                .collect();
            if let Some(field) = nested
                .iter()
                .find(|f| above.contains(&fingerprint(&f.key, &mut 0)))
            {
                let shown = field.scalar_key().and_then(Scalar::shown);
                return Err(merge_after_key(at, shown));
            }
        }
        fields.extend(nested);
        Ok(fields)
    }
}

/// The events of the node starting with `first` (read through its end).
fn capture<'a, S: Source<'a>>(src: &mut S, first: Item<'a>) -> Result<Vec<Item<'a>>, YamlError> {
    let mut depth = usize::from(matches!(first.0, Ev::SeqStart { .. } | Ev::MapStart { .. }));
    let mut out = vec![first];
    while depth > 0 {
        let item = next(src)?;
        match item.0 {
            Ev::SeqStart { .. } | Ev::MapStart { .. } => depth += 1,
            Ev::SeqEnd(_) | Ev::MapEnd(_) => depth -= 1,
            _ => {}
        }
        out.push(item);
    }
    Ok(out)
}
