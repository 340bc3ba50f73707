//! The `check` pipeline: discover, read, load, lint and locate, file by file
//! (in parallel across files), keeping only findings once a file is done.

use std::path::PathBuf;
use std::sync::Arc;

use rayon::prelude::*;

use crate::cluster::{self, Cluster};
use crate::dockerfile::{self, Dockerfile};
use crate::finding::{Finding, Location, ObjectRef, Related};
use crate::images::{Built, FinalUser, ImageFacts, ImageIndex};
use crate::input::{self, Input};
use crate::linter::{Linter, PodInterest};
use crate::load::{At, LoadedDoc, LoadedFile, load_text};
use crate::rule::Report;
use crate::rules::input as input_rules;
use crate::source::{SourceFile, Span};
use crate::yaml::{self, Limits};

/// Options of one run.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub limits: Limits,
    /// Keep each file's text for rendering snippets (human output).
    pub keep_sources: bool,
    /// The configuration whose `exclude` patterns filter the inputs.
    pub config: Option<Arc<crate::config::Config>>,
    /// Counters a progress display may read while the run goes on.
    pub progress: Option<Arc<Progress>>,
    /// Display names of inputs read as Dockerfiles whatever their name (`--dockerfile`).
    pub dockerfiles: std::collections::BTreeSet<String>,
    /// Image patterns and the Dockerfiles that build them, besides those the
    /// policies map (paths as they are to be opened).
    pub images: Vec<(String, PathBuf)>,
    /// Files and directories whose objects are looked up by cross-resource
    /// rules but not judged (`--context`).
    pub context: Vec<PathBuf>,
}

/// How far a run is: files found and files done.
#[derive(Debug, Default)]
pub struct Progress {
    pub total: std::sync::atomic::AtomicUsize,
    pub done: std::sync::atomic::AtomicUsize,
}

impl Progress {
    /// `checked 12/40 files`.
    pub fn line(&self) -> String {
        use std::sync::atomic::Ordering::Relaxed;
        format!(
            "checked {}/{} files",
            self.done.load(Relaxed),
            self.total.load(Relaxed)
        )
    }
}

/// The result for one input.
#[derive(Debug)]
pub struct FileResult {
    pub name: Arc<str>,
    /// The text, when `keep_sources` was set and the file was read from
    /// stdin (a file's text is read again when its snippets are rendered; see
    /// [`Reread`]).
    pub source: Option<SourceFile>,
    /// Where to read a file's text again for its snippets, when
    /// `keep_sources` was set and the file has located findings.
    pub reread: Option<Reread>,
    pub findings: Vec<Finding>,
    /// Every object read from the file, in order.
    pub objects: Vec<Arc<ObjectRef>>,
    pub documents: usize,
    pub resources: usize,
    pub bytes: usize,
}

/// A checked file's path and what its text was, so that the human reporter
/// can read it again for snippets instead of the run keeping every file's
/// text until the end (the memory target is 3x the largest file + 64 MiB,
/// whatever the format). A file changed since it was checked is shown
/// without snippets.
#[derive(Debug, Clone)]
pub struct Reread {
    pub path: PathBuf,
    pub len: usize,
    pub hash: u64,
}

impl Reread {
    fn hash_of(text: &str) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::hash::DefaultHasher::new();
        text.hash(&mut h);
        h.finish()
    }

    /// The text again, if it is still what was checked.
    pub fn read(&self) -> Option<SourceFile> {
        let source = input::read(&Input::File(self.path.clone()), self.len as u64).ok()?;
        (source.text.len() == self.len && Self::hash_of(&source.text) == self.hash)
            .then_some(source)
    }
}

/// stdin and paths that are not regular files: reading them again gives
/// nothing (a pipe) or something else (a device).
fn read_once_only(input: &Input) -> bool {
    match input {
        Input::Stdin => true,
        Input::File(p) => std::fs::metadata(p).is_ok_and(|m| !m.is_file()),
    }
}

/// Trades a file's kept text for a [`Reread`] (stdin's text stays: it cannot
/// be read again). Files without located findings keep nothing.
fn release_source(result: &mut FileResult, input: &Input) {
    let Input::File(path) = input else { return };
    if read_once_only(input) {
        return;
    }
    let Some(source) = result.source.take() else {
        return;
    };
    if result.findings.iter().any(|f| f.location.is_some()) {
        result.reread = Some(Reread {
            path: path.clone(),
            len: source.text.len(),
            hash: Reread::hash_of(&source.text),
        });
    }
}

/// The result of a whole run.
#[derive(Debug, Default)]
pub struct RunResult {
    pub files: Vec<FileResult>,
    /// Findings not tied to a readable file (paths that do not exist).
    pub orphans: Vec<Finding>,
    /// The policies applied: name and admission mode.
    pub policies: Vec<PolicyRef>,
}

/// A policy as shown in reports.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PolicyRef {
    pub name: String,
    pub mode: crate::policy::Mode,
}

impl RunResult {
    /// Every finding, in file order.
    pub fn findings(&self) -> impl Iterator<Item = &Finding> {
        self.orphans
            .iter()
            .chain(self.files.iter().flat_map(|f| &f.findings))
    }

    /// True when some input could not be read, parsed or decoded.
    pub fn input_errors(&self) -> bool {
        self.findings()
            .any(|f| crate::rules::input::is_input_error(f.code))
    }
}

/// Lints the given paths (files, directories, `-`).
pub fn run(linter: &Linter, paths: &[PathBuf], opts: &Options) -> RunResult {
    let (mut inputs, errors) = input::discover(paths);
    if let Some(c) = &opts.config {
        inputs.retain(|i| match i {
            Input::File(p) => !c.excludes(p),
            Input::Stdin => true,
        });
    }
    let orphans = errors
        .into_iter()
        .filter_map(|e| {
            let mut f = linter.primary().stamp(
                &input_rules::UNREADABLE_INPUT,
                Report {
                    message: format!("cannot read {}: {}", e.path, e.message),
                    ..Report::default()
                },
                None,
            )?;
            f.location = Some(Location {
                file: e.path.into(),
                start: 0,
                end: 0,
                start_lc: crate::source::LineCol { line: 1, column: 1 },
                end_lc: crate::source::LineCol { line: 1, column: 1 },
            });
            Some(f)
        })
        .collect();
    let mut orphans: Vec<Finding> = orphans;
    orphans.extend(linter.policy_findings());
    // Cross-resource rules need the run's Namespaces, NetworkPolicies,
    // ServiceAccounts, bindings and RuntimeClasses before any object is judged:
    // a first pass parses the files that may hold them (and every --context
    // file). NetworkPolicies and bindings are judged against every pod of the
    // run, so their files are judged last, once the other files' pods are known.
    if let Some(p) = &opts.progress {
        p.total
            .store(inputs.len(), std::sync::atomic::Ordering::Relaxed);
    }
    // stdin, and paths that are not regular files (a FIFO such as bash's
    // `<(helm template ...)`, a character device), can be read only once: they
    // are read now and that text serves both passes (read again, a pipe is
    // empty, and the file passed with no document), and is kept for snippets.
    let once: Vec<Option<Result<SourceFile, input::ReadError>>> = inputs
        .iter()
        .map(|i| read_once_only(i).then(|| input::read(i, opts.limits.max_file_bytes)))
        .collect();
    let read = |n: usize| match &once[n] {
        Some(r) => r.clone(),
        None => input::read(&inputs[n], opts.limits.max_file_bytes),
    };
    let context = context_inputs(&opts.context, &inputs, &mut orphans, linter);
    let default_ns = linter.default_namespace().to_string();
    // Only the documents that may hold indexed kinds are parsed now; the
    // others are blanked, which keeps every offset.
    let prepass: Vec<(Cluster, bool)> = (0..inputs.len())
        .into_par_iter()
        .map(|n| {
            let source = read(n).ok();
            let Some(source) = source else {
                return (Cluster::default(), false);
            };
            if !cluster::may_hold_indexed_kinds(&source.text) || is_dockerfile(&source, opts) {
                return (Cluster::default(), false);
            }
            let masked = mask_documents(&source.text, cluster::may_hold_indexed_kinds);
            let loaded = load_text(&masked, &opts.limits);
            let defers = loaded
                .docs
                .iter()
                .flat_map(|d| &d.resources)
                .any(cluster::defers);
            (
                facts_of(&source, &loaded, &default_ns, Keep::NoPods),
                defers,
            )
        })
        .collect();
    let context_facts: Vec<Cluster> = context
        .par_iter()
        .filter_map(|i| input::read(i, opts.limits.max_file_bytes).ok())
        .filter(|source| !is_dockerfile(source, opts))
        .map(|source| {
            let loaded = load_text(&source.text, &opts.limits);
            facts_of(&source, &loaded, &default_ns, Keep::All)
        })
        .collect();
    // Objects of the judged inputs win over --context objects of the same name.
    let mut facts = context_facts
        .into_iter()
        .fold(Cluster::default(), |mut acc, f| {
            acc.merge(f);
            acc
        });
    let mut defers: Vec<bool> = Vec::with_capacity(inputs.len());
    for (f, d) in prepass {
        facts.merge(f);
        defers.push(d);
    }
    // Pods are collected only when some object needs them.
    let any_deferred = defers.iter().any(|d| *d);
    linter.set_cluster(if any_deferred {
        facts.clone()
    } else {
        std::mem::take(&mut facts)
    });
    prepare_images(linter, opts);
    let interest = any_deferred.then(|| linter.pod_interest());
    let done = |result: Result<FileResult, Box<Pending>>| {
        if let (Some(p), Ok(_)) = (&opts.progress, &result) {
            p.done.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        result
    };
    let first: Vec<(Result<FileResult, Box<Pending>>, Cluster)> = inputs
        .par_iter()
        .zip(defers.par_iter())
        .enumerate()
        .map(|(n, (i, defer))| {
            let (mut result, pods) =
                check_read(linter, i, read(n), opts, interest.as_ref(), *defer);
            if let Ok(r) = &mut result {
                release_source(r, i);
            }
            (done(result), pods)
        })
        .collect();
    let mut results = Vec::with_capacity(first.len());
    for (result, pods) in first {
        facts.merge(pods);
        results.push(result);
    }
    if any_deferred {
        linter.set_cluster(facts);
    }
    // Files with NetworkPolicies or bindings are finished last, against every pod.
    let files: Vec<FileResult> = results
        .into_par_iter()
        .zip(inputs.par_iter())
        .map(|(r, input)| match r {
            Ok(done) => done,
            Err(pending) => {
                let mut file = finish_pending(linter, pending, opts);
                release_source(&mut file, input);
                if let Some(p) = &opts.progress {
                    p.done.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                file
            }
        })
        .collect();
    RunResult {
        files,
        orphans,
        policies: linter
            .policies()
            .map(|p| PolicyRef {
                name: p.name.clone(),
                mode: p.mode,
            })
            .collect(),
    }
}

/// `text` with the documents `keep` refuses blanked (every byte but line
/// breaks, `\r` as well as `\n`, becomes a space), so that offsets, lines and
/// columns stay those of the file.
fn mask_documents(text: &str, keep: impl Fn(&str) -> bool) -> String {
    let mut out = String::with_capacity(text.len());
    for doc in yaml::split_documents(text) {
        if keep(doc.text) {
            out.push_str(doc.text);
        } else {
            out.extend(doc.text.bytes().map(|b| match b {
                b'\n' | b'\r' => char::from(b),
                _ => ' ',
            }));
        }
    }
    out
}

/// Which facts [`facts_of`] keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Keep {
    /// Everything the cluster index holds.
    All,
    /// Every indexed kind but pods.
    NoPods,
    /// Pods (and workloads) only.
    PodsOnly,
}

/// What a loaded file tells about the cluster.
fn facts_of(source: &SourceFile, loaded: &LoadedFile, default_ns: &str, keep: Keep) -> Cluster {
    let mut facts = Cluster::default();
    for doc in &loaded.docs {
        let locator = yaml::Locator::new(&doc.root);
        let locate = |ptr: &crate::pointer::Pointer| {
            location(source, span_of(&locator, ptr).shifted(doc.offset))
        };
        for r in &doc.resources {
            let indexed = cluster::INDEXED_KINDS.contains(&r.kind.as_str());
            match keep {
                Keep::All => facts.add(r, default_ns, true, &locate),
                Keep::NoPods if indexed => facts.add(r, default_ns, false, &locate),
                Keep::PodsOnly if !indexed => facts.add(r, default_ns, true, &locate),
                _ => {}
            }
        }
    }
    facts
}

/// Whether a source is judged as a Dockerfile rather than as manifests.
fn is_dockerfile(source: &SourceFile, opts: &Options) -> bool {
    let path = std::path::Path::new(&*source.name);
    opts.dockerfiles.contains(&*source.name)
        || dockerfile::is_dockerfile_name(path)
        || (!input::is_manifest_name(path) && dockerfile::looks_like_dockerfile(&source.text))
}

/// The `--context` inputs, minus those that are also judged (their objects are
/// indexed anyway). Paths that cannot be listed are reported.
fn context_inputs(
    paths: &[PathBuf],
    judged: &[Input],
    orphans: &mut Vec<Finding>,
    linter: &Linter,
) -> Vec<Input> {
    if paths.is_empty() {
        return Vec::new();
    }
    let (found, errors) = input::discover(paths);
    for e in errors {
        orphans.extend(unreadable(
            linter,
            &e.path,
            &format!("cannot read --context {}: {}", e.path, e.message),
        ));
    }
    let canonical = |i: &Input| match i {
        Input::File(p) => std::fs::canonicalize(p).ok(),
        Input::Stdin => None,
    };
    let judged: std::collections::BTreeSet<PathBuf> = judged.iter().filter_map(canonical).collect();
    found
        .into_iter()
        .filter(|i| *i != Input::Stdin && canonical(i).is_none_or(|c| !judged.contains(&c)))
        .collect()
}

/// An SL9001 finding for a path that could not be read.
fn unreadable(linter: &Linter, path: &str, message: &str) -> Option<Finding> {
    let mut f = linter.primary().stamp(
        &input_rules::UNREADABLE_INPUT,
        Report {
            message: message.to_string(),
            ..Report::default()
        },
        None,
    )?;
    f.location = Some(Location {
        file: path.into(),
        start: 0,
        end: 0,
        start_lc: crate::source::LineCol { line: 1, column: 1 },
        end_lc: crate::source::LineCol { line: 1, column: 1 },
    });
    Some(f)
}

/// Reads and lints one input.
pub fn check_input(linter: &Linter, input: &Input, opts: &Options) -> FileResult {
    let read = input::read(input, opts.limits.max_file_bytes);
    match check_read(linter, input, read, opts, None, false).0 {
        Ok(r) => r,
        Err(p) => finish_pending(linter, p, opts),
    }
}

/// Lints what reading `input` gave, also returning the file's pods when
/// `pods` is set.
fn check_read(
    linter: &Linter,
    input: &Input,
    read: Result<SourceFile, input::ReadError>,
    opts: &Options,
    pods: Option<&PodInterest>,
    defer: bool,
) -> (Result<FileResult, Box<Pending>>, Cluster) {
    match read {
        Ok(source) => check_source_collecting(linter, source, opts, pods, defer),
        Err(err) => {
            let message = err.message;
            let name: Arc<str> = input.display_name().into();
            let empty = SourceFile::new(name.clone(), "");
            let findings = linter
                .primary()
                .stamp(
                    &input_rules::UNREADABLE_INPUT,
                    Report {
                        message: format!("cannot read {name}: {message}"),
                        ..Report::default()
                    },
                    None,
                )
                .map(|mut f| {
                    let mut loc = location(&empty, Span::default());
                    if let Some(at) = err.at {
                        loc.start_lc = at;
                        loc.end_lc = at;
                    }
                    f.location = Some(loc);
                    f
                })
                .into_iter()
                .collect();
            (
                Ok(FileResult {
                    name,
                    source: None,
                    reread: None,
                    findings,
                    objects: Vec::new(),
                    documents: 0,
                    resources: 0,
                    bytes: 0,
                }),
                Cluster::default(),
            )
        }
    }
}

/// Lints text already read.
pub fn check_source(linter: &Linter, source: SourceFile, opts: &Options) -> FileResult {
    match check_source_collecting(linter, source, opts, None, false).0 {
        Ok(r) => r,
        Err(p) => finish_pending(linter, p, opts),
    }
}

/// NetworkPolicies and bindings of a file, judged once every pod of the run
/// is known, with what is needed to finish the file then.
#[derive(Debug)]
pub struct Pending {
    source: SourceFile,
    /// The documents holding them (with those objects only).
    docs: Vec<LoadedDoc>,
    /// Everything else the file gave, not yet suppressed or sorted.
    result: FileResult,
}

/// [`check_source`], also returning the file's pods that `pods` wants. With
/// `defer`, NetworkPolicies and bindings are set aside (see [`Pending`]).
fn check_source_collecting(
    linter: &Linter,
    source: SourceFile,
    opts: &Options,
    pods: Option<&PodInterest>,
    defer: bool,
) -> (Result<FileResult, Box<Pending>>, Cluster) {
    if is_dockerfile(&source, opts) {
        let (findings, _) = lint_dockerfile(linter, &source);
        let result = FileResult {
            name: source.name.clone(),
            bytes: source.text.len(),
            documents: 1,
            resources: 0,
            findings,
            objects: Vec::new(),
            source: opts.keep_sources.then_some(source),
            reread: None,
        };
        return (Ok(result), Cluster::default());
    }
    let loaded = load_text(&source.text, &opts.limits);
    let deferred = defer
        && loaded
            .docs
            .iter()
            .flat_map(|d| &d.resources)
            .any(cluster::defers);
    let mut findings = diagnostic_findings(linter, &source, &loaded);
    findings.extend(lint_docs(linter, &source, &loaded.docs, |r| {
        !deferred || !cluster::defers(r)
    }));
    let facts = match pods {
        Some(interest) => {
            let mut facts = facts_of(&source, &loaded, linter.default_namespace(), Keep::PodsOnly);
            facts
                .pods
                .retain(|p| interest.wants(&p.namespace, &p.labels));
            facts
        }
        None => Cluster::default(),
    };
    let objects = loaded
        .docs
        .iter()
        .flat_map(|d| &d.resources)
        .map(|r| r.object_ref())
        .collect();
    let documents = loaded.docs.len();
    let resources = loaded.docs.iter().map(|d| d.resources.len()).sum();
    let mut result = FileResult {
        name: source.name.clone(),
        bytes: source.text.len(),
        documents,
        resources,
        findings,
        objects,
        source: None,
        reread: None,
    };
    if deferred {
        let docs = loaded
            .docs
            .into_iter()
            .filter_map(|mut d| {
                d.resources.retain(cluster::defers);
                (!d.resources.is_empty()).then_some(d)
            })
            .collect();
        return (
            Err(Box::new(Pending {
                source,
                docs,
                result,
            })),
            facts,
        );
    }
    result.findings = finish(linter, &source, std::mem::take(&mut result.findings));
    result.source = opts.keep_sources.then_some(source);
    (Ok(result), facts)
}

/// Judges the set-aside objects of a file and finishes it.
fn finish_pending(linter: &Linter, p: Box<Pending>, opts: &Options) -> FileResult {
    let Pending {
        source,
        docs,
        mut result,
    } = *p;
    let mut findings = std::mem::take(&mut result.findings);
    // The cross-resource work is here (every policy against the run's
    // runners): documents are judged on the worker threads, so that a file
    // holding most of the run's policies does not keep one thread busy.
    let judged: Vec<Vec<Finding>> = docs
        .par_iter()
        .map(|doc| lint_docs(linter, &source, std::slice::from_ref(doc), |_| true))
        .collect();
    findings.extend(judged.into_iter().flatten());
    result.findings = finish(linter, &source, findings);
    result.source = opts.keep_sources.then_some(source);
    result
}

/// Parses and lints a Dockerfile: syntax errors (which do not stop the rest of
/// the file from being checked), rule findings and inline suppressions.
pub fn lint_dockerfile(linter: &Linter, source: &SourceFile) -> (Vec<Finding>, Dockerfile) {
    let (d, errors) = dockerfile::parse(&source.text);
    // The rules' findings first, in the vector they come in (thousands of
    // findings are not copied); everything is sorted below.
    let mut findings = linter.lint_dockerfile(&d, source);
    for e in errors {
        let report = Report {
            message: e.message,
            ..Report::default()
        };
        if let Some(mut f) = linter
            .primary()
            .stamp(&input_rules::DOCKERFILE_SYNTAX, report, None)
        {
            f.location = Some(location(source, e.span));
            findings.push(f);
        }
    }
    if linter.inline_suppressions() && source.text.contains("sandbox-lint:") {
        apply_inline(linter, source, &mut findings);
    }
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    (findings, d)
}

/// Pods whose images are built by a Dockerfile of the repository are checked
/// against it: reads the Dockerfiles that `opts.images` and the policies map
/// (the configuration's mapping first) and hands them to the linter.
pub fn prepare_images(linter: &Linter, opts: &Options) {
    let mut images = opts.images.clone();
    for (pattern, path) in linter.image_map() {
        if !images.iter().any(|(p, _)| *p == pattern) {
            images.push((pattern, PathBuf::from(path)));
        }
    }
    if !images.is_empty() {
        linter.set_images(load_images(linter, &images, opts));
    }
}

/// Reads and lints the Dockerfiles that build the run's images, and keeps
/// what the pod rules need of each.
fn load_images(linter: &Linter, map: &[(String, PathBuf)], opts: &Options) -> ImageIndex {
    let mut index = ImageIndex::default();
    let mut seen: Vec<(PathBuf, Arc<ImageFacts>)> = Vec::new();
    for (pattern, path) in map {
        if let Some((_, facts)) = seen.iter().find(|(p, _)| p == path) {
            index.insert(pattern.clone(), facts.clone());
            continue;
        }
        let input = Input::File(path.clone());
        let built = match input::read(&input, opts.limits.max_file_bytes) {
            Err(e) => Err(e.message),
            Ok(source) => {
                let (findings, d) = lint_dockerfile(linter, &source);
                match d.final_stage() {
                    None => Err("it defines no build stage".to_string()),
                    Some(stage) => Ok(Built {
                        user: d.final_user().map(|(user, resolved)| FinalUser {
                            raw: user.text.clone(),
                            resolved: resolved.clone(),
                            location: location(&source, user.span),
                        }),
                        from: location(&source, stage.from.image.span),
                        findings: findings
                            .iter()
                            .filter(|f| f.is_active())
                            .filter_map(|f| {
                                Some(Related {
                                    location: f.location.clone()?,
                                    message: format!("{} {}", f.code, f.message),
                                })
                            })
                            .collect(),
                    }),
                }
            }
        };
        let facts = Arc::new(ImageFacts {
            dockerfile: input.display_name().into(),
            built,
        });
        seen.push((path.clone(), facts.clone()));
        index.insert(pattern.clone(), facts);
    }
    index
}

/// Lints every object of a loaded file and locates all findings in `source`.
pub fn lint_loaded(linter: &Linter, source: &SourceFile, loaded: &LoadedFile) -> Vec<Finding> {
    let mut findings = diagnostic_findings(linter, source, loaded);
    findings.extend(lint_docs(linter, source, &loaded.docs, |_| true));
    finish(linter, source, findings)
}

/// The loader's diagnostics of a file, located.
fn diagnostic_findings(linter: &Linter, source: &SourceFile, loaded: &LoadedFile) -> Vec<Finding> {
    let mut findings = Vec::new();
    let locators: Vec<yaml::Locator<'_>> = loaded
        .docs
        .iter()
        .map(|d| yaml::Locator::new(&d.root))
        .collect();
    for d in &loaded.diagnostics {
        let Some(mut f) = linter.diagnostic_finding(d) else {
            continue;
        };
        let span = match &d.at {
            At::Span(s) => *s,
            At::Pointer { doc, pointer } => {
                span_of(&locators[*doc], pointer).shifted(loaded.docs[*doc].offset)
            }
            At::Key { doc, pointer } => {
                let at = locators[*doc].locate(pointer);
                at.key.unwrap_or(at.value).shifted(loaded.docs[*doc].offset)
            }
        };
        f.location = Some(location(source, span));
        findings.push(f);
    }
    findings
}

/// Lints the objects of `docs` that `which` selects, and locates the findings.
fn lint_docs(
    linter: &Linter,
    source: &SourceFile,
    docs: &[LoadedDoc],
    which: impl Fn(&crate::resource::Resource) -> bool,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    for doc in docs {
        let locator = yaml::Locator::new(&doc.root);
        for r in doc.resources.iter().filter(|r| which(r)) {
            let json = if linter.needs_json() {
                yaml::node_at(&doc.root, &r.base).map(yaml::Node::to_json)
            } else {
                None
            };
            for mut f in linter.lint_resource_json(r, json.as_ref()) {
                let span = span_of(&locator, &f.pointer).shifted(doc.offset);
                f.location = Some(location(source, span));
                findings.push(f);
            }
        }
    }
    findings
}

/// Applies inline suppressions and sorts a file's findings.
fn finish(linter: &Linter, source: &SourceFile, mut findings: Vec<Finding>) -> Vec<Finding> {
    if linter.inline_suppressions() && source.text.contains("sandbox-lint:") {
        apply_inline(linter, source, &mut findings);
    }
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    // Findings outlive the file: keep no spare capacity per file.
    findings.shrink_to_fit();
    findings
}

/// Applies `# sandbox-lint: ignore[...]` comments and reports malformed and unused ones.
fn apply_inline(linter: &Linter, source: &SourceFile, findings: &mut Vec<Finding>) {
    let (mut inline, malformed) =
        crate::suppress::parse_with(&source.text, &|s| linter.rule_code(s));
    crate::suppress::apply(findings, &mut inline, &source.name);
    let mut extra = Vec::new();
    for m in malformed {
        extra.push((&input_rules::INVALID_SUPPRESSION, m.span, m.message));
    }
    for s in inline.iter().filter(|s| !s.used) {
        extra.push((
            &input_rules::UNUSED_SUPPRESSION,
            s.span,
            format!(
                "suppression of {} matches no finding on this line or the next",
                s.codes.join(", ")
            ),
        ));
    }
    for (rule, span, message) in extra {
        let report = Report {
            pointer: Default::default(),
            message,
            ..Report::default()
        };
        if let Some(mut f) = linter.primary().stamp(rule, report, None) {
            f.location = Some(location(source, span));
            findings.push(f);
        }
    }
}

/// The span a finding at `pointer` is shown at: the value when it exists and is
/// a scalar, the key when the value is a collection, the deepest existing
/// ancestor's key when the field is missing.
fn span_of(locator: &yaml::Locator<'_>, pointer: &crate::pointer::Pointer) -> Span {
    let at = locator.locate(pointer);
    match at.key {
        Some(key) if !at.exact => key,
        Some(key) if at.value.is_empty() => key,
        _ if at.exact && !at.value.is_empty() => at.value,
        Some(key) => key,
        None => at.value,
    }
}

fn location(source: &SourceFile, span: Span) -> Location {
    Location::of(source, span)
}

/// Every object of `paths` (and of `context`), for commands that look at the
/// cluster as a whole (`explain-network`). Returns the index and the input
/// errors (unreadable files, YAML that could not be parsed) as
/// `file:line:col: message` lines: objects of broken documents are missing
/// from the index, and the caller must say so.
pub fn load_cluster(
    linter: &Linter,
    paths: &[PathBuf],
    context: &[PathBuf],
    limits: &Limits,
) -> (Cluster, Vec<String>) {
    let mut all = paths.to_vec();
    all.extend(context.iter().cloned());
    let (inputs, discovery) = input::discover(&all);
    let mut errors: Vec<String> = discovery
        .into_iter()
        .map(|e| format!("{}: {}", e.path, e.message))
        .collect();
    let default_ns = linter.default_namespace().to_string();
    let results: Vec<(Cluster, Vec<String>)> = inputs
        .par_iter()
        .map(|i| {
            let source = match input::read(i, limits.max_file_bytes) {
                Ok(s) => s,
                Err(e) => {
                    return (
                        Cluster::default(),
                        vec![format!("{}: {}", i.display_name(), e.message)],
                    );
                }
            };
            if dockerfile::is_dockerfile_name(std::path::Path::new(&*source.name)) {
                return (Cluster::default(), Vec::new());
            }
            let loaded = load_text(&source.text, limits);
            let findings = lint_loaded_diagnostics(linter, &source, &loaded);
            (facts_of(&source, &loaded, &default_ns, Keep::All), findings)
        })
        .collect();
    let mut cluster = Cluster::default();
    for (facts, errs) in results {
        cluster.merge(facts);
        errors.extend(errs);
    }
    (cluster, errors)
}

/// The input errors of a loaded file, as `file:line:col: CODE message` lines.
fn lint_loaded_diagnostics(
    linter: &Linter,
    source: &SourceFile,
    loaded: &LoadedFile,
) -> Vec<String> {
    diagnostic_findings(linter, source, loaded)
        .into_iter()
        .filter(|f| input_rules::is_input_error(f.code))
        .map(|f| {
            let at = f
                .location
                .as_ref()
                .map(|l| format!("{}:{}:{}", l.file, l.start_lc.line, l.start_lc.column))
                .unwrap_or_else(|| source.name.to_string());
            format!("{at}: {} {}", f.code, f.message)
        })
        .collect()
}
