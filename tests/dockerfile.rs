//! Dockerfiles through the real binary: how files are recognised (names,
//! `--dockerfile`, stdin, directory walks), and pods checked against the
//! Dockerfile that `.sandbox-lint.yaml` says builds their image.

use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

const DIGEST: &str = "@sha256:3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f";

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run_in(dir: &Path, args: &[&str], stdin: Option<&str>) -> Run {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_sandbox-lint"))
        .arg("check")
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run sandbox-lint");
    let mut pipe = child.stdin.take().unwrap();
    pipe.write_all(stdin.unwrap_or_default().as_bytes())
        .unwrap();
    drop(pipe);
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().expect("exit code"),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// (file, line, code) of each active finding in JSON output.
fn findings(run: &Run) -> Vec<(String, u64, String)> {
    let doc: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", run.stdout, run.stderr));
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f.get("suppressed").is_none())
        .map(|f| {
            (
                f["file"].as_str().unwrap_or_default().to_string(),
                f["line"].as_u64().unwrap_or_default(),
                f["code"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn root_image() -> String {
    format!("FROM python:3.12-slim{DIGEST}\nHEALTHCHECK CMD [\"true\"]\nUSER root\n")
}

/// Names decide: Dockerfile, Dockerfile.*, *.Dockerfile, Containerfile are
/// Dockerfiles in a directory walk; other names are not read at all.
#[test]
fn directory_walks_pick_dockerfiles_by_name() {
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "Dockerfile",
        "Dockerfile.runner",
        "runner.Dockerfile",
        "Containerfile",
        "notes.txt",
    ] {
        std::fs::write(dir.path().join(name), root_image()).unwrap();
    }
    let run = run_in(dir.path(), &["-f", "json", "."], None);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let mut files: Vec<String> = findings(&run).into_iter().map(|(f, _, _)| f).collect();
    files.sort();
    assert_eq!(
        files,
        [
            "./Containerfile",
            "./Dockerfile",
            "./Dockerfile.runner",
            "./runner.Dockerfile"
        ]
    );
}

/// `--dockerfile` reads any file, or stdin, as a Dockerfile; a file given by
/// path is also read as one when its content starts like one.
#[test]
fn dockerfile_flag_reads_any_name_and_stdin() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("image.def"), root_image()).unwrap();
    let run = run_in(
        dir.path(),
        &["-f", "json", "--dockerfile", "image.def"],
        None,
    );
    assert_eq!(findings(&run), [("image.def".into(), 3, "SL4001".into())]);

    let run = run_in(
        dir.path(),
        &["-f", "json", "--dockerfile", "-"],
        Some(&root_image()),
    );
    assert_eq!(findings(&run), [("<stdin>".into(), 3, "SL4001".into())]);

    // A file given by name that is neither a manifest nor named as a
    // Dockerfile is read as one when it starts like one.
    let run = run_in(dir.path(), &["-f", "json", "image.def"], None);
    assert_eq!(findings(&run), [("image.def".into(), 3, "SL4001".into())]);
    // A manifest never is, whatever it holds.
    std::fs::write(dir.path().join("image.yaml"), root_image()).unwrap();
    let run = run_in(dir.path(), &["-f", "json", "image.yaml"], None);
    let codes: Vec<String> = findings(&run).into_iter().map(|(_, _, c)| c).collect();
    assert_eq!(codes, ["SL9005"]);
}

/// A Dockerfile BuildKit would refuse exits 2, with the other findings still
/// reported, and the other inputs still checked.
#[test]
fn a_refused_dockerfile_exits_2_and_hides_nothing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Dockerfile"),
        format!("FROM python:3.12-slim{DIGEST}\nHEALTHCHECK NONE\nFOO bar\nUSER root\n"),
    )
    .unwrap();
    std::fs::write(dir.path().join("other.Dockerfile"), root_image()).unwrap();
    let run = run_in(dir.path(), &["-f", "json", "."], None);
    assert_eq!(run.code, 2);
    assert_eq!(
        findings(&run),
        [
            ("./Dockerfile".into(), 2, "SL4003".into()),
            ("./Dockerfile".into(), 3, "SL9011".into()),
            ("./Dockerfile".into(), 4, "SL4001".into()),
            ("./other.Dockerfile".into(), 3, "SL4001".into()),
        ]
    );
}

/// `images` in `.sandbox-lint.yaml` maps an image to a Dockerfile relative to
/// the configuration file: pods running it are checked against its USER, and
/// link its findings; the Dockerfile need not be among the inputs.
#[test]
fn configured_images_link_pods_to_their_dockerfiles() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    std::fs::create_dir_all(repo.join("images/runner")).unwrap();
    std::fs::create_dir_all(repo.join("deploy")).unwrap();
    std::fs::write(
        repo.join("images/runner/Dockerfile"),
        format!(
            "FROM python:3.12-slim{DIGEST}\nRUN useradd -u 10001 runner\nHEALTHCHECK CMD [\"true\"]\nUSER runner\n"
        ),
    )
    .unwrap();
    std::fs::write(
        repo.join(".sandbox-lint.yaml"),
        "images:\n  ghcr.io/acme/runner: images/runner/Dockerfile\ncontext: [cluster]\n",
    )
    .unwrap();
    // The cluster objects the pod refers to (NetworkPolicy, RuntimeClass, ...).
    std::fs::create_dir_all(repo.join("cluster")).unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/context/cluster.yaml"),
        repo.join("cluster/cluster.yaml"),
    )
    .unwrap();
    let pod = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/compliant/ok-runner-pod.yaml"),
    )
    .unwrap();
    let image = pod
        .lines()
        .find_map(|l| l.trim().strip_prefix("image: "))
        .unwrap()
        .to_string();
    // The compliant pod sets runAsUser, so only the link to the Dockerfile's
    // finding (its named USER) is reported.
    std::fs::write(
        repo.join("deploy/pod.yaml"),
        pod.replacen(&image, &format!("ghcr.io/acme/runner:1.0{DIGEST}"), 1),
    )
    .unwrap();
    let run = run_in(&repo.join("deploy"), &["-f", "json", "pod.yaml"], None);
    let got = findings(&run);
    assert_eq!(got.len(), 1, "{got:?}\n{}", run.stderr);
    assert_eq!(got[0].2, "SL4017");
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let related = &doc["findings"][0]["related"][0];
    assert!(
        related["file"]
            .as_str()
            .unwrap()
            .ends_with("images/runner/Dockerfile"),
        "{related}"
    );
    assert_eq!(related["line"], 4);

    // Without runAsUser, runAsNonRoot and a named USER: the pod would not start.
    let no_uid = std::fs::read_to_string(repo.join("deploy/pod.yaml"))
        .unwrap()
        .lines()
        .filter(|l| !l.trim_start().starts_with("runAsUser:"))
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(repo.join("deploy/pod.yaml"), no_uid).unwrap();
    let run = run_in(&repo.join("deploy"), &["-f", "json", "pod.yaml"], None);
    let codes: Vec<String> = findings(&run).into_iter().map(|(_, _, c)| c).collect();
    assert!(codes.contains(&"SL4016".to_string()), "{codes:?}");
}

/// Bad input never panics: every prefix of every Dockerfile fixture (cut at
/// each character), and random soup of the characters that steer the lexer
/// (continuations, here-document markers, quotes, variables, flags), are
/// parsed and linted in-process.
#[test]
fn truncated_and_random_dockerfiles_never_panic() {
    use sandbox_lint::check::lint_dockerfile;
    use sandbox_lint::linter::Linter;
    use sandbox_lint::source::SourceFile;

    let linter = Linter::with_default_policy();
    let mut texts = Vec::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/rules");
    for dir in std::fs::read_dir(&root).unwrap() {
        for f in std::fs::read_dir(dir.unwrap().path()).unwrap() {
            let p = f.unwrap().path();
            if sandbox_lint::dockerfile::is_dockerfile_name(&p) {
                texts.push(std::fs::read_to_string(&p).unwrap());
            }
        }
    }
    assert!(
        texts.len() > 40,
        "Dockerfile fixtures found: {}",
        texts.len()
    );
    let mut cases = 0;
    for text in &texts {
        for (i, _) in text.char_indices() {
            let source = SourceFile::new("Dockerfile", &text[..i]);
            let _ = lint_dockerfile(&linter, &source);
            cases += 1;
        }
    }
    const PIECES: &[&str] = &[
        "FROM ",
        "RUN ",
        "USER ",
        "ARG ",
        "ENV ",
        "COPY ",
        "ADD ",
        "HEALTHCHECK ",
        "\n",
        "\\\n",
        "`\n",
        "<<",
        "<<-",
        "EOF",
        "'",
        "\"",
        "$",
        "${",
        "}",
        ":-",
        "=",
        "--chown=",
        "--mount=",
        "#",
        "# escape=`\n",
        " ",
        "\t",
        "[",
        "]",
        ",",
        "é",
        "\u{feff}",
        "&&",
        "|",
        ";",
        ">",
        "0",
        "root",
        "AS ",
        "x",
    ];
    let mut state: u64 = 0x5eed;
    for _ in 0..20_000 {
        let mut text = String::new();
        for _ in 0..(state % 40) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            text.push_str(PIECES[(state % PIECES.len() as u64) as usize]);
        }
        let source = SourceFile::new("Dockerfile", text.as_str());
        let (findings, _) = lint_dockerfile(&linter, &source);
        for f in findings {
            let loc = f.location.expect("every Dockerfile finding has a location");
            assert!(
                loc.start <= loc.end && loc.end <= text.len(),
                "{text:?}: {loc:?}"
            );
        }
        cases += 1;
    }
    assert!(cases > 20_000);
}

#[path = "common/bounded.rs"]
mod bounded;
#[path = "../benches/hostile/mod.rs"]
mod hostile;

/// Runs `check` on `text` through `prlimit --as` (an address-space limit
/// the process cannot exceed: an allocation past it fails and the process
/// aborts), with a wall-clock bound; returns the run, or why it failed.
fn run_limited(
    dir: &Path,
    text: &str,
    limit: u64,
    bound: std::time::Duration,
) -> Result<Run, String> {
    let file = dir.join("Dockerfile");
    std::fs::write(&file, text).unwrap();
    let args = ["check", "-f", "json", "-j", "1", "--fail-on", "error"]
        .map(std::ffi::OsStr::new)
        .into_iter()
        .chain([file.as_os_str()])
        .collect::<Vec<_>>();
    let run = bounded::run(&format!("--as={limit}"), &args, bound);
    if run.timed_out {
        return Err(format!("still running after {bound:?}"));
    }
    match run.code {
        Some(code) => Ok(Run {
            code,
            stdout: run.stdout_text(),
            stderr: run.stderr,
        }),
        None => Err(format!(
            "killed by a signal after {:?} (memory limit {} MiB?): {}",
            run.wall,
            limit >> 20,
            run.stderr.chars().take(300).collect::<String>()
        )),
    }
}

/// Hostile Dockerfiles (benches/hostile: variables doubling at each ARG or
/// ENV line, thousands of ARG lines, a long `&&` chain, many flags, a huge
/// line, many continuations, many stages, many findings on one line, deep
/// nesting) finish within a memory limit and a time bound, and what could
/// not be expanded fails closed: the USER or FROM that depends on it is a
/// finding that says why. Before, the doubling ARG file took 574 MB, the ENV
/// bomb ran out of memory, and 16,000 ARG lines or `&&` commands took 13 s.
#[test]
fn hostile_dockerfiles_are_bounded_and_fail_closed() {
    use std::time::Duration;
    let dir = tempfile::tempdir().unwrap();
    // Generous for a debug build on a shared machine; the release figures
    // (benches/dockerfile_bounds.rs) are well under a second.
    let bound = Duration::from_secs(60);
    let limit = 512 << 20;
    for shape in hostile::shapes() {
        let sizes: &[usize] = match shape.name {
            "doubling ARG" => &[30, 64],
            "ENV bomb" => &[16, 25, 64],
            "deep nesting" => &[17, 10_000],
            "huge single line" => &[1 << 20],
            "too many words" => &[4 << 20],
            "many flags" => &[20_000],
            "many stages" => &[512],
            _ => &[16_000],
        };
        for &n in sizes {
            let text = (shape.generate)(n);
            let what = format!("{} ({n}: {} bytes)", shape.name, text.len());
            let run = run_limited(dir.path(), &text, limit, bound)
                .unwrap_or_else(|e| panic!("{what}: {e}"));
            let doc: Value = serde_json::from_str(&run.stdout)
                .unwrap_or_else(|e| panic!("{what}: {e}: {}", run.stderr));
            let found = doc["findings"].as_array().unwrap();
            let codes: std::collections::BTreeSet<&str> =
                found.iter().filter_map(|f| f["code"].as_str()).collect();
            match shape.expect {
                Some(code) => {
                    assert!(
                        found.iter().any(|f| f["code"] == code
                            && f["message"]
                                .as_str()
                                .is_some_and(|m| m.contains(shape.message))),
                        "{what}: no {code} saying `{}`: {codes:?}",
                        shape.message
                    );
                    assert_eq!(run.code, shape.exit, "{what}: {codes:?}");
                }
                None => {
                    assert!(
                        codes.is_empty() || codes.iter().all(|c| *c == "SL4005"),
                        "{what}: {codes:?}"
                    );
                    assert_eq!(run.code, 0, "{what}: {codes:?}");
                }
            }
        }
    }
}
